//! The cut-over quality gate: a run's statistics checked against thresholds. Pure;
//! [`super::compare`] gates one run against another, [`super::junit`] renders the result.

use serde::Serialize;

use super::stats::{stats, ItemOutcome, RunSummary, Stats};
use crate::config::GateConfig;
use crate::domain::Verdict;

/// How a criterion came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "why")]
pub enum Outcome {
    Pass,
    Fail,
    /// Not evaluated, and why.
    Skipped(String),
}

/// One gate criterion, e.g. "regression rate 12.5% ≤ 5.0%".
#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub name: String,
    pub outcome: Outcome,
    pub measured: String,
    pub threshold: String,
}

/// How one item came out (a JUnit test case).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Case {
    Pass,
    /// A quality problem: regression, incompatible, a failed must-pass check.
    Failure {
        kind: String,
        message: String,
    },
    /// The candidate was unavailable.
    Error {
        message: String,
    },
    Skipped {
        message: String,
    },
}

/// One item's line in the gate's output.
#[derive(Debug, Clone, Serialize)]
pub struct ItemCase {
    pub key: String,
    pub case: Case,
    pub latency_ms: Option<f64>,
}

/// The gate's decision with everything needed to explain it.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub title: String,
    pub passed: bool,
    pub criteria: Vec<Criterion>,
    pub items: Vec<ItemCase>,
    /// Context lines (verdict breakdown, judge disagreements…).
    pub notes: Vec<String>,
}

pub(super) fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

pub(super) fn criterion(
    name: &str,
    measured: Option<f64>,
    show: fn(f64) -> String,
    threshold: String,
    ok: impl Fn(f64) -> bool,
    missing: &str,
) -> Criterion {
    let (outcome, measured) = match measured {
        Some(m) if ok(m) => (Outcome::Pass, show(m)),
        Some(m) => (Outcome::Fail, show(m)),
        None => (Outcome::Skipped(missing.to_owned()), "—".to_owned()),
    };
    Criterion {
        name: name.to_owned(),
        outcome,
        measured,
        threshold,
    }
}

pub(super) fn off(name: &str) -> Criterion {
    Criterion {
        name: name.to_owned(),
        outcome: Outcome::Skipped("off (threshold 0)".into()),
        measured: "—".into(),
        threshold: "off".into(),
    }
}

pub(super) fn ratio_text(v: f64) -> String {
    format!("{v:.2}×")
}

/// Why an item blocks the gate: `Case::Pass` when it does not.
pub fn item_case(item: &ItemOutcome, t: &GateConfig) -> Case {
    let why = item
        .finding
        .clone()
        .or_else(|| item.error.clone())
        .unwrap_or_default();
    match item.verdict {
        Some(Verdict::Regression) => {
            return Case::Failure {
                kind: "regression".into(),
                message: why,
            }
        }
        Some(Verdict::Incompatible) => {
            return Case::Failure {
                kind: "incompatible".into(),
                message: why,
            }
        }
        Some(Verdict::Error) => return Case::Error { message: why },
        _ => {}
    }
    let failed: Vec<String> = item
        .checks
        .iter()
        .filter(|c| c.must_pass && !c.passed)
        .map(|c| format!("{}: {}", c.check, c.message))
        .collect();
    if t.require_checks && !failed.is_empty() {
        return Case::Failure {
            kind: "check".into(),
            message: failed.join("; "),
        };
    }
    Case::Pass
}

