//! The differ: explainable findings, a divergence score and a verdict for one candidate answer.
//!
//! Pure and synchronous: the worker calls [`compare`] with values it already has.

pub mod facts;
pub mod json_tree;
pub mod rules;
pub mod score;
pub mod semantic;
pub mod structural;
pub mod text;

use serde_json::Value;

use crate::domain::{DiffOutcome, ErrorClass, Finding, FindingKind, Severity, Verdict};
use crate::openai::ChatView;

/// Word similarity below which answers are flagged as worded differently.
pub const TEXT_SIMILARITY_THRESHOLD: f64 = 0.35;
/// Candidate/production length ratio outside `[1/x, x]` is flagged.
pub const LENGTH_RATIO_THRESHOLD: f64 = 2.5;
/// Semantic similarity below which the meaning is flagged as different (minor)…
pub const SEMANTIC_MINOR_THRESHOLD: f64 = 0.70;
/// …and below which it is a regression.
pub const SEMANTIC_MAJOR_THRESHOLD: f64 = 0.50;
/// How far below the control's own similarity a candidate must fall to count (noise margin).
pub const NOISE_MARGIN: f64 = 0.05;
/// A production step is still there when some candidate sentence holds at least this share of
/// its (specificity-weighted) content words…
pub const STEP_COVERAGE_THRESHOLD: f64 = 0.5;
/// …or means the same (semantic similarity of step and sentence at least this).
pub const STEP_MEANING_THRESHOLD: f64 = 0.8;

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

impl<'a> CandidateSide<'a> {
    /// The side of a stored replay: its answer (if JSON) and its failure (if classified).
    /// A broken but answer-shaped reply is compared as far as it goes (and is a regression).
    pub fn from_replay(
        answer: Option<&'a Value>,
        failure: Option<&'a (ErrorClass, String)>,
    ) -> Self {
        match (failure, answer) {
            (Some((ErrorClass::MalformedResponse, message)), Some(v)) => {
                Self::Malformed { answer: v, message }
            }
            (Some((class, message)), _) => Self::Failed {
                class: *class,
                message,
            },
            (None, Some(v)) => Self::Answer(v),
            (None, None) => Self::Answer(&Value::Null),
        }
    }
}

/// How much production disagrees with itself on this exchange (from the control replay).
#[derive(Debug, Clone, Default)]
pub struct Noise {
    /// Control vs production semantic similarity.
    pub semantic: Option<f64>,
    /// Control vs production word similarity.
    pub text_similarity: Option<f64>,
    /// Findings of control vs production: the same finding on a candidate is noise.
    pub findings: Vec<Finding>,
}

impl Noise {
    /// The noise floor measured by a control comparison.
    pub fn from_control(outcome: &DiffOutcome) -> Self {
        Self {
            semantic: outcome.semantic_similarity,
            text_similarity: outcome.text_similarity,
            findings: outcome.findings.clone(),
        }
    }
}

/// Inputs of one comparison.
#[derive(Debug, Clone, Copy)]
pub struct DiffInput<'a> {
    /// The request that both answered (enables JSON-mode and declared-tool checks).
    pub request: Option<&'a Value>,
    /// Production's response body.
    pub production: &'a Value,
    pub candidate: CandidateSide<'a>,
    /// Semantic similarity of the two answer texts, computed by the caller (see [`semantic`]).
    pub semantic: Option<f64>,
    /// The noise floor, when a control replay exists.
    pub noise: Option<&'a Noise>,
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

fn measured(mut f: Finding, value: f64, threshold: f64) -> Finding {
    f.value = Some(value);
    f.threshold = Some(threshold);
    f
}

/// Compare like [`compare`], first measuring the meaning of both answers with `semantic` (when
/// given and both sides have text): the answers as a whole, and each step of a numbered procedure
/// in production's answer against the candidate's sentences. The same path serves the workers,
/// `shadowtap diff` and `shadowtap eval`.
pub async fn compare_with_meaning(
    semantic: Option<&semantic::Semantic>,
    input: DiffInput<'_>,
) -> DiffOutcome {
    let candidate_answer = match input.candidate {
        CandidateSide::Answer(v) => Some(v),
        _ => None,
    };
    let (mut similarity, mut steps) = (None, None);
    if let (Some(service), Some(p), Some(c)) = (
        semantic,
        answer_text(input.production),
        candidate_answer.and_then(answer_text),
    ) {
        match service.similarity(&p, &c).await {
            Ok(s) => {
                similarity = Some(s);
                steps = step_meaning(service, &p, &c).await;
            }
            Err(e) => tracing::warn!(error = %e, "semantic similarity unavailable"),
        }
    }
    compare_measured(
        &DiffInput {
            semantic: similarity.or(input.semantic),
            ..input
        },
        steps.as_deref(),
    )
}

