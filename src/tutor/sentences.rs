//! Splitting a learner's text into sentences, so each is checked on its own: a
//! small model corrects one sentence far more reliably than a paragraph, one
//! that fails leaves the others checked, and a repeated sentence is not checked
//! twice.
use std::ops::Range;

/// Words that end with a full stop without ending a sentence.
const ABBREVIATIONS: [&str; 15] = [
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "eg", "ie", "approx", "cf", "fig",
];

/// The sentences of `text` as byte ranges, in order: each starts at its first
/// visible character and ends after its closing punctuation (and any closing
/// quote or bracket), so the text between two ranges is only white space.
/// A line break always ends a sentence.
pub fn split(text: &str) -> Vec<Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if start.is_none() {
            if !c.is_whitespace() {
                start = Some(at);
            }
            i += 1;
            continue;
        }
        if c == '\n' {
            push(&mut out, text, start.take(), at);
            i += 1;
            continue;
        }
        if matches!(c, '.' | '!' | '?' | '…') {
            // A run of closing marks, then closing quotes or brackets.
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j].1, '.' | '!' | '?' | '…') {
                j += 1;
            }
            let marks_end = j;
            while j < chars.len() && matches!(chars[j].1, '"' | '\'' | '\u{201D}' | '\u{2019}' | ')' | ']') {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
            // After a quotation ("Stop!" and left) the sentence goes on unless a capital follows.
            let next_visible = chars[j..].iter().map(|&(_, n)| n).find(|n| !n.is_whitespace());
            let quoted = j > marks_end && next_visible.is_some_and(char::is_lowercase);
            let followed_by_space = chars.get(j).is_none_or(|&(_, n)| n.is_whitespace()) && !quoted;
            let s = start.unwrap_or(at);
            if followed_by_space && !(c == '.' && j == i + 1 && is_abbreviation(&text[s..at])) {
                push(&mut out, text, start.take(), end);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    push(&mut out, text, start, text.len());
    out
}

fn push(out: &mut Vec<Range<usize>>, text: &str, start: Option<usize>, end: usize) {
    if let Some(start) = start {
        let end = start + text[start..end].trim_end().len();
        if end > start {
            out.push(start..end);
        }
    }
}

/// Whether the sentence so far ends with an abbreviation or an initial, so the
/// full stop after it does not end the sentence.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or_default();
    let lower = word.to_lowercase();
    let single_letter = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
    single_letter || ABBREVIATIONS.contains(&lower.as_str()) || (lower.contains('.') && lower.len() <= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Vec<&str> {
        split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn sentences_end_at_their_marks_and_keep_them() {
        assert_eq!(
            parts("I goed home. Then I eated!  Did you see? Yes..."),
            vec!["I goed home.", "Then I eated!", "Did you see?", "Yes..."]
        );
        assert_eq!(parts("no capital here. and here"), vec!["no capital here.", "and here"]);
        assert_eq!(
            parts("He said \"Stop!\" and left."),
            vec!["He said \"Stop!\" and left."]
        );
        assert_eq!(parts("\"Stop!\" He left."), vec!["\"Stop!\"", "He left."]);
    }

    #[test]
    fn abbreviations_numbers_and_initials_do_not_end_a_sentence() {
        assert_eq!(
            parts("Mr. Smith paid 3.50 dollars, e.g. for tea. J. K. Rowling wrote it."),
            vec!["Mr. Smith paid 3.50 dollars, e.g. for tea.", "J. K. Rowling wrote it."]
        );
        assert_eq!(parts("Visit example.com today."), vec!["Visit example.com today."]);
        assert_eq!(parts("I said no. Then I left."), vec!["I said no.", "Then I left."]);
    }

    #[test]
    fn line_breaks_end_sentences_and_blank_text_has_none() {
        assert_eq!(
            parts("hello\nhow are you\n\n fine "),
            vec!["hello", "how are you", "fine"]
        );
        assert!(parts("   \n ").is_empty());
        assert_eq!(parts("Ça va? Très bien 😀."), vec!["Ça va?", "Très bien 😀."]);
    }

    #[test]
    fn the_text_between_sentences_is_white_space() {
        let text = "  One. Two?\tThree!\nFour ";
        let ranges = split(text);
        let mut at = 0;
        for r in &ranges {
            assert!(text[at..r.start].trim().is_empty());
            at = r.end;
        }
        assert!(text[at..].trim().is_empty());
    }
}
