//! The embedded backend: the Qdrant engine in-process (qdrant-edge 0.7), one shard per collection
//! under `<dir>/<collection>`, locked against a second process by `<dir>/.lock`.
//!
//! qdrant-edge is synchronous, so every call runs on `spawn_blocking`. What 0.7 does not do for us:
//! - **Durability is the flush.** 0.7 writes a WAL but does not replay it on load, so points
//!   written after the last flush are lost on a crash. [`EmbeddedIndex::maintain`] flushes what
//!   changed every `index.flush_secs`, and shutdown flushes once more.
//! - **Flush must not race updates**: `EdgeShard::flush` takes the WAL lock with `try_lock` and
//!   panics when an update holds it. A per-shard gate serialises them: updates and optimisation
//!   share it, flush takes it alone.
//! - **Indexing is explicit**: new points land in a plain (brute-force) segment; `optimize()` builds
//!   the HNSW graph once a segment passes the indexing threshold. `maintain` runs it when the
//!   collection grew by [`OPTIMIZE_EVERY`] points.
//! - The WAL is never truncated in 0.7: it grows with every write (about 2 KB per point).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use qdrant_edge::{
    CountRequest, Distance, EdgeConfigBuilder, EdgeShard, EdgeVectorParamsBuilder, NamedQuery,
    OrderByInterface, PointId as EdgePointId, PointInsertOperations, PointOperations, PointStruct,
    QueryEnum, ScrollRequest, SearchRequest, UpdateOperation, VectorInternal, VectorStructInternal,
    WalOptions, WithPayloadInterface, WithVector, DEFAULT_VECTOR_NAME,
};
use serde_json::{json, Map, Value};

use super::{Collection, Filter, Hit, IndexError, IndexPoint, PointId, Record, DIMENSIONS, TS_KEY};

/// Points added to a collection between two optimisation passes.
pub const OPTIMIZE_EVERY: usize = 5_000;

/// WAL segment size: small, since 0.7 never truncates the WAL and never reads it back.
const WAL_SEGMENT_BYTES: usize = 8 * 1024 * 1024;

/// The Qdrant engine in-process. Cheap to clone; the folder is released when the last clone drops.
#[derive(Clone)]
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    regressions: Shard,
    prompts: Shard,
    /// Held for the index's lifetime: one process per folder.
    _lock: std::fs::File,
}

struct Shard {
    edge: EdgeShard,
    /// Updates and optimisation read-lock it; flush write-locks it (see the module docs).
    gate: RwLock<()>,
    dirty: AtomicBool,
    /// Points upserted since the last optimisation pass.
    since_optimize: AtomicUsize,
}

impl Shard {
    /// Apply an update under the gate (never during a flush) and mark the shard for the next one.
    fn apply(&self, op: UpdateOperation, what: &'static str) -> Result<(), IndexError> {
        let _gate = self.gate.read().unwrap_or_else(|e| e.into_inner());
        self.edge.update(op).map_err(|e| IndexError::op(what, e))?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // EdgeShard flushes on drop too; doing it here first keeps the order explicit.
        for shard in [&self.regressions, &self.prompts] {
            let _gate = shard.gate.write().unwrap_or_else(|e| e.into_inner());
            shard.edge.flush();
        }
    }
}

fn setup(e: impl std::fmt::Display) -> IndexError {
    IndexError::Setup(e.to_string())
}

/// The shard configuration: one unnamed 384-d cosine vector.
fn edge_config() -> qdrant_edge::EdgeConfig {
    EdgeConfigBuilder::new()
        .vector(
            DEFAULT_VECTOR_NAME,
            EdgeVectorParamsBuilder::new(DIMENSIONS, Distance::Cosine).build(),
        )
        .wal_options(WalOptions {
            segment_capacity: WAL_SEGMENT_BYTES,
            segment_queue_len: 0,
            retain_closed: NonZeroUsize::MIN,
        })
        .build()
}

