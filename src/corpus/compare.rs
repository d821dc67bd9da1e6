//! `gate --compare RUN_A RUN_B`: run B gated against run A of the same corpus, item by item —
//! newly failing items, the drop in semantic similarity, latency and cost ratios. Pure.

use std::collections::HashMap;

use super::gate::{
    common, criterion, finish, item_case, notes, off, pct, ratio_text, verdict_line, Case,
    Criterion, GateReport, ItemCase, Outcome,
};
use super::stats::{percentile, ratio, stats, ItemOutcome, RunSummary};
use crate::config::GateConfig;

/// Gate run `b` against run `a` of the same corpus, item by item.
pub fn compare(a: &RunSummary, b: &RunSummary, t: &GateConfig) -> GateReport {
    let (sa, sb) = (stats(a), stats(b));
    let before: HashMap<&str, &ItemOutcome> = a.items.iter().map(|i| (i.key.as_str(), i)).collect();
    let mut criteria = common(b, &sb, t);
    if a.pending > 0 {
        criteria.insert(
            0,
            Criterion {
                name: format!("reference run {} complete", a.id),
                outcome: Outcome::Fail,
                measured: format!("{} pending", a.pending),
                threshold: "= 0".into(),
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
    // The first note is B's verdict line, which the comparison line below already gives.
    let mut notes: Vec<String> = notes(&sb).into_iter().skip(1).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::stats::fixtures::{item, run};
    use crate::domain::Verdict;

    #[test]
    fn only_newly_failing_items_count() {
        let a = run(
            1,
            vec![
                item("x", Verdict::Same),
                item("y", Verdict::Regression),
                item("z", Verdict::Same),
            ],
        );
        let b = run(
            2,
            vec![
                item("x", Verdict::Regression),
                item("y", Verdict::Regression),
                item("z", Verdict::Same),
                item("new", Verdict::Same),
            ],
        );
        let r = compare(&a, &b, &GateConfig::default());
        assert!(!r.passed);
        let case = |key: &str| &r.items.iter().find(|i| i.key == key).unwrap().case;
        assert!(matches!(case("x"), Case::Failure { .. }));
        assert!(
            matches!(case("y"), Case::Skipped { message } if message.contains("fails in run 1 too"))
        );
        assert!(matches!(case("new"), Case::Skipped { message } if message == "not in run 1"));
        let newly = r
            .criteria
            .iter()
            .find(|c| c.name == "newly failing items")
            .unwrap();
        assert_eq!(
            (newly.outcome.clone(), newly.measured.as_str()),
            (Outcome::Fail, "33.3%")
        );
        assert!(r.notes[0].starts_with("3 items in common"), "{:?}", r.notes);
        let same = compare(&a, &a, &GateConfig::default());
        assert!(
            same.criteria
                .iter()
                .all(|c| c.name == "regression rate" || c.outcome != Outcome::Fail),
            "{same:?}"
        );
    }
}
