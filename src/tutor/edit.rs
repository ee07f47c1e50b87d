//! A fix to a text: a byte span and what replaces it.
use std::ops::Range;

/// One fix found by the rules: replace `span` (bytes of the checked text)
/// with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub replacement: String,
    /// Which rule found it: a pattern's name, or `harper:` and Harper's rule.
    pub rule: String,
    /// What the rule says about it, when the explainer has nothing better.
    pub message: String,
}

/// `text` with `edits` (sorted, not overlapping) applied.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.span.start]);
        out.push_str(&e.replacement);
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}
