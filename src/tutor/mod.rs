//! The tutor: finds a learner's mistakes and explains them.
//!
//! Two layers work together. The rules (`rules`: Harper and our own
//! `patterns`) run in-process in milliseconds and are free; they alone answer
//! `POST /lint` as the learner types. The model (`bot::check`) corrects each
//! sentence on its own; the rules then fix what it missed in its answer, so a
//! change the model made stands wherever its sentence is clean. Every
//! correction is read off a diff of the learner's sentence and the result
//! (`diff`), so it quotes the learner, and is explained only by a rule that fits
//! it exactly (`explain`).
pub mod diff;
pub mod edit;
pub mod explain;
pub mod lexicon;
pub mod patterns;
pub mod rules;
pub mod sentences;
pub mod tokens;

use std::{ops::Range, sync::Arc, time::Duration};

use futures_util::{stream, StreamExt};
use tokio::{sync::Semaphore, time::Instant};
use uuid::Uuid;

use self::{
    edit::{apply, Edit},
    rules::Rules,
};
use crate::{
    bot::{
        check::{self, CheckError},
        client::BotClient,
        provider::UpstreamError,
    },
    domain::feedback::{Correction, Feedback, Lint, Suggestion},
};

/// Model corrections kept for reuse, by total length of text.
const CACHE_BYTES: u64 = 8 << 20;
/// Sentences a remote model checks at once (the built-in model queues them).
const REMOTE_PARALLEL: usize = 4;

/// The tutor's state: the rules' linters and the model's recent corrections.
#[derive(Clone)]
pub struct Tutor {
    rules: Rules,
    /// The model's correction of a sentence, per learner: a learner who sends
    /// or checks the same sentence again waits for nothing. Keyed by learner
    /// too, so how fast a check is tells nobody what others wrote.
    cache: moka::sync::Cache<(Uuid, String), Arc<str>>,
    /// Rule checks running at once (each holds a linter and a CPU).
    running: Arc<Semaphore>,
}

impl Default for Tutor {
    fn default() -> Self {
        Self::new()
    }
}

impl Tutor {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            rules: Rules::default(),
            cache: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|(_, k): &(Uuid, String), v: &Arc<str>| (k.len() + v.len()).try_into().unwrap_or(u32::MAX))
                .time_to_idle(Duration::from_secs(24 * 3600))
                .build(),
            running: Arc::new(Semaphore::new(cores * 2)),
        }
    }

    /// Runs `work` with the rules on a blocking thread, a bounded number at once.
    async fn with_rules<T: Send + 'static>(&self, work: impl FnOnce(&Rules) -> T + Send + 'static) -> T {
        let _permit = self.running.acquire().await;
        let rules = self.rules.clone();
        match tokio::task::spawn_blocking(move || work(&rules)).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Rules only: every mistake they find in `text`, where it is, and the
    /// text with all of them fixed. Free and fast; nothing is stored.
    pub async fn lint(&self, text: &str) -> Lint {
        let text = text.to_owned();
        self.with_rules(move |rules| lint(rules, &text)).await
    }

    /// The whole check of `text` for `user`: the model corrects each sentence
    /// (until `deadline`), the rules fix what it missed. Fails only when the
    /// model checked no sentence at all; sentences it could not check are
    /// listed in the feedback, with the rules' fixes still applied.
    pub async fn check(
        &self,
        bot: &BotClient,
        user: Uuid,
        text: &str,
        deadline: Instant,
    ) -> Result<Feedback, CheckError> {
        let answers = self.model_answers(bot, user, text, deadline).await?;
        Ok(self.merge(text, answers).await)
    }

    /// The model's half of a check: its correction of each sentence of `text`
    /// (or why there is none); an error when it corrected none.
    pub async fn model_answers(
        &self,
        bot: &BotClient,
        user: Uuid,
        text: &str,
        deadline: Instant,
    ) -> Result<ModelAnswers, CheckError> {
        let ranges = sentences::split(text);
        let parallel = if bot.is_local() { 1 } else { REMOTE_PARALLEL };
        let sentences: Vec<String> = ranges.iter().map(|r| text[r.clone()].to_owned()).collect();
        let answers: Vec<Result<Arc<str>, CheckError>> = stream::iter(sentences)
            .map(|sentence| {
                let (tutor, bot) = (self.clone(), bot.clone());
                async move { tutor.model_correction(&bot, user, &sentence, deadline).await }
            })
            .buffered(parallel)
            .collect()
            .await;
        let mut first_error = None;
        let mut corrected = Vec::with_capacity(ranges.len());
        for answer in answers {
            match answer {
                Ok(c) => corrected.push(Some(c)),
                Err(e) => {
                    first_error.get_or_insert(e);
                    corrected.push(None);
                }
            }
        }
        if corrected.iter().all(Option::is_none) {
            return Err(first_error.unwrap_or(CheckError::Unusable));
        }
        Ok(ModelAnswers { ranges, corrected })
    }

    /// The rules' half: each sentence as the model corrected it (or as the
    /// learner wrote it, where the model failed) with the rules' fixes, and
    /// the corrections of the whole text.
    pub async fn merge(&self, text: &str, answers: ModelAnswers) -> Feedback {
        let text = text.to_owned();
        self.with_rules(move |rules| merge(rules, &text, answers)).await
    }

    /// The model's correction of one sentence, from the cache or the model;
    /// an answer that is not a correction of it is an error.
    async fn model_correction(
        &self,
        bot: &BotClient,
        user: Uuid,
        sentence: &str,
        deadline: Instant,
    ) -> Result<Arc<str>, CheckError> {
        let key = (user, sentence.to_owned());
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let corrected = tokio::time::timeout_at(deadline, check::correct(bot, sentence))
            .await
            .map_err(|_| UpstreamError::Timeout)??;
        if let Err(why) = diff::corrections(sentence, &corrected) {
            tracing::info!(?why, "the model's answer for a sentence was not a correction of it");
            return Err(CheckError::Unusable);
        }
        let corrected: Arc<str> = corrected.into();
        self.cache.insert(key, corrected.clone());
        Ok(corrected)
    }
}

