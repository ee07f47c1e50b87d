//! The tutor's findings about a learner's text: the vocabulary shared by the
//! checker, the exchange with the bot, the notebook and the API.
use poem_openapi::{Enum, Object};
use sea_orm::{prelude::StringLen, DeriveActiveEnum, EnumIter};

/// What sort of mistake a correction fixes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Enum, serde::Serialize, serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MistakeKind {
    /// A wrong form or word: tense, agreement, preposition, article...
    Grammar,
    Spelling,
    Punctuation,
    Capitalization,
    /// A word is missing.
    MissingWord,
    /// A word should be left out.
    ExtraWord,
    /// The right words in the wrong order.
    WordOrder,
}

impl MistakeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grammar => "grammar",
            Self::Spelling => "spelling",
            Self::Punctuation => "punctuation",
            Self::Capitalization => "capitalization",
            Self::MissingWord => "missing_word",
            Self::ExtraWord => "extra_word",
            Self::WordOrder => "word_order",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "spelling" => Self::Spelling,
            "punctuation" => Self::Punctuation,
            "capitalization" => Self::Capitalization,
            "missing_word" => Self::MissingWord,
            "extra_word" => Self::ExtraWord,
            "word_order" => Self::WordOrder,
            _ => Self::Grammar,
        }
    }
}

/// One correction of the learner's message.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Correction {
    /// What the learner wrote, quoted exactly from their message.
    pub original: String,
    /// How to say it.
    pub corrected: String,
    /// Why: a short rule that fits this change, quoting the learner's words.
    /// Empty when no rule explains it (the tutor never guesses).
    pub explanation: String,
    #[serde(default = "grammar")]
    pub kind: MistakeKind,
}

fn grammar() -> MistakeKind {
    MistakeKind::Grammar
}

/// One mistake the rules found as the learner types, where it is, and its fix.
#[derive(Debug, Clone, Object, serde::Serialize, PartialEq)]
pub struct Suggestion {
    /// Where the mistake starts, in characters (Unicode code points) from the
    /// start of the text.
    pub offset: u32,
    /// How many characters it covers.
    pub length: u32,
    /// The text at `offset` (what the learner wrote).
    pub original: String,
    /// What to write instead (empty: leave it out).
    pub replacement: String,
    pub kind: MistakeKind,
    /// Which rule found it (a stable name, e.g. `irregular_past` or
    /// `harper:AnA`).
    pub rule: String,
    /// Why, as a short rule; empty when there is none to give.
    pub explanation: String,
}

/// What the rules found in a text: each mistake, and the text with every fix
/// applied.
#[derive(Debug, Clone, Object, serde::Serialize, PartialEq)]
pub struct Lint {
    /// The text with every suggestion applied.
    pub corrected_text: String,
    /// In order of `offset`; never overlapping.
    pub suggestions: Vec<Suggestion>,
}

/// Whether the learner's message was checked, and what was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    /// Checked: `corrections` lists the mistakes.
    Corrected,
    /// Checked: no mistakes found.
    NoMistakes,
    /// The check did not produce a usable correction (the model failed, timed
    /// out or answered in the wrong shape). Nothing is known about mistakes.
    Unchecked,
}

/// The tutor's check of the learner's message.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Feedback {
    pub status: FeedbackStatus,
    /// The learner's message as the tutor would write it; `null` when unchecked.
    #[oai(nullable)]
    pub corrected_text: Option<String>,
    /// Empty unless `status` is `corrected`.
    pub corrections: Vec<Correction>,
    /// Sentences of the message the model could not check (quoted from it):
    /// only the rules looked at them. Empty when every sentence was checked.
    #[serde(default)]
    pub unchecked_sentences: Vec<String>,
}

impl Feedback {
    pub fn unchecked() -> Self {
        Self {
            status: FeedbackStatus::Unchecked,
            corrected_text: None,
            corrections: Vec::new(),
            unchecked_sentences: Vec::new(),
        }
    }

    pub fn checked(corrected_text: String, corrections: Vec<Correction>) -> Self {
        let status = if corrections.is_empty() {
            FeedbackStatus::NoMistakes
        } else {
            FeedbackStatus::Corrected
        };
        Self {
            status,
            corrected_text: Some(corrected_text),
            corrections,
            unchecked_sentences: Vec::new(),
        }
    }

    /// Reads stored feedback, including the shape written before `status`
    /// existed (`{corrections, tip}`).
    pub fn from_stored(json: &str) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Stored {
            status: Option<FeedbackStatus>,
            #[serde(default)]
            corrected_text: Option<String>,
            #[serde(default)]
            corrections: Vec<Correction>,
            #[serde(default)]
            unchecked_sentences: Vec<String>,
        }
        let s: Stored = serde_json::from_str(json).ok()?;
        let status = s.status.unwrap_or(if s.corrections.is_empty() {
            FeedbackStatus::NoMistakes
        } else {
            FeedbackStatus::Corrected
        });
        Some(Self {
            status,
            corrected_text: s.corrected_text,
            corrections: s.corrections,
            unchecked_sentences: s.unchecked_sentences,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_stored_before_statuses_existed_still_reads() {
        let old = r#"{"corrections": [{"original": "I goed", "corrected": "I went", "explanation": "irregular"}], "tip": "x"}"#;
        let f = Feedback::from_stored(old).unwrap();
        assert_eq!(f.status, FeedbackStatus::Corrected);
        assert_eq!(f.corrections[0].kind, MistakeKind::Grammar);
        assert_eq!(f.corrected_text, None);
        let none = Feedback::from_stored(r#"{"corrections": [], "tip": null}"#).unwrap();
        assert_eq!(none.status, FeedbackStatus::NoMistakes);
        let new = Feedback::checked("I went.".into(), Vec::new());
        let round = Feedback::from_stored(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(round, new);
        assert!(Feedback::from_stored("not json").is_none());
    }
}
