// The chat list and the open conversation: history that loads as you scroll
// up, live messages, typing, read receipts, editing, and practice with the bot
// (streamed replies, feedback next to your message, the daily quota).
import { api, ApiError } from '../api.js';
import { KIND_LABELS } from '../labels.js';
import { lintField } from '../lint.js';
import { notificationOffer, rememberTitles } from '../notify.js';
import { refreshQuota, setUnread, showQuota } from '../shell.js';
import { canDictate, canSpeak, dictate, speak, voicePrefs } from '../speech.js';
import { go, onEvent, store } from '../store.js';
import { h, initials, time, toast } from '../ui.js';
import { correctionForm, membersPanel, nameOf, peerCorrections, rememberName } from './groups.js';

const MAX_LEN = 2000;
const REACTIONS = ['👍', '❤️', '😂', '😮', '🙏', '✅'];
const state = { chats: [], list: null, conv: null, refresh: null };

const isMine = (m) => m.sender_id === store.me?.id && m.role !== 'system';
const isRoom = (chat) => chat.kind === 'group' || chat.kind === 'lounge';

export async function chatsView(main, openId) {
  const list = h('ul', { class: 'chat-list', 'aria-label': 'Chats' });
  const menu = h('div', { class: 'new-menu', hidden: true },
    h('a', { class: 'btn small', href: '#/practice' }, 'Practise with the tutor'),
    h('a', { class: 'btn small', href: '#/friends' }, 'Message a friend'),
    h('a', { class: 'btn small', href: '#/new-group' }, 'New group'),
    h('a', { class: 'btn small', href: '#/lounges' }, 'Join a lounge'));
  const newChat = h('button', {
    class: 'btn small primary', type: 'button', 'aria-expanded': 'false',
    onclick() { menu.hidden = !menu.hidden; this.setAttribute('aria-expanded', String(!menu.hidden)); },
  }, 'New chat');
  state.goalLine = h('p', { class: 'goal-line', id: 'goal-line' });
  const sidebar = h('aside', { class: 'sidebar', 'aria-label': 'Your chats' },
    h('div', { class: 'sidebar-head' }, h('h2', {}, 'Chats'), newChat), state.goalLine, menu, notificationOffer(), list);
  refreshGoal();
  const pane = h('section', { class: 'conversation-pane', 'aria-label': 'Conversation' });
  main.append(h('div', { class: `split ${openId ? 'has-chat' : ''}` }, sidebar, pane));
  state.list = list;
  store.listShown = true;

  await loadChats();
  if (openId) {
    let chat = state.chats.find((c) => c.id === openId);
    if (!chat) chat = await api('GET', `/chats/${openId}`).catch(() => null);
    if (chat) {
      state.conv = new Conversation(chat, pane);
      await state.conv.load();
    } else {
      pane.append(h('p', { class: 'empty-state' }, 'This chat does not exist or you cannot see it.'));
    }
  } else {
    pane.append(h('div', { class: 'empty-state' },
      h('p', {}, 'Pick a chat on the left.'),
      h('p', {}, h('a', { href: '#/friends' }, 'Find friends'), ' or ', h('a', { href: '#/practice' }, 'start practising with the bot'), '.')));
  }
  drawList();
  state.refresh = async () => {
    await loadChats();
    drawList();
    await state.conv?.catchUp();
  };
  store.refreshers.add(state.refresh);
  return () => {
    store.refreshers.delete(state.refresh);
    state.conv?.close();
    state.conv = null;
    state.list = null;
    store.listShown = false;
    state.goalLine = null;
  };
}

async function loadChats() {
  const page = await api('GET', '/chats?limit=100');
  state.chats = page.items;
  rememberTitles(page.items);
}

function preview(chat) {
  const m = chat.last_message;
  if (!m && chat.kind === 'bot') {
    // The bot has greeted already: its opening line is the newest message.
    const scenario = store.scenarios?.find((s) => s.id === chat.scenario_id);
    return scenario ? `Bot: ${scenario.opening_line}` : 'Say hello to start practising';
  }
  if (!m) return 'No messages yet';
  if (m.role === 'system') return m.content;
  const who = isMine(m) ? 'You: ' : m.role === 'assistant' ? 'Bot: '
    : isRoom(chat) && chat.last_sender_name ? `${chat.last_sender_name}: ` : '';
  return who + m.content;
}