/// The model's correction of each sentence of a text.
pub struct ModelAnswers {
    ranges: Vec<Range<usize>>,
    corrected: Vec<Option<Arc<str>>>,
}

impl ModelAnswers {
    /// `text` with each sentence the model corrected replaced by its correction.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        for (range, corrected) in self.ranges.iter().zip(&self.corrected) {
            out.push_str(&text[at..range.start]);
            out.push_str(corrected.as_deref().unwrap_or(&text[range.clone()]));
            at = range.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// Each sentence's result: the model's correction (or the learner's sentence
/// where the model failed) with the rules' fixes applied; then the
/// corrections of the whole text, in order.
fn merge(rules: &Rules, text: &str, answers: ModelAnswers) -> Feedback {
    let ModelAnswers { ranges, corrected } = answers;
    let parts = ranges
        .iter()
        .zip(corrected)
        .map(|(r, c)| (text[r.clone()].to_owned(), c));
    let mut corrected_text = String::with_capacity(text.len() + 16);
    let mut corrections = Vec::new();
    let mut unchecked = Vec::new();
    let mut at = 0;
    for (range, (sentence, answer)) in ranges.iter().zip(parts) {
        corrected_text.push_str(&text[at..range.start]);
        at = range.end;
        let base = answer.as_deref().unwrap_or(&sentence).to_owned();
        if answer.is_none() {
            unchecked.push(sentence.clone());
        }
        let edits = rules.edits(&base);
        let fixed = rules.fix(&base);
        let (result, found) = match diff::corrections(&sentence, &fixed) {
            Ok(found) => (fixed, found),
            // The rules never turn a correction into something else; if they
            // somehow did, the model's sentence stands.
            Err(_) => (base.clone(), diff::corrections(&sentence, &base).unwrap_or_default()),
        };
        corrected_text.push_str(&result);
        corrections.extend(found.into_iter().map(|c| with_rule_message(c, &edits, &base)));
    }
    corrected_text.push_str(&text[at..]);
    let mut feedback = Feedback::checked(corrected_text, corrections);
    feedback.unchecked_sentences = unchecked;
    feedback
}

/// A correction no explainer rule fits gets the message of the Harper rule
/// that made the same change, when one did.
fn with_rule_message(mut c: Correction, edits: &[Edit], base: &str) -> Correction {
    if c.explanation.is_empty() {
        if let Some(e) = edits.iter().find(|e| {
            e.rule.starts_with("harper:")
                && !e.message.is_empty()
                && c.original.contains(base[e.span.clone()].trim())
                && c.corrected.contains(e.replacement.trim())
        }) {
            c.explanation = e.message.clone();
        }
    }
    c
}

/// The rules' findings in `text`, each as a suggestion with its place in
/// characters.
fn lint(rules: &Rules, text: &str) -> Lint {
    let mut kept = Vec::new();
    let mut suggestions = Vec::new();
    let ranges = sentences::split(text);
    for edit in rules.edits(text) {
        // The change as the learner sees it: in its sentence, through the diff
        // (kind, explanation; chat style is not flagged).
        let Some(sentence) = ranges
            .iter()
            .find(|r| r.start <= edit.span.start && edit.span.end <= r.end)
        else {
            continue;
        };
        let local = Edit {
            span: edit.span.start - sentence.start..edit.span.end - sentence.start,
            ..edit.clone()
        };
        let before = &text[sentence.clone()];
        let after = apply(before, std::slice::from_ref(&local));
        let Some(correction) = diff::corrections(before, &after)
            .ok()
            .and_then(|c| c.into_iter().next())
        else {
            continue;
        };
        let correction = with_rule_message(correction, std::slice::from_ref(&local), before);
        let offset = text[..edit.span.start].chars().count();
        suggestions.push(Suggestion {
            offset: offset as u32,
            length: text[edit.span.clone()].chars().count() as u32,
            original: text[edit.span.clone()].to_owned(),
            replacement: edit.replacement.clone(),
            kind: correction.kind,
            rule: edit.rule.clone(),
            explanation: correction.explanation,
        });
        kept.push(edit);
    }
    Lint {
        corrected_text: apply(text, &kept),
        suggestions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The regression set: one or more learner sentences for each kind of
    /// mistake the rules know, with the fix and the explanation a learner sees.
    #[test]
    fn learner_sentences_get_their_fix_and_a_true_explanation() {
        let rules = Rules::default();
        let cases: [(&str, &str, &[&str]); 24] = [
            ("I buyed a new phone.", "I bought a new phone.", &["‘buy’ is irregular: its past tense and past participle are ‘bought’."]),
            ("She has already ate.", "She has already eaten.", &["After ‘have’, use the past participle: ‘eaten’, not ‘ate’ (eat, ate, eaten)."]),
            ("He go to work by bus.", "He goes to work by bus.", &["With he, she and it, a verb in the present simple takes -s: ‘he goes’."]),
            ("She don't eat meat.", "She doesn't eat meat.", &["With he, she and it, use ‘doesn't’ (not ‘don't’)."]),
            ("The childs are happy.", "The children are happy.", &["‘child’ has an irregular plural: ‘children’."]),
            ("I ate a apple.", "I ate an apple.", &["Use ‘an’ before a vowel sound: ‘an apple’."]),
            ("I need an advice.", "I need advice.", &["‘advice’ is uncountable: it has no plural and takes no ‘a’ or ‘an’ (say ‘some advice’)."]),
            ("My brother is more taller than me.", "My brother is taller than me.", &["‘taller’ is already a comparative: leave out ‘more’."]),
            ("See you in monday.", "See you on Monday.", &["Use ‘on’ with days: ‘on Monday’."]),
            ("I was born on 1999.", "I was born in 1999.", &["Use ‘in’ with months, seasons and years: ‘in 1999’."]),
            ("I am good in math.", "I am good at math.", &["We say ‘good at’, not ‘good in’."]),
            ("We discussed about the plan.", "We discussed the plan.", &["‘discuss’ takes no ‘about’: you discuss something."]),
            ("Can you explain me this?", "Can you explain to me this?", &["‘explain’ needs ‘to’ before the person: ‘explain to me’."]),
            ("He said me the answer.", "He told me the answer.", &["Use ‘tell’ with the person you speak to (‘told me’), and ‘say’ without one (‘said that’, ‘said to me’)."]),
            ("I have seen him yesterday.", "I saw him yesterday.", &["‘yesterday’ is a finished time, so use the past simple (‘saw’), not the present perfect (‘have’ + past participle)."]),
            ("I have went there two years ago.", "I went there two years ago.", &["‘two years ago’ is a finished time, so use the past simple (‘went’), not the present perfect (‘have’ + past participle)."]),
            ("If I will have time, I will call you.", "If I have time, I will call you.", &["After ‘if’ about the future, use the present simple, not ‘will’: ‘if I have’."]),
            ("I enjoy to swim.", "I enjoy swimming.", &["‘enjoy’ is followed by the -ing form: ‘enjoy swimming’."]),
            ("We decided going home.", "We decided to go home.", &["‘decide’ is followed by ‘to’ + verb: ‘decided to go’."]),
            ("You should to rest.", "You should rest.", &["After ‘should’, use the verb without ‘to’: ‘should rest’."]),
            ("I have to make my homework.", "I have to do my homework.", &["We ‘do’ tasks and work (‘do homework’, ‘do exercise’) and ‘make’ what we create or cause (‘make a mistake’, ‘make a decision’)."]),
            ("Where you are going?", "Where are you going?", &["In a question the verb comes before the subject: ‘are you’."]),
            ("She can swims.", "She can swim.", &["After ‘can’, use the base form of the verb: ‘swim’, not ‘swims’."]),
            ("I am agree with you.", "I agree with you.", &["‘agree’ is a verb, not an adjective: ‘I agree’, not ‘I am agree’."]),
        ];
        for (text, fixed, explanations) in cases {
            let found = lint(&rules, text);
            assert_eq!(found.corrected_text, fixed, "{text}");
            let got: Vec<&str> = found.suggestions.iter().map(|s| s.explanation.as_str()).collect();
            assert_eq!(got, explanations, "{text}");
        }
    }

    fn answers(text: &str, corrected: &[Option<&str>]) -> ModelAnswers {
        let ranges = sentences::split(text);
        assert_eq!(ranges.len(), corrected.len());
        ModelAnswers {
            ranges,
            corrected: corrected.iter().map(|c| c.map(Arc::from)).collect(),
        }
    }

    #[test]
    fn the_merge_keeps_clean_model_sentences_and_lets_the_rules_fix_the_rest() {
        let rules = Rules::default();
        let text = "I need an information.  He go home. She can swims!";
        let f = merge(
            &rules,
            text,
            answers(
                text,
                // The model's own (clean) fix stands, though the rules would
                // have fixed it differently; it failed on the second sentence
                // and missed the third one's mistake.
                &[Some("I need some information."), None, Some("She can swims!")],
            ),
        );
        assert_eq!(
            f.corrected_text.as_deref(),
            Some("I need some information.  He goes home. She can swim!")
        );
        assert_eq!(f.unchecked_sentences, ["He go home."]);
        let found: Vec<(&str, &str)> = f
            .corrections
            .iter()
            .map(|c| (c.original.as_str(), c.corrected.as_str()))
            .collect();
        assert_eq!(found, [("an", "some"), ("go", "goes"), ("swims", "swim")]);
        assert_eq!(
            f.corrections[2].explanation,
            "After ‘can’, use the base form of the verb: ‘swim’, not ‘swims’."
        );
        // Every original is the learner's own words.
        assert!(f.corrections.iter().all(|c| text.contains(&c.original)));
    }

    #[test]
    fn a_sentence_the_rules_saw_is_not_linted_again_and_places_stay_right() {
        let rules = Rules::default();
        let first = lint(&rules, "I goed home. She don't know.");
        let second = lint(&rules, "I goed home. She don't know. Then I eated.");
        assert_eq!(second.suggestions[..2], first.suggestions[..]);
        assert_eq!(second.corrected_text, "I went home. She doesn't know. Then I ate.");
        let third = &second.suggestions[2];
        assert_eq!((third.offset, third.length, third.original.as_str()), (36, 5, "eated"));
    }
}
