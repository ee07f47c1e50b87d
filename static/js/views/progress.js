// Progress: practice per day as two small charts (plain SVG), the totals, and
// the mistake notebook to review past corrections.
import { api } from '../api.js';
import { store } from '../store.js';
import { reminderHour, setReminderHour } from '../notify.js';
import { h, toast } from '../ui.js';
import { KIND_LABELS } from '../labels.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const shortDate = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString([], { month: 'short', day: 'numeric' });

/**
 * A bar chart (or a line, for rates with gaps) of one number per day, drawn
 * `width` units wide for a box about that many pixels wide, so its labels keep
 * their size on a phone.
 */
function chart({ days, value, title, line = false, unit = '', width = 640 }) {
  const height = 160;
  const pad = { left: 36, right: 8, top: 10, bottom: 22 };
  const values = days.map(value);
  const max = Math.max(1, ...values.filter((v) => v !== null));
  const step = (width - pad.left - pad.right) / days.length;
  const y = (v) => pad.top + (height - pad.top - pad.bottom) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('line', { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), class: 'axis' }));
  svg.append(s('text', { x: pad.left - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, String(Math.round(max * 10) / 10)));
  svg.append(s('text', { x: pad.left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'tick' }, '0'));
  const labelEvery = Math.ceil(days.length / Math.max(2, Math.floor(width / 90)));
  const segments = [[]];
  days.forEach((d, i) => {
    const x = pad.left + i * step;
    const v = values[i];
    if (i % labelEvery === 0 || i === days.length - 1) {
      // The last label ends at the right edge rather than running off it.
      const last = i === days.length - 1;
      svg.append(s('text', { x: last ? width - pad.right : x + step / 2, y: height - 6, 'text-anchor': last ? 'end' : 'middle', class: 'tick' }, shortDate(d.date)));
    }
    if (v === null) { segments.push([]); return; }
    if (!line && v === 0) return;
    const tip = s('title', {}, `${shortDate(d.date)}: ${v}${unit}`);
    if (line) {
      const cx = x + step / 2;
      segments[segments.length - 1].push(`${cx},${y(v)}`);
      svg.append(s('circle', { cx, cy: y(v), r: 3.5, class: 'dot' }, tip));
    } else {
      svg.append(s('rect', { x: x + step * 0.15, y: y(v), width: step * 0.7, height: Math.max(0, y(0) - y(v)), class: 'bar', rx: 2 }, tip));
    }
  });
  const d = segments.filter((pts) => pts.length).map((pts) => `M${pts.join(' L')}`).join(' ');
  if (line && d) svg.prepend(s('path', { d, class: 'line' }));
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), svg);
}

function mistakeItem(m) {
  return h('li', {},
    m.sentence && m.sentence !== m.original ? h('blockquote', { class: 'sentence' }, m.sentence) : null,
    h('del', {}, m.original), ' → ', h('ins', {}, m.corrected), ' ',
    h('span', { class: 'kind' }, KIND_LABELS[m.kind] || m.kind),
    h('div', { class: 'why' }, m.explanation),
    h('time', { datetime: m.created_at, class: 'muted' }, new Date(m.created_at).toLocaleDateString()));
}

/** The kinds of mistake made most often, ties named together ("grammar and spelling"). */
export function mostFrequent(kinds) {
  const top = kinds.filter((k) => k.count === kinds[0].count).map((k) => KIND_LABELS[k.kind] || k.kind);
  if (top.length > 3) return 'no single kind stands out';
  return top.length === 1 ? top[0] : `${top.slice(0, -1).join(', ')} and ${top[top.length - 1]}`;
}

