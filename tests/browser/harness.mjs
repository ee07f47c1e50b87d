// Starts what a browser test needs: the fake LLM and the real server (from
// ../support/server.mjs) and headless Chromium (Debian's package, driven by
// playwright-core).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export { fakeLlm, freePort, startServer } from '../support/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export async function signUp(page, base, username, password = 'correct horse battery') {
  await page.goto(`${base}/#/signup`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Calls the API from `page`, with that page's own session; the JSON answer (null for 204). */
export const apiAs = (page, method, path, body) => page.evaluate(async ([m, p, b]) => {
  const { access } = JSON.parse(localStorage.getItem('cc.session'));
  const res = await fetch(`/api/v1${p}`, {
    method: m, headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json' },
    body: b ? JSON.stringify(b) : undefined,
  });
  return res.status === 204 ? null : res.json();
}, [method, path, body]);

/** Makes the users signed in on pages `a` and `b` friends (`b` is `bName`); their direct chat. */
export async function friendsInChat(a, b, bName) {
  const bMe = await apiAs(b, 'GET', '/me');
  await apiAs(a, 'POST', '/friends', { username: bName });
  const aMe = await apiAs(a, 'GET', '/me');
  await apiAs(b, 'POST', `/friends/${aMe.id}/accept`, {});
  return apiAs(a, 'POST', '/chats', { kind: 'direct', user_id: bMe.id });
}

/** A main-navigation link; its name may go on with its badge ("Chats 2 unread"). */
export const nav = (page, name) => page.getByRole('navigation', { name: 'Main' })
  .getByRole('link', { name: new RegExp(`^${name}(\\s|$)`) });

/** Saves a screenshot under tests/browser/screenshots/. */
export const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });

/**
 * Records every Content Security Policy violation on the page (the browser's
 * `securitypolicyviolation` events and its console reports); read `.list`.
 */
export async function watchPolicy(page) {
  const seen = { list: [] };
  await page.exposeFunction('__policyViolation', (what) => seen.list.push(what));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__policyViolation(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) seen.list.push(msg.text());
  });
  return seen;
}
