//! `runs`, `run_items`, `judge_cache`: replays of a corpus against a candidate. A run's items are
//! ordinary exchanges + replays + diffs, tagged with `exchanges.run_id`; each run item keeps the
//! exchange id it was given when the run was created, its status, check results and judgement.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{scrub_nul, CorpusRow, Store, StoreError};

/// A run with its progress.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RunRow {
    pub id: i64,
    pub corpus_id: Option<i64>,
    pub corpus_name: String,
    pub candidate: String,
    pub baseline: String,
    pub status: String,
    pub judge: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub total: i64,
    pub done: i64,
}

/// A run item still to replay, with its corpus item (absent when the item left the corpus).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingItem {
    pub id: i64,
    pub item_key: String,
    pub exchange_id: Uuid,
    pub path: Option<String>,
    pub request: Option<Value>,
    pub expected: Option<Value>,
    pub baseline: Option<Value>,
    pub checks: Option<Value>,
    pub tags: Option<Value>,
}

/// A run item's outcome: its checks and judgement, the candidate's replay and the diff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunItemRow {
    pub item_key: String,
    pub status: String,
    pub exchange_id: Uuid,
    pub baseline_latency_ms: Option<f64>,
    pub baseline_cost_usd: Option<f64>,
    pub checks: Value,
    pub judge: Option<Value>,
    pub latency_ms: Option<f64>,
    pub cost_usd: Option<f64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub diff_id: Option<i64>,
    pub verdict: Option<String>,
    pub score: Option<f64>,
    pub semantic_similarity: Option<f64>,
    pub finding: Option<String>,
    pub findings: Option<Value>,
}

const RUN_COLUMNS: &str =
    "SELECT r.id, r.corpus_id, r.corpus_name, r.candidate, r.baseline, r.status, r.judge,
        r.started_at, r.finished_at,
        (SELECT count(*) FROM run_items i WHERE i.run_id = r.id) AS total,
        (SELECT count(*) FROM run_items i WHERE i.run_id = r.id AND i.status <> 'pending') AS done
     FROM runs r";

