//! The review UI: server-rendered pages (axum + askama) and a JSON API for scripts.
//!
//! Captured content is hostile input: every value goes through askama's HTML escaping.

mod error;
mod pages;

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::store::Store;
use crate::telemetry::Metrics;
pub use error::UiError;

/// Shared state of UI handlers.
pub struct UiState {
    pub store: Store,
    pub metrics: Metrics,
    pub page_size: i64,
    /// Candidate names configured in this process (shown even before they have data).
    pub candidates: Vec<String>,
}

const CSS: &str = include_str!("../../static/app.css");

/// The UI router.
pub fn router(state: Arc<UiState>) -> Router {
    Router::new()
        .route("/", get(pages::list::page))
        .route("/diffs/{id}", get(pages::detail::page))
        .route("/api/diffs", get(pages::list::api))
        .route("/api/diffs/{id}", get(pages::detail::api))
        .route("/api/summary", get(pages::list::summary_api))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css"),
                        (header::CACHE_CONTROL, "max-age=3600"),
                    ],
                    CSS,
                )
            }),
        )
        .with_state(state)
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<Arc<UiState>>,
) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
