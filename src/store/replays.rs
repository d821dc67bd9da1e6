//! `replays`: what each candidate answered, one row per (exchange, candidate).

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{body_from_db, body_to_db, scrub_nul, Store, StoreError};
use crate::domain::{CapturedBody, ReplayResult};

/// An existing replay, as the worker needs it to finish an interrupted job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredReplay {
    pub id: i64,
    pub has_diff: bool,
    pub response: Option<Value>,
    pub response_is_json: bool,
    pub status: Option<i32>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
}

/// A replay row for display.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplayRow {
    pub id: i64,
    pub exchange_id: Uuid,
    pub candidate: String,
    /// `None` once the bodies expired (retention).
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
    pub response_is_json: bool,
    pub status: Option<i32>,
    pub latency_ms: f64,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub attempts: i32,
    pub replayed_at: DateTime<Utc>,
}

impl ReplayRow {
    /// The response body in domain form.
    pub fn response(&self) -> CapturedBody {
        body_from_db(self.response_body.clone(), self.response_is_json, false, 0)
    }
}

impl Store {
    /// The replay of `exchange_id` by `candidate`, if one was stored.
    pub async fn find_replay(
        &self,
        exchange_id: Uuid,
        candidate: &str,
    ) -> Result<Option<StoredReplay>, StoreError> {
        Ok(sqlx::query_as::<_, StoredReplay>(
            "SELECT r.id, EXISTS (SELECT 1 FROM diffs d WHERE d.replay_id = r.id) AS has_diff,
                    r.response_body AS response, r.response_is_json, r.status, r.error_class, r.error_message
             FROM replays r WHERE r.exchange_id = $1 AND r.candidate = $2",
        )
        .bind(exchange_id)
        .bind(candidate)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Store a replay; if one already exists for (exchange, candidate), keep it. Returns the row id.
    pub async fn insert_replay(&self, r: &ReplayResult) -> Result<i64, StoreError> {
        let (body, is_json) = match &r.response {
            Some(b) => body_to_db(&b.content),
            None => (None, false),
        };
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO replays (exchange_id, candidate, request_body, response_body, response_is_json,
                                  status, latency_ms, error_class, error_message, attempts,
                                  streamed, ttft_ms, chunks, prompt_tokens, completion_tokens, cost_usd)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
             ON CONFLICT ON CONSTRAINT replays_exchange_candidate_key DO NOTHING
             RETURNING id",
        )
        .bind(r.exchange_id.as_uuid())
        .bind(r.candidate.as_str())
        .bind(scrub_nul(r.request.clone()))
        .bind(body)
        .bind(is_json)
        .bind(r.status.map(i32::from))
        .bind(r.latency_ms)
        .bind(r.error_class.map(|c| c.as_str()))
        .bind(r.error_message.as_deref().map(|m| m.replace('\0', "")))
        .bind(r.attempts as i32)
        .bind(r.streamed)
        .bind(r.ttft_ms)
        .bind(r.chunks.map(|c| c as i32))
        .bind(r.prompt_tokens.map(|c| c as i32))
        .bind(r.completion_tokens.map(|c| c as i32))
        .bind(r.cost_usd)
        .fetch_optional(&self.pool)
        .await?;
        match inserted {
            Some(id) => Ok(id),
            None => Ok(sqlx::query_scalar(
                "SELECT id FROM replays WHERE exchange_id = $1 AND candidate = $2",
            )
            .bind(r.exchange_id.as_uuid())
            .bind(r.candidate.as_str())
            .fetch_one(&self.pool)
            .await?),
        }
    }

    /// What `candidate` has cost since `since` (for daily budgets).
    pub async fn spend_since(
        &self,
        candidate: &str,
        since: DateTime<Utc>,
    ) -> Result<f64, StoreError> {
        let spent: Option<f64> = sqlx::query_scalar(
            "SELECT sum(cost_usd) FROM replays WHERE candidate = $1 AND replayed_at >= $2",
        )
        .bind(candidate)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(spent.unwrap_or(0.0))
    }

    /// Every replay of one exchange.
    pub async fn replays_of(&self, exchange_id: Uuid) -> Result<Vec<ReplayRow>, StoreError> {
        Ok(sqlx::query_as::<_, ReplayRow>(
            "SELECT id, exchange_id, candidate, request_body, response_body, response_is_json, status,
                    latency_ms, error_class, error_message, attempts, replayed_at
             FROM replays WHERE exchange_id = $1 ORDER BY candidate",
        )
        .bind(exchange_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Number of replays per candidate of one exchange (tests and checks of idempotency).
    pub async fn count_replays(
        &self,
        exchange_id: Uuid,
        candidate: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM replays WHERE exchange_id = $1 AND candidate = $2",
        )
        .bind(exchange_id)
        .bind(candidate)
        .fetch_one(&self.pool)
        .await?)
    }
}
