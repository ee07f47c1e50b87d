// Practising together in the browser: a group of three, a lounge whose spam
// rule mutes a repeater, and a correction by one member that reaches the
// author live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeLlm, launch, shot, startServer } from './harness.mjs';

const PASSWORD = 'correct horse battery';
let server;
let browser;
let llm;

before(async () => {
  llm = await fakeLlm();
  server = await startServer({ BOT_BASE_URL: llm.url, BOT_MODEL: 'fake' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
});

async function call(method, path, token, body) {
  const res = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function register(username) {
  const reply = await call('POST', '/auth/register', null, { username, password: PASSWORD });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return { id: reply.body.user.id, username, token: reply.body.tokens.access_token };
}

async function befriend(a, b) {
  assert.equal((await call('POST', '/friends', a.token, { username: b.username })).status, 201);
  assert.equal((await call('POST', `/friends/${a.id}/accept`, b.token, {})).status, 200);
}

/** A new browser context (its own storage) signed in as `username`. */
async function signedIn(username) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.base}/#/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

const messages = (page) => page.getByRole('list', { name: 'Messages' });

describe('practising together', () => {
  test('three friends make a group and talk in it live', async () => {
    const ann = await register('ann');
    const bob = await register('bob');
    const cat = await register('cat');
    await befriend(ann, bob);
    await befriend(ann, cat);

    const annPage = await signedIn('ann');
    await annPage.goto(`${server.base}/#/new-group`);
    await annPage.getByLabel('Group title').fill('Book club');
    // Fewer than two friends is refused in the form, before the server.
    await annPage.locator('label.pick', { hasText: '@bob' }).locator('input').check();
    await annPage.getByRole('button', { name: 'Create group' }).click();
    await annPage.getByText('Choose 2 to 49 friends.').waitFor();
    await annPage.locator('label.pick', { hasText: '@cat' }).locator('input').check();
    await annPage.getByRole('button', { name: 'Create group' }).click();
    await messages(annPage).getByText('ann created the group “Book club”').waitFor();
    assert.match(annPage.url(), /#\/chats\/[0-9a-f-]{36}$/);
    const chatId = annPage.url().split('/').pop();

    const bobPage = await signedIn('bob');
    await bobPage.getByRole('link', { name: /^Book club/ }).click();
    await bobPage.getByText('3 members').waitFor();
    await bobPage.getByLabel('Message to Book club').fill('Hello, I am Bob');
    await bobPage.getByRole('button', { name: 'Send' }).click();

    // Ann sees it at once, with who wrote it.
    const fromBob = messages(annPage).locator('li.msg', { hasText: 'Hello, I am Bob' });
    await fromBob.waitFor();
    assert.equal(await fromBob.locator('.sender').textContent(), 'bob');

    const catPage = await signedIn('cat');
    await catPage.goto(`${server.base}/#/chats/${chatId}`);
    await messages(catPage).getByText('Hello, I am Bob').waitFor();
    // Ann answers Bob's message; Bob sees it quoted. Cat reacts, and Bob sees that live too.
    await fromBob.getByRole('button', { name: 'Reply to this message' }).click();
    await annPage.getByText('Replying to bob:').waitFor();
    await annPage.getByLabel('Message to Book club').fill('Welcome, Bob!');
    await annPage.getByRole('button', { name: 'Send' }).click();
    const reply = messages(bobPage).locator('li.msg', { hasText: 'Welcome, Bob!' });
    await reply.locator('blockquote', { hasText: 'Hello, I am Bob' }).waitFor();
    // The chat list names who wrote the newest message.
    await catPage.locator('.chat-list .preview', { hasText: 'ann: Welcome, Bob!' }).waitFor();
    const bobsOnCat = messages(catPage).locator('li.msg', { hasText: 'Hello, I am Bob' }).first();
    await bobsOnCat.getByLabel('React to this message').click();
    await bobsOnCat.getByRole('button', { name: 'React with 👍' }).click();
    await messages(bobPage).locator('li.msg', { hasText: 'Hello, I am Bob' }).first()
      .getByRole('button', { name: '👍 1' }).waitFor();
    await catPage.getByRole('button', { name: 'Members' }).click();
    const panel = catPage.getByRole('region', { name: 'Members' });
    await panel.getByText('3 members').waitFor();
    await panel.getByText('· owner').waitFor();
    // The system note is drawn apart from people's messages.
    const note = messages(catPage).locator('li.msg.system');
    assert.equal(await note.count(), 1);
    await shot(catPage, 'group-three-people');

    // Cat leaves; Ann's group shows two members, and a note says so.
    catPage.on('dialog', (d) => d.accept());
    await panel.getByRole('button', { name: 'Leave group' }).click();
    await catPage.waitForURL(/#\/chats$/);
    await messages(annPage).getByText('cat left').waitFor();
    await annPage.getByText('2 members').waitFor();
    for (const p of [annPage, bobPage, catPage]) await p.context().close();
  });

  test('a lounge is joined from its list, and repeating a message mutes', async () => {
    await register('dan');
    const page = await signedIn('dan');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Lounges' }).click();
    const lounges = page.getByRole('list', { name: 'Lounges' });
    await lounges.getByText('Open lounge').waitFor();
    assert.equal(await lounges.locator('li').count(), 4);
    await lounges.locator('li', { hasText: 'Open lounge' }).getByRole('button', { name: 'Join' }).click();
    await page.getByText('public lounge').waitFor();
    const composer = page.getByLabel('Message to Open lounge');
    for (let i = 0; i < 3; i += 1) {
      await composer.fill('Buy cheap followers now');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.waitForFunction((n) => document.querySelectorAll('li.msg.mine').length === n, i + 1);
    }
    await composer.fill('Buy cheap followers now');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('You are muted in this lounge for 10 more minutes').waitFor();
    assert.equal(await page.locator('li.msg.mine').count(), 3, 'the fourth copy was not posted');
    await shot(page, 'lounge-muted');
    await page.goto(`${server.base}/#/lounges`);
    const open = page.getByRole('list', { name: 'Lounges' }).locator('li', { hasText: 'Open lounge' });
    await open.getByText('1 member · 1 online').waitFor();
    await page.context().close();
  });

  test('a correction by one member reaches the author live, who thanks them', async () => {
    const eve = await register('eve');
    const fay = await register('fay');
    await befriend(eve, fay);
    const chat = await call('POST', '/chats', eve.token, { kind: 'direct', user_id: fay.id });
    await call('POST', `/chats/${chat.body.id}/messages`, fay.token, { content: 'Yesterday I goed to the park.' });

    const fayPage = await signedIn('fay');
    await fayPage.goto(`${server.base}/#/chats/${chat.body.id}`);
    await messages(fayPage).getByText('Yesterday I goed to the park.').waitFor();

    const evePage = await signedIn('eve');
    await evePage.goto(`${server.base}/#/chats/${chat.body.id}`);
    const message = messages(evePage).locator('li.msg', { hasText: 'Yesterday I goed to the park.' });
    await message.getByRole('button', { name: 'Correct this message' }).click();
    const box = evePage.getByLabel('Your correction');
    assert.equal(await box.inputValue(), 'Yesterday I goed to the park.', 'prefilled with their words');
    // The corrector asks the tutor first, and takes its suggestion.
    await evePage.locator('.correction-form').getByRole('button', { name: 'Check', exact: true }).click();
    await evePage.getByText('The tutor suggests:').waitFor();
    await evePage.getByRole('button', { name: 'Use it' }).click();
    assert.equal(await box.inputValue(), 'Yesterday I went to the park.');
    // The change is shown before sending.
    await evePage.locator('.correction-preview del', { hasText: 'goed' }).waitFor();
    await evePage.locator('.correction-preview ins', { hasText: 'went' }).waitFor();
    await evePage.getByLabel('A note (optional)').fill('go → went');
    await evePage.getByRole('button', { name: 'Send correction' }).click();

    // Fay sees it under her message without reloading.
    const correction = messages(fayPage).getByRole('complementary', { name: 'Correction by eve' });
    await correction.waitFor();
    assert.match(await correction.textContent(), /goed\s*→\s*went/);
    await shot(fayPage, 'peer-correction');
    await correction.getByRole('button', { name: 'Thank' }).click();
    await messages(evePage).getByText('Thanked ✓').waitFor();

    // And it is in Fay's notebook.
    const notebook = await call('GET', '/me/mistakes', fay.token);
    assert.equal(notebook.body.items[0].source, 'peer');
    for (const p of [evePage, fayPage]) await p.context().close();
  });
});
