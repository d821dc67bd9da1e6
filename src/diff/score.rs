//! From findings and text similarity to a divergence score and a verdict.
//!
//! Score (0 = identical, 1 = completely different):
//! `S = 1 − Π(1 − wᵢ)` over findings, with severity weights info 0, minor 0.3, major 0.8, critical 1;
//! `T = 1 − semantic_similarity` when the meaning was compared, else `1 − word_similarity`
//! (0 when there is no text on either side);
//! `score = 1 − (1 − S)(1 − T/2)`. Structural problems dominate; text alone moves the score at most halfway.
//!
//! Verdict: any major/critical finding → regression; any minor → minor; no findings and identical
//! text → same; otherwise → noise.

use crate::domain::{Finding, Severity, Verdict};

/// Combined divergence score, see the module docs.
pub fn score(
    findings: &[Finding],
    text_similarity: Option<f64>,
    semantic_similarity: Option<f64>,
) -> f64 {
    let structural = 1.0
        - findings
            .iter()
            .map(|f| 1.0 - f.severity.weight())
            .product::<f64>();
    let text = 1.0
        - semantic_similarity
            .or(text_similarity)
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
    (1.0 - (1.0 - structural) * (1.0 - text / 2.0)).clamp(0.0, 1.0)
}

/// Verdict for a candidate that answered, see the module docs.
pub fn verdict(findings: &[Finding], text_similarity: Option<f64>) -> Verdict {
    let worst = findings.iter().map(|f| f.severity).max();
    match worst {
        Some(Severity::Critical | Severity::Major) => Verdict::Regression,
        Some(Severity::Minor) => Verdict::Minor,
        _ if text_similarity.is_none_or(|s| s >= 1.0) && findings.is_empty() => Verdict::Same,
        _ => Verdict::Noise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FindingKind;

    fn f(severity: Severity) -> Finding {
        Finding {
            kind: FindingKind::TextDivergence,
            path: String::new(),
            severity,
            value: None,
            threshold: None,
            message: String::new(),
        }
    }

    #[test]
    fn score_is_bounded_and_monotone() {
        assert_eq!(score(&[], Some(1.0), None), 0.0);
        assert_eq!(score(&[], None, None), 0.0);
        assert!(
            (score(&[], Some(0.1), Some(0.9)) - 0.05).abs() < 1e-9,
            "meaning wins over wording"
        );
        assert!((score(&[], Some(0.0), None) - 0.5).abs() < 1e-9);
        assert_eq!(score(&[f(Severity::Critical)], Some(1.0), None), 1.0);
        let one = score(&[f(Severity::Minor)], Some(0.8), None);
        let two = score(&[f(Severity::Minor), f(Severity::Minor)], Some(0.8), None);
        assert!(0.0 < one && one < two && two < 1.0);
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&[], Some(1.0)), Verdict::Same);
        assert_eq!(verdict(&[], Some(0.9)), Verdict::Noise);
        assert_eq!(verdict(&[f(Severity::Info)], Some(1.0)), Verdict::Noise);
        assert_eq!(verdict(&[f(Severity::Minor)], Some(1.0)), Verdict::Minor);
        assert_eq!(
            verdict(&[f(Severity::Minor), f(Severity::Major)], None),
            Verdict::Regression
        );
    }
}
