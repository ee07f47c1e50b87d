// Start a practice chat: pick a scenario and a level.
import { api } from '../api.js';
import { go, store } from '../store.js';
import { field, h } from '../ui.js';

/** The CEFR levels as learners know them; the value is the code before the dash. */
export const LEVELS = ['A1 — Beginner', 'A2 — Elementary', 'B1 — Intermediate', 'B2 — Upper intermediate', 'C1 — Advanced', 'C2 — Proficient'];

export async function practiceView(main) {
  const cards = store.scenarios.map((s, i) => h('label', { class: 'scenario' },
    h('span', { style: 'display:flex;gap:0.5rem;align-items:center;color:var(--text);font-weight:600' },
      h('input', { type: 'radio', name: 'scenario', value: s.id, checked: i === 0 }), s.title),
    h('span', {}, s.description)));
  const [levelField, level] = field({ id: 'level', label: 'Your level of English', type: 'select', hint: 'The bot adapts its words and pace.' });
  LEVELS.forEach((label) => level.append(h('option', { value: label.slice(0, 2), selected: label.startsWith(store.me.level) }, label)));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const start = h('button', { class: 'btn primary', type: 'submit' }, 'Start practising');
  const form = h('form', {
    async onsubmit(e) {
      e.preventDefault();
      start.disabled = true;
      start.textContent = 'Starting…';
      try {
        const scenario = form.querySelector('input[name="scenario"]:checked')?.value;
        const chat = await api('POST', '/chats', { kind: 'bot', scenario_id: scenario, level: level.value });
        go(`#/chats/${chat.id}`);
      } catch (err) {
        error.textContent = err.message;
        start.disabled = false;
        start.textContent = 'Start practising';
      }
    },
  }, h('fieldset', { class: 'scenarios' }, h('legend', {}, 'Choose a scenario'), ...cards), levelField, error, start);
  main.append(h('div', { class: 'page' },
    h('h1', {}, 'Practise with the AI partner'),
    h('section', {},
      h('p', {}, 'Role-play a situation. After each of your messages the bot points out mistakes and suggests better phrasing.'),
      form)));
  return () => {};
}
