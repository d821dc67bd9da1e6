//! Replaying a corpus: each pending item of a run becomes an exchange (the baseline's answer as
//! "production"), a replay to the candidate (its pacing, retries and concurrency) and a diff —
//! the same rows live traffic produces — plus check results and an optional judgement.
//!
//! Resumable at every step: the exchange id of each item is fixed when the run is created, an
//! existing exchange or replay is reused instead of calling a provider again, and an item is
//! marked done only after everything is stored. Re-running the same command skips done items.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::checks::{self, CheckSpec, Observed};
use super::format::Baseline as ItemBaseline;
use super::judge::Judge;
pub use super::providers::{candidate, exchange_for, production, usage_cost, Baseline};
use crate::config::ConfigError;
use crate::diff::rules::Rule;
use crate::diff::semantic::Semantic;
use crate::diff::{self, CandidateSide, DiffInput};
use crate::domain::{ErrorClass, ExchangeId, Verdict};
use crate::http_client::HttpClient;
use crate::replay::{self, Candidate};
use crate::store::{PendingItem, Store, StoreError};
use crate::telemetry::Metrics;

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The command line asked for something impossible.
    #[error("{0}")]
    Usage(String),
}

/// How a (part of a) run went.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Items finished in this invocation.
    pub replayed: usize,
    /// Items left pending because the baseline or the store failed (re-run to retry them).
    pub failed: usize,
    pub verdicts: BTreeMap<Verdict, usize>,
    /// Stopped by Ctrl-C before the end.
    pub interrupted: bool,
    /// The candidate's daily budget ran out: the remaining items stay pending (nothing is paid
    /// beyond the cap but the requests already in flight).
    pub budget_exhausted: bool,
}

/// Progress callbacks (the CLI draws an indicatif bar).
pub trait Progress: Sync {
    /// One item finished with this verdict (None: it failed and stays pending).
    fn item(&self, verdict: Option<Verdict>);
}

/// Everything a run needs, resolved from the config.
pub struct Runner {
    pub store: Store,
    pub http: HttpClient,
    pub metrics: Metrics,
    pub candidate: Candidate,
    /// Who answers for the baseline when an item's answer is replayed now.
    pub reference: Option<Candidate>,
    /// Why there is no `reference` (e.g. production's key variable is not set).
    pub reference_error: Option<String>,
    pub baseline: Baseline,
    pub semantic: Option<Semantic>,
    pub judge: Option<Judge>,
    /// Prices (USD per million input, output tokens) of the baseline's provider, for expected answers.
    pub baseline_prices: (f64, f64),
    /// Items in progress at once (the candidate's concurrency slots bound the actual requests).
    pub width: usize,
    /// The candidate / the replayed baseline has prices configured (else costs are unknown, not 0).
    pub candidate_priced: bool,
    pub reference_priced: bool,
}

/// The candidate's side of one item, fresh or from an earlier, interrupted attempt.
struct CandidateAnswer {
    replay_id: i64,
    answer: Option<Value>,
    failure: Option<(ErrorClass, String)>,
    latency_ms: f64,
    completion_tokens: Option<u32>,
    cost_usd: Option<f64>,
}

