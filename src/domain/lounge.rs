//! The lounges' spam rule: a member whose last five messages would hold four
//! of the same is muted for ten minutes. Each member's last four messages are
//! remembered as short hashes of their normalized text.
use std::time::Duration;

use sha2::{Digest, Sha256};

/// How long the spam rule mutes.
pub const SPAM_MUTE: Duration = Duration::from_secs(10 * 60);

/// How many messages the rule remembers besides the new one.
const REMEMBERED: usize = 4;

/// The same message, whatever its case and spacing.
pub fn fingerprint(content: &str) -> String {
    let normal = content.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    hex::encode(&Sha256::digest(normal.as_bytes())[..8])
}

/// A member's remembered messages, oldest first (as stored: comma-separated).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recent(Vec<String>);

impl Recent {
    pub fn parse(stored: Option<&str>) -> Self {
        Self(
            stored
                .unwrap_or_default()
                .split(',')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether posting `content` would make four of the last five messages the same.
    pub fn would_spam(&self, content: &str) -> bool {
        let new = fingerprint(content);
        let last5: Vec<&str> = self.0.iter().map(String::as_str).chain([new.as_str()]).collect();
        last5
            .iter()
            .any(|h| last5.iter().filter(|other| *other == h).count() >= 4)
    }

    /// The memory after posting `content`, to store.
    pub fn after(&self, content: &str) -> String {
        let mut kept: Vec<String> = self.0.clone();
        kept.push(fingerprint(content));
        let start = kept.len().saturating_sub(REMEMBERED);
        kept[start..].join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posting(messages: &[&str]) -> (Recent, Vec<bool>) {
        let mut recent = Recent::default();
        let mut spam = Vec::new();
        for m in messages {
            spam.push(recent.would_spam(m));
            if !spam.last().unwrap() {
                recent = Recent::parse(Some(&recent.after(m)));
            }
        }
        (recent, spam)
    }

    #[test]
    fn the_fourth_same_message_of_five_is_spam_whatever_its_case_or_spacing() {
        let (_, spam) = posting(&["buy now", "Buy  now", "hello", "BUY NOW"]);
        assert_eq!(spam, [false, false, false, false]);
        let (_, spam) = posting(&["buy now", "Buy  now", "hello", "BUY NOW", "buy now"]);
        assert_eq!(spam, [false, false, false, false, true]);
        let (_, spam) = posting(&["hi", "hi", "hi", "hi"]);
        assert_eq!(spam, [false, false, false, true]);
    }

    #[test]
    fn only_the_last_five_count() {
        let (recent, spam) = posting(&["hi", "hi", "hi", "a", "b", "hi"]);
        assert_eq!(spam, [false; 6]);
        assert_eq!(recent.0.len(), REMEMBERED);
        assert!(!recent.would_spam("hi"), "three of the last five");
        assert_eq!(Recent::parse(Some(&recent.after("x"))).0.len(), REMEMBERED);
    }
}
