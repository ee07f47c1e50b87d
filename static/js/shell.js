// The header's live parts (quota, unread and request counts, connection,
// theme), kept in step with the store by the app and the views.
import { api } from './api.js';
import { rememberTitles } from './notify.js';
import { store } from './store.js';
import { h } from './ui.js';

/** Applies and remembers a theme, keeping the header toggle in step. */
export function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('cc.theme', theme);
  const toggle = document.getElementById('theme-toggle');
  if (toggle) toggle.textContent = theme === 'dark' ? '☀︎' : '☾';
}

export function toggleTheme() {
  setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
}

/** "3 of 5 left today · resets 09:00" */
export function showQuota(quota = store.quota) {
  store.quota = quota;
  const el = document.getElementById('quota');
  if (!el || !quota) return;
  const at = new Date(quota.resets_at).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  el.replaceChildren(
    h('span', { class: 'long' }, `${quota.remaining} of ${quota.limit} practice messages left today · resets at ${at}`),
    h('span', { class: 'short', 'aria-hidden': 'true' }, `${quota.remaining} of ${quota.limit} left`));
  el.classList.toggle('empty', quota.remaining === 0);
}

/** The unread total in the tab title and on Chats; incoming requests on Friends. */
export function showCounts() {
  document.title = store.unread ? `(${store.unread}) ChattConnect` : 'ChattConnect';
  const put = (id, n, what) => {
    const el = document.getElementById(id);
    if (!el) return;
    el.hidden = !n;
    el.textContent = n > 99 ? '99+' : String(n);
    el.setAttribute('aria-label', `${n} ${what}`);
  };
  put('unread-badge', store.unread, 'unread');
  put('requests-badge', store.requests, 'friend requests');
}

export function setUnread(n) {
  store.unread = n;
  showCounts();
}

let countsTimer = null;
/** Re-reads both counts from the API (debounced: events come in bursts). */
export function refreshCounts() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(async () => {
    try {
      const [chats, requests] = await Promise.all([
        api('GET', '/chats?limit=100'), api('GET', '/friends?status=incoming&limit=100')]);
      store.unread = chats.items.reduce((n, c) => n + c.unread_count, 0);
      rememberTitles(chats.items);
      store.requests = requests.items.length;
      showCounts();
    } catch { /* shown on the next success */ }
  }, 250);
}

export async function refreshQuota() {
  try { showQuota(await api('GET', '/bot/quota')); } catch { /* shown on next success */ }
}

/** "Reconnecting…" while the live connection is down. */
export function showConnection() {
  const el = document.getElementById('conn');
  if (!el) return;
  el.textContent = store.connected ? ''
    : store.limited ? 'Live updates paused: too many tabs are open'
    : 'Reconnecting…';
  el.classList.toggle('down', !store.connected);
}
