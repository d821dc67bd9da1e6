//! Text comparison: word-level similarity (crate `similar`), refusal detection, polarity flips
//! matched clause by clause, short label-like answers, the steps of numbered procedures, and a
//! conservative language guess. Facts (numbers, names…) are in [`super::facts`].

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use similar::{capture_diff_slices_deadline, Algorithm, DiffOp};

/// Word-level similarity in 0..=1: `2·matched / (words_a + words_b)` over the longest common
/// subsequence of words (case and surrounding punctuation ignored). Bounded in time for huge inputs.
pub fn word_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return if wa.is_empty() && wb.is_empty() {
            1.0
        } else {
            0.0
        };
    }
    let deadline = Instant::now() + Duration::from_millis(250);
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &wa, &wb, Some(deadline));
    let matched: usize = ops
        .iter()
        .filter_map(|op| match op {
            DiffOp::Equal { len, .. } => Some(*len),
            _ => None,
        })
        .sum();
    (2.0 * matched as f64 / (wa.len() + wb.len()) as f64).clamp(0.0, 1.0)
}

/// Lower-cased words with surrounding punctuation removed.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Phrases with which assistants typically decline a request.
const REFUSAL_PATTERNS: &[&str] = &[
    "i can't help with",
    "i cannot help with",
    "i must decline",
    "as an ai language model, i cannot",
    "i'm not comfortable",
    "i am not comfortable",
];

/// "I can't / won't / am unable to" + a verb of helping: the usual shape of a refusal.
fn refusal_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"\b(?:i|we)(?:'m| am|'re| are)?(?: really)? ",
            r"(?:can't|cannot|can not|won't|will not|must not|unable to|not able to|not going to)",
            r"(?: be able to)? ",
            r"(?:help|assist|provide|create|write|do|share|support|give|generate|comply|fulfil|fulfill|answer|produce|offer|engage)\b",
        ))
        .expect("valid regex")
    })
}

