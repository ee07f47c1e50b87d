// Sign up and log in, with the contract's limits checked as you type.
import { api, ApiError, login, register, signedOutReason } from '../api.js';
import { field, h } from '../ui.js';
import { LEVELS } from './practice.js';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

function checkUsername(v) {
  if (v.length < 3 || v.length > 32) return 'Use 3 to 32 characters.';
  if (!USERNAME.test(v)) return 'Use only letters, digits, "_", "." and "-".';
  return '';
}

function checkPassword(v) {
  return v.length < 8 || v.length > 128 ? 'Use 8 to 128 characters.' : '';
}

function checkDisplayName(v) {
  const n = v.trim().length;
  return n > 64 ? 'Use at most 64 characters.' : '';
}

const brand = () => [
  h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'CC'), 'ChattConnect'),
  h('p', { class: 'tagline' }, 'Practise English with friends and an AI conversation partner.'),
];

/** A one-time reset link (`#/reset/<token>`): choose a new password. */
function resetForm(card, token, done) {
  const [passField, pass, passError] = field({
    id: 'new-password', label: 'New password', type: 'password', required: true,
    autocomplete: 'new-password', hint: 'At least 8 characters',
  });
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { class: 'btn primary', type: 'submit' }, 'Set new password');
  pass.addEventListener('input', () => passError(pass.value && checkPassword(pass.value)));
  const form = h('form', {
    novalidate: true,
    async onsubmit(e) {
      e.preventDefault();
      formError.textContent = '';
      if (passError(checkPassword(pass.value)) || checkPassword(pass.value)) return;
      submit.disabled = true;
      submit.textContent = 'Saving…';
      try {
        await api('POST', '/auth/reset-password', { token, new_password: pass.value }, { auth: false });
        done('Your password was changed and you were signed out everywhere. Log in with the new one.');
      } catch (err) {
        if (err.body?.field === 'new_password') passError(err.message);
        else formError.textContent = err.body?.field === 'token'
          ? 'This link does not work any more: it was used already or is more than an hour old. Ask for a new one.'
          : err.message;
        submit.disabled = false;
        submit.textContent = 'Set new password';
      }
    },
  }, passField, formError, submit);
  card.replaceChildren(...brand(), h('h1', {}, 'Choose a new password'), form,
    h('p', {}, h('a', { href: '#/login', onclick() { done(null); } }, 'Back to log in')));
  pass.focus();
}

/**
 * "Forgot password?": a link by e-mail when the server sends e-mail (to the
 * account's confirmed address), otherwise how to get one from the operator.
 */
function forgotForm(typed) {
  const [loginField, login, loginError] = field({ id: 'forgot-login', label: 'Username or e-mail', autocomplete: 'username', value: typed });
  const status = h('p', { role: 'status', class: 'muted' });
  const send = h('button', { class: 'btn', type: 'submit' }, 'Send me a link');
  const form = h('form', {
    class: 'forgot', novalidate: true,
    async onsubmit(e) {
      e.preventDefault();
      if (!login.value.trim()) { loginError('Enter your username or e-mail address.'); return; }
      loginError('');
      send.disabled = true;
      try {
        const r = await api('POST', '/auth/forgot-password', { login: login.value.trim() }, { auth: false });
        status.replaceChildren(...(r.mail
          ? ['If that account has a confirmed e-mail address, a link to choose a new password is on its way. It works once, for an hour.']
          : ['This server does not send e-mail. Ask the person who runs it for a reset link: they make one with ',
            h('code', {}, 'chattconnect admin reset-link YOUR_USERNAME'), '. It works once, for an hour.']));
      } catch (err) {
        status.textContent = err.status === 429 ? `Too many attempts. Try again in ${err.body.retry_after || 60} seconds.` : err.message;
      } finally {
        send.disabled = false;
      }
    },
  }, loginField, send, status);
  return form;
}

