//! Language detection for stemming: the language of a field value decides its stemmer.
//!
//! whatlang scores every language's trigram profile on each call, about 100 µs for a title,
//! which alone would cap title analysis near 1 MB/s. Detection therefore runs in stages on a
//! bounded prefix of the value, each cheaper than the next: the script (Greek and Tamil
//! decide alone), then the function words of the languages we stem (`the`, `der`, `des`,
//! `och`…), then whatlang with a confidence threshold for values the first stages leave
//! open. What remains is "unknown", stemmed with the script's fallback stemmer.

use rust_stemmers::{Algorithm, Stemmer};
use whatlang::Lang;

use crate::tokenize::{segment, Segment};

/// Bytes of a value looked at to detect its language; a title fits, an abstract's opening
/// sentences are enough.
pub const MAX_DETECTION_NUM_BYTES: usize = 256;

/// Confidence below which a whatlang answer counts as unknown (whatlang calls 0.9
/// "reliable"; titles are short, so a lower bar keeps most non-English titles detected).
pub const MIN_WHATLANG_CONFIDENCE: f64 = 0.5;

/// Stemmer used for Latin-script values whose language stays unknown: most titles in the
/// bibliographic sources are English, and English suffix stripping rarely harms others.
pub const FALLBACK_LATIN_STEMMER: Algorithm = Algorithm::English;

/// How the language of a value was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectionMethod {
    /// The script has one stemmed language (Greek, Tamil).
    Script,
    /// Function words of one language clearly outnumber the others.
    FunctionWords,
    /// whatlang, above [`MIN_WHATLANG_CONFIDENCE`].
    Whatlang,
    /// No stage was confident.
    Unknown,
}

/// The outcome of language detection for one value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectedLanguage {
    /// The detected language, `None` when unknown.
    pub lang: Option<Lang>,
    /// How it was decided.
    pub method: DetectionMethod,
    /// The stemmer to apply: the language's, the script's fallback when unknown, or none
    /// (a language rust-stemmers does not cover, or a script without stemmer).
    pub stem_algorithm: Option<Algorithm>,
}

impl DetectedLanguage {
    /// Returns the stemmer for this value, if any.
    pub fn stemmer(&self) -> Option<Stemmer> {
        self.stem_algorithm.map(Stemmer::create)
    }

    fn decided(lang: Lang, method: DetectionMethod) -> Self {
        DetectedLanguage {
            lang: Some(lang),
            method,
            stem_algorithm: stem_algorithm(lang),
        }
    }

    fn unknown(stem_algorithm: Option<Algorithm>) -> Self {
        DetectedLanguage {
            lang: None,
            method: DetectionMethod::Unknown,
            stem_algorithm,
        }
    }
}

/// The ISO 639-1 codes of the languages detected, with their ISO 639-3 codes.
const TWO_LETTER_CODES: [(&str, &str); 69] = [
    ("af", "afr"),
    ("ak", "aka"),
    ("am", "amh"),
    ("ar", "ara"),
    ("az", "aze"),
    ("be", "bel"),
    ("bg", "bul"),
    ("bn", "ben"),
    ("ca", "cat"),
    ("cs", "ces"),
    ("da", "dan"),
    ("de", "deu"),
    ("el", "ell"),
    ("en", "eng"),
    ("eo", "epo"),
    ("es", "spa"),
    ("et", "est"),
    ("fa", "pes"),
    ("fi", "fin"),
    ("fr", "fra"),
    ("gu", "guj"),
    ("he", "heb"),
    ("hi", "hin"),
    ("hr", "hrv"),
    ("hu", "hun"),
    ("hy", "hye"),
    ("id", "ind"),
    ("it", "ita"),
    ("ja", "jpn"),
    ("jv", "jav"),
    ("ka", "kat"),
    ("km", "khm"),
    ("kn", "kan"),
    ("ko", "kor"),
    ("la", "lat"),
    ("lt", "lit"),
    ("lv", "lav"),
    ("mk", "mkd"),
    ("ml", "mal"),
    ("mr", "mar"),
    ("my", "mya"),
    ("nb", "nob"),
    ("ne", "nep"),
    ("nl", "nld"),
    ("or", "ori"),
    ("pa", "pan"),
    ("pl", "pol"),
    ("pt", "por"),
    ("ro", "ron"),
    ("ru", "rus"),
    ("si", "sin"),
    ("sk", "slk"),
    ("sl", "slv"),
    ("sn", "sna"),
    ("sr", "srp"),
    ("sv", "swe"),
    ("ta", "tam"),
    ("te", "tel"),
    ("th", "tha"),
    ("tk", "tuk"),
    ("tl", "tgl"),
    ("tr", "tur"),
    ("uk", "ukr"),
    ("ur", "urd"),
    ("uz", "uzb"),
    ("vi", "vie"),
    ("yi", "yid"),
    ("zh", "cmn"),
    ("zu", "zul"),
];

