//! Texts as the tutor compares them: words and punctuation marks with their
//! places, and the runs of them that a correction changed.
use std::ops::Range;

/// A word or a single punctuation mark, with where it sits in its text.
pub struct Token<'a> {
    pub text: &'a str,
    pub span: Range<usize>,
    /// Compared form: typographic apostrophes and quotes made plain.
    pub key: String,
}

impl Token<'_> {
    pub fn is_word(&self) -> bool {
        self.text.chars().any(char::is_alphanumeric)
    }
}

fn joins_word(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '-')
}

/// Words (with inner apostrophes and hyphens: don't, well-known) and single
/// punctuation marks.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if c.is_alphanumeric() {
            // A word: letters and digits, with inner apostrophes and hyphens (don't, well-known).
            while j < chars.len() {
                let (_, d) = chars[j];
                let inner = joins_word(d) && chars.get(j + 1).is_some_and(|&(_, n)| n.is_alphanumeric());
                if d.is_alphanumeric() || inner {
                    j += if inner { 2 } else { 1 };
                } else {
                    break;
                }
            }
        }
        let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
        let slice = &text[start..end];
        let key = slice
            .chars()
            .map(|c| match c {
                '\u{2018}' | '\u{2019}' => '\'',
                '\u{201C}' | '\u{201D}' => '"',
                c => c,
            })
            .collect();
        tokens.push(Token {
            text: slice,
            span: start..end,
            key,
        });
        i = j;
    }
    tokens
}

/// A changed run of tokens: `old` in the learner's text, `new` in the correction.
#[derive(Debug, Clone)]
pub struct Hunk {
    pub old: Range<usize>,
    pub new: Range<usize>,
}
