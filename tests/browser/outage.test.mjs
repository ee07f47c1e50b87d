// An outage seen from the browser: a view opened while the server is down says
// so and offers to try again, and loads by itself once the server is back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { apiAs, friendsInChat, launch, shots, signUp, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('outages', () => {
  test('a chat opened during an outage shows a retry state and recovers by itself', async () => {
    const page = await browser.newPage();
    await signUp(page, server.base, 'outage_ann');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Practice/ }).click();
    await page.getByLabel('Free talk').check();
    await page.getByRole('button', { name: 'Start practising' }).click();
    await page.locator('.messages').getByText('Hi! What would you like to talk about today?').waitFor();
    const chat = await page.evaluate(() => location.hash);
    await page.evaluate(() => { location.hash = '#/profile'; });
    await page.getByRole('heading', { name: 'Profile' }).waitFor();

    await server.down();
    await page.evaluate((hash) => { location.hash = hash; }, chat);
    const alert = page.getByRole('alert').filter({ hasText: "Can't reach ChattConnect right now" });
    await alert.waitFor();
    await alert.getByRole('button', { name: 'Try again' }).waitFor();
    await page.screenshot({ path: join(shots, '23-outage.png') });
    await alert.getByRole('button', { name: 'Try again' }).click();
    await alert.waitFor();

    await server.up();
    // No click: the page notices the server is back.
    await page.locator('.messages').getByText('Hi! What would you like to talk about today?').waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { name: 'Free talk' }).waitFor();
    await page.waitForFunction(() => !document.getElementById('conn')?.textContent, null, { timeout: 20_000 });
    await page.close();
  });

  test('during an outage a friend is not shown online, and a message that failed is sent once when it is back', async () => {
    const ann = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    await signUp(ann, server.base, 'drop_ann');
    await signUp(bob, server.base, 'drop_bob');
    // Friends through the API, with each page's own session.
    const chat = await friendsInChat(ann, bob, 'drop_bob');
    await ann.goto(`${server.base}/#/chats/${chat.id}`);
    await ann.locator('.conversation .sub', { hasText: 'Online' }).waitFor();

    await server.down();
    await ann.locator('#conn', { hasText: 'Reconnecting' }).waitFor({ timeout: 20_000 });
    assert.equal(await ann.locator('.conversation .sub').textContent(), '', 'not "Online" while we cannot know');
    assert.equal(await ann.locator('.chat-list .avatar .dot').count(), 0);
    await ann.getByLabel('Message to drop_bob').fill('Are you there?');
    await ann.keyboard.press('Enter');
    await ann.getByText('It will be sent when the connection is back').waitFor();

    await server.up();
    await ann.locator('.msg.mine', { hasText: 'Are you there?' }).waitFor({ timeout: 30_000 });
    await ann.waitForFunction(() => !document.querySelector('.notice'), null, { timeout: 10_000 });
    const history = await apiAs(bob, 'GET', `/chats/${chat.id}/messages`);
    assert.deepEqual(history.items.map((m) => m.content), ['Are you there?'], 'sent exactly once');
    await ann.context().close();
    await bob.context().close();
  });
});