/// Returns the language an ISO 639-3 (`fra`) or ISO 639-1 (`fr`) code names, when it is
/// one of the languages detected; these are the `locales` Meilisearch accepts.
pub fn language_of_code(code: &str) -> Option<Lang> {
    match code.len() {
        2 => TWO_LETTER_CODES
            .iter()
            .find(|(two, _)| *two == code)
            .and_then(|(_, three)| Lang::from_code(*three)),
        3 if code.bytes().all(|byte| byte.is_ascii_lowercase()) => Lang::from_code(code),
        _ => None,
    }
}

/// Returns the rust-stemmers algorithm for a language, when it has one.
pub fn stem_algorithm(lang: Lang) -> Option<Algorithm> {
    let algorithm = match lang {
        Lang::Ara => Algorithm::Arabic,
        Lang::Dan => Algorithm::Danish,
        Lang::Nld => Algorithm::Dutch,
        Lang::Eng => Algorithm::English,
        Lang::Fin => Algorithm::Finnish,
        Lang::Fra => Algorithm::French,
        Lang::Deu => Algorithm::German,
        Lang::Ell => Algorithm::Greek,
        Lang::Hun => Algorithm::Hungarian,
        Lang::Ita => Algorithm::Italian,
        Lang::Nob => Algorithm::Norwegian,
        Lang::Por => Algorithm::Portuguese,
        Lang::Ron => Algorithm::Romanian,
        Lang::Rus => Algorithm::Russian,
        Lang::Spa => Algorithm::Spanish,
        Lang::Swe => Algorithm::Swedish,
        Lang::Tam => Algorithm::Tamil,
        Lang::Tur => Algorithm::Turkish,
        _ => return None,
    };
    Some(algorithm)
}

/// Detects the language of `text` from its first [`MAX_DETECTION_NUM_BYTES`] bytes.
pub fn detect_language(text: &str) -> DetectedLanguage {
    let prefix = bounded_prefix(text);
    let mut folded_words: Vec<String> = Vec::new();
    segment(prefix, |segment| {
        if let Segment::Word { parts, .. } = segment {
            for part in parts {
                folded_words.push(crate::normalize::fold(&prefix[part.clone()]));
            }
        }
    });
    detect_language_of_tokens(text, folded_words.iter().map(String::as_str))
}

/// Detects the language of `text` with whatlang alone, ignoring the cheaper stages; used to
/// measure what they save and to check that they agree with it.
pub fn detect_language_with_whatlang(text: &str) -> DetectedLanguage {
    let script = dominant_script(bounded_prefix(text));
    detect_with_whatlang(bounded_prefix(text), script)
}

/// Detects the language of `text` whose folded tokens (in order) are `folded_tokens`.
pub(crate) fn detect_language_of_tokens<'t>(
    text: &str,
    folded_tokens: impl Iterator<Item = &'t str>,
) -> DetectedLanguage {
    let prefix = bounded_prefix(text);
    let script = dominant_script(prefix);
    match script {
        Script::Greek => return DetectedLanguage::decided(Lang::Ell, DetectionMethod::Script),
        Script::Tamil => return DetectedLanguage::decided(Lang::Tam, DetectionMethod::Script),
        Script::Other => return DetectedLanguage::unknown(None),
        Script::Latin | Script::Cyrillic | Script::Arabic => {}
    }

    if script == Script::Latin {
        let votes = FunctionWordVotes::count(folded_tokens.take(MAX_FUNCTION_WORD_TOKENS));
        if let Some(lang) = votes.decided() {
            return DetectedLanguage::decided(lang, DetectionMethod::FunctionWords);
        }
        // Plain ASCII without a whole vote for another language is a title like "Efficient
        // Query Processing" or "A model for data": whatlang would mostly call it unreliable
        // English, at a hundred times the cost.
        if prefix.is_ascii() && !votes.has_whole_vote_beside_english() {
            return DetectedLanguage::unknown(Some(FALLBACK_LATIN_STEMMER));
        }
    }
    detect_with_whatlang(prefix, script)
}

