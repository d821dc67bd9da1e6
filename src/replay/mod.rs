//! Replay workers: consume captures, store them, replay each to every candidate, diff, store.
//!
//! Delivery semantics: a bus delivery is acknowledged only after its exchanges (a record may hold a
//! batch), their replays and diffs are stored. Up to `worker.max_in_flight` exchanges are processed
//! at once (offsets are committed in order, see `bus::ack`); beyond that the worker stops pulling,
//! so slow candidates make the Kafka lag grow instead of dropping anything. Database outages pause
//! the worker (retry with backoff, no ack); idempotent writes keep redelivery harmless; messages
//! that can never be processed become dead letters.
//!
//! Per candidate: sticky share, daily budget, concurrency slots, request/token pacing, retries with
//! backoff honouring `Retry-After`, streaming when the original streamed.

pub mod candidate;
pub mod client;
mod indexing;
pub mod pacing;
pub mod retry;
pub mod tokens;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bus::{envelope, CaptureSource, Delivery};
use crate::diff::rules::{Rule, RuleAction};
use crate::diff::semantic::Semantic;
use crate::diff::{self, CandidateSide, DiffInput, Noise};
use crate::domain::{DiffOutcome, ErrorClass, Exchange, ExchangeId, ReplayResult};
use crate::http_client::HttpClient;
use crate::index::VectorIndex;
use crate::openai::ChatView;
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;
pub use candidate::{Candidate, Limits, CONTROL};
use retry::Decision;

/// A replay worker (one bus consumer).
#[derive(Clone)]
pub struct Worker {
    store: Store,
    http: HttpClient,
    candidates: Arc<Vec<Candidate>>,
    metrics: Metrics,
    max_in_flight: usize,
    exchanges: Arc<ExchangeLocks>,
    semantic: Option<Semantic>,
    rules: Arc<RuleCache>,
    /// Where prompts and regressed answers are indexed (needs `semantic` for the vectors).
    index: Option<VectorIndex>,
    /// Which prompts are indexed (`index.prompts_per_minute` per route).
    prompt_sample: Arc<std::sync::Mutex<crate::index::points::PerMinute>>,
}

/// Triage rules from the database, refreshed at most every [`RULES_TTL`].
#[derive(Default)]
struct RuleCache(tokio::sync::Mutex<Option<(std::time::Instant, Arc<Vec<Rule>>)>>);

/// How long triage rules are cached before being read again.
const RULES_TTL: Duration = Duration::from_secs(5);

impl RuleCache {
    async fn current(&self, store: &Store) -> Arc<Vec<Rule>> {
        let mut slot = self.0.lock().await;
        if let Some((at, rules)) = slot.as_ref() {
            if at.elapsed() < RULES_TTL {
                return rules.clone();
            }
        }
        let rules = match store.rules().await {
            Ok(rows) => Arc::new(rows.iter().filter_map(rule_from_row).collect::<Vec<_>>()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read triage rules; using the previous ones");
                slot.as_ref().map(|(_, r)| r.clone()).unwrap_or_default()
            }
        };
        *slot = Some((std::time::Instant::now(), rules.clone()));
        rules
    }
}

/// A stored rule as the differ applies it.
pub fn rule_from_row(r: &crate::store::RuleRow) -> Option<Rule> {
    let action = match r.action.as_str() {
        "ignore_path" => RuleAction::IgnorePath(r.path.clone()?),
        "accept_kind" => RuleAction::AcceptKind(r.finding_kind.clone()?),
        _ => return None,
    };
    Some(Rule {
        id: r.id,
        action,
        route: r.route.clone(),
        candidate: r.candidate.clone(),
    })
}

/// A stored replay, ready to be diffed.
struct Replayed<'c> {
    candidate: &'c Candidate,
    id: i64,
    has_diff: bool,
    answer: Option<Value>,
    failure: Option<(ErrorClass, String)>,
}

/// One lock per exchange being processed: a redelivered copy arriving while the first copy is
/// still in flight waits for it (and then finds its replays) instead of calling candidates twice.
#[derive(Default)]
struct ExchangeLocks(std::sync::Mutex<HashMap<ExchangeId, Arc<tokio::sync::Mutex<()>>>>);

