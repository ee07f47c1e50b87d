// Find people, send and answer friend requests, see who is online, start chats.
import { api } from '../api.js';
import { go, onEvent, store } from '../store.js';
import { h, initials, toast } from '../ui.js';

export async function friendsView(main) {
  const results = h('ul', { class: 'people', 'aria-label': 'Search results' });
  const incoming = h('ul', { class: 'people', 'aria-label': 'Friend requests' });
  const outgoing = h('ul', { class: 'people', 'aria-label': 'Sent requests' });
  const friends = h('ul', { class: 'people', 'aria-label': 'Friends' });
  const search = h('input', { id: 'people-search', class: 'input', type: 'search', placeholder: 'Username or name', autocomplete: 'off' });
  const status = h('p', { class: 'hint', role: 'status' });
  let links = [];

  const person = (user, ...actions) => h('li', {},
    h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(user.display_name), user.online ? h('span', { class: 'dot' }) : null),
    h('span', { class: 'who' }, user.display_name,
      h('small', {}, `@${user.username}${user.online ? ' · online' : ''}`)),
    ...actions);
  const button = (label, onclick, cls = 'btn small') => h('button', { class: cls, type: 'button', onclick }, label);

  async function act(fn, message) {
    try {
      await fn();
      if (message) toast(message);
      await reload();
    } catch (err) {
      toast(err.message);
    }
  }

  async function startChat(user) {
    try {
      const chat = await api('POST', '/chats', { kind: 'direct', user_id: user.id });
      go(`#/chats/${chat.id}`);
    } catch (err) {
      toast(err.message);
    }
  }

  async function reload() {
    const page = await api('GET', '/friends?limit=100');
    links = page.items;
    const of = (s) => links.filter((f) => f.status === s);
    incoming.replaceChildren(...of('incoming').map((f) => person(f.user,
      button('Accept', () => { store.accepting.add(f.user.id); return act(() => api('POST', `/friends/${f.user.id}/accept`, {}), `You and ${f.user.display_name} are now friends`); }, 'btn small primary'),
      button('Decline', () => act(() => api('DELETE', `/friends/${f.user.id}`))))));
    outgoing.replaceChildren(...of('outgoing').map((f) => person(f.user,
      button('Cancel request', () => act(() => api('DELETE', `/friends/${f.user.id}`))))));
    const accepted = of('accepted').sort((a, b) => Number(b.user.online) - Number(a.user.online));
    friends.replaceChildren(...(accepted.length ? accepted.map((f) => person(f.user,
      button('Message', () => startChat(f.user), 'btn small primary'),
      button('Remove', () => { if (confirm(`Remove ${f.user.display_name} from your friends?`)) act(() => api('DELETE', `/friends/${f.user.id}`)); }, 'btn small danger')))
      : [h('li', { class: 'hint' }, 'No friends yet. Search for people above.')]));
    incomingSection.hidden = !of('incoming').length;
    outgoingSection.hidden = !of('outgoing').length;
    if (search.value.trim()) await find();
  }

  let searchTimer;
  async function find() {
    const q = search.value.trim();
    if (!q) { results.replaceChildren(); status.textContent = ''; return; }
    const page = await api('GET', `/users?q=${encodeURIComponent(q)}&limit=20`);
    const others = page.items.filter((u) => u.id !== store.me.id);
    status.textContent = others.length ? `${others.length} found` : 'Nobody found with that name.';
    results.replaceChildren(...others.map((u) => {
      const link = links.find((f) => f.user.id === u.id);
      const action = !link
        ? button('Add friend', () => act(() => api('POST', '/friends', { username: u.username }), `Request sent to ${u.display_name}`), 'btn small primary')
        : link.status === 'accepted' ? button('Message', () => startChat(u))
          : h('span', { class: 'badge' }, link.status === 'incoming' ? 'Wants to be friends' : 'Request sent');
      return person(u, action);
    }));
  }
  search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(find, 250); });

  const incomingSection = h('section', { 'aria-labelledby': 'h-incoming' }, h('h2', { id: 'h-incoming' }, 'Friend requests'), incoming);
  const outgoingSection = h('section', { 'aria-labelledby': 'h-outgoing' }, h('h2', { id: 'h-outgoing' }, 'Sent requests'), outgoing);
  main.append(h('div', { class: 'page' },
    h('h1', {}, 'Friends'),
    h('section', { 'aria-labelledby': 'h-find' },
      h('h2', { id: 'h-find' }, 'Find people'),
      h('div', { class: 'field' }, h('label', { for: 'people-search' }, 'Search by username or display name'), search),
      status, results),
    incomingSection, outgoingSection,
    h('section', { 'aria-labelledby': 'h-friends' }, h('h2', { id: 'h-friends' }, 'Your friends'), friends)));
  await reload();
  search.focus();

  // Requests, answers and presence arrive live.
  const refresh = () => reload().catch(() => {});
  const stop = onEvent((e) => { if (['friend', 'presence'].includes(e.type)) refresh(); });
  store.refreshers.add(refresh);
  return () => {
    stop();
    store.refreshers.delete(refresh);
  };
}
