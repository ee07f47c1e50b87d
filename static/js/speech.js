// The browser's own speech: reading bot replies aloud (speech synthesis) and
// dictation (speech recognition). Both are feature-detected; nothing is sent
// anywhere by this app.
export const canSpeak = typeof window.speechSynthesis !== 'undefined' && typeof window.SpeechSynthesisUtterance !== 'undefined';
const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
export const canDictate = typeof Recognition === 'function';

/** The learner's choices from the profile. */
export function voicePrefs() {
  return {
    voice: localStorage.getItem('cc-voice') || '',
    rate: Number(localStorage.getItem('cc-rate')) || 1,
    auto: localStorage.getItem('cc-autoread') === '1',
  };
}

export function saveVoicePrefs({ voice, rate, auto }) {
  localStorage.setItem('cc-voice', voice);
  localStorage.setItem('cc-rate', String(rate));
  localStorage.setItem('cc-autoread', auto ? '1' : '0');
}

/** English voices the browser offers (they may load a moment after the page). */
export function englishVoices() {
  return canSpeak ? speechSynthesis.getVoices().filter((v) => /^en(-|_|$)/i.test(v.lang)) : [];
}

export function speak(text) {
  if (!canSpeak) return;
  const prefs = voicePrefs();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = 'en-US';
  utterance.rate = prefs.rate;
  const voice = speechSynthesis.getVoices().find((v) => v.name === prefs.voice);
  if (voice) utterance.voice = voice;
  speechSynthesis.cancel();
  speechSynthesis.speak(utterance);
}

/** Listens once; calls `onText` with what was heard and `onEnd` when it stops. */
export function dictate(onText, onEnd) {
  const recognition = new Recognition();
  recognition.lang = 'en-US';
  recognition.interimResults = false;
  recognition.onresult = (e) => onText([...e.results].map((r) => r[0].transcript).join(' '));
  recognition.onerror = () => onEnd();
  recognition.onend = () => onEnd();
  recognition.start();
  return recognition;
}
