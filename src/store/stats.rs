//! Aggregates for the dashboard and the inventory: pre-aggregated daily verdict counts
//! (`diff_daily`, kept by a trigger) and bounded samples for percentiles.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Store, StoreError};

/// Verdict counts of one candidate on one day.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct DailyVerdicts {
    pub day: NaiveDate,
    pub candidate: String,
    pub verdict: String,
    pub diffs: i64,
    pub semantic_sum: f64,
    pub semantic_n: i64,
}

/// Latency, TTFT, tokens and cost of a candidate next to production's for the same exchanges.
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize)]
pub struct PerformanceSample {
    pub replays: i64,
    pub prod_p50: Option<f64>,
    pub prod_p95: Option<f64>,
    pub prod_p99: Option<f64>,
    pub cand_p50: Option<f64>,
    pub cand_p95: Option<f64>,
    pub cand_p99: Option<f64>,
    pub prod_ttft_p50: Option<f64>,
    pub cand_ttft_p50: Option<f64>,
    pub prod_prompt_tokens: Option<i64>,
    pub prod_completion_tokens: Option<i64>,
    pub cand_prompt_tokens: Option<i64>,
    pub cand_completion_tokens: Option<i64>,
    pub cand_cost_usd: Option<f64>,
}

/// A label and a count (error classes, finding kinds, tags).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Count {
    pub label: String,
    pub count: i64,
}

/// One route × model line of the traffic inventory.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct InventoryRow {
    pub path: String,
    pub model: Option<String>,
    pub requests: i64,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub streaming_share: f64,
    pub tool_share: f64,
    pub json_share: f64,
    pub error_share: f64,
}

/// Replays sampled per candidate for percentiles (bounded work at any table size).
const SAMPLE: i64 = 5000;

impl Store {
    /// Daily verdict counts since `days` ago (UTC).
    pub async fn daily_verdicts(&self, days: i32) -> Result<Vec<DailyVerdicts>, StoreError> {
        Ok(sqlx::query_as::<_, DailyVerdicts>(
            "SELECT day, candidate, verdict, diffs, semantic_sum, semantic_n FROM diff_daily
             WHERE day > (now() AT TIME ZONE 'UTC')::date - $1 AND diffs > 0 ORDER BY day, candidate, verdict",
        )
        .bind(days)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Latency/TTFT percentiles and token/cost totals over the candidate's most recent replays.
    pub async fn performance(&self, candidate: &str) -> Result<PerformanceSample, StoreError> {
        Ok(sqlx::query_as::<_, PerformanceSample>(
            "WITH s AS (
                SELECT r.latency_ms AS cand_ms, e.latency_ms AS prod_ms, r.ttft_ms AS cand_ttft, e.ttft_ms AS prod_ttft,
                       r.prompt_tokens AS cand_in, r.completion_tokens AS cand_out, r.cost_usd,
                       (e.response_body -> 'usage' ->> 'prompt_tokens')::bigint AS prod_in,
                       (e.response_body -> 'usage' ->> 'completion_tokens')::bigint AS prod_out
                FROM replays r JOIN exchanges e ON e.id = r.exchange_id
                WHERE r.candidate = $1 AND r.error_class IS NULL
                ORDER BY r.replayed_at DESC LIMIT $2)
             SELECT count(*) AS replays,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY prod_ms) AS prod_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY prod_ms) AS prod_p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY prod_ms) AS prod_p99,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY cand_ms) AS cand_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY cand_ms) AS cand_p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY cand_ms) AS cand_p99,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY prod_ttft) AS prod_ttft_p50,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY cand_ttft) AS cand_ttft_p50,
                sum(prod_in)::bigint AS prod_prompt_tokens, sum(prod_out)::bigint AS prod_completion_tokens,
                sum(cand_in)::bigint AS cand_prompt_tokens, sum(cand_out)::bigint AS cand_completion_tokens,
                sum(cost_usd) AS cand_cost_usd
             FROM s",
        )
        .bind(candidate)
        .bind(SAMPLE)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Error classes of a candidate's recent replays.
    pub async fn error_classes(
        &self,
        candidate: &str,
        days: i32,
    ) -> Result<Vec<Count>, StoreError> {
        Ok(sqlx::query_as::<_, Count>(
            "SELECT error_class AS label, count(*) AS count FROM replays
             WHERE candidate = $1 AND error_class IS NOT NULL AND replayed_at > now() - make_interval(days => $2)
             GROUP BY error_class ORDER BY count DESC LIMIT 10",
        )
        .bind(candidate)
        .bind(days)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The most frequent first findings of a candidate's regressions and minor differences.
    pub async fn top_finding_kinds(
        &self,
        candidate: &str,
        days: i32,
    ) -> Result<Vec<Count>, StoreError> {
        Ok(sqlx::query_as::<_, Count>(
            "SELECT first_kind AS label, count(*) AS count FROM diffs
             WHERE candidate = $1 AND first_kind IS NOT NULL AND verdict IN ('regression', 'minor', 'incompatible')
               AND created_at > now() - make_interval(days => $2)
             GROUP BY first_kind ORDER BY count DESC LIMIT 8",
        )
        .bind(candidate)
        .bind(days)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Traffic seen by the tap, per route and model.
    pub async fn inventory(&self, days: i32) -> Result<Vec<InventoryRow>, StoreError> {
        Ok(sqlx::query_as::<_, InventoryRow>(
            "SELECT path, model, count(*) AS requests,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99_ms,
                avg(streamed::int)::float8 AS streaming_share,
                avg((request_body ? 'tools')::int)::float8 AS tool_share,
                avg((request_body -> 'response_format' ->> 'type' IN ('json_object', 'json_schema'))::int)::float8 AS json_share,
                avg((status >= 400)::int)::float8 AS error_share
             FROM exchanges WHERE captured_at > now() - make_interval(days => $1)
             GROUP BY path, model ORDER BY requests DESC LIMIT 200",
        )
        .bind(days)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Tag values seen (`team=search`, …) with their request counts.
    pub async fn tag_counts(&self, days: i32) -> Result<Vec<Count>, StoreError> {
        Ok(sqlx::query_as::<_, Count>(
            "SELECT t.key || '=' || t.value AS label, count(*) AS count
             FROM exchanges e, jsonb_each_text(e.tags) t
             WHERE e.captured_at > now() - make_interval(days => $1)
             GROUP BY 1 ORDER BY count DESC LIMIT 50",
        )
        .bind(days)
        .fetch_all(&self.pool)
        .await?)
    }
}
