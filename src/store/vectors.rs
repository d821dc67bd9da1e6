//! Lookups for the vector index: the diff id of a replay (the index keys regressions by diff id)
//! and which indexed diffs still exist (the index is a cache; the database is the truth).

use uuid::Uuid;

use super::{Store, StoreError};

impl Store {
    /// The id of the diff stored for replay `replay_id`, if any.
    pub async fn diff_id_of_replay(&self, replay_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM diffs WHERE replay_id = $1")
                .bind(replay_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Of the `(diff id, exchange id)` pairs the index returned, the diff ids that exist in this
    /// database with that exchange, with their current verdict and triage state.
    pub async fn indexed_diffs(
        &self,
        pairs: &[(i64, Uuid)],
    ) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let exchanges: Vec<Uuid> = pairs.iter().map(|p| p.1).collect();
        Ok(sqlx::query_as(
            "SELECT d.id, d.verdict, d.triage_state
               FROM diffs d
               JOIN unnest($1::bigint[], $2::uuid[]) AS p(id, exchange_id)
                 ON d.id = p.id AND d.exchange_id = p.exchange_id",
        )
        .bind(&ids)
        .bind(&exchanges)
        .fetch_all(self.pool())
        .await?)
    }
}