/// Holds an exchange's lock; releases the map entry when the last holder leaves.
struct ExchangeGuard<'a> {
    locks: &'a ExchangeLocks,
    id: ExchangeId,
    entry: Arc<tokio::sync::Mutex<()>>,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl ExchangeLocks {
    async fn lock(&self, id: ExchangeId) -> ExchangeGuard<'_> {
        let entry = self
            .0
            .lock()
            .expect("exchange locks")
            .entry(id)
            .or_default()
            .clone();
        let held = entry.clone().lock_owned().await;
        ExchangeGuard {
            locks: self,
            id,
            entry,
            _held: held,
        }
    }
}

impl Drop for ExchangeGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.locks.0.lock().expect("exchange locks");
        // The map, `entry` and the held guard (its fields drop after this) are the only
        // references: nobody else is waiting, so the entry goes (it used to stay forever: one
        // leaked entry per exchange, found by the soak as slow memory growth).
        if Arc::strong_count(&self.entry) <= 3 {
            map.remove(&self.id);
        }
    }
}

/// What a worker does with one exchange of a delivery.
enum Work {
    Exchange(Box<Exchange>),
    /// The record, or this exchange of it, cannot be decoded: park it.
    DeadLetter {
        payload: Vec<u8>,
        reason: String,
    },
}

/// One exchange of a delivery, processed on its own.
struct Unit {
    /// The delivery it belongs to ([`OpenDeliveries`]).
    delivery: u64,
    /// Where it came from (`topic/2@1234`, and `[i]` for the i-th exchange of a batch).
    origin: String,
    /// The record's key (for a batch, its first exchange's id; `origin` names the exchange).
    key: Option<String>,
    work: Work,
}

/// Deliveries whose exchanges are being processed: each is acknowledged when its last exchange
/// is stored, and never if one of them could not be.
#[derive(Default)]
struct OpenDeliveries {
    open: HashMap<u64, OpenDelivery>,
    started: u64,
    /// The delivery each running task works for, so one that panics still settles it (unacked).
    tasks: HashMap<tokio::task::Id, u64>,
}

struct OpenDelivery {
    delivery: Delivery,
    remaining: usize,
    stored: bool,
}

impl OpenDeliveries {
    /// Split a delivery into its exchanges (an empty batch is acknowledged at once).
    fn start(&mut self, mut d: Delivery, source: &CaptureSource) -> Vec<Unit> {
        self.started += 1;
        let seq = self.started;
        let payload = std::mem::take(&mut d.payload);
        let unit = |origin: String, work| Unit {
            delivery: seq,
            origin,
            key: d.key.clone(),
            work,
        };
        let units: Vec<Unit> = match envelope::decode_record(&payload) {
            Ok(items) if items.len() == 1 => items
                .into_iter()
                .map(|item| unit(d.origin.clone(), work(item)))
                .collect(),
            Ok(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| unit(format!("{}[{i}]", d.origin), work(item)))
                .collect(),
            Err(e) => vec![unit(
                d.origin.clone(),
                Work::DeadLetter {
                    reason: e.to_string(),
                    payload,
                },
            )],
        };
        if units.is_empty() {
            ack(source, &d);
        } else {
            self.open.insert(
                seq,
                OpenDelivery {
                    delivery: d,
                    remaining: units.len(),
                    stored: true,
                },
            );
        }
        units
    }

    /// A task started on an exchange of delivery `seq`.
    fn spawned(&mut self, task: tokio::task::Id, seq: u64) {
        self.tasks.insert(task, seq);
    }

