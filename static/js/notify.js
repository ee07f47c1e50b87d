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

const REMINDER = 'cc-goal-reminder'; // the hour (0..23) the learner picked, or absent
const REMINDED = 'cc-goal-reminded'; // the local date of the last reminder

/** The hour of the daily-goal reminder, or null when it is off. */
export function reminderHour() {
  const v = localStorage.getItem(REMINDER);
  return v === null || v === '' ? null : Number(v);
}

/** Turns the reminder on at `hour` (asking for notifications, politely, once) or off (null). */
export async function setReminderHour(hour) {
  if (hour === null) { localStorage.removeItem(REMINDER); return; }
  localStorage.setItem(REMINDER, String(hour));
  localStorage.removeItem(REMINDED);
  if (supported && Notification.permission === 'default') await Notification.requestPermission();
}

const localDay = (d) => `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;

/**
 * Once a day, from the learner's chosen hour, while the app is open: if today's
 * goal is not met yet, say how many practice messages are left (a notification
 * when the tab is in the background and that is allowed, a toast otherwise).
 */
export async function goalReminder(show) {
  const hour = reminderHour();
  const now = new Date();
  if (hour === null || now.getHours() < hour || localStorage.getItem(REMINDED) === localDay(now)) return;
  const p = await api('GET', '/me/progress?days=1').catch(() => null);
  if (!p) return;
  localStorage.setItem(REMINDED, localDay(now));
  if (p.goal.met) return;
  const left = p.goal.messages_per_day - p.goal.today;
  const text = `${left === 1 ? 'One more practice message' : `${left} more practice messages`} today ${p.streak ? `keeps your ${p.streak}-day streak` : 'meets your daily goal'}.`;
  if (supported && Notification.permission === 'granted' && document.visibilityState === 'hidden') {
    const note = new Notification('ChattConnect', { body: text, tag: 'goal' });
    note.onclick = () => { window.focus(); location.hash = '#/practice'; note.close(); };
  } else {
    show(text);
  }
}
