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

/** What went wrong with Listen, in words a learner can act on. */
export function speakProblem(error) {
  if (error === 'interrupted' || error === 'canceled') return null;
  if (error === 'synthesis-failed' || error === 'voice-unavailable' || error === 'language-unavailable') {
    return 'Your browser has no English voice to read this aloud. Install one in your system\'s speech settings (or try another browser), then reload.';
  }
  if (error === 'not-allowed') return 'Your browser did not allow reading aloud. Click Listen again.';
  return `Reading aloud did not work (${error}). Try again, or try another browser.`;
}

/** What went wrong with Speak (dictation), in words a learner can act on. */
export function dictateProblem(error) {
  if (error === 'aborted') return null;
  if (error === 'no-speech') return 'No speech was heard. Click Speak and talk a little louder or closer to the microphone.';
  if (error === 'not-allowed' || error === 'service-not-allowed') {
    return 'The microphone is blocked. Allow it for this site in the browser\'s address bar, then click Speak again.';
  }
  if (error === 'audio-capture') return 'No microphone was found. Connect one, then click Speak again.';
  if (error === 'network') return 'Dictation needs the browser\'s speech service, which could not be reached. Type your message instead.';
  return `Dictation stopped (${error}). Type your message, or click Speak to try again.`;
}

/** Reads `text` aloud; `onProblem` gets a sentence when it cannot. */
export function speak(text, onProblem = () => {}) {
  if (!canSpeak) return;
  const prefs = voicePrefs();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = 'en-US';
  utterance.rate = prefs.rate;
  const voice = speechSynthesis.getVoices().find((v) => v.name === prefs.voice);
  if (voice) utterance.voice = voice;
  utterance.onerror = (e) => {
    const problem = speakProblem(e.error);
    if (problem) onProblem(problem);
  };
  speechSynthesis.cancel();
  speechSynthesis.speak(utterance);
}

/**
 * Listens once; calls `onText` with what was heard, `onProblem` with a
 * sentence when it fails, and `onEnd` when it stops.
 */
export function dictate(onText, onEnd, onProblem = () => {}) {
  const recognition = new Recognition();
  recognition.lang = 'en-US';
  recognition.interimResults = false;
  recognition.onresult = (e) => onText([...e.results].map((r) => r[0].transcript).join(' '));
  recognition.onerror = (e) => {
    const problem = dictateProblem(e.error);
    if (problem) onProblem(problem);
  };
  recognition.onend = () => onEnd();
  recognition.start();
  return recognition;
}
