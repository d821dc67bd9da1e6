//! Replay workers: consume captures, store them, replay each to every candidate, diff, store.
//!
//! Delivery semantics: a bus delivery is acknowledged only after the exchange, its replays and
//! their diffs are stored. Database outages pause the worker (retry with backoff, no ack), so a
//! crash or outage leads to redelivery, and idempotent writes keep redelivery harmless. Messages
//! that can never be processed become dead letters.

pub mod client;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::bus::{envelope, CaptureSource, Delivery};
use crate::diff::{self, CandidateSide, DiffInput};
use crate::domain::{ErrorClass, Exchange};
use crate::http_client::HttpClient;
use crate::store::{Store, StoreError};
use crate::telemetry::Metrics;
pub use client::Candidate;

/// A replay worker (one bus consumer).
#[derive(Clone)]
pub struct Worker {
    store: Store,
    http: HttpClient,
    candidates: Arc<Vec<Candidate>>,
    metrics: Metrics,
}

/// Why an exchange is stored but not replayed.
fn not_replayable(ex: &Exchange) -> Option<&'static str> {
    if ex.method != "POST"
        || !ex
            .path
            .split('?')
            .next()
            .unwrap_or("")
            .ends_with("/chat/completions")
    {
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
    /// A worker replaying to `candidates`.
    pub fn new(
        store: Store,
        http: HttpClient,
        candidates: Vec<Candidate>,
        metrics: Metrics,
    ) -> Self {
        Self {
            store,
            http,
            candidates: Arc::new(candidates),
            metrics,
        }
    }

    /// Consume until the bus closes or shutdown is requested. The delivery being processed when
    /// shutdown arrives is finished (or, if the database is down, left unacknowledged).
    pub async fn run(self, mut source: CaptureSource, shutdown: CancellationToken) {
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => break,
                d = source.next() => d,
            };
            match delivery {
                Ok(Some(d)) => {
                    if self.process_until_stored(&d, &shutdown).await {
                        if let Err(e) = source.ack(&d) {
                            tracing::warn!(origin = %d.origin, error = %e, "ack failed; message will be redelivered");
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "bus receive failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        source.flush_acks();
        tracing::info!("worker stopped");
    }

    /// Process a delivery, retrying while the database is unavailable. True when it may be acked.
    async fn process_until_stored(&self, d: &Delivery, shutdown: &CancellationToken) -> bool {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.process(d).await {
                Ok(()) => return true,
                Err(StoreError::Unavailable(e)) => {
                    self.metrics.store_retries.inc();
                    tracing::warn!(origin = %d.origin, error = %e, "database unavailable; will retry");
                }
                Err(e) => {
                    // The data itself is unacceptable: park it instead of retrying forever.
                    tracing::error!(origin = %d.origin, error = %e, "message rejected by the database");
                    match self.dead_letter(d, &format!("store rejected: {e}")).await {
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

    async fn dead_letter(&self, d: &Delivery, reason: &str) -> Result<(), StoreError> {
        self.store
            .insert_dead_letter(&d.origin, d.key.as_deref(), &d.payload, reason)
            .await?;
        self.metrics
            .worker_messages
            .with_label_values(&["dead_letter"])
            .inc();
        Ok(())
    }

    /// Decode, store, replay to each candidate, diff.
    pub async fn process(&self, d: &Delivery) -> Result<(), StoreError> {
        let exchange = match envelope::decode(&d.payload) {
            Ok(ex) => ex,
            Err(e) => {
                tracing::warn!(origin = %d.origin, error = %e, "poison message");
                return self.dead_letter(d, &e.to_string()).await;
            }
        };
        self.store.insert_exchange(&exchange).await?;
        match not_replayable(&exchange) {
            Some(why) => tracing::debug!(exchange_id = %exchange.id, why, "stored without replay"),
            None => {
                let jobs = self
                    .candidates
                    .iter()
                    .map(|c| self.replay_and_diff(&exchange, c));
                for r in futures_util::future::join_all(jobs).await {
                    r?;
                }
            }
        }
        self.metrics
            .worker_messages
            .with_label_values(&["stored"])
            .inc();
        Ok(())
    }

    /// Replay to one candidate (unless already done) and store the diff (unless already there).
    async fn replay_and_diff(&self, ex: &Exchange, c: &Candidate) -> Result<(), StoreError> {
        let request = ex.request.json().expect("checked by not_replayable");
        let production = ex.response.json().expect("checked by not_replayable");
        let (replay_id, side_value, failure) = match self
            .store
            .find_replay(ex.id.as_uuid(), c.name.as_str())
            .await?
        {
            Some(existing) if existing.has_diff => return Ok(()),
            Some(existing) => {
                let failure = existing
                    .error_class
                    .as_deref()
                    .and_then(|s| s.parse::<ErrorClass>().ok())
                    .map(|class| (class, existing.error_message.clone().unwrap_or_default()));
                (
                    existing.id,
                    existing.response.filter(|_| existing.response_is_json),
                    failure,
                )
            }
            None => {
                self.metrics.replays_in_flight.inc();
                let result = c.replay(&self.http, ex, request).await;
                self.metrics.replays_in_flight.dec();
                let outcome = result.error_class.map_or("ok", |e| e.as_str());
                self.metrics
                    .replays
                    .with_label_values(&[c.name.as_str(), outcome])
                    .inc();
                let id = self.store.insert_replay(&result).await?;
                let value = result.response.as_ref().and_then(|b| b.json().cloned());
                (
                    id,
                    value,
                    result
                        .error_class
                        .map(|class| (class, result.error_message.unwrap_or_default())),
                )
            }
        };
        let candidate = match (&failure, &side_value) {
            // A 2xx JSON answer of the wrong shape is compared, so the findings say what is wrong.
            (Some((ErrorClass::MalformedResponse, _)), Some(v)) => CandidateSide::Answer(v),
            (Some((class, message)), _) => CandidateSide::Failed {
                class: *class,
                message,
            },
            (None, Some(v)) => CandidateSide::Answer(v),
            (None, None) => CandidateSide::Answer(&Value::Null),
        };
        let outcome = diff::compare(&DiffInput {
            request: Some(request),
            production,
            candidate,
        });
        self.metrics
            .diffs
            .with_label_values(&[c.name.as_str(), outcome.verdict.as_str()])
            .inc();
        tracing::debug!(exchange_id = %ex.id, candidate = %c.name, verdict = %outcome.verdict, "diffed");
        self.store
            .insert_diff(replay_id, ex.id, c.name.as_str(), &outcome)
            .await
    }
}
