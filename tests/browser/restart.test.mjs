// A restart nobody notices, seen from the browser: two instances on one
// database behind a proxy; the one the page is connected to stops (SIGTERM),
// closes the socket with 1012, and the app reconnects at once (no backoff),
// through the proxy, to the other one, and carries on.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { apiAs, freePort, friendsInChat, launch, signUp, startServer } from './harness.mjs';

let one;
let two;
let proxy;
let target;
let browser;

before(async () => {
  one = await startServer();
  two = await startServer({}, { dir: one.dir });
  target = one.port;
  // A TCP proxy, as a load balancer is: each new connection goes to `target`.
  proxy = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    const end = () => { client.destroy(); upstream.destroy(); };
    client.pipe(upstream).pipe(client);
    for (const side of [client, upstream]) { side.on('error', end); side.on('close', end); }
  });
  const port = await freePort();
  await new Promise((r) => proxy.listen(port, '127.0.0.1', r));
  proxy.base = `http://127.0.0.1:${port}`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (proxy ? proxy.close(r) : r()));
  await two?.stop();
  await one?.stop();
});

describe('restarts', () => {
  test('a socket closed with 1012 is opened again at once, elsewhere, and the chat goes on', async () => {
    const ann = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    // Every socket the page opens, and how the server closed it.
    const sockets = [];
    await ann.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      const socket = { opened: Date.now() };
      sockets.push(socket);
      const server = ws.connectToServer();
      server.onClose((code, reason) => {
        Object.assign(socket, { code, closed: Date.now() });
        ws.close({ code, reason });
      });
    });
    await signUp(ann, proxy.base, 'restart_ann');
    await signUp(bob, proxy.base, 'restart_bob');
    const chat = await friendsInChat(ann, bob, 'restart_bob');
    await ann.goto(`${proxy.base}/#/chats/${chat.id}`);
    await ann.waitForFunction(() => !document.getElementById('conn')?.textContent);
    await apiAs(bob, 'POST', `/chats/${chat.id}/messages`, { content: 'Before the restart' });
    await ann.locator('.messages').getByText('Before the restart').waitFor();
    const open = sockets.length;

    // The upgrade: new connections go to the second instance, the first stops.
    target = two.port;
    await one.down();
    for (let i = 0; i < 50 && sockets.length === open; i += 1) await ann.waitForTimeout(100);
    assert.equal(sockets[open - 1].code, 1012, 'the stopping instance closed the socket with 1012');
    assert.ok(sockets.length > open, 'the app opened a new socket');
    const gap = sockets[open].opened - sockets[open - 1].closed;
    // The backoff after any other close is at least 700 ms.
    assert.ok(gap < 500, `the new socket was opened ${gap} ms after the close`);

    // Live again, through the other instance.
    await apiAs(bob, 'POST', `/chats/${chat.id}/messages`, { content: 'After the restart' });
    await ann.locator('.messages').getByText('After the restart').waitFor();
    await ann.waitForFunction(() => !document.getElementById('conn')?.textContent);
    assert.equal(await ann.locator('.messages').getByText('Before the restart').count(), 1);
  });
});