/** "14:05" today, "Yesterday", a weekday this week, else the date. */
function when(iso) {
  const d = new Date(iso);
  const days = Math.round((startOfDay(new Date()) - startOfDay(d)) / 86_400_000);
  if (days === 0) return time(iso);
  if (days === 1) return 'Yesterday';
  if (days < 7) return d.toLocaleDateString([], { weekday: 'short' });
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "Today", "Yesterday" or the full date, for the separators in a conversation. */
function dayLabel(iso) {
  const d = new Date(iso);
  const days = Math.round((startOfDay(new Date()) - startOfDay(d)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** Message text with http(s) links made clickable; everything stays text nodes. */
function linkified(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g)) {
    parts.push(text.slice(last, match.index));
    parts.push(h('a', { href: match[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function drawList() {
  if (!state.list) return;
  state.chats.sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.id.localeCompare(a.id));
  setUnread(state.chats.reduce((n, c) => n + c.unread_count, 0));
  if (!state.chats.length) {
    state.list.replaceChildren(h('li', { class: 'empty-state' },
      'No chats yet — ', h('a', { href: '#/friends' }, 'add a friend'), ' or ', h('a', { href: '#/practice' }, 'start a practice'), '.'));
    return;
  }
  const openId = state.conv?.chat.id;
  state.list.replaceChildren(...state.chats.map((chat) => {
    const bot = chat.kind === 'bot';
    const online = chat.peer?.online;
    // The link reads "Title, 2 unread, online. Last message" to a screen reader;
    // the time, preview and badge are drawn for the eye.
    const spoken = `${chat.unread_count ? `, ${chat.unread_count} unread` : ''}${online ? ', online' : ''}. ${preview(chat)}`;
    return h('li', {},
      h('a', { href: `#/chats/${chat.id}`, 'aria-current': chat.id === openId ? 'true' : null },
        h('span', { class: `avatar ${bot ? 'bot' : ''}`, 'aria-hidden': 'true' },
          bot ? 'AI' : chat.kind === 'lounge' ? '#' : initials(chat.title), online ? h('span', { class: 'dot' }) : null),
        h('span', { style: 'min-width:0' },
          h('div', { class: 'title-row' }, h('span', { class: 'title' }, chat.title, h('span', { class: 'sr-only' }, spoken)),
            h('time', { class: 'when', datetime: chat.updated_at, 'aria-hidden': 'true' }, when(chat.last_message?.created_at || chat.updated_at))),
          h('div', { class: 'preview', 'aria-hidden': 'true' }, preview(chat))),
        chat.unread_count ? h('span', { class: 'unread', 'aria-hidden': 'true' }, chat.unread_count) : h('span')));
  }));
}

/** Today's practice against the daily goal, the streak and the review, above the chat list. */
async function refreshGoal() {
  const line = state.goalLine;
  if (!line) return;
  try {
    const p = await api('GET', '/me/progress?days=1');
    const g = p.goal;
    const parts = [
      `Today: ${Math.min(g.today, g.messages_per_day)} of ${g.messages_per_day} practice messages${g.met ? ' ✓' : ''}`,
      p.streak ? `${p.streak}-day streak` : null,
    ].filter(Boolean);
    line.replaceChildren(h('a', { href: '#/progress' }, parts.join(' · ')),
      ...(p.review_due ? [' · ', h('a', { href: '#/review' }, `${p.review_due} to review`)] : []));
  } catch { /* the line stays as it was */ }
}

/** Our live connection dropped: nobody's presence is known until it is back (then the list reloads). */
function presenceUnknown() {
  for (const c of state.chats) if (c.peer) c.peer.online = null;
  drawList();
  if (state.conv?.chat.peer) state.conv.presence(null);
}

/** Live events from the socket; the chat list keeps them while it is away. */
onEvent((event) => {
  if (event.type === 'offline') {
    presenceUnknown();
    return;
  }
  const chat = state.chats.find((c) => c.id === event.chat_id);
  switch (event.type) {
    case 'message.created': {
      const m = event.message;
      if (!chat) {
        if (state.list) loadChats().then(drawList);
        break;
      }
      // Events of different posts can arrive out of order: the newest is the greatest seq.
      if (!chat.last_message || m.seq > chat.last_message.seq) {
        chat.last_message = m;
        chat.last_sender_name = m.sender_id ? nameOf(m.sender_id, (name) => { chat.last_sender_name = name; drawList(); }) : null;
      }
      if (m.created_at > chat.updated_at) chat.updated_at = m.created_at;
      const watching = state.conv?.chat.id === chat.id && document.visibilityState === 'visible';
      if (!isMine(m) && !watching) chat.unread_count += 1;
      drawList();
      if (state.conv?.chat.id === chat.id) state.conv.add(m);
      if (m.role === 'assistant') refreshGoal();
      break;
    }
    case 'message.updated':
      if (chat?.last_message?.id === event.message.id) { chat.last_message = event.message; drawList(); }
      if (state.conv?.chat.id === event.chat_id) state.conv.add(event.message);
      break;
    case 'message.deleted':
      if (state.conv?.chat.id === event.chat_id) state.conv.remove(event.message_id);
      if (chat?.last_message?.id === event.message_id) {
        api('GET', `/chats/${chat.id}`).then((fresh) => { Object.assign(chat, fresh); drawList(); }).catch(() => {});
      }
      break;
    case 'typing':
      if (state.conv?.chat.id === event.chat_id) state.conv.typing(event.user_id);
      break;
    case 'message.corrected':
      if (state.conv?.chat.id === event.chat_id) state.conv.corrected(event.correction);
      break;
    case 'message.reaction':
      if (state.conv?.chat.id === event.chat_id) state.conv.reacted(event);
      break;
    case 'member.joined':
      rememberName(event.member.user);
      if (!chat) { if (state.list) loadChats().then(drawList); break; }
      chat.member_count += 1;
      if (state.conv?.chat.id === chat.id) state.conv.presence();
      break;
    case 'member.left':
      if (event.user_id === store.me.id) {
        state.chats = state.chats.filter((c) => c.id !== event.chat_id);
        drawList();
        if (state.conv?.chat.id === event.chat_id) {
          toast(`You are no longer in ${state.conv.chat.title}.`);
          go('#/chats');
        }
        break;
      }
      if (chat) {
        chat.member_count = Math.max(1, chat.member_count - 1);
        if (event.new_owner_id === store.me.id) chat.my_role = 'owner';
        if (state.conv?.chat.id === chat.id) state.conv.presence();
      }
      break;
    case 'chat.renamed':
      if (chat) { chat.title = event.title; drawList(); }
      if (state.conv?.chat.id === event.chat_id) state.conv.retitle(event.title);
      break;
    case 'read':
      if (state.conv?.chat.id === event.chat_id && event.user_id !== store.me.id) state.conv.seen(event.seq);
      break;
    case 'presence':
      for (const c of state.chats) if (c.peer?.id === event.user_id) c.peer.online = event.online;
      drawList();
      if (state.conv?.chat.peer?.id === event.user_id) state.conv.presence(event.online);
      break;
    default:
  }
});

class Conversation {
  constructor(chat, pane) {
    this.chat = chat;
    this.bot = chat.kind === 'bot';
    this.room = isRoom(chat);
    this.messages = new Map();
    this.older = null; // cursor for older messages
    this.complete = false; // the whole history is loaded
    this.peerRead = null;
    this.lastRead = null;
    this.typingTimer = null;
    this.lastTypingSent = 0;
    this.busy = false;

    this.sub = h('div', { class: 'sub' });
    const head = h('div', { class: 'conv-head' },
      h('a', { class: 'btn small back', href: '#/chats', 'aria-label': 'Back to chats' }, '←'),
      h('span', { class: `avatar ${this.bot ? 'bot' : ''}`, 'aria-hidden': 'true' }, this.bot ? 'AI' : chat.kind === 'lounge' ? '#' : initials(chat.title)),
      h('div', { style: 'flex:1;min-width:0' }, h('h2', {}, chat.title), this.sub),
      h('div', { class: 'conv-actions' },
        this.bot ? this.levelPicker() : null,
        this.bot ? h('button', { class: 'btn small', type: 'button', title: 'A review of this practice (free)', onclick: () => this.summarize() }, 'Finish & review') : null,
        // Rename and Delete, used rarely, wait behind one button: the header
        // stays one row on a phone.
        this.bot ? h('details', { class: 'more' },
          h('summary', { class: 'btn small', 'aria-label': 'More actions', title: 'More actions' }, '⋯'),
          h('div', { class: 'more-menu' },
            h('button', { class: 'btn small', type: 'button', onclick: (e) => { e.target.closest('details').open = false; this.rename(head); } }, 'Rename'),
            h('button', { class: 'btn small danger', type: 'button', onclick: (e) => { e.target.closest('details').open = false; this.deleteChat(); } }, 'Delete')))
          : this.room ? null : h('button', { class: 'btn small', type: 'button', onclick: () => this.deleteChat() }, 'Hide'),
        this.room && chat.kind === 'group' && chat.my_role === 'owner'
          ? h('button', { class: 'btn small', type: 'button', onclick: () => this.rename(head) }, 'Rename') : null,
        this.room ? h('button', { class: 'btn small', type: 'button', 'aria-label': 'Members', onclick: () => this.showMembers() }, 'Members') : null));
    this.head = head;
    this.extra = h('div', { class: 'conv-extra' });
    if (this.bot) { this.showGoals(); this.loadGoals(); }
    this.list = h('ol', { class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite', tabindex: '0' });
    this.list.addEventListener('scroll', () => {
      if (this.list.scrollTop < 80) this.loadOlder();
      if (this.atBottom()) this.markRead();
    });
    this.typingLine = h('div', { class: 'typing', 'aria-live': 'polite' });
    this.notice = h('div', { role: 'alert' });
    this.input = h('textarea', {
      id: 'composer', rows: 1, maxlength: MAX_LEN + 200,
      class: 'input',
      placeholder: this.bot ? 'Write to your practice partner…' : 'Write a message…',
    });
    this.lint = lintField(this.input);
    this.count = h('div', { class: 'count', id: 'composer-count', 'aria-live': 'off' }, `0 / ${MAX_LEN}`);
    this.sendButton = h('button', { class: 'btn primary', type: 'submit' }, 'Send');
    this.checkButton = this.bot ? null : h('button', {
      class: 'btn', type: 'button', title: 'The tutor checks your draft (uses one practice message)', onclick: () => this.checkDraft(),
    }, 'Check');
    this.micButton = canDictate ? h('button', {
      class: 'btn', type: 'button', title: 'Dictate your message', 'aria-pressed': 'false', onclick: () => this.dictate(),
    }, 'Speak') : null;
    this.checkPanel = h('div', { class: 'check-panel', 'aria-live': 'polite' });
    this.replyBar = h('div', { class: 'reply-bar', hidden: true, 'aria-live': 'polite' });
    this.input.addEventListener('input', () => this.onInput());
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.form = h('form', { onsubmit: (e) => { e.preventDefault(); this.send(); } },
      h('div', {},
        h('label', { for: 'composer', class: 'sr-only' }, this.bot ? 'Message to the bot' : `Message to ${chat.title}`),
        this.lint.field, this.count),
      h('div', { class: 'composer-buttons' }, this.micButton, this.checkButton, this.sendButton));
    pane.replaceChildren(h('div', { class: 'conversation' },
      head, this.extra, h('div', { class: 'body' }, this.notice, this.list, this.typingLine),
      h('div', { class: 'composer' }, this.lint.panel, this.checkPanel, this.replyBar, this.form)));
    this.presence(chat.peer?.online);
    this.onVisible = () => { if (document.visibilityState === 'visible') this.markRead(); };
    document.addEventListener('visibilitychange', this.onVisible);
    this.input.focus();
    if (this.bot && store.quota?.remaining === 0) this.quotaNotice(store.quota);
  }

  close() {
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.typingTimer);
    clearTimeout(this.stoppedTimer);
    this.lint.close();
  }

  levelPicker() {
    const select = h('select', {
      id: 'chat-level', 'aria-label': 'Level of English for this chat',
      async onchange() {
        await api('PATCH', `/chats/${this.dataset.chat}`, { level: this.value }).catch(() => {});
      },
      dataset: { chat: this.chat.id },
    }, ...['A1', 'A2', 'B1', 'B2', 'C1', 'C2'].map((l) => h('option', { value: l, selected: l === this.chat.level }, l)));
    return h('label', { class: 'badge' }, 'Level ', select);
  }

  presence(online) {
    if (this.room) {
      const n = this.chat.member_count;
      this.sub.textContent = `${n} ${n === 1 ? 'member' : 'members'}${this.chat.kind === 'lounge' ? ' · public lounge' : ''}`;
      return;
    }
    if (this.bot) {
      // The scenario when the title does not already say it, and the level.
      const scenario = store.scenarios.find((s) => s.id === this.chat.scenario_id)?.title || 'Free talk';
      const parts = ['Practice', scenario === this.chat.title ? null : scenario, this.chat.level ? `level ${this.chat.level}` : null];
      this.sub.textContent = parts.filter(Boolean).join(' · ');
    } else {
      // Unknown (null) while our own connection is down: say nothing rather than something stale.
      this.sub.textContent = online ? 'Online' : online === false ? 'Offline' : '';
    }
  }

  atBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 60;
  }

  async load() {
    const page = await api('GET', `/chats/${this.chat.id}/messages?limit=30`);
    page.items.forEach((m) => this.messages.set(m.id, m));
    this.older = page.next_cursor;
    this.complete = !page.next_cursor;
    this.draw(true);
    this.markRead();
  }

  /**
   * After a reconnect: every message after the newest one held (`after=`, in
   * commit order, so none is missed or shown twice), then the newest page
   * again for edits and deletions made meanwhile.
   */
  async catchUp() {
    const follow = this.atBottom();
    try {
      const held = [...this.messages.values()].map((m) => m.seq);
      if (held.length) {
        let url = `/chats/${this.chat.id}/messages?limit=100&after=${Math.max(...held)}`;
        for (let pages = 0; url; pages += 1) {
          if (pages === 5) { this.messages.clear(); await this.load(); return; } // far behind: start again from the newest page
          const page = await api('GET', url);
          page.items.forEach((m) => this.messages.set(m.id, m));
          url = page.next_cursor && `/chats/${this.chat.id}/messages?limit=100&cursor=${encodeURIComponent(page.next_cursor)}`;
        }
      }
      const newest = await api('GET', `/chats/${this.chat.id}/messages?limit=50`);
      const from = newest.next_cursor ? Math.min(...newest.items.map((m) => m.seq)) : 0;
      for (const m of [...this.messages.values()]) if (m.seq >= from) this.messages.delete(m.id);
      newest.items.forEach((m) => this.messages.set(m.id, m));
    } catch { return; }
    this.draw(follow);
    this.markRead();
    if (this.resendOnReconnect && this.pending && this.input.value.trim() === this.pending.text) {
      this.resendOnReconnect = false;
      this.send();
    }
  }

  async loadOlder() {
    if (!this.older || this.loadingOlder) return;
    this.loadingOlder = true;
    const fromBottom = this.list.scrollHeight - this.list.scrollTop;
    try {
      const page = await api('GET', `/chats/${this.chat.id}/messages?limit=30&cursor=${encodeURIComponent(this.older)}`);
      page.items.forEach((m) => this.messages.set(m.id, m));
      this.older = page.next_cursor;
      this.complete = !page.next_cursor;
      this.draw(false);
      this.list.scrollTop = this.list.scrollHeight - fromBottom;
    } finally {
      this.loadingOlder = false;
    }
  }

  add(message) {
    if (message.role === 'assistant' && this.stopped) { this.stopped = null; clearTimeout(this.stoppedTimer); }
    const follow = this.atBottom() || isMine(message);
    this.messages.set(message.id, message);
    if (!isMine(message) && message.sender_id) this.typingLine.textContent = '';
    this.draw(follow);
    if (follow) this.markRead();
  }

  remove(id) {
    this.messages.delete(id);
    this.draw(false);
  }

  typing(userId) {
    if (userId === store.me.id) return;
    const who = this.room ? nameOf(userId) || 'Someone' : this.chat.title;
    this.typingLine.textContent = `${who} is typing…`;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.typingLine.textContent = ''; }, 3500);
  }

  seen(seq) {
    if (!this.peerRead || seq > this.peerRead) this.peerRead = seq;
    this.draw(this.atBottom());
  }

  async markRead() {
    if (document.visibilityState !== 'visible') return;
    const newest = [...this.messages.values()].filter((m) => !isMine(m)).reduce((a, m) => (!a || m.seq > a.seq ? m : a), null);
    if (!newest || (this.lastRead && newest.seq <= this.lastRead)) return;
    this.lastRead = newest.seq;
    const chat = state.chats.find((c) => c.id === this.chat.id);
    if (chat) { chat.unread_count = 0; drawList(); }
    await api('POST', `/chats/${this.chat.id}/read`, { message_id: newest.id }).catch(() => {});
  }

  onInput() {
    if (!this.input.value) this.lint.clear();
    const len = this.input.value.trim().length;
    this.count.textContent = `${len} / ${MAX_LEN}`;
    this.count.style.color = len > MAX_LEN ? 'var(--danger)' : '';
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 144)}px`;
    if (!this.bot && this.chat.kind !== 'lounge' && len && Date.now() - this.lastTypingSent > 2000) {
      this.lastTypingSent = Date.now();
      store.live?.send({ type: 'typing', chat_id: this.chat.id });
    }
  }

  draw(scrollToBottom) {
    const ordered = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    const items = [];
    if (this.older) {
      items.push(h('li', { class: 'load-older' },
        h('button', { class: 'btn small', type: 'button', onclick: () => this.loadOlder() }, 'Load earlier messages')));
    }
    let day = null;
    if (this.bot && this.complete) {
      // The bot's greeting opened the chat: it has the chat's time, under its day.
      const scenario = store.scenarios.find((s) => s.id === this.chat.scenario_id);
      if (scenario) {
        day = dayLabel(this.chat.created_at);
        items.push(h('li', { class: 'day' }, h('span', {}, day)));
        items.push(this.bubble({ id: 'opening', role: 'assistant', content: scenario.opening_line, created_at: this.chat.created_at }, null));
      }
    }
    const lastMine = ordered.filter(isMine).pop();
    ordered.forEach((m, i) => {
      const label = dayLabel(m.created_at);
      if (label !== day) {
        day = label;
        items.push(h('li', { class: 'day' }, h('span', {}, label)));
      }
      // A bot reply's feedback is about the learner's message just before it.
      const next = ordered[i + 1];
      const feedback = m.role === 'user' && next?.role === 'assistant' ? next.feedback : null;
      items.push(this.bubble(m, feedback));
      if (!this.bot && m === lastMine && this.peerRead && this.peerRead >= m.seq) {
        items.push(h('li', { class: 'seen' }, 'Seen'));
      }
    });
    if (this.stopped) items.push(this.stopped);
    if (this.streaming) items.push(this.streaming);
    if (!ordered.length && !this.bot) items.push(h('li', { class: 'empty-state' }, 'Say hello!'));
    this.list.replaceChildren(...items);
    if (scrollToBottom) this.list.scrollTop = this.list.scrollHeight;
  }

  bubble(m, feedback) {
    if (m.role === 'system') {
      return h('li', { class: 'msg system', dataset: { id: m.id } }, h('div', { class: 'bubble' }, m.content));
    }
    const mine = isMine(m);
    const cls = `msg ${mine ? 'mine' : ''} ${m.role === 'assistant' ? 'bot' : ''}`;
    const correctable = !this.bot && !mine && m.role === 'user' && m.sender_id;
    const social = !this.bot && m.id !== 'opening';
    const meta = h('div', { class: 'meta' },
      m.created_at ? h('time', { datetime: m.created_at }, time(m.created_at)) : null,
      m.edited_at ? h('span', {}, 'edited') : null,
      m.role === 'assistant' && canSpeak ? h('button', {
        class: 'link', type: 'button', title: 'Read this reply aloud', onclick: () => speak(m.content, (problem) => this.showNotice(problem)),
      }, 'Listen') : null,
      mine && !this.bot ? h('span', { class: 'actions' },
        h('button', { class: 'link', type: 'button', onclick: () => this.edit(m), 'aria-label': 'Edit message' }, 'Edit'),
        h('button', { class: 'link', type: 'button', onclick: () => this.delete(m), 'aria-label': 'Delete message' }, 'Delete')) : null,
      social ? h('span', { class: 'actions' },
        h('button', { class: 'link', type: 'button', onclick: () => this.replyTo(m), 'aria-label': 'Reply to this message' }, 'Reply'),
        h('details', { class: 'react-menu' },
          h('summary', { class: 'link', 'aria-label': 'React to this message' }, 'React'),
          h('span', { class: 'react-choices' }, ...REACTIONS.map((e) => h('button', {
            class: 'link', type: 'button', 'aria-label': `React with ${e}`,
            onclick: (ev) => { ev.target.closest('details').open = false; this.react(m, e, true); },
          }, e))))) : null,
      correctable ? h('span', { class: 'actions' },
        h('button', { class: 'link', type: 'button', onclick: () => this.correct(m), 'aria-label': 'Correct this message' }, 'Correct')) : null);
    const quote = m.reply_to_id ? h('blockquote', { class: 'quote' }, m.reply_to
      ? [h('strong', {}, `${nameOf(m.reply_to.sender_id, () => this.draw(false)) || '…'}: `), m.reply_to.content]
      : h('em', {}, 'A deleted message')) : null;
    const reactions = m.reactions?.length ? h('div', { class: 'reactions' }, ...m.reactions.map((r) => h('button', {
      class: `reaction ${r.mine ? 'mine' : ''}`, type: 'button', 'aria-pressed': String(r.mine),
      'aria-label': `${r.emoji} ${r.count}${r.mine ? ', yours' : ''}`,
      onclick: () => this.react(m, r.emoji, !r.mine),
    }, `${r.emoji} ${r.count}`))) : null;
    const sender = this.room && !mine && m.sender_id
      ? h('div', { class: 'sender' }, nameOf(m.sender_id, () => this.draw(false)) || '…') : null;
    return h('li', { class: cls, dataset: { id: m.id } },
      sender, quote, h('div', { class: 'bubble' }, ...linkified(m.content)), reactions, meta, feedback ? feedbackPanel(feedback) : null,
      peerCorrections(this.chat.id, m, mine));
  }

  /** Answers `m`: the composer says so until the reply is sent or cancelled. */
  replyTo(m) {
    this.replying = m;
    const who = isMine(m) ? 'yourself' : nameOf(m.sender_id) || 'them';
    this.replyBar.replaceChildren(h('span', {}, `Replying to ${who}: `, h('em', {}, m.content.slice(0, 80))),
      h('button', { class: 'link', type: 'button', 'aria-label': 'Cancel the reply', onclick: () => this.cancelReply() }, 'Cancel'));
    this.replyBar.hidden = false;
    this.input.focus();
  }

  cancelReply() {
    this.replying = null;
    this.replyBar.hidden = true;
    this.replyBar.replaceChildren();
  }

  async react(m, emoji, add) {
    try {
      await api(add ? 'PUT' : 'DELETE', `/chats/${this.chat.id}/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);
    } catch (err) {
      this.showNotice(err.message);
    }
  }

  /** Someone reacted (or took it back): the counts under the message follow. */
  reacted(event) {
    const m = this.messages.get(event.message_id);
    if (!m) return;
    const list = (m.reactions || []).map((r) => ({ ...r }));
    let entry = list.find((r) => r.emoji === event.emoji);
    if (!entry) { entry = { emoji: event.emoji, count: 0, mine: false }; list.push(entry); }
    entry.count = Math.max(0, entry.count + (event.added ? 1 : -1));
    if (event.user_id === store.me.id) entry.mine = event.added;
    m.reactions = list.filter((r) => r.count > 0).sort((a, b) => REACTIONS.indexOf(a.emoji) - REACTIONS.indexOf(b.emoji));
    this.draw(false);
  }

  /** Opens the correction form under another member's message. */
  correct(m) {
    const li = this.list.querySelector(`[data-id="${m.id}"]`);
    li.replaceChildren(h('div', { class: 'bubble' }, m.content), correctionForm(this.chat.id, m, () => this.draw(false)));
  }

  /** A member's correction arrived (new, replaced or thanked): show it under its message. */
  corrected(correction) {
    const m = this.messages.get(correction.message_id);
    if (!m) return;
    const others = (m.peer_corrections || []).filter((c) => c.corrector_id !== correction.corrector_id);
    m.peer_corrections = [...others, correction];
    this.draw(false);
  }

  async showMembers() {
    const panel = await membersPanel(this.chat, () => {
      state.chats = state.chats.filter((c) => c.id !== this.chat.id);
      go('#/chats');
    });
    this.extra.replaceChildren(panel);
  }

  retitle(title) {
    this.chat.title = title;
    const heading = this.head.querySelector('h2');
    if (heading) heading.textContent = title;
  }

  async edit(m) {
    const li = this.list.querySelector(`[data-id="${m.id}"]`);
    const box = h('textarea', { class: 'input edit-box', 'aria-label': 'Edit your message', rows: 2 });
    box.value = m.content;
    // As tall as the message (up to about eight lines), as wide as the chat allows.
    const fit = () => { box.style.height = 'auto'; box.style.height = `${Math.min(box.scrollHeight + 2, 200)}px`; };
    box.addEventListener('input', fit);
    const error = h('div', { class: 'form-error', role: 'alert' });
    const save = async (e) => {
      e.preventDefault();
      const text = box.value.trim();
      if (!text || text.length > MAX_LEN) { error.textContent = `Messages are 1 to ${MAX_LEN} characters.`; return; }
      try {
        this.add(await api('PATCH', `/chats/${this.chat.id}/messages/${m.id}`, { content: text }));
      } catch (err) {
        error.textContent = err.message;
      }
    };
    li.replaceChildren(h('form', { onsubmit: save, class: 'edit-form' }, box, error,
      h('div', {}, h('button', { class: 'btn small primary', type: 'submit' }, 'Save'), ' ',
        h('button', { class: 'btn small', type: 'button', onclick: () => this.draw(false) }, 'Cancel'))));
    fit();
    box.focus();
  }

  async delete(m) {
    if (!confirm('Delete this message for everyone?')) return;
    try {
      await api('DELETE', `/chats/${this.chat.id}/messages/${m.id}`);
      this.remove(m.id);
    } catch (err) {
      this.showNotice(err.message);
    }
  }

  showNotice(text) {
    this.notice.replaceChildren(text ? h('div', { class: 'notice' }, text) : '');
  }

  /** A failure the learner can retry (sending: the same draft and key, so it is never stored twice). */
  retryNotice(text, action = () => this.send()) {
    const retry = h('button', { class: 'btn small primary', type: 'button', onclick: () => { this.showNotice(''); action(); } }, 'Retry');
    this.notice.replaceChildren(h('div', { class: 'notice' }, text, ' ', retry));
  }

  quotaNotice(q) {
    const at = new Date(q.resets_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    if (!this.bot) {
      this.showNotice(`You've used all ${q.limit} tutor requests for today, so checking comes back at ${at}. You can still send messages.`);
      return;
    }
    this.showNotice(`You've used all ${q.limit} practice messages for today. They come back at ${at}. Meanwhile, why not chat with a friend?`);
    this.input.disabled = true;
    this.sendButton.disabled = true;
  }

  async send() {
    const text = this.input.value.trim();
    if (!text || this.busy) return;
    if (text.length > MAX_LEN) {
      this.showNotice(`Messages can be at most ${MAX_LEN} characters (this one has ${text.length}).`);
      return;
    }
    // One key per draft: sending the same text again after a failure is a retry,
    // and the server never stores it twice.
    if (this.pending?.text !== text) this.pending = { text, key: crypto.randomUUID() };
    const headers = { 'Idempotency-Key': this.pending.key };
    this.busy = true;
    this.sendButton.disabled = true;
    this.showNotice('');
    try {
      if (this.bot) await this.askBot(text, headers);
      else {
        const body = { content: text, ...(this.replying ? { reply_to: this.replying.id } : {}) };
        this.add(await api('POST', `/chats/${this.chat.id}/messages`, body, { headers }));
        this.input.value = '';
        this.cancelReply();
      }
      this.pending = null;
      this.onInput();
    } catch (err) {
      this.explain(err, text);
    } finally {
      this.busy = false;
      if (!this.input.disabled) this.sendButton.disabled = false;
      this.input.focus();
    }
  }

  /** A friendly sentence for each way a bot request can fail. */
  /**
   * Says why sending (or, with `checking`, checking a draft) failed, with a
   * Retry that does the same thing again.
   */
  explain(err, text, { checking = false } = {}) {
    const retry = checking ? () => this.checkDraft() : () => this.send();
    if (!(err instanceof ApiError)) { this.showNotice('Something went wrong. Please try again.'); return; }
    if (err.code === 'daily_quota_exceeded') {
      showQuota({ limit: err.body.limit, used: err.body.limit, remaining: 0, resets_at: err.body.resets_at });
      this.quotaNotice(store.quota);
    } else if (err.code === 'muted') {
      const minutes = Math.max(1, Math.ceil((err.body.retry_after || 60) / 60));
      this.showNotice(`You are muted in this lounge for ${minutes} more minute${minutes === 1 ? '' : 's'}. Repeating the same message again and again counts as spam.`);
    } else if (err.code === 'rate_limited') {
      this.showNotice(`You're sending messages very quickly. Please wait ${err.body.retry_after || 'a few'} seconds.`);
    } else if (err.code === 'bot_unavailable') {
      const who = checking ? 'The tutor' : 'Your practice partner';
      this.showNotice(/BOT_BASE_URL/.test(err.message)
        ? `${checking ? 'Checking drafts' : 'Practice with the bot'} is not set up on this server yet. You can still chat with your friends.`
        : `${who} can't be reached right now. This didn't count — please try again in a moment.`);
    } else if (err.code === 'bot_upstream_error' || err.code === 'bot_upstream_timeout' || err.code === 'bot_busy') {
      if (checking) this.retryNotice("The tutor couldn't check your draft this time. It didn't count.", retry);
      else if (/partial/.test(err.message)) this.showNotice('The reply was cut short. What arrived has been saved.');
      else this.retryNotice("Your practice partner couldn't answer this time. This message didn't count.", retry);
    } else if (err.code === 'network') {
      // Sent again by itself (same key: never stored twice) once the connection is back.
      this.resendOnReconnect = !checking;
      this.retryNotice(checking
        ? 'Your draft was not checked: the server cannot be reached.'
        : 'Your message was not sent: the server cannot be reached. It will be sent when the connection is back.', retry);
    } else {
      this.showNotice(err.message);
    }
    if (text && !this.input.value) this.input.value = text;
  }

  /** Renames a practice chat in place. */
  rename(head) {
    const title = head.querySelector('h2');
    const box = h('input', { class: 'input', value: this.chat.title, 'aria-label': 'Chat title', maxlength: 100 });
    const error = h('span', { class: 'error', role: 'alert' });
    const form = h('form', {
      class: 'rename',
      onsubmit: async (e) => {
        e.preventDefault();
        const next = box.value.trim();
        if (!next || next.length > 100) { error.textContent = 'Use 1 to 100 characters.'; return; }
        try {
          Object.assign(this.chat, await api('PATCH', `/chats/${this.chat.id}`, { title: next }));
          const listed = state.chats.find((c) => c.id === this.chat.id);
          if (listed) { listed.title = this.chat.title; drawList(); }
          title.textContent = this.chat.title;
          form.replaceWith(title);
        } catch (err) {
          error.textContent = err.message;
        }
      },
    }, box, h('button', { class: 'btn small primary', type: 'submit' }, 'Save'),
    h('button', { class: 'btn small', type: 'button', onclick: () => form.replaceWith(title) }, 'Cancel'), error);
    title.replaceWith(form);
    box.select();
  }

  /** Deletes a practice chat, or hides a friend's chat until a new message arrives. */
  async deleteChat() {
    const question = this.bot
      ? 'Delete this practice chat and all its messages?'
      : `Hide your chat with ${this.chat.title}? It comes back when a new message arrives.`;
    if (!confirm(question)) return;
    try {
      await api('DELETE', `/chats/${this.chat.id}`);
      state.chats = state.chats.filter((c) => c.id !== this.chat.id);
      location.hash = '#/chats';
    } catch (err) {
      this.showNotice(err.message);
    }
  }

  /** The scenario's goals, shown as a checklist under the header. */
  showGoals(results) {
    const scenario = store.scenarios.find((s) => s.id === this.chat.scenario_id);
    if (!scenario?.goals?.length) return;
    const reached = new Map((results || []).map((g) => [g.goal, g.reached]));
    const list = h('ul', { class: 'goals', 'aria-label': 'Goals for this practice' },
      ...scenario.goals.map((goal) => {
        const done = reached.get(goal);
        return h('li', { class: done ? 'reached' : '' }, done ? '✓ ' : '○ ', goal,
          done === undefined ? null : h('span', { class: 'sr-only' }, done ? ' (reached)' : ' (not yet)'));
      }));
    // In place when it is shown (above an open review), else on its own.
    if (this.goalsList?.isConnected) this.goalsList.replaceWith(list);
    else this.extra.replaceChildren(list);
    this.goalsList = list;
  }

  /** Ticks the goals the learner's messages have reached so far (free, no model call). */
  async loadGoals() {
    try {
      const page = await api('GET', `/chats/${this.chat.id}/goals`);
      this.showGoals(page.items);
    } catch { /* the plain checklist stays */ }
  }

  /** The end-of-practice review: goals, what went well, mistakes, phrases. */
  /**
   * The end-of-practice review: free (worked out from the chat, with the tutor's
   * words if asked for before); `withTutor` asks the tutor for its words, which
   * uses one practice message.
   */
  async summarize(withTutor = false) {
    this.showNotice('');
    const waiting = h('div', { class: 'summary', 'aria-busy': 'true' },
      withTutor ? 'Your tutor is reviewing the conversation…' : 'Preparing your review…');
    this.extra.replaceChildren(waiting);
    let s;
    try {
      s = await api(withTutor ? 'POST' : 'GET', `/chats/${this.chat.id}/summary`, withTutor ? {} : undefined);
    } catch (err) {
      this.showGoals();
      this.loadGoals();
      if (err.code === 'conflict') this.showNotice('Write a few messages first, then ask for a review.');
      else this.explain(err, '');
      return;
    }
    showQuota(s.quota);
    this.showGoals(s.goals);
    const close = h('button', { class: 'btn small', type: 'button', onclick: () => { box.remove(); } }, 'Close');
    const left = s.quota.remaining;
    const ask = s.by_tutor ? null : h('p', { class: 'ask-tutor' },
      h('button', {
        class: 'btn small primary', type: 'button', disabled: left === 0, onclick: () => this.summarize(true),
      }, 'Ask the tutor for feedback'), ' ',
      h('span', { class: 'muted' }, left === 0
        ? 'No practice messages left today; this review is free.'
        : `Uses 1 of your ${left} practice message${left === 1 ? '' : 's'} left today.`));
    const box = h('section', { class: 'summary', 'aria-label': 'Practice review' },
      h('h3', {}, 'How it went'),
      h('p', {}, s.went_well),
      h('p', { class: 'muted' }, `${s.messages} message${s.messages === 1 ? '' : 's'} · ${s.words} word${s.words === 1 ? '' : 's'} · ${s.mistakes} correction${s.mistakes === 1 ? '' : 's'}`),
      s.recurring_mistakes.length ? h('div', {}, h('h4', {}, 'Watch out for'),
        h('ul', {}, ...s.recurring_mistakes.map((r) => h('li', {}, `${KIND_LABELS[r.kind] || r.kind} (${r.count}×): `,
          ...r.examples.flatMap((e, i) => [i ? ', ' : '', h('del', {}, e.original), ' → ', h('ins', {}, e.corrected)]))))) : null,
      s.phrases.length ? h('div', {}, h('h4', {}, 'Phrases to remember'),
        h('ul', {}, ...s.phrases.map((p) => h('li', {}, p, ' ', canSpeak ? h('button', {
          class: 'link', type: 'button', title: 'Read this phrase aloud', onclick: () => speak(p, (problem) => this.showNotice(problem)),
        }, 'Listen') : null)))) : null,
      ask,
      close);
    this.extra.append(box);
  }

  /** Check before sending: the tutor corrects the draft; one click takes the correction. */
  async checkDraft() {
    const text = this.input.value.trim();
    if (!text || this.busy) return;
    this.busy = true;
    this.checkButton.disabled = true;
    this.checkPanel.replaceChildren(h('div', { class: 'feedback', 'aria-busy': 'true' }, 'Checking…'));
    try {
      const result = await api('POST', '/bot/check', { text });
      showQuota(result.quota);
      const f = result.feedback;
      const use = h('button', {
        class: 'btn small primary', type: 'button',
        onclick: () => { this.input.value = f.corrected_text; this.checkPanel.replaceChildren(); this.onInput(); this.input.focus(); },
      }, 'Use correction');
      const dismiss = h('button', { class: 'btn small', type: 'button', onclick: () => this.checkPanel.replaceChildren() }, 'Dismiss');
      this.checkPanel.replaceChildren(feedbackPanel(f),
        h('div', { class: 'check-actions' }, f.status === 'corrected' ? use : null, dismiss));
    } catch (err) {
      this.checkPanel.replaceChildren();
      this.explain(err, '', { checking: true });
    } finally {
      this.busy = false;
      this.checkButton.disabled = false;
    }
  }

  dictate() {
    if (this.listening) { this.listening.stop(); return; }
    this.micButton.setAttribute('aria-pressed', 'true');
    this.listening = dictate((heard) => {
      this.input.value = `${this.input.value.trim()} ${heard}`.trim();
      this.onInput();
    }, () => {
      this.listening = null;
      this.micButton.setAttribute('aria-pressed', 'false');
    }, (problem) => this.showNotice(problem));
  }

  /** Streams the bot's reply into a growing bubble; Stop cancels it (a partial reply is kept). */
  async askBot(text, headers) {
    const abort = new AbortController();
    const res = await api('POST', `/chats/${this.chat.id}/messages/stream`, { content: text }, { raw: true, headers, signal: abort.signal });
    this.input.value = '';
    this.onInput();
    const bubble = h('div', { class: 'bubble' }, h('span', { class: 'thinking' }, 'Thinking…'));
    this.streaming = h('li', { class: 'msg bot streaming', 'aria-busy': 'true' }, bubble);
    const stop = h('button', { class: 'btn', type: 'button', onclick: () => abort.abort() }, 'Stop');
    this.sendButton.replaceWith(stop);
    this.draw(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let failure = null;
    let turn = null;
    let started = false;
    let finished = false;
    try {
      while (!finished) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trimStart();
          }
          if (!data) continue;
          const payload = JSON.parse(data);
          if (event === 'message') {
            turn = payload.id;
            this.add(payload);
            this.loadGoals();
          } else if (event === 'delta') {
            if (!started) { bubble.textContent = ''; started = true; }
            bubble.textContent += payload.text;
            if (this.atBottom()) this.list.scrollTop = this.list.scrollHeight;
          } else if (event === 'done') {
            // The reply is complete: Send comes back at once, whatever the
            // connection does next.
            finished = true;
            stop.replaceWith(this.sendButton);
            reader.cancel().catch(() => {});
            this.streaming = null;
            this.add(payload.reply);
            this.loadGoals();
            showQuota(payload.quota);
            if (voicePrefs().auto) speak(payload.reply.content, (problem) => this.showNotice(problem));
          } else if (event === 'error') {
            failure = new ApiError(502, payload);
          }
        }
      }
    } catch (err) {
      if (err.name !== 'AbortError') throw err;
      // Stopped: the server keeps what was said (or refunds if nothing was).
      if (started) {
        // The server stores the partial reply once the tutor has checked the
        // message (it counts, so the check is not thrown away): keep showing
        // it until the stored reply arrives on the socket.
        this.streaming.classList.remove('streaming');
        this.streaming.setAttribute('aria-busy', 'false');
        this.stopped = this.streaming;
        clearTimeout(this.stoppedTimer);
        this.stoppedTimer = setTimeout(() => { this.stopped = null; this.catchUp(); }, 30000);
      }
      this.streaming = null;
      await new Promise((r) => setTimeout(r, 300));
      if (!started && turn) this.remove(turn);
      if (!started) { this.input.value = text; this.onInput(); await this.catchUp(); }
      refreshQuota();
      this.showNotice(started ? 'Stopped. The part of the reply you saw has been saved.' : "Stopped before the reply began. This message didn't count.");
      return;
    } finally {
      this.streaming = null;
      stop.replaceWith(this.sendButton);
    }
    if (failure) {
      // A refunded turn was removed on the server; remove it here too.
      if (turn && /not counted/.test(failure.message)) this.remove(turn);
      await this.catchUp();
      refreshQuota();
      throw failure;
    }
    this.draw(true);
  }
}


