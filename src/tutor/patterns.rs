//! The mistakes learners make most that Harper does not find: over-regular
//! past tenses, the present perfect with a finished time, verb forms after
//! auxiliaries, `will` in if-clauses, question word order, verb patterns
//! (-ing or to), prepositions of time, fixed expressions and make/do.
//!
//! Each pattern is written to stay quiet when unsure: a fix here is applied on
//! top of the model's correction, so a false alarm would put a new mistake
//! into the learner's sentence.
use std::ops::Range;

use super::{
    edit::Edit,
    lexicon::{self, base_of, ing, irregular_by_past, past, regularised, third_person},
    tokens::{self, Token},
};

const SUBJECTS: [&str; 7] = ["i", "you", "we", "they", "he", "she", "it"];
const THIRD: [&str; 3] = ["he", "she", "it"];
const OBJECTS: [&str; 5] = ["me", "him", "her", "us", "them"];
const MODALS: [&str; 15] = [
    "can",
    "could",
    "will",
    "would",
    "should",
    "must",
    "might",
    "may",
    "can't",
    "cannot",
    "couldn't",
    "won't",
    "wouldn't",
    "shouldn't",
    "mustn't",
];
const ADVERBS: [&str; 16] = [
    "not",
    "never",
    "always",
    "often",
    "really",
    "just",
    "already",
    "ever",
    "also",
    "still",
    "usually",
    "sometimes",
    "even",
    "only",
    "probably",
    "actually",
];
const DETERMINERS: [&str; 11] = [
    "a", "an", "the", "his", "her", "my", "your", "our", "their", "this", "that",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const SEASONS: [&str; 5] = ["summer", "winter", "spring", "autumn", "fall"];
/// Verbs followed by -ing, never by to + verb.
const ING_VERBS: [&str; 7] = ["enjoy", "avoid", "finish", "suggest", "consider", "imagine", "deny"];
/// Verbs followed by to + verb, never by -ing.
const TO_VERBS: [&str; 14] = [
    "want", "decide", "hope", "plan", "agree", "promise", "refuse", "expect", "manage", "afford", "offer", "pretend",
    "intend", "deserve",
];
/// Things you do (tasks, work) and things you make (create, cause).
const DO_THINGS: [&str; 6] = ["homework", "housework", "exercise", "exercises", "sport", "sports"];
/// Tasks you do that need "the" ("make dishes" can be cooking).
const DO_THE_THINGS: [&str; 3] = ["dishes", "shopping", "laundry"];
const MAKE_THINGS: [&str; 8] = [
    "mistake",
    "mistakes",
    "decision",
    "decisions",
    "noise",
    "effort",
    "progress",
    "friends",
];

/// The words of a sentence, lower-cased, with where they are.
struct Words<'a> {
    text: &'a str,
    tokens: Vec<Token<'a>>,
    lower: Vec<String>,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        let tokens = tokens::tokenize(text);
        let lower = tokens.iter().map(|t| t.key.to_lowercase()).collect();
        Self { text, tokens, lower }
    }

    fn len(&self) -> usize {
        self.tokens.len()
    }

    fn at(&self, i: usize) -> &str {
        self.lower.get(i).map_or("", String::as_str)
    }

    fn is(&self, i: usize, words: &[&str]) -> bool {
        i < self.len() && words.contains(&self.at(i))
    }

    /// The first index at or after `i` that is not one of `ADVERBS`.
    fn skip_adverbs(&self, mut i: usize) -> usize {
        while self.is(i, &ADVERBS) {
            i += 1;
        }
        i
    }

    fn span(&self, range: Range<usize>) -> Range<usize> {
        self.tokens[range.start].span.start..self.tokens[range.end - 1].span.end
    }

    fn original(&self, i: usize) -> &'a str {
        self.tokens[i].text
    }

    fn first_word(&self) -> usize {
        self.tokens.iter().position(Token::is_word).unwrap_or(0)
    }

    fn is_question(&self) -> bool {
        self.tokens.last().is_some_and(|t| t.text == "?")
    }

    fn has(&self, word: &str) -> bool {
        self.lower.iter().any(|w| w == word)
    }
}

