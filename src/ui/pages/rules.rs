//! `/rules`: triage rules the differ applies to future diffs; delete the ones no longer wanted.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use super::render;
use crate::store::RuleRow;
use crate::ui::auth::Principal;
use crate::ui::error::ApiError;
use crate::ui::{UiError, UiState};

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    csrf: String,
    rules: Vec<RuleRow>,
}

/// `GET /rules`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
) -> Result<Html<String>, UiError> {
    render(&RulesPage {
        csrf: principal.csrf().to_owned(),
        rules: state.store.rules().await?,
    })
}

/// `GET /api/rules`.
pub async fn api(State(state): State<Arc<UiState>>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        serde_json::json!({ "rules": state.store.rules().await? }),
    ))
}

/// A form carrying only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /rules/{id}/delete`.
pub async fn delete(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, UiError> {
    if !principal.check_csrf(form.csrf.as_deref()) {
        return Err(UiError::Forbidden);
    }
    if !state.store.delete_rule(id).await? {
        return Err(UiError::NotFound);
    }
    Ok(Redirect::to("/rules").into_response())
}

impl RulesPage {
    fn describe(r: &RuleRow) -> String {
        let what = match r.action.as_str() {
            "ignore_path" => format!("ignore findings at {}", r.path.as_deref().unwrap_or("?")),
            _ => format!(
                "accept {} findings",
                r.finding_kind.as_deref().unwrap_or("?")
            ),
        };
        let scope = [
            r.route.as_deref().map(|x| format!("on {x}")),
            r.candidate.as_deref().map(|x| format!("for {x}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        format!("{what} {scope}").trim().to_owned()
    }
}
