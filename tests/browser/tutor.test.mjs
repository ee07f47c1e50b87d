// The tutor in the browser: feedback states, goals and the end-of-practice
// review, check before sending in a friend chat, reading aloud and dictation
// (the browser's speech APIs stubbed), and the Progress screen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fakeLlm, launch, nav, shot, signUp, startServer, watchPolicy } from './harness.mjs';

let llm;
let server;
let browser;

before(async () => {
  llm = await fakeLlm();
  llm.delayMs = 1;
  server = await startServer({ BOT_BASE_URL: llm.url, BOT_MODEL: 'fake', BOT_DAILY_LIMIT: '20' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
});


/** Stand-ins for the browser's speech synthesis and recognition, recording what they are asked. */
function stubSpeech() {
  window.spoken = [];
  const synth = { speak: (u) => window.spoken.push(u.text), cancel() {}, getVoices: () => [], addEventListener() {} };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
  window.SpeechRecognition = class {
    start() { setTimeout(() => { this.onresult({ results: [[{ transcript: 'I would like the soup' }]] }); this.onend(); }, 50); }
    stop() { this.onend(); }
  };
}

async function practice(page, scenario) {
  await nav(page, 'Practice').click();
  await page.getByLabel(scenario).check();
  await page.getByRole('button', { name: 'Start practising' }).click();
}

/** Sends `text` and waits for the bot's finished reply after it (not just any new bot message). */
async function say(page, text) {
  await page.getByLabel('Message to the bot').fill(text);
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => {
    const msgs = [...document.querySelectorAll('.msg')];
    const mine = msgs.findLastIndex((m) => !m.classList.contains('bot') && m.textContent.includes(t));
    return mine >= 0 && !document.querySelector('.msg.streaming')
      && msgs.slice(mine + 1).some((m) => m.classList.contains('bot'));
  }, text);
}

describe('the tutor in the browser', () => {
  test('feedback shows corrected, looks good and not checked; goals and the review', async () => {
    const page = await browser.newPage();
    const policy = await watchPolicy(page);
    await page.addInitScript(stubSpeech);
    await signUp(page, server.base, 'tutee');
    await practice(page, 'Ordering at a restaurant');
    const goals = page.getByRole('list', { name: 'Goals for this practice' });
    await goals.getByText('Ask for the bill').waitFor();
    // The greeting sits under "Today" with its time, and the chat list previews it.
    assert.equal(await page.locator('.messages > li').first().textContent(), 'Today');
    await page.locator('.msg.bot').first().locator('time').waitFor();
    assert.match(await page.locator('.chat-list').textContent(), /Bot: .+/);
    assert.equal(await page.locator('.conv-head .sub').textContent(), 'Practice · level B1', 'the title is not repeated');

    await say(page, 'Yesterday I goed to a restaurant.');
    const first = page.locator('.msg.mine').nth(0).locator('.feedback');
    await first.getByText('1 correction').waitFor();
    assert.match(await first.textContent(), /goed.*went.*grammar.*Better: Yesterday I went to a restaurant\./s);

    await say(page, 'I would like the chicken.');
    await page.locator('.msg.mine').nth(1).locator('.feedback', { hasText: 'Looks good!' }).waitFor();
    // Goals tick as they are reached, with no review asked for.
    await goals.locator('.reached', { hasText: 'Order a main course' }).waitFor();

    const check = llm.check;
    llm.check = () => 'Sorry, I cannot help with that request today.';
    await say(page, 'Can I have some water?');
    await page.locator('.msg.mine').nth(2).locator('.feedback', { hasText: 'Not checked' }).waitFor();
    llm.check = check;
    await shot(page, '15-feedback-states');

    // Reading a reply aloud goes through the browser's speech synthesis.
    await page.locator('.msg.bot').last().getByRole('button', { name: 'Listen' }).click();
    assert.deepEqual(await page.evaluate(() => window.spoken), ['That sounds interesting! Tell me more about your day at work.']);
    // Dictation fills the draft.
    await page.getByRole('button', { name: 'Speak' }).click();
    await page.waitForFunction(() => document.querySelector('#composer').value === 'I would like the soup');

    await page.getByRole('button', { name: 'Finish & review' }).click();
    const review = page.getByRole('region', { name: 'Practice review' });
    // The review itself is free; the tutor's words are asked for, and say what they cost.
    await review.getByText(/^You wrote 3 messages/).waitFor();
    const cost = await review.locator('.ask-tutor .muted').textContent();
    const left = Number(cost.match(/Uses 1 of your (\d+) practice messages? left today\./)?.[1]);
    assert.ok(left > 0, cost);
    await review.getByRole('button', { name: 'Ask the tutor for feedback' }).click();
    await review.getByText('You ordered politely and answered every question.').waitFor();
    await page.getByText(new RegExp(`^${left - 1} of \\d+ practice messages left today`)).waitFor();
    assert.equal(await review.getByRole('button', { name: 'Ask the tutor for feedback' }).count(), 0);
    assert.match(await review.textContent(), /Could I have the bill, please\?/);
    assert.match(await review.textContent(), /goed.*went/s);
    // Drink and main course reached, the bill not yet.
    await goals.locator('.reached', { hasText: 'Order a drink' }).waitFor();
    await goals.locator('.reached', { hasText: 'Order a main course' }).waitFor();
    assert.equal(await goals.locator('.reached', { hasText: 'Ask for the bill' }).count(), 0);
    await shot(page, '16-practice-review');
    // A goal reached after the review ticks too, and every tick stays after a reload.
    await say(page, 'Can you bring me the bill please?');
    await goals.locator('.reached', { hasText: 'Ask for the bill' }).waitFor();
    await page.reload();
    const again = page.getByRole('list', { name: 'Goals for this practice' });
    await again.locator('.reached', { hasText: 'Ask for the bill' }).waitFor();
    await again.locator('.reached', { hasText: 'Order a main course' }).waitFor();
    // The review opens again, the tutor's words included, for free (the API
    // tests hold it to that with no practice left).
    const before = await page.locator('#quota').textContent();
    await page.getByRole('button', { name: 'Finish & review' }).click();
    const reopened = page.getByRole('region', { name: 'Practice review' });
    await reopened.getByText('You ordered politely and answered every question.').waitFor();
    assert.equal(await page.locator('#quota').textContent(), before, 'nothing was used');
    await shot(page, '16b-review-reopened');
    // Practice, feedback in every state and the review ran under the app's policy.
    assert.deepEqual(policy.list, []);
    await page.close();
  });

  test('check before sending in a friend chat offers the correction with one click', async () => {
    const context = await browser.newContext();
    const alice = await context.newPage();
    const bobContext = await browser.newContext();
    const bob = await bobContext.newPage();
    await signUp(alice, server.base, 'checker_a');
    await signUp(bob, server.base, 'checker_b');
    await nav(alice, 'Friends').click();
    await alice.getByLabel('Search by username or display name').fill('checker_b');
    await alice.getByRole('button', { name: 'Add friend' }).click();
    await alice.getByText('Request sent').first().waitFor();
    await nav(bob, 'Friends').click();
    await bob.getByRole('button', { name: 'Accept' }).click();
    await alice.getByRole('list', { name: 'Friends' }).getByRole('button', { name: 'Message' }).click();

    const check = llm.check;
    llm.check = (text) => ({ corrected: text.replace("don't", "doesn't") });
    const composer = alice.getByLabel('Message to checker_b');
    await composer.fill("She don't like apples.");
    // A failed check says the tutor could not check the draft; Retry checks
    // again and never sends the draft to the friend.
    llm.failChecks = 1;
    const checksBefore = llm.checked.length;
    await alice.getByRole('button', { name: 'Check' }).click();
    const notice = alice.locator('.notice');
    await notice.getByText("The tutor couldn't check your draft this time. It didn't count.").waitFor();
    await notice.getByRole('button', { name: 'Retry' }).click();
    const panel = alice.locator('.check-panel');
    // The finished check, not the "Checking…" placeholder (also a `.feedback`).
    await panel.locator('.feedback:not([aria-busy])').waitFor();
    // (Counted by text: a check another test left running may land meanwhile.)
    const ofDraft = llm.checked.slice(checksBefore).filter((t) => t.includes("She don't like apples."));
    assert.equal(ofDraft.length, 2, `Retry ran the check again: ${JSON.stringify(llm.checked.slice(checksBefore))}`);
    assert.equal(await alice.locator('.msg.mine').count(), 0, 'nothing was sent to the friend');
    assert.equal(await composer.inputValue(), "She don't like apples.");
    await panel.getByText("With he, she and it, use ‘doesn't’ (not ‘don't’).").waitFor();
    await shot(alice, '17-check-before-sending');
    await panel.getByRole('button', { name: 'Use correction' }).click();
    assert.equal(await composer.inputValue(), "She doesn't like apples.");
    assert.equal(await panel.locator('.feedback').count(), 0, 'the panel closes');
    await alice.getByText('19 of 20 practice messages left today').waitFor();
    await alice.keyboard.press('Enter');
    await nav(bob, 'Chats').click();
    await bob.getByRole('link', { name: /checker_a/ }).click();
    await bob.locator('.bubble', { hasText: "She doesn't like apples." }).waitFor();
    llm.check = check;
    await context.close();
    await bobContext.close();
  });

  test('mistakes are underlined as you type, explained, and fixed with Apply without sending anything', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signUp(page, server.base, 'typist');
    await practice(page, 'Free talk');
    const composer = page.getByLabel('Message to the bot');
    const checksBefore = llm.checks;
    const callsBefore = llm.calls;
    await composer.pressSequentially('Yesterday I goed to the park with my freind.', { delay: 5 });
    const marks = page.locator('.lint-layer mark');
    await marks.nth(1).waitFor();
    assert.deepEqual(await marks.allTextContents(), ['goed', 'freind']);
    const card = page.locator('.lint-card');
    await card.getByText('‘go’ is irregular: its past tense is ‘went’.').waitFor();
    assert.match(await card.textContent(), /goed → went/);
    assert.match(await card.textContent(), /1 of 2/);
    await shot(page, '18-check-as-you-type');
    await card.getByRole('button', { name: 'Apply' }).click();
    assert.equal(await composer.inputValue(), 'Yesterday I went to the park with my freind.');
    // The other mistake is found again after the change, under the cursor or not.
    await page.locator('.lint-layer mark', { hasText: 'freind' }).waitFor();
    await card.getByText('‘freind’ is spelt ‘friend’.').waitFor();
    await card.getByRole('button', { name: 'Apply' }).click();
    assert.equal(await composer.inputValue(), 'Yesterday I went to the park with my friend.');
    await page.waitForTimeout(800);
    assert.equal(await page.locator('.lint-layer mark').count(), 0, 'nothing left to underline');
    assert.equal(await page.locator('.lint-card').count(), 0);
    // Nothing was sent and no practice message was used.
    assert.equal(llm.checks, checksBefore);
    assert.equal(llm.calls, callsBefore);
    assert.equal(await page.locator('.msg.mine').count(), 0);
    await page.getByText('20 of 20 practice messages left today').waitFor();
    await context.close();
  });

  test('the progress screen charts practice and lists past corrections', async () => {
    const page = await browser.newPage();
    await signUp(page, server.base, 'charted');
    await practice(page, 'Free talk');
    await say(page, 'Yesterday I goed to the park with my sister.');
    await say(page, 'It was sunny and warm.');
    // The reply is complete: Send is back at once, no Stop left over.
    assert.equal(await page.getByRole('button', { name: 'Stop' }).count(), 0);
    await page.getByRole('button', { name: 'Send' }).waitFor({ timeout: 500 });
    await nav(page, 'Progress').click();
    const charts = page.locator('.charts svg');
    await charts.first().waitFor();
    assert.equal(await charts.count(), 2);
    assert.equal(await page.locator('.charts svg .bar').count(), 1, 'one day with words');
    assert.equal(await page.locator('.charts svg .dot').count(), 1, 'one day with a rate');
    assert.match(await page.locator('.stats').textContent(), /2 messages.*14 words.*7\.1 mistakes per 100 words/s);
    const notebook = page.getByRole('list', { name: 'Past corrections' });
    await notebook.getByText('goed', { exact: true }).waitFor();
    assert.match(await notebook.textContent(), /goed.*went.*grammar/s);
    // Each correction shows the sentence it came from.
    assert.equal(await notebook.locator('.sentence').first().textContent(), 'Yesterday I goed to the park with my sister.');
    // Today against the goal (3 by default), and the streak once it is met.
    await page.locator('#goal-today', { hasText: '2 of 3 practice messages today' }).waitFor();
    assert.match(await page.locator('#streak').textContent(), /0 days in a row/);
    await page.getByLabel('Daily goal').selectOption('2');
    await page.locator('#goal-today', { hasText: 'goal met' }).waitFor();
    assert.match(await page.locator('#streak').textContent(), /1 day in a row/);
    await shot(page, '18-progress');
    await page.evaluate(() => { document.documentElement.dataset.theme = 'dark'; });
    await shot(page, '19-progress-dark');
    // On a phone the charts are drawn for the phone: labels stay readable.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.reload();
    await page.locator('.charts svg').first().waitFor();
    const tick = await page.locator('.chart .tick').first().evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(tick >= 10, `chart labels are ${tick}px tall on a phone`);
    await shot(page, '20-progress-phone');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Practise my mistakes: a wrong answer shows the right one and comes back
    // today; a right one clears the day. Free: no model call, no quota.
    const [checks, calls] = [llm.checks, llm.calls];
    await page.getByRole('link', { name: 'Practise my mistakes (1 due)' }).click();
    await page.getByText('Yesterday I ___ to the park with my sister.').waitFor();
    await shot(page, '20b-review');
    await page.getByRole('button', { name: 'goed', exact: true }).click();
    await page.locator('.verdict', { hasText: 'Not quite. The answer: went' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Yesterday I ___ to the park with my sister.').waitFor();
    await page.getByRole('button', { name: 'went', exact: true }).click();
    await page.locator('.verdict', { hasText: 'Right!' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('All done for today: 2 answered.').waitFor();
    assert.deepEqual([llm.checks, llm.calls], [checks, calls]);
    await nav(page, 'Chats').click();
    await page.locator('#goal-line', { hasText: 'Today: 2 of 2 practice messages ✓ · 1-day streak' }).waitFor();
    await page.close();
  });

  test('an opt-in reminder says what is left of the daily goal, once a day', async () => {
    const page = await (await browser.newContext()).newPage();
    await signUp(page, server.base, 'reminded');
    await nav(page, 'Progress').click();
    // The hour the learner picks; here the current one, so it is due at once.
    const hour = await page.evaluate(() => String(new Date().getHours()));
    await page.getByLabel('Daily reminder').selectOption(hour);
    await page.reload();
    await page.locator('.toast', { hasText: '3 more practice messages today meets your daily goal.' }).waitFor();
    // Once a day: not again on the next load.
    await page.reload();
    await page.locator('#goal-today').waitFor();
    await page.waitForTimeout(1000);
    assert.equal(await page.locator('.toast', { hasText: 'practice messages today' }).count(), 0);
    await page.context().close();
  });

  test('a slow reply shows Thinking and can be stopped; a failed message is retried without a duplicate', async () => {
    const page = await browser.newPage();
    await signUp(page, server.base, 'stopper');
    await practice(page, 'Free talk');
    llm.firstDelayMs = 800;
    llm.delayMs = 300;
    try {
      await page.getByLabel('Message to the bot').fill('Tell me a long story.');
      await page.keyboard.press('Enter');
      await page.locator('.msg.streaming .thinking', { hasText: 'Thinking…' }).waitFor();
      assert.equal(await page.locator('#composer-count').textContent(), '0 / 2000', 'the counter follows the cleared composer');
      await shot(page, '21-bot-thinking');
      await page.waitForFunction(() => (document.querySelector('.msg.streaming .bubble')?.textContent || '').length >= 12);
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByText('Stopped. The part of the reply you saw has been saved.').waitFor();
      const kept = await page.locator('.msg.bot .bubble').last().textContent();
      assert.ok(kept.startsWith('That sou') && kept.length < 60, `partial reply kept: ${kept}`);
      // Stopping still uses the practice message, so the tutor's check of it arrives too.
      await page.locator('.msg.mine').first().locator('.feedback', { hasText: 'Looks good!' }).waitFor();
      await page.getByRole('button', { name: 'Send' }).waitFor();
    } finally {
      llm.firstDelayMs = 0;
      llm.delayMs = 1;
    }

    llm.failNext = 1;
    await page.getByLabel('Message to the bot').fill('Are you still there?');
    await page.keyboard.press('Enter');
    const notice = page.locator('.notice', { hasText: "couldn't answer this time" });
    await notice.waitFor();
    assert.equal(await page.getByLabel('Message to the bot').inputValue(), 'Are you still there?');
    await page.waitForFunction(() => ![...document.querySelectorAll('.msg.mine .bubble')].some((b) => b.textContent === 'Are you still there?'));
    await notice.getByRole('button', { name: 'Retry' }).click();
    await page.locator('.msg.bot .bubble', { hasText: 'Tell me more about your day at work.' }).last().waitFor();
    await page.waitForFunction(() => !document.querySelector('.msg.streaming'));
    const mine = async () => page.locator('.msg.mine .bubble', { hasText: 'Are you still there?' }).count();
    assert.equal(await mine(), 1);
    await page.reload();
    await page.locator('.msg.bot').first().waitFor();
    assert.equal(await mine(), 1, 'stored once');
    await page.close();
  });
});

describe('chat basics', () => {
  test('unread counts in the title and nav, request badge, dates, times, links, rename and delete', async () => {
    const ctxA = await browser.newContext();
    const ctxB = await browser.newContext();
    const ann = await ctxA.newPage();
    const ben = await ctxB.newPage();
    await signUp(ann, server.base, 'basics_ann');
    await signUp(ben, server.base, 'basics_ben');
    await ann.getByText('No chats yet — ').waitFor();
    assert.equal(await ann.title(), 'ChattConnect');

    // Quota used in another tab shows here when this tab gets focus again.
    const other = await ctxA.newPage();
    await other.goto(`${server.base}/#/practice`);
    await other.getByLabel('Free talk').check();
    await other.getByRole('button', { name: 'Start practising' }).click();
    await other.getByLabel('Message to the bot').fill('Hello from the other tab.');
    await other.keyboard.press('Enter');
    await other.getByText('19 of 20 practice messages left today').waitFor();
    await other.close();
    await ann.getByText('20 of 20 practice messages left today').waitFor();
    await ann.evaluate(() => window.dispatchEvent(new Event('focus')));
    await ann.getByText('19 of 20 practice messages left today').waitFor();

    await nav(ann, 'Friends').click();
    await ann.getByLabel('Search by username or display name').fill('basics_ben');
    await ann.getByRole('button', { name: 'Add friend' }).click();
    // Ben sees the request on his Friends tab without opening it; the toast
    // sits in a corner, clear of the header and the conversation's top.
    await ben.locator('#requests-badge', { hasText: '1' }).waitFor();
    const toast = await ben.locator('.toast').first().boundingBox();
    assert.ok(toast.y > 400 && toast.x < 40, `toast at ${toast.x},${toast.y}`);
    await nav(ben, 'Friends').click();
    await ben.getByRole('button', { name: 'Accept' }).click();
    await ben.locator('#requests-badge').waitFor({ state: 'hidden' });

    await ann.getByRole('list', { name: 'Friends' }).getByRole('button', { name: 'Message' }).click();
    await ann.getByLabel('Message to basics_ben').fill('Look at https://example.org/page, nice!');
    await ann.keyboard.press('Enter');
    await ann.locator('.msg.mine .bubble', { hasText: 'nice!' }).waitFor();
    await ann.getByLabel('Message to basics_ben').fill('Are you there?');
    await ann.keyboard.press('Enter');

    // Ben is elsewhere: two unread, in the tab title and on Chats.
    await ben.waitForFunction(() => document.title === '(2) ChattConnect');
    await ben.locator('#unread-badge', { hasText: '2' }).waitFor();
    await nav(ben, 'Chats').click();
    const item = ben.getByRole('link', { name: /basics_ann\s*, 2 unread/ });
    assert.match(await item.locator('.when').textContent(), /\d{1,2}:\d{2}/);
    await item.click();
    await ben.waitForFunction(() => document.title === 'ChattConnect');
    await ben.locator('.messages .day', { hasText: 'Today' }).waitFor();
    const link = ben.locator('.bubble a', { hasText: 'https://example.org/page' });
    assert.equal(await link.getAttribute('href'), 'https://example.org/page');
    assert.match(await link.getAttribute('rel'), /noopener/);
    await shot(ben, '22-dates-and-links');

    // A practice chat renamed and deleted from the app.
    await practice(ann, 'Free talk');
    // On a phone the header's actions keep to one row (Rename and Delete wait under ⋯).
    await ann.setViewportSize({ width: 390, height: 800 });
    await ann.locator('.conv-actions').waitFor();
    const actionsHeight = await ann.locator('.conv-actions').evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(actionsHeight < 48, `the header's actions take ${actionsHeight}px`);
    await ann.setViewportSize({ width: 1280, height: 800 });
    await ann.locator('summary[aria-label="More actions"]').click();
    await ann.getByRole('button', { name: 'Rename' }).click();
    await ann.getByLabel('Chat title').fill('Weekend chatter');
    await ann.getByRole('button', { name: 'Save' }).click();
    await ann.getByRole('heading', { name: 'Weekend chatter' }).waitFor();
    await ann.getByRole('link', { name: /Weekend chatter/ }).waitFor();
    ann.once('dialog', (d) => d.accept());
    await ann.locator('summary[aria-label="More actions"]').click();
    await ann.getByRole('button', { name: 'Delete' }).click();
    await ann.waitForFunction(() => location.hash === '#/chats');
    await ann.getByText('Pick a chat on the left.').waitFor();
    assert.equal(await ann.getByRole('link', { name: /Weekend chatter/ }).count(), 0);
    await ann.getByRole('button', { name: 'New chat' }).click();
    await ann.getByRole('link', { name: 'Practise with the tutor' }).waitFor();
    await ctxA.close();
    await ctxB.close();
  });

  test('notifications are offered politely and shown for a friend message while the tab is hidden', async () => {
    const askContext = await browser.newContext();
    const asker = await askContext.newPage();
    await signUp(asker, server.base, 'notify_ask');
    const offer = asker.getByRole('region', { name: 'Notifications' });
    await offer.getByText('Get a notification when a friend writes').waitFor();
    await offer.getByRole('button', { name: 'Not now' }).click();
    await offer.waitFor({ state: 'detached' });
    await asker.reload();
    await nav(asker, 'Chats').waitFor();
    assert.equal(await offer.count(), 0, 'not asked again');
    await askContext.close();

    const ctxA = await browser.newContext();
    await ctxA.grantPermissions(['notifications'], { origin: server.base });
    const ctxB = await browser.newContext();
    const ann = await ctxA.newPage();
    const ben = await ctxB.newPage();
    await ann.addInitScript(() => {
      const Real = window.Notification;
      window.notes = [];
      window.Notification = class {
        static get permission() { return Real.permission; }
        static requestPermission() { return Real.requestPermission(); }
        constructor(title, options) { window.notes.push({ title, body: options?.body }); }
        close() {}
      };
    });
    await signUp(ann, server.base, 'notify_ann');
    await signUp(ben, server.base, 'notify_ben');
    assert.equal(await ann.getByRole('region', { name: 'Notifications' }).count(), 0, 'already granted: nothing to ask');
    await nav(ben, 'Friends').click();
    await ben.getByLabel('Search by username or display name').fill('notify_ann');
    await ben.getByRole('button', { name: 'Add friend' }).click();
    await nav(ann, 'Friends').click();
    await ann.getByRole('button', { name: 'Accept' }).click();
    await ben.getByRole('list', { name: 'Friends' }).getByRole('button', { name: 'Message' }).click();
    await ben.getByLabel('Message to notify_ann').fill('Visible tab: no notification');
    await ben.keyboard.press('Enter');
    await ann.locator('#unread-badge', { hasText: '1' }).waitFor();
    await ann.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await ben.getByLabel('Message to notify_ann').fill('Are we still on for tonight?');
    await ben.keyboard.press('Enter');
    await ann.waitForFunction(() => window.notes.length > 0);
    assert.deepEqual(await ann.evaluate(() => window.notes), [{ title: 'notify_ben', body: 'Are we still on for tonight?' }]);
    await ctxA.close();
    await ctxB.close();
  });
});
