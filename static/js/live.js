// The event WebSocket: reconnects with backoff, renews its token, and reports
// its state so the app can catch up after a drop.
//
// Close codes from the server: 1012 the server is restarting (reconnect at
// once: a proxy sends the new socket to another instance), 4001 the token expired or the session was
// signed out (reconnect at once with a refreshed token; if the session is gone
// the refresh fails and the app signs out), 4008 this account has too many
// sockets open (wait longer before trying again), 1013 the server is full.
import { freshAccess, onSession } from './api.js';

export class Live {
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.unsubscribe = onSession((s) => {
      if (s && this.socket?.readyState === WebSocket.OPEN) this.send({ type: 'auth', access_token: s.access });
    });
  }

  async connect() {
    if (this.stopped) return;
    let token;
    try {
      token = await freshAccess(this.forceRefresh);
    } catch {
      return; // signed out
    }
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${proto}://${location.host}/api/v1/ws?access_token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.attempt > 0 || this.wasOpen;
      this.attempt = 0;
      this.wasOpen = true;
      this.onState('online', reconnected);
    };
    socket.onmessage = (e) => {
      try { this.onEvent(JSON.parse(e.data)); } catch { /* not an event */ }
    };
    socket.onclose = (e) => {
      if (this.socket !== socket || this.stopped) return;
      this.forceRefresh = e.code === 4001;
      this.onState(e.code === 4008 ? 'limited' : 'offline');
      // 1 s, 2 s, 4 s ... up to 30 s, with jitter; at once after a token ended
      // or a server restart (then with backoff if that fails), and at least 30 s when the account has too many tabs open.
      let delay = Math.min(30_000, 1000 * 2 ** this.attempt) * (0.7 + Math.random() * 0.6);
      if ((e.code === 4001 || e.code === 1012) && this.attempt === 0) delay = 0;
      if (e.code === 4008 || e.code === 1013) delay = Math.max(delay, 30_000);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    };
  }

  send(event) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(event));
  }

  stop() {
    this.stopped = true;
    this.unsubscribe();
    this.socket?.close();
  }
}