/// `replacement` with the first letter capitalised like `like`'s.
fn match_case(like: &str, replacement: &str) -> String {
    if like.chars().next().is_some_and(char::is_uppercase) {
        let mut c = replacement.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    } else {
        replacement.to_owned()
    }
}

struct Found<'w, 'a> {
    words: &'w Words<'a>,
    edits: Vec<Edit>,
}

impl Found<'_, '_> {
    /// Replaces tokens `range` with `replacement` (cased like the first token).
    fn replace(&mut self, range: Range<usize>, replacement: &str, rule: &str) {
        let span = self.words.span(range.clone());
        if self
            .edits
            .iter()
            .any(|e| e.span.start < span.end && span.start < e.span.end)
        {
            return;
        }
        let replacement = match_case(self.words.original(range.start), replacement);
        if replacement == self.words.text[span.clone()] {
            return;
        }
        self.edits.push(Edit {
            span,
            replacement,
            rule: rule.to_owned(),
            message: String::new(),
        });
    }
}

/// The fixes the patterns find in `text`, sorted, not overlapping.
pub fn edits(text: &str) -> Vec<Edit> {
    let words = Words::new(text);
    let mut found = Found {
        words: &words,
        edits: Vec::new(),
    };
    // Order matters where two could apply: the more specific first.
    finished_time(&mut found);
    if_will(&mut found);
    question_order(&mut found);
    for i in 0..words.len() {
        regularised_past(&mut found, i);
        participle_after_have(&mut found, i);
        base_after_auxiliary(&mut found, i);
        collocations(&mut found, i);
        verb_patterns(&mut found, i);
        make_do(&mut found, i);
        time_prepositions(&mut found, i);
        quantities(&mut found, i);
    }
    let mut edits = found.edits;
    edits.sort_by_key(|e| e.span.start);
    edits
}

/// Whether the word before `i` (adverbs skipped) is a form of `have`, so a
/// verb at `i` needs its participle.
fn after_have(w: &Words<'_>, i: usize) -> bool {
    let mut j = i;
    while j > 0 && w.is(j - 1, &ADVERBS) {
        j -= 1;
    }
    j > 0 && {
        let prev = w.at(j - 1);
        matches!(prev, "have" | "has" | "had" | "having") || prev.ends_with("'ve") || prev.ends_with("'d")
    }
}

/// "goed" → "went", "have eated" → "have eaten", "brang" → "brought".
fn regularised_past(f: &mut Found<'_, '_>, i: usize) {
    let Some(verb) = regularised(f.words.at(i)) else { return };
    let form = if after_have(f.words, i) {
        verb.participle
    } else {
        verb.past
    };
    f.replace(i..i + 1, form, "irregular_past");
}

/// "have went" → "have gone", "has ate" → "has eaten".
fn participle_after_have(f: &mut Found<'_, '_>, i: usize) {
    let Some(verb) = irregular_by_past(f.words.at(i)) else {
        return;
    };
    if verb.past == verb.participle || !after_have(f.words, i) {
        return;
    }
    f.replace(i..i + 1, verb.participle, "participle_after_have");
}

/// A time that is over: the past simple, not the present perfect.
fn finished_time_marker(w: &Words<'_>) -> bool {
    (0..w.len()).any(|i| {
        let next = w.at(i + 1);
        match w.at(i) {
            "yesterday" | "ago" => true,
            "last" => {
                ["night", "week", "month", "year", "weekend", "time"].contains(&next)
                    || DAYS.contains(&next)
                    || MONTHS.contains(&next)
                    || SEASONS.contains(&next)
            }
            "in" => next.len() == 4 && next.starts_with(['1', '2']) && next.chars().all(|c| c.is_ascii_digit()),
            _ => false,
        }
    })
}