// The tutor's check of a message: corrected, looks good, or not checked.
function feedbackPanel(feedback) {
  const label = { 'aria-label': 'Feedback on your message' };
  if (feedback.status === 'unchecked') {
    return h('aside', { class: 'feedback unchecked', ...label },
      h('h3', {}, '? Not checked'),
      h('p', { style: 'margin:0' }, 'The tutor could not check this message, so mistakes may have been missed.'));
  }
  if (!feedback.corrections.length) {
    return h('aside', { class: 'feedback good', ...label }, h('h3', {}, '✓ Looks good!'), partly(feedback));
  }
  const count = feedback.corrections.length;
  return h('aside', { class: 'feedback', ...label },
    h('h3', {}, `✎ ${count === 1 ? '1 correction' : `${count} corrections`}`),
    h('ul', {}, ...feedback.corrections.map((c) => h('li', {},
      h('del', { 'aria-label': `You wrote: ${c.original}` }, c.original), ' → ',
      h('ins', { 'aria-label': `Better: ${c.corrected}` }, c.corrected),
      ' ', h('span', { class: 'kind' }, KIND_LABELS[c.kind] || c.kind),
      c.explanation ? h('div', { class: 'why' }, c.explanation) : null))),
    feedback.corrected_text ? h('p', { class: 'better' }, h('strong', {}, 'Better: '), feedback.corrected_text) : null,
    partly(feedback));
}

/** Sentences only the rules looked at, when the model could not check them. */
function partly(feedback) {
  const missed = feedback.unchecked_sentences || [];
  if (!missed.length) return null;
  return h('p', { class: 'why' }, missed.length === 1
    ? `The tutor could not check “${missed[0]}”; only basic rules looked at it.`
    : `The tutor could not check ${missed.length} of your sentences; only basic rules looked at them.`);
}

