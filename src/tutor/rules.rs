//! The rules layer: mistakes found without the model, in milliseconds. Harper
//! (an English grammar checker in Rust) finds spelling, agreement, articles and
//! many fixed expressions; `patterns` adds the mistakes learners make most that
//! Harper misses (tenses with time words, verb patterns, prepositions, make/do).
use std::{
    ops::Range,
    sync::{Arc, Mutex},
};

use harper_core::{
    linting::{Lint, LintGroup, LintKind, Suggestion},
    spell::FstDictionary,
    Dialect, Document,
};

use harper_core::spell::{suggest_correct_spelling_str, Dictionary};

use super::{
    edit::{apply, Edit},
    lexicon::UNCOUNTABLE,
    patterns, sentences, tokens,
};

/// Harper's rules left out: style advice, what chat style allows, and rules
/// that misfire on learners' sentences ("Where you are going?" is not a typo
/// for "Were"). Spelling is checked by `spelling` instead: Harper's own
/// search widens to four edits and can take seconds on one long odd word.
const HARPER_IGNORED: [&str; 18] = [
    "ModalBeAdjective",
    "SpellCheck",
    "SentenceCapitalization",
    "LongSentences",
    "Spaces",
    "UnclosedQuotes",
    "AvoidCurses",
    "BoringWords",
    "ExpandTimeShorthands",
    "ExpandMemoryShorthands",
    "NoFrenchSpaces",
    "EllipsisLength",
    "Dashes",
    "OxfordComma",
    "WereWhere",
    "SplitWords",
    "WrongNegative",
    "AvoidAndAlso",
];

/// Words a chat allows that no dictionary has, and abbreviations it lacks.
const CHAT_WORDS: [&str; 17] = [
    "lol", "haha", "hahaha", "omg", "btw", "thx", "pls", "plz", "ok", "okay", "hmm", "yeah", "wow", "xd", "etc", "vs",
    "tv",
];

/// Sentences whose fixes are kept, by total length: as a learner types, only
/// the sentence being written changes.
const CACHE_BYTES: u64 = 4 << 20;

