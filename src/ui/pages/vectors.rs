//! What the vector index adds to the UI: similar regressions of a diff (detail page,
//! `/api/similar/{id}`), clusters of each candidate's regressions and prompt drift per route
//! (dashboard, `/api/drift`). The index is a cache of the database: hits whose diff no longer
//! exists (or belongs to another exchange) are dropped, and an unavailable index degrades these
//! sections to a message instead of failing the page.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::index::analysis::{Cluster, RouteDrift};
use crate::index::{Filter, RegressionPayload};
use crate::ui::error::ApiError;
use crate::ui::{UiError, UiState};

/// The state of an index-backed section, with its items.
#[derive(Debug, Serialize)]
pub struct Section<T> {
    /// `ok`, `off` (no index configured), `not_indexed` (this diff is not in the index) or
    /// `unavailable` (the index failed; `message` says how).
    pub status: &'static str,
    pub message: String,
    pub items: Vec<T>,
}

impl<T> Section<T> {
    fn ok(items: Vec<T>) -> Self {
        Self {
            status: "ok",
            message: String::new(),
            items,
        }
    }

    fn with(status: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            items: Vec::new(),
        }
    }

    fn off() -> Self {
        Self::with(
            "off",
            "the vector index is off (set [index] backend = \"embedded\" or \"qdrant\")",
        )
    }

    fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %e, "vector index query failed");
        Self::with(
            "unavailable",
            format!("the vector index is unavailable: {e}"),
        )
    }
}

impl<T> Default for Section<T> {
    fn default() -> Self {
        Self::off()
    }
}

/// A similar regression, as shown under a diff.
#[derive(Debug, Serialize)]
pub struct SimilarHit {
    pub diff_id: i64,
    /// Cosine similarity of the two candidate answers.
    pub score: f32,
    pub candidate: String,
    /// The diff's verdict now (from the database).
    pub verdict: String,
    pub triage_state: Option<String>,
    pub route: String,
    pub model: String,
    pub finding_kinds: Vec<String>,
    /// True when it shares a finding kind with the diff it is similar to.
    pub shares_kind: bool,
    pub excerpt: String,
}

impl SimilarHit {
    /// The score for display.
    pub fn score_text(&self) -> String {
        format!("{:.3}", self.score)
    }
}

/// Clusters and drift for the dashboard.
#[derive(Debug, Serialize, Default)]
pub struct DashboardVectors {
    pub clusters: BTreeMap<String, Section<Cluster>>,
    pub drift: Section<RouteDrift>,
}

impl DashboardVectors {
    /// The clusters of `candidate`'s regressions, if computed.
    pub fn clusters_of(&self, candidate: &str) -> Option<&Section<Cluster>> {
        self.clusters.get(candidate)
    }
}

