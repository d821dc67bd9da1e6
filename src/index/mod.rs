//! The vector index: embeddings of regressed candidate answers and of prompts, in Qdrant.
//!
//! Two backends behind one [`VectorIndex`]: [`EmbeddedIndex`] runs the Qdrant engine in-process
//! (qdrant-edge, persisted under a folder: the single-node default) and [`QdrantIndex`] talks gRPC
//! to a Qdrant server (several processes share it). Both hold two collections ([`Collection`]):
//! `regressions` (one point per regression/minor diff, id = diff id) and `prompts` (one point per
//! replayed exchange, id = exchange id), each payload carrying `ts_ms` (integer-indexed) so the
//! most recent points can be read back in order.
//!
//! The index is a derived cache of the database: losing it loses similar-regression links,
//! clusters and drift history, never diffs. Readers check hits against the database.
//! The pure analyses over its vectors (clusters, drift) live in [`analysis`].

pub mod analysis;
mod embedded;
pub mod points;
mod queries;
mod remote;
pub mod upkeep;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use embedded::EmbeddedIndex;
pub use remote::QdrantIndex;

use crate::config::{EnvLookup, IndexBackend, IndexConfig};

/// Dimensions of the vectors (all-MiniLM-L6-v2).
pub const DIMENSIONS: usize = 384;

/// Payload key of the point's time (milliseconds since the epoch); integer-indexed.
pub const TS_KEY: &str = "ts_ms";

/// `index` in the cache folder (`SHADOWTAP_CACHE`, default ~/.cache/shadowtap), where the
/// embedded index lives unless `index.dir` says otherwise.
pub fn default_dir() -> std::path::PathBuf {
    let cache = match std::env::var_os("SHADOWTAP_CACHE") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::Path::new(&std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
            .join(".cache/shadowtap"),
    };
    cache.join("index")
}

/// The two collections of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Collection {
    /// Candidate answers of diffs with verdict regression or minor.
    Regressions,
    /// Prompts (last user message) of replayed exchanges.
    Prompts,
}

impl Collection {
    pub const ALL: [Collection; 2] = [Collection::Regressions, Collection::Prompts];

    /// Name used in folders, collection names and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Regressions => "regressions",
            Collection::Prompts => "prompts",
        }
    }

    /// Payload fields that get a keyword index (filters on them are frequent).
    fn keyword_fields(self) -> &'static [&'static str] {
        match self {
            Collection::Regressions => &["candidate", "route"],
            Collection::Prompts => &["route"],
        }
    }
}

/// A point's id: diffs are numbered, exchanges are UUIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PointId {
    Num(u64),
    Uuid(Uuid),
}

impl std::fmt::Display for PointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Uuid(u) => write!(f, "{u}"),
        }
    }
}

/// A point to store.
#[derive(Debug, Clone)]
pub struct IndexPoint {
    pub id: PointId,
    /// L2-normalised, [`DIMENSIONS`] long.
    pub vector: Vec<f32>,
    /// A JSON object; must contain [`TS_KEY`].
    pub payload: Map<String, Value>,
}

/// A search result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: PointId,
    /// Cosine similarity to the query.
    pub score: f32,
    pub payload: Map<String, Value>,
}

/// A stored point read back with its vector.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: PointId,
    pub vector: Vec<f32>,
    pub payload: Map<String, Value>,
}

impl Hit {
    /// The payload as a typed struct (None when it does not fit).
    pub fn payload_as<T: for<'de> Deserialize<'de>>(&self) -> Option<T> {
        serde_json::from_value(Value::Object(self.payload.clone())).ok()
    }
}

impl Record {
    /// The payload as a typed struct (None when it does not fit).
    pub fn payload_as<T: for<'de> Deserialize<'de>>(&self) -> Option<T> {
        serde_json::from_value(Value::Object(self.payload.clone())).ok()
    }
}

/// A conjunction of payload conditions (the subset of Qdrant filters shadowtap needs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub must: Vec<Condition>,
}

/// One payload condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The keyword field `key` equals `value`.
    Equals { key: String, value: String },
    /// The integer field `key` is within `gte..lt` (either bound optional).
    Range {
        key: String,
        gte: Option<i64>,
        lt: Option<i64>,
    },
}

impl Filter {
    /// Add `key == value`.
    pub fn eq(mut self, key: &str, value: &str) -> Self {
        self.must.push(Condition::Equals {
            key: key.to_owned(),
            value: value.to_owned(),
        });
        self
    }

    /// Add `gte <= ts_ms < lt`.
    pub fn time(mut self, gte: Option<i64>, lt: Option<i64>) -> Self {
        self.must.push(Condition::Range {
            key: TS_KEY.to_owned(),
            gte,
            lt,
        });
        self
    }

