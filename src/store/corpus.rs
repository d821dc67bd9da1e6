//! `corpora`, `corpus_items`: named corpora of requests (see `runs.rs` for their replays), and the
//! export query over captured traffic.

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
}
