//! `dead_letters`: bus messages that could not be processed, with the reason. Never retried.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// Most of a poison message kept for inspection.
const MAX_PAYLOAD: usize = 64 * 1024;

/// A dead letter for display.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetterRow {
    pub id: i64,
    pub origin: String,
    pub message_key: Option<String>,
    pub payload: String,
    pub reason: String,
    pub received_at: DateTime<Utc>,
}

impl Store {
    /// Record a message that cannot be processed. A redelivered copy of one already parked (same
    /// origin, payload and reason: e.g. the bad exchange of a batch whose record was redelivered
    /// because a neighbour was unfinished at shutdown) is not parked twice. Returns whether a row
    /// was added.
    pub async fn insert_dead_letter(
        &self,
        origin: &str,
        key: Option<&str>,
        payload: &[u8],
        reason: &str,
    ) -> Result<bool, StoreError> {
        let cut = &payload[..payload.len().min(MAX_PAYLOAD)];
        let text = String::from_utf8_lossy(cut).replace('\0', "\u{FFFD}");
        let added = sqlx::query(
            "INSERT INTO dead_letters (origin, message_key, payload, reason)
             SELECT $1, $2, $3, $4
             WHERE NOT EXISTS (SELECT 1 FROM dead_letters WHERE origin = $1 AND payload = $3 AND reason = $4)",
        )
        .bind(origin)
        .bind(key.map(|k| k.replace('\0', "")))
        .bind(text)
        .bind(reason.replace('\0', ""))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(added > 0)
    }

    /// The most recent dead letters.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetterRow>, StoreError> {
        Ok(sqlx::query_as::<_, DeadLetterRow>(
            "SELECT id, origin, message_key, payload, reason, received_at
             FROM dead_letters ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