/// "I have seen him yesterday" → "I saw him yesterday"; "I have went there
/// two years ago" → "I went there two years ago".
fn finished_time(f: &mut Found<'_, '_>) {
    let w = f.words;
    if !finished_time_marker(w) || w.has("since") || w.is_question() {
        return;
    }
    for i in 0..w.len() {
        let token = w.at(i);
        let (subject, has_have) = match token {
            "have" | "has" if i > 0 => (w.at(i - 1).to_owned(), true),
            t if t.ends_with("'ve") => (t.trim_end_matches("'ve").to_owned(), false),
            _ => continue,
        };
        if has_have && !(SUBJECTS.contains(&subject.as_str()) || lexicon::is_noun(&subject)) {
            continue;
        }
        let v = w.skip_adverbs(i + 1);
        let Some(base) = base_of(w.at(v)) else { continue };
        let form = w.at(v);
        let is_past_form = lexicon::participle(&base) == form || lexicon::past(&base) == form;
        if !is_past_form {
            continue;
        }
        let past_form = if base == "be" && w.at(v + 1) == "to" {
            // "have been to Rome" is about going there.
            "went".to_owned()
        } else if base == "be" {
            match subject.as_str() {
                "i" | "he" | "she" | "it" => "was".to_owned(),
                "you" | "we" | "they" => "were".to_owned(),
                _ => continue,
            }
        } else {
            past(&base)
        };
        let adverbs: Vec<&str> = (i + 1..v).map(|k| w.original(k)).collect();
        let mut replacement = adverbs.join(" ");
        if !replacement.is_empty() {
            replacement.push(' ');
        }
        replacement.push_str(&past_form);
        if has_have {
            f.replace(i..v + 1, &replacement, "past_with_finished_time");
        } else {
            let subject_word = &w.original(i)[..w.original(i).len() - 3];
            f.replace(
                i..v + 1,
                &format!("{subject_word} {replacement}"),
                "past_with_finished_time",
            );
        }
        return;
    }
}

/// "can swims" → "can swim", "didn't went" → "didn't go", "Did you saw" →
/// "Did you see", "to went" → "to go".
fn base_after_auxiliary(f: &mut Found<'_, '_>, i: usize) {
    let w = f.words;
    let word = w.at(i);
    // "Will" and "May" open a sentence as names too.
    let name = i == w.first_word() && !w.is_question() && w.original(i).starts_with(char::is_uppercase);
    let after_modal = w.is(i, &MODALS) && !(i > 0 && w.is(i - 1, &DETERMINERS)) && !name;
    let negative_do = matches!(word, "don't" | "doesn't" | "didn't")
        || (matches!(word, "do" | "does" | "did") && w.at(i + 1) == "not");
    let question_do = matches!(word, "do" | "does" | "did")
        && w.is_question()
        && (i == w.first_word() || i == w.first_word() + 1)
        && w.is(i + 1, &SUBJECTS);
    let to_irregular = word == "to";
    if !(after_modal || negative_do || question_do || to_irregular) {
        return;
    }
    let start = if question_do { i + 2 } else { i + 1 };
    let v = w.skip_adverbs(start);
    let form = w.at(v);
    if v >= w.len() || !w.tokens[v].is_word() {
        return;
    }
    if to_irregular {
        // Only unmistakable past forms: "found", "saw" and "left" are also bases.
        if let Some(verb) = irregular_by_past(form) {
            if verb.past != verb.base && verb.past != verb.participle && !lexicon::is_verb_base(form) {
                f.replace(v..v + 1, verb.base, "base_after_to");
            }
        }
        return;
    }
    let Some(base) = base_of(form) else { return };
    if base == form || lexicon::is_adjective(form) && form.ends_with("ed") {
        return;
    }
    // After "didn't" a plural noun can follow ("Didn't friends help?").
    let is_third = third_person(&base) == form && (!negative_do || !lexicon::is_noun(form));
    let is_past = past(&base) == form;
    if is_third || is_past {
        f.replace(v..v + 1, &base, "base_after_auxiliary");
    }
}

/// "If I will have time" → "If I have time"; "when he will come" → "when he comes".
fn if_will(f: &mut Found<'_, '_>) {
    let w = f.words;
    for i in 0..w.len() {
        let conditional = w.at(i) == "if"
            && !(i > 0
                && [
                    "know", "wonder", "ask", "asked", "see", "sure", "check", "doubt", "tell", "decide", "whether",
                ]
                .contains(&w.at(i - 1)));
        let time_clause = w.at(i) == "when" && i == w.first_word() && !w.is_question()
            || w.at(i) == "until"
            || (w.at(i) == "soon" && i > 0 && w.at(i - 1) == "as" && w.at(i + 1) == "as");
        if !(conditional || time_clause) {
            continue;
        }
        let s = if w.at(i) == "soon" { i + 2 } else { i + 1 };
        let subject_token = w.at(s);
        let (subject, v) = if let Some(subject) = subject_token.strip_suffix("'ll") {
            (subject.to_owned(), s + 1)
        } else if w.at(s + 1) == "will" {
            (subject_token.to_owned(), s + 2)
        } else {
            continue;
        };
        if !SUBJECTS.contains(&subject.as_str()) || !lexicon::is_verb_base(w.at(v)) {
            continue;
        }
        let base = w.at(v);
        let verb = match (base, subject.as_str()) {
            ("be", "i") => "am".to_owned(),
            ("be", "you" | "we" | "they") => "are".to_owned(),
            (_, s) if THIRD.contains(&s) => third_person(base),
            _ => base.to_owned(),
        };
        let subject_original: String = w.original(s).chars().take(subject.chars().count()).collect();
        f.replace(s..v + 1, &format!("{subject_original} {verb}"), "present_after_if");
    }
}

