//! A run's report, for a pull request or a reviewer: verdict breakdown, the gate's criteria, the
//! worst items with word diffs, latency and cost against the baseline — as HTML (askama,
//! `templates/report.html`) or JSON. Also loads a run's items for the gate.

use askama::Template;
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::gate::{self, GateReport};
use super::judge::render_answer;
use super::stats::{percentile, stats, ItemOutcome, RunSummary, Stats};
use crate::config::{Config, GateConfig};
use crate::domain::Verdict;
use crate::store::{Store, StoreError};

/// Items shown with their diffs.
const WORST: usize = 20;
/// Longest answer text shown per side.
const MAX_TEXT: usize = 4000;

/// Load a run and its finished items (None: no such run).
pub async fn load(store: &Store, run_id: i64) -> Result<Option<RunSummary>, StoreError> {
    let Some(run) = store.run(run_id).await? else {
        return Ok(None);
    };
    let rows = store.run_items(run_id).await?;
    let pending = rows.iter().filter(|r| r.status == "pending").count();
    let items = rows
        .into_iter()
        .filter(|r| r.status == "done")
        .map(|r| ItemOutcome {
            verdict: r.verdict.as_deref().and_then(|v| v.parse().ok()),
            error: r
                .error_class
                .as_ref()
                .map(|c| format!("{c}: {}", r.error_message.clone().unwrap_or_default())),
            checks: serde_json::from_value(r.checks).unwrap_or_default(),
            judge: r.judge.and_then(|j| serde_json::from_value(j).ok()),
            key: r.item_key,
            score: r.score,
            semantic: r.semantic_similarity,
            finding: r.finding,
            latency_ms: r.latency_ms,
            baseline_latency_ms: r.baseline_latency_ms,
            cost_usd: r.cost_usd,
            baseline_cost_usd: r.baseline_cost_usd,
            diff_id: r.diff_id,
        })
        .collect();
    Ok(Some(RunSummary {
        id: run.id,
        corpus: run.corpus_name,
        candidate: run.candidate,
        baseline: run.baseline,
        status: run.status,
        items,
        pending,
    }))
}

/// Whether a configured candidate has prices (without them its replays cost "0": unknown).
pub fn priced(config: &Config, candidate: &str) -> bool {
    config
        .candidates
        .iter()
        .find(|c| c.name == candidate)
        .is_some_and(|c| c.input_price_per_mtok > 0.0 || c.output_price_per_mtok > 0.0)
}

/// Forget the candidate's costs when it has no prices, so cost criteria say "unknown", not "free".
pub fn forget_unpriced_costs(run: &mut RunSummary, config: &Config) {
    if !priced(config, &run.candidate) {
        for item in &mut run.items {
            item.cost_usd = None;
        }
    }
}

/// A span of a word diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// `eq`, `del` or `ins`.
    pub kind: &'static str,
    pub text: String,
}

/// Word diff of two texts, adjacent spans of the same kind merged.
pub fn word_diff(a: &str, b: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for change in TextDiff::from_words(a, b).iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => "eq",
            ChangeTag::Delete => "del",
            ChangeTag::Insert => "ins",
        };
        match out.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => out.push(Segment {
                kind,
                text: change.value().to_owned(),
            }),
        }
    }
    out
}

/// One of the worst items, with both answers.
#[derive(Debug, Clone, Serialize)]
pub struct WorstItem {
    pub key: String,
    pub verdict: String,
    pub score: String,
    pub why: String,
    pub checks_failed: Vec<String>,
    pub judge: String,
    pub baseline: String,
    pub candidate: String,
    pub diff: Vec<Segment>,
    pub diff_id: Option<i64>,
}

/// A row of the latency / cost table.
#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    pub metric: String,
    pub baseline: String,
    pub candidate: String,
    pub ratio: String,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize, Template)]
#[template(path = "report.html")]
pub struct Report {
    pub run: RunSummary,
    pub stats: Stats,
    pub gate: GateReport,
    pub verdicts: Vec<(String, usize, String)>,
    pub worst: Vec<WorstItem>,
    pub metrics: Vec<MetricRow>,
    /// Headline numbers: (label, value).
    pub facts: Vec<(String, String)>,
    /// The gate's criteria for display: (class, name, measured, threshold).
    pub criteria: Vec<(String, String, String, String)>,
    pub generated_at: String,
}