/// Create or load the shard of `collection` under `dir`, with its payload indexes.
fn open_shard(dir: &Path, collection: Collection) -> Result<Shard, IndexError> {
    let path = dir.join(collection.as_str());
    let edge = if path.join("edge_config.json").exists() {
        EdgeShard::load(&path, None).map_err(|e| {
            setup(format!(
                "cannot load the vector index at {} ({e}); move the folder away to start a new index",
                path.display()
            ))
        })?
    } else {
        std::fs::create_dir_all(&path)
            .map_err(|e| setup(format!("cannot create {} ({e})", path.display())))?;
        EdgeShard::new(&path, edge_config()).map_err(|e| {
            setup(format!(
                "cannot create the vector index at {} ({e})",
                path.display()
            ))
        })?
    };
    // Payload indexes (creating an existing one is a no-op): ordered reads by time, fast filters.
    let mut fields = vec![(TS_KEY, "integer")];
    fields.extend(collection.keyword_fields().iter().map(|f| (*f, "keyword")));
    for (field, schema) in fields {
        let op: qdrant_edge::CreateIndex =
            serde_json::from_value(json!({"field_name": field, "field_schema": schema}))
                .map_err(setup)?;
        edge.update(UpdateOperation::FieldIndexOperation(
            qdrant_edge::FieldIndexOperations::CreateIndex(op),
        ))
        .map_err(|e| setup(format!("cannot index payload field {field}: {e}")))?;
    }
    Ok(Shard {
        edge,
        gate: RwLock::new(()),
        dirty: AtomicBool::new(true),
        since_optimize: AtomicUsize::new(0),
    })
}

fn to_edge_id(id: PointId) -> EdgePointId {
    match id {
        PointId::Num(n) => EdgePointId::NumId(n),
        PointId::Uuid(u) => EdgePointId::Uuid(u),
    }
}

fn from_edge_id(id: EdgePointId) -> PointId {
    match id {
        EdgePointId::NumId(n) => PointId::Num(n),
        EdgePointId::Uuid(u) => PointId::Uuid(u),
    }
}

fn edge_filter(filter: Option<Filter>) -> Result<Option<qdrant_edge::Filter>, IndexError> {
    filter
        .map(|f| serde_json::from_value(f.to_qdrant_json()))
        .transpose()
        .map_err(|e| IndexError::op("filter", e))
}

fn payload_map(payload: Option<qdrant_edge::Payload>) -> Map<String, Value> {
    payload
        .map(|p| p.0.into_iter().collect())
        .unwrap_or_default()
}