const AUXILIARIES: [&str; 13] = [
    "am", "are", "is", "was", "were", "can", "could", "will", "would", "should", "have", "has", "did",
];

/// "Where you are going?" → "Where are you going?"; "What you want?" → "What
/// do you want?".
fn question_order(f: &mut Found<'_, '_>) {
    let w = f.words;
    let q = w.first_word();
    if !w.is_question() || !w.is(q, &["what", "where", "when", "why", "how", "who"]) {
        return;
    }
    let s = if w.at(q) == "how" && w.is(q + 1, &["much", "many", "long", "often", "old", "far"]) {
        q + 2
    } else {
        q + 1
    };
    if !w.is(s, &SUBJECTS) {
        return;
    }
    let subject = w.original(s);
    if w.is(s + 1, &AUXILIARIES) {
        let aux = w.original(s + 1);
        f.replace(s..s + 2, &format!("{aux} {subject}"), "question_order");
        return;
    }
    let form = w.at(s + 1);
    let Some(base) = base_of(form) else { return };
    let third = THIRD.contains(&w.at(s));
    let helper = if past(&base) == form && base != form {
        "did"
    } else if third && third_person(&base) == form {
        "does"
    } else if !third && base == form {
        "do"
    } else {
        return;
    };
    f.replace(s..s + 2, &format!("{helper} {subject} {base}"), "question_do");
}

/// Fixed expressions: "explain me" → "explain to me", "said me" → "told me",
/// "listen music" → "listen to music", "I am agree" → "I agree",
/// "interested on" → "interested in", "depend of" → "depend on".
fn collocations(f: &mut Found<'_, '_>, i: usize) {
    let w = f.words;
    let word = w.at(i);
    let next = w.at(i + 1);
    let stem_is = |stem: &str| {
        word == stem
            || word
                .strip_prefix(stem)
                .is_some_and(|s| ["s", "ed", "ing", "es", "d"].contains(&s))
    };
    if stem_is("explain") && OBJECTS.contains(&next) {
        f.replace(
            i..i + 2,
            &format!("{} to {}", w.original(i), w.original(i + 1)),
            "explain_to",
        );
    } else if OBJECTS.contains(&next) && matches!(word, "say" | "says" | "said" | "saying") {
        let tell = match word {
            "say" => "tell",
            "says" => "tells",
            "said" => "told",
            _ => "telling",
        };
        f.replace(i..i + 1, tell, "say_tell");
    } else if stem_is("listen")
        && (OBJECTS.contains(&next)
            || DETERMINERS.contains(&next)
            || ["music", "it", "songs", "radio", "podcasts"].contains(&next))
    {
        f.replace(i..i + 1, &format!("{} to", w.original(i)), "listen_to");
    } else if matches!(next, "agree" | "disagree")
        && matches!(word, "am" | "is" | "are" | "i'm" | "we're" | "you're" | "they're")
    {
        let third = word == "is";
        let verb = if third { format!("{next}s") } else { next.to_owned() };
        if let Some(subject) = word.strip_suffix("'m").or_else(|| word.strip_suffix("'re")) {
            let subject: String = w.original(i).chars().take(subject.chars().count()).collect();
            f.replace(i..i + 2, &format!("{subject} {verb}"), "agree_verb");
        } else {
            f.replace(i..i + 2, &verb, "agree_verb");
        }
    } else if word == "interested" && matches!(next, "on" | "for" | "about" | "at") {
        f.replace(i + 1..i + 2, "in", "interested_in");
    } else if stem_is("depend") && matches!(next, "of" | "from") {
        f.replace(i + 1..i + 2, "on", "depend_on");
    } else if word == "married" && next == "with" {
        f.replace(i + 1..i + 2, "to", "married_to");
    } else if word == "afraid" && next == "from" {
        f.replace(i + 1..i + 2, "of", "afraid_of");
    }
}