/// True when `text` reads like a refusal (checked near the start, where refusals are phrased).
pub fn looks_like_refusal(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(200)
        .collect::<String>()
        .to_lowercase()
        .replace('\u{2019}', "'");
    REFUSAL_PATTERNS.iter().any(|p| head.contains(p)) || refusal_regex().is_match(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_orders_sensibly() {
        let a = "The capital of France is Paris.";
        assert_eq!(word_similarity(a, a), 1.0);
        let close = word_similarity(a, "The capital of France is Paris, of course.");
        let far = word_similarity(a, "Bananas are yellow and rich in potassium.");
        assert!(close > 0.7, "{close}");
        assert!(far < 0.3, "{far}");
        assert_eq!(word_similarity(a, "   "), 0.0);
    }

    #[test]
    fn refusals_are_detected() {
        assert!(looks_like_refusal(
            "I’m sorry, but I can’t help with that request."
        ));
        assert!(looks_like_refusal("Sorry, I can't do that."));
        assert!(!looks_like_refusal(
            "To reset your password, open Settings."
        ));
        assert!(!looks_like_refusal(&format!(
            "{} I can't help with",
            "x ".repeat(200)
        )));
        assert!(looks_like_refusal(
            "I'm not able to provide medical advice."
        ));
        assert!(looks_like_refusal(
            "Sorry, but I won't help with entering a house that isn't yours."
        ));
        assert!(!looks_like_refusal(
            "If you can't sign in, reset your password first."
        ));
    }
}

pub use super::facts::numbers;

/// Negation words of the languages [`language`] knows (not, never, n't, ne…pas, nicht, kein, sin…).
fn is_negation(word: &str) -> bool {
    let w = word.replace('\u{2019}', "'");
    matches!(
        w.as_str(),
        "not"
            | "no"
            | "never"
            | "cannot"
            | "nothing"
            | "none"
            | "nobody"
            | "neither"
            | "nor"
            | "without"
            | "non"
            | "ne"
            | "pas"
            | "jamais"
            | "aucun"
            | "aucune"
            | "sans"
            | "nunca"
            | "sin"
            | "ningún"
            | "ninguna"
            | "nada"
            | "nicht"
            | "kein"
            | "keine"
            | "keinen"
            | "keiner"
            | "nie"
            | "niemals"
            | "ohne"
            | "senza"
            | "nessun"
            | "nessuno"
            | "nessuna"
            | "não"
            | "sem"
            | "nenhum"
            | "nenhuma"
    ) || w.ends_with("n't")
        || w.starts_with("n'")
}

/// Negation words in a text (not, no, never, cannot, without, n't, …).
pub fn negations(text: &str) -> usize {
    words(text).iter().filter(|w| is_negation(w)).count()
}

/// Function words (en, fr, de, es, it, pt) that carry no content of their own.
pub fn is_stopword(w: &str) -> bool {
    const STOP: &[&str] = &[
        // English
        "a", "an", "the", "and", "or", "but", "if", "then", "so", "as", "at", "by", "for", "from",
        "in", "into", "of", "on", "onto", "to", "with", "within", "up", "out", "off", "over",
        "under", "about", "after", "before", "than", "via", "per", "is", "are", "was", "were",
        "be", "been", "being", "am", "do", "does", "did", "have", "has", "had", "having", "will",
        "would", "shall", "should", "can", "could", "may", "might", "must", "it", "its", "it's",
        "this", "that", "these", "those", "there", "here", "i", "me", "my", "we", "us", "our",
        "you", "your", "yours", "he", "him", "his", "she", "her", "they", "them", "their", "what",
        "which", "who", "whom", "whose", "when", "where", "why", "how", "all", "any", "each",
        "every", "some", "such", "also", "just", "only", "very", "too", "more", "most", "other",
        "again", "still", "yet", "even", "once", "e.g", "i.e", "etc", "you're", "you'll", "you've",
        "we'll", "we're", "i'm", "i'll", "i've", "that's", "there's", "let", "lets", "let's",
        "yes", "please", "sure", "ok", "okay", "whether", "both", "either", "while", "until",
        "because", "since", "like", // French
        "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "et", "ou", "à", "au", "aux",
        "en", "dans", "par", "pour", "sur", "avec", "est", "sont", "que", "qui", "vous", "votre",
        "vos", "nous", "il", "elle", "ils", "ce", "cette", "se", "sa", "son", "ses", "y",
        // German
        "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "und", "oder",
        "ist", "sind", "zu", "im", "mit", "auf", "für", "von", "sie", "wir", "es", "bitte",
        // Spanish / Italian / Portuguese
        "el", "los", "las", "lo", "y", "o", "es", "que", "una", "para", "con", "por", "del", "al",
        "su", "sus", "il", "di", "da", "per", "che", "gli", "della", "è", "os", "as", "um", "uma",
        "do", "da", "com", "por", "são",
    ];
    STOP.contains(&w)
}

/// A crude, symmetric English stemmer: enough to match "refunds"/"refund", "charged"/"charge".
pub fn stem(word: &str) -> String {
    let w = word.to_lowercase().replace('\u{2019}', "'");
    let w = w.trim_end_matches("'s").trim_matches('\'');
    let n = w.chars().count();
    let cut = |suffix: &str, min: usize| n >= min && w.ends_with(suffix);
    let stemmed = if cut("ies", 5) {
        format!("{}y", &w[..w.len() - 3])
    } else if cut("ing", 6) {
        w[..w.len() - 3].to_owned()
    } else if cut("ed", 5)
        || (cut("es", 5)
            && (w.ends_with("ses")
                || w.ends_with("xes")
                || w.ends_with("ches")
                || w.ends_with("shes")))
    {
        w[..w.len() - 2].to_owned()
    } else if cut("s", 4) && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_owned()
    } else {
        w.to_owned()
    };
    // "charge"/"charged" → "charg": drop a final e so both spellings meet.
    match stemmed.strip_suffix('e') {
        Some(s) if s.chars().count() >= 3 => s.to_owned(),
        _ => stemmed,
    }
}

