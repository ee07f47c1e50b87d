//! Words the rules and the explainer need to know: irregular verbs, verb
//! forms, and what Harper's dictionary says about a word.
use std::{collections::HashMap, sync::LazyLock};

use harper_core::spell::{Dictionary, FstDictionary};

/// Uncountable nouns: never with a/an, never plural. Harper proposes "an
/// information" for "a information"; the rule for these comes from `patterns`.
pub const UNCOUNTABLE: [&str; 22] = [
    "advice",
    "information",
    "furniture",
    "equipment",
    "homework",
    "housework",
    "luggage",
    "baggage",
    "knowledge",
    "news",
    "weather",
    "traffic",
    "money",
    "music",
    "progress",
    "research",
    "evidence",
    "feedback",
    "software",
    "bread",
    "rice",
    "vocabulary",
];

/// Base form, past simple and past participle of the irregular verbs learners
/// use most.
const IRREGULAR: &str = "
arise arose arisen|awake awoke awoken|be was been|bear bore born|beat beat beaten|become became become|
begin began begun|bend bent bent|bet bet bet|bite bit bitten|bleed bled bled|blow blew blown|break broke broken|
bring brought brought|build built built|burn burnt burnt|buy bought bought|catch caught caught|
choose chose chosen|come came come|cost cost cost|creep crept crept|cut cut cut|deal dealt dealt|dig dug dug|
do did done|draw drew drawn|drink drank drunk|drive drove driven|eat ate eaten|fall fell fallen|feed fed fed|
feel felt felt|fight fought fought|find found found|fly flew flown|forbid forbade forbidden|forget forgot forgotten|
forgive forgave forgiven|freeze froze frozen|get got got|give gave given|go went gone|grow grew grown|
hang hung hung|have had had|hear heard heard|hide hid hidden|hit hit hit|hold held held|hurt hurt hurt|
keep kept kept|kneel knelt knelt|know knew known|lay laid laid|lead led led|leave left left|lend lent lent|
let let let|lie lay lain|light lit lit|lose lost lost|make made made|mean meant meant|meet met met|pay paid paid|
put put put|quit quit quit|read read read|ride rode ridden|ring rang rung|rise rose risen|run ran run|say said said|
see saw seen|seek sought sought|sell sold sold|send sent sent|set set set|shake shook shaken|shine shone shone|
shoot shot shot|show showed shown|shrink shrank shrunk|shut shut shut|sing sang sung|sink sank sunk|sit sat sat|
sleep slept slept|slide slid slid|speak spoke spoken|spend spent spent|spin spun spun|split split split|
spread spread spread|stand stood stood|steal stole stolen|stick stuck stuck|sting stung stung|strike struck struck|
swear swore sworn|sweep swept swept|swim swam swum|swing swung swung|take took taken|teach taught taught|
tear tore torn|tell told told|think thought thought|throw threw thrown|understand understood understood|
wake woke woken|wear wore worn|weep wept wept|win won won|wind wound wound|write wrote written|
undertake undertook undertaken|overcome overcame overcome|withdraw withdrew withdrawn|mistake mistook mistaken|
misunderstand misunderstood misunderstood|upset upset upset|forecast forecast forecast|broadcast broadcast broadcast";

/// Wrong past forms learners make by analogy that are not regular -ed forms.
const ANALOGICAL: [(&str, &str); 6] = [
    ("brang", "bring"),
    ("brung", "bring"),
    ("thunk", "think"),
    ("snuck", "sneak"),
    ("drownded", "drown"),
    ("tooken", "take"),
];

/// One irregular verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Irregular {
    pub base: &'static str,
    pub past: &'static str,
    pub participle: &'static str,
}

struct Tables {
    by_base: HashMap<&'static str, Irregular>,
    by_past: HashMap<&'static str, Irregular>,
    by_participle: HashMap<&'static str, Irregular>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut t = Tables {
        by_base: HashMap::new(),
        by_past: HashMap::new(),
        by_participle: HashMap::new(),
    };
    for entry in IRREGULAR.split('|') {
        let mut words = entry.split_whitespace();
        let (Some(base), Some(past), Some(participle)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let verb = Irregular { base, past, participle };
        t.by_base.insert(base, verb);
        t.by_past.entry(past).or_insert(verb);
        t.by_participle.entry(participle).or_insert(verb);
    }
    t
});

/// The irregular verb whose base form is `word`.
pub fn irregular(base: &str) -> Option<Irregular> {
    TABLES.by_base.get(base).copied()
}

/// The irregular verb whose past simple is `word` ("went" → go).
pub fn irregular_by_past(word: &str) -> Option<Irregular> {
    TABLES.by_past.get(word).copied()
}

/// The irregular verb whose past participle is `word` ("gone" → go).
pub fn irregular_by_participle(word: &str) -> Option<Irregular> {
    TABLES.by_participle.get(word).copied()
}