/// "enjoy to swim" → "enjoy swimming", "look forward to meet" → "look forward
/// to meeting", "decided going" → "decided to go", "should to travel" →
/// "should travel", "let me to go" → "let me go".
fn verb_patterns(f: &mut Found<'_, '_>, i: usize) {
    let w = f.words;
    let word = w.at(i);
    let base = base_of(word).unwrap_or_default();
    if ING_VERBS.contains(&base.as_str()) && w.at(i + 1) == "to" && lexicon::is_verb_base(w.at(i + 2)) {
        let verb = w.at(i + 2);
        if !DETERMINERS.contains(&verb) {
            f.replace(i + 1..i + 3, &ing(verb), "verb_ing");
        }
        return;
    }
    if base == "look" && w.at(i + 1) == "forward" && w.at(i + 2) == "to" {
        let verb = w.at(i + 3);
        // "look forward to work" may be the noun; "to meet you" is the verb.
        let object_follows = OBJECTS.contains(&w.at(i + 4)) || ["you", "from", "with", "it"].contains(&w.at(i + 4));
        if lexicon::is_verb_base(verb) && (!lexicon::is_noun(verb) || object_follows) && !SUBJECTS.contains(&verb) {
            f.replace(i + 3..i + 4, &ing(verb), "look_forward_to");
        }
        return;
    }
    if TO_VERBS.contains(&base.as_str()) && !(i > 0 && w.is(i - 1, &DETERMINERS)) {
        let next = w.at(i + 1);
        if let Some(verb) = next.strip_suffix("ing").and_then(|_| base_of(next)) {
            let noun = [
                "building", "meeting", "wedding", "painting", "feeling", "clothing", "training", "shopping",
            ];
            let compound = lexicon::is_noun(w.at(i + 2)) && !lexicon::is_verb_base(w.at(i + 2));
            if lexicon::ing(&verb) == next && !noun.contains(&next) && !compound {
                f.replace(i + 1..i + 2, &format!("to {verb}"), "verb_to");
            }
        }
        return;
    }
    let modal = ["can", "could", "should", "must", "might", "would"].contains(&word);
    if modal && w.at(i + 1) == "to" && lexicon::is_verb_base(w.at(i + 2)) && !(i > 0 && w.is(i - 1, &DETERMINERS)) {
        f.replace(i..i + 2, w.original(i), "modal_no_to");
        return;
    }
    let causative = ["let", "lets", "make", "makes", "made"].contains(&word)
        && !(i > 0 && ["was", "were", "is", "are", "be", "been"].contains(&w.at(i - 1)));
    if causative && OBJECTS.contains(&w.at(i + 1)) && w.at(i + 2) == "to" && lexicon::is_verb_base(w.at(i + 3)) {
        f.replace(i + 1..i + 3, w.original(i + 1), "causative_no_to");
    }
}

/// "make my homework" → "do my homework", "did a mistake" → "made a mistake".
fn make_do(f: &mut Found<'_, '_>, i: usize) {
    let w = f.words;
    let (do_form, make_form) = match w.at(i) {
        "make" => (Some("do"), None),
        "makes" => (Some("does"), None),
        "made" => (Some("did"), None),
        "making" => (Some("doing"), None),
        "do" => (None, Some("make")),
        "does" => (None, Some("makes")),
        "did" => (None, Some("made")),
        "doing" => (None, Some("making")),
        _ => return,
    };
    let mut n = i + 1;
    if w.is(
        n,
        &[
            "my", "your", "his", "her", "our", "their", "the", "a", "some", "any", "no", "many",
        ],
    ) {
        n += 1;
    }
    let thing = w.at(n);
    let task = DO_THINGS.contains(&thing) || (DO_THE_THINGS.contains(&thing) && w.at(n - 1) == "the");
    if let Some(form) = do_form.filter(|_| task) {
        f.replace(i..i + 1, form, "make_do");
    } else if let Some(form) = make_form.filter(|_| MAKE_THINGS.contains(&thing)) {
        // "do" as an auxiliary ("do friends help?") is followed by a subject, not a thing.
        if n > i + 1 || !w.is_question() {
            f.replace(i..i + 1, form, "make_do");
        }
    }
}

