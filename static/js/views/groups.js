// Practising together: making a group of friends, a group's or lounge's
// members (add, remove, leave), the names of the people who write, and
// correcting another member's message.
import { api } from '../api.js';
import { go, store } from '../store.js';
import { h, initials, toast } from '../ui.js';

const MIN_OTHERS = 2;
const MAX_OTHERS = 49;

/** `#/new-group`: a title and two or more friends. */
export async function newGroupView(main) {
  const page = await api('GET', '/friends?status=accepted&limit=100');
  const friends = page.items.map((f) => f.user);
  const title = h('input', { id: 'group-title', class: 'input', maxlength: 100, required: true, placeholder: 'e.g. Weekend English club' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const picks = friends.map((u) => h('label', { class: 'pick' },
    h('input', { type: 'checkbox', value: u.id, name: 'member' }), ' ',
    h('span', { class: 'avatar small', 'aria-hidden': 'true' }, initials(u.display_name)), ' ',
    u.display_name, h('small', { class: 'muted' }, ` @${u.username}`)));
  const form = h('form', {
    class: 'card new-group',
    async onsubmit(e) {
      e.preventDefault();
      const chosen = [...form.querySelectorAll('input[name=member]:checked')].map((c) => c.value);
      if (!title.value.trim()) { error.textContent = 'Give the group a title.'; title.focus(); return; }
      if (chosen.length < MIN_OTHERS || chosen.length > MAX_OTHERS) {
        error.textContent = `Choose ${MIN_OTHERS} to ${MAX_OTHERS} friends.`;
        return;
      }
      const submit = form.querySelector('button[type=submit]');
      submit.disabled = true;
      try {
        const chat = await api('POST', '/chats', { kind: 'group', title: title.value.trim(), member_ids: chosen });
        go(`#/chats/${chat.id}`);
      } catch (err) {
        error.textContent = err.message;
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'group-title' }, 'Group title'), title),
  h('fieldset', {}, h('legend', {}, 'Friends in the group'),
    friends.length >= MIN_OTHERS ? picks
      : h('p', { class: 'hint' }, 'A group needs at least two friends. ', h('a', { href: '#/friends' }, 'Find friends'), ' first.')),
  error,
  h('button', { class: 'btn primary', type: 'submit', disabled: friends.length < MIN_OTHERS }, 'Create group'));
  main.append(h('div', { class: 'page' }, h('h1', {}, 'New group'), form));
  title.focus();
}

/** Display names of people seen in rooms, by id; unknown ones are fetched once. */
const names = new Map();
const asking = new Map();

export function rememberName(user) {
  if (user?.id) names.set(user.id, user.display_name);
}

/** The name now if known; otherwise `null`, and `then(name)` once it arrives. */
export function nameOf(id, then) {
  if (!id) return null;
  if (id === store.me?.id) return store.me.display_name;
  if (names.has(id)) return names.get(id);
  if (!asking.has(id)) {
    asking.set(id, api('GET', `/users/${id}`).then((u) => { rememberName(u); return u.display_name; }).catch(() => null));
  }
  asking.get(id).then((name) => { if (name) then?.(name); });
  return null;
}

/**
 * The members panel of a group or lounge: who is in it, and what the caller
 * may do (add a friend, remove someone as owner, leave).
 */
export async function membersPanel(chat, onLeft) {
  const box = h('section', { class: 'summary members', 'aria-label': 'Members' }, h('p', { 'aria-busy': 'true' }, 'Loading members…'));
  const draw = async () => {
    const [members, friends] = await Promise.all([
      api('GET', `/chats/${chat.id}/members?limit=100`),
      chat.kind === 'group' ? api('GET', '/friends?status=accepted&limit=100') : { items: [] },
    ]);
    members.items.forEach((m) => rememberName(m.user));
    const inside = new Set(members.items.map((m) => m.user.id));
    const owner = chat.my_role === 'owner';
    const rows = members.items.map((m) => h('li', {},
      h('span', { class: 'avatar small', 'aria-hidden': 'true' }, initials(m.user.display_name), m.user.online ? h('span', { class: 'dot' }) : null),
      h('span', { class: 'who' }, m.user.display_name, m.role === 'owner' ? h('small', {}, ' · owner') : null),
      owner && chat.kind === 'group' && m.user.id !== store.me.id ? h('button', {
        class: 'btn small danger', type: 'button',
        async onclick() {
          if (!confirm(`Remove ${m.user.display_name} from the group?`)) return;
          try { await api('DELETE', `/chats/${chat.id}/members/${m.user.id}`); await draw(); } catch (err) { toast(err.message); }
        },
      }, 'Remove') : null));
    const addable = friends.items.map((f) => f.user).filter((u) => !inside.has(u.id));
    const pick = h('select', { id: 'add-member', 'aria-label': 'Friend to add' },
      h('option', { value: '' }, 'Add a friend…'), ...addable.map((u) => h('option', { value: u.id }, u.display_name)));
    const add = chat.kind === 'group' && addable.length ? h('form', {
      class: 'add-member',
      async onsubmit(e) {
        e.preventDefault();
        if (!pick.value) return;
        try { await api('POST', `/chats/${chat.id}/members`, { user_id: pick.value }); await draw(); } catch (err) { toast(err.message); }
      },
    }, pick, h('button', { class: 'btn small primary', type: 'submit' }, 'Add')) : null;
    const leave = h('button', {
      class: 'btn small danger', type: 'button',
      async onclick() {
        if (!confirm(`Leave ${chat.title}?`)) return;
        try { await api('DELETE', `/chats/${chat.id}/members/${store.me.id}`); onLeft(); } catch (err) { toast(err.message); }
      },
    }, chat.kind === 'lounge' ? 'Leave lounge' : 'Leave group');
    box.replaceChildren(...[h('h3', {}, `${members.items.length}${members.next_cursor ? '+' : ''} members`),
      h('ul', { class: 'people' }, ...rows), add].filter(Boolean), h('p', {}, leave,
        ' ', h('button', { class: 'btn small', type: 'button', onclick: () => box.remove() }, 'Close')));
  };
  draw().catch((err) => box.replaceChildren(h('p', { class: 'notice' }, err.message)));
  return box;
}

/** Word-level changes from `before` to `after`, for showing a correction before it is sent. */
export function wordDiff(before, after) {
  const a = before.split(/(\s+)/);
  const b = after.split(/(\s+)/);
  const table = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) { out.push(a[i]); i += 1; j += 1; }
    else if (j < b.length && (i === a.length || table[i][j + 1] >= table[i + 1][j])) { out.push(h('ins', {}, b[j])); j += 1; }
    else { out.push(h('del', {}, a[i])); i += 1; }
  }
  return out;
}