/// Lower-cased word tokens (apostrophes and underscores kept inside words).
fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('\u{2019}', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '_'))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Stems of the content words of a text (no stop words, no negations, no bare numbers).
pub fn content_stems(text: &str) -> BTreeSet<String> {
    tokens(text)
        .iter()
        .filter(|w| !is_stopword(w) && !is_negation(w) && w.chars().any(char::is_alphabetic))
        .map(|w| stem(w))
        .collect()
}

/// Clauses: split at sentence ends, semicolons, colons, dashes and line breaks.
fn clauses(text: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"[.!?;:]+(?:\s+|$)|\n+|\s[—–-]\s|—").expect("valid regex")
    });
    re.split(text)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Clauses compared per side by [`negation_flips`].
const MAX_CLAUSES: usize = 300;

/// Words that may sit between a negation and what it negates ("won't *be* charged").
const NEGATION_FILLERS: &[&str] = &[
    "be",
    "been",
    "being",
    "a",
    "an",
    "the",
    "any",
    "ever",
    "yet",
    "always",
    "really",
    "even",
    "also",
    "still",
    "necessarily",
    "longer",
    "more",
    "at",
    "all",
    "so",
    "very",
    "too",
    "quite",
    "entirely",
    "fully",
    "currently",
    "usually",
    "generally",
    "actually",
    "get",
    "got",
];

/// What a negation at `tokens[i]` negates: the next content word of the clause (stemmed).
fn negated_head(tokens: &[String], i: usize) -> Option<String> {
    tokens[i + 1..]
        .iter()
        .find(|w| !NEGATION_FILLERS.contains(&w.as_str()) && !is_negation(w))
        .filter(|w| !is_stopword(w) && w.chars().any(char::is_alphabetic))
        .map(|w| stem(w))
}

/// Words that put what follows in a negative light without negating a head of their own
/// ("rather than rewriting", "instead, …", "impossible to").
fn is_negative_context(w: &str) -> bool {
    is_negation(w)
        || matches!(
            w,
            "rather"
                | "instead"
                | "avoid"
                | "avoids"
                | "avoiding"
                | "refrain"
                | "prevent"
                | "prevents"
                | "unable"
                | "impossible"
                | "lest"
        )
}

/// Whether `tokens[k]` is under a negation (one within four words before or two after it).
fn negated_at(tokens: &[String], k: usize) -> bool {
    let before = &tokens[k.saturating_sub(4)..k];
    let after = &tokens[k + 1..(k + 3).min(tokens.len())];
    before.iter().chain(after).any(|w| is_negative_context(w))
}

/// The text without code: fenced blocks are dropped and inline code becomes a placeholder (code
/// is not prose: its `!`, `not` and identifiers are not statements).
fn prose(text: &str) -> String {
    static RE: std::sync::OnceLock<[regex::Regex; 2]> = std::sync::OnceLock::new();
    let [fenced, inline] = RE.get_or_init(|| {
        [
            regex::Regex::new(r"(?s)```.*?(?:```|$)").expect("valid regex"),
            regex::Regex::new(r"`[^`\n]*`").expect("valid regex"),
        ]
    });
    let text = fenced.replace_all(text, "\n");
    inline.replace_all(&text, "code").into_owned()
}