    /// The filter in Qdrant's JSON filter syntax (as the REST API and qdrant-edge read it).
    pub fn to_qdrant_json(&self) -> Value {
        let must: Vec<Value> = self
            .must
            .iter()
            .map(|c| match c {
                Condition::Equals { key, value } => {
                    serde_json::json!({"key": key, "match": {"value": value}})
                }
                Condition::Range { key, gte, lt } => {
                    let mut range = Map::new();
                    if let Some(g) = gte {
                        range.insert("gte".into(), (*g).into());
                    }
                    if let Some(l) = lt {
                        range.insert("lt".into(), (*l).into());
                    }
                    serde_json::json!({"key": key, "range": range})
                }
            })
            .collect();
        serde_json::json!({ "must": must })
    }
}

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Opening or configuring the index failed; the message says what to change.
    #[error("{0}")]
    Setup(String),
    /// The embedded index's folder is open in another process.
    #[error("{0}")]
    Locked(String),
    /// The engine or server refused or failed an operation.
    #[error("vector index {op} failed: {message}")]
    Operation { op: &'static str, message: String },
}

impl IndexError {
    fn op(op: &'static str, e: impl std::fmt::Display) -> Self {
        IndexError::Operation {
            op,
            message: e.to_string(),
        }
    }
}

/// Where the vectors are.
#[derive(Clone)]
pub enum Backend {
    Embedded(EmbeddedIndex),
    Qdrant(QdrantIndex),
}

/// The vector index, whichever backend holds it, with its `[index]` settings. Cheap to clone.
#[derive(Clone)]
pub struct VectorIndex {
    backend: Backend,
    config: Arc<IndexConfig>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend_name())
    }
}

impl VectorIndex {
    /// An index over `backend` with `config`'s settings (top-k, clustering, drift).
    pub fn new(backend: Backend, config: IndexConfig) -> Self {
        Self {
            backend,
            config: Arc::new(config),
        }
    }

    /// Open the configured backend (`None` when `index.backend = "off"`).
    pub async fn open(
        config: &IndexConfig,
        env: &dyn EnvLookup,
    ) -> Result<Option<Self>, IndexError> {
        let backend = match config.backend {
            IndexBackend::Off => return Ok(None),
            IndexBackend::Embedded => {
                let dir = config.dir.clone().unwrap_or_else(default_dir);
                Backend::Embedded(EmbeddedIndex::open(dir).await?)
            }
            IndexBackend::Qdrant => {
                let api_key = match &config.api_key_env {
                    None => None,
                    Some(var) => Some(env.get(var).filter(|v| !v.is_empty()).ok_or_else(|| {
                        IndexError::Setup(format!(
                            "index.api_key_env names {var}, which is not set: export the Qdrant API key, \
                             or remove api_key_env if the server needs none"
                        ))
                    })?),
                };
                Backend::Qdrant(
                    QdrantIndex::connect(&config.url, api_key, &config.collection_prefix).await?,
                )
            }
        };
        Ok(Some(Self::new(backend, config.clone())))
    }

