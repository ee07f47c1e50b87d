// The browser app, end to end, in headless Chromium against the real server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fakeLlm, freePort, launch, nav, shot, signUp, startServer, watchPolicy } from './harness.mjs';

let llm;
let server;
let browser;

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


describe('ChattConnect in the browser', () => {
  test('sign-up validates inline with the contract limits', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.base}/#/signup`);
    await page.getByLabel('Username').fill('ab');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Use 3 to 32 characters.').waitFor();
    await page.getByText('Use 8 to 128 characters.').first().waitFor();
    await page.getByLabel('Username').fill('bad name!');
    await page.getByText('Use only letters, digits').waitFor();
    await shot(page, '01-signup-validation');
    // Sign-up asks for the level, and the profile names it as Practice does.
    assert.equal(await page.locator('#signup-level option:checked').textContent(), 'B1 — Intermediate');
    await page.getByLabel('Your level of English').selectOption('A2');
    await page.getByLabel('Username').fill('level_w');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await nav(page, 'Profile').click();
    assert.equal(await page.locator('#profile-level option:checked').textContent(), 'A2 — Elementary');
    await page.close();
  });

  test('Swagger UI works under its own strict policy', async () => {
    const page = await browser.newPage();
    const policy = await watchPolicy(page);
    await page.goto(`${server.base}/docs`);
    await page.locator('.opblock').first().waitFor();
    assert.ok(await page.locator('.opblock').count() > 20, 'every operation is listed');
    await page.locator('.opblock-summary', { hasText: '/api/v1/auth/login' }).first().click();
    await page.getByRole('button', { name: 'Try it out' }).first().waitFor();
    await shot(page, '00-swagger-ui');
    assert.deepEqual(policy.list, []);
    await page.close();
  });

  test('two people sign up, become friends and chat in real time', async () => {
    const alice = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const policy = [await watchPolicy(alice), await watchPolicy(bob)];
    await signUp(alice, server.base, 'alice_w');
    await signUp(bob, server.base, 'bob_w');
    await shot(alice, '02-chats-empty');
    // The first screen reads as a sentence with two links, not one word a line.
    const empty = alice.locator('.chat-list .empty-state');
    assert.equal(await empty.locator('a').first().evaluate((a) => getComputedStyle(a).display), 'inline');
    assert.ok((await empty.boundingBox()).height < 120, 'the empty chat list is a line or two high');

    // Alice finds Bob and sends a request.
    await nav(alice, 'Friends').click();
    await alice.getByLabel('Search by username or display name').fill('bob');
    await alice.getByRole('button', { name: 'Add friend' }).click();
    await alice.getByText('Request sent').first().waitFor();

    // Bob sees it live and accepts.
    await nav(bob, 'Friends').click();
    await bob.getByRole('button', { name: 'Accept' }).click();
    await bob.getByRole('list', { name: 'Friends' }).getByText('alice_w').first().waitFor();
    // Alice is told at once that her request was accepted.
    await alice.getByText('You and bob_w are now friends').waitFor();
    await shot(bob, '03-friends-phone');
    // On a phone the quota badge is short but still says what it counts.
    assert.match(await bob.locator('#quota .short').textContent(), /^\d+ of \d+ left$/);

    // Alice sees Bob online and opens a chat.
    await alice.getByRole('list', { name: 'Friends' }).getByText('online').waitFor();
    await shot(alice, '04-friends');
    await alice.getByRole('list', { name: 'Friends' }).getByRole('button', { name: 'Message' }).click();
    await alice.getByLabel('Message to bob_w').fill('Hello Bob! How was your weekend?');
    await alice.keyboard.press('Enter');
    await alice.locator('.msg.mine .bubble', { hasText: 'Hello Bob!' }).waitFor();

    // Bob's chat list updates live with an unread badge; he opens the chat.
    await nav(bob, 'Chats').click();
    const item = bob.getByRole('link', { name: /alice_w\s*, 1 unread/ });
    await item.waitFor();
    await shot(bob, '05-chat-list-phone');
    await item.click();
    await bob.locator('.bubble', { hasText: 'Hello Bob!' }).waitFor();

    // Alice sees that Bob read it, then sees him typing, then his reply.
    await alice.getByText('Seen').waitFor();
    await bob.getByLabel('Message to alice_w').pressSequentially('It was gr');
    await alice.getByText('bob_w is typing…').waitFor();
    await bob.getByLabel('Message to alice_w').pressSequentially('eat, thanks!');
    await bob.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.bubble', { hasText: 'It was great, thanks!' }).waitFor();
    await shot(alice, '06-direct-chat');
    await shot(bob, '07-direct-chat-phone');
    // On a phone the composer keeps the whole width (its placeholder is not clipped).
    const box = await bob.getByLabel('Message to alice_w').boundingBox();
    assert.ok(box.width > 300, `composer width ${box.width}`);

    // Alice edits her message; Bob sees the change.
    await alice.locator('.msg.mine').first().hover();
    await alice.getByRole('button', { name: 'Edit message' }).first().click();
    // The edit box is as wide as a message can be, not a narrow strip.
    const editBox = await alice.getByLabel('Edit your message').boundingBox();
    assert.ok(editBox.width > 400, `edit box width ${editBox.width}`);
    await alice.getByLabel('Edit your message').fill('Hello Bob! How was your long weekend?');
    await alice.getByRole('button', { name: 'Save' }).click();
    await bob.locator('.bubble', { hasText: 'How was your long weekend?' }).waitFor();
    await alice.context().close();
    await bob.context().close();
  });

  test('a learner practises with the bot: streamed reply, feedback, then the daily limit', async () => {
    const page = await browser.newPage();
    await signUp(page, server.base, 'learner_w');
    await page.getByText('5 of 5 practice messages left today').waitFor();
    await nav(page, 'Practice').click();
    await page.getByLabel('Job interview').check();
    await page.getByLabel('Your level of English').selectOption('B2');
    await shot(page, '08-practice');
    await page.getByRole('button', { name: 'Start practising' }).click();
    await page.locator('.messages').getByText('Could you start by telling me a little about yourself?').waitFor();

    llm.delayMs = 60;
    await page.getByLabel('Message to the bot').fill('Yesterday I goed to my office early.');
    await page.keyboard.press('Enter');
    // The reply streams in: part of it is visible before it is complete.
    const streaming = page.locator('.msg.streaming .bubble');
    await streaming.waitFor();
    await page.waitForFunction(() => (document.querySelector('.msg.streaming .bubble')?.textContent || '').length > 5);
    const partial = await streaming.textContent();
    assert.ok(partial.length < 'That sounds interesting! Tell me more about your day at work.'.length, `partial: ${partial}`);
    await shot(page, '09-bot-streaming');
    await page.locator('.msg.bot .bubble', { hasText: 'Tell me more about your day at work.' }).waitFor();
    // Feedback sits under the learner's message.
    const feedback = page.locator('.msg.mine .feedback');
    await feedback.getByText('went', { exact: true }).waitFor();
    assert.match(await feedback.textContent(), /goed.*went.*grammar.*irregular.*Better: Yesterday I went to my office early\./s);
    await page.getByText('4 of 5 practice messages left today').waitFor();
    await shot(page, '10-bot-feedback');

    llm.delayMs = 1;
    for (let i = 2; i <= 5; i += 1) {
      await page.getByLabel('Message to the bot').fill(`Answer number ${i}.`);
      await page.keyboard.press('Enter');
      await page.getByText(`${5 - i} of 5 practice messages left today`).waitFor();
    }
    const calls = llm.calls;
    await page.getByLabel('Message to the bot').fill('One more question?');
    await page.keyboard.press('Enter');
    await page.getByText("You've used all 5 practice messages for today").waitFor();
    assert.equal(llm.calls, calls, 'the sixth message never reached the model');
    assert.ok(await page.getByRole('button', { name: 'Send' }).isDisabled());
    await shot(page, '11-bot-quota-used');
    await page.close();
  });

  test('Listen and Speak say what went wrong and what to do', async () => {
    const context = await browser.newContext();
    // A machine with no English voice and a blocked microphone.
    await context.addInitScript(() => {
      window.speechSynthesis.speak = (u) => setTimeout(() => u.onerror?.({ error: 'synthesis-failed' }), 10);
      window.webkitSpeechRecognition = class {
        start() { setTimeout(() => { this.onerror?.({ error: 'not-allowed' }); this.onend?.(); }, 10); }
        stop() {}
      };
    });
    const page = await context.newPage();
    await signUp(page, server.base, 'speech_w');
    await nav(page, 'Practice').click();
    await page.getByRole('button', { name: 'Start practising' }).click();
    await page.locator('.msg.bot .bubble').first().waitFor();
    await page.getByRole('button', { name: 'Listen' }).first().click();
    await page.getByText('Your browser has no English voice to read this aloud. Install one').waitFor();
    await page.getByRole('button', { name: 'Speak' }).click();
    await page.getByText('The microphone is blocked. Allow it for this site').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Speak' }).getAttribute('aria-pressed'), 'false');
    await shot(page, '11b-speech-problems');
    await context.close();
  });

  test('a reload keeps the session and logging out ends it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signUp(page, server.base, 'reloader_w');
    await nav(page, 'Profile').click();
    await page.getByLabel('Display name').fill('Reloader');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Profile saved').waitFor();
    await page.getByLabel('Theme', { exact: true }).selectOption('dark');
    assert.equal(await page.locator('#theme-toggle').textContent(), '☀︎');
    await shot(page, '12-profile-dark');

    await page.reload();
    await page.getByRole('heading', { name: '@reloader_w' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'the theme survives a reload');
    assert.equal(await page.getByLabel('Display name').inputValue(), 'Reloader');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).last().waitFor();
    await shot(page, '13-logged-out');
    await page.reload();
    await page.getByRole('tab', { name: 'Log in' }).waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    // The server no longer honours the old session either.
    const stored = await page.evaluate(() => localStorage.getItem('cc.session'));
    assert.equal(stored, null);
    await context.close();
  });

  test('changing the password keeps this tab signed in and tells other devices why they were signed out', async () => {
    const here = await (await browser.newContext()).newPage();
    await signUp(here, server.base, 'passwd_w');
    const device = await (await browser.newContext()).newPage();
    await device.goto(`${server.base}/#/login`);
    await device.getByLabel('Username').fill('passwd_w');
    await device.getByLabel('Password').fill('correct horse battery');
    await device.getByRole('button', { name: 'Log in' }).click();
    await nav(device, 'Chats').waitFor();

    await nav(here, 'Profile').click();
    await here.getByLabel('Current password').fill('correct horse battery');
    await here.getByLabel('New password', { exact: true }).fill('a brand new secret');
    await here.getByLabel('Repeat the new password').fill('a brand new secret');
    await here.getByRole('button', { name: 'Change password' }).click();
    await here.getByText('Password changed. You are still signed in here').waitFor();
    // This tab goes on working with the new session, live updates included.
    await nav(here, 'Chats').click();
    await here.locator('main').waitFor();
    await here.waitForTimeout(1500);
    assert.ok(await nav(here, 'Chats').isVisible(), 'still signed in');
    assert.equal(await here.getByRole('button', { name: 'Log in' }).count(), 0);
    assert.notEqual(await here.locator('#conn').textContent(), 'Reconnecting…');

    // The other device lands on the sign-in page and is told why.
    await device.getByText('You were signed out because your session was ended elsewhere').waitFor({ timeout: 15_000 });
    await shot(device, '12b-signed-out-elsewhere');
    await device.getByLabel('Username').fill('passwd_w');
    await device.getByLabel('Password').fill('a brand new secret');
    await device.getByRole('button', { name: 'Log in' }).click();
    await nav(device, 'Chats').waitFor();
    await here.context().close();
    await device.context().close();
  });

  test('a forgotten password: the login page says how, and a reset link sets a new one', async () => {
    const page = await (await browser.newContext()).newPage();
    await signUp(page, server.base, 'forgetful');
    await page.getByRole('button', { name: /Log out/ }).click();
    await page.getByRole('button', { name: 'Forgot password?' }).click();
    // This server sends no e-mail: the form says who can make a link.
    await page.getByLabel('Username or e-mail').fill('forgetful');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByText('chattconnect admin reset-link YOUR_USERNAME').waitFor();
    const link = server.cli(['admin', 'reset-link', 'forgetful']).trim();
    assert.ok(link.startsWith(`${server.base}/#/reset/`), link);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('New password').fill('short');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Use 8 to 128 characters.').waitFor();
    await page.getByLabel('New password').fill('a fresh start 123');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your password was changed and you were signed out everywhere').waitFor();
    await shot(page, '12c-password-reset');
    await page.getByLabel('Username').fill('forgetful');
    await page.getByLabel('Password').fill('a fresh start 123');
    await page.getByRole('button', { name: 'Log in' }).click();
    await nav(page, 'Chats').waitFor();
    // The link works once.
    await page.getByRole('button', { name: /Log out/ }).click();
    await page.goto(link);
    await page.getByLabel('New password').fill('another secret 456');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('This link does not work any more').waitFor();
    await page.context().close();
  });

  test('with e-mail: an address is confirmed from the profile, and a forgotten password is mailed', async () => {
    // A real SMTP server (aiosmtpd from PyPI) that prints what it receives.
    const smtpPort = await freePort();
    const smtp = spawn('python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let mail = '';
    smtp.stdout.on('data', (d) => { mail += d.toString(); });
    const mailed = async (path, n = 0) => {
      for (let i = 0; i < 100; i += 1) {
        const text = mail.replaceAll('=\n', '').replaceAll('=3D', '=');
        const after = text.split(path)[n + 1];
        if (after) return path + after.match(/^[A-Za-z0-9_-]+/)[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no mail with ${path}: ${mail}`);
    };
    await new Promise((r) => setTimeout(r, 800));
    const mailing = await startServer({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
    const page = await (await browser.newContext()).newPage();
    try {
      await signUp(page, mailing.base, 'mailed_w');
      await nav(page, 'Profile').click();
      await page.getByLabel('E-mail (for password resets)').fill('mailed@example.com');
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.getByText('Not confirmed yet: open the link we sent to it.').waitFor();
      await page.goto(await mailed(`${mailing.base}/#/confirm-email/`));
      await page.getByText('Your e-mail address is confirmed.').waitFor();
      await page.getByText('Confirmed.', { exact: true }).waitFor();

      await page.getByRole('button', { name: /Log out/ }).click();
      await page.getByRole('button', { name: 'Forgot password?' }).click();
      await page.getByLabel('Username or e-mail').fill('mailed@example.com');
      await page.getByRole('button', { name: 'Send me a link' }).click();
      await page.getByText('If that account has a confirmed e-mail address, a link').waitFor();
      await page.goto(await mailed(`${mailing.base}/#/reset/`));
      await page.getByLabel('New password').fill('a mailed fresh start');
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.getByText('Your password was changed').waitFor();
      await page.getByLabel('Username').fill('mailed_w');
      await page.getByLabel('Password').fill('a mailed fresh start');
      await page.getByRole('button', { name: 'Log in' }).click();
      await nav(page, 'Chats').waitFor();
    } finally {
      await page.context().close();
      await mailing.stop();
      smtp.kill();
    }
  });

  test('no bot configured: a friendly message, not an error dump', async () => {
    const plain = await startServer();
    const page = await browser.newPage();
    await signUp(page, plain.base, 'nobot_w');
    await nav(page, 'Practice').click();
    await page.getByRole('button', { name: 'Start practising' }).click();
    await page.getByLabel('Message to the bot').fill('Hello?');
    await page.keyboard.press('Enter');
    await page.getByText('Practice with the bot is not set up on this server yet').waitFor();
    await shot(page, '14-no-bot');
    await page.close();
    await plain.stop();
  });
});
