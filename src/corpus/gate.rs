//! The cut-over quality gate: a run's statistics checked against thresholds, one run or two
//! compared. Pure; [`super::junit`] renders the result for people and CI.

use std::collections::HashMap;

use serde::Serialize;

use super::stats::{percentile, ratio, stats, ItemOutcome, RunSummary, Stats};
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

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn criterion(
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

fn off(name: &str) -> Criterion {
    Criterion {
        name: name.to_owned(),
        outcome: Outcome::Skipped("off (threshold 0)".into()),
        measured: "—".into(),
        threshold: "off".into(),
    }
}

fn ratio_text(v: f64) -> String {
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
fn common(run: &RunSummary, s: &Stats, t: &GateConfig) -> Vec<Criterion> {
    let mut out = vec![Criterion {
        name: format!("run {} complete", run.id),
        outcome: if run.pending == 0 {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        measured: format!("{} pending", run.pending),
        threshold: "0 pending".into(),
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

/// Gate run `b` against run `a` of the same corpus, item by item.
pub fn compare(a: &RunSummary, b: &RunSummary, t: &GateConfig) -> GateReport {
    let (sa, sb) = (stats(a), stats(b));
    let before: HashMap<&str, &ItemOutcome> = a.items.iter().map(|i| (i.key.as_str(), i)).collect();
    let mut criteria = common(b, &sb, t);
    if a.pending > 0 {
        criteria.insert(
            0,
            Criterion {
                name: format!("run {} complete", a.id),
                outcome: Outcome::Fail,
                measured: format!("{} pending", a.pending),
                threshold: "0 pending".into(),
            },
        );
    }
    let mut items = Vec::new();
    let (mut matched, mut newly_failing) = (0usize, 0usize);
    let (mut lat_a, mut lat_b, mut cost_a, mut cost_b) = (vec![], vec![], 0.0, 0.0);
    let mut costs = 0;
    for item in &b.items {
        let case = item_case(item, t);
        let Some(old) = before.get(item.key.as_str()) else {
            items.push(ItemCase {
                key: item.key.clone(),
                case: Case::Skipped {
                    message: format!("not in run {}", a.id),
                },
                latency_ms: item.latency_ms,
            });
            continue;
        };
        matched += 1;
        if let (Some(x), Some(y)) = (old.latency_ms, item.latency_ms) {
            lat_a.push(x);
            lat_b.push(y);
        }
        if let (Some(x), Some(y)) = (old.cost_usd, item.cost_usd) {
            cost_a += x;
            cost_b += y;
            costs += 1;
        }
        let case = match (case, item_case(old, t)) {
            (Case::Pass, _) => Case::Pass,
            (_, Case::Failure { kind, .. } | Case::Error { message: kind }) => Case::Skipped {
                message: format!("fails in run {} too ({kind})", a.id),
            },
            (case, _) => {
                newly_failing += 1;
                case
            }
        };
        items.push(ItemCase {
            key: item.key.clone(),
            case,
            latency_ms: item.latency_ms,
        });
    }
    let max_reg = t.max_regression_rate;
    let share = (matched > 0).then(|| newly_failing as f64 / matched as f64);
    criteria.insert(
        1,
        criterion(
            "newly failing items",
            share,
            pct,
            format!("≤ {}", pct(max_reg)),
            |v| v <= max_reg,
            "no items in common",
        ),
    );
    let drop = match (sa.mean_semantic, sb.mean_semantic) {
        (Some(x), Some(y)) => Some(x - y),
        _ => None,
    };
    let max_drop = t.max_semantic_drop;
    criteria.push(criterion(
        "semantic similarity drop",
        drop,
        |v| format!("{v:+.3}"),
        format!("≤ {max_drop:.3}"),
        |v| v <= max_drop,
        "no semantic scores in both runs",
    ));
    let max_lat = t.max_p95_latency_ratio;
    criteria.push(if max_lat > 0.0 {
        criterion(
            "p95 latency ratio",
            ratio(percentile(&lat_b, 95.0), percentile(&lat_a, 95.0)),
            ratio_text,
            format!("≤ {max_lat:.2}×"),
            |v| v <= max_lat,
            "no latencies in common",
        )
    } else {
        off("p95 latency ratio")
    });
    let max_cost = t.max_cost_ratio;
    let cost = if costs > 0 {
        ratio(Some(cost_b), Some(cost_a))
    } else {
        None
    };
    criteria.push(if max_cost > 0.0 {
        criterion(
            "cost ratio",
            cost,
            ratio_text,
            format!("≤ {max_cost:.2}×"),
            |v| v <= max_cost,
            "no costs in both runs (set candidate prices)",
        )
    } else {
        off("cost ratio")
    });
    let mut notes = notes(&sb);
    notes.insert(
        0,
        format!(
            "{matched} items in common; run {}: {}; run {}: {}",
            a.id,
            verdict_line(&sa),
            b.id,
            verdict_line(&sb)
        ),
    );
    finish(
        format!(
            "run {} ({}) vs run {} ({}) on corpus {}",
            b.id, b.candidate, a.id, a.candidate, b.corpus
        ),
        criteria,
        items,
        notes,
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

fn notes(s: &Stats) -> Vec<String> {
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

fn finish(
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
