//! Corrections derived from a word-level diff of what the learner wrote and the
//! corrected sentence the model returned. Every `original` is a slice of the
//! learner's own text, whatever the model said.
use std::ops::Range;

use similar::{capture_diff_slices, Algorithm, DiffOp};

use super::explain::{self, Change};
use super::tokens::{tokenize, Hunk, Token};

use crate::domain::feedback::{Correction, MistakeKind};

/// The text covering tokens `range` (including the spaces between them).
fn slice<'a>(text: &'a str, tokens: &[Token<'_>], range: &Range<usize>) -> &'a str {
    if range.is_empty() {
        return "";
    }
    &text[tokens[range.start].span.start..tokens[range.end - 1].span.end]
}

/// Changed runs of tokens; neighbouring changes form one hunk.
fn hunks(old: &[Token<'_>], new: &[Token<'_>]) -> (Vec<Hunk>, usize) {
    let old_keys: Vec<&str> = old.iter().map(|t| t.key.as_str()).collect();
    let new_keys: Vec<&str> = new.iter().map(|t| t.key.as_str()).collect();
    let mut hunks: Vec<Hunk> = Vec::new();
    let mut kept_words = 0;
    for op in capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys) {
        if let DiffOp::Equal { old_index, len, .. } = op {
            kept_words += old[old_index..old_index + len].iter().filter(|t| t.is_word()).count();
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        match hunks.last_mut() {
            Some(h) if h.old.end == o.start && h.new.end == n.start => {
                h.old.end = o.end;
                h.new.end = n.end;
            }
            _ => hunks.push(Hunk { old: o, new: n }),
        }
    }
    (merge_moves(old, new, hunks), kept_words)
}

/// A word taken out in one place and put back a little later is one change of
/// word order, not a deletion and an insertion.
fn merge_moves(old: &[Token<'_>], new: &[Token<'_>], hunks: Vec<Hunk>) -> Vec<Hunk> {
    let mut out: Vec<Hunk> = Vec::with_capacity(hunks.len());
    for h in hunks {
        if let Some(prev) = out.last_mut() {
            let moved = |from: &[Token<'_>], to: &[Token<'_>]| {
                let a: Vec<&str> = from.iter().map(|t| t.key.as_str()).collect();
                let b: Vec<&str> = to.iter().map(|t| t.key.as_str()).collect();
                !a.is_empty() && a == b && from.iter().any(Token::is_word)
            };
            let deleted_then_inserted =
                prev.new.is_empty() && h.old.is_empty() && moved(&old[prev.old.clone()], &new[h.new.clone()]);
            let inserted_then_deleted =
                prev.old.is_empty() && h.new.is_empty() && moved(&new[prev.new.clone()], &old[h.old.clone()]);
            if (deleted_then_inserted || inserted_then_deleted) && h.old.start - prev.old.end <= 3 {
                prev.old.end = h.old.end;
                prev.new.end = h.new.end;
                continue;
            }
        }
        out.push(h);
    }
    out
}

fn lower(tokens: &[Token<'_>], range: &Range<usize>) -> Vec<String> {
    tokens[range.clone()].iter().map(|t| t.key.to_lowercase()).collect()
}

fn classify(old: &[Token<'_>], new: &[Token<'_>], h: &Hunk) -> MistakeKind {
    let (o, n) = (&old[h.old.clone()], &new[h.new.clone()]);
    let all_punct = o.iter().chain(n).all(|t| !t.is_word());
    if all_punct {
        return MistakeKind::Punctuation;
    }
    if o.is_empty() {
        return MistakeKind::MissingWord;
    }
    if n.is_empty() {
        return MistakeKind::ExtraWord;
    }
    let (lo, ln) = (lower(old, &h.old), lower(new, &h.new));
    if lo == ln {
        return MistakeKind::Capitalization;
    }
    if is_subsequence(&lo, &ln) {
        return MistakeKind::MissingWord;
    }
    if is_subsequence(&ln, &lo) {
        return MistakeKind::ExtraWord;
    }
    if lo.len() >= 2 {
        let (mut a, mut b) = (lo.clone(), ln.clone());
        a.sort();
        b.sort();
        if a == b {
            return MistakeKind::WordOrder;
        }
    }
    if let ([a], [b]) = (lo.as_slice(), ln.as_slice()) {
        let (la, lb) = (a.chars().count(), b.chars().count());
        // Same stem, different ending (day/days, eated/eaten): a form, not a spelling.
        let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        let related_forms = common + 2 >= la.min(lb);
        let close = strsim::osa_distance(a, b) <= 2 && la.abs_diff(lb) <= 1;
        if !related_forms && la >= 4 && lb >= 4 && close {
            return MistakeKind::Spelling;
        }
    }
    MistakeKind::Grammar
}

/// Whether every item of `short` appears in `long`, in order.
fn is_subsequence(short: &[String], long: &[String]) -> bool {
    let mut rest = long.iter();
    short.iter().all(|s| rest.any(|l| l == s))
}

/// A change a chat does not need flagged: a missing full stop at the very end,
/// or a lower-case first letter.
fn is_chat_style(old: &[Token<'_>], new: &[Token<'_>], h: &Hunk) -> bool {
    let touches_end = h.old.end == old.len() && h.new.end == new.len();
    let only_punct = old[h.old.clone()]
        .iter()
        .chain(&new[h.new.clone()])
        .all(|t| !t.is_word());
    let one_side_empty = h.old.is_empty() || h.new.is_empty();
    if touches_end && only_punct && one_side_empty {
        return true;
    }
    h.old.start == 0 && h.new.start == 0 && !h.old.is_empty() && lower(old, &h.old) == lower(new, &h.new)
}

/// Why a corrected sentence was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// The model returned nothing.
    Empty,
    /// It rewrote or answered the message instead of correcting it.
    NotACorrection,
}

/// The learner's mistakes: each change between `learner` and `corrected`, quoted
/// from the learner's text. Empty when the sentence needed no change.
pub fn corrections(learner: &str, corrected: &str) -> Result<Vec<Correction>, Rejected> {
    let old = tokenize(learner);
    let new = tokenize(corrected);
    if new.is_empty() {
        return Err(Rejected::Empty);
    }
    let (hunks, kept_words) = hunks(&old, &new);
    let learner_words = old.iter().filter(|t| t.is_word()).count();
    let corrected_words = new.iter().filter(|t| t.is_word()).count();
    // A correction keeps most of the learner's words and does not ramble on.
    if (learner_words >= 3 && kept_words * 2 < learner_words) || corrected_words > learner_words * 2 + 4 {
        return Err(Rejected::NotACorrection);
    }
    let mut out = Vec::new();
    for h in hunks {
        if is_chat_style(&old, &new, &h) {
            continue;
        }
        let kind = classify(&old, &new, &h);
        // An insertion or a deletion is shown with the word before it (or after
        // it, at the start), so `original` is never empty.
        let mut wide = Hunk {
            old: h.old.clone(),
            new: h.new.clone(),
        };
        if h.old.is_empty() || h.new.is_empty() {
            if h.old.start > 0 && h.new.start > 0 {
                wide.old.start -= 1;
                wide.new.start -= 1;
            } else if h.old.end < old.len() && h.new.end < new.len() {
                wide.old.end += 1;
                wide.new.end += 1;
            }
        }
        let original = slice(learner, &old, &wide.old);
        let fixed = slice(corrected, &new, &wide.new);
        if original.is_empty() || fixed.is_empty() {
            continue;
        }
        let change = Change::new(&old, &new, &h, slice(corrected, &new, &h.new));
        let explanation = explain::explain(&change).unwrap_or_default();
        out.push(Correction {
            original: original.to_owned(),
            corrected: fixed.to_owned(),
            explanation,
            kind,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(learner: &str, corrected: &str) -> Vec<(String, String, MistakeKind)> {
        corrections(learner, corrected)
            .unwrap()
            .into_iter()
            .map(|c| (c.original, c.corrected, c.kind))
            .collect()
    }

    fn p(o: &str, c: &str, k: MistakeKind) -> (String, String, MistakeKind) {
        (o.into(), c.into(), k)
    }

    #[test]
    fn replacements_quote_the_learners_words() {
        assert_eq!(
            pairs(
                "Yesterday I goed to the cinema with my freind.",
                "Yesterday I went to the cinema with my friend."
            ),
            vec![
                p("goed", "went", MistakeKind::Grammar),
                p("freind", "friend", MistakeKind::Spelling)
            ]
        );
        assert_eq!(
            pairs("She don't like apples.", "She doesn't like apples."),
            vec![p("don't", "doesn't", MistakeKind::Grammar)]
        );
    }

    #[test]
    fn insertions_and_deletions_show_a_neighbouring_word() {
        assert_eq!(
            pairs("I want order a pizza", "I want to order a pizza"),
            vec![p("want", "want to", MistakeKind::MissingWord)]
        );
        assert_eq!(
            pairs("I am work in a bank", "I work in a bank"),
            vec![p("I am", "I", MistakeKind::ExtraWord)]
        );
        assert_eq!(
            pairs("Cat is sleeping", "The cat is sleeping"),
            vec![p("Cat", "The cat", MistakeKind::MissingWord)]
        );
    }

    #[test]
    fn punctuation_case_and_order() {
        assert_eq!(
            pairs("Yes i think so", "Yes I think so"),
            vec![p("i", "I", MistakeKind::Capitalization)]
        );
        assert_eq!(
            pairs("Well I think, so.", "Well, I think so."),
            vec![
                p("Well", "Well,", MistakeKind::Punctuation),
                p("think,", "think", MistakeKind::Punctuation)
            ]
        );
        assert_eq!(
            pairs("Where you are going?", "Where are you going?"),
            vec![p("you are", "are you", MistakeKind::WordOrder)]
        );
    }

    #[test]
    fn chat_style_is_not_flagged() {
        // A lower-case first letter and a missing full stop are fine in a chat.
        assert!(pairs("hello, how are you", "Hello, how are you?").is_empty());
        assert!(pairs("See you tomorrow", "See you tomorrow.").is_empty());
        // A wrong mark at the end still is.
        assert_eq!(
            pairs("How are you.", "How are you?"),
            vec![p(".", "?", MistakeKind::Punctuation)]
        );
    }

    #[test]
    fn unchanged_text_and_typographic_apostrophes_mean_no_mistakes() {
        assert!(pairs("I don\u{2019}t know.", "I don't know.").is_empty());
        assert!(pairs("Where is the station?", "Where is the station?").is_empty());
    }

    #[test]
    fn unicode_text_is_sliced_on_character_boundaries() {
        let learner = "Ich bin in Zürich gewesen and I have eated crêpes \u{1F600}";
        let got = pairs(learner, "Ich bin in Zürich gewesen and I have eaten crêpes \u{1F600}");
        assert_eq!(got, vec![p("eated", "eaten", MistakeKind::Grammar)]);
        assert_eq!(
            pairs("Ça va? I has a café", "Ça va? I have a café"),
            vec![p("has", "have", MistakeKind::Grammar)]
        );
    }

    #[test]
    fn every_original_is_a_substring_of_the_learners_text() {
        let learner = "me and him goes to  the park yesterday , it were fun!!";
        let fixed = "He and I went to the park yesterday; it was fun!";
        for c in corrections(learner, fixed).unwrap() {
            assert!(learner.contains(&c.original), "{c:?}");
            assert!(!c.original.is_empty() && !c.corrected.is_empty());
        }
    }

    #[test]
    fn answers_and_rambling_are_rejected() {
        assert_eq!(
            corrections("What do you do at weekends?", "I usually play football with friends."),
            Err(Rejected::NotACorrection)
        );
        let looped = "I went to the cinema yesterday. ".repeat(6);
        assert_eq!(
            corrections("Yesterday I goed to the cinema.", &looped),
            Err(Rejected::NotACorrection)
        );
        assert_eq!(corrections("Hi", "  "), Err(Rejected::Empty));
    }
}
