// How the browser app handles the server's WebSocket signals: `resync` (the
// server may have missed events: reload what is on screen) and close code 4008
// (the account has too many sockets open: say so instead of retrying hard).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch, signUp, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ WS_MAX_PER_USER: '1' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('live updates', () => {
  test('a resync event makes the open view reload from the API', async () => {
    const page = await browser.newPage();
    let socket;
    await page.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      ws.connectToServer();
      socket = ws;
    });
    const chatLists = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/api/v1/chats') chatLists.push(r.url()); });
    await signUp(page, server.base, 'resyncer');
    await page.goto(`${server.base}/#/chats`);
    await page.waitForFunction(() => !document.getElementById('conn')?.textContent);
    for (let i = 0; i < 50 && !socket; i += 1) await page.waitForTimeout(100);
    assert.ok(socket, 'the app opened its socket');
    const before = chatLists.length;
    socket.send(JSON.stringify({ type: 'resync' }));
    for (let i = 0; i < 50 && chatLists.length === before; i += 1) await page.waitForTimeout(100);
    assert.ok(chatLists.length > before, 'the chat list was fetched again');
    await page.close();
  });

  test('a tab over the account\'s socket limit says live updates are paused', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await signUp(first, server.base, 'tabhoarder');
    await first.waitForFunction(() => !document.getElementById('conn')?.textContent);
    // Same session in a second tab: the server refuses its socket with 4008.
    const second = await context.newPage();
    await second.goto(`${server.base}/#/chats`);
    await second.getByRole('status').getByText('Live updates paused: too many tabs are open').waitFor();
    assert.equal(await first.locator('#conn').textContent(), '', 'the first tab stays live');
    await context.close();
  });
});
