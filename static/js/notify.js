// Browser notifications for new messages while the tab is in the background.
// Permission is asked only when the learner presses "Turn on", never on load.
import { api } from './api.js';
import { h } from './ui.js';

const supported = typeof window.Notification === 'function';
const titles = new Map(); // chat id -> title, from the chat list

export function rememberTitles(chats) {
  for (const c of chats) titles.set(c.id, c.title);
}

/** Shows a notification for a friend's message if the tab is hidden and it is allowed. */
export async function notifyMessage(message, me) {
  if (!supported || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden' || message.sender_id === me || !message.sender_id) return;
  if (!titles.has(message.chat_id)) {
    const chat = await api('GET', `/chats/${message.chat_id}`).catch(() => null);
    if (chat) titles.set(chat.id, chat.title);
  }
  const note = new Notification(titles.get(message.chat_id) || 'New message', {
    body: message.content.slice(0, 140),
    tag: message.chat_id, // one per chat, replaced by the newest
  });
  note.onclick = () => {
    window.focus();
    location.hash = `#/chats/${message.chat_id}`;
    note.close();
  };
}

/** A polite offer to turn notifications on, or null when there is nothing to ask. */
export function notificationOffer() {
  if (!supported || Notification.permission !== 'default' || localStorage.getItem('cc-notify-asked')) return null;
  const box = h('div', { class: 'offer', role: 'region', 'aria-label': 'Notifications' },
    h('p', {}, 'Get a notification when a friend writes while this tab is in the background?'),
    h('div', { class: 'check-actions' },
      h('button', {
        class: 'btn small primary', type: 'button',
        async onclick() {
          localStorage.setItem('cc-notify-asked', '1');
          await Notification.requestPermission();
          box.remove();
        },
      }, 'Turn on'),
      h('button', {
        class: 'btn small', type: 'button',
        onclick() { localStorage.setItem('cc-notify-asked', '1'); box.remove(); },
      }, 'Not now')));
  return box;
}