/// Phrases of a clause: split at commas and brackets (a negation governs its own phrase).
fn phrases(clause: &str) -> Vec<&str> {
    clause
        .split([',', '(', ')'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// "Yes" (true) or "No" (false) when a text opens with one (en, fr, de, es, it, pt).
fn yes_no(text: &str) -> Option<bool> {
    let t = text
        .trim_start_matches(|c: char| !c.is_alphabetic())
        .to_lowercase();
    let first: String = t.chars().take_while(|c| c.is_alphabetic()).collect();
    let rest = t[first.len()..].trim_start_matches(' ');
    let answer = match first.as_str() {
        "yes" | "oui" | "ja" | "sí" | "si" | "sim" => true,
        "no" | "non" | "nein" | "não" | "nope" => false,
        _ => return None,
    };
    // "No problem", "Yes you can" read on; an answer is followed by punctuation or the end.
    (rest.is_empty() || rest.starts_with(['.', ',', '!', '—', '–', '-', ':', ';']))
        .then_some(answer)
}

/// A polarity flip found between two answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    /// The production clause (or answer opening).
    pub production: String,
    /// The matching candidate clause.
    pub candidate: String,
}

/// Polarity flips between `a` (production) and `b` (candidate).
///
/// A flip is a negation on one side whose negated word appears *un-negated* in the matching
/// clause of the other side ("you won't be charged" ↔ "you will still be charged"), or an answer
/// opening with "Yes" on one side and "No" on the other. Clauses are matched by their content
/// words (at least two shared, covering half of the shorter clause), so a rephrased negation
/// ("doesn't work for you" → "is a problem") or a negation expressed another way
/// ("without" → "with no") is not a flip.
pub fn negation_flips(a: &str, b: &str) -> Vec<Flip> {
    let mut out = Vec::new();
    if let (Some(ya), Some(yb)) = (yes_no(a), yes_no(b)) {
        if ya != yb {
            let opening = |t: &str| t.split_whitespace().next().unwrap_or("").to_owned();
            out.push(Flip {
                production: opening(a),
                candidate: opening(b),
            });
        }
    }
    let (mut ca, mut cb) = (clauses(&prose(a)), clauses(&prose(b)));
    // Bounded work on huge answers: the first clauses are compared.
    ca.truncate(MAX_CLAUSES);
    cb.truncate(MAX_CLAUSES);
    let prepared = |cs: &[String]| -> Vec<(Vec<String>, BTreeSet<String>)> {
        cs.iter().map(|c| (tokens(c), content_stems(c))).collect()
    };
    let (pa, pb) = (prepared(&ca), prepared(&cb));
    // The clause of `others` that best matches `stems`: at least two content words shared,
    // covering at least half of the smaller side.
    let best = |stems: &BTreeSet<String>, others: &[(Vec<String>, BTreeSet<String>)]| {
        others
            .iter()
            .enumerate()
            .map(|(j, (_, o))| {
                let shared = stems.intersection(o).count();
                let overlap = shared as f64 / stems.len().min(o.len()).max(1) as f64;
                (j, shared, overlap)
            })
            .filter(|(_, shared, overlap)| *shared >= 2 && *overlap >= 0.5)
            .max_by(|x, y| x.2.total_cmp(&y.2).then(x.1.cmp(&y.1)))
            .map(|(j, _, _)| j)
    };
    let mut find = |from: &[String],
                    to: &[(Vec<String>, BTreeSet<String>)],
                    to_text: &[String],
                    production_side: bool| {
        for clause in from {
            for phrase in phrases(clause) {
                let toks = tokens(phrase);
                let heads: Vec<String> = (0..toks.len())
                    .filter(|k| is_negation(&toks[*k]))
                    .filter_map(|k| negated_head(&toks, k))
                    .collect();
                if heads.is_empty() {
                    continue;
                }
                let Some(j) =
                    best(&content_stems(phrase), to).or_else(|| best(&content_stems(clause), to))
                else {
                    continue;
                };
                let other = &to[j].0;
                let flipped = heads.iter().any(|h| {
                    let at: Vec<usize> = (0..other.len())
                        .filter(|k| stem(&other[*k]) == *h)
                        .collect();
                    !at.is_empty() && at.iter().all(|k| !negated_at(other, *k))
                });
                if flipped {
                    let (p, c) = if production_side {
                        (clause.clone(), to_text[j].clone())
                    } else {
                        (to_text[j].clone(), clause.clone())
                    };
                    if !out
                        .iter()
                        .any(|f: &Flip| f.production == p && f.candidate == c)
                    {
                        out.push(Flip {
                            production: p,
                            candidate: c,
                        });
                    }
                }
            }
        }
    };
    find(&ca, &pb, &cb, true);
    find(&cb, &pa, &ca, false);
    out
}

/// True when a negation appears on one side only of otherwise matching clauses (see
/// [`negation_flips`]).
pub fn negation_flipped(a: &str, b: &str) -> bool {
    !negation_flips(a, b).is_empty()
}

/// For a short, label-like production answer (at most three words: "billing", "Negative.",
/// "Yes"), whether the candidate changed it: `Some(true)` when the candidate does not contain all
/// of its words, `Some(false)` when it restates it (maybe inside a sentence), `None` for longer
/// answers.
pub fn short_answer_changed(production: &str, candidate: &str) -> Option<bool> {
    let p = tokens(production);
    if p.is_empty() || p.len() > 3 {
        return None;
    }
    let c: BTreeSet<String> = tokens(candidate).iter().map(|w| stem(w)).collect();
    Some(!p.iter().all(|w| c.contains(&stem(w))))
}

fn list_line() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^\s*(?:(\d{1,2})[.)]|[-*•+])\s+(.+?)\s*$").expect("valid regex")
    })
}

