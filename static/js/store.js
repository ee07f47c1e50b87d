// What the views share, below the entry point (views never import app.js):
// the signed-in user and their quota, the live connection's state, and the one
// way live events reach views.

export const store = {
  me: null,
  quota: null,
  scenarios: [],
  live: null,
  connected: false,
  refreshers: new Set(), // views that reload when the socket reconnects
  accepting: new Set(), // friend requests this tab is accepting (it says so itself)
  unread: 0, // messages from others not yet read, over all chats
  requests: 0, // incoming friend requests
  listShown: false, // the chat list is on screen, keeping the unread total itself
};

const listeners = new Set();

/**
 * Calls `fn` with every live event from the server, and with `{type: 'offline'}`
 * when the live connection drops; returns the function that stops it.
 */
export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Hands `event` to every view listening. */
export function emit(event) {
  for (const fn of listeners) fn(event);
}

/** Goes to `hash`; on the page already shown, shows it again. */
export function go(hash) {
  if (location.hash === hash) dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
