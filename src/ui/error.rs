//! The UI's error type: a readable page or JSON error, never a stack trace.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::store::StoreError;

/// Errors of UI handlers.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("this form is stale or was not sent from this site (CSRF check failed); reload the page and try again")]
    Forbidden,
    #[error("the database is unavailable; try again shortly")]
    Store(#[from] StoreError),
    #[error("page rendering failed")]
    Render(#[from] askama::Error),
}

impl UiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) | Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "ui request failed");
        }
        let text = html_escape(&self.to_string());
        let body = format!(
            "<!doctype html><title>shadowtap</title><link rel=stylesheet href=/static/app.css>\
             <main><h1>{}</h1><p>{text}</p><p><a href=\"/\">Back to the diffs</a></p></main>",
            self.status()
        );
        (self.status(), Html(body)).into_response()
    }
}

/// Minimal HTML escaping for the hand-written error page.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A JSON error for `/api` routes.
pub struct ApiError(pub UiError);

impl From<UiError> for ApiError {
    fn from(e: UiError) -> Self {
        Self(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        (
            status,
            axum::Json(serde_json::json!({"error": self.0.to_string()})),
        )
            .into_response()
    }
}
