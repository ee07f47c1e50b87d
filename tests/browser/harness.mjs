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
