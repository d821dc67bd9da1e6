//! The Qdrant server backend: `qdrant-client` over gRPC (compose.yaml's `qdrant` service, port 6334).
//! Collections `<prefix>regressions` and `<prefix>prompts` are created on first use, with the
//! same payload indexes as the embedded backend.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::vector_output::Vector as OutVector;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Direction, Distance, FieldType, Filter as QFilter, GetPointsBuilder,
    OrderByBuilder, PointStruct, Range, ScrollPointsBuilder, SearchPointsBuilder,
    UpsertPointsBuilder, VectorParamsBuilder, VectorsOutput,
};
use qdrant_client::{Payload, Qdrant};
use serde_json::{Map, Value};

use super::{
    Collection, Condition as Cond, Filter, Hit, IndexError, IndexPoint, PointId, Record,
    DIMENSIONS, TS_KEY,
};

/// A Qdrant server. Cheap to clone.
#[derive(Clone)]
pub struct QdrantIndex {
    client: Arc<Qdrant>,
    prefix: String,
}

fn q_id(id: PointId) -> qdrant_client::qdrant::PointId {
    match id {
        PointId::Num(n) => n.into(),
        PointId::Uuid(u) => u.to_string().into(),
    }
}

fn from_q_id(id: Option<qdrant_client::qdrant::PointId>) -> Option<PointId> {
    match id?.point_id_options? {
        PointIdOptions::Num(n) => Some(PointId::Num(n)),
        PointIdOptions::Uuid(s) => s.parse().ok().map(PointId::Uuid),
    }
}

fn q_filter(f: &Filter) -> QFilter {
    QFilter::must(f.must.iter().map(|c| match c {
        Cond::Equals { key, value } => Condition::matches(key.clone(), value.clone()),
        Cond::Range { key, gte, lt } => Condition::range(
            key.clone(),
            Range {
                gte: gte.map(|v| v as f64),
                lt: lt.map(|v| v as f64),
                ..Range::default()
            },
        ),
    }))
}

fn json_payload(payload: HashMap<String, qdrant_client::qdrant::Value>) -> Map<String, Value> {
    payload
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect()
}

fn dense(vectors: Option<VectorsOutput>) -> Vec<f32> {
    match vectors.and_then(|v| v.get_vector()) {
        Some(OutVector::Dense(d)) => d.data,
        _ => Vec::new(),
    }
}

fn op(name: &'static str) -> impl Fn(qdrant_client::QdrantError) -> IndexError {
    move |e| IndexError::op(name, e)
}

impl QdrantIndex {
    /// Connect and make sure both collections exist.
    pub async fn connect(
        url: &str,
        api_key: Option<String>,
        prefix: &str,
    ) -> Result<Self, IndexError> {
        let client = Qdrant::from_url(url)
            .api_key(api_key)
            .timeout(Duration::from_secs(10))
            .skip_compatibility_check()
            .build()
            .map_err(|e| {
                IndexError::Setup(format!("cannot use the Qdrant server at {url}: {e}"))
            })?;
        let index = Self {
            client: Arc::new(client),
            prefix: prefix.to_owned(),
        };
        for c in Collection::ALL {
            index.ensure(c).await.map_err(|e| {
                IndexError::Setup(format!(
                    "cannot set up collection {} on the Qdrant server at {url} ({e}); is it running \
                     and reachable on its gRPC port (6334)? Or use index.backend = \"embedded\"",
                    index.name(c)
                ))
            })?;
        }
        tracing::info!(url, prefix, "Qdrant vector index connected");
        Ok(index)
    }

    /// The server-side name of `collection`.
    pub fn name(&self, collection: Collection) -> String {
        format!("{}{}", self.prefix, collection.as_str())
    }