/// For each step of a numbered procedure in `production`, its best semantic similarity to a
/// sentence of `candidate` (`None` without a procedure or when embedding fails).
async fn step_meaning(
    service: &semantic::Semantic,
    production: &str,
    candidate: &str,
) -> Option<Vec<f64>> {
    let steps = text::numbered_steps(production);
    if steps.is_empty() {
        return None;
    }
    let mut segments = text::segments(candidate);
    segments.truncate(200);
    let all: Vec<&str> = steps.iter().chain(&segments).map(String::as_str).collect();
    let vectors = match service.text_vectors(&all).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "step similarity unavailable");
            return None;
        }
    };
    let (sv, gv) = vectors.split_at(steps.len());
    Some(
        sv.iter()
            .map(|s| {
                gv.iter()
                    .map(|g| semantic::cosine(s, g))
                    .fold(-1.0, f64::max)
            })
            .collect(),
    )
}

/// The answer text of a chat completion (first choice's content), if any.
pub fn answer_text(response: &Value) -> Option<String> {
    ChatView::parse(response)?
        .first()?
        .content
        .clone()
        .filter(|t| !t.trim().is_empty())
}

fn failure(kind: FindingKind, verdict: Verdict, message: String) -> DiffOutcome {
    DiffOutcome {
        verdict,
        score: 1.0,
        text_similarity: None,
        semantic_similarity: None,
        noise_semantic: None,
        findings: vec![finding(kind, "", Severity::Critical, message)],
    }
}

/// Compare a candidate answer with production's.
pub fn compare(input: &DiffInput<'_>) -> DiffOutcome {
    compare_measured(input, None)
}

/// [`compare`] with the per-step meaning similarities [`compare_with_meaning`] measured.
fn compare_measured(input: &DiffInput<'_>, steps_meaning: Option<&[f64]>) -> DiffOutcome {
    let answer = match input.candidate {
        CandidateSide::Failed { class, message } => {
            // A context window too small for the request is as blocking as an unsupported
            // parameter; a content filter that blocks what production answered is a refusal.
            return if class.is_incompatibility() || class == ErrorClass::ContextLength {
                failure(
                    FindingKind::Incompatible,
                    Verdict::Incompatible,
                    format!("{class}: {message}"),
                )
            } else if class == ErrorClass::ContentFilter {
                failure(
                    FindingKind::Refusal,
                    Verdict::Regression,
                    format!("the candidate's content filter blocked a request production answered ({class}: {message})"),
                )
            } else if class == ErrorClass::MalformedResponse {
                // The candidate answered, but with something unusable: a quality problem.
                failure(
                    FindingKind::ResponseShape,
                    Verdict::Regression,
                    format!("{class}: {message}"),
                )
            } else {
                failure(
                    FindingKind::CandidateError,
                    Verdict::Error,
                    format!("{class}: {message}"),
                )
            };
        }
        CandidateSide::Answer(v) => v,
        CandidateSide::Malformed { answer, message } => {
            let mut out = compare_measured(
                &DiffInput {
                    candidate: CandidateSide::Answer(answer),
                    ..*input
                },
                steps_meaning,
            );
            let why = format!("the candidate's answer is malformed: {message}");
            out.findings.insert(
                0,
                finding(FindingKind::ResponseShape, "", Severity::Critical, why),
            );
            out.verdict = Verdict::Regression;
            out.score = score::score(&out.findings, out.text_similarity, out.semantic_similarity);
            return out;
        }
    };
    let Some(cand) = ChatView::parse(answer) else {
        let why =
            "the candidate's response is not a chat completion (no `choices` array)".to_owned();
        return failure(FindingKind::ResponseShape, Verdict::Regression, why);
    };
    let prod = ChatView::parse(input.production).unwrap_or_default();
    let mut findings = structural::findings(input.request, &prod, &cand);

    let texts = (
        prod.first()
            .and_then(|c| c.content.as_deref())
            .filter(|t| !t.trim().is_empty()),
        cand.first()
            .and_then(|c| c.content.as_deref())
            .filter(|t| !t.trim().is_empty()),
    );
    let (text_similarity, semantic_similarity) = match texts {
        (Some(p), Some(c)) => {
            let sim = text::word_similarity(p, c);
            let semantic = input.semantic.map(|s| s.clamp(-1.0, 1.0));
            let measured = Measured {
                word: sim,
                semantic,
                steps: steps_meaning,
            };
            text_findings(p, c, &measured, input.noise, &mut findings);
            (Some(sim), semantic)
        }
        _ => (None, None),
    };
    if let Some(noise) = input.noise {
        discount_noise(&mut findings, noise);
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    DiffOutcome {
        verdict: score::verdict(&findings, text_similarity),
        score: score::score(&findings, text_similarity, semantic_similarity),
        text_similarity,
        semantic_similarity,
        noise_semantic: input.noise.and_then(|n| n.semantic),
        findings,
    }
}

/// Findings production also shows against itself (same kind and place, at least as severe) are
/// noise, not regressions. Text findings name their place precisely (`content.facts["30"]`,
/// `content.steps[2]`), so a control that varies one figure does not excuse another, and a
/// control that merely omits a figure does not excuse a candidate that changes it.
fn discount_noise(findings: &mut [Finding], noise: &Noise) {
    for f in findings.iter_mut().filter(|f| f.severity > Severity::Info) {
        let also_in_control = noise
            .findings
            .iter()
            .any(|n| n.kind == f.kind && n.path == f.path && n.severity >= f.severity);
        if also_in_control {
            f.severity = Severity::Info;
            f.message
                .push_str(" — production varies here too (control replay), so this is noise");
        }
    }
}

/// Thresholds for semantic similarity, lowered to the noise floor when production itself varies.
fn semantic_thresholds(noise: Option<&Noise>) -> (f64, f64) {
    match noise.and_then(|n| n.semantic) {
        Some(floor) => {
            let minor = SEMANTIC_MINOR_THRESHOLD.min(floor - NOISE_MARGIN);
            (minor, SEMANTIC_MAJOR_THRESHOLD.min(minor - 0.2))
        }
        None => (SEMANTIC_MINOR_THRESHOLD, SEMANTIC_MAJOR_THRESHOLD),
    }
}

/// What was measured about two answer texts.
struct Measured<'a> {
    /// Word similarity.
    word: f64,
    /// Semantic similarity of the whole answers.
    semantic: Option<f64>,
    /// Per production step, the best semantic similarity to a candidate sentence.
    steps: Option<&'a [f64]>,
}