/// Tokens of the prefix looked at for function words.
const MAX_FUNCTION_WORD_TOKENS: usize = 48;

fn detect_with_whatlang(prefix: &str, script: Script) -> DetectedLanguage {
    let fallback = match script {
        Script::Latin => Some(FALLBACK_LATIN_STEMMER),
        Script::Cyrillic => Some(Algorithm::Russian),
        Script::Arabic => Some(Algorithm::Arabic),
        Script::Greek => Some(Algorithm::Greek),
        Script::Tamil => Some(Algorithm::Tamil),
        Script::Other => None,
    };
    match whatlang::detect(prefix) {
        Some(info) if info.confidence() >= MIN_WHATLANG_CONFIDENCE => {
            DetectedLanguage::decided(info.lang(), DetectionMethod::Whatlang)
        }
        _ => DetectedLanguage::unknown(fallback),
    }
}

fn bounded_prefix(text: &str) -> &str {
    if text.len() <= MAX_DETECTION_NUM_BYTES {
        return text;
    }
    let mut end = MAX_DETECTION_NUM_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Arabic,
    Tamil,
    Other,
}

/// Returns the script most letters of `prefix` are written in.
fn dominant_script(prefix: &str) -> Script {
    let mut counts = [0usize; 6];
    for ch in prefix.chars() {
        let script = match ch {
            'a'..='z' | 'A'..='Z' => Script::Latin,
            _ if ch.is_ascii() => continue,
            '\u{C0}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => Script::Latin,
            '\u{400}'..='\u{52F}' => Script::Cyrillic,
            '\u{370}'..='\u{3FF}' | '\u{1F00}'..='\u{1FFF}' => Script::Greek,
            '\u{600}'..='\u{6FF}' | '\u{750}'..='\u{77F}' => Script::Arabic,
            '\u{B80}'..='\u{BFF}' => Script::Tamil,
            _ if ch.is_alphabetic() => Script::Other,
            _ => continue,
        };
        counts[script as usize] += 1;
    }
    let scripts = [
        Script::Latin,
        Script::Cyrillic,
        Script::Greek,
        Script::Arabic,
        Script::Tamil,
        Script::Other,
    ];
    let (best_index, best_count) = counts
        .iter()
        .enumerate()
        .max_by_key(|(index, count)| (**count, usize::MAX - index))
        .unwrap_or((0, &0));
    if *best_count == 0 {
        return Script::Latin;
    }
    scripts[best_index]
}

/// Languages voted for by function words, in bit order.
const FUNCTION_WORD_LANGS: [Lang; 16] = [
    Lang::Eng,
    Lang::Deu,
    Lang::Fra,
    Lang::Spa,
    Lang::Por,
    Lang::Ita,
    Lang::Nld,
    Lang::Swe,
    Lang::Dan,
    Lang::Nob,
    Lang::Fin,
    Lang::Hun,
    Lang::Ron,
    Lang::Tur,
    Lang::Ces,
    Lang::Pol,
];

#[derive(Debug, Default)]
struct FunctionWordVotes {
    scores: [f32; 16],
}

