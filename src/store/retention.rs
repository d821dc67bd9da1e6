//! Retention: captured request and response bodies expire after a TTL; verdicts, scores, findings
//! and the daily aggregates are kept.

use std::time::Duration;

use super::{Store, StoreError};

/// Rows handled per statement (keeps locks short on big tables).
const BATCH: i64 = 5_000;

impl Store {
    /// Remove bodies captured more than `ttl` ago. Returns how many exchanges were expired.
    pub async fn expire_bodies(&self, ttl: Duration) -> Result<u64, StoreError> {
        let cutoff =
            chrono::Utc::now() - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let mut total = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
                "SELECT id FROM exchanges WHERE NOT bodies_expired AND captured_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(cutoff)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
            if ids.is_empty() {
                tx.commit().await?;
                return Ok(total);
            }
            sqlx::query(
                "UPDATE exchanges SET request_body = NULL, response_body = NULL, request_headers = '{}'::jsonb,
                        bodies_expired = true WHERE id = ANY($1)",
            )
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE replays SET request_body = NULL, response_body = NULL, bodies_expired = true
                 WHERE exchange_id = ANY($1)",
            )
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            total += ids.len() as u64;
        }
    }
}