fn severity(item: &ItemOutcome) -> (u8, i64) {
    let rank = match item.verdict {
        Some(Verdict::Incompatible) => 5,
        Some(Verdict::Regression) => 4,
        Some(Verdict::Error) => 3,
        Some(Verdict::Minor) => 2,
        Some(Verdict::Noise) => 1,
        _ => 0,
    };
    let failed_checks = item.checks.iter().any(|c| c.must_pass && !c.passed);
    (
        rank.max(if failed_checks { 4 } else { 0 }),
        (item.score.unwrap_or(0.0) * 1e6) as i64,
    )
}

fn ms(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.0} ms"))
}

fn usd(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("${v:.4}"))
}

fn ratio(c: Option<f64>, b: Option<f64>) -> String {
    match (c, b) {
        (Some(c), Some(b)) if b > 0.0 => format!("{:.2}×", c / b),
        _ => "—".into(),
    }
}

fn metrics(run: &RunSummary, s: &Stats) -> Vec<MetricRow> {
    let pick =
        |f: fn(&ItemOutcome) -> Option<f64>| run.items.iter().filter_map(f).collect::<Vec<f64>>();
    let (cand, base) = (
        pick(|i| i.latency_ms),
        pick(|i| i.baseline_latency_ms.filter(|b| *b > 0.0)),
    );
    let mut rows = Vec::new();
    for (name, p) in [
        ("p50 latency", 50.0),
        ("p95 latency", 95.0),
        ("p99 latency", 99.0),
    ] {
        let (b, c) = (percentile(&base, p), percentile(&cand, p));
        rows.push(MetricRow {
            metric: name.into(),
            baseline: ms(b),
            candidate: ms(c),
            ratio: ratio(c, b),
        });
    }
    rows.push(MetricRow {
        metric: "total cost (items with both)".into(),
        baseline: usd(s.baseline_cost_usd),
        candidate: usd(s.cost_usd),
        ratio: ratio(s.cost_usd, s.baseline_cost_usd),
    });
    let cost = pick(|i| i.cost_usd);
    rows.push(MetricRow {
        metric: "mean cost per item".into(),
        baseline: "".into(),
        candidate: usd((!cost.is_empty()).then(|| cost.iter().sum::<f64>() / cost.len() as f64)),
        ratio: "".into(),
    });
    rows
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX_TEXT).collect::<String>())
    }
}

/// Build the report of a loaded run (reads the answers of the worst items).
pub async fn build(
    store: &Store,
    run: RunSummary,
    thresholds: &GateConfig,
) -> Result<Report, StoreError> {
    let s = stats(&run);
    let gate = gate::evaluate(&run, thresholds);
    let rows = store.run_items(run.id).await?;
    let mut ranked: Vec<&ItemOutcome> = run.items.iter().filter(|i| severity(i) > (0, 0)).collect();
    ranked.sort_by_key(|i| std::cmp::Reverse(severity(i)));
    let mut worst = Vec::new();
    for item in ranked.into_iter().take(WORST) {
        let Some(row) = rows.iter().find(|r| r.item_key == item.key) else {
            continue;
        };
        let (baseline, candidate) = store
            .run_item_bodies(row.exchange_id, &run.candidate)
            .await?
            .unwrap_or_default();
        let baseline = baseline.map_or("(none)".into(), |b| render_answer(&b));
        let candidate = match (&item.error, candidate) {
            (Some(e), _) => format!("(no answer: {e})"),
            (None, Some(c)) => render_answer(&c),
            (None, None) => "(none)".into(),
        };
        let why = row
            .findings
            .as_ref()
            .and_then(|f| f.as_array())
            .map(|f| {
                f.iter()
                    .filter_map(|f| f.get("message").and_then(|m| m.as_str()))
                    .take(4)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        worst.push(WorstItem {
            key: item.key.clone(),
            verdict: item.verdict.map_or("—".into(), |v| v.to_string()),
            score: item.score.map_or("—".into(), |s| format!("{s:.2}")),
            why,
            checks_failed: item
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.check, c.message))
                .collect(),
            judge: item
                .judge
                .as_ref()
                .map_or(String::new(), |j| match (&j.score, &j.error) {
                    (Some(s), _) => format!(
                        "{s}/5 — {}{}",
                        j.reason.clone().unwrap_or_default(),
                        if j.disagrees {
                            " (disagrees with the embedding score)"
                        } else {
                            ""
                        }
                    ),
                    (None, Some(e)) => format!("judge error: {e}"),
                    _ => String::new(),
                }),
            diff: word_diff(&clip(&baseline), &clip(&candidate)),
            baseline: clip(&baseline),
            candidate: clip(&candidate),
            diff_id: item.diff_id,
        });
    }
    let total = s.items.max(1) as f64;
    let verdicts = Verdict::ALL
        .iter()
        .map(|v| {
            let n = s.verdicts.get(v).copied().unwrap_or(0);
            (
                v.to_string(),
                n,
                format!("{:.1}%", n as f64 * 100.0 / total),
            )
        })
        .collect();
    Ok(Report {
        metrics: metrics(&run, &s),
        facts: facts(&s, run.pending),
        criteria: criteria(&gate),
        run,
        stats: s,
        gate,
        verdicts,
        worst,
        generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    })
}