/// Harper's linters, built on first use (about half a second each) and kept
/// for reuse; each check takes one, so checks run side by side. The fixes of
/// recent sentences are kept too.
#[derive(Clone)]
pub struct Rules {
    idle: Arc<Mutex<Vec<LintGroup>>>,
    cache: moka::sync::Cache<String, Arc<Vec<Edit>>>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            idle: Arc::default(),
            cache: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|k: &String, v: &Arc<Vec<Edit>>| (k.len() + v.len() * 64).try_into().unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl Rules {
    /// The fixes the rules find in `text`, in order and never overlapping.
    /// CPU work (about 1.5 ms a new sentence; a sentence seen recently costs
    /// nothing): call it off the async runtime.
    pub fn edits(&self, text: &str) -> Vec<Edit> {
        let ranges = sentences::split(text);
        let mut found: Vec<Option<Arc<Vec<Edit>>>> = ranges.iter().map(|r| self.cache.get(&text[r.clone()])).collect();
        let missing: Vec<usize> = (0..ranges.len()).filter(|&i| found[i].is_none()).collect();
        // One Harper pass over all new sentences: splitting them over threads
        // was slower (38 → 49 ms for 2,000 characters on two cores).
        let texts: Vec<&str> = missing.iter().map(|&i| &text[ranges[i].clone()]).collect();
        let done = missing.iter().copied().zip(self.sentences(&texts));
        for (i, edits) in done {
            found[i] = Some(edits);
        }
        ranges
            .iter()
            .zip(found)
            .flat_map(|(range, edits)| {
                edits
                    .unwrap_or_default()
                    .iter()
                    .map(|e| Edit {
                        span: e.span.start + range.start..e.span.end + range.start,
                        ..e.clone()
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The fixes in each of `sentences` (spans within it): the patterns
    /// first, then Harper's and the spelling where they do not overlap those.
    /// Harper reads them as one text (each text it reads costs a few
    /// milliseconds however short), one sentence a line.
    fn sentences(&self, sentences: &[&str]) -> Vec<Arc<Vec<Edit>>> {
        let joined = sentences.join("\n");
        let mut harper = self.harper(&joined).into_iter().peekable();
        let mut at = 0;
        let mut out = Vec::with_capacity(sentences.len());
        for sentence in sentences {
            let range = at..at + sentence.len();
            at = range.end + 1;
            let mut edits = patterns::edits(sentence);
            let mut others = Vec::new();
            while let Some(e) = harper.next_if(|e| e.span.start < range.end) {
                if e.span.start >= range.start && e.span.end <= range.end {
                    others.push(Edit {
                        span: e.span.start - range.start..e.span.end - range.start,
                        ..e
                    });
                }
            }
            for edit in others.into_iter().chain(spelling(sentence)) {
                if !edits.iter().any(|e| overlaps(&e.span, &edit.span)) {
                    edits.push(edit);
                }
            }
            edits.sort_by_key(|e| e.span.start);
            let edits = Arc::new(edits);
            self.cache.insert((*sentence).to_owned(), edits.clone());
            out.push(edits);
        }
        out
    }

    /// `text` with every fix the rules find applied.
    /// One fix can reveal another ("did not developped" → "did not
    /// developed" → "did not develop"), so this looks twice.
    pub fn fix(&self, text: &str) -> String {
        let once = apply(text, &self.edits(text));
        apply(&once, &self.edits(&once))
    }

    fn harper(&self, text: &str) -> Vec<Edit> {
        let mut linter = self
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| {
                let mut group = LintGroup::new_curated(FstDictionary::curated(), Dialect::American);
                for rule in HARPER_IGNORED {
                    group.config.set_rule_enabled(rule, false);
                }
                group
            });
        let document = Document::new_plain_english_curated(text);
        let lints = linter.organized_lints(&document);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(linter);
        let offsets = CharOffsets::new(text);
        let mut edits: Vec<Edit> = lints
            .into_iter()
            .flat_map(|(rule, lints)| lints.into_iter().map(move |l| (rule.clone(), l)))
            .filter_map(|(rule, lint)| harper_edit(text, &offsets, &rule, lint))
            .collect();
        edits.sort_by_key(|e| (e.span.start, e.span.end));
        edits.dedup_by(|b, a| overlaps(&a.span, &b.span));
        edits
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end || a == b
}

/// Byte offsets of character positions (Harper counts characters).
struct CharOffsets(Vec<usize>);

impl CharOffsets {
    fn new(text: &str) -> Self {
        let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        v.push(text.len());
        Self(v)
    }

    fn byte(&self, char_index: usize) -> Option<usize> {
        self.0.get(char_index).copied()
    }
}

/// A Harper lint as a fix, if it is a learner's mistake with one clear fix.
fn harper_edit(text: &str, offsets: &CharOffsets, rule: &str, lint: Lint) -> Option<Edit> {
    use LintKind::*;
    if matches!(
        lint.lint_kind,
        Enhancement | Style | Readability | Regionalism | Formatting
    ) {
        return None;
    }
    let span = offsets.byte(lint.span.start)?..offsets.byte(lint.span.end)?;
    let original = &text[span.clone()];
    // "u" is chat style, not the letter U.
    if rule == "OrthographicConsistency" && original.chars().count() <= 2 {
        return None;
    }
    let replacement = match lint.suggestions.first()? {
        Suggestion::ReplaceWith(chars) => chars.iter().collect::<String>(),
        Suggestion::InsertAfter(chars) => format!("{original}{}", chars.iter().collect::<String>()),
        Suggestion::Remove => String::new(),
    };
    // Joining or splitting a compound ("non-stop", "school teachers") is
    // spelling style, not a learner's mistake.
    let joined = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
    };
    if joined(&replacement) == joined(original) {
        return None;
    }
    if !plausible(text, &span, &replacement, lint.lint_kind) {
        return None;
    }
    Some(Edit {
        span,
        replacement,
        rule: format!("harper:{rule}"),
        message: lint.message,
    })
}

/// Filters Harper's suggestions that would be wrong for a learner.
fn plausible(text: &str, span: &Range<usize>, replacement: &str, kind: LintKind) -> bool {
    let original = &text[span.clone()];
    // Proper nouns: a capitalised word that is not the first of its sentence.
    if kind == LintKind::Spelling {
        let first_letter_upper = original.chars().next().is_some_and(char::is_uppercase);
        let sentence_start =
            text[..span.start].trim_end().is_empty() || text[..span.start].trim_end().ends_with(['.', '!', '?', '\n']);
        if first_letter_upper && !sentence_start {
            return false;
        }
    }
    // "a information" -> "an information": the article must go, not change.
    let next_word = text[span.end..]
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_lowercase();
    let is_article = |w: &str| w.eq_ignore_ascii_case("a") || w.eq_ignore_ascii_case("an");
    if is_article(original) && is_article(replacement) && UNCOUNTABLE.contains(&next_word.as_str()) {
        return false;
    }
    true
}

/// The likeliest word meant by `word` (lower-cased), at most two edits away:
/// a contraction missing its apostrophe ("dont"), else the fewest edits
/// (a swap of two letters is one), Harper's order breaking ties. Never a word
/// with another first letter (learners get it right; "cigarrets" is not
/// "garrets") unless the first two letters were swapped ("hte"), nor one that
/// only drops a negative prefix ("unmeaningful" is not "meaningful").
fn best_spelling(word: &str, dictionary: &FstDictionary) -> Option<String> {
    let first: Vec<char> = word.chars().take(2).collect();
    suggest_correct_spelling_str(word, 100, 2, dictionary)
        .into_iter()
        .map(|c| c.to_lowercase())
        .enumerate()
        .filter(|(_, c)| {
            let start: Vec<char> = c.chars().take(2).collect();
            let same_start = start.first() == first.first()
                || (start.len() == 2 && first.len() == 2 && start[0] == first[1] && start[1] == first[0]);
            let drops_prefix = ["un", "non", "in", "im", "dis", "ir", "il", "mis"]
                .iter()
                .any(|prefix| word.strip_prefix(prefix) == Some(c.as_str()));
            // "doens't" is "doesn't"; "don'ts" is not "don's".
            let same_ending = word.rfind('\'').is_none_or(|at| c.ends_with(&word[at..]));
            same_start && !drops_prefix && same_ending
        })
        .min_by_key(|(order, c)| (c.replace('\'', "") != word, strsim::osa_distance(word, c), *order))
        .map(|(_, c)| c)
}

/// Words not in the dictionary, each with the closest word (at most two edits
/// away). Skipped: proper nouns (a capital inside a sentence), acronyms, words
/// with digits, chat words, and words of one or two letters.
fn spelling(text: &str) -> Vec<Edit> {
    let dictionary = FstDictionary::curated();
    let tokens = tokens::tokenize(text);
    let mut edits = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let word = token.text;
        let lower = word.to_lowercase();
        let sentence_start = i == 0 || tokens[i - 1].text.ends_with(['.', '!', '?']) && !tokens[i - 1].is_word();
        let proper = word.chars().next().is_some_and(char::is_uppercase) && !sentence_start;
        let acronym = word.chars().filter(|c| c.is_uppercase()).count() > 1;
        if !token.is_word()
            || word.chars().count() < 3
            || word.chars().count() > 30
            || proper
            || acronym
            || word.chars().any(|c| !(c.is_alphabetic() || c == '-' || c == '\''))
            || CHAT_WORDS.contains(&lower.as_str())
            || dictionary.contains_word_str(word)
            || dictionary.contains_word_str(&lower)
            // A possessive or contraction of a known word ("do's").
            || lower.split_once('\'').is_some_and(|(stem, _)| dictionary.contains_word_str(stem) && stem.len() > 1)
            || word.contains('-') && word.split('-').all(|part| dictionary.contains_word_str(part))
        {
            continue;
        }
        let Some(best) = best_spelling(&lower, &dictionary) else {
            continue;
        };
        let replacement = if word.chars().next().is_some_and(char::is_uppercase) {
            let mut c = best.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        } else {
            best
        };
        edits.push(Edit {
            span: token.span.clone(),
            replacement,
            rule: "spelling".into(),
            message: String::new(),
        });
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_fix_learner_sentences_and_leave_names_and_chat_alone() {
        let rules = Rules::default();
        for (text, fixed) in [
            (
                "Yesterday I goed to the cinema with my freind.",
                "Yesterday I went to the cinema with my friend.",
            ),
            ("She don't like apples.", "She doesn't like apples."),
            (
                "I need an information about the trains.",
                "I need information about the trains.",
            ),
            ("I have a informations.", "I have information."),
            ("Where you are going?", "Where are you going?"),
            ("Anna and Pierre live in Zürich.", "Anna and Pierre live in Zürich."),
            ("lol that was so funny haha", "lol that was so funny haha"),
            ("I think NASA is cool.", "I think NASA is cool."),
            ("u dont know", "u don't know"),
            ("They did not developped it.", "They did not develop it."),
            (
                "It is a non-stop trip with school teachers, etc.",
                "It is a non-stop trip with school teachers, etc.",
            ),
            ("The do's and don'ts.", "The do's and don'ts."),
            ("Most people doens't know.", "Most people doesn't know."),
        ] {
            assert_eq!(rules.fix(text), fixed, "{text}");
        }
    }

    #[test]
    fn spelling_looks_no_further_than_two_edits() {
        // Harper's own check widened to four edits here and took 10 s.
        let edits = spelling("But in other waythismakes other way country need to pay.");
        assert!(edits.iter().all(|e| e.span.len() < 12), "{edits:?}");
        assert_eq!(spelling("I like my freind.")[0].replacement, "friend");
        for (wrong, right) in [
            ("intwerested", "interested"),
            ("becouse", "because"),
            ("tecnologies", "technologies"),
        ] {
            assert_eq!(spelling(wrong)[0].replacement, right, "{wrong}");
        }
        // Dropping a negative prefix changes the meaning.
        assert!(spelling("unmeaningful").iter().all(|e| e.replacement != "meaningful"));
    }
}
