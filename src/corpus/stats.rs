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

/// Runs for the tests of the gate and its renderers.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::corpus::checks::CheckResult;

    /// An item with a verdict, latency 100 ms against a 200 ms baseline, cost 1 against 2.
    pub fn item(key: &str, verdict: Verdict) -> ItemOutcome {
        ItemOutcome {
            key: key.into(),
            verdict: Some(verdict),
            score: Some(if verdict == Verdict::Same { 0.0 } else { 0.9 }),
            semantic: Some(0.9),
            finding: (verdict != Verdict::Same).then(|| format!("{key} went {verdict}")),
            latency_ms: Some(100.0),
            baseline_latency_ms: Some(200.0),
            cost_usd: Some(1.0),
            baseline_cost_usd: Some(2.0),
            ..ItemOutcome::default()
        }
    }

    /// A check result.
    pub fn check(name: &str, must_pass: bool, passed: bool) -> CheckResult {
        CheckResult {
            check: name.into(),
            must_pass,
            passed,
            message: format!("{name} said so"),
        }
    }

    /// A finished run of `items`.
    pub fn run(id: i64, items: Vec<ItemOutcome>) -> RunSummary {
        RunSummary {
            id,
            corpus: "golden".into(),
            candidate: "cand".into(),
            baseline: "auto".into(),
            status: "done".into(),
            items,
            pending: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{check, item, run};
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&[3.0], 99.0), Some(3.0));
        assert_eq!(percentile(&[], 95.0), None);
    }

    #[test]
    fn rates_ratios_and_checks() {
        let mut a = item("a", Verdict::Same);
        a.checks = vec![check("x", true, true), check("y", false, false)];
        let mut b = item("b", Verdict::Regression);
        b.checks = vec![check("x", true, false)];
        let mut c = item("c", Verdict::Error);
        c.latency_ms = None;
        c.cost_usd = None;
        let s = stats(&run(1, vec![a, b, c, item("d", Verdict::Noise)]));
        assert_eq!(s.items, 4);
        assert_eq!(s.regression_rate, Some(1.0 / 3.0), "errors are not answers");
        assert_eq!(s.error_rate, Some(0.25));
        assert_eq!(s.latency_ratio, Some(0.5));
        assert_eq!(
            (s.cost_usd, s.baseline_cost_usd, s.cost_ratio),
            (Some(3.0), Some(6.0), Some(0.5))
        );
        assert_eq!(
            (s.must_pass_failed, s.must_pass_total, s.advisory_failed),
            (1, 2, 1)
        );
        assert!((s.mean_semantic.unwrap() - 0.9).abs() < 1e-9);
        assert_eq!(stats(&run(2, vec![])).regression_rate, None);
    }
}