fn quote(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        format!("\"{s}\"")
    } else {
        format!("\"{}…\"", s.chars().take(max).collect::<String>())
    }
}

/// Findings about the answer texts: meaning, facts, negation, steps, language, formatting,
/// wording, length.
fn text_findings(
    p: &str,
    c: &str,
    m: &Measured<'_>,
    noise: Option<&Noise>,
    findings: &mut Vec<Finding>,
) {
    if findings.iter().any(|f| f.severity >= Severity::Major) {
        return;
    }
    let path = "choices[0].message.content";
    // JSON answers are compared as trees by the structural differ.
    let is_json = |t: &str| {
        serde_json::from_str::<Value>(t.trim()).is_ok_and(|v| v.is_object() || v.is_array())
    };
    if is_json(p) {
        return;
    }
    let sim = m.word;
    let semantic = m.semantic;
    let (minor_at, major_at) = semantic_thresholds(noise);
    let same_meaning = semantic.is_some_and(|s| s >= minor_at);

    // A short, label-like answer ("billing", "Negative.", "Yes") is compared word for word:
    // embeddings of one or two words say little, and any other label is a different answer.
    let short_answer = text::short_answer_changed(p, c);
    if short_answer == Some(true) {
        findings.push(finding(
            FindingKind::SemanticDivergence,
            path,
            Severity::Major,
            format!(
                "the short answer changed: {} → {}",
                quote(p, 40),
                quote(c, 40)
            ),
        ));
    }
    if let Some(s) = semantic.filter(|_| short_answer.is_none()) {
        if s < minor_at {
            let severity = if s < major_at {
                Severity::Major
            } else {
                Severity::Minor
            };
            let f = finding(
                FindingKind::SemanticDivergence,
                path,
                severity,
                format!("the answers mean different things (semantic similarity {s:.2})"),
            );
            findings.push(measured(
                f,
                s,
                if s < major_at { major_at } else { minor_at },
            ));
        }
    }

    // Facts: a different figure or name in the same place is wrong; a missing one is less detail.
    let mut omitted = Vec::new();
    for change in facts::fact_changes(p, c) {
        let before = &change.before;
        match &change.after {
            Some(after) => {
                let (kind, what) = if before.kind == facts::FactKind::Name {
                    (FindingKind::SemanticDivergence, "name")
                } else {
                    (FindingKind::NumbersChanged, "figure")
                };
                findings.push(finding(
                    kind,
                    &format!("{path}.facts[{}]", quote(&before.text, 40)),
                    Severity::Major,
                    format!(
                        "{what} changed: {} → {} (in the same place of the answer)",
                        before.text, after.text
                    ),
                ));
            }
            None => omitted.push(before.text.clone()),
        }
    }
    if !omitted.is_empty() {
        findings.push(finding(
            FindingKind::NumbersChanged,
            path,
            Severity::Minor,
            format!(
                "figures missing from the candidate's answer: {}",
                omitted.join(", ")
            ),
        ));
    }

    for flip in text::negation_flips(p, c).into_iter().take(3) {
        findings.push(finding(
            FindingKind::Negation,
            path,
            Severity::Major,
            format!(
                "the candidate says the opposite: production {} ↔ candidate {}",
                quote(&flip.production, 80),
                quote(&flip.candidate, 80)
            ),
        ));
    }

    missing_steps(p, c, m.steps, path, findings);

    if let (Some(lp), Some(lc)) = (text::language(p), text::language(c)) {
        if lp != lc {
            let message = format!("the answer switched language from {lp} to {lc}");
            findings.push(finding(
                FindingKind::LanguageSwitch,
                path,
                Severity::Major,
                message,
            ));
        }
    }
    let (bp, bc) = (text::code_blocks(p), text::code_blocks(c));
    if bp != bc {
        let severity = if bp > 0 && bc == 0 {
            Severity::Major
        } else {
            Severity::Minor
        };
        let message = format!("code blocks: production {bp}, candidate {bc}");
        findings.push(finding(FindingKind::Formatting, path, severity, message));
    }
    if sim < TEXT_SIMILARITY_THRESHOLD {
        let (severity, message) = if same_meaning || short_answer == Some(false) {
            (
                Severity::Info,
                format!("worded differently (word similarity {sim:.2}) but with the same meaning"),
            )
        } else if semantic.is_some() {
            (
                Severity::Info,
                format!("worded differently (word similarity {sim:.2})"),
            )
        } else {
            (
                Severity::Minor,
                format!("the answers share few words (word similarity {sim:.2})"),
            )
        };
        let f = finding(FindingKind::TextDivergence, path, severity, message);
        findings.push(measured(f, sim, TEXT_SIMILARITY_THRESHOLD));
    }
    let ratio = c.chars().count() as f64 / p.chars().count().max(1) as f64;
    if !(1.0 / LENGTH_RATIO_THRESHOLD..=LENGTH_RATIO_THRESHOLD).contains(&ratio) {
        let f = finding(
            FindingKind::LengthRatio,
            path,
            Severity::Minor,
            format!("the candidate's answer is {ratio:.1}× as long as production's"),
        );
        findings.push(measured(f, ratio, LENGTH_RATIO_THRESHOLD));
    }
}

