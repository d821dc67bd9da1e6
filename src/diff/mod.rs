//! The differ: explainable findings, a divergence score and a verdict for one candidate answer.
//!
//! Pure and synchronous: the worker calls [`compare`] with values it already has.

pub mod json_tree;
pub mod score;
pub mod structural;
pub mod text;

use serde_json::Value;

use crate::domain::{DiffOutcome, ErrorClass, Finding, FindingKind, Severity, Verdict};
use crate::openai::ChatView;

/// Word similarity below which answers are flagged as diverging in wording.
pub const TEXT_SIMILARITY_THRESHOLD: f64 = 0.35;
/// Candidate/production length ratio outside `[1/x, x]` is flagged.
pub const LENGTH_RATIO_THRESHOLD: f64 = 2.5;

/// What the candidate side of a comparison is.
#[derive(Debug, Clone, Copy)]
pub enum CandidateSide<'a> {
    /// The candidate answered with this body (2xx).
    Answer(&'a Value),
    /// The candidate did not produce an answer.
    Failed { class: ErrorClass, message: &'a str },
    /// The candidate produced something answer-shaped but broken (e.g. a stream that ended early):
    /// compared as far as it goes, and a regression in any case.
    Malformed { answer: &'a Value, message: &'a str },
}

/// Inputs of one comparison.
#[derive(Debug, Clone, Copy)]
pub struct DiffInput<'a> {
    /// The request that both answered (enables JSON-mode and declared-tool checks).
    pub request: Option<&'a Value>,
    /// Production's response body.
    pub production: &'a Value,
    pub candidate: CandidateSide<'a>,
}

fn finding(kind: FindingKind, path: &str, severity: Severity, message: String) -> Finding {
    Finding {
        kind,
        path: path.to_owned(),
        severity,
        value: None,
        threshold: None,
        message,
    }
}

/// Compare a candidate answer with production's.
pub fn compare(input: &DiffInput<'_>) -> DiffOutcome {
    let answer = match input.candidate {
        CandidateSide::Failed { class, message } => {
            let (kind, verdict) = if class.is_incompatibility() {
                (FindingKind::Incompatible, Verdict::Incompatible)
            } else if class == ErrorClass::MalformedResponse {
                // The candidate answered, but with something unusable: a quality problem.
                (FindingKind::ResponseShape, Verdict::Regression)
            } else {
                (FindingKind::CandidateError, Verdict::Error)
            };
            return DiffOutcome {
                verdict,
                score: 1.0,
                text_similarity: None,
                findings: vec![finding(
                    kind,
                    "",
                    Severity::Critical,
                    format!("{class}: {message}"),
                )],
            };
        }
        CandidateSide::Answer(v) => v,
        CandidateSide::Malformed { answer, message } => {
            let mut out = compare(&DiffInput {
                candidate: CandidateSide::Answer(answer),
                ..*input
            });
            out.findings.insert(
                0,
                finding(
                    FindingKind::ResponseShape,
                    "",
                    Severity::Critical,
                    format!("the candidate's answer is malformed: {message}"),
                ),
            );
            out.verdict = Verdict::Regression;
            out.score = score::score(&out.findings, out.text_similarity);
            return out;
        }
    };
    let Some(cand) = ChatView::parse(answer) else {
        let findings = vec![finding(
            FindingKind::ResponseShape,
            "",
            Severity::Critical,
            "the candidate's response is not a chat completion (no `choices` array)".into(),
        )];
        return DiffOutcome {
            verdict: Verdict::Regression,
            score: 1.0,
            text_similarity: None,
            findings,
        };
    };
    let prod = ChatView::parse(input.production).unwrap_or_default();
    let mut findings = structural::findings(input.request, &prod, &cand);

    let text_similarity = match (
        prod.first().and_then(|c| c.content.as_deref()),
        cand.first().and_then(|c| c.content.as_deref()),
    ) {
        (Some(p), Some(c)) if !p.trim().is_empty() || !c.trim().is_empty() => {
            let sim = text::word_similarity(p, c);
            text_findings(p, c, sim, &mut findings);
            Some(sim)
        }
        _ => None,
    };
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    DiffOutcome {
        verdict: score::verdict(&findings, text_similarity),
        score: score::score(&findings, text_similarity),
        text_similarity,
        findings,
    }
}

/// Wording and length findings (only when nothing structural already explains the answer).
fn text_findings(p: &str, c: &str, sim: f64, findings: &mut Vec<Finding>) {
    if findings.iter().any(|f| f.severity >= Severity::Major)
        || p.trim().is_empty()
        || c.trim().is_empty()
    {
        return;
    }
    let path = "choices[0].message.content";
    if sim < TEXT_SIMILARITY_THRESHOLD {
        let mut f = finding(
            FindingKind::TextDivergence,
            path,
            Severity::Minor,
            format!("the answers share few words (word similarity {sim:.2})"),
        );
        f.value = Some(sim);
        f.threshold = Some(TEXT_SIMILARITY_THRESHOLD);
        findings.push(f);
    }
    let ratio = c.chars().count() as f64 / p.chars().count().max(1) as f64;
    if !(1.0 / LENGTH_RATIO_THRESHOLD..=LENGTH_RATIO_THRESHOLD).contains(&ratio) {
        let mut f = finding(
            FindingKind::LengthRatio,
            path,
            Severity::Minor,
            format!("the candidate's answer is {ratio:.1}× as long as production's"),
        );
        f.value = Some(ratio);
        f.threshold = Some(LENGTH_RATIO_THRESHOLD);
        findings.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(text: &str) -> Value {
        json!({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
    }

    #[test]
    fn identical_is_same() {
        let p = answer("Paris is the capital of France.");
        let out = compare(&DiffInput {
            request: None,
            production: &p,
            candidate: CandidateSide::Answer(&p),
        });
        assert_eq!(out.verdict, Verdict::Same);
        assert_eq!(out.score, 0.0);
    }

    #[test]
    fn small_rewording_is_noise() {
        let p = answer("Paris is the capital of France.");
        let c = answer("Paris is the capital city of France.");
        let out = compare(&DiffInput {
            request: None,
            production: &p,
            candidate: CandidateSide::Answer(&c),
        });
        assert_eq!(out.verdict, Verdict::Noise, "{out:?}");
        assert!(out.score > 0.0 && out.score < 0.2, "{}", out.score);
    }

    #[test]
    fn failures_are_errors_or_incompatible() {
        let p = answer("x");
        let out = compare(&DiffInput {
            request: None,
            production: &p,
            candidate: CandidateSide::Failed {
                class: ErrorClass::RateLimited,
                message: "429",
            },
        });
        assert_eq!(out.verdict, Verdict::Error);
        let out = compare(&DiffInput {
            request: None,
            production: &p,
            candidate: CandidateSide::Failed {
                class: ErrorClass::UnsupportedParameter,
                message: "logit_bias",
            },
        });
        assert_eq!(out.verdict, Verdict::Incompatible);
    }

    #[test]
    fn not_a_completion_is_a_regression() {
        let p = answer("x");
        let c = json!({"result": "x"});
        let out = compare(&DiffInput {
            request: None,
            production: &p,
            candidate: CandidateSide::Answer(&c),
        });
        assert_eq!(out.verdict, Verdict::Regression);
        assert_eq!(out.findings[0].kind, FindingKind::ResponseShape);
    }
}