/// Display helpers for the templates.
pub fn kinds_text(kinds: &[(String, usize)]) -> String {
    kinds
        .iter()
        .take(3)
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line of words for a route's drift.
pub fn drift_text(d: &RouteDrift) -> String {
    let tokens = match (d.mean_tokens_baseline, d.mean_tokens_recent) {
        (Some(b), Some(r)) => format!("mean prompt {b:.0} → {r:.0} tokens"),
        _ => String::new(),
    };
    match d.status {
        "insufficient_data" => format!(
            "not enough prompts yet ({} recent, {} baseline)",
            d.recent, d.baseline
        ),
        status => format!(
            "{status}: centroid distance {:.3}, {tokens}, KS D {:.2} (p {:.3}) — {} recent vs {} baseline prompts",
            d.centroid_distance.unwrap_or_default(),
            d.ks_statistic.unwrap_or_default(),
            d.ks_p_value.unwrap_or(1.0),
            d.recent,
            d.baseline
        ),
    }
}

impl UiState {
    /// Up to `k` (default `index.top_k`) regressions whose candidate answers resemble diff `id`'s,
    /// most similar first; `candidate` narrows them to one candidate.
    pub async fn similar_regressions(
        &self,
        id: i64,
        k: Option<usize>,
        candidate: Option<&str>,
    ) -> Result<Section<SimilarHit>, UiError> {
        let Some(index) = &self.index else {
            return Ok(Section::off());
        };
        let k = k.unwrap_or(index.config().top_k).clamp(1, 100);
        let filter = candidate.map(|c| Filter::default().eq("candidate", c));
        let own = match index
            .get(
                crate::index::Collection::Regressions,
                crate::index::PointId::Num(id as u64),
            )
            .await
        {
            Ok(Some(p)) => p.payload_as::<RegressionPayload>(),
            Ok(None) => None,
            Err(e) => return Ok(Section::unavailable(e)),
        };
        let Some(own) = own else {
            return Ok(Section::with(
                "not_indexed",
                "only regression and minor diffs are indexed",
            ));
        };
        // Ask for a few more than k: stale hits (diffs no longer in this database) are dropped.
        let hits = match index.similar_regressions(id, k + 5, filter).await {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(Section::with("not_indexed", "this diff is not indexed")),
            Err(e) => return Ok(Section::unavailable(e)),
        };
        let payloads: Vec<(f32, RegressionPayload)> = hits
            .iter()
            .filter_map(|h| Some((h.score, h.payload_as::<RegressionPayload>()?)))
            .collect();
        let pairs: Vec<(i64, Uuid)> = payloads
            .iter()
            .map(|(_, p)| (p.diff_id, p.exchange_id))
            .collect();
        let live: BTreeMap<i64, (String, Option<String>)> = self
            .store
            .indexed_diffs(&pairs)
            .await?
            .into_iter()
            .map(|(id, verdict, triage)| (id, (verdict, triage)))
            .collect();
        let items = payloads
            .into_iter()
            .filter_map(|(score, p)| {
                let (verdict, triage_state) = live.get(&p.diff_id)?.clone();
                Some(SimilarHit {
                    shares_kind: p
                        .finding_kinds
                        .iter()
                        .any(|k| own.finding_kinds.contains(k)),
                    diff_id: p.diff_id,
                    score,
                    candidate: p.candidate,
                    verdict,
                    triage_state,
                    route: p.route,
                    model: p.model,
                    finding_kinds: p.finding_kinds,
                    excerpt: p.excerpt,
                })
            })
            .take(k)
            .collect();
        Ok(Section::ok(items))
    }

    /// Clusters of `candidate`'s regressions of the last `days` days, largest first.
    pub async fn regression_clusters(&self, candidate: &str, days: i32) -> Section<Cluster> {
        let Some(index) = &self.index else {
            return Section::off();
        };
        let since = chrono::Utc::now().timestamp_millis() - i64::from(days) * 86_400_000;
        match index.regression_clusters(candidate, since).await {
            Ok(clusters) => Section::ok(clusters),
            Err(e) => Section::unavailable(e),
        }
    }

    /// Prompt drift per route (also refreshes the `shadowtap_prompt_drift` gauge).
    pub async fn prompt_drift(&self) -> Section<RouteDrift> {
        let Some(index) = &self.index else {
            return Section::off();
        };
        match crate::index::upkeep::update_drift_gauge(index, &self.metrics).await {
            Ok(report) => Section::ok(report),
            Err(e) => Section::unavailable(e),
        }
    }

    /// Clusters of every candidate in `candidates` and the drift report, for the dashboard.
    pub async fn dashboard_vectors(&self, candidates: &[&str], days: i32) -> DashboardVectors {
        if self.index.is_none() {
            return DashboardVectors::default();
        }
        let mut clusters = BTreeMap::new();
        for c in candidates {
            let mut section = self.regression_clusters(c, days).await;
            section.items.truncate(5);
            clusters.insert((*c).to_owned(), section);
        }
        DashboardVectors {
            clusters,
            drift: self.prompt_drift().await,
        }
    }
}

/// `?k=&candidate=` of `/api/similar/{id}`.
#[derive(Debug, Deserialize)]
pub struct SimilarQuery {
    k: Option<usize>,
    candidate: Option<String>,
}

/// `GET /api/similar/{diff_id}`: the most similar regressions.
pub async fn api_similar(
    State(state): State<Arc<UiState>>,
    Path(id): Path<String>,
    Query(q): Query<SimilarQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let id: i64 = id.parse().map_err(|_| UiError::NotFound)?;
    if state.store.diff_detail(id).await?.is_none() {
        return Err(UiError::NotFound.into());
    }
    let section = state
        .similar_regressions(id, q.k, q.candidate.as_deref().filter(|c| !c.is_empty()))
        .await?;
    Ok(Json(serde_json::json!({"diff_id": id, "similar": section})))
}

/// `GET /api/drift`: prompt drift per route and the windows it compares.
pub async fn api_drift(State(state): State<Arc<UiState>>) -> impl IntoResponse {
    let windows = state.index.as_ref().map(|i| {
        let d = &i.config().drift;
        serde_json::json!({"recent_secs": d.recent_secs, "baseline_secs": d.baseline_secs,
            "min_prompts": d.min_prompts, "centroid_threshold": d.centroid_threshold,
            "length_p_value": d.length_p_value})
    });
    Json(serde_json::json!({"drift": state.prompt_drift().await, "windows": windows}))
}
