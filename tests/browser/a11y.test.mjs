// Accessibility: axe-core on every main screen, light and dark, at desktop and
// phone width; no serious or critical violations.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { fakeLlm, launch, shots, signUp, startServer } from './harness.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let llm;
let server;
let browser;

before(async () => {
  llm = await fakeLlm();
  llm.delayMs = 1;
  server = await startServer({ BOT_BASE_URL: llm.url, BOT_MODEL: 'fake' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
});

/** Serious and critical violations on the page as it is now, as readable lines. */
async function audit(page) {
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  return violations;
}

describe('accessibility', () => {
  test('every main screen passes axe-core in light and dark', async () => {
    // axe-core is injected as an inline script, which the app's policy (rightly) refuses.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const friend = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${server.base}/#/signup`);
    // Signed-out screens are named by a hash starting with '!'.
    const screens = [['sign-up', '!#/signup'], ['password reset', '!#/reset/a-token'], ['log in and forgot password', '!#/login']];
    await signUp(friend, server.base, 'axe_friend');
    await signUp(page, server.base, 'axe_user');
    // Content on every screen: a friend, a direct chat, a practice chat with feedback.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Friends/ }).click();
    await page.getByLabel('Search by username or display name').fill('axe_friend');
    await page.getByRole('button', { name: 'Add friend' }).click();
    await friend.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Friends/ }).click();
    await friend.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('list', { name: 'Friends' }).getByRole('button', { name: 'Message' }).click();
    await page.getByLabel('Message to axe_friend').fill('Hello there! See https://example.org');
    await page.keyboard.press('Enter');
    await page.locator('.msg.mine .bubble').waitFor();
    const direct = await page.evaluate(() => location.hash);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Practice/ }).click();
    await page.getByLabel('Ordering at a restaurant').check();
    await page.getByRole('button', { name: 'Start practising' }).click();
    await page.getByLabel('Message to the bot').fill('Yesterday I goed to a restaurant.');
    await page.keyboard.press('Enter');
    await page.locator('.msg.mine .feedback').waitFor();
    const practiceChat = await page.evaluate(() => location.hash);
    screens.push(['chat list', '#/chats'], ['direct chat', direct], ['practice chat', practiceChat],
      ['friends', '#/friends'], ['practice', '#/practice'], ['progress', '#/progress'], ['review', '#/review'], ['profile', '#/profile'],
      ['lounges', '#/lounges'], ['new group', '#/new-group']);

    const failures = [];
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      for (const theme of ['light', 'dark']) {
        for (const [name, hash] of screens) {
          if (hash.startsWith('!')) {
            const fresh = await browser.newPage({ viewport: { width, height: 800 }, bypassCSP: true });
            await fresh.goto(`${server.base}/${hash.slice(1)}`);
            await fresh.evaluate((t) => { document.documentElement.dataset.theme = t; }, theme);
            await fresh.locator('form button[type="submit"]').first().waitFor();
            if (hash === '!#/login') {
              await fresh.getByRole('button', { name: 'Forgot password?' }).click();
              await fresh.getByLabel('Username or e-mail').waitFor();
            }
            for (const v of await audit(fresh)) failures.push(`${name} ${theme} ${width}px: ${v}`);
            await fresh.close();
            continue;
          }
          await page.evaluate((h) => { location.hash = h; }, hash);
          await page.evaluate((t) => { document.documentElement.dataset.theme = t; }, theme);
          await page.locator('main').waitFor();
          await page.waitForLoadState('networkidle');
          await page.waitForTimeout(150);
          for (const v of await audit(page)) failures.push(`${name} ${theme} ${width}px: ${v}`);
          const overflow = await page.evaluate(() => [document.documentElement, ...document.querySelectorAll('main, .conversation, .messages')]
            .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.className || el.tagName));
          if (overflow.length) failures.push(`${name} ${theme} ${width}px: wider than the screen: ${overflow.join(', ')}`);
          // While the live connection is down the header says so; it must still fit.
          const reconnecting = await page.evaluate(() => {
            const conn = document.getElementById('conn');
            const before = conn.textContent;
            conn.textContent = 'Reconnecting…';
            conn.classList.add('down');
            const wide = document.documentElement.scrollWidth > document.documentElement.clientWidth + 1;
            const cut = [...document.querySelectorAll('header.top button')].some((b) => b.getBoundingClientRect().right > innerWidth + 1);
            conn.textContent = before;
            conn.classList.remove('down');
            return wide || cut;
          });
          if (reconnecting) failures.push(`${name} ${theme} ${width}px: the header overflows while reconnecting`);
          await page.screenshot({ path: join(shots, `screen-${name.replace(' ', '-')}-${theme}-${width}.png`) });
        }
      }
    }
    assert.deepEqual(failures, []);
    // Native controls follow the theme: the level picker is not a white box in dark mode.
    await page.evaluate((h) => { location.hash = h; document.documentElement.dataset.theme = 'dark'; }, practiceChat);
    const picker = page.getByLabel('Level of English for this chat');
    await picker.waitFor();
    assert.notEqual(await picker.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(255, 255, 255)');
  });
});