/// The irregular verb a learner over-regularised: "goed", "buyed", "swimmed",
/// "teached" (and a few analogical forms such as "brang").
pub fn regularised(word: &str) -> Option<Irregular> {
    if let Some((_, base)) = ANALOGICAL.iter().find(|(w, _)| *w == word) {
        return irregular(base);
    }
    let stem = word.strip_suffix("ed")?;
    let mut candidates = vec![stem.to_owned(), format!("{stem}e")];
    let chars: Vec<char> = stem.chars().collect();
    if chars.len() >= 2 && chars[chars.len() - 1] == chars[chars.len() - 2] {
        candidates.push(chars[..chars.len() - 1].iter().collect());
    }
    if let Some(s) = stem.strip_suffix('i') {
        candidates.push(format!("{s}y"));
    }
    if let Some(s) = word.strip_suffix('d') {
        candidates.push(s.to_owned());
    }
    let verb = candidates.iter().find_map(|c| irregular(c))?;
    // Regular forms some verbs also have, and real words ("seed", "leaded").
    let also_regular = [
        "burn", "kneel", "light", "dream", "learn", "spell", "smell", "spill", "spoil", "hang", "lie",
    ];
    if also_regular.contains(&verb.base) || word == verb.past || word == verb.participle || known(word) {
        return None;
    }
    Some(verb)
}

static DICTIONARY: LazyLock<std::sync::Arc<FstDictionary>> = LazyLock::new(FstDictionary::curated);

/// Whether `word` is an English word (in any case).
pub fn known(word: &str) -> bool {
    DICTIONARY.contains_word_str(word)
}

fn metadata<T>(word: &str, f: impl FnOnce(&harper_core::DictWordMetadata) -> T) -> Option<T> {
    DICTIONARY.get_word_metadata_str(word).map(|m| f(&m))
}

/// Whether `word` can be a verb's base form.
pub fn is_verb_base(word: &str) -> bool {
    irregular(word).is_some() || metadata(word, |m| m.is_verb_lemma()).unwrap_or(false)
}

pub fn is_noun(word: &str) -> bool {
    metadata(word, |m| m.is_noun()).unwrap_or(false)
}

pub fn is_adverb(word: &str) -> bool {
    metadata(word, |m| m.is_adverb()).unwrap_or(false)
}

pub fn is_adjective(word: &str) -> bool {
    metadata(word, |m| m.is_adjective()).unwrap_or(false)
}

/// A noun that is only singular and countable ("reason", not "news" or "people").
pub fn is_singular_countable_noun(word: &str) -> bool {
    metadata(word, |m| {
        m.is_noun() && !m.is_plural_noun() && !m.is_mass_noun_only() && !m.is_proper_noun()
    })
    .unwrap_or(false)
        && !UNCOUNTABLE.contains(&word)
}

/// A regular plural noun's singular ("days" → "day", "boxes" → "box").
pub fn singular(word: &str) -> Option<String> {
    let candidates = [
        word.strip_suffix("ies").map(|s| format!("{s}y")),
        word.strip_suffix("es").map(str::to_owned),
        word.strip_suffix('s').map(str::to_owned),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|s| s.len() >= 2 && !s.ends_with('s') && is_singular_countable_noun(s) || s == "day")
}

fn consonant(c: char) -> bool {
    c.is_ascii_alphabetic() && !"aeiou".contains(c)
}

/// Whether the final consonant doubles before -ed and -ing (stop, plan, swim).
fn doubles(base: &str) -> bool {
    let c: Vec<char> = base.chars().collect();
    let n = c.len();
    (3..=4).contains(&n)
        && consonant(c[n - 1])
        && !"wxy".contains(c[n - 1])
        && "aeiou".contains(c[n - 2])
        && consonant(c[n - 3])
}

/// The present simple after he/she/it: "goes", "watches", "studies", "has".
pub fn third_person(base: &str) -> String {
    match base {
        "be" => return "is".into(),
        "have" => return "has".into(),
        "do" => return "does".into(),
        "go" => return "goes".into(),
        _ => {}
    }
    if let Some(s) = base.strip_suffix('y').filter(|s| s.ends_with(consonant)) {
        return format!("{s}ies");
    }
    if ["s", "sh", "ch", "x", "z", "o"].iter().any(|e| base.ends_with(e)) {
        return format!("{base}es");
    }
    format!("{base}s")
}

/// The past simple: irregular, else -ed.
pub fn past(base: &str) -> String {
    if let Some(v) = irregular(base) {
        return v.past.into();
    }
    regular_ed(base)
}

/// The past participle: irregular, else -ed.
pub fn participle(base: &str) -> String {
    if let Some(v) = irregular(base) {
        return v.participle.into();
    }
    regular_ed(base)
}

