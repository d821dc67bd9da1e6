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
