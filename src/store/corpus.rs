//! `corpora`, `corpus_items`, `runs`, `run_items`, `judge_cache`: named corpora, their replay
//! runs (whose items are ordinary exchanges + replays + diffs tagged with `exchanges.run_id`),
//! cached judgements, and the export query over captured traffic.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{scrub_nul, Store, StoreError};

/// One item to save into a corpus.
#[derive(Debug, Clone)]
pub struct CorpusItemData {
    pub key: String,
    pub path: String,
    pub request: Value,
    pub expected: Option<Value>,
    pub baseline: Option<Value>,
    pub checks: Value,
    pub tags: Value,
}

/// What saving a corpus did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedCorpus {
    Saved {
        id: i64,
        added: u64,
        updated: u64,
        unchanged: u64,
        removed: u64,
    },
    /// A corpus of that name exists and replacing was not asked for.
    Exists,
}

/// A corpus with its item count.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CorpusRow {
    pub id: i64,
    pub name: String,
    pub format_version: i32,
    pub description: Option<String>,
    pub checks: Value,
    pub updated_at: DateTime<Utc>,
    pub items: i64,
}

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

/// Which captured exchanges to export.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Request path without the query, e.g. `/v1/chat/completions`.
    pub route: Option<String>,
    pub model: Option<String>,
    /// Tags the exchange must carry (`{"team": "support"}`).
    pub tags: Value,
    /// Only exchanges with a diff of this verdict (of `candidate`, when given).
    pub verdict: Option<String>,
    pub candidate: Option<String>,
    pub limit: i64,
}

/// A captured exchange, as far as an export needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub id: Uuid,
    pub captured_at: DateTime<Utc>,
    pub path: String,
    pub model: Option<String>,
    pub tags: Value,
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
    pub latency_ms: f64,
}

const RUN_COLUMNS: &str =
    "SELECT r.id, r.corpus_id, r.corpus_name, r.candidate, r.baseline, r.status, r.judge,
        r.started_at, r.finished_at,
        (SELECT count(*) FROM run_items i WHERE i.run_id = r.id) AS total,
        (SELECT count(*) FROM run_items i WHERE i.run_id = r.id AND i.status <> 'pending') AS done
     FROM runs r";

impl Store {
    /// Create or (with `replace`) update a corpus: items are matched by key, items missing from
    /// `items` are removed. One transaction.
    pub async fn save_corpus(
        &self,
        name: &str,
        version: i32,
        description: Option<&str>,
        checks: &Value,
        items: &[CorpusItemData],
        replace: bool,
    ) -> Result<SavedCorpus, StoreError> {
        let mut tx = self.pool.begin().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM corpora WHERE name = $1 FOR UPDATE")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if existing.is_some() && !replace {
            return Ok(SavedCorpus::Exists);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO corpora (name, format_version, description, checks) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET format_version = EXCLUDED.format_version,
                 description = EXCLUDED.description, checks = EXCLUDED.checks, updated_at = now()
             RETURNING id",
        )
        .bind(name)
        .bind(version)
        .bind(description)
        .bind(scrub_nul(checks.clone()))
        .fetch_one(&mut *tx)
        .await?;
        let (mut added, mut updated) = (0, 0);
        for (position, item) in items.iter().enumerate() {
            let inserted: Option<bool> = sqlx::query_scalar(
                "INSERT INTO corpus_items AS c (corpus_id, key, position, path, request, expected, baseline, checks, tags)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (corpus_id, key) DO UPDATE SET position = EXCLUDED.position, path = EXCLUDED.path,
                     request = EXCLUDED.request, expected = EXCLUDED.expected, baseline = EXCLUDED.baseline,
                     checks = EXCLUDED.checks, tags = EXCLUDED.tags
                 WHERE (c.position, c.path, c.request, c.expected, c.baseline, c.checks, c.tags)
                     IS DISTINCT FROM (EXCLUDED.position, EXCLUDED.path, EXCLUDED.request, EXCLUDED.expected,
                                       EXCLUDED.baseline, EXCLUDED.checks, EXCLUDED.tags)
                 RETURNING (xmax = 0)",
            )
            .bind(id)
            .bind(&item.key)
            .bind(position as i32)
            .bind(&item.path)
            .bind(scrub_nul(item.request.clone()))
            .bind(item.expected.clone().map(scrub_nul))
            .bind(item.baseline.clone())
            .bind(scrub_nul(item.checks.clone()))
            .bind(scrub_nul(item.tags.clone()))
            .fetch_optional(&mut *tx)
            .await?;
            match inserted {
                Some(true) => added += 1,
                Some(false) => updated += 1,
                None => {}
            }
        }
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        let removed =
            sqlx::query("DELETE FROM corpus_items WHERE corpus_id = $1 AND NOT (key = ANY($2))")
                .bind(id)
                .bind(&keys)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(SavedCorpus::Saved {
            id,
            added,
            updated,
            unchanged: items.len() as u64 - added - updated,
            removed,
        })
    }

    /// Every corpus, by name.
    pub async fn corpora(&self) -> Result<Vec<CorpusRow>, StoreError> {
        Ok(sqlx::query_as::<_, CorpusRow>(
            "SELECT c.id, c.name, c.format_version, c.description, c.checks, c.updated_at,
                    (SELECT count(*) FROM corpus_items i WHERE i.corpus_id = c.id) AS items
             FROM corpora c ORDER BY c.name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// One corpus by name.
    pub async fn corpus(&self, name: &str) -> Result<Option<CorpusRow>, StoreError> {
        Ok(self.corpora().await?.into_iter().find(|c| c.name == name))
    }

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

    /// Captured (not replayed-from-corpus) exchanges that can be replayed, newest first, at most
    /// `f.limit`: (id, route, model) — sampling happens before the bodies are read.
    pub async fn export_index(
        &self,
        f: &ExportFilter,
    ) -> Result<Vec<(Uuid, String, Option<String>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT e.id, split_part(e.path, '?', 1), e.model
             FROM exchanges e
             WHERE e.run_id IS NULL AND e.method = 'POST' AND e.status BETWEEN 200 AND 299
               AND e.request_is_json AND e.response_is_json AND NOT e.request_truncated AND NOT e.response_truncated
               AND ($1::timestamptz IS NULL OR e.captured_at >= $1)
               AND ($2::timestamptz IS NULL OR e.captured_at < $2)
               AND ($3::text IS NULL OR split_part(e.path, '?', 1) = $3)
               AND ($4::text IS NULL OR e.model = $4)
               AND e.tags @> $5
               AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM diffs d WHERE d.exchange_id = e.id AND d.verdict = $6
                                                AND ($7::text IS NULL OR d.candidate = $7)))
             ORDER BY e.captured_at DESC, e.id DESC LIMIT $8",
        )
        .bind(f.since)
        .bind(f.until)
        .bind(&f.route)
        .bind(&f.model)
        .bind(if f.tags.is_object() { f.tags.clone() } else { Value::Object(Default::default()) })
        .bind(&f.verdict)
        .bind(&f.candidate)
        .bind(f.limit.max(1))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The exchanges with these ids, oldest first.
    pub async fn export_rows(&self, ids: &[Uuid]) -> Result<Vec<ExportRow>, StoreError> {
        Ok(sqlx::query_as::<_, ExportRow>(
            "SELECT id, captured_at, path, model, tags, request_body, response_body, latency_ms
             FROM exchanges WHERE id = ANY($1) ORDER BY captured_at, id",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?)
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
