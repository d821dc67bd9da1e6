//! Text comparison: word-level similarity (crate `similar`) and refusal detection.

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
    "i can't assist with",
    "i cannot assist with",
    "i'm not able to help",
    "i am not able to help",
    "i'm unable to help",
    "i am unable to help",
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "sorry, i can't",
    "i won't be able to",
    "i can't provide",
    "i cannot provide",
    "i must decline",
    "as an ai language model, i cannot",
];

/// True when `text` reads like a refusal (checked near the start, where refusals are phrased).
pub fn looks_like_refusal(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(200)
        .collect::<String>()
        .to_lowercase()
        .replace('\u{2019}', "'");
    REFUSAL_PATTERNS.iter().any(|p| head.contains(p))
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
    }
}

/// Numbers mentioned in a text, normalised (`1,249.50` → `1249.5`, `30%` stays), sorted and
/// deduplicated. Tokens mixing digits and letters (`A-10023`, `v1.2.3`, `10am`) are identifiers, not numbers.
pub fn numbers(text: &str) -> Vec<String> {
    static NUMBER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let number = NUMBER.get_or_init(|| {
        regex::Regex::new(r"^[-+]?\d{1,3}(?:,\d{3})*(?:\.\d+)?%?$|^[-+]?\d+(?:\.\d+)?%?$")
            .expect("valid regex")
    });
    let mut out: Vec<String> = text
        .split_whitespace()
        .map(|t| t.trim_start_matches(['(', '[', '"', '\'', '*', '`']))
        .map(|t| {
            t.trim_end_matches(|c: char| {
                matches!(
                    c,
                    ')' | ']' | '"' | '\'' | ',' | ';' | ':' | '!' | '?' | '*' | '`' | '.'
                )
            })
        })
        .map(|t| t.trim_start_matches(['$', '€', '£', '¥']))
        .filter(|t| number.is_match(t))
        .map(|t| {
            let mut n = t.trim_start_matches('+').replace(',', "");
            let percent = n.ends_with('%');
            if percent {
                n.pop();
            }
            if n.contains('.') {
                n = n.trim_end_matches('0').trim_end_matches('.').to_owned();
            }
            if percent {
                n.push('%');
            }
            n
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

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
    ) || w.ends_with("n't")
}

/// Negation words in a text (not, no, never, cannot, without, n't, …).
pub fn negations(text: &str) -> usize {
    words(text).iter().filter(|w| is_negation(w)).count()
}

/// True when the word-level edit from `a` to `b` adds or removes a negation on one side only
/// ("can" → "cannot"), as opposed to rephrasing one negation with another ("without" → "with no").
pub fn negation_flipped(a: &str, b: &str) -> bool {
    let (wa, wb) = (words(a), words(b));
    let deadline = Instant::now() + Duration::from_millis(100);
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &wa, &wb, Some(deadline));
    let (mut removed, mut added) = (0, 0);
    for op in ops {
        match op {
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                removed += wa[old_index..old_index + old_len]
                    .iter()
                    .filter(|w| is_negation(w))
                    .count();
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                added += wb[new_index..new_index + new_len]
                    .iter()
                    .filter(|w| is_negation(w))
                    .count();
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                removed += wa[old_index..old_index + old_len]
                    .iter()
                    .filter(|w| is_negation(w))
                    .count();
                added += wb[new_index..new_index + new_len]
                    .iter()
                    .filter(|w| is_negation(w))
                    .count();
            }
            DiffOp::Equal { .. } => {}
        }
    }
    removed != added
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
            ],
        ),
        (
            "de",
            &[
                "der", "die", "das", "und", "ist", "nicht", "sie", "mit", "ein", "eine", "zu",
                "für",
            ],
        ),
        (
            "es",
            &[
                "el", "los", "las", "y", "es", "que", "una", "para", "con", "por", "del", "su",
            ],
        ),
        (
            "it",
            &[
                "il", "che", "di", "per", "una", "sono", "con", "non", "della", "gli", "anche", "è",
            ],
        ),
        (
            "pt",
            &[
                "o", "os", "que", "não", "uma", "para", "com", "por", "do", "da", "são", "você",
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
    }

    #[test]
    fn code_blocks_are_counted() {
        assert_eq!(code_blocks("```sql\nSELECT 1;\n```\ntext\n```\nx\n```"), 2);
        assert_eq!(code_blocks("no code"), 0);
    }
}