export function authView(onSignedIn) {
  let mode = location.hash === '#/signup' ? 'signup' : 'login';
  const card = h('div', { class: 'card' });
  const wrap = h('div', { class: 'auth', id: 'main' }, card);
  let reason = signedOutReason();

  const draw = () => {
    const signup = mode === 'signup';
    const [userField, user, userError] = field({
      id: 'username', label: 'Username', autocomplete: 'username', required: true,
      hint: signup ? '3–32 letters, digits, _ . -' : undefined,
    });
    const [passField, pass, passError] = field({
      id: 'password', label: 'Password', type: 'password', required: true,
      autocomplete: signup ? 'new-password' : 'current-password', hint: signup ? 'At least 8 characters' : undefined,
    });
    const [nameField, name, nameError] = field({
      id: 'display_name', label: 'Display name (optional)', autocomplete: 'nickname', hint: 'How friends see you',
    });
    const [levelField, level] = field({
      id: 'signup-level', label: 'Your level of English', type: 'select', hint: 'The tutor starts at it; change it any time.',
    });
    LEVELS.forEach((label) => level.append(h('option', { value: label.slice(0, 2), selected: label.startsWith('B1') }, label)));
    const formError = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { class: 'btn primary', type: 'submit' }, signup ? 'Create account' : 'Log in');
    if (signup) {
      user.addEventListener('input', () => userError(user.value && checkUsername(user.value)));
      pass.addEventListener('input', () => passError(pass.value && checkPassword(pass.value)));
      name.addEventListener('input', () => nameError(checkDisplayName(name.value)));
    }
    const form = h('form', {
      novalidate: true,
      async onsubmit(e) {
        e.preventDefault();
        formError.textContent = '';
        const errors = signup
          ? [userError(checkUsername(user.value.trim())) || checkUsername(user.value.trim()),
            passError(checkPassword(pass.value)) || checkPassword(pass.value),
            nameError(checkDisplayName(name.value)) || checkDisplayName(name.value)]
          : [!user.value.trim() && 'Enter your username.', !pass.value && 'Enter your password.'];
        if (!signup) { userError(errors[0]); passError(errors[1]); }
        if (errors.some(Boolean)) return;
        submit.disabled = true;
        submit.textContent = signup ? 'Creating account…' : 'Logging in…';
        try {
          if (signup) await register(user.value.trim(), pass.value, name.value.trim(), level.value);
          else await login(user.value.trim(), pass.value);
          await onSignedIn();
        } catch (err) {
          const e2 = err instanceof ApiError ? err : new ApiError(0, null);
          if (e2.body.field === 'username') userError(e2.message);
          else if (e2.body.field === 'password') passError(e2.message);
          else if (e2.status === 409) userError('That username is taken. Try another one.');
          else if (e2.status === 401) formError.textContent = 'Wrong username or password.';
          else if (e2.status === 429) formError.textContent = `Too many attempts. Try again in ${e2.body.retry_after || 60} seconds.`;
          else formError.textContent = e2.message;
          submit.disabled = false;
          submit.textContent = signup ? 'Create account' : 'Log in';
        }
      },
    }, userField, passField, signup ? nameField : null, signup ? levelField : null, formError, submit);

    const tab = (which, label) => h('button', {
      type: 'button', role: 'tab', 'aria-selected': String(mode === which),
      onclick() { mode = which; history.replaceState(null, '', `#/${which}`); draw(); },
    }, label);
    // Made when asked for, so the login form has one "Username" until then.
    const forgot = h('div');
    card.replaceChildren(
      ...brand(),
      reason && !signup ? h('p', { class: 'notice', role: 'status' }, reason) : null,
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Account' }, tab('login', 'Log in'), tab('signup', 'Sign up')),
      h('h1', { class: 'sr-only' }, signup ? 'Sign up' : 'Log in'),
      form,
      signup ? null : h('p', {}, h('button', {
        class: 'link-button', type: 'button',
        onclick() {
          if (!forgot.firstChild) forgot.append(forgotForm(user.value.trim()));
          forgot.querySelector('input').focus();
        },
      }, 'Forgot password?')),
      forgot);
    user.focus();
  };
  const token = location.hash.startsWith('#/reset/') ? location.hash.slice('#/reset/'.length) : null;
  if (token) {
    resetForm(card, token, (message) => {
      reason = message;
      mode = 'login';
      history.replaceState(null, '', '#/login');
      draw();
    });
  } else {
    draw();
  }
  return wrap;
}