    /// The `[index]` settings.
    pub fn config(&self) -> &IndexConfig {
        &self.config
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// `embedded` or `qdrant`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Embedded(_) => "embedded",
            Backend::Qdrant(_) => "qdrant",
        }
    }

    /// Insert or replace points (same id = same point).
    pub async fn upsert(
        &self,
        collection: Collection,
        points: Vec<IndexPoint>,
    ) -> Result<(), IndexError> {
        if points.is_empty() {
            return Ok(());
        }
        if let Some(p) = points.iter().find(|p| p.vector.len() != DIMENSIONS) {
            return Err(IndexError::op(
                "upsert",
                format!(
                    "point {} has {} dimensions, not {DIMENSIONS}",
                    p.id,
                    p.vector.len()
                ),
            ));
        }
        match &self.backend {
            Backend::Embedded(i) => i.upsert(collection, points).await,
            Backend::Qdrant(i) => i.upsert(collection, points).await,
        }
    }

    /// The `k` points nearest to `vector` (cosine), best first.
    pub async fn search(
        &self,
        collection: Collection,
        vector: &[f32],
        k: usize,
        filter: Option<Filter>,
    ) -> Result<Vec<Hit>, IndexError> {
        let mut hits = match &self.backend {
            Backend::Embedded(i) => i.search(collection, vector.to_vec(), k, filter).await,
            Backend::Qdrant(i) => i.search(collection, vector.to_vec(), k, filter).await,
        }?;
        // Rounding can put a cosine a hair above 1.
        hits.iter_mut()
            .for_each(|h| h.score = h.score.clamp(-1.0, 1.0));
        Ok(hits)
    }

    /// One point with its vector.
    pub async fn get(
        &self,
        collection: Collection,
        id: PointId,
    ) -> Result<Option<Record>, IndexError> {
        match &self.backend {
            Backend::Embedded(i) => i.get(collection, id).await,
            Backend::Qdrant(i) => i.get(collection, id).await,
        }
    }

    /// Up to `limit` points matching `filter`, most recent (`ts_ms`) first, with their vectors.
    pub async fn recent(
        &self,
        collection: Collection,
        filter: Option<Filter>,
        limit: usize,
    ) -> Result<Vec<Record>, IndexError> {
        match &self.backend {
            Backend::Embedded(i) => i.recent(collection, filter, limit).await,
            Backend::Qdrant(i) => i.recent(collection, filter, limit).await,
        }
    }

    /// Number of points matching `filter` (exact).
    pub async fn count(
        &self,
        collection: Collection,
        filter: Option<Filter>,
    ) -> Result<usize, IndexError> {
        match &self.backend {
            Backend::Embedded(i) => i.count(collection, filter).await,
            Backend::Qdrant(i) => i.count(collection, filter).await,
        }
    }

    /// Remove the points of `collection` written before `before_ms` (retention).
    pub async fn delete_before(
        &self,
        collection: Collection,
        before_ms: i64,
    ) -> Result<(), IndexError> {
        let filter = Filter::default().time(None, Some(before_ms));
        match &self.backend {
            Backend::Embedded(i) => i.delete(collection, filter).await,
            Backend::Qdrant(i) => i.delete(collection, filter).await,
        }
    }

    /// Apply the retention windows at `now_ms`: prompts older than the drift windows (recent +
    /// baseline) and regressions older than `index.regression_days` are removed.
    pub async fn expire(&self, now_ms: i64) -> Result<(), IndexError> {
        let drift = &self.config.drift;
        let prompts_ms = ((drift.recent_secs + drift.baseline_secs) * 1000.0) as i64;
        self.delete_before(Collection::Prompts, now_ms - prompts_ms)
            .await?;
        if self.config.regression_days > 0.0 {
            let regressions_ms = (self.config.regression_days * 86_400_000.0) as i64;
            self.delete_before(Collection::Regressions, now_ms - regressions_ms)
                .await?;
        }
        Ok(())
    }

    /// Make everything written so far durable (the embedded index persists on flush; a Qdrant
    /// server persists on its own, so this is a no-op there).
    pub async fn flush(&self) -> Result<(), IndexError> {
        match &self.backend {
            Backend::Embedded(i) => i.flush().await,
            Backend::Qdrant(_) => Ok(()),
        }
    }

    /// Periodic upkeep: flush what changed and, for the embedded index, build the HNSW graph of
    /// collections that grew.
    pub async fn maintain(&self) -> Result<(), IndexError> {
        match &self.backend {
            Backend::Embedded(i) => i.maintain().await,
            Backend::Qdrant(_) => Ok(()),
        }
    }
}

/// Payload of a point in `regressions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionPayload {
    pub diff_id: i64,
    pub exchange_id: Uuid,
    pub candidate: String,
    pub verdict: String,
    pub route: String,
    pub model: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub finding_kinds: Vec<String>,
    /// The answer's first characters, for display.
    #[serde(default)]
    pub excerpt: String,
    pub ts_ms: i64,
}

/// Payload of a point in `prompts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptPayload {
    pub exchange_id: Uuid,
    pub route: String,
    pub model: String,
    /// RFC 3339.
    pub captured_at: String,
    pub prompt_tokens: u32,
    pub ts_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_render_as_qdrant_json() {
        let f = Filter::default()
            .eq("candidate", "groq")
            .time(Some(10), None);
        assert_eq!(
            f.to_qdrant_json(),
            serde_json::json!({"must": [
                {"key": "candidate", "match": {"value": "groq"}},
                {"key": "ts_ms", "range": {"gte": 10}}
            ]})
        );
    }

    #[test]
    fn point_ids_print_and_payloads_round_trip() {
        assert_eq!(PointId::Num(7).to_string(), "7");
        let p = PromptPayload {
            exchange_id: Uuid::nil(),
            route: "/v1/chat/completions".into(),
            model: "m".into(),
            captured_at: "2024-01-01T00:00:00Z".into(),
            prompt_tokens: 12,
            ts_ms: 1,
        };
        let Value::Object(map) = serde_json::to_value(&p).unwrap() else {
            panic!("object")
        };
        let hit = Hit {
            id: PointId::Uuid(Uuid::nil()),
            score: 1.0,
            payload: map,
        };
        assert_eq!(hit.payload_as::<PromptPayload>(), Some(p));
    }
}
