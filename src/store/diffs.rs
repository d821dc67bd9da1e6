//! `diffs`: the differ's verdict for each replay, triage, and the queries the UI lists them with.

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
    pub semantic_similarity: Option<f64>,
    /// The first (most severe) finding in words, if any.
    pub first_finding: Option<String>,
    pub first_kind: Option<String>,
    pub triage_state: Option<String>,
    pub path: String,
    pub model: Option<String>,
}

/// How the list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffSort {
    /// Newest first (keyset on id).
    #[default]
    Newest,
    /// Highest divergence score first (keyset on score, id).
    Score,
}

/// Filters for the diff list. Keyset pagination: `before` is the last row's id (and score when
/// sorting by score).
#[derive(Debug, Clone, Default)]
pub struct DiffFilter {
    pub candidate: Option<String>,
    pub verdict: Option<Verdict>,
    pub finding_kind: Option<String>,
    pub route: Option<String>,
    pub model: Option<String>,
    pub team: Option<String>,
    pub feature: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub min_score: Option<f64>,
    /// `untriaged`, `confirmed`, `acceptable` or `noise`.
    pub triage: Option<String>,
    /// Only items of this corpus run.
    pub run: Option<i64>,
    pub sort: DiffSort,
    pub before: Option<(i64, Option<f64>)>,
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
    pub semantic_similarity: Option<f64>,
    pub noise_semantic: Option<f64>,
    pub findings: Value,
    pub created_at: DateTime<Utc>,
    pub triage_state: Option<String>,
    pub triage_note: Option<String>,
    pub exchange: ExchangeRow,
    pub replay: ReplayRow,
    /// The control replay of the same exchange, if one was made.
    pub control: Option<ReplayRow>,
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
    semantic_similarity: Option<f64>,
    noise_semantic: Option<f64>,
    findings: Value,
    created_at: DateTime<Utc>,
    triage_state: Option<String>,
    triage_note: Option<String>,
}

/// Triage states a reviewer can set.
pub const TRIAGE_STATES: [&str; 3] = ["confirmed", "acceptable", "noise"];

/// Whether the filter looks at exchange columns (otherwise counting needs no join).
fn needs_exchange(f: &DiffFilter) -> bool {
    f.route.is_some()
        || f.model.is_some()
        || f.team.is_some()
        || f.feature.is_some()
        || f.run.is_some()
}

