//! `shadowtap eval`: measure the differ on a labelled evaluation set.
//!
//! Each line of the data file is one case: a request, production's answer, a candidate answer (or
//! an OpenAI error body), an optional control (a second production answer: the noise floor) and
//! the label a careful reviewer gave it — `flag` (the verdict should be regression or
//! incompatible) or `pass` (same, noise or minor is right). Every case goes through the same path
//! as `shadowtap diff` and the workers ([`super::diff::outcome`]); the report is a confusion matrix
//! of labels × verdicts, precision and recall of flagging, the flag rate on the `noise` category
//! (production against itself resampled), accuracy per category and the misclassified cases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::diff::{load_semantic, outcome, Format};
use crate::config::DiffConfig;
use crate::diff::semantic::Semantic;
use crate::domain::{DiffOutcome, Severity, Verdict};

/// The repository's evaluation set.
pub const DEFAULT_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/eval/pairs.jsonl");

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled cases, one JSON object per line.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip the semantic comparison (no embedding model needed).
    #[arg(long)]
    pub no_semantic: bool,
}

/// What a reviewer says the differ should conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// Regression or incompatible.
    Flag,
    /// Same, noise or minor.
    Pass,
}

impl Expected {
    fn as_str(self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Pass => "pass",
        }
    }
}

/// One labelled case of the data file.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    pub category: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub request: Option<Value>,
    pub production: Value,
    pub candidate: Value,
    #[serde(default)]
    pub control: Option<Value>,
    pub expected: Expected,
}

/// Whether a verdict flags the candidate.
pub fn flags(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Regression | Verdict::Incompatible)
}

/// Read the cases of a JSON-lines file (blank lines skipped; errors name the line).
pub fn load_cases(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: not a valid case: {e}", path.display(), i + 1))?;
        cases.push(case);
    }
    if cases.is_empty() {
        return Err(format!("{} holds no cases", path.display()));
    }
    Ok(cases)
}

/// A case the differ got wrong, with the finding that drove (or failed to drive) the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub id: String,
    pub category: String,
    pub expected: Expected,
    pub verdict: Verdict,
    pub score: f64,
    /// The most severe finding, as `kind (severity): message`, if there was one.
    pub finding: Option<String>,
}

/// Accuracy on one category.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryScore {
    pub cases: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// The evaluation report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cases: usize,
    /// Expected label → verdict → count.
    pub confusion: BTreeMap<Expected, BTreeMap<Verdict, usize>>,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
    /// Flagged cases that should be flagged, among all flagged cases.
    pub precision: f64,
    /// Flagged cases among those that should be flagged.
    pub recall: f64,
    pub accuracy: f64,
    /// Share of `noise` cases (production against itself resampled) that were flagged.
    pub noise_flag_rate: f64,
    pub categories: BTreeMap<String, CategoryScore>,
    pub misclassified: Vec<Miss>,
    /// Whether meaning was compared with the embedding model.
    pub semantic: bool,
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

fn first_finding(outcome: &DiffOutcome) -> Option<String> {
    outcome.findings.first().map(|f| {
        let severity = match f.severity {
            Severity::Info => "info",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        };
        format!("{} ({severity}): {}", f.kind.as_str(), f.message)
    })
}

/// Score outcomes against their cases (in the same order).
pub fn report(cases: &[Case], outcomes: &[DiffOutcome], semantic: bool) -> Report {
    let mut confusion: BTreeMap<Expected, BTreeMap<Verdict, usize>> =
        [Expected::Flag, Expected::Pass]
            .into_iter()
            .map(|e| (e, Verdict::ALL.into_iter().map(|v| (v, 0)).collect()))
            .collect();
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    let (mut noise_cases, mut noise_flagged) = (0, 0);
    let mut categories: BTreeMap<String, CategoryScore> = BTreeMap::new();
    let mut misclassified = Vec::new();
    for (case, outcome) in cases.iter().zip(outcomes) {
        *confusion
            .entry(case.expected)
            .or_default()
            .entry(outcome.verdict)
            .or_default() += 1;
        let flagged = flags(outcome.verdict);
        match (case.expected, flagged) {
            (Expected::Flag, true) => tp += 1,
            (Expected::Flag, false) => fn_ += 1,
            (Expected::Pass, true) => fp += 1,
            (Expected::Pass, false) => tn += 1,
        }
        if case.category == "noise" {
            noise_cases += 1;
            noise_flagged += usize::from(flagged);
        }
        let correct = flagged == (case.expected == Expected::Flag);
        let cat = categories.entry(case.category.clone()).or_default();
        cat.cases += 1;
        cat.correct += usize::from(correct);
        if !correct {
            misclassified.push(Miss {
                id: case.id.clone(),
                category: case.category.clone(),
                expected: case.expected,
                verdict: outcome.verdict,
                score: outcome.score,
                finding: first_finding(outcome),
            });
        }
    }
    for cat in categories.values_mut() {
        cat.accuracy = ratio(cat.correct, cat.cases);
    }
    Report {
        cases: cases.len(),
        confusion,
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
        true_negatives: tn,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        accuracy: ratio(tp + tn, cases.len()),
        noise_flag_rate: ratio(noise_flagged, noise_cases),
        categories,
        misclassified,
        semantic,
    }
}