impl Report {
    /// The report as JSON (everything, including every item's outcome).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The report as a standalone HTML page.
    pub fn to_html(&self) -> Result<String, askama::Error> {
        self.render()
    }
}

fn facts(s: &Stats, pending: usize) -> Vec<(String, String)> {
    let pct = |v: Option<f64>| v.map_or("—".into(), |v| format!("{:.1}%", v * 100.0));
    let mut out = vec![
        ("items".into(), s.items.to_string()),
        ("regression rate".into(), pct(s.regression_rate)),
        ("error rate".into(), pct(s.error_rate)),
        (
            "mean semantic similarity".into(),
            s.mean_semantic.map_or("—".into(), |v| format!("{v:.3}")),
        ),
        (
            "must-pass checks failed".into(),
            format!("{} of {}", s.must_pass_failed, s.must_pass_total),
        ),
    ];
    if let Some(j) = s.mean_judge {
        out.push((
            "mean judge score".into(),
            format!("{j:.2} / 5 ({} disagreements)", s.judge_disagreements),
        ));
    }
    if pending > 0 {
        out.push(("pending (not replayed yet)".into(), pending.to_string()));
    }
    out
}

fn criteria(g: &GateReport) -> Vec<(String, String, String, String)> {
    g.criteria
        .iter()
        .map(|c| match &c.outcome {
            gate::Outcome::Pass => (
                "pass".into(),
                c.name.clone(),
                c.measured.clone(),
                c.threshold.clone(),
            ),
            gate::Outcome::Fail => (
                "fail".into(),
                c.name.clone(),
                c.measured.clone(),
                c.threshold.clone(),
            ),
            gate::Outcome::Skipped(why) => (
                "skip".into(),
                c.name.clone(),
                format!("skipped: {why}"),
                c.threshold.clone(),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diffs_merge_spans() {
        let d = word_diff("the cat sat", "the dog sat");
        let kinds: Vec<&str> = d.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, ["eq", "del", "ins", "eq"]);
        assert_eq!(
            d.iter()
                .filter(|s| s.kind != "ins")
                .map(|s| s.text.as_str())
                .collect::<String>(),
            "the cat sat"
        );
    }

    #[test]
    fn severity_ranks_blockers_first() {
        let reg = ItemOutcome {
            verdict: Some(Verdict::Regression),
            score: Some(0.9),
            ..Default::default()
        };
        let minor = ItemOutcome {
            verdict: Some(Verdict::Minor),
            score: Some(0.95),
            ..Default::default()
        };
        let same = ItemOutcome {
            verdict: Some(Verdict::Same),
            score: Some(0.0),
            ..Default::default()
        };
        assert!(severity(&reg) > severity(&minor));
        assert_eq!(severity(&same), (0, 0));
    }
}
