// The HTTP API client and the session: tokens, silent refresh, sign-in and -out.
// Tokens live in localStorage so a reload keeps the session; refreshes are
// serialised across tabs with Web Locks, since each refresh token works once.
const BASE = '/api/v1';
const KEY = 'cc.session';
const REASON = 'cc.signedOutReason';

export class ApiError extends Error {
  constructor(status, body, headers) {
    super(body?.message || `Request failed (${status})`);
    this.status = status;
    this.code = body?.error || 'network';
    this.body = body || {};
    this.headers = headers;
  }
}

const listeners = new Set();
let timer = null;

function load() {
  try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch { return null; }
}

function save(tokens) {
  const session = {
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
  };
  localStorage.setItem(KEY, JSON.stringify(session));
  schedule(session);
  listeners.forEach((fn) => fn(session));
  return session;
}

function clear() {
  localStorage.removeItem(KEY);
  clearTimeout(timer);
  listeners.forEach((fn) => fn(null));
}

/** Calls `fn(session | null)` whenever tokens change. */
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function hasSession() {
  return !!load()?.refresh;
}

// Refresh a minute before the access token expires.
function schedule(session) {
  clearTimeout(timer);
  const wait = Math.max(5_000, session.expiresAt - Date.now() - 60_000);
  timer = setTimeout(() => freshAccess(true).catch(() => {}), wait);
}

async function withLock(fn) {
  if (navigator.locks) return navigator.locks.request('cc-refresh', fn);
  return fn();
}

/** A valid access token, refreshing (once across all tabs) when needed. */
export async function freshAccess(force = false) {
  const current = load();
  if (!current?.refresh) throw new ApiError(401, { error: 'unauthorized', message: 'Please sign in.' });
  if (!force && current.expiresAt - Date.now() > 30_000) return current.access;
  return withLock(async () => {
    // Another tab may have refreshed while we waited for the lock.
    const latest = load();
    if (!latest?.refresh) throw new ApiError(401, { error: 'unauthorized', message: 'Please sign in.' });
    if (latest.refresh !== current.refresh && latest.expiresAt - Date.now() > 30_000) {
      schedule(latest);
      listeners.forEach((fn) => fn(latest));
      return latest.access;
    }
    const res = await fetch(`${BASE}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: latest.refresh }),
    });
    // A server that is down or restarting has not ended the session.
    if (res.status >= 500) throw new ApiError(res.status, { error: 'network', message: 'The server is not answering right now.' });
    if (!res.ok) {
      // The server ended this session (a password change or a sign-out on
      // another device): the sign-in page says so.
      sessionStorage.setItem(REASON, 'You were signed out because your session was ended elsewhere: your password was changed or you logged out on another device. Sign in again.');
      clear();
      throw new ApiError(401, { error: 'unauthorized', message: 'Your session has ended. Please sign in again.' });
    }
    return save(await res.json()).access;
  });
}

/** JSON request; throws ApiError with the contract's error body. */
export async function api(method, path, body, { auth = true, raw = false, signal, headers = {} } = {}) {
  const send = async (token) => fetch(`${BASE}${path}`, {
    method,
    signal,
    headers: {
      ...headers,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  let res;
  try {
    res = await send(auth ? await freshAccess() : null);
    if (res.status === 401 && auth) res = await send(await freshAccess(true));
  } catch (err) {
    if (err instanceof ApiError || err.name === 'AbortError') throw err;
    throw new ApiError(0, { error: 'network', message: 'Cannot reach the server. Check your connection.' });
  }
  if (raw && res.ok) return res;
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    throw new ApiError(res.status, data, res.headers);
  }
  return res.status === 204 ? null : res.json();
}

export async function register(username, password, displayName, level) {
  const body = { username, password };
  if (displayName) body.display_name = displayName;
  if (level) body.level = level;
  const data = await api('POST', '/auth/register', body, { auth: false });
  save(data.tokens);
  return data.user;
}

export async function login(username, password) {
  save(await api('POST', '/auth/login', { username, password }, { auth: false }));
}

/** Why this tab was signed out, once (then forgotten); null when it was not. */
export function signedOutReason() {
  const reason = sessionStorage.getItem(REASON);
  sessionStorage.removeItem(REASON);
  return reason;
}

/**
 * Changes the password and signs in again with the new one, so this tab
 * stays signed in while the server ends every session (other devices must
 * sign in again). Done under the refresh lock, so no tab tries to refresh the
 * ended session meanwhile: they find the new one when they get the lock.
 */
export async function changePassword(username, currentPassword, newPassword) {
  const token = await freshAccess();
  await withLock(async () => {
    const res = await fetch(`${BASE}/me/password`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ current_password: currentPassword, new_password: newPassword }),
    });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null), res.headers);
    save(await api('POST', '/auth/login', { username, password: newPassword }, { auth: false }));
  });
}

export async function logout() {
  const session = load();
  clear();
  if (session?.refresh) {
    await api('POST', '/auth/logout', { refresh_token: session.refresh }, { auth: false }).catch(() => {});
  }
}

/** Restores the refresh timer after a reload. */
export function resume() {
  const session = load();
  if (session) schedule(session);
}

// Another tab signed out: follow it.
addEventListener('storage', (e) => {
  if (e.key === KEY && !e.newValue) listeners.forEach((fn) => fn(null));
});