impl Store {
    /// Start a run of every current item of a corpus; each item gets its exchange id now.
    pub async fn create_run(
        &self,
        corpus: &CorpusRow,
        candidate: &str,
        baseline: &str,
        judge: bool,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (corpus_id, corpus_name, candidate, baseline, judge) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(corpus.id)
        .bind(&corpus.name)
        .bind(candidate)
        .bind(baseline)
        .bind(judge)
        .fetch_one(&mut *tx)
        .await?;
        let items: Vec<(i64, String, i32)> = sqlx::query_as(
            "SELECT id, key, position FROM corpus_items WHERE corpus_id = $1 ORDER BY position",
        )
        .bind(corpus.id)
        .fetch_all(&mut *tx)
        .await?;
        let exchange_ids: Vec<Uuid> = items.iter().map(|_| Uuid::now_v7()).collect();
        sqlx::query(
            "INSERT INTO run_items (run_id, item_id, item_key, position, exchange_id)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::int[], $5::uuid[])",
        )
        .bind(id)
        .bind(items.iter().map(|i| i.0).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.1.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|i| i.2).collect::<Vec<_>>())
        .bind(exchange_ids)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The latest unfinished run of this corpus, candidate and baseline, if any.
    pub async fn resumable_run(
        &self,
        corpus_id: i64,
        candidate: &str,
        baseline: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM runs WHERE corpus_id = $1 AND candidate = $2 AND baseline = $3 AND status = 'running'
             ORDER BY id DESC LIMIT 1",
        )
        .bind(corpus_id)
        .bind(candidate)
        .bind(baseline)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// One run.
    pub async fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, RunRow>(&format!("{RUN_COLUMNS} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The most recent runs.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, RunRow>(&format!("{RUN_COLUMNS} ORDER BY r.id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Items of a run not replayed yet, in corpus order.
    pub async fn pending_items(&self, run_id: i64) -> Result<Vec<PendingItem>, StoreError> {
        Ok(sqlx::query_as::<_, PendingItem>(
            "SELECT ri.id, ri.item_key, ri.exchange_id, ci.path, ci.request, ci.expected, ci.baseline, ci.checks, ci.tags
             FROM run_items ri LEFT JOIN corpus_items ci ON ci.id = ri.item_id
             WHERE ri.run_id = $1 AND ri.status = 'pending' ORDER BY ri.position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Mark a stored exchange as belonging to a run (so the UI can tell it from captured traffic).
    pub async fn tag_run_exchange(&self, exchange_id: Uuid, run_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE exchanges SET run_id = $2, source = 'corpus' WHERE id = $1")
            .bind(exchange_id)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Record a finished (`done`) or `skipped` run item.
    pub async fn finish_run_item(
        &self,
        id: i64,
        status: &str,
        baseline_latency_ms: Option<f64>,
        baseline_cost_usd: Option<f64>,
        checks: &Value,
        judge: Option<&Value>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE run_items SET status = $2, baseline_latency_ms = $3, baseline_cost_usd = $4, checks = $5,
                 judge = $6, done_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(baseline_latency_ms)
        .bind(baseline_cost_usd)
        .bind(scrub_nul(checks.clone()))
        .bind(judge.cloned().map(scrub_nul))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Mark a run done when no item is pending; returns whether it is done.
    pub async fn finish_run(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'done', finished_at = now()
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM run_items WHERE run_id = $1 AND status = 'pending')",
        )
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done > 0)
    }

    /// Every item of a run with its replay and diff, in corpus order.
    pub async fn run_items(&self, run_id: i64) -> Result<Vec<RunItemRow>, StoreError> {
        Ok(sqlx::query_as::<_, RunItemRow>(
            "SELECT ri.item_key, ri.status, ri.exchange_id, ri.baseline_latency_ms, ri.baseline_cost_usd, ri.checks,
                    ri.judge, r.latency_ms, r.cost_usd, r.error_class, r.error_message, d.id AS diff_id, d.verdict,
                    d.score, d.semantic_similarity, d.findings -> 0 ->> 'message' AS finding, d.findings
             FROM run_items ri JOIN runs ru ON ru.id = ri.run_id
             LEFT JOIN replays r ON r.exchange_id = ri.exchange_id AND r.candidate = ru.candidate
             LEFT JOIN diffs d ON d.replay_id = r.id
             WHERE ri.run_id = $1 ORDER BY ri.position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The baseline and candidate answers of one run item's exchange.
    pub async fn run_item_bodies(
        &self,
        exchange_id: Uuid,
        candidate: &str,
    ) -> Result<Option<(Option<Value>, Option<Value>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.response_body, r.response_body FROM exchanges e
             LEFT JOIN replays r ON r.exchange_id = e.id AND r.candidate = $2 WHERE e.id = $1",
        )
        .bind(exchange_id)
        .bind(candidate)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A cached judgement: (score, reason).
    pub async fn judge_cached(&self, hash: &str) -> Result<Option<(u8, String)>, StoreError> {
        let row: Option<(i32, String)> =
            sqlx::query_as("SELECT score, reason FROM judge_cache WHERE hash = $1")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(s, r)| (s.clamp(1, 5) as u8, r)))
    }

    /// Cache a judgement (the first one for a hash wins).
    pub async fn store_judgement(
        &self,
        hash: &str,
        score: u8,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO judge_cache (hash, score, reason) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING")
            .bind(hash)
            .bind(i32::from(score))
            .bind(reason.replace('\0', ""))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Latency, completion tokens and cost of a stored replay (to check an interrupted item).
    pub async fn replay_usage(
        &self,
        replay_id: i64,
    ) -> Result<(f64, Option<i32>, Option<f64>), StoreError> {
        Ok(sqlx::query_as(
            "SELECT latency_ms, completion_tokens, cost_usd FROM replays WHERE id = $1",
        )
        .bind(replay_id)
        .fetch_one(&self.pool)
        .await?)
    }
}
