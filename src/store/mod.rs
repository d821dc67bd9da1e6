//! PostgreSQL via sqlx: connection, migrations, and one file per table family.
//!
//! Every write is idempotent (keyed by exchange id, or exchange id + candidate), so a redelivered
//! capture never duplicates rows. Errors are split into [`StoreError::Unavailable`] (retry later:
//! the worker does not acknowledge) and [`StoreError::Rejected`] (the data itself is bad: dead letter).

mod corpus;
mod dead_letters;
mod diffs;
mod exchanges;
mod replays;
mod retention;
mod rules;
mod runs;
mod stats;
mod vectors;

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::domain::{BodyContent, CapturedBody};

pub use corpus::{CorpusItemData, CorpusRow, ExportFilter, ExportRow, SavedCorpus};
pub use dead_letters::DeadLetterRow;
pub use diffs::{DiffDetail, DiffFilter, DiffListRow, DiffSort, VerdictCount, TRIAGE_STATES};
pub use exchanges::ExchangeRow;
pub use replays::{ReplayRow, StoredReplay};
pub use rules::{NewRule, RuleRow};
pub use runs::{PendingItem, RunItemRow, RunRow};
pub use stats::{Count, DailyVerdicts, InventoryRow, PerformanceSample};

/// Embedded migrations from `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded: try again later.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The database refused the data or the query: retrying will not help.
    #[error("database rejected the operation: {0}")]
    Rejected(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let transient = match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // 08 connection, 53 resources, 57P0x shutdown/crash, 40 serialization/deadlock
                ["08", "53", "57P", "40"]
                    .iter()
                    .any(|p| code.starts_with(p))
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => true,
            _ => false,
        };
        if transient {
            Self::Unavailable(e)
        } else {
            Self::Rejected(e)
        }
    }
}

/// The database, shared by every stage.
#[derive(Clone)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    /// Connect (failing within `timeout` if the server is unreachable).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(StoreError::Rejected)?
            .log_statements(tracing::log::LevelFilter::Trace);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Apply pending migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The connection pool, for tests and tools.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Create the database named in `url` if it does not exist (used by the demo).
pub async fn ensure_database(url: &str, timeout: Duration) -> Result<(), StoreError> {
    let target = PgConnectOptions::from_str(url).map_err(StoreError::Rejected)?;
    let Some(name) = target.get_database().map(str::to_owned) else {
        return Ok(());
    };
    let admin = target.clone().database("postgres");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(timeout)
        .connect_with(admin)
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&pool)
            .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&pool)
            .await
        {
            // Another process may have created it meanwhile.
            let raced =
                matches!(&e, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P04"));
            if !raced {
                return Err(e.into());
            }
        }
    }
    pool.close().await;
    Ok(())
}

/// A body as stored: (jsonb value, is_json). Text bodies are stored as a JSON string.
pub(crate) fn body_to_db(body: &BodyContent) -> (Option<Value>, bool) {
    match body {
        BodyContent::Empty => (None, false),
        BodyContent::Json(v) => (Some(scrub_nul(v.clone())), true),
        BodyContent::Text(t) => (Some(Value::String(t.replace('\0', "\u{FFFD}"))), false),
    }
}

/// The inverse of [`body_to_db`].
pub(crate) fn body_from_db(
    value: Option<Value>,
    is_json: bool,
    truncated: bool,
    size: i64,
) -> CapturedBody {
    let content = match (value, is_json) {
        (None, _) => BodyContent::Empty,
        (Some(v), true) => BodyContent::Json(v),
        (Some(Value::String(s)), false) => BodyContent::Text(s),
        (Some(v), false) => BodyContent::Text(v.to_string()),
    };
    CapturedBody {
        content,
        truncated,
        size: size.max(0) as u64,
    }
}

/// PostgreSQL's jsonb cannot hold U+0000; replace it (in keys and strings) with U+FFFD.
pub(crate) fn scrub_nul(v: Value) -> Value {
    match v {
        Value::String(s) if s.contains('\0') => Value::String(s.replace('\0', "\u{FFFD}")),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.replace('\0', "\u{FFFD}"), scrub_nul(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_round_trip_through_columns() {
        for body in [
            BodyContent::Empty,
            BodyContent::Json(json!({"a": [1, "b"]})),
            BodyContent::Json(json!("a json string")),
            BodyContent::Text("{not json".into()),
        ] {
            let (v, is_json) = body_to_db(&body);
            assert_eq!(body_from_db(v, is_json, false, 0).content, body);
        }
    }

    #[test]
    fn nul_is_scrubbed_everywhere() {
        let v = scrub_nul(json!({"a\u{0}": ["x\u{0}y"]}));
        assert_eq!(v, json!({"a\u{FFFD}": ["x\u{FFFD}y"]}));
    }
}