impl Runner {
    /// Replay every pending item of run `run_id` (and mark the run done when none is left).
    pub async fn run(
        &self,
        run_id: i64,
        corpus_checks: &[CheckSpec],
        progress: &dyn Progress,
        cancel: &CancellationToken,
    ) -> Result<RunOutcome, RunError> {
        let pending = self.store.pending_items(run_id).await?;
        if self.baseline == Baseline::Expected {
            let missing: Vec<&str> = pending
                .iter()
                .filter(|p| p.request.is_some() && p.expected.is_none())
                .map(|p| p.item_key.as_str())
                .take(5)
                .collect();
            if !missing.is_empty() {
                return Err(RunError::Usage(format!(
                    "--baseline expected, but items have no expected answer (e.g. {}); use --baseline auto or production",
                    missing.join(", ")
                )));
            }
        }
        let live = |p: &&PendingItem| {
            p.request.is_some()
                && (p.expected.is_none()
                    || !matches!(self.baseline, Baseline::Auto | Baseline::Expected))
        };
        if self.reference.is_none() {
            if let Some(p) = pending.iter().find(live) {
                return Err(RunError::Usage(format!(
                    "item {} has no expected answer, so production must answer it, but production is not usable: {}",
                    p.item_key,
                    self.reference_error.as_deref().unwrap_or("no baseline provider")
                )));
            }
        }
        // Triage rules apply to runs as to live traffic (an accepted difference stays accepted).
        let rules: Vec<Rule> = self
            .store
            .rules()
            .await?
            .iter()
            .filter_map(replay::rule_from_row)
            .collect();
        let width = self.width.max(1);
        let mut outcome = RunOutcome::default();
        let failed = AtomicUsize::new(0);
        let over_budget = AtomicBool::new(false);
        let mut stream = futures_util::stream::iter(pending.iter())
            .map(|item| self.item(run_id, item, corpus_checks, &rules, &failed, &over_budget))
            .buffer_unordered(width);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    outcome.interrupted = true;
                    break;
                }
                next = stream.next() => match next {
                    None => break,
                    Some(Ok(verdict)) => {
                        outcome.replayed += 1;
                        if let Some(v) = verdict {
                            *outcome.verdicts.entry(v).or_insert(0) += 1;
                        }
                        progress.item(verdict);
                    }
                    Some(Err(e)) => {
                        // The store failed: stop; what is done stays done, the rest stays pending.
                        return Err(e.into());
                    }
                },
            }
        }
        drop(stream);
        outcome.failed = failed.load(Ordering::Relaxed);
        outcome.budget_exhausted = over_budget.load(Ordering::Relaxed);
        if !outcome.interrupted {
            self.store.finish_run(run_id).await?;
        }
        Ok(outcome)
    }

    /// Process one item. Ok(verdict) when it is done (None: done without a diff or left pending).
    async fn item(
        &self,
        run_id: i64,
        item: &PendingItem,
        corpus_checks: &[CheckSpec],
        rules: &[Rule],
        failed: &AtomicUsize,
        over_budget: &AtomicBool,
    ) -> Result<Option<Verdict>, StoreError> {
        let Some(request) = &item.request else {
            self.store
                .finish_run_item(item.id, "skipped", None, None, &Value::Array(vec![]), None)
                .await?;
            return Ok(None);
        };
        let id = ExchangeId::from(item.exchange_id);
        let path = item.path.as_deref().unwrap_or(super::format::DEFAULT_PATH);
        let item_baseline: ItemBaseline = item
            .baseline
            .clone()
            .and_then(|b| serde_json::from_value(b).ok())
            .unwrap_or_default();
        // 1. The baseline's answer, stored as the exchange's response.
        let (reference, baseline_latency, baseline_cost) = match self
            .store
            .exchange(item.exchange_id)
            .await?
        {
            Some(row) => {
                let latency = Some(row.latency_ms).filter(|l| *l > 0.0);
                let answer = row.response().json().cloned().unwrap_or_default();
                let cost = item_baseline
                    .cost_usd
                    .or_else(|| usage_cost(&answer, self.baseline_prices));
                (answer, latency, cost)
            }
            None => {
                let mut tags: BTreeMap<String, String> = item
                    .tags
                    .as_ref()
                    .and_then(|t| serde_json::from_value(t.clone()).ok())
                    .unwrap_or_default();
                tags.insert("run".into(), run_id.to_string());
                let use_expected = matches!(self.baseline, Baseline::Auto | Baseline::Expected)
                    && item.expected.is_some();
                let mut ex = exchange_for(
                    id,
                    path,
                    request,
                    item.expected.as_ref().filter(|_| use_expected),
                    tags,
                );
                let (latency, cost) = if use_expected {
                    let answer = item.expected.as_ref().expect("checked");
                    (
                        item_baseline.latency_ms,
                        item_baseline
                            .cost_usd
                            .or_else(|| usage_cost(answer, self.baseline_prices)),
                    )
                } else {
                    let Some(reference) = &self.reference else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        return Ok(None);
                    };
                    let r = replay::replay_request(
                        &self.http,
                        &self.metrics,
                        reference,
                        &ex,
                        request,
                        None,
                    )
                    .await;
                    if let Some(class) = r.error_class {
                        tracing::warn!(item = %item.item_key, %class, error = r.error_message.as_deref().unwrap_or_default(), "the baseline did not answer; the item stays pending");
                        failed.fetch_add(1, Ordering::Relaxed);
                        return Ok(None);
                    }
                    ex.response = r.response.clone().expect("a successful replay has a body");
                    ex.status = r.status.unwrap_or(200);
                    (
                        Some(r.latency_ms),
                        r.cost_usd.filter(|_| self.reference_priced),
                    )
                };
                ex.latency_ms = latency.unwrap_or(0.0);
                self.store.insert_exchange(&ex).await?;
                self.store
                    .tag_run_exchange(item.exchange_id, run_id)
                    .await?;
                (
                    ex.response.json().cloned().unwrap_or_default(),
                    latency,
                    cost,
                )
            }
        };
        // 2. The candidate's answer (reused if an interrupted attempt stored it).
        let Some(answer) = self.candidate_answer(id, path, request, &reference).await? else {
            over_budget.store(true, Ordering::Relaxed);
            return Ok(None);
        };
        // 3. The diff, like the workers'.
        let input = DiffInput {
            request: Some(request),
            production: &reference,
            candidate: CandidateSide::from_replay(answer.answer.as_ref(), answer.failure.as_ref()),
            semantic: None,
            noise: None,
        };
        let mut outcome = diff::compare_with_meaning(self.semantic.as_ref(), input).await;
        let route = path.split('?').next().unwrap_or_default();
        diff::rules::apply(&mut outcome, rules, route, self.candidate.name.as_str());
        self.store
            .insert_diff(answer.replay_id, id, self.candidate.name.as_str(), &outcome)
            .await?;
        // 4. Checks and judgement.
        let failure = answer
            .failure
            .as_ref()
            .map(|(class, m)| format!("{class}: {m}"));
        let obs = Observed {
            answer: answer.answer.as_ref(),
            failure: failure.as_deref(),
            latency_ms: answer.latency_ms,
            completion_tokens: answer.completion_tokens,
            cost_usd: answer.cost_usd,
        };
        let item_checks: Vec<CheckSpec> = item
            .checks
            .clone()
            .and_then(|c| serde_json::from_value(c).ok())
            .unwrap_or_default();
        let results = checks::evaluate_all(corpus_checks.iter().chain(&item_checks), &obs);
        let judgement = match (&self.judge, &answer.answer, &answer.failure) {
            (Some(judge), Some(a), None) => Some(
                judge
                    .judge(
                        &self.store,
                        request,
                        &reference,
                        a,
                        outcome.semantic_similarity,
                    )
                    .await,
            ),
            _ => None,
        };
        self.store
            .finish_run_item(
                item.id,
                "done",
                baseline_latency,
                baseline_cost,
                &serde_json::to_value(&results).unwrap_or_default(),
                judgement
                    .map(|j| serde_json::to_value(j).unwrap_or_default())
                    .as_ref(),
            )
            .await?;
        Ok(Some(outcome.verdict))
    }

    async fn candidate_answer(
        &self,
        id: ExchangeId,
        path: &str,
        request: &Value,
        reference: &Value,
    ) -> Result<Option<CandidateAnswer>, StoreError> {
        let name = self.candidate.name.as_str();
        if let Some(existing) = self.store.find_replay(id.as_uuid(), name).await? {
            let (latency_ms, tokens, cost_usd) = self.store.replay_usage(existing.id).await?;
            return Ok(Some(CandidateAnswer {
                replay_id: existing.id,
                answer: existing.response.filter(|_| existing.response_is_json),
                failure: existing
                    .error_class
                    .as_deref()
                    .and_then(|s| s.parse::<ErrorClass>().ok())
                    .map(|class| (class, existing.error_message.unwrap_or_default())),
                latency_ms,
                completion_tokens: tokens.map(|t| t.max(0) as u32),
                cost_usd: cost_usd.filter(|_| self.candidate_priced),
            }));
        }
        let ex = exchange_for(id, path, request, Some(reference), BTreeMap::new());
        let Some(r) = replay::replay_within_budget(
            &self.http,
            &self.metrics,
            &self.candidate,
            &ex,
            request,
            Some(reference),
        )
        .await
        else {
            return Ok(None);
        };
        let replay_id = self.store.insert_replay(&r).await?;
        Ok(Some(CandidateAnswer {
            replay_id,
            answer: r.response.as_ref().and_then(|b| b.json().cloned()),
            failure: r
                .error_class
                .map(|class| (class, r.error_message.clone().unwrap_or_default())),
            latency_ms: r.latency_ms,
            completion_tokens: r.completion_tokens,
            cost_usd: r.cost_usd.filter(|_| self.candidate_priced),
        }))
    }
}
