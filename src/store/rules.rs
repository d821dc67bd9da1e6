//! `triage_rules`: reviewer decisions the differ applies to future diffs.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Store, StoreError};

/// A stored rule.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct RuleRow {
    pub id: i64,
    pub action: String,
    pub finding_kind: Option<String>,
    pub path: Option<String>,
    pub route: Option<String>,
    pub candidate: Option<String>,
    pub note: Option<String>,
    pub created_from: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A rule to create.
#[derive(Debug, Clone, Default)]
pub struct NewRule {
    pub action: String,
    pub finding_kind: Option<String>,
    pub path: Option<String>,
    pub route: Option<String>,
    pub candidate: Option<String>,
    pub note: Option<String>,
    pub created_from: Option<i64>,
}

impl Store {
    /// Every rule, newest first.
    pub async fn rules(&self) -> Result<Vec<RuleRow>, StoreError> {
        Ok(sqlx::query_as::<_, RuleRow>(
            "SELECT id, action, finding_kind, path, route, candidate, note, created_from, created_at
             FROM triage_rules ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Create a rule; returns its id.
    pub async fn insert_rule(&self, r: &NewRule) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO triage_rules (action, finding_kind, path, route, candidate, note, created_from)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&r.action)
        .bind(&r.finding_kind)
        .bind(&r.path)
        .bind(&r.route)
        .bind(&r.candidate)
        .bind(&r.note)
        .bind(r.created_from)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Delete a rule. Returns whether it existed.
    pub async fn delete_rule(&self, id: i64) -> Result<bool, StoreError> {
        Ok(sqlx::query("DELETE FROM triage_rules WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }
}
