// Small DOM helpers.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = value;
    // Through the CSSOM: the policy allows no inline style attribute.
    else if (key === 'style') el.style.cssText = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function toast(text) {
  // Toasts sit in a corner and go away on a click, so they never hide what the learner reads.
  const el = h('div', { class: 'toast', onclick: () => el.remove() }, text);
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), 4000);
}

export function initials(name) {
  return (name || '?').trim().split(/\s+/).map((w) => w[0]).join('').slice(0, 2).toUpperCase();
}

export function time(iso) {
  // "1:54 AM" (or "01:54" where the locale writes hours that way), not "01:54 AM".
  return new Date(iso).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

/** A labelled input with an inline error line; returns [wrapper, input, setError]. */
export function field({ id, label, type = 'text', value = '', hint, ...rest }) {
  const input = h(type === 'select' ? 'select' : 'input', {
    id, name: id, value, 'aria-describedby': `${id}-hint ${id}-error`, ...(type === 'select' ? {} : { type }), ...rest,
  });
  const error = h('div', { class: 'error', id: `${id}-error`, 'aria-live': 'polite' });
  const wrapper = h('div', { class: 'field' },
    h('label', { for: id }, label), input, hint ? h('div', { class: 'hint', id: `${id}-hint` }, hint) : null, error);
  const setError = (msg) => {
    error.textContent = msg || '';
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
  };
  return [wrapper, input, setError];
}