/// "in monday" → "on Monday", "on 2020" → "in 2020", "at the morning" → "in
/// the morning", "in the night" → "at night".
fn time_prepositions(f: &mut Found<'_, '_>, i: usize) {
    let w = f.words;
    let word = w.at(i);
    let next = w.at(i + 1);
    let is_year = next.len() == 4 && next.starts_with(['1', '2']) && next.chars().all(|c| c.is_ascii_digit());
    let capital = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    if matches!(word, "in" | "at") && DAYS.contains(&next) {
        f.replace(i..i + 2, &format!("on {}", capital(next)), "on_days");
    } else if matches!(word, "on" | "at") && (is_year || SEASONS.contains(&next)) {
        f.replace(i..i + 1, "in", "in_years");
    } else if matches!(word, "on" | "at") && MONTHS.contains(&next) && next != "may" {
        let followed_by_number = w.at(i + 2).starts_with(|c: char| c.is_ascii_digit());
        if !followed_by_number {
            f.replace(i..i + 2, &format!("in {}", capital(next)), "in_years");
        }
    } else if word == "at" && next == "the" && ["morning", "afternoon", "evening"].contains(&w.at(i + 2)) {
        f.replace(i..i + 1, "in", "in_the_morning");
    } else if word == "in"
        && next == "the"
        && w.at(i + 2) == "night"
        && !w.tokens.get(i + 3).is_some_and(Token::is_word)
    {
        f.replace(i..i + 3, "at night", "at_night");
    }
}

/// "every days" → "every day", "several reason" → "several reasons".
fn quantities(f: &mut Found<'_, '_>, i: usize) {
    let w = f.words;
    let word = w.at(i);
    let next = w.at(i + 1);
    let after = w.at(i + 2);
    let next_is_noun_too = lexicon::is_noun(after) && !lexicon::is_verb_base(after) && !after.is_empty();
    let uncountable = next
        .strip_suffix('s')
        .filter(|n| lexicon::UNCOUNTABLE.contains(n))
        .unwrap_or(next);
    if matches!(word, "a" | "an") && lexicon::UNCOUNTABLE.contains(&uncountable) {
        f.replace(i..i + 2, &match_case(w.original(i + 1), uncountable), "uncountable");
    } else if matches!(word, "every" | "each") && !next_is_noun_too {
        if let Some(one) = lexicon::singular(next) {
            f.replace(i + 1..i + 2, &one, "every_singular");
        }
    } else if matches!(word, "several" | "many" | "various" | "numerous" | "both")
        && lexicon::is_singular_countable_noun(next)
        && !lexicon::is_adjective(next)
        && !lexicon::is_adverb(next)
        && !next_is_noun_too
        && after != "of"
    {
        f.replace(i + 1..i + 2, &plural(next), "plural_after_quantity");
    }
}