/// Human-readable report.
pub fn render_text(r: &Report) -> String {
    let mut out = format!(
        "{} cases{}\n\nconfusion matrix (rows: expected, columns: verdict)\n{:>9}",
        r.cases,
        if r.semantic {
            ""
        } else {
            " (semantic comparison off)"
        },
        ""
    );
    for v in Verdict::ALL {
        out.push_str(&format!(" {:>12}", v.as_str()));
    }
    out.push('\n');
    for (expected, row) in &r.confusion {
        out.push_str(&format!("{:>9}", expected.as_str()));
        for v in Verdict::ALL {
            out.push_str(&format!(" {:>12}", row.get(&v).copied().unwrap_or(0)));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\nflagged = regression or incompatible\ntrue positives {}, false positives {}, false negatives {}, true negatives {}\nprecision {:.3}\nrecall    {:.3}\naccuracy  {:.3}\nnoise flag rate {:.3}\n\nper category\n",
        r.true_positives,
        r.false_positives,
        r.false_negatives,
        r.true_negatives,
        r.precision,
        r.recall,
        r.accuracy,
        r.noise_flag_rate,
    ));
    for (name, c) in &r.categories {
        out.push_str(&format!(
            "  {name:<22} {:>3}/{:<3} {:>6.1}%\n",
            c.correct,
            c.cases,
            100.0 * c.accuracy
        ));
    }
    if r.misclassified.is_empty() {
        out.push_str("\nmisclassified: none\n");
    } else {
        out.push_str("\nmisclassified\n");
        for m in &r.misclassified {
            out.push_str(&format!(
                "  {} [{}] expected {}, got {} (score {:.2}): {}\n",
                m.id,
                m.category,
                m.expected.as_str(),
                m.verdict,
                m.score,
                m.finding.as_deref().unwrap_or("no findings")
            ));
        }
    }
    out
}

/// Compare every case the way `shadowtap diff` would.
pub async fn evaluate(cases: &[Case], semantic: Option<&Semantic>) -> Vec<DiffOutcome> {
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        outcomes.push(
            outcome(
                semantic,
                case.request.as_ref(),
                &case.production,
                &case.candidate,
                case.control.as_ref(),
            )
            .await,
        );
    }
    outcomes
}

/// Run the command; returns the exit code (0 whenever the evaluation ran).
pub async fn run(args: &EvalArgs, config: &DiffConfig) -> Result<u8, String> {
    let cases = load_cases(&args.data)?;
    let semantic = load_semantic(args.no_semantic, config)?;
    let outcomes = evaluate(&cases, semantic.as_ref()).await;
    let report = report(&cases, &outcomes, semantic.is_some());
    match args.format {
        Format::Text => print!("{}", render_text(&report)),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        ),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(text: &str) -> Value {
        json!({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
    }

    fn case(id: &str, category: &str, candidate: Value, expected: Expected) -> Case {
        Case {
            id: id.into(),
            category: category.into(),
            note: String::new(),
            request: None,
            production: answer("The refund window is 30 days."),
            candidate,
            control: None,
            expected,
        }
    }

    #[tokio::test]
    async fn report_counts_the_confusion_matrix() {
        let cases = vec![
            case(
                "same",
                "noise",
                answer("The refund window is 30 days."),
                Expected::Pass,
            ),
            case(
                "number",
                "wrong_number",
                answer("The refund window is 14 days."),
                Expected::Flag,
            ),
            case(
                "missed",
                "truncation",
                answer("The refund window is 30 days."),
                Expected::Flag,
            ),
            case(
                "unsupported",
                "incompatible",
                json!({"error": {"message": "Unsupported parameter: 'seed'", "code": "unsupported_parameter"}}),
                Expected::Flag,
            ),
        ];
        let outcomes = evaluate(&cases, None).await;
        let r = report(&cases, &outcomes, false);
        assert_eq!(
            (
                r.true_positives,
                r.false_positives,
                r.false_negatives,
                r.true_negatives
            ),
            (2, 0, 1, 1)
        );
        assert_eq!(r.confusion[&Expected::Flag][&Verdict::Incompatible], 1);
        assert_eq!(r.confusion[&Expected::Flag][&Verdict::Same], 1);
        assert!((r.recall - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(r.precision, 1.0);
        assert_eq!(r.noise_flag_rate, 0.0);
        assert_eq!(r.misclassified.len(), 1);
        assert_eq!(r.misclassified[0].id, "missed");
        assert_eq!(r.categories["truncation"].accuracy, 0.0);
        let text = render_text(&r);
        assert!(
            text.contains("precision 1.000") && text.contains("missed [truncation]"),
            "{text}"
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("shadowtap-eval-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cases.jsonl");
        std::fs::write(&path, "\n{\"id\": \"x\"}\n").unwrap();
        let err = load_cases(&path).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(load_cases(&dir.join("missing.jsonl"))
            .unwrap_err()
            .contains("cannot read"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_repository_set_loads() {
        let cases = load_cases(Path::new(DEFAULT_DATA)).unwrap();
        assert!(cases.len() >= 160, "{}", cases.len());
    }
}
