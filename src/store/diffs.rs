//! `diffs`: the differ's verdict for each replay, and the queries the UI lists them with.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::{scrub_nul, ExchangeRow, ReplayRow, Store, StoreError};
use crate::domain::{DiffOutcome, ExchangeId, Verdict};

/// A row of the diff list.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DiffListRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub exchange_id: Uuid,
    pub candidate: String,
    pub verdict: String,
    pub score: f64,
    pub text_similarity: Option<f64>,
    /// The first (most severe) finding in words, if any.
    pub first_finding: Option<String>,
    pub path: String,
    pub model: Option<String>,
}

/// Filters for the diff list (keyset pagination: rows with `id < before`).
#[derive(Debug, Clone, Default)]
pub struct DiffFilter {
    pub candidate: Option<String>,
    pub verdict: Option<Verdict>,
    pub before: Option<i64>,
    pub limit: i64,
}

/// Diffs per candidate and verdict.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct VerdictCount {
    pub candidate: String,
    pub verdict: String,
    pub count: i64,
}

/// Everything the detail page shows.
#[derive(Debug, Clone)]
pub struct DiffDetail {
    pub id: i64,
    pub candidate: String,
    pub verdict: String,
    pub score: f64,
    pub text_similarity: Option<f64>,
    pub findings: Value,
    pub created_at: DateTime<Utc>,
    pub exchange: ExchangeRow,
    pub replay: ReplayRow,
}

#[derive(sqlx::FromRow)]
struct DiffRow {
    id: i64,
    replay_id: i64,
    exchange_id: Uuid,
    candidate: String,
    verdict: String,
    score: f64,
    text_similarity: Option<f64>,
    findings: Value,
    created_at: DateTime<Utc>,
}

impl Store {
    /// Store the diff of a replay; a second diff of the same replay is a no-op.
    pub async fn insert_diff(
        &self,
        replay_id: i64,
        exchange_id: ExchangeId,
        candidate: &str,
        outcome: &DiffOutcome,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO diffs (replay_id, exchange_id, candidate, verdict, score, text_similarity, findings,
                                semantic_similarity, noise_semantic)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (replay_id) DO NOTHING",
        )
        .bind(replay_id)
        .bind(exchange_id.as_uuid())
        .bind(candidate)
        .bind(outcome.verdict.as_str())
        .bind(outcome.score)
        .bind(outcome.text_similarity)
        .bind(scrub_nul(serde_json::to_value(&outcome.findings).unwrap_or_default()))
        .bind(outcome.semantic_similarity)
        .bind(outcome.noise_semantic)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Diffs newest first, filtered, one page.
    pub async fn list_diffs(&self, f: &DiffFilter) -> Result<Vec<DiffListRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT d.id, d.created_at, d.exchange_id, d.candidate, d.verdict, d.score, d.text_similarity,
                    d.findings -> 0 ->> 'message' AS first_finding, e.path, e.model
             FROM diffs d JOIN exchanges e ON e.id = d.exchange_id WHERE true",
        );
        if let Some(c) = &f.candidate {
            q.push(" AND d.candidate = ").push_bind(c.clone());
        }
        if let Some(v) = f.verdict {
            q.push(" AND d.verdict = ").push_bind(v.as_str());
        }
        if let Some(before) = f.before {
            q.push(" AND d.id < ").push_bind(before);
        }
        q.push(" ORDER BY d.id DESC LIMIT ")
            .push_bind(f.limit.clamp(1, 500));
        Ok(q.build_query_as::<DiffListRow>()
            .fetch_all(&self.pool)
            .await?)
    }

    /// Counts per candidate and verdict, optionally only of diffs created since `since`.
    pub async fn verdict_counts(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<VerdictCount>, StoreError> {
        Ok(sqlx::query_as::<_, VerdictCount>(
            "SELECT candidate, verdict, count(*) AS count FROM diffs
             WHERE $1::timestamptz IS NULL OR created_at >= $1
             GROUP BY candidate, verdict ORDER BY candidate, verdict",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Number of diffs in total.
    pub async fn count_diffs(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM diffs")
            .fetch_one(&self.pool)
            .await?)
    }

    /// One diff with its exchange and replay.
    pub async fn diff_detail(&self, id: i64) -> Result<Option<DiffDetail>, StoreError> {
        let Some(d) = sqlx::query_as::<_, DiffRow>(
            "SELECT id, replay_id, exchange_id, candidate, verdict, score, text_similarity, findings, created_at
             FROM diffs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let Some(exchange) = self.exchange(d.exchange_id).await? else {
            return Ok(None);
        };
        let replay = self
            .replays_of(d.exchange_id)
            .await?
            .into_iter()
            .find(|r| r.id == d.replay_id);
        let Some(replay) = replay else {
            return Ok(None);
        };
        Ok(Some(DiffDetail {
            id: d.id,
            candidate: d.candidate,
            verdict: d.verdict,
            score: d.score,
            text_similarity: d.text_similarity,
            findings: d.findings,
            created_at: d.created_at,
            exchange,
            replay,
        }))
    }
}
