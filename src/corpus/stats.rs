//! A run's items and their aggregates: verdict counts, regression and error rates, mean semantic
//! similarity, p95 latency and cost against the baseline, checks and judge scores. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::checks::CheckResult;
use super::judge::JudgeResult;
use crate::domain::Verdict;

/// One replayed item of a run, as the gate and the report see it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ItemOutcome {
    pub key: String,
    pub verdict: Option<Verdict>,
    pub score: Option<f64>,
    pub semantic: Option<f64>,
    /// The most severe finding, in words.
    pub finding: Option<String>,
    /// Why the candidate gave no usable answer.
    pub error: Option<String>,
    pub latency_ms: Option<f64>,
    pub baseline_latency_ms: Option<f64>,
    pub cost_usd: Option<f64>,
    pub baseline_cost_usd: Option<f64>,
    pub checks: Vec<CheckResult>,
    pub judge: Option<JudgeResult>,
    /// The diff's id (the UI shows it at `/diffs/{id}`).
    pub diff_id: Option<i64>,
}

/// A run: which corpus against which candidate, and its finished items.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub corpus: String,
    pub candidate: String,
    pub baseline: String,
    pub status: String,
    pub items: Vec<ItemOutcome>,
    /// Items not replayed yet (an interrupted run).
    pub pending: usize,
}

/// Aggregates of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub items: usize,
    pub verdicts: BTreeMap<Verdict, usize>,
    pub regression_rate: Option<f64>,
    pub error_rate: Option<f64>,
    pub mean_semantic: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub p95_baseline_latency_ms: Option<f64>,
    pub latency_ratio: Option<f64>,
    pub cost_usd: Option<f64>,
    pub baseline_cost_usd: Option<f64>,
    pub cost_ratio: Option<f64>,
    /// Must-pass checks that failed / all must-pass checks.
    pub must_pass_failed: usize,
    pub must_pass_total: usize,
    pub advisory_failed: usize,
    pub mean_judge: Option<f64>,
    pub judge_disagreements: usize,
}

/// The nearest-rank percentile `p` (0..=100) of `values`.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Compute a run's aggregates.
pub fn stats(run: &RunSummary) -> Stats {
    let items = &run.items;
    let mut verdicts = BTreeMap::new();
    for v in items.iter().filter_map(|i| i.verdict) {
        *verdicts.entry(v).or_insert(0) += 1;
    }
    let count = |v: Verdict| verdicts.get(&v).copied().unwrap_or(0);
    let judged = items.iter().filter_map(|i| i.verdict).count();
    let answered = judged - count(Verdict::Error);
    // Latency and cost are compared over the items where both sides are known.
    let latency: Vec<(f64, f64)> = items
        .iter()
        .filter_map(|i| Some((i.latency_ms?, i.baseline_latency_ms.filter(|b| *b > 0.0)?)))
        .collect();
    let costs: Vec<(f64, f64)> = items
        .iter()
        .filter_map(|i| Some((i.cost_usd?, i.baseline_cost_usd?)))
        .collect();
    let p95_latency_ms = percentile(&latency.iter().map(|p| p.0).collect::<Vec<_>>(), 95.0);
    let p95_baseline_latency_ms =
        percentile(&latency.iter().map(|p| p.1).collect::<Vec<_>>(), 95.0);
    let (cost_usd, baseline_cost_usd) = if costs.is_empty() {
        (None, None)
    } else {
        (
            Some(costs.iter().map(|c| c.0).sum()),
            Some(costs.iter().map(|c| c.1).sum()),
        )
    };
    let checks = items.iter().flat_map(|i| &i.checks);
    let (mut must_pass_failed, mut must_pass_total, mut advisory_failed) = (0, 0, 0);
    for c in checks {
        match (c.must_pass, c.passed) {
            (true, ok) => {
                must_pass_total += 1;
                must_pass_failed += usize::from(!ok);
            }
            (false, false) => advisory_failed += 1,
            (false, true) => {}
        }
    }
    let judges = || items.iter().filter_map(|i| i.judge.as_ref());
    Stats {
        items: items.len(),
        regression_rate: (answered > 0)
            .then(|| count(Verdict::Regression) as f64 / answered as f64),
        error_rate: (judged > 0).then(|| count(Verdict::Error) as f64 / judged as f64),
        verdicts,
        mean_semantic: mean(items.iter().filter_map(|i| i.semantic)),
        latency_ratio: ratio(p95_latency_ms, p95_baseline_latency_ms),
        p95_latency_ms,
        p95_baseline_latency_ms,
        cost_ratio: ratio(cost_usd, baseline_cost_usd),
        cost_usd,
        baseline_cost_usd,
        must_pass_failed,
        must_pass_total,
        advisory_failed,
        mean_judge: mean(judges().filter_map(|j| j.score).map(f64::from)),
        judge_disagreements: judges().filter(|j| j.disagrees).count(),
    }
}