/// Steps of production's numbered procedure that no part of the candidate's answer covers, by
/// words ([`text::step_coverage`]) or, when measured, by meaning. Only when the candidate covers
/// most of the procedure: an answer that covers little of it is a different answer, which the
/// semantic comparison judges as a whole.
fn missing_steps(
    p: &str,
    c: &str,
    meaning: Option<&[f64]>,
    path: &str,
    findings: &mut Vec<Finding>,
) {
    let steps = text::numbered_steps(p);
    if steps.is_empty() {
        return;
    }
    let coverage = text::step_coverage(&steps, &text::segments(c));
    let missing: Vec<usize> = (0..steps.len())
        .filter(|i| coverage[*i] < STEP_COVERAGE_THRESHOLD)
        .filter(|i| {
            meaning
                .and_then(|m| m.get(*i))
                .is_none_or(|s| *s < STEP_MEANING_THRESHOLD)
        })
        .collect();
    if missing.is_empty() || missing.len() * 2 > steps.len() {
        return;
    }
    for i in missing {
        let f = finding(
            FindingKind::TextDivergence,
            &format!("{path}.steps[{i}]"),
            Severity::Major,
            format!(
                "step {} of production's procedure is missing from the candidate's answer: {}",
                i + 1,
                quote(&steps[i], 80)
            ),
        );
        findings.push(measured(f, coverage[i], STEP_COVERAGE_THRESHOLD));
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
            semantic: None,
            noise: None,
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
            semantic: None,
            noise: None,
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
            semantic: None,
            noise: None,
        });
        assert_eq!(out.verdict, Verdict::Error);
        let out = compare(&DiffInput {
            request: None,
            production: &p,
            candidate: CandidateSide::Failed {
                class: ErrorClass::UnsupportedParameter,
                message: "logit_bias",
            },
            semantic: None,
            noise: None,
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
            semantic: None,
            noise: None,
        });
        assert_eq!(out.verdict, Verdict::Regression);
        assert_eq!(out.findings[0].kind, FindingKind::ResponseShape);
    }

    fn diff(p: &Value, c: &Value, noise: Option<&Noise>) -> DiffOutcome {
        compare(&DiffInput {
            request: None,
            production: p,
            candidate: CandidateSide::Answer(c),
            semantic: None,
            noise,
        })
    }

    #[test]
    fn a_changed_figure_is_a_regression_an_omitted_one_minor() {
        let p = answer(
            "Refunds are possible within 30 days of purchase, usually in 5-7 business days.",
        );
        let out = diff(
            &p,
            &answer(
                "Refunds are possible within 14 days of purchase, usually in 5-7 business days.",
            ),
            None,
        );
        assert_eq!(out.verdict, Verdict::Regression, "{out:?}");
        assert_eq!(out.findings[0].kind, FindingKind::NumbersChanged);
        assert_eq!(
            out.findings[0].path,
            r#"choices[0].message.content.facts["30"]"#
        );
        let out = diff(
            &p,
            &answer("Refunds are possible within 30 days of purchase."),
            None,
        );
        assert_eq!(out.verdict, Verdict::Minor, "{out:?}");
        let out = diff(
            &p,
            &answer("Refunds are possible within thirty days of purchase, usually in 5 to 7 business days."),
            None,
        );
        assert!(
            !out.findings
                .iter()
                .any(|f| f.kind == FindingKind::NumbersChanged),
            "{out:?}"
        );
    }

    #[test]
    fn a_dropped_step_is_a_regression() {
        let p = answer("1. Open Settings → Domains.\n2. Add a CNAME record pointing to pages.example.app.\n3. Wait for DNS to propagate.\n4. Click Verify.");
        let c =
            answer("1. Open Settings → Domains.\n2. Wait for DNS to propagate.\n3. Click Verify.");
        let out = diff(&p, &c, None);
        assert_eq!(out.verdict, Verdict::Regression, "{out:?}");
        assert_eq!(out.findings[0].path, "choices[0].message.content.steps[1]");
        assert!(out.findings[0].message.contains("CNAME"), "{out:?}");
        let merged = answer("Open Settings → Domains and add a CNAME record pointing to pages.example.app, wait for DNS to propagate, then click Verify.");
        assert_ne!(diff(&p, &merged, None).verdict, Verdict::Regression);
    }

    #[test]
    fn negations_and_short_answers() {
        let out = diff(
            &answer("No. Digital gift cards are not refundable."),
            &answer("Yes. Digital gift cards are refundable."),
            None,
        );
        assert_eq!(out.verdict, Verdict::Regression);
        assert!(out.findings.iter().any(|f| f.kind == FindingKind::Negation));
        let out = diff(&answer("positive"), &answer("negative"), None);
        assert_eq!(out.verdict, Verdict::Regression);
        let out = diff(
            &answer("Negative."),
            &answer("The review is negative."),
            None,
        );
        assert_ne!(out.verdict, Verdict::Regression, "{out:?}");
    }

    #[test]
    fn a_control_excuses_only_what_it_varies() {
        let p = answer("The Free plan has 3 projects and 2 GB of storage.");
        let control = diff(
            &p,
            &answer("The Free plan has 4 projects and 2 GB of storage."),
            None,
        );
        let noise = Noise::from_control(&control);
        let same_figure = diff(
            &p,
            &answer("The Free plan has 5 projects and 2 GB of storage."),
            Some(&noise),
        );
        assert_ne!(same_figure.verdict, Verdict::Regression, "{same_figure:?}");
        let other_figure = diff(
            &p,
            &answer("The Free plan has 3 projects and 5 GB of storage."),
            Some(&noise),
        );
        assert_eq!(
            other_figure.verdict,
            Verdict::Regression,
            "{other_figure:?}"
        );
    }

    #[test]
    fn content_filters_and_small_context_windows() {
        let p = answer("Vaccines train the immune system.");
        let failed = |class| {
            compare(&DiffInput {
                request: None,
                production: &p,
                candidate: CandidateSide::Failed {
                    class,
                    message: "x",
                },
                semantic: None,
                noise: None,
            })
        };
        let out = failed(ErrorClass::ContentFilter);
        assert_eq!(
            (out.verdict, out.findings[0].kind),
            (Verdict::Regression, FindingKind::Refusal)
        );
        assert_eq!(
            failed(ErrorClass::ContextLength).verdict,
            Verdict::Incompatible
        );
    }
}