    async fn ensure(&self, collection: Collection) -> Result<(), qdrant_client::QdrantError> {
        let name = self.name(collection);
        if !self.client.collection_exists(&name).await? {
            let created = self
                .client
                .create_collection(CreateCollectionBuilder::new(&name).vectors_config(
                    VectorParamsBuilder::new(DIMENSIONS as u64, Distance::Cosine),
                ))
                .await;
            // Another process may have created it meanwhile.
            if let Err(e) = created {
                if !self.client.collection_exists(&name).await? {
                    return Err(e);
                }
            }
        }
        let mut fields = vec![(TS_KEY, FieldType::Integer)];
        fields.extend(
            collection
                .keyword_fields()
                .iter()
                .map(|f| (*f, FieldType::Keyword)),
        );
        for (field, kind) in fields {
            self.client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(&name, field, kind).wait(true),
                )
                .await?;
        }
        Ok(())
    }

    /// Delete both collections (tests clean up with it).
    pub async fn drop_collections(&self) -> Result<(), IndexError> {
        for c in Collection::ALL {
            self.client
                .delete_collection(self.name(c))
                .await
                .map_err(op("delete collection"))?;
        }
        Ok(())
    }

    pub(super) async fn upsert(
        &self,
        collection: Collection,
        points: Vec<IndexPoint>,
    ) -> Result<(), IndexError> {
        let points: Vec<PointStruct> = points
            .into_iter()
            .map(|p| PointStruct::new(q_id(p.id), p.vector, Payload::from(p.payload)))
            .collect();
        self.client
            .upsert_points(UpsertPointsBuilder::new(self.name(collection), points).wait(true))
            .await
            .map_err(op("upsert"))?;
        Ok(())
    }

    pub(super) async fn delete(
        &self,
        collection: Collection,
        filter: Filter,
    ) -> Result<(), IndexError> {
        self.client
            .delete_points(
                DeletePointsBuilder::new(self.name(collection))
                    .points(q_filter(&filter))
                    .wait(true),
            )
            .await
            .map_err(op("delete"))?;
        Ok(())
    }

    pub(super) async fn search(
        &self,
        collection: Collection,
        vector: Vec<f32>,
        k: usize,
        filter: Option<Filter>,
    ) -> Result<Vec<Hit>, IndexError> {
        let mut request =
            SearchPointsBuilder::new(self.name(collection), vector, k as u64).with_payload(true);
        if let Some(f) = &filter {
            request = request.filter(q_filter(f));
        }
        let response = self
            .client
            .search_points(request)
            .await
            .map_err(op("search"))?;
        Ok(response
            .result
            .into_iter()
            .filter_map(|p| {
                Some(Hit {
                    id: from_q_id(p.id)?,
                    score: p.score,
                    payload: json_payload(p.payload),
                })
            })
            .collect())
    }

    pub(super) async fn get(
        &self,
        collection: Collection,
        id: PointId,
    ) -> Result<Option<Record>, IndexError> {
        let response = self
            .client
            .get_points(
                GetPointsBuilder::new(self.name(collection), vec![q_id(id)])
                    .with_payload(true)
                    .with_vectors(true),
            )
            .await
            .map_err(op("retrieve"))?;
        Ok(response.result.into_iter().next().and_then(|p| {
            Some(Record {
                id: from_q_id(p.id)?,
                vector: dense(p.vectors),
                payload: json_payload(p.payload),
            })
        }))
    }

    pub(super) async fn recent(
        &self,
        collection: Collection,
        filter: Option<Filter>,
        limit: usize,
    ) -> Result<Vec<Record>, IndexError> {
        let mut request = ScrollPointsBuilder::new(self.name(collection))
            .limit(limit.clamp(1, u32::MAX as usize) as u32)
            .with_payload(true)
            .with_vectors(true)
            .order_by(OrderByBuilder::new(TS_KEY).direction(Direction::Desc as i32));
        if let Some(f) = &filter {
            request = request.filter(q_filter(f));
        }
        let response = self.client.scroll(request).await.map_err(op("scroll"))?;
        Ok(response
            .result
            .into_iter()
            .filter_map(|p| {
                Some(Record {
                    id: from_q_id(p.id)?,
                    vector: dense(p.vectors),
                    payload: json_payload(p.payload),
                })
            })
            .collect())
    }

    pub(super) async fn count(
        &self,
        collection: Collection,
        filter: Option<Filter>,
    ) -> Result<usize, IndexError> {
        let mut request = CountPointsBuilder::new(self.name(collection)).exact(true);
        if let Some(f) = &filter {
            request = request.filter(q_filter(f));
        }
        let response = self.client.count(request).await.map_err(op("count"))?;
        Ok(response.result.map_or(0, |r| r.count as usize))
    }
}
