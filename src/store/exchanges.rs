//! `exchanges`: captured production traffic.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{body_from_db, body_to_db, scrub_nul, Store, StoreError};
use crate::domain::{CapturedBody, Exchange};

/// A stored exchange, as the UI reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExchangeRow {
    pub id: Uuid,
    pub captured_at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub tags: Value,
    pub request_body: Option<Value>,
    pub request_is_json: bool,
    pub request_truncated: bool,
    pub request_size: i64,
    pub response_body: Option<Value>,
    pub response_is_json: bool,
    pub response_truncated: bool,
    pub response_size: i64,
    pub status: i32,
    pub latency_ms: f64,
    pub ttfb_ms: Option<f64>,
    pub streamed: bool,
    pub incomplete: bool,
    pub stream_stats: Option<Value>,
    pub ttft_ms: Option<f64>,
}

impl ExchangeRow {
    /// The request body in domain form.
    pub fn request(&self) -> CapturedBody {
        body_from_db(
            self.request_body.clone(),
            self.request_is_json,
            self.request_truncated,
            self.request_size,
        )
    }

    /// The response body in domain form.
    pub fn response(&self) -> CapturedBody {
        body_from_db(
            self.response_body.clone(),
            self.response_is_json,
            self.response_truncated,
            self.response_size,
        )
    }
}

impl Store {
    /// Store a captured exchange; a second insert of the same id is a no-op.
    pub async fn insert_exchange(&self, ex: &Exchange) -> Result<(), StoreError> {
        let (req, req_json) = body_to_db(&ex.request.content);
        let (resp, resp_json) = body_to_db(&ex.response.content);
        sqlx::query(
            "INSERT INTO exchanges (id, captured_at, method, path, model, tags, request_headers,
                request_body, request_is_json, request_truncated, request_size,
                response_body, response_is_json, response_truncated, response_size,
                status, latency_ms, ttfb_ms, streamed, incomplete, stream_stats, ttft_ms)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(ex.id.as_uuid())
        .bind(ex.captured_at)
        .bind(&ex.method)
        .bind(&ex.path)
        .bind(&ex.model)
        .bind(scrub_nul(
            serde_json::to_value(&ex.tags).unwrap_or_default(),
        ))
        .bind(scrub_nul(
            serde_json::to_value(&ex.request_headers).unwrap_or_default(),
        ))
        .bind(req)
        .bind(req_json)
        .bind(ex.request.truncated)
        .bind(ex.request.size as i64)
        .bind(resp)
        .bind(resp_json)
        .bind(ex.response.truncated)
        .bind(ex.response.size as i64)
        .bind(i32::from(ex.status))
        .bind(ex.latency_ms)
        .bind(ex.ttfb_ms)
        .bind(ex.streamed)
        .bind(ex.incomplete)
        .bind(
            ex.stream
                .as_ref()
                .map(|s| scrub_nul(serde_json::to_value(s).unwrap_or_default())),
        )
        .bind(ex.stream.as_ref().and_then(|s| s.ttft_ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One exchange by id.
    pub async fn exchange(&self, id: Uuid) -> Result<Option<ExchangeRow>, StoreError> {
        Ok(sqlx::query_as::<_, ExchangeRow>(
            "SELECT id, captured_at, method, path, model, tags, request_body, request_is_json,
                    request_truncated, request_size, response_body, response_is_json,
                    response_truncated, response_size, status, latency_ms, ttfb_ms, streamed, incomplete,
                    stream_stats, ttft_ms
             FROM exchanges WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Number of stored exchanges.
    pub async fn count_exchanges(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM exchanges")
            .fetch_one(&self.pool)
            .await?)
    }
}