fn regular_ed(base: &str) -> String {
    if base.ends_with('e') {
        return format!("{base}d");
    }
    if let Some(s) = base.strip_suffix('y').filter(|s| s.ends_with(consonant)) {
        return format!("{s}ied");
    }
    if doubles(base) {
        return format!("{base}{}ed", base.chars().last().unwrap_or_default());
    }
    format!("{base}ed")
}

/// The -ing form: "swimming", "making", "lying", "playing".
pub fn ing(base: &str) -> String {
    if let Some(s) = base.strip_suffix("ie") {
        return format!("{s}ying");
    }
    if base.ends_with('e') && !base.ends_with("ee") && base != "be" {
        return format!("{}ing", &base[..base.len() - 1]);
    }
    if doubles(base) {
        return format!("{base}{}ing", base.chars().last().unwrap_or_default());
    }
    format!("{base}ing")
}

/// The base form of a verb form: "went", "gone", "goes", "going", "wanted",
/// "studies" → go, go, go, go, want, study. `None` if it is not a verb form.
pub fn base_of(word: &str) -> Option<String> {
    if is_verb_base(word) && !word.ends_with("ing") && !word.ends_with("ed") {
        return Some(word.to_owned());
    }
    if let Some(v) = irregular_by_past(word).or_else(|| irregular_by_participle(word)) {
        return Some(v.base.to_owned());
    }
    match word {
        "is" | "am" | "are" | "was" | "were" => return Some("be".into()),
        "has" => return Some("have".into()),
        "does" => return Some("do".into()),
        _ => {}
    }
    let mut candidates = Vec::new();
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            candidates.push(stem.to_owned());
            candidates.push(format!("{stem}e"));
            if let Some(s) = stem.strip_suffix('i') {
                candidates.push(format!("{s}y"));
            }
            if let Some(s) = stem.strip_suffix('y').filter(|_| suffix == "ing") {
                candidates.push(format!("{s}ie"));
            }
            let c: Vec<char> = stem.chars().collect();
            if c.len() >= 2 && c[c.len() - 1] == c[c.len() - 2] {
                candidates.push(c[..c.len() - 1].iter().collect());
            }
        }
    }
    candidates.into_iter().find(|c| {
        c.len() >= 2 && is_verb_base(c) && {
            // The form must be the one this base makes.
            [third_person(c), regular_ed(c), ing(c)].contains(&word.to_owned())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irregular_verbs_are_found_by_each_form() {
        assert_eq!(irregular("go").unwrap().past, "went");
        assert_eq!(irregular_by_past("went").unwrap().participle, "gone");
        assert_eq!(irregular_by_participle("eaten").unwrap().base, "eat");
    }

    #[test]
    fn over_regularised_forms_are_recognised_and_real_words_are_not() {
        for (wrong, base) in [
            ("goed", "go"),
            ("buyed", "buy"),
            ("swimmed", "swim"),
            ("teached", "teach"),
            ("maked", "make"),
            ("eated", "eat"),
            ("brang", "bring"),
            ("runned", "run"),
            ("catched", "catch"),
            ("writed", "write"),
        ] {
            assert_eq!(regularised(wrong).map(|v| v.base), Some(base), "{wrong}");
        }
        for fine in [
            "seed", "wanted", "learned", "burned", "went", "hanged", "lied", "founded", "winded",
        ] {
            assert_eq!(regularised(fine), None, "{fine}");
        }
    }

    #[test]
    fn verb_forms_are_made_and_undone() {
        for (base, third, ed, ing_) in [
            ("go", "goes", "went", "going"),
            ("watch", "watches", "watched", "watching"),
            ("study", "studies", "studied", "studying"),
            ("stop", "stops", "stopped", "stopping"),
            ("make", "makes", "made", "making"),
            ("play", "plays", "played", "playing"),
            ("swim", "swims", "swam", "swimming"),
        ] {
            assert_eq!(third_person(base), third);
            assert_eq!(past(base), ed);
            assert_eq!(ing(base), ing_);
            for form in [third, ed, ing_] {
                assert_eq!(base_of(form).as_deref(), Some(base), "{form}");
            }
        }
        assert_eq!(base_of("wanted").as_deref(), Some("want"));
        assert_eq!(base_of("liked").as_deref(), Some("like"));
        assert_eq!(base_of("tomorrow"), None);
        assert_eq!(ing("lie"), "lying");
    }

    #[test]
    fn nouns_and_their_singulars() {
        assert_eq!(singular("days").as_deref(), Some("day"));
        assert_eq!(singular("reasons").as_deref(), Some("reason"));
        assert!(is_singular_countable_noun("reason"));
        assert!(!is_singular_countable_noun("information"));
        assert!(!is_singular_countable_noun("people"));
    }
}