/**
 * The form that corrects `message`: prefilled with its text, with the changes
 * shown as the corrector types, sent as a peer correction.
 */
export function correctionForm(chatId, message, done) {
  const box = h('textarea', { class: 'input edit-box', 'aria-label': 'Your correction', rows: 2 });
  box.value = message.content;
  const note = h('input', { class: 'input', 'aria-label': 'A note (optional)', placeholder: 'A note (optional)', maxlength: 200 });
  const preview = h('p', { class: 'correction-preview', 'aria-live': 'polite' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const show = () => preview.replaceChildren(box.value.trim() === message.content.trim()
    ? h('span', { class: 'muted' }, 'Change the words that should be corrected.')
    : h('span', {}, ...wordDiff(message.content, box.value.trim())));
  box.addEventListener('input', show);
  show();
  // The tutor's opinion of the correction, before sending it (one practice message).
  const advice = h('div', { class: 'correction-advice', 'aria-live': 'polite' });
  const check = h('button', {
    class: 'btn small', type: 'button', title: 'The tutor checks your correction (uses one practice message)',
    async onclick() {
      check.disabled = true;
      advice.replaceChildren(h('span', { class: 'muted', 'aria-busy': 'true' }, 'Checking…'));
      try {
        const { feedback } = await api('POST', '/bot/check', { text: box.value.trim() });
        advice.replaceChildren(feedback.status === 'corrected'
          ? h('span', {}, 'The tutor suggests: ', h('strong', {}, feedback.corrected_text), ' ',
            h('button', {
              class: 'btn small', type: 'button',
              onclick: () => { box.value = feedback.corrected_text; show(); advice.replaceChildren(); },
            }, 'Use it'))
          : h('span', {}, 'The tutor finds nothing to change in your correction.'));
      } catch (err) {
        advice.replaceChildren(h('span', { class: 'form-error' }, err.code === 'bot_unavailable'
          ? 'The tutor is not available on this server; you can still send your correction.' : err.message));
      } finally {
        check.disabled = false;
      }
    },
  }, 'Check');
  const form = h('form', {
    class: 'edit-form correction-form',
    async onsubmit(e) {
      e.preventDefault();
      try {
        await api('POST', `/chats/${chatId}/messages/${message.id}/corrections`,
          { corrected_text: box.value.trim(), ...(note.value.trim() ? { note: note.value.trim() } : {}) });
        done(true);
      } catch (err) {
        error.textContent = err.message;
      }
    },
  }, box, preview, advice, note, error,
  h('div', {}, h('button', { class: 'btn small primary', type: 'submit' }, 'Send correction'), ' ', check, ' ',
    h('button', { class: 'btn small', type: 'button', onclick: () => done(false) }, 'Cancel')));
  queueMicrotask(() => box.focus());
  return form;
}

/** Other members' corrections under a message; its author may thank each corrector. */
export function peerCorrections(chatId, message, mine) {
  if (!message.peer_corrections?.length) return null;
  return h('div', { class: 'peer-corrections' }, ...message.peer_corrections.map((c) => h('aside', {
    class: 'feedback peer', 'aria-label': `Correction by ${c.corrector_name}`,
  },
  h('h3', {}, `✎ ${c.corrector_name} suggests`),
  h('p', { class: 'better' }, c.corrected_text),
  c.corrections.length ? h('ul', {}, ...c.corrections.map((x) => h('li', {},
    h('del', {}, x.original), ' → ', h('ins', {}, x.corrected), x.explanation ? h('div', { class: 'why' }, x.explanation) : null))) : null,
  c.note ? h('p', { class: 'why' }, `“${c.note}”`) : null,
  c.thanked ? h('p', { class: 'thanked' }, mine ? 'You thanked them ✓' : 'Thanked ✓')
    : mine ? h('button', {
      class: 'btn small', type: 'button',
      async onclick() {
        try { await api('PUT', `/chats/${chatId}/messages/${message.id}/corrections/${c.corrector_id}/thanks`, {}); } catch (err) { toast(err.message); }
      },
    }, 'Thank') : null)));
}