export async function progressView(main) {
  const range = h('select', { id: 'progress-range', class: 'input', 'aria-label': 'Period' },
    h('option', { value: '7' }, 'Last 7 days'), h('option', { value: '30', selected: true }, 'Last 30 days'),
    h('option', { value: '90' }, 'Last 90 days'));
  const stats = h('div', { class: 'stats' });
  const today = h('div', { class: 'today' });
  const charts = h('div', { class: 'charts' });
  const list = h('ul', { class: 'notebook', 'aria-label': 'Past corrections' });
  const more = h('button', { class: 'btn', type: 'button', hidden: true }, 'Load more');
  const status = h('p', { role: 'status', class: 'muted' });
  let cursor = null;

  function drawToday(p) {
    const g = p.goal;
    const goal = h('select', {
      id: 'daily-goal', class: 'input', 'aria-label': 'Daily goal',
      async onchange() {
        try {
          store.me = await api('PATCH', '/me', { daily_goal: Number(this.value) });
          await loadProgress();
        } catch (e) { toast(`Could not change your goal: ${e.message}`); }
      },
    }, ...Array.from({ length: Math.max(1, store.quota?.limit || 5) }, (_, i) => i + 1)
      .map((n) => h('option', { value: String(n), selected: n === g.messages_per_day }, n === 1 ? '1 message a day' : `${n} messages a day`)));
    const days = p.streak === 1 ? '1 day' : `${p.streak} days`;
    today.replaceChildren(
      h('div', { class: `stat goal ${g.met ? 'met' : ''}`, id: 'goal-today' },
        h('strong', {}, `${Math.min(g.today, g.messages_per_day)} of ${g.messages_per_day}`),
        ' practice messages today', g.met ? ' — goal met ✓' : ''),
      h('div', { class: 'stat', id: 'streak' }, h('strong', {}, days), ' in a row',
        p.streak && !g.met ? h('span', { class: 'muted' }, ' (practise today to keep it)') : null),
      h('label', { class: 'stat' }, 'Goal: ', goal),
      h('label', { class: 'stat' }, 'Remind me: ', h('select', {
        id: 'goal-reminder', class: 'input', 'aria-label': 'Daily reminder',
        async onchange() {
          await setReminderHour(this.value === '' ? null : Number(this.value));
          toast(this.value === '' ? 'Reminder off.' : 'If your goal is not met by then, the app reminds you while it is open.');
        },
      }, h('option', { value: '', selected: reminderHour() === null }, 'never'),
      ...Array.from({ length: 24 }, (_, hr) => h('option', { value: String(hr), selected: reminderHour() === hr },
        `at ${new Date(2000, 0, 1, hr).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}`)))),
      h('a', { class: `btn ${p.review_due ? 'primary' : ''}`, href: '#/review', id: 'review-link' },
        p.review_due ? `Practise my mistakes (${p.review_due} due)` : 'Practise my mistakes'));
  }

  async function loadProgress() {
    const p = await api('GET', `/me/progress?days=${range.value}`);
    drawToday(p);
    const width = Math.round(Math.min(640, Math.max(300, charts.clientWidth || main.clientWidth || 640)));
    const rate = p.mistakes_per_100_words;
    stats.replaceChildren(...[
      h('div', { class: 'stat' }, h('strong', {}, String(p.messages)), p.messages === 1 ? ' message' : ' messages'),
      h('div', { class: 'stat' }, h('strong', {}, String(p.words)), p.words === 1 ? ' word' : ' words'),
      h('div', { class: 'stat' }, h('strong', {}, rate === null ? '–' : String(rate)), ' mistakes per 100 words',
        p.checked_words < p.words ? h('span', { class: 'muted' }, ` (of the ${p.checked_words} checked)`) : null),
      p.kinds.length ? h('div', { class: 'stat' }, 'Most frequent: ', h('strong', {}, mostFrequent(p.kinds))) : null,
    ].filter(Boolean));
    charts.replaceChildren(
      chart({ days: p.days, value: (d) => d.words, title: 'Words written per day', unit: ' words', width }),
      chart({ days: p.days, value: (d) => d.mistakes_per_100_words, title: 'Mistakes per 100 words', line: true, width }));
  }

  async function loadMistakes(reset) {
    if (reset) { cursor = null; list.replaceChildren(); }
    const page = await api('GET', `/me/mistakes?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    list.append(...page.items.map(mistakeItem));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) {
      list.append(h('li', { class: 'empty-state' }, 'No corrections yet. Practise with the tutor and your corrections will collect here to review.'));
    }
  }

  range.addEventListener('change', () => loadProgress().catch((e) => { status.textContent = e.message; }));
  more.addEventListener('click', () => loadMistakes(false).catch((e) => { status.textContent = e.message; }));

  main.append(h('div', { class: 'page wide' },
    h('h1', {}, 'Progress'),
    h('section', { 'aria-labelledby': 'h-today' }, h('h2', { id: 'h-today' }, 'Today'), today),
    h('section', { 'aria-labelledby': 'h-practice' },
      h('div', { class: 'row' }, h('h2', { id: 'h-practice' }, 'Practice'), range), stats, charts),
    h('section', { 'aria-labelledby': 'h-notebook' },
      h('h2', { id: 'h-notebook' }, 'Mistake notebook'), list, more),
    status));
  try {
    await Promise.all([loadProgress(), loadMistakes(true)]);
  } catch (e) {
    status.textContent = `Could not load your progress: ${e.message}`;
  }
  return () => {};
}