/// Steps of a procedure compared (the first ones of a very long list).
const MAX_STEPS: usize = 50;

/// The steps of a numbered procedure (lines `1. …`, `2) …`), when a text has at least three.
pub fn numbered_steps(text: &str) -> Vec<String> {
    let steps: Vec<String> = text
        .lines()
        .filter_map(|l| list_line().captures(l))
        .filter(|c| c.get(1).is_some())
        .map(|c| c[2].to_owned())
        .collect();
    if steps.len() >= 3 {
        steps.into_iter().take(MAX_STEPS).collect()
    } else {
        Vec::new()
    }
}

/// Sentences of a text considered as places for steps.
const MAX_SEGMENTS: usize = 300;

/// The places of a text a step can be found in: each line (list markers removed), each sentence,
/// and each pair of neighbouring sentences (a step may be split in two).
pub fn segments(text: &str) -> Vec<String> {
    static SENTENCE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let sentence =
        SENTENCE.get_or_init(|| regex::Regex::new(r"[.!?]+(?:\s+|$)").expect("valid regex"));
    let mut out: Vec<String> = Vec::new();
    let mut sentences = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = list_line()
            .captures(line)
            .map_or_else(|| line.to_owned(), |c| c[2].to_owned());
        out.push(line.clone());
        for s in sentence
            .split(&line)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sentences.push(s.to_owned());
        }
    }
    sentences.truncate(MAX_SEGMENTS);
    for (i, s) in sentences.iter().enumerate() {
        out.push(s.clone());
        if let Some(next) = sentences.get(i + 1) {
            out.push(format!("{s} {next}"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// How well some segment of the candidate covers each production step, in 0..=1: the share of
/// the step's content words found in the best segment, each word weighted by how specific it is
/// to this step (1 / the number of steps using it), so words every step shares ("git", "click")
/// count less than the one that makes the step ("fetch", "attach").
pub fn step_coverage(steps: &[String], candidate_segments: &[String]) -> Vec<f64> {
    let step_stems: Vec<BTreeSet<String>> = steps.iter().map(|s| content_stems(s)).collect();
    let weight =
        |w: &String| 1.0 / step_stems.iter().filter(|s| s.contains(w)).count().max(1) as f64;
    let segs: Vec<BTreeSet<String>> = candidate_segments
        .iter()
        .map(|s| content_stems(s))
        .collect();
    step_stems
        .iter()
        .map(|stems| {
            let total: f64 = stems.iter().map(weight).sum();
            if total == 0.0 {
                return 1.0;
            }
            segs.iter()
                .map(|seg| stems.intersection(seg).map(weight).sum::<f64>() / total)
                .fold(0.0, f64::max)
        })
        .collect()
}

/// A rough language guess from stop words (en, fr, de, es, it, pt), or `None` when unsure.
pub fn language(text: &str) -> Option<&'static str> {
    const LANGS: &[(&str, &[&str])] = &[
        (
            "en",
            &[
                "the", "and", "is", "are", "to", "of", "you", "it", "that", "with", "for", "this",
            ],
        ),
        (
            "fr",
            &[
                "le", "la", "les", "et", "est", "des", "une", "vous", "pour", "que", "dans", "pas",
                "du", "au", "aux", "avec", "sur", "été", "nous", "votre", "cette", "merci", "être",
            ],
        ),
        (
            "de",
            &[
                "der", "die", "das", "und", "ist", "nicht", "sie", "mit", "ein", "eine", "zu",
                "für", "auf", "den", "dem", "wird", "wurde", "bitte", "auch", "sich", "dass",
            ],
        ),
        (
            "es",
            &[
                "el", "los", "las", "y", "es", "que", "una", "para", "con", "por", "del", "su",
                "pero", "más", "gracias", "usted", "tu", "tus", "muy", "hasta",
            ],
        ),
        (
            "it",
            &[
                "il", "che", "di", "per", "una", "sono", "con", "non", "della", "gli", "anche",
                "è", "grazie", "questo", "essere", "alla", "nel", "perché", "ti", "ci",
            ],
        ),
        (
            "pt",
            &[
                "o", "os", "que", "não", "uma", "para", "com", "por", "do", "da", "são", "você",
                "em", "ao", "também", "seu", "sua", "obrigado", "isso",
            ],
        ),
    ];
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() < 6 {
        return None;
    }
    let mut scores: Vec<(usize, &str)> = LANGS
        .iter()
        .map(|(lang, stop)| (words.iter().filter(|w| stop.contains(w)).count(), *lang))
        .collect();
    scores.sort_by(|a, b| b.cmp(a));
    let (best, lang) = scores[0];
    // Confident only with enough evidence and a clear lead.
    (best >= 2 && best >= 2 * scores[1].0.max(1)).then_some(lang)
}

/// Fenced code blocks in a Markdown text.
pub fn code_blocks(text: &str) -> usize {
    text.lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .count()
        / 2
}

#[cfg(test)]
mod signal_tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_and_identifiers_skipped() {
        assert_eq!(
            numbers("Total EUR 1,249.50 due in 30 days (30%)."),
            vec!["1249.5", "30", "30%"]
        );
        assert_eq!(
            numbers("Order A-10023 via v1.2.3 api"),
            Vec::<String>::new()
        );
        assert_eq!(
            numbers("Release 4.2 is about 30% faster"),
            vec!["30%", "4.2"]
        );
        assert!(numbers("no digits here").is_empty());
    }

    #[test]
    fn negations_are_counted_and_flips_found() {
        assert_eq!(negations("You can get a refund."), 0);
        assert_eq!(negations("You cannot get a refund; it isn't possible."), 2);
        assert_eq!(negations("You can’t"), 1);
        assert!(negation_flipped(
            "You can get a refund.",
            "You cannot get a refund."
        ));
        assert!(negation_flipped(
            "The link does not expire.",
            "The link does expire."
        ));
        assert!(!negation_flipped(
            "sent without delivery guarantees",
            "sent with no delivery guarantees"
        ));
        assert!(!negation_flipped("same text", "same text"));
    }

    #[test]
    fn languages_are_guessed_conservatively() {
        assert_eq!(
            language("The meeting has been moved to Thursday and it is at ten for the team."),
            Some("en")
        );
        assert_eq!(
            language(
                "La réunion est déplacée à jeudi et les invités sont dans la salle pour le café."
            ),
            Some("fr")
        );
        assert_eq!(language("ok thanks"), None);
        assert_eq!(
            language("La réunion a été déplacée à jeudi à 10 h. Merci de confirmer que vous pouvez y assister."),
            Some("fr"),
            "despite Spanish-looking que and y"
        );
        assert_eq!(
            language(
                "Das Meeting wurde auf Donnerstag um 10 Uhr verschoben. Bitte bestätigen Sie das."
            ),
            Some("de")
        );
        assert_eq!(
            language("Para cancelar, ve a Configuración y haz clic en Cancelar plan. Tu plan sigue activo hasta el final."),
            Some("es")
        );
    }

    #[test]
    fn code_blocks_are_counted() {
        assert_eq!(code_blocks("```sql\nSELECT 1;\n```\ntext\n```\nx\n```"), 2);
        assert_eq!(code_blocks("no code"), 0);
    }

    #[test]
    fn flips_need_the_same_negated_word_in_a_matching_clause() {
        let flips = |a: &str, b: &str| negation_flips(a, b).len();
        // A negation removed or added around the same word.
        assert_eq!(
            flips(
                "Your plan stays active and you won't be charged again.",
                "Your plan stays active and you will still be charged for the next month."
            ),
            1
        );
        assert_eq!(
            flips(
                "Water damage isn't covered by the warranty.",
                "Water damage is covered by the warranty."
            ),
            1
        );
        assert_eq!(
            flips(
                "Ne débranchez pas l'appareil pendant la mise à jour.",
                "Débranchez l'appareil pendant la mise à jour."
            ),
            1,
            "French ne … pas"
        );
        assert_eq!(
            flips("No, it is free.", "Yes, it is free."),
            1,
            "yes/no answers"
        );
        // Rephrased negations are not flips.
        assert_eq!(
            flips(
                "Let me know if the new time doesn't work for you.",
                "Tell me if the new time is a problem."
            ),
            0,
            "the negated word is gone"
        );
        assert_eq!(
            flips(
                "Don't retry immediately in a tight loop.",
                "Avoid retrying immediately in a tight loop."
            ),
            0,
            "avoid is negative too"
        );
        assert_eq!(
            flips(
                "Prefer `git revert` so you don't rewrite shared history.",
                "Use `git revert`, which adds a commit rather than rewriting history."
            ),
            0
        );
        assert_eq!(
            flips("```\nif (!ok) return;\n```", "```\nif (ok) return;\n```"),
            0,
            "code is not prose"
        );
        assert_eq!(
            flips("No problem! Open Settings.", "Yes, open Settings."),
            0
        );
    }

    #[test]
    fn short_answers_are_labels() {
        assert_eq!(short_answer_changed("billing", "Billing."), Some(false));
        assert_eq!(
            short_answer_changed("Negative.", "The sentiment of this review is negative."),
            Some(false)
        );
        assert_eq!(short_answer_changed("positive", "negative"), Some(true));
        assert_eq!(short_answer_changed("spam", "not_spam"), Some(true));
        assert_eq!(
            short_answer_changed("The capital is Paris, of course.", "Lyon"),
            None,
            "not a short answer"
        );
    }

    #[test]
    fn steps_are_found_by_their_specific_words() {
        let p = "1. `git fetch origin`\n2. `git rebase origin/main`\n3. Fix conflicts and `git rebase --continue`\n4. `git push --force-with-lease`";
        let steps = numbered_steps(p);
        assert_eq!(steps.len(), 4);
        let kept = "1. `git rebase origin/main`\n2. Resolve conflicts, then `git rebase --continue`\n3. Push with `git push --force-with-lease`";
        let coverage = step_coverage(&steps, &segments(kept));
        assert!(coverage[0] < 0.5, "fetch is gone: {coverage:?}");
        assert!(coverage[1..].iter().all(|c| *c >= 0.5), "{coverage:?}");
        let prose = "Fetch from origin with git, rebase onto origin/main, fix conflicts and continue the rebase, then push with force-with-lease.";
        assert!(
            step_coverage(&steps, &segments(prose))
                .iter()
                .all(|c| *c >= 0.5),
            "the same steps in one sentence"
        );
        assert!(
            numbered_steps("1. one\n2. two").is_empty(),
            "two items are not a procedure"
        );
        assert!(
            numbered_steps("- a\n- b\n- c").is_empty(),
            "bullets are not numbered"
        );
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("refunds"), stem("refund"));
        assert_eq!(stem("charged"), stem("charge"));
        assert_eq!(stem("retrying"), stem("retry"));
        assert_eq!(stem("policies"), stem("policy"));
        assert_ne!(stem("status"), "statu");
    }
}
