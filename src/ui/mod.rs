//! The review UI: server-rendered pages (axum + askama) and a JSON API for scripts.
//!
//! Captured content is hostile input: every value goes through askama's HTML escaping, pages
//! carry a strict Content-Security-Policy (no inline scripts), every form carries a CSRF token,
//! and every route but health, login, the stylesheet (and, unless protected, metrics) needs the
//! token or a session.

pub mod auth;
mod error;
mod pages;
pub mod svg;

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::index::VectorIndex;
use crate::store::Store;
use crate::telemetry::Metrics;
pub use auth::Auth;
pub use error::UiError;

/// Shared state of UI handlers.
pub struct UiState {
    pub store: Store,
    pub metrics: Metrics,
    pub page_size: i64,
    /// Candidate names configured in this process (shown even before they have data).
    pub candidates: Vec<String>,
    pub auth: Auth,
    /// Production prices per million input/output tokens (from `[control]`), for cost deltas.
    pub production_prices: (f64, f64),
    /// The vector index (similar regressions, clusters, prompt drift), when `[index]` is on.
    pub index: Option<VectorIndex>,
    /// Daily spend caps (USD) of the candidates that have one.
    pub daily_budgets: std::collections::BTreeMap<String, f64>,
}

const CSS: &str = include_str!("../../static/app.css");

/// The UI router.
pub fn router(state: Arc<UiState>) -> Router {
    Router::new()
        .route("/", get(pages::dashboard::page))
        .route("/diffs", get(pages::list::page))
        .route("/diffs/triage", post(pages::list::bulk))
        .route("/diffs/{id}", get(pages::detail::page))
        .route("/diffs/{id}/triage", post(pages::detail::triage))
        .route("/inventory", get(pages::inventory::page))
        .route("/rules", get(pages::rules::page))
        .route("/rules/{id}/delete", post(pages::rules::delete))
        .route("/login", get(pages::login::page).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/api/dashboard", get(pages::dashboard::api))
        .route("/api/diffs", get(pages::list::api))
        .route("/api/diffs/{id}", get(pages::detail::api))
        .route("/api/inventory", get(pages::inventory::api))
        .route("/api/rules", get(pages::rules::api))
        .route("/api/similar/{id}", get(pages::vectors::api_similar))
        .route("/api/drift", get(pages::vectors::api_drift))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_auth,
        ))
        .layer(axum::middleware::from_fn(auth::security_headers))
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