/// `FROM …` for queries that only need the filter: the join only when exchange columns are filtered.
fn filtered_from(f: &DiffFilter) -> &'static str {
    if needs_exchange(f) {
        " FROM diffs d JOIN exchanges e ON e.id = d.exchange_id WHERE true"
    } else {
        " FROM diffs d WHERE true"
    }
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, f: &DiffFilter) {
    if let Some(c) = &f.candidate {
        q.push(" AND d.candidate = ").push_bind(c.clone());
    }
    if let Some(v) = f.verdict {
        q.push(" AND d.verdict = ").push_bind(v.as_str());
    }
    if let Some(k) = &f.finding_kind {
        // `finding_kinds`: generated from `findings`, GIN-indexed (migration 0009).
        q.push(" AND d.finding_kinds @> ARRAY[")
            .push_bind(k.clone())
            .push("]::text[]");
    }
    if let Some(r) = &f.route {
        q.push(" AND e.path = ").push_bind(r.clone());
    }
    if let Some(m) = &f.model {
        q.push(" AND e.model = ").push_bind(m.clone());
    }
    if let Some(t) = &f.team {
        q.push(" AND e.tags ->> 'team' = ").push_bind(t.clone());
    }
    if let Some(t) = &f.feature {
        q.push(" AND e.tags ->> 'feature' = ").push_bind(t.clone());
    }
    if let Some(s) = f.since {
        q.push(" AND d.created_at >= ").push_bind(s);
    }
    if let Some(u) = f.until {
        q.push(" AND d.created_at < ").push_bind(u);
    }
    if let Some(m) = f.min_score {
        q.push(" AND d.score >= ").push_bind(m);
    }
    if let Some(run) = f.run {
        q.push(" AND e.run_id = ").push_bind(run);
    }
    match f.triage.as_deref() {
        Some("untriaged") => {
            q.push(" AND d.triage_state IS NULL");
        }
        Some(state) => {
            q.push(" AND d.triage_state = ").push_bind(state.to_owned());
        }
        None => {}
    }
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
                                semantic_similarity, noise_semantic, first_kind)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
        .bind(outcome.findings.first().map(|f| f.kind.as_str()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replace the verdict of a stored diff (re-scoring after thresholds or rules changed).
    pub async fn update_diff(&self, id: i64, outcome: &DiffOutcome) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE diffs SET verdict = $2, score = $3, text_similarity = $4, findings = $5,
                semantic_similarity = $6, noise_semantic = $7, first_kind = $8 WHERE id = $1",
        )
        .bind(id)
        .bind(outcome.verdict.as_str())
        .bind(outcome.score)
        .bind(outcome.text_similarity)
        .bind(scrub_nul(
            serde_json::to_value(&outcome.findings).unwrap_or_default(),
        ))
        .bind(outcome.semantic_similarity)
        .bind(outcome.noise_semantic)
        .bind(outcome.findings.first().map(|f| f.kind.as_str()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Diffs, filtered and sorted, one page.
    pub async fn list_diffs(&self, f: &DiffFilter) -> Result<Vec<DiffListRow>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT d.id, d.created_at, d.exchange_id, d.candidate, d.verdict, d.score, d.text_similarity,
                    d.semantic_similarity, d.findings -> 0 ->> 'message' AS first_finding, d.first_kind,
                    d.triage_state, e.path, e.model
             FROM diffs d JOIN exchanges e ON e.id = d.exchange_id WHERE true",
        );
        push_filters(&mut q, f);
        match (f.sort, f.before) {
            (DiffSort::Newest, Some((id, _))) => {
                q.push(" AND d.id < ").push_bind(id);
            }
            (DiffSort::Score, Some((id, Some(score)))) => {
                q.push(" AND (d.score, d.id) < (")
                    .push_bind(score)
                    .push(", ")
                    .push_bind(id)
                    .push(")");
            }
            _ => {}
        }
        q.push(match f.sort {
            DiffSort::Newest => " ORDER BY d.id DESC LIMIT ",
            DiffSort::Score => " ORDER BY d.score DESC, d.id DESC LIMIT ",
        })
        .push_bind(f.limit.clamp(1, 500));
        Ok(q.build_query_as::<DiffListRow>()
            .fetch_all(&self.pool)
            .await?)
    }

    /// How many diffs match the filter, counted up to `cap` (so huge tables stay fast).
    pub async fn count_matching(&self, f: &DiffFilter, cap: i64) -> Result<i64, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("SELECT count(*) FROM (SELECT 1");
        q.push(filtered_from(f));
        push_filters(&mut q, f);
        q.push(" LIMIT ").push_bind(cap).push(") capped");
        Ok(q.build_query_scalar().fetch_one(&self.pool).await?)
    }

    /// Ids of up to `limit` diffs matching the filter (for bulk triage).
    pub async fn matching_ids(&self, f: &DiffFilter, limit: i64) -> Result<Vec<i64>, StoreError> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new("SELECT d.id");
        q.push(filtered_from(f));
        push_filters(&mut q, f);
        q.push(" ORDER BY d.id DESC LIMIT ").push_bind(limit);
        Ok(q.build_query_scalar().fetch_all(&self.pool).await?)
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

    /// Diff ids greater than `after`, ascending (for batch jobs such as rescoring).
    pub async fn diff_ids_after(
        &self,
        after: i64,
        candidate: Option<&str>,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM diffs WHERE id > $1 AND ($2::text IS NULL OR candidate = $2) ORDER BY id LIMIT $3",
        )
        .bind(after)
        .bind(candidate)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Number of diffs in total.
    pub async fn count_diffs(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM diffs")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Set (or clear, with `None`) the triage state of diffs. Returns how many changed.
    pub async fn triage(
        &self,
        ids: &[i64],
        state: Option<&str>,
        note: Option<&str>,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE diffs SET triage_state = $2, triage_note = $3, triaged_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END
             WHERE id = ANY($1)",
        )
        .bind(ids)
        .bind(state)
        .bind(note.map(|n| n.replace('\0', "")))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// One diff with its exchange, replay and the control replay.
    pub async fn diff_detail(&self, id: i64) -> Result<Option<DiffDetail>, StoreError> {
        let Some(d) = sqlx::query_as::<_, DiffRow>(
            "SELECT id, replay_id, exchange_id, candidate, verdict, score, text_similarity, semantic_similarity,
                    noise_semantic, findings, created_at, triage_state, triage_note
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
        let replays = self.replays_of(d.exchange_id).await?;
        let control = replays
            .iter()
            .find(|r| r.candidate == "control" && r.id != d.replay_id)
            .cloned();
        let Some(replay) = replays.into_iter().find(|r| r.id == d.replay_id) else {
            return Ok(None);
        };
        Ok(Some(DiffDetail {
            id: d.id,
            candidate: d.candidate,
            verdict: d.verdict,
            score: d.score,
            text_similarity: d.text_similarity,
            semantic_similarity: d.semantic_similarity,
            noise_semantic: d.noise_semantic,
            findings: d.findings,
            created_at: d.created_at,
            triage_state: d.triage_state,
            triage_note: d.triage_note,
            exchange,
            replay,
            control,
        }))
    }
}
