// ChattConnect in the browser: boot, routing, the shell, and live events.
import { api, ApiError, hasSession, logout, onSession, resume } from './api.js';
import { Live } from './live.js';
import { goalReminder, notifyMessage } from './notify.js';
import { refreshCounts, refreshQuota, showConnection, showCounts, showQuota, toggleTheme } from './shell.js';
import { emit, go, store } from './store.js';
import { h, toast } from './ui.js';
import { authView } from './views/auth.js';
import { chatsView } from './views/chats.js';
import { friendsView } from './views/friends.js';
import { newGroupView } from './views/groups.js';
import { loungesView } from './views/lounges.js';
import { practiceView } from './views/practice.js';
import { profileView } from './views/profile.js';
import { progressView } from './views/progress.js';
import { reviewView } from './views/review.js';

const root = document.getElementById('app');
let current = null; // the mounted view's cleanup

function route() {
  const [, page = 'chats', id] = location.hash.split('/');
  return { page, id };
}

let renders = 0;
let retryTimer = null;
let retryDelay = 1000;

async function render() {
  const mine = ++renders;
  clearTimeout(retryTimer);
  current?.();
  current = null;
  root.setAttribute('aria-busy', 'false');
  root.classList.toggle('shell', !!store.me);
  if (!store.me) {
    root.replaceChildren(authView(async () => {
      await start();
      go('#/chats');
    }));
    return;
  }
  const { page, id } = route();
  const main = h('main', { id: 'main', tabindex: '-1' });
  root.replaceChildren(shell(page), main);
  const views = {
    chats: chatsView, friends: friendsView, lounges: loungesView, 'new-group': newGroupView,
    practice: practiceView, progress: progressView, review: reviewView, profile: profileView,
  };
  try {
    current = await (views[page] || chatsView)(main, id);
    retryDelay = 1000;
    store.failed = false;
  } catch (err) {
    if (mine === renders) unavailable(main, err);
  }
}

/**
 * A view that could not load says so, offers "Try again", and tries again by
 * itself (1 s, doubling to 15 s) and as soon as the live connection is back.
 */
function unavailable(main, err) {
  const offline = err instanceof ApiError && (err.code === 'network' || err.status >= 500);
  main.replaceChildren(h('div', { class: 'page' }, h('section', { class: 'unavailable', role: 'alert' },
    h('h1', {}, offline ? "Can't reach ChattConnect right now" : 'This page could not be loaded'),
    h('p', {}, offline
      ? 'Your connection or the server is down. This page will load by itself when it is back.'
      : err.message || 'Something went wrong.'),
    h('button', { class: 'btn primary', type: 'button', onclick: render }, 'Try again'))));
  retryTimer = setTimeout(render, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 15_000);
  store.failed = true;
}

function shell(page) {
  const link = (hash, label, name, badge) =>
    h('a', { href: hash, 'aria-current': page === name ? 'page' : null }, label,
      badge ? h('span', { class: 'count-badge', id: badge, hidden: true }) : null);
  const quota = h('span', { class: 'badge', id: 'quota', title: 'Practice messages with the bot today' });
  const conn = h('span', { class: 'conn', id: 'conn', role: 'status' });
  const themeButton = h('button', {
    class: 'btn small', type: 'button', id: 'theme-toggle', 'aria-label': 'Switch between light and dark theme', onclick: toggleTheme,
  }, document.documentElement.dataset.theme === 'dark' ? '☀︎' : '☾');
  const header = h('header', { class: 'top' },
    h('span', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'CC'), h('span', { class: 'name' }, 'ChattConnect')),
    h('nav', { 'aria-label': 'Main' },
      link('#/chats', 'Chats', 'chats', 'unread-badge'), link('#/friends', 'Friends', 'friends', 'requests-badge'),
      link('#/lounges', 'Lounges', 'lounges'),
      link('#/practice', 'Practice', 'practice'), link('#/progress', 'Progress', 'progress'),
      link('#/profile', 'Profile', 'profile')),
    h('span', { class: 'spacer' }), conn, quota, themeButton,
    h('button', { class: 'btn small', type: 'button', onclick: signOut }, 'Log out'));
  queueMicrotask(() => { showQuota(); showConnection(); showCounts(); });
  return header;
}