    /// A task ended: its exchange is stored, given up at shutdown, or its task failed.
    fn settle(
        &mut self,
        done: Result<(tokio::task::Id, bool), tokio::task::JoinError>,
        source: &CaptureSource,
    ) {
        let (task, stored) = match done {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "an exchange's task failed; its delivery stays unacknowledged");
                (e.id(), false)
            }
        };
        if let Some(seq) = self.tasks.remove(&task) {
            self.finished(seq, stored, source);
        }
    }

    /// One exchange of delivery `seq` is done (`stored`, or given up at shutdown).
    fn finished(&mut self, seq: u64, stored: bool, source: &CaptureSource) {
        let Some(open) = self.open.get_mut(&seq) else {
            return;
        };
        open.remaining -= 1;
        open.stored &= stored;
        if open.remaining == 0 {
            let open = self.open.remove(&seq).expect("present");
            if open.stored {
                ack(source, &open.delivery);
            }
        }
    }
}

fn work(item: envelope::Item) -> Work {
    match item {
        Ok(exchange) => Work::Exchange(Box::new(exchange)),
        Err(bad) => Work::DeadLetter {
            reason: bad.error.to_string(),
            payload: bad.envelope,
        },
    }
}

fn ack(source: &CaptureSource, d: &Delivery) {
    if let Err(e) = source.ack(d) {
        tracing::warn!(origin = %d.origin, error = %e, "ack failed; message will be redelivered");
    }
}

/// Why an exchange is stored but not replayed.
fn not_replayable(ex: &Exchange) -> Option<&'static str> {
    let path = ex.path.split('?').next().unwrap_or("");
    if ex.method != "POST" || !path.ends_with("/chat/completions") {
        return Some("only POST chat/completions is replayed");
    }
    if !(200..300).contains(&ex.status) {
        return Some("production answered with an error");
    }
    if ex.request.json().is_none_or(|v| !v.is_object()) {
        return Some("request body is not a JSON object");
    }
    if ex.stream.as_ref().is_some_and(|s| !s.complete) {
        return Some("the production stream did not complete");
    }
    if ex.response.json().is_none() {
        return Some("production response is not JSON");
    }
    None
}

impl Worker {
    /// A worker replaying to `candidates`, processing up to `max_in_flight` exchanges at once,
    /// comparing meaning with `semantic` when given.
    pub fn new(
        store: Store,
        http: HttpClient,
        candidates: Vec<Candidate>,
        metrics: Metrics,
        max_in_flight: usize,
        semantic: Option<Semantic>,
    ) -> Self {
        Self {
            semantic,
            store,
            http,
            candidates: Arc::new(candidates),
            metrics,
            max_in_flight: max_in_flight.max(1),
            exchanges: Arc::default(),
            rules: Arc::default(),
            index: None,
            prompt_sample: Arc::default(),
        }
    }

    /// Also index prompts and regressed answers in `index` (best effort, see `indexing`).
    pub fn with_index(mut self, index: Option<VectorIndex>) -> Self {
        if let Some(i) = &index {
            self.prompt_sample = Arc::new(std::sync::Mutex::new(
                crate::index::points::PerMinute::new(i.config().prompts_per_minute),
            ));
        }
        self.index = index;
        self
    }

    /// Restore each candidate's spend of the current UTC day from the database.
    pub async fn load_budgets(
        candidates: &mut [Candidate],
        store: &Store,
    ) -> Result<(), StoreError> {
        let midnight = chrono::Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        for c in candidates {
            let spent = store.spend_since(c.name.as_str(), midnight).await?;
            c.set_spent_today(spent);
        }
        Ok(())
    }