/// The criteria every gate shares: completeness, incompatible items, errors, checks.
pub(super) fn common(run: &RunSummary, s: &Stats, t: &GateConfig) -> Vec<Criterion> {
    let mut out = vec![Criterion {
        name: "run complete".into(),
        outcome: if run.pending == 0 {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        measured: format!("{} pending", run.pending),
        threshold: "= 0".into(),
    }];
    let incompatible = s.verdicts.get(&Verdict::Incompatible).copied().unwrap_or(0) as u64;
    out.push(Criterion {
        name: "incompatible items".into(),
        outcome: if incompatible <= t.max_incompatible {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        measured: incompatible.to_string(),
        threshold: format!("≤ {}", t.max_incompatible),
    });
    let max_err = t.max_error_rate;
    out.push(criterion(
        "error rate",
        s.error_rate,
        pct,
        format!("≤ {}", pct(max_err)),
        |v| v <= max_err,
        "no items",
    ));
    if t.require_checks {
        out.push(Criterion {
            name: "must-pass checks".into(),
            outcome: if s.must_pass_total == 0 {
                Outcome::Skipped("no must-pass checks in this corpus".into())
            } else if s.must_pass_failed == 0 {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            measured: format!("{} of {} failed", s.must_pass_failed, s.must_pass_total),
            threshold: "0 failed".into(),
        });
    }
    out
}

/// Gate one run against the thresholds.
pub fn evaluate(run: &RunSummary, t: &GateConfig) -> GateReport {
    let s = stats(run);
    let mut criteria = common(run, &s, t);
    let max_reg = t.max_regression_rate;
    criteria.insert(
        1,
        criterion(
            "regression rate",
            s.regression_rate,
            pct,
            format!("≤ {}", pct(max_reg)),
            |v| v <= max_reg,
            "no answered items",
        ),
    );
    let min_sem = t.min_semantic_similarity;
    criteria.push(if min_sem > 0.0 {
        criterion(
            "mean semantic similarity",
            s.mean_semantic,
            |v| format!("{v:.3}"),
            format!("≥ {min_sem:.3}"),
            |v| v >= min_sem,
            "no semantic scores (no text answers, or semantic scoring off)",
        )
    } else {
        off("mean semantic similarity")
    });
    let max_lat = t.max_p95_latency_ratio;
    criteria.push(if max_lat > 0.0 {
        criterion("p95 latency ratio", s.latency_ratio, ratio_text, format!("≤ {max_lat:.2}×"), |v| v <= max_lat, "no baseline latency (give items baseline.latency_ms, or replay with --baseline production)")
    } else {
        off("p95 latency ratio")
    });
    let max_cost = t.max_cost_ratio;
    criteria.push(if max_cost > 0.0 {
        criterion(
            "cost ratio",
            s.cost_ratio,
            ratio_text,
            format!("≤ {max_cost:.2}×"),
            |v| v <= max_cost,
            "no cost on both sides (set candidate prices; give items baseline.cost_usd)",
        )
    } else {
        off("cost ratio")
    });
    if t.min_judge_score > 0.0 {
        let min = t.min_judge_score;
        let mut c = criterion(
            "mean judge score",
            s.mean_judge,
            |v| format!("{v:.2}"),
            format!("≥ {min:.2}"),
            |v| v >= min,
            "",
        );
        if s.mean_judge.is_none() {
            // A required judgement that did not happen must not pass silently.
            c.outcome = Outcome::Fail;
            c.measured = "not judged (replay with --judge)".into();
        }
        criteria.push(c);
    }
    let items = run
        .items
        .iter()
        .map(|i| ItemCase {
            key: i.key.clone(),
            case: item_case(i, t),
            latency_ms: i.latency_ms,
        })
        .collect();
    finish(
        format!(
            "run {}: corpus {} → {} (baseline {})",
            run.id, run.corpus, run.candidate, run.baseline
        ),
        criteria,
        items,
        notes(&s),
    )
}

/// `same 3, noise 1, regression 2`.
pub fn verdict_line(s: &Stats) -> String {
    if s.verdicts.is_empty() {
        return "no verdicts".into();
    }
    s.verdicts
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn notes(s: &Stats) -> Vec<String> {
    let mut notes = vec![format!("verdicts: {}", verdict_line(s))];
    if s.advisory_failed > 0 {
        notes.push(format!(
            "{} advisory (must_pass: false) checks failed",
            s.advisory_failed
        ));
    }
    if let Some(j) = s.mean_judge {
        notes.push(format!(
            "mean judge score {j:.2}/5; the judge disagrees with the embedding score on {} items",
            s.judge_disagreements
        ));
    }
    notes
}

pub(super) fn finish(
    title: String,
    criteria: Vec<Criterion>,
    items: Vec<ItemCase>,
    notes: Vec<String>,
) -> GateReport {
    GateReport {
        passed: criteria.iter().all(|c| c.outcome != Outcome::Fail),
        title,
        criteria,
        items,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::judge::JudgeResult;
    use crate::corpus::stats::fixtures::{check, item, run};

    fn outcome<'r>(r: &'r GateReport, name: &str) -> &'r Outcome {
        &r.criteria
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}: {:?}", r.criteria))
            .outcome
    }

    #[test]
    fn a_clean_run_passes() {
        let items = (0..10)
            .map(|i| item(&format!("i{i}"), Verdict::Same))
            .collect();
        let r = evaluate(&run(1, items), &GateConfig::default());
        assert!(r.passed, "{r:?}");
        assert!(r.items.iter().all(|i| i.case == Case::Pass));
        assert!(matches!(
            outcome(&r, "must-pass checks"),
            Outcome::Skipped(_)
        ));
        assert_eq!(outcome(&r, "p95 latency ratio"), &Outcome::Pass);
    }

    #[test]
    fn each_blocker_is_named() {
        let mut failed_check = item("checked", Verdict::Same);
        failed_check.checks = vec![
            check("contains \"x\"", true, false),
            check("advisory", false, false),
        ];
        let mut advisory = item("advisory-only", Verdict::Same);
        advisory.checks = vec![check("advisory", false, false)];
        let items = vec![
            item("reg", Verdict::Regression),
            item("inc", Verdict::Incompatible),
            item("err", Verdict::Error),
            item("minor", Verdict::Minor),
            failed_check,
            advisory,
        ];
        let r = evaluate(&run(3, items), &GateConfig::default());
        assert!(!r.passed);
        for name in [
            "regression rate",
            "incompatible items",
            "error rate",
            "must-pass checks",
        ] {
            assert_eq!(outcome(&r, name), &Outcome::Fail, "{name}");
        }
        let case = |key: &str| &r.items.iter().find(|i| i.key == key).unwrap().case;
        assert!(
            matches!(case("reg"), Case::Failure { kind, message } if kind == "regression" && message == "reg went regression")
        );
        assert!(matches!(case("inc"), Case::Failure { kind, .. } if kind == "incompatible"));
        assert!(matches!(case("err"), Case::Error { .. }));
        assert!(
            matches!(case("checked"), Case::Failure { kind, message } if kind == "check" && message == "contains \"x\": contains \"x\" said so")
        );
        assert_eq!(case("minor"), &Case::Pass);
        assert_eq!(case("advisory-only"), &Case::Pass);
        let lenient = GateConfig {
            require_checks: false,
            ..GateConfig::default()
        };
        let r = evaluate(&run(3, vec![item("a", Verdict::Same)]), &lenient);
        assert!(r.criteria.iter().all(|c| c.name != "must-pass checks"));
    }

    #[test]
    fn incomplete_runs_unjudged_runs_and_off_thresholds() {
        let mut partial = run(4, vec![item("a", Verdict::Same)]);
        partial.pending = 3;
        let t = GateConfig {
            min_judge_score: 4.0,
            max_cost_ratio: 0.0,
            ..GateConfig::default()
        };
        let r = evaluate(&partial, &t);
        assert_eq!(outcome(&r, "run complete"), &Outcome::Fail);
        assert_eq!(
            outcome(&r, "mean judge score"),
            &Outcome::Fail,
            "a required judgement that did not happen fails"
        );
        assert!(matches!(outcome(&r, "cost ratio"), Outcome::Skipped(why) if why.contains("off")));
        let mut judged = item("a", Verdict::Same);
        judged.judge = Some(JudgeResult {
            score: Some(5),
            reason: Some("same".into()),
            ..JudgeResult::default()
        });
        let r = evaluate(&run(5, vec![judged]), &t);
        assert!(r.passed, "{r:?}");
        let slow = ItemOutcome {
            latency_ms: Some(1000.0),
            ..item("slow", Verdict::Same)
        };
        let r = evaluate(&run(6, vec![slow]), &GateConfig::default());
        assert_eq!(outcome(&r, "p95 latency ratio"), &Outcome::Fail);
    }
}
