// Display name, level, password, theme, and the voice that reads replies aloud.
import { api, changePassword } from '../api.js';
import { setTheme } from '../shell.js';
import { store } from '../store.js';
import { canSpeak, englishVoices, saveVoicePrefs, speak, voicePrefs } from '../speech.js';
import { field, h, toast } from '../ui.js';
import { LEVELS } from './practice.js';

export async function profileView(main) {
  const [nameField, name, nameError] = field({ id: 'profile-name', label: 'Display name', value: store.me.display_name, hint: '1–64 characters' });
  const [levelField, level] = field({ id: 'profile-level', label: 'Level of English', type: 'select' });
  LEVELS.forEach((label) => level.append(h('option', { value: label.slice(0, 2), selected: label.startsWith(store.me.level) }, label)));
  const emailState = () => (!store.me.email ? 'Optional: a confirmed address can get a link if you forget your password.'
    : store.me.email_confirmed ? 'Confirmed.' : 'Not confirmed yet: open the link we sent to it.');
  const [emailField, email, emailError] = field({
    id: 'profile-email', label: 'E-mail (for password resets)', type: 'email', value: store.me.email || '', autocomplete: 'email', hint: emailState(),
  });
  const saveProfile = h('button', { class: 'btn primary', type: 'submit' }, 'Save profile');
  const profileForm = h('form', {
    async onsubmit(e) {
      e.preventDefault();
      const display = name.value.trim();
      if (!display || display.length > 64) { nameError('Use 1 to 64 characters.'); return; }
      nameError('');
      emailError('');
      const address = email.value.trim().toLowerCase();
      const changes = { display_name: display, level: level.value };
      if (address !== (store.me.email || '')) changes.email = address;
      try {
        store.me = await api('PATCH', '/me', changes);
        emailField.querySelector('.hint').textContent = emailState();
        toast(changes.email ? `Profile saved. We sent a link to ${changes.email}: open it to confirm the address.` : 'Profile saved');
      } catch (err) {
        if (err.body?.field === 'email') emailError(err.message);
        else nameError(err.message);
      }
    },
  }, nameField, levelField, emailField, saveProfile);

  const [currentField, current, currentError] = field({ id: 'current-password', label: 'Current password', type: 'password', autocomplete: 'current-password' });
  const [newField, next, newError] = field({ id: 'new-password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: '8–128 characters' });
  const [confirmField, confirmInput, confirmError] = field({ id: 'confirm-password', label: 'Repeat the new password', type: 'password', autocomplete: 'new-password' });
  next.addEventListener('input', () => newError(next.value && (next.value.length < 8 || next.value.length > 128) ? 'Use 8 to 128 characters.' : ''));
  const passwordForm = h('form', {
    async onsubmit(e) {
      e.preventDefault();
      currentError(''); newError(''); confirmError('');
      if (next.value.length < 8 || next.value.length > 128) { newError('Use 8 to 128 characters.'); return; }
      if (next.value !== confirmInput.value) { confirmError('The passwords do not match.'); return; }
      try {
        await changePassword(store.me.username, current.value, next.value);
        toast('Password changed. You are still signed in here; other devices have been signed out.');
        current.value = ''; next.value = ''; confirmInput.value = '';
      } catch (err) {
        if (err.status === 401) currentError('That is not your current password.');
        else newError(err.message);
      }
    },
  }, currentField, newField, confirmField, h('button', { class: 'btn primary', type: 'submit' }, 'Change password'));

  const theme = h('select', {
    id: 'theme', class: 'input',
    onchange() { setTheme(this.value); },
  }, h('option', { value: 'light' }, 'Light'), h('option', { value: 'dark' }, 'Dark'));
  theme.value = document.documentElement.dataset.theme;

  const voiceSection = canSpeak ? voiceSettings() : null;

  main.append(h('div', { class: 'page' },
    h('h1', {}, 'Profile'),
    h('section', { 'aria-labelledby': 'h-profile' }, h('h2', { id: 'h-profile' }, `@${store.me.username}`), profileForm),
    h('section', { 'aria-labelledby': 'h-password' }, h('h2', { id: 'h-password' }, 'Password'), passwordForm),
    h('section', { 'aria-labelledby': 'h-look' }, h('h2', { id: 'h-look' }, 'Appearance'),
      h('div', { class: 'field' }, h('label', { for: 'theme' }, 'Theme'), theme)),
    voiceSection));
  return () => {};
}

/** Voice, speed and automatic reading of bot replies (the browser's speech synthesis). */
function voiceSettings() {
  const prefs = voicePrefs();
  const voice = h('select', { id: 'voice', class: 'input' });
  const fillVoices = () => {
    const voices = englishVoices();
    voice.replaceChildren(h('option', { value: '' }, 'Browser default'),
      ...voices.map((v) => h('option', { value: v.name, selected: v.name === prefs.voice }, `${v.name} (${v.lang})`)));
  };
  fillVoices();
  speechSynthesis.addEventListener?.('voiceschanged', fillVoices);
  const rate = h('input', { id: 'voice-rate', type: 'range', min: '0.5', max: '1.5', step: '0.1', value: String(prefs.rate) });
  const rateLabel = h('span', { id: 'voice-rate-value' }, `${prefs.rate}×`);
  const auto = h('input', { id: 'voice-auto', type: 'checkbox', checked: prefs.auto });
  const save = () => {
    saveVoicePrefs({ voice: voice.value, rate: Number(rate.value), auto: auto.checked });
    rateLabel.textContent = `${rate.value}×`;
  };
  voice.addEventListener('change', save);
  rate.addEventListener('input', save);
  auto.addEventListener('change', save);
  return h('section', { 'aria-labelledby': 'h-voice' }, h('h2', { id: 'h-voice' }, 'Voice'),
    h('div', { class: 'field' }, h('label', { for: 'voice' }, 'Voice for reading replies aloud'), voice),
    h('div', { class: 'field' }, h('label', { for: 'voice-rate' }, 'Speed '), rate, ' ', rateLabel),
    h('div', { class: 'field' }, h('label', {}, auto, ' Read the tutor\'s replies aloud automatically')),
    h('button', { class: 'btn', type: 'button', onclick: () => speak('Hello! Shall we practise some English today?') }, 'Try it'));
}