    /// Consume until the bus closes or shutdown is requested. Each exchange of a delivery (a
    /// record may hold a batch) is processed on its own, up to `max_in_flight` exchanges at once;
    /// the delivery is acknowledged once all of them are stored. Exchanges in flight at shutdown
    /// are finished if they can be; a delivery with any unfinished exchange stays unacknowledged
    /// and is redelivered (its stored exchanges are then found, not redone).
    pub async fn run(self, mut source: CaptureSource, shutdown: CancellationToken) {
        let mut in_flight: JoinSet<bool> = JoinSet::new();
        let mut waiting: VecDeque<Unit> = VecDeque::new();
        let mut open = OpenDeliveries::default();
        let mut receive_errors = ErrorPace::default();
        loop {
            while in_flight.len() < self.max_in_flight && !shutdown.is_cancelled() {
                let Some(unit) = waiting.pop_front() else {
                    break;
                };
                let worker = self.clone();
                let token = shutdown.clone();
                let seq = unit.delivery;
                let task = in_flight
                    .spawn(async move { worker.process_until_stored(&unit, &token).await });
                open.spawned(task.id(), seq);
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    open.settle(done, &source);
                }
                next = source.next(), if waiting.is_empty() && in_flight.len() < self.max_in_flight => match next {
                    Ok(Some(d)) => waiting.extend(open.start(d, &source)),
                    Ok(None) => break,
                    Err(e) => {
                        // librdkafka reports transient trouble (broker down, transport failures)
                        // as error events on the consumer queue, one per failed reconnect, and
                        // recovers by itself; each call consumes one. Keep polling: the group's
                        // rebalance events queue behind them, and pausing per error once held the
                        // assignment back for a minute after a broker outage.
                        let now = std::time::Instant::now();
                        if let Some(suppressed) = receive_errors.log_now(now) {
                            tracing::warn!(error = %e, suppressed, "bus receive failed; retrying");
                        }
                        let pause = receive_errors.pause(now);
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(pause) => {}
                        }
                    }
                },
            }
        }
        // Let exchanges in flight finish (bounded by the process's shutdown grace period).
        while let Some(done) = in_flight.join_next_with_id().await {
            open.settle(done, &source);
        }
        source.flush_acks();
        tracing::info!("worker stopped");
    }

    /// Process a unit, retrying while the database is unavailable. True when it may be acked.
    async fn process_until_stored(&self, unit: &Unit, shutdown: &CancellationToken) -> bool {
        let mut backoff = Duration::from_millis(200);
        loop {
            let result = match &unit.work {
                Work::Exchange(exchange) => self.process(exchange).await,
                Work::DeadLetter { payload, reason } => {
                    tracing::warn!(origin = %unit.origin, error = %reason, "poison message");
                    self.dead_letter(unit, payload, reason).await
                }
            };
            match result {
                Ok(()) => return true,
                Err(StoreError::Unavailable(e)) => {
                    self.metrics.store_retries.inc();
                    tracing::warn!(origin = %unit.origin, error = %e, "database unavailable; will retry");
                }
                Err(e) => {
                    // The data itself is unacceptable: park it instead of retrying forever.
                    tracing::error!(origin = %unit.origin, error = %e, "message rejected by the database");
                    let parked = match &unit.work {
                        Work::Exchange(exchange) => match envelope::encode(exchange.as_ref()) {
                            Ok(payload) => {
                                self.dead_letter(unit, &payload, &format!("store rejected: {e}"))
                                    .await
                            }
                            Err(encode) => {
                                tracing::error!(origin = %unit.origin, error = %encode, "cannot encode the rejected exchange; dropping it");
                                Ok(())
                            }
                        },
                        // The dead letter itself was rejected (e.g. its bytes): keep the reason.
                        Work::DeadLetter { reason, .. } => {
                            self.dead_letter(unit, b"", &format!("{reason}; payload rejected: {e}"))
                                .await
                        }
                    };
                    match parked {
                        Ok(()) => return true,
                        Err(e) => tracing::warn!(error = %e, "dead letter failed; will retry"),
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn dead_letter(
        &self,
        unit: &Unit,
        payload: &[u8],
        reason: &str,
    ) -> Result<(), StoreError> {
        let added = self
            .store
            .insert_dead_letter(&unit.origin, unit.key.as_deref(), payload, reason)
            .await?;
        if added {
            self.metrics
                .worker_messages
                .with_label_values(&["dead_letter"])
                .inc();
        }
        Ok(())
    }

    /// Store, replay to each candidate, diff.
    pub async fn process(&self, exchange: &Exchange) -> Result<(), StoreError> {
        let _guard = self.exchanges.lock(exchange.id).await;
        self.store.insert_exchange(exchange).await?;
        match not_replayable(exchange) {
            Some(why) => tracing::debug!(exchange_id = %exchange.id, why, "stored without replay"),
            None => {
                let jobs = self
                    .candidates
                    .iter()
                    .map(|c| self.replay_phase(exchange, c));
                let mut replayed = Vec::new();
                for r in futures_util::future::join_all(jobs).await {
                    replayed.extend(r?);
                }
                // The control first: how much production disagrees with itself is the noise floor.
                let noise = match replayed
                    .iter()
                    .find(|r| r.candidate.name.as_str() == CONTROL)
                {
                    Some(control) => {
                        let outcome = self.diff_phase(exchange, control, None).await?;
                        Some(Noise::from_control(&outcome)).filter(|_| control.failure.is_none())
                    }
                    None => None,
                };
                for r in replayed
                    .iter()
                    .filter(|r| r.candidate.name.as_str() != CONTROL)
                {
                    if !r.has_diff {
                        self.diff_phase(exchange, r, noise.as_ref()).await?;
                    }
                }
                self.index_prompt(exchange).await;
            }
        }
        self.metrics
            .worker_messages
            .with_label_values(&["stored"])
            .inc();
        Ok(())
    }

    fn skip(&self, c: &Candidate, reason: &str) {
        self.metrics
            .replays_skipped
            .with_label_values(&[c.name.as_str(), reason])
            .inc();
    }

    /// Replay to one candidate unless already done (or skipped by share or budget).
    async fn replay_phase<'c>(
        &self,
        ex: &Exchange,
        c: &'c Candidate,
    ) -> Result<Option<Replayed<'c>>, StoreError> {
        let request = ex.request.json().expect("checked by not_replayable");
        let production = ex.response.json().expect("checked by not_replayable");
        if let Some(existing) = self
            .store
            .find_replay(ex.id.as_uuid(), c.name.as_str())
            .await?
        {
            let failure = existing
                .error_class
                .as_deref()
                .and_then(|s| s.parse::<ErrorClass>().ok())
                .map(|class| (class, existing.error_message.clone().unwrap_or_default()));
            return Ok(Some(Replayed {
                candidate: c,
                id: existing.id,
                has_diff: existing.has_diff,
                answer: existing.response.filter(|_| existing.response_is_json),
                failure,
            }));
        }
        if !c.takes(&ex.id.to_string()) {
            self.skip(c, "share");
            return Ok(None);
        }
        let within = if c.budget.allows(chrono::Utc::now()) {
            replay_within_budget(&self.http, &self.metrics, c, ex, request, Some(production)).await
        } else {
            None
        };
        let Some(result) = within else {
            self.skip(c, "budget");
            tracing::warn!(candidate = %c.name, "daily budget exhausted; not replaying until tomorrow (UTC)");
            return Ok(None);
        };
        let outcome = result.error_class.map_or("ok", |e| e.as_str());
        self.metrics
            .replays
            .with_label_values(&[c.name.as_str(), outcome])
            .inc();
        let id = self.store.insert_replay(&result).await?;
        Ok(Some(Replayed {
            candidate: c,
            id,
            has_diff: false,
            answer: result.response.as_ref().and_then(|b| b.json().cloned()),
            failure: result
                .error_class
                .map(|class| (class, result.error_message.unwrap_or_default())),
        }))
    }

    /// Compare one replay with production (stored unless a diff exists already).
    async fn diff_phase(
        &self,
        ex: &Exchange,
        r: &Replayed<'_>,
        noise: Option<&Noise>,
    ) -> Result<DiffOutcome, StoreError> {
        let request = ex.request.json().expect("checked by not_replayable");
        let production = ex.response.json().expect("checked by not_replayable");
        let candidate = CandidateSide::from_replay(r.answer.as_ref(), r.failure.as_ref());
        let input = DiffInput {
            request: Some(request),
            production,
            candidate,
            semantic: None,
            noise,
        };
        let mut outcome = diff::compare_with_meaning(self.semantic.as_ref(), input).await;
        let rules = self.rules.current(&self.store).await;
        diff::rules::apply(
            &mut outcome,
            &rules,
            ex.path.split('?').next().unwrap_or_default(),
            r.candidate.name.as_str(),
        );
        if !r.has_diff {
            let name = r.candidate.name.as_str();
            self.metrics
                .diffs
                .with_label_values(&[name, outcome.verdict.as_str()])
                .inc();
            tracing::debug!(exchange_id = %ex.id, candidate = name, verdict = %outcome.verdict, "diffed");
            self.store.insert_diff(r.id, ex.id, name, &outcome).await?;
            if name != CONTROL {
                self.index_regression(ex, r.id, name, r.answer.as_ref(), &outcome)
                    .await;
            }
        }
        Ok(outcome)
    }
}

/// Replay `request` (of exchange `ex`) to `c` with its concurrency slots, pacing and retries.
/// Never fails: failures are classified. Production's answer, when known, sizes the token
/// estimate used for pacing. Used by the workers and by corpus runs.
pub async fn replay_request(
    http: &HttpClient,
    metrics: &Metrics,
    c: &Candidate,
    ex: &Exchange,
    request: &Value,
    production: Option<&Value>,
) -> ReplayResult {
    replay_inner(http, metrics, c, ex, request, production, false)
        .await
        .expect("no budget check, always a result")
}

/// [`replay_request`], unless the candidate's daily budget is spent once a concurrency slot is
/// free (checked then, so requests queued behind the slots do not all slip past the cap).
pub async fn replay_within_budget(
    http: &HttpClient,
    metrics: &Metrics,
    c: &Candidate,
    ex: &Exchange,
    request: &Value,
    production: Option<&Value>,
) -> Option<ReplayResult> {
    replay_inner(http, metrics, c, ex, request, production, true).await
}

async fn replay_inner(
    http: &HttpClient,
    metrics: &Metrics,
    c: &Candidate,
    ex: &Exchange,
    request: &Value,
    production: Option<&Value>,
    enforce_budget: bool,
) -> Option<ReplayResult> {
    let stream = c.streams(ex.streamed);
    let body = c.adapt_request(request, stream);
    let production_completion = production
        .and_then(ChatView::parse)
        .and_then(|v| v.completion_tokens);
    let estimate = tokens::prompt_tokens(&body)
        + tokens::expected_completion_tokens(&body, production_completion);
    let _slot = c
        .slots
        .acquire()
        .await
        .expect("candidate semaphore is never closed");
    if enforce_budget && !c.budget.allows(chrono::Utc::now()) {
        return None;
    }
    metrics.replays_in_flight.inc();
    let mut attempts = 0;
    let out = loop {
        attempts += 1;
        let waited = c.limiter.acquire(estimate).await;
        metrics
            .rate_limit_wait_seconds
            .with_label_values(&[c.name.as_str()])
            .inc_by(waited.as_secs_f64());
        let out = client::attempt(http, c, &ex.path, &body).await;
        let Some((class, message)) = &out.error else {
            break out;
        };
        if *class == ErrorClass::RateLimited {
            if let Some(hint) = out.retry_hint {
                c.limiter.pause_until(std::time::Instant::now() + hint);
            }
        }
        match c
            .retry
            .decide(attempts, *class, out.retry_hint, rand::random())
        {
            Decision::Retry(wait) => {
                tracing::debug!(candidate = %c.name, attempt = attempts, %class, %message, ?wait, "retrying");
                metrics
                    .replay_retries
                    .with_label_values(&[c.name.as_str(), class.as_str()])
                    .inc();
                tokio::time::sleep(wait).await;
            }
            Decision::GiveUp => break out,
        }
    };
    metrics.replays_in_flight.dec();
    let usage = out
        .response
        .as_ref()
        .and_then(|b| b.json())
        .and_then(ChatView::parse);
    let (prompt_tokens, completion_tokens) = usage
        .map(|u| {
            (
                u.prompt_tokens.map(|n| n as u32),
                u.completion_tokens.map(|n| n as u32),
            )
        })
        .unwrap_or_default();
    if let (Some(p), Some(k)) = (prompt_tokens, completion_tokens) {
        c.limiter.settle(std::time::Instant::now(), estimate, p + k);
    }
    let cost_usd = match (prompt_tokens, completion_tokens) {
        (Some(p), Some(k)) => Some(c.cost(p, k)),
        _ => None,
    };
    if let Some(cost) = cost_usd {
        let today = c.budget.spend(cost, chrono::Utc::now());
        metrics
            .spend_usd
            .with_label_values(&[c.name.as_str()])
            .set(today);
    }
    Some(ReplayResult {
        exchange_id: ex.id,
        candidate: c.name.clone(),
        request: body,
        response: out.response,
        status: out.status,
        latency_ms: out.latency_ms,
        error_class: out.error.as_ref().map(|(class, _)| *class),
        error_message: out.error.map(|(_, m)| m),
        attempts,
        streamed: stream,
        ttft_ms: out.ttft_ms,
        chunks: out.chunks,
        prompt_tokens,
        completion_tokens,
        cost_usd,
    })
}

/// Pacing of consecutive bus receive errors: log at most one per [`ErrorPace::LOG_EVERY`] (with
/// how many were not logged), and only pause when errors come faster than any real broker
/// produces them (a source that fails without consuming anything must not spin).
#[derive(Debug, Default)]
struct ErrorPace {
    last_log: Option<std::time::Instant>,
    suppressed: u64,
    window_start: Option<std::time::Instant>,
    in_window: u32,
}

impl ErrorPace {
    const LOG_EVERY: Duration = Duration::from_secs(10);
    /// Errors per second beyond which the loop pauses.
    const BURST: u32 = 1000;
    const PAUSE: Duration = Duration::from_millis(100);

    /// `Some(suppressed since the last log)` when this error should be logged.
    fn log_now(&mut self, now: std::time::Instant) -> Option<u64> {
        match self.last_log {
            Some(t) if now.duration_since(t) < Self::LOG_EVERY => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last_log = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }

    /// How long to wait before polling again.
    fn pause(&mut self, now: std::time::Instant) -> Duration {
        match self.window_start {
            Some(t) if now.duration_since(t) < Duration::from_secs(1) => self.in_window += 1,
            _ => {
                self.window_start = Some(now);
                self.in_window = 1;
            }
        }
        if self.in_window > Self::BURST {
            Self::PAUSE
        } else {
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn receive_errors_are_drained_without_pausing_and_logged_sparsely() {
        use super::ErrorPace;
        use std::time::Duration;
        let t0 = std::time::Instant::now();
        let mut pace = ErrorPace::default();
        // A broker outage's backlog: hundreds of queued error events, drained at once.
        let mut logged = Vec::new();
        for i in 0..500u64 {
            let now = t0 + Duration::from_micros(i * 10);
            assert_eq!(pace.pause(now), Duration::ZERO, "error {i}");
            if let Some(s) = pace.log_now(now) {
                logged.push(s);
            }
        }
        assert_eq!(logged, [0], "one warning for the burst");
        let later = t0 + Duration::from_secs(11);
        assert_eq!(
            pace.log_now(later),
            Some(499),
            "then one with the count not logged"
        );
        // A source failing without consuming anything: paused once past the burst bound.
        let t1 = t0 + Duration::from_secs(20);
        let pauses = (0..1500u64)
            .filter(|i| pace.pause(t1 + Duration::from_micros(*i)) > Duration::ZERO)
            .count();
        assert_eq!(pauses, 500);
    }

    #[tokio::test]
    async fn exchange_locks_leave_nothing_behind() {
        let locks = super::ExchangeLocks::default();
        let id = crate::domain::ExchangeId::new();
        {
            let _a = locks.lock(id).await;
        }
        assert!(locks.0.lock().unwrap().is_empty(), "released entry removed");
        // A waiter keeps the entry until it is done too.
        let first = locks.lock(id).await;
        let waiter = locks.lock(id);
        let (_, second) = tokio::join!(async move { drop(first) }, waiter);
        assert_eq!(locks.0.lock().unwrap().len(), 1, "still held by the waiter");
        drop(second);
        assert!(locks.0.lock().unwrap().is_empty());
    }
}
