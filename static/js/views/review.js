// Practise my mistakes: the notebook's due entries as quick exercises, checked
// by the server without the model (free), spaced with Leitner boxes.
import { api } from '../api.js';
import { h } from '../ui.js';
import { KIND_LABELS } from '../labels.js';

export async function reviewView(main) {
  const card = h('section', { class: 'review-card', 'aria-live': 'polite' });
  const count = h('p', { class: 'muted', id: 'review-count' });
  main.append(h('div', { class: 'page' },
    h('h1', {}, 'Practise my mistakes'),
    h('section', { 'aria-label': 'Exercise' },
      h('p', { class: 'muted' }, 'Your own corrections, asked again. Answered right, a mistake comes back later; answered wrong, it comes back today. Free: it does not use your daily messages. ',
        h('a', { href: '#/progress' }, 'Back to Progress')),
      count, card)));
  let queue = [];
  let done = 0;

  async function fill() {
    const page = await api('GET', '/me/review?limit=20');
    queue = page.items;
  }

  function finished() {
    count.textContent = '';
    card.replaceChildren(h('div', { class: 'empty-state' },
      h('p', {}, done ? `All done for today: ${done} answered.` : 'Nothing to review today.'),
      h('p', {}, done ? 'They come back when they are due.' : 'Practise with the tutor: its corrections come back here.'),
      h('p', {}, h('a', { class: 'btn', href: '#/practice' }, 'Practise with the tutor'))));
  }

  async function next() {
    if (!queue.length) await fill();
    const item = queue.shift();
    if (!item) { finished(); return; }
    count.textContent = `${queue.length + 1} to go`;
    show(item);
  }

  function show(item) {
    const verdict = h('div', { class: 'verdict', role: 'status' });
    const nextButton = h('button', { class: 'btn primary', type: 'button', hidden: true, onclick: next }, 'Next');
    const kind = h('span', { class: 'kind' }, KIND_LABELS[item.kind] || item.kind);
    async function answer(text, controls) {
      controls.forEach((c) => { c.disabled = true; });
      try {
        const r = await api('POST', `/me/review/${item.id}`, { answer: text });
        done += 1;
        verdict.className = `verdict ${r.correct ? 'right' : 'wrong'}`;
        verdict.replaceChildren(
          h('strong', {}, r.correct ? 'Right!' : 'Not quite.'),
          r.correct ? null : h('span', {}, ' The answer: ', h('ins', {}, r.expected)),
          r.explanation ? h('div', { class: 'why' }, r.explanation) : null);
        nextButton.hidden = false;
        nextButton.focus();
      } catch (e) {
        verdict.className = 'verdict wrong';
        verdict.textContent = `Could not check your answer: ${e.message}`;
        controls.forEach((c) => { c.disabled = false; });
      }
    }
    let body;
    if (item.exercise === 'choose') {
      const buttons = item.choices.map((c) => h('button', {
        class: 'btn choice', type: 'button', onclick: () => answer(c, buttons),
      }, c));
      body = [h('p', { class: 'hint' }, 'Pick the right words for the gap.'),
        h('p', { class: 'prompt' }, item.prompt), h('div', { class: 'choices' }, ...buttons)];
    } else {
      const input = h('textarea', { class: 'input', rows: 3, id: 'review-answer', 'aria-label': 'The sentence without the mistake' }, item.prompt);
      const check = h('button', { class: 'btn primary', type: 'submit' }, 'Check');
      const form = h('form', {
        onsubmit(e) {
          e.preventDefault();
          if (input.value.trim()) answer(input.value, [input, check]);
        },
      }, input, h('div', { class: 'row' }, check));
      body = [h('p', { class: 'hint' }, 'Write this sentence again without the mistake.'),
        h('p', { class: 'prompt' }, item.prompt), form];
    }
    card.replaceChildren(h('div', { class: 'review-head' }, kind), ...body, verdict, nextButton);
    card.querySelector('button, textarea')?.focus();
  }

  await next();
  return () => {};
}