function onEvent(event) {
  // The server may have missed events for us (its event bus was away): catch up.
  if (event.type === 'resync') {
    store.refreshers.forEach((fn) => fn());
    return;
  }
  emit(event);
  if (event.type === 'message.created') notifyMessage(event.message, store.me?.id);
  // The chat list, when shown, counts unread messages itself; otherwise ask the API.
  const changesUnread = ['message.created', 'message.deleted', 'read'].includes(event.type);
  if (event.type === 'friend' || (changesUnread && !store.listShown)) refreshCounts();
  if (event.type === 'friend' && !event.removed && event.friend.status === 'incoming') {
    toast(`${event.friend.user.display_name} sent you a friend request`);
  }
  // A request was accepted (by them, or in another tab of ours): say so, once.
  if (event.type === 'friend' && !event.removed && event.friend.status === 'accepted'
      && !store.accepting.delete(event.friend.user.id)) {
    toast(`You and ${event.friend.user.display_name} are now friends`);
  }
}

async function start() {
  store.me = await api('GET', '/me');
  const [scenarios] = await Promise.all([api('GET', '/bot/scenarios'), refreshQuota()]);
  store.scenarios = scenarios.items;
  store.live = new Live(onEvent, (state, reconnected) => {
    const wasConnected = store.connected;
    store.connected = state === 'online';
    store.limited = state === 'limited';
    showConnection();
    if (wasConnected && !store.connected) emit({ type: 'offline' });
    // Catch up on what happened while the socket was down; a page that could
    // not load tries again now.
    if (store.connected && store.failed) { store.failed = false; retryDelay = 1000; render(); }
    else if (store.connected && reconnected) store.refreshers.forEach((fn) => fn());
  });
  store.live.connect();
  refreshCounts();
  // The daily-goal reminder, if the learner asked for one (checked now and every few minutes).
  clearInterval(store.reminderTimer);
  goalReminder(toast);
  store.reminderTimer = setInterval(() => { if (store.me) goalReminder(toast); }, 5 * 60_000);
}

// Quota used in another tab or device, and counts missed while away, show up
// when the learner comes back to this tab.
addEventListener('focus', () => {
  if (!store.me) return;
  refreshQuota();
  refreshCounts();
});

async function signOut() {
  store.live?.stop();
  await logout();
}

onSession((session) => {
  if (!session && store.me) {
    store.live?.stop();
    store.me = null;
    store.quota = null;
    go('#/login');
  }
});

/** A link mailed to confirm an e-mail address (`#/confirm-email/<token>`), signed in or not. */
async function confirmEmailLink() {
  const prefix = '#/confirm-email/';
  if (!location.hash.startsWith(prefix)) return false;
  const token = location.hash.slice(prefix.length);
  try {
    await api('POST', '/auth/confirm-email', { token }, { auth: false });
    toast('Your e-mail address is confirmed.');
    if (store.me) store.me = await api('GET', '/me').catch(() => store.me);
  } catch (err) {
    toast(err.body?.field === 'token' ? 'This confirmation link does not work any more. Save your address again for a new one.' : err.message);
  }
  location.hash = store.me ? '#/profile' : '#/login';
  return true;
}

addEventListener('hashchange', async () => { if (!(await confirmEmailLink())) render(); });

(async function boot() {
  if (hasSession()) {
    resume();
    for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
      try {
        await start();
        break;
      } catch (err) {
        // Signed out (or never signed in) goes to the login page; an outage
        // waits for the server instead of pretending the session ended.
        if (!(err instanceof ApiError) || err.code !== 'network' || !hasSession()) {
          store.me = null;
          break;
        }
        root.replaceChildren(h('div', { class: 'page' }, h('section', { class: 'unavailable', role: 'alert' },
          h('h1', {}, "Can't reach ChattConnect right now"),
          h('p', {}, 'Your connection or the server is down. The app will open by itself when it is back.'))));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
  // A confirmation link goes on to the profile (or the login page), which renders then.
  if (!(await confirmEmailLink())) render();
})();
