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
pub mod explain;
pub mod lexicon;
pub mod patterns;
pub mod rules;
pub mod sentences;

use std::{ops::Range, sync::Arc, time::Duration};

use futures_util::{stream, StreamExt};
use tokio::{sync::Semaphore, time::Instant};
use uuid::Uuid;

use self::rules::{Edit, Rules};
use crate::{
    bot::{
        check::{self, CheckError},
        client::{BotClient, UpstreamError},
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
        let after = rules::apply(before, std::slice::from_ref(&local));
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
        corrected_text: rules::apply(text, &kept),
        suggestions,
    }
}
