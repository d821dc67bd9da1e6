//! `/inventory`: what the tap has seen — routes, models and tags with volume, tail latency,
//! streaming, tool-use and JSON-mode shares. The audit a migration starts from.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse};
use axum::{Extension, Json};
use serde::Deserialize;

use super::{ms, render};
use crate::store::{Count, InventoryRow};
use crate::ui::auth::Principal;
use crate::ui::error::ApiError;
use crate::ui::{UiError, UiState};

/// `?days=` window.
#[derive(Debug, Deserialize)]
pub struct Window {
    days: Option<i32>,
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct InventoryPage {
    csrf: String,
    days: i32,
    rows: Vec<InventoryRow>,
    tags: Vec<Count>,
}

impl InventoryPage {
    fn pct(v: &f64) -> String {
        format!("{:.0}%", v * 100.0)
    }
    fn ms(v: &Option<f64>) -> String {
        ms(*v)
    }
}

/// `GET /inventory`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Query(w): Query<Window>,
) -> Result<Html<String>, UiError> {
    let days = w.days.unwrap_or(14).clamp(1, 365);
    render(&InventoryPage {
        csrf: principal.csrf().to_owned(),
        days,
        rows: state.store.inventory(days).await?,
        tags: state.store.tag_counts(days).await?,
    })
}

/// `GET /api/inventory`.
pub async fn api(
    State(state): State<Arc<UiState>>,
    Query(w): Query<Window>,
) -> Result<impl IntoResponse, ApiError> {
    let days = w.days.unwrap_or(14).clamp(1, 365);
    Ok(Json(serde_json::json!({
        "days": days,
        "routes": state.store.inventory(days).await?,
        "tags": state.store.tag_counts(days).await?,
    })))
}