impl FunctionWordVotes {
    fn count<'t>(folded_tokens: impl Iterator<Item = &'t str>) -> Self {
        let mut votes = FunctionWordVotes::default();
        for token in folded_tokens {
            let mask = function_word_languages(token);
            if mask == 0 {
                continue;
            }
            let weight = 1.0 / mask.count_ones() as f32;
            for (index, score) in votes.scores.iter_mut().enumerate() {
                if mask & (1 << index) != 0 {
                    *score += weight;
                }
            }
        }
        votes
    }

    /// Returns true when a language other than English has at least one whole vote.
    fn has_whole_vote_beside_english(&self) -> bool {
        self.scores[1..].iter().any(|&score| score >= 1.0)
    }

    /// Returns the language whose score is at least one whole vote ahead of every other.
    fn decided(&self) -> Option<Lang> {
        let mut best = (0usize, 0.0f32);
        let mut second_score = 0.0f32;
        for (index, &score) in self.scores.iter().enumerate() {
            if score > best.1 {
                second_score = best.1;
                best = (index, score);
            } else if score > second_score {
                second_score = score;
            }
        }
        (best.1 >= 1.0 && best.1 - second_score >= 1.0).then(|| FUNCTION_WORD_LANGS[best.0])
    }
}

const ENG: u16 = 1;
const DEU: u16 = 1 << 1;
const FRA: u16 = 1 << 2;
const SPA: u16 = 1 << 3;
const POR: u16 = 1 << 4;
const ITA: u16 = 1 << 5;
const NLD: u16 = 1 << 6;
const SWE: u16 = 1 << 7;
const DAN: u16 = 1 << 8;
const NOB: u16 = 1 << 9;
const FIN: u16 = 1 << 10;
const HUN: u16 = 1 << 11;
const RON: u16 = 1 << 12;
const TUR: u16 = 1 << 13;
const CES: u16 = 1 << 14;
const POL: u16 = 1 << 15;
const SCANDINAVIAN: u16 = SWE | DAN | NOB;