fn dense(vector: Option<VectorStructInternal>) -> Vec<f32> {
    match vector {
        Some(VectorStructInternal::Single(v)) => v,
        Some(VectorStructInternal::Named(mut named)) => match named.remove(DEFAULT_VECTOR_NAME) {
            Some(VectorInternal::Dense(v)) => v,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

impl EmbeddedIndex {
    /// Open (or create) the index in `dir`. Fails when another process has it open.
    pub async fn open(dir: PathBuf) -> Result<Self, IndexError> {
        tokio::task::spawn_blocking(move || Self::open_blocking(dir))
            .await
            .map_err(|e| setup(format!("opening the vector index panicked: {e}")))?
    }

    fn open_blocking(dir: PathBuf) -> Result<Self, IndexError> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            setup(format!(
                "cannot create the vector index folder {} ({e}); set index.dir to a writable folder",
                dir.display()
            ))
        })?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))
            .map_err(|e| setup(format!("cannot open {}/.lock ({e})", dir.display())))?;
        fs4::FileExt::try_lock(&lock).map_err(|_| {
            IndexError::Locked(format!(
                "the vector index at {} is open in another shadowtap process; give this one its own \
                 index.dir, use index.backend = \"qdrant\" to share a Qdrant server, or \"off\"",
                dir.display()
            ))
        })?;
        let regressions = open_shard(&dir, Collection::Regressions)?;
        let prompts = open_shard(&dir, Collection::Prompts)?;
        tracing::info!(dir = %dir.display(), "embedded vector index open");
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                regressions,
                prompts,
                _lock: lock,
            }),
        })
    }

    /// The index's folder.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Run `f` on the shard of `collection` on the blocking pool.
    async fn blocking<T, F>(&self, collection: Collection, f: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&Shard) -> Result<T, IndexError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let shard = match collection {
                Collection::Regressions => &inner.regressions,
                Collection::Prompts => &inner.prompts,
            };
            f(shard)
        })
        .await
        .map_err(|e| IndexError::op("task", e))?
    }

    pub(super) async fn upsert(
        &self,
        collection: Collection,
        points: Vec<IndexPoint>,
    ) -> Result<(), IndexError> {
        self.blocking(collection, move |shard| {
            let n = points.len();
            let list = points
                .into_iter()
                .map(|p| PointStruct::new(to_edge_id(p.id), p.vector, Value::Object(p.payload)).0)
                .collect();
            let op = UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                PointInsertOperations::PointsList(list),
            ));
            shard.apply(op, "upsert")?;
            shard.since_optimize.fetch_add(n, Ordering::Relaxed);
            Ok(())
        })
        .await
    }

    pub(super) async fn delete(
        &self,
        collection: Collection,
        filter: Filter,
    ) -> Result<(), IndexError> {
        let filter = edge_filter(Some(filter))?.expect("a filter was given");
        self.blocking(collection, move |shard| {
            let op = UpdateOperation::PointOperation(PointOperations::DeletePointsByFilter(filter));
            shard.apply(op, "delete")
        })
        .await
    }

    pub(super) async fn search(
        &self,
        collection: Collection,
        vector: Vec<f32>,
        k: usize,
        filter: Option<Filter>,
    ) -> Result<Vec<Hit>, IndexError> {
        let filter = edge_filter(filter)?;
        self.blocking(collection, move |shard| {
            let request = SearchRequest {
                query: QueryEnum::Nearest(NamedQuery::default_dense(vector)),
                filter,
                params: None,
                limit: k,
                offset: 0,
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: None,
                score_threshold: None,
            };
            let points = shard
                .edge
                .search(request)
                .map_err(|e| IndexError::op("search", e))?;
            Ok(points
                .into_iter()
                .map(|p| Hit {
                    id: from_edge_id(p.id),
                    score: p.score,
                    payload: payload_map(p.payload),
                })
                .collect())
        })
        .await
    }

    pub(super) async fn get(
        &self,
        collection: Collection,
        id: PointId,
    ) -> Result<Option<Record>, IndexError> {
        self.blocking(collection, move |shard| {
            let found = shard
                .edge
                .retrieve(
                    &[to_edge_id(id)],
                    Some(WithPayloadInterface::Bool(true)),
                    Some(WithVector::Bool(true)),
                )
                .map_err(|e| IndexError::op("retrieve", e))?;
            Ok(found.into_iter().next().map(|r| Record {
                id: from_edge_id(r.id),
                vector: dense(r.vector),
                payload: payload_map(r.payload),
            }))
        })
        .await
    }

    pub(super) async fn recent(
        &self,
        collection: Collection,
        filter: Option<Filter>,
        limit: usize,
    ) -> Result<Vec<Record>, IndexError> {
        let filter = edge_filter(filter)?;
        let order_by: OrderByInterface =
            serde_json::from_value(json!({"key": TS_KEY, "direction": "desc"}))
                .map_err(|e| IndexError::op("scroll", e))?;
        self.blocking(collection, move |shard| {
            let request = ScrollRequest {
                offset: None,
                limit: Some(limit.max(1)),
                filter,
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: WithVector::Bool(true),
                order_by: Some(order_by),
            };
            let (records, _) = shard
                .edge
                .scroll(request)
                .map_err(|e| IndexError::op("scroll", e))?;
            Ok(records
                .into_iter()
                .map(|r| Record {
                    id: from_edge_id(r.id),
                    vector: dense(r.vector),
                    payload: payload_map(r.payload),
                })
                .collect())
        })
        .await
    }

    pub(super) async fn count(
        &self,
        collection: Collection,
        filter: Option<Filter>,
    ) -> Result<usize, IndexError> {
        let filter = edge_filter(filter)?;
        self.blocking(collection, move |shard| {
            shard
                .edge
                .count(CountRequest {
                    filter,
                    exact: true,
                })
                .map_err(|e| IndexError::op("count", e))
        })
        .await
    }

    /// Persist both collections (blocks writers for the duration).
    pub async fn flush(&self) -> Result<(), IndexError> {
        for collection in Collection::ALL {
            self.blocking(collection, |shard| {
                let _gate = shard.gate.write().unwrap_or_else(|e| e.into_inner());
                shard.edge.flush();
                shard.dirty.store(false, Ordering::Release);
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Flush collections that changed; optimise those that grew by [`OPTIMIZE_EVERY`] points.
    pub async fn maintain(&self) -> Result<(), IndexError> {
        for collection in Collection::ALL {
            self.blocking(collection, |shard| {
                if shard.dirty.swap(false, Ordering::AcqRel) {
                    let _gate = shard.gate.write().unwrap_or_else(|e| e.into_inner());
                    shard.edge.flush();
                }
                Ok(())
            })
            .await?;
            let grown = match collection {
                Collection::Regressions => &self.inner.regressions,
                Collection::Prompts => &self.inner.prompts,
            }
            .since_optimize
            .load(Ordering::Relaxed);
            if grown >= OPTIMIZE_EVERY {
                self.optimize(collection).await?;
            }
        }
        Ok(())
    }

    /// Build HNSW graphs and merge segments where the engine's optimisers see a need (can take
    /// seconds per 100k points; writers keep going meanwhile). True when anything changed.
    pub async fn optimize(&self, collection: Collection) -> Result<bool, IndexError> {
        self.blocking(collection, |shard| {
            let changed = {
                let _gate = shard.gate.read().unwrap_or_else(|e| e.into_inner());
                shard.since_optimize.store(0, Ordering::Relaxed);
                shard
                    .edge
                    .optimize()
                    .map_err(|e| IndexError::op("optimize", e))?
            };
            if changed {
                let _gate = shard.gate.write().unwrap_or_else(|e| e.into_inner());
                shard.edge.flush();
            }
            Ok(changed)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IndexConfig;
    use crate::index::{Backend, VectorIndex};

    fn wrap(index: EmbeddedIndex) -> VectorIndex {
        VectorIndex::new(Backend::Embedded(index), IndexConfig::default())
    }

    fn unit(seed: u64) -> Vec<f32> {
        // Deterministic pseudo-random unit vectors.
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut v: Vec<f32> = (0..DIMENSIONS)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 2000) as f32 / 1000.0 - 1.0
            })
            .collect();
        let n = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.iter_mut().for_each(|a| *a /= n);
        v
    }

    fn point(id: u64, vector: Vec<f32>, candidate: &str, ts: i64) -> IndexPoint {
        let Value::Object(payload) = json!({"candidate": candidate, "route": "/r", TS_KEY: ts})
        else {
            unreachable!()
        };
        IndexPoint {
            id: PointId::Num(id),
            vector,
            payload,
        }
    }

    #[tokio::test]
    async fn index_embedded_round_trip_persists_and_locks() {
        let dir =
            std::env::temp_dir().join(format!("shadowtap-index-unit-{}", uuid::Uuid::new_v4()));
        {
            let index = wrap(EmbeddedIndex::open(dir.clone()).await.unwrap());
            let points = (1..=50)
                .map(|i| point(i, unit(i), if i % 2 == 0 { "a" } else { "b" }, i as i64))
                .collect();
            index.upsert(Collection::Regressions, points).await.unwrap();
            let hits = index
                .search(Collection::Regressions, &unit(7), 3, None)
                .await
                .unwrap();
            assert_eq!(hits[0].id, PointId::Num(7));
            assert!((hits[0].score - 1.0).abs() < 1e-4, "{}", hits[0].score);
            let only_a = index
                .search(
                    Collection::Regressions,
                    &unit(7),
                    3,
                    Some(Filter::default().eq("candidate", "a")),
                )
                .await
                .unwrap();
            assert!(only_a.iter().all(|h| h.payload["candidate"] == "a"));
            let recent = index
                .recent(
                    Collection::Regressions,
                    Some(Filter::default().time(Some(10), Some(20))),
                    4,
                )
                .await
                .unwrap();
            let ts: Vec<i64> = recent
                .iter()
                .map(|r| r.payload[TS_KEY].as_i64().unwrap())
                .collect();
            assert_eq!(ts, vec![19, 18, 17, 16]);
            assert_eq!(recent[0].vector.len(), DIMENSIONS);
            assert_eq!(
                index.count(Collection::Regressions, None).await.unwrap(),
                50
            );
            // A second process (here: a second open) is refused while this one holds the folder.
            let err = EmbeddedIndex::open(dir.clone()).await.err().unwrap();
            assert!(
                err.to_string().contains("another shadowtap process"),
                "{err}"
            );
            index.flush().await.unwrap();
        }
        let reopened = EmbeddedIndex::open(dir.clone()).await.unwrap();
        let index = wrap(reopened);
        assert_eq!(
            index.count(Collection::Regressions, None).await.unwrap(),
            50
        );
        let got = index
            .get(Collection::Regressions, PointId::Num(7))
            .await
            .unwrap()
            .unwrap();
        assert!((crate::diff::semantic::cosine(&got.vector, &unit(7)) - 1.0).abs() < 1e-5);
        // Updating a point after a reopen replaces it (operation numbers continue).
        index
            .upsert(Collection::Regressions, vec![point(7, unit(99), "a", 7)])
            .await
            .unwrap();
        let got = index
            .get(Collection::Regressions, PointId::Num(7))
            .await
            .unwrap()
            .unwrap();
        assert!((crate::diff::semantic::cosine(&got.vector, &unit(99)) - 1.0).abs() < 1e-5);
        drop(index);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
