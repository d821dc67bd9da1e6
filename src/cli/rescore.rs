//! `shadowtap rescore`: recompute the verdicts of stored diffs with the current differ, thresholds
//! and triage rules (after an upgrade, or after reviewers added rules).

use std::collections::BTreeMap;

use clap::Args;
use serde_json::Value;

use crate::config::Config;
use crate::diff::semantic::Semantic;
use crate::diff::{self, CandidateSide, DiffInput, Noise};
use crate::domain::{DiffOutcome, ErrorClass};
use crate::replay::{rule_from_row, CONTROL};
use crate::store::{ReplayRow, Store};

#[derive(Debug, Args)]
pub struct RescoreArgs {
    /// Only diffs of this candidate.
    #[arg(long)]
    pub candidate: Option<String>,
    /// Compute and report the changes without writing them.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the semantic comparison (faster; meaning-based findings disappear).
    #[arg(long)]
    pub no_semantic: bool,
}

fn side(r: &ReplayRow) -> (Option<Value>, Option<(ErrorClass, String)>) {
    let failure = r
        .error_class
        .as_deref()
        .and_then(|c| c.parse::<ErrorClass>().ok())
        .map(|c| (c, r.error_message.clone().unwrap_or_default()));
    (
        r.response_body.clone().filter(|_| r.response_is_json),
        failure,
    )
}

/// Recompute every matching diff; returns (diffs seen, changed verdicts as "from → to" counts).
pub async fn rescore(
    store: &Store,
    semantic: Option<&Semantic>,
    candidate: Option<&str>,
    dry_run: bool,
) -> Result<(u64, BTreeMap<String, u64>), crate::store::StoreError> {
    let rules: Vec<_> = store
        .rules()
        .await?
        .iter()
        .filter_map(rule_from_row)
        .collect();
    let mut changes = BTreeMap::new();
    let mut seen = 0;
    let mut after = 0;
    loop {
        let ids = store.diff_ids_after(after, candidate, 500).await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        after = last;
        for id in ids {
            let Some(d) = store.diff_detail(id).await? else {
                continue;
            };
            let (Some(request), Some(production)) = (
                d.exchange.request_body.as_ref(),
                d.exchange.response_body.as_ref(),
            ) else {
                continue;
            };
            seen += 1;
            let noise = match (&d.control, d.candidate == CONTROL) {
                (Some(control), false) => {
                    let (answer, failure) = side(control);
                    let input = DiffInput {
                        request: Some(request),
                        production,
                        candidate: CandidateSide::from_replay(answer.as_ref(), failure.as_ref()),
                        semantic: None,
                        noise: None,
                    };
                    let outcome = diff::compare_with_meaning(semantic, input).await;
                    failure.is_none().then(|| Noise::from_control(&outcome))
                }
                _ => None,
            };
            let (answer, failure) = side(&d.replay);
            let input = DiffInput {
                request: Some(request),
                production,
                candidate: CandidateSide::from_replay(answer.as_ref(), failure.as_ref()),
                semantic: None,
                noise: noise.as_ref(),
            };
            let mut outcome: DiffOutcome = diff::compare_with_meaning(semantic, input).await;
            diff::rules::apply(
                &mut outcome,
                &rules,
                d.exchange.path.split('?').next().unwrap_or_default(),
                &d.candidate,
            );
            if outcome.verdict.as_str() != d.verdict {
                *changes
                    .entry(format!("{} → {}", d.verdict, outcome.verdict))
                    .or_default() += 1;
            }
            if !dry_run {
                store.update_diff(id, &outcome).await?;
            }
        }
    }
    Ok((seen, changes))
}

/// Run the command.
pub async fn run(args: &RescoreArgs, config: &Config) -> anyhow::Result<u8> {
    let store = crate::app::connect_store(config).await?;
    let semantic = if args.no_semantic || !config.diff.semantic {
        None
    } else {
        Some(Semantic::load(&config.diff.embedding)?)
    };
    let (seen, changes) = rescore(
        &store,
        semantic.as_ref(),
        args.candidate.as_deref(),
        args.dry_run,
    )
    .await?;
    println!(
        "rescored {seen} diffs{}",
        if args.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    if changes.is_empty() {
        println!("no verdict changed");
    }
    for (change, n) in changes {
        println!("  {change}: {n}");
    }
    Ok(0)
}