/// The plural of a countable noun.
fn plural(noun: &str) -> String {
    let irregular = [
        ("child", "children"),
        ("man", "men"),
        ("woman", "women"),
        ("person", "people"),
        ("foot", "feet"),
        ("tooth", "teeth"),
        ("mouse", "mice"),
    ];
    if let Some((_, p)) = irregular.iter().find(|(s, _)| *s == noun) {
        return (*p).to_owned();
    }
    if let Some(s) = noun
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        return format!("{s}ies");
    }
    if ["s", "sh", "ch", "x", "z"].iter().any(|e| noun.ends_with(e)) {
        return format!("{noun}es");
    }
    format!("{noun}s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tutor::edit::apply;

    fn fixed(text: &str) -> String {
        apply(text, &edits(text))
    }

    #[test]
    fn each_pattern_fixes_its_mistake() {
        for (wrong, right) in [
            ("Yesterday I goed to the cinema.", "Yesterday I went to the cinema."),
            ("I have eated too much.", "I have eaten too much."),
            ("He brang his dog.", "He brought his dog."),
            ("I have went to Paris.", "I have gone to Paris."),
            ("She has already ate.", "She has already eaten."),
            ("I have seen him yesterday.", "I saw him yesterday."),
            ("I have went there two years ago.", "I went there two years ago."),
            ("We have been to Rome last year.", "We went to Rome last year."),
            ("I have been ill yesterday.", "I was ill yesterday."),
            ("I've finished it yesterday.", "I finished it yesterday."),
            ("She can swims very well.", "She can swim very well."),
            ("He didn't went to school.", "He didn't go to school."),
            ("Did you saw the film?", "Did you see the film?"),
            ("Does he likes tea?", "Does he like tea?"),
            ("I want to went home.", "I want to go home."),
            (
                "If I will have time, I will call you.",
                "If I have time, I will call you.",
            ),
            ("If he will come, we can start.", "If he comes, we can start."),
            (
                "I will call you as soon as I will arrive.",
                "I will call you as soon as I arrive.",
            ),
            (
                "When I will be older, I will travel.",
                "When I am older, I will travel.",
            ),
            ("Where you are going?", "Where are you going?"),
            ("What you want?", "What do you want?"),
            ("Where he lives?", "Where does he live?"),
            ("Can you explain me the rule?", "Can you explain to me the rule?"),
            ("He said me that he was tired.", "He told me that he was tired."),
            ("I listen music every day.", "I listen to music every day."),
            ("I am agree with you.", "I agree with you."),
            ("She is agree with me.", "She agrees with me."),
            ("I'm agree.", "I agree."),
            ("I am interested on art.", "I am interested in art."),
            ("It depends of the weather.", "It depends on the weather."),
            ("She is married with a doctor.", "She is married to a doctor."),
            ("I enjoy to swim in the sea.", "I enjoy swimming in the sea."),
            ("I look forward to meet you.", "I look forward to meeting you."),
            ("We decided going home.", "We decided to go home."),
            ("People should to travel more.", "People should travel more."),
            ("Let me to help you.", "Let me help you."),
            ("I have to make my homework.", "I have to do my homework."),
            ("I did a mistake.", "I made a mistake."),
            ("See you in monday.", "See you on Monday."),
            ("I was born on 1999.", "I was born in 1999."),
            ("We met at january.", "We met in January."),
            ("I study at the morning.", "I study in the morning."),
            ("I can't sleep in the night.", "I can't sleep at night."),
            ("I go there every days.", "I go there every day."),
            ("There are several reason.", "There are several reasons."),
            ("I need an advice.", "I need advice."),
            ("I have a informations.", "I have information."),
        ] {
            assert_eq!(fixed(wrong), right, "{wrong}");
        }
    }

    #[test]
    fn correct_sentences_are_left_alone() {
        for fine in [
            "Yesterday I went to the cinema.",
            "I have seen that film.",
            "I have lived here since 2010.",
            "Have you ever been to Rome?",
            "I don't know if he will come.",
            "When will you arrive?",
            "I know where you are going.",
            "What do you want?",
            "Can you explain it to me?",
            "He said that he was tired.",
            "Listen, I have an idea.",
            "I agree with you.",
            "I am interested in art.",
            "I stopped to buy some bread.",
            "I want to go home.",
            "The will to live is strong.",
            "I made a cake for my homework club.",
            "Do your homework.",
            "See you on Monday.",
            "I was born in 1999.",
            "We met on January 5.",
            "I go there every day.",
            "Several people came.",
            "Many students like it.",
            "She found a job.",
            "I want to find it.",
            "It seemed fine.",
            "Did you see the film?",
            "They could have gone.",
            "He can be tired.",
            "I can't believe it.",
            "Will likes pizza.",
            "I make dishes from my country.",
            "We saw stars in the night sky.",
            "Many other people came.",
            "I practise every day to improve.",
            "We want building blocks.",
            "I expect nothing.",
        ] {
            assert_eq!(edits(fine), Vec::new(), "{fine}");
        }
    }

    #[test]
    fn capitals_and_positions_are_kept() {
        let text = "In monday I goed there.";
        assert_eq!(fixed(text), "On Monday I went there.");
        for e in edits(text) {
            assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
        }
        assert_eq!(fixed("Ça va? I goed to Zürich."), "Ça va? I went to Zürich.");
    }
}