/// Returns the languages in which a folded word is a frequent function word (articles,
/// prepositions, conjunctions), from the stop-word lists of the Snowball project.
fn function_word_languages(folded: &str) -> u16 {
    if folded.len() > 8 {
        return 0;
    }
    match folded {
        "the" | "of" | "and" | "with" | "from" | "by" | "are" | "into" | "its" | "via" | "this"
        | "that" | "between" | "through" | "towards" | "toward" | "using" | "how" | "what"
        | "when" | "which" | "or" | "to" | "an" => ENG,
        "for" => ENG | SCANDINAVIAN,
        "on" => ENG | FIN,
        "is" => ENG | HUN,
        "at" => ENG | DAN | NOB,
        "as" => ENG | POR,
        "under" => ENG | SCANDINAVIAN,
        "in" => ENG | DEU | NLD | ITA | RON,
        "a" => ENG | FRA | SPA | POR | ITA | HUN | CES | RON,
        "der" | "die" | "und" | "fur" | "mit" | "von" | "zur" | "zum" | "dem" | "ein" | "eine"
        | "einer" | "eines" | "einem" | "einen" | "im" | "auf" | "bei" | "uber" | "aus"
        | "nach" | "als" | "ist" | "sowie" | "zwischen" | "durch" | "unter" | "vom" | "zu"
        | "oder" | "wie" | "nicht" | "am" => DEU,
        "das" => DEU | POR,
        "des" => DEU | FRA,
        "den" => DEU | SCANDINAVIAN,
        "le" | "l" => FRA | ITA,
        "les" | "du" | "pour" | "dans" | "sur" | "une" | "au" | "aux" | "par" | "avec" | "est"
        | "d" | "qu" | "ces" | "cette" | "leur" => FRA,
        "et" => FRA | DAN | NOB,
        "ou" => FRA | POR,
        "la" => FRA | SPA | ITA | RON,
        "un" => FRA | SPA | ITA | RON,
        "en" => FRA | SPA | NLD | SCANDINAVIAN,
        "de" => FRA | SPA | POR | NLD | RON | TUR,
        "entre" => FRA | SPA | POR,
        "el" | "los" | "las" | "del" | "y" | "sus" => SPA,
        "con" | "una" | "su" | "lo" => SPA | ITA,
        "para" | "por" | "como" | "sobre" => SPA | POR,
        "al" => SPA | ITA | RON,
        "se" => SPA | POR | ITA | FRA | CES | SWE,
        "es" => SPA | HUN,
        "o" => POR | CES,
        "os" | "dos" | "com" | "uma" | "em" | "nos" | "nas" | "ao" | "pelo" | "pela" | "um" => POR,
        "do" => POR | POL,
        "da" => POR | ITA | TUR,
        "e" => POR | ITA,
        "no" => POR | SPA | ENG,
        "na" => POR | CES | POL,
        "il" | "gli" | "della" | "delle" | "dei" | "degli" | "di" | "per" | "nel" | "nella"
        | "nei" | "sul" | "sulla" | "alla" | "alle" | "dello" | "che" => ITA,
        "het" | "een" | "van" | "voor" | "met" | "op" | "naar" | "bij" | "uit" | "niet"
        | "zijn" | "ook" | "door" => NLD,
        "och" | "att" | "ett" | "till" | "vid" | "fran" => SWE,
        "av" => SWE | NOB,
        "af" => SWE | DAN,
        "med" | "som" | "det" | "pa" | "om" => SCANDINAVIAN,
        "og" | "til" | "ikke" | "ved" => DAN | NOB,
        "i" => SCANDINAVIAN | CES | POL,
        "ja" | "seka" | "tai" | "kanssa" | "etta" | "ovat" | "tama" => FIN,
        "ei" => FIN,
        "az" | "egy" | "hogy" | "nem" | "vagy" | "meg" | "valamint" => HUN,
        "si" | "cu" | "pentru" | "din" | "pe" | "ale" | "unui" | "unei" | "sau" => RON,
        "ve" => TUR | CES,
        "bir" | "ile" | "icin" | "bu" | "olarak" | "uzerine" | "veya" => TUR,
        "v" | "pro" | "je" | "pri" | "ktere" | "nebo" => CES,
        "z" | "ze" | "jako" | "od" | "po" => CES | POL,
        "w" | "dla" | "oraz" | "przez" | "sie" | "jest" | "lub" => POL,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_detected_has_a_two_letter_code_and_nothing_else_does() {
        let mut named: Vec<Lang> = TWO_LETTER_CODES
            .iter()
            .map(|(two, three)| {
                let lang = language_of_code(two).unwrap_or_else(|| panic!("{two}"));
                assert_eq!(lang.code(), *three);
                assert_eq!(language_of_code(three), Some(lang));
                lang
            })
            .collect();
        named.sort_by_key(|lang| lang.code());
        named.dedup();
        let mut all: Vec<Lang> = Lang::all().to_vec();
        all.sort_by_key(|lang| lang.code());
        assert_eq!(named, all);
        for unknown in ["xx", "xxx", "", "e", "english", "EN", "ENG", "Fra", "zh-CN"] {
            assert_eq!(language_of_code(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn function_words_decide_clear_cases() {
        let cases = [
            (
                "The design of a query language for the web",
                Some(Lang::Eng),
            ),
            (
                "Ein Verfahren für die Analyse von Netzwerken",
                Some(Lang::Deu),
            ),
            ("Une méthode pour l'analyse des données", Some(Lang::Fra)),
            ("Análisis de los datos y del modelo", Some(Lang::Spa)),
        ];
        for (title, expected) in cases {
            let detected = detect_language(title);
            assert_eq!(detected.lang, expected, "language of {title:?}");
            assert_eq!(
                detected.method,
                DetectionMethod::FunctionWords,
                "method for {title:?}"
            );
        }
    }

    #[test]
    fn ascii_without_function_words_is_unknown_with_english_fallback() {
        let detected = detect_language("Efficient Query Processing");
        assert_eq!(detected.lang, None);
        assert_eq!(detected.stem_algorithm, Some(Algorithm::English));
    }

    #[test]
    fn scripts_decide_alone() {
        assert_eq!(detect_language("Η ανάλυση").lang, Some(Lang::Ell));
        assert_eq!(detect_language("知识图谱").stem_algorithm, None);
        assert_eq!(detect_language("").stem_algorithm, Some(Algorithm::English));
    }

    #[test]
    fn prefix_is_bounded_on_a_char_boundary() {
        let text = "é".repeat(MAX_DETECTION_NUM_BYTES);
        let prefix = bounded_prefix(&text);
        assert!(prefix.len() <= MAX_DETECTION_NUM_BYTES);
        assert!(text.is_char_boundary(prefix.len()));
    }
}
