// Check as you type: after a short pause the draft goes to POST /lint (the
// tutor's rules: free, no model), mistakes are underlined in the composer, and
// a small panel shows the one under the cursor: the fix, why, Apply, Ignore.
import { api } from './api.js';
import { h } from './ui.js';

const PAUSE_MS = 450;
const KIND_LABELS = {
  grammar: 'grammar', spelling: 'spelling', punctuation: 'punctuation', capitalization: 'capital letters',
  missing_word: 'missing word', extra_word: 'extra word', word_order: 'word order',
};

/** UTF-16 index of the `n`th character (code point) of `text`. */
function indexOf(text, n) {
  let i = 0;
  for (let k = 0; k < n && i < text.length; k += 1) i += text.codePointAt(i) > 0xffff ? 2 : 1;
  return i;
}

/**
 * Underlines the rules' findings in `textarea`. Returns the element to put in
 * the page in place of the textarea (it wraps it), the panel to show near the
 * composer, `clear()` for after sending and `close()` when the view goes.
 */
export function lintField(textarea) {
  const layer = h('div', { class: 'lint-layer', 'aria-hidden': 'true' });
  const field = h('div', { class: 'lint-field' }, textarea, layer);
  const panel = h('div', { class: 'lint-panel', role: 'status', 'aria-live': 'polite' });
  let found = [];
  let current = 0;
  let timer = null;
  let asked = '';
  const ignored = new Set();

  const mirror = () => {
    const style = getComputedStyle(textarea);
    for (const p of ['font', 'letterSpacing', 'lineHeight', 'padding', 'borderWidth', 'borderStyle', 'boxSizing', 'textIndent']) {
      layer.style[p] = style[p];
    }
    layer.style.borderColor = 'transparent';
    layer.scrollTop = textarea.scrollTop;
  };

  const draw = () => {
    const text = textarea.value;
    const parts = [];
    let at = 0;
    found.forEach((s, i) => {
      parts.push(text.slice(at, s.start));
      parts.push(h('mark', { class: `lint ${i === current ? 'current' : ''}` }, text.slice(s.start, s.end)));
      at = s.end;
    });
    parts.push(text.slice(at), '\n');
    layer.replaceChildren(...parts);
    mirror();
    drawPanel();
  };

  const apply = (s) => {
    const text = textarea.value;
    if (text.slice(s.start, s.end) !== s.original) return;
    textarea.value = text.slice(0, s.start) + s.replacement + text.slice(s.end);
    const caret = s.start + s.replacement.length;
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    textarea.focus();
  };

  const drawPanel = () => {
    if (!found.length) { panel.replaceChildren(); return; }
    const s = found[current];
    const step = (d) => { current = (current + d + found.length) % found.length; draw(); };
    panel.replaceChildren(h('div', { class: 'lint-card' },
      h('div', { class: 'lint-fix' },
        h('del', { 'aria-label': `You wrote: ${s.original}` }, s.original), ' → ',
        s.replacement
          ? h('ins', { 'aria-label': `Better: ${s.replacement}` }, s.replacement)
          : h('em', {}, 'leave it out'),
        ' ', h('span', { class: 'kind' }, KIND_LABELS[s.kind] || s.kind)),
      s.explanation ? h('div', { class: 'why' }, s.explanation) : null,
      h('div', { class: 'lint-actions' },
        h('button', { class: 'btn small primary', type: 'button', onclick: () => apply(s) }, 'Apply'),
        h('button', {
          class: 'btn small', type: 'button',
          onclick: () => { ignored.add(`${s.original}|${s.rule}`); found = found.filter((f) => f !== s); current = 0; draw(); },
        }, 'Ignore'),
        found.length > 1 ? h('span', { class: 'lint-nav' },
          h('button', { class: 'btn small', type: 'button', 'aria-label': 'Previous suggestion', onclick: () => step(-1) }, '‹'),
          ` ${current + 1} of ${found.length} `,
          h('button', { class: 'btn small', type: 'button', 'aria-label': 'Next suggestion', onclick: () => step(1) }, '›')) : null)));
  };

  const check = async () => {
    const text = textarea.value;
    if (!text.trim()) { found = []; draw(); return; }
    asked = text;
    let result;
    try {
      result = await api('POST', '/lint', { text });
    } catch {
      return; // Underlines are a help; a failed call just shows none.
    }
    if (textarea.value !== asked) return; // Typed on meanwhile: the next call answers.
    found = result.suggestions
      .filter((s) => !ignored.has(`${s.original}|${s.rule}`))
      .map((s) => ({ ...s, start: indexOf(text, s.offset), end: indexOf(text, s.offset + s.length) }));
    current = 0;
    follow();
    draw();
  };

  // The suggestion under the cursor is the one the panel shows.
  const follow = () => {
    const caret = textarea.selectionStart;
    const i = found.findIndex((s) => caret >= s.start && caret <= s.end);
    if (i >= 0 && i !== current) { current = i; draw(); }
  };

  textarea.addEventListener('input', () => {
    // Positions move as the learner types: hide the old marks until the next answer.
    found = [];
    draw();
    clearTimeout(timer);
    timer = setTimeout(check, PAUSE_MS);
  });
  textarea.addEventListener('scroll', () => { layer.scrollTop = textarea.scrollTop; });
  textarea.addEventListener('click', follow);
  textarea.addEventListener('keyup', follow);
  window.addEventListener('resize', mirror);

  return {
    field,
    panel,
    clear() { clearTimeout(timer); found = []; draw(); },
    close() { clearTimeout(timer); window.removeEventListener('resize', mirror); },
  };
}
