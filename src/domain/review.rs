//! Practising one's own mistakes: a notebook entry becomes a quick exercise,
//! answers are checked exactly (no model), and entries are spaced with
//! Leitner boxes.
//!
//! **Leitner boxes.** A new entry is in box 0 and due at once. Answered right,
//! it moves up one box and comes back after that box's interval (1, 3, 7, 14,
//! then 30 days); answered wrong, it goes back to box 0 and comes back the
//! same day, after the other due entries.
use chrono::{Days, NaiveDate};

/// Days until an entry in box `n` (1..) is due again; the last repeats.
const INTERVALS: [u64; 5] = [1, 3, 7, 14, 30];
/// The highest box.
pub const TOP_BOX: i32 = INTERVALS.len() as i32;

/// Where an entry goes after an answer: `(box, due day)`.
pub fn schedule(current: i32, correct: bool, today: NaiveDate) -> (i32, NaiveDate) {
    if !correct {
        return (0, today);
    }
    let next = (current.max(0) + 1).min(TOP_BOX);
    let wait = INTERVALS[(next - 1) as usize];
    (next, today.checked_add_days(Days::new(wait)).unwrap_or(today))
}

/// How an entry is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exercise {
    /// Pick the right words for the gap (`___`) among `choices`.
    Choose { prompt: String, choices: Vec<String> },
    /// Write the sentence again without the mistake.
    Rewrite { prompt: String },
}

/// The parts of a notebook entry an exercise is made of.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The learner's whole message.
    pub message: &'a str,
    /// What the learner wrote (quoted from `message`).
    pub original: &'a str,
    pub corrected: &'a str,
    pub kind: super::feedback::MistakeKind,
    /// The entry's box: it picks the exercise, so one entry is asked both ways.
    pub review_box: i32,
}

pub const GAP: &str = "___";

impl Entry<'_> {
    /// The sentence of the message the mistake is in (the whole message when
    /// it cannot be found).
    pub fn sentence(&self) -> &str {
        let found = self.message.find(self.original).filter(|_| !self.original.is_empty());
        let Some(at) = found else {
            return self.message.trim();
        };
        let start = self.message[..at]
            .char_indices()
            .rev()
            .find(|&(i, c)| matches!(c, '.' | '!' | '?') && self.message[i + 1..at].starts_with(char::is_whitespace))
            .map_or(0, |(i, _)| i + 1);
        let end_from = at + self.original.len();
        let end = self.message[end_from..]
            .char_indices()
            .find(|&(i, c)| {
                matches!(c, '.' | '!' | '?')
                    && self.message[end_from + i + 1..]
                        .chars()
                        .next()
                        .is_none_or(char::is_whitespace)
            })
            .map_or(self.message.len(), |(i, c)| end_from + i + c.len_utf8());
        self.message[start..end].trim()
    }

    /// The sentence as it should be.
    pub fn corrected_sentence(&self) -> String {
        let sentence = self.sentence();
        match sentence.find(self.original).filter(|_| !self.original.is_empty()) {
            Some(at) => format!(
                "{}{}{}",
                &sentence[..at],
                self.corrected,
                &sentence[at + self.original.len()..]
            ),
            None => self.corrected.to_owned(),
        }
    }

    /// Even boxes choose (when there is a third choice), odd boxes rewrite.
    pub fn exercise(&self) -> Exercise {
        let sentence = self.sentence();
        let gap = sentence.find(self.original).filter(|_| !self.original.is_empty());
        if let (Some(at), Some(other), true) =
            (gap, distractor(self.original, self.corrected), self.review_box % 2 == 0)
        {
            let prompt = format!("{}{GAP}{}", &sentence[..at], &sentence[at + self.original.len()..]);
            let mut choices = vec![self.corrected.to_owned(), self.original.to_owned(), other];
            // A fixed order that does not always put the answer first.
            choices.sort_by_key(|c| fingerprint(c, sentence));
            return Exercise::Choose { prompt, choices };
        }
        Exercise::Rewrite {
            prompt: sentence.to_owned(),
        }
    }

    /// Whether `answer` is right for this entry's exercise: the right choice,
    /// or the corrected sentence (case, spaces and the final full stop aside).
    pub fn check(&self, answer: &str) -> bool {
        match self.exercise() {
            Exercise::Choose { .. } => same(answer, self.corrected),
            Exercise::Rewrite { .. } => same(answer, &self.corrected_sentence()),
        }
    }

    /// The right answer, to show after a wrong one.
    pub fn expected(&self) -> String {
        match self.exercise() {
            Exercise::Choose { .. } => self.corrected.to_owned(),
            Exercise::Rewrite { .. } => self.corrected_sentence(),
        }
    }
}

fn normal(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ").to_lowercase().replace(['’', '‘'], "'");
    joined.trim_end_matches(['.', '!']).trim_end().to_owned()
}

fn same(a: &str, b: &str) -> bool {
    normal(a) == normal(b)
}

fn fingerprint(choice: &str, salt: &str) -> u64 {
    // FNV-1a: stable across runs and builds (the order must not change
    // between showing the choices and checking the answer).
    choice.bytes().chain(salt.bytes()).fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A third, wrong choice made from the right one the way learners go wrong
/// (the rules' usual suspects: verb endings, articles, plurals, prepositions),
/// different from both the right answer and the learner's own form.
pub fn distractor(original: &str, corrected: &str) -> Option<String> {
    let taken = |c: &str| same(c, original) || same(c, corrected) || c.trim().is_empty();
    let words: Vec<&str> = corrected.split_whitespace().collect();
    let last = *words.last()?;
    let head = &words[..words.len() - 1];
    let with_last = |w: String| {
        let mut all: Vec<String> = head.iter().map(|s| (*s).to_owned()).collect();
        all.push(w);
        all.join(" ")
    };
    let mut candidates: Vec<String> = Vec::new();
    // Articles and prepositions swapped for their usual confusions.
    const SWAPS: [(&str, &[&str]); 10] = [
        ("a", &["an", "the"]),
        ("an", &["a", "the"]),
        ("the", &["a", "an"]),
        ("in", &["on", "at"]),
        ("on", &["in", "at"]),
        ("at", &["in", "on"]),
        ("to", &["for", "at"]),
        ("for", &["to", "since"]),
        ("since", &["for", "from"]),
        ("of", &["for", "from"]),
    ];
    for (i, w) in words.iter().enumerate() {
        if let Some((_, others)) = SWAPS.iter().find(|(k, _)| k.eq_ignore_ascii_case(w)) {
            for other in *others {
                let mut all: Vec<&str> = words.clone();
                all[i] = other;
                candidates.push(all.join(" "));
            }
        }
    }
    // Verb and noun endings.
    let lower = last.to_lowercase();
    if let Some(stem) = lower.strip_suffix("ied") {
        candidates.push(with_last(format!("{stem}yed")));
        candidates.push(with_last(format!("{stem}ying")));
        candidates.push(with_last(format!("{stem}y")));
    } else if let Some(stem) = lower
        .strip_suffix("es")
        .filter(|s| s.ends_with(['o', 's', 'x', 'z', 'h']))
    {
        candidates.push(with_last(stem.to_owned()));
        candidates.push(with_last(format!("{stem}ed")));
    } else if let Some(stem) = lower.strip_suffix("ed") {
        candidates.push(with_last(format!("{stem}ing")));
        candidates.push(with_last(stem.to_owned()));
    } else if let Some(stem) = lower.strip_suffix("ing") {
        candidates.push(with_last(format!("{stem}ed")));
        candidates.push(with_last(stem.to_owned()));
    } else if let Some(stem) = lower.strip_suffix('s').filter(|s| s.len() > 1) {
        candidates.push(with_last(stem.to_owned()));
        candidates.push(with_last(format!("{stem}ed")));
    } else if last.chars().all(char::is_alphabetic) && last.len() > 1 {
        candidates.push(with_last(format!("{lower}s")));
        candidates.push(with_last(format!("{lower}ed")));
    }
    candidates.into_iter().find(|c| !taken(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feedback::MistakeKind;

    fn entry<'a>(message: &'a str, original: &'a str, corrected: &'a str, review_box: i32) -> Entry<'a> {
        Entry {
            message,
            original,
            corrected,
            kind: MistakeKind::Grammar,
            review_box,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn right_answers_climb_the_boxes_and_a_wrong_one_starts_again_today() {
        let today = day("2026-12-06");
        assert_eq!(schedule(0, true, today), (1, day("2026-12-07")));
        assert_eq!(schedule(1, true, today), (2, day("2026-12-09")));
        assert_eq!(schedule(2, true, today), (3, day("2026-12-13")));
        assert_eq!(schedule(4, true, today), (5, day("2027-01-05")));
        assert_eq!(schedule(TOP_BOX, true, today), (TOP_BOX, day("2027-01-05")));
        assert_eq!(schedule(3, false, today), (0, today));
    }

    #[test]
    fn the_sentence_is_the_one_the_mistake_is_in() {
        let e = entry(
            "Hello there. Yesterday I goed to the cinema! It was fun.",
            "goed",
            "went",
            0,
        );
        assert_eq!(e.sentence(), "Yesterday I goed to the cinema!");
        assert_eq!(e.corrected_sentence(), "Yesterday I went to the cinema!");
        let e = entry("I have 3.5 dogs and he go home", "he go", "he goes", 0);
        assert_eq!(e.sentence(), "I have 3.5 dogs and he go home");
        let e = entry("something else", "missing", "fixed", 0);
        assert_eq!(e.sentence(), "something else");
    }

    #[test]
    fn even_boxes_choose_among_three_and_odd_boxes_rewrite() {
        let e = entry("Yesterday I goed to the cinema.", "goed", "went", 0);
        match e.exercise() {
            Exercise::Choose { prompt, choices } => {
                assert_eq!(prompt, "Yesterday I ___ to the cinema.");
                assert_eq!(choices.len(), 3);
                assert!(choices.contains(&"went".to_owned()) && choices.contains(&"goed".to_owned()));
                let third = choices.iter().find(|c| *c != "went" && *c != "goed").unwrap();
                assert_eq!(third, "wents");
                assert_eq!(e.exercise(), e.exercise(), "the same order every time");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.check("went") && e.check(" Went ") && !e.check("goed"));
        let rewrite = Entry { review_box: 1, ..e };
        assert_eq!(
            rewrite.exercise(),
            Exercise::Rewrite {
                prompt: "Yesterday I goed to the cinema.".into()
            }
        );
        assert!(rewrite.check("yesterday I went to  the cinema"));
        assert!(!rewrite.check("Yesterday I goed to the cinema."));
        assert_eq!(rewrite.expected(), "Yesterday I went to the cinema.");
    }

    #[test]
    fn distractors_are_the_usual_confusions_never_the_answer_or_the_learners_form() {
        assert_eq!(distractor("a apple", "an apple").as_deref(), Some("the apple"));
        assert_eq!(distractor("in Monday", "on Monday").as_deref(), Some("at Monday"));
        assert_eq!(distractor("he go", "he goes").as_deref(), Some("he goed"));
        assert_eq!(distractor("I am agree", "I agree").as_deref(), Some("I agrees"));
        assert_eq!(distractor("studyed", "studied").as_deref(), Some("studying"));
        assert_eq!(distractor("x", "").as_deref(), None);
    }

    #[test]
    fn without_a_third_choice_the_entry_is_rewritten() {
        let e = entry("I like it ,really.", ",", ".", 0);
        assert!(matches!(e.exercise(), Exercise::Rewrite { .. }));
    }
}
