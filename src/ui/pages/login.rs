//! `/login` and `/logout`: trade the token for a session cookie, and back.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::render;
use crate::ui::auth::{safe_next, session_id, Principal, COOKIE};
use crate::ui::{UiError, UiState};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    failed: bool,
}

/// `?next=` of the login page.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

/// `GET /login`.
pub async fn page(Query(q): Query<NextQuery>) -> Result<Response, UiError> {
    Ok(render(&LoginPage {
        next: safe_next(q.next.as_deref()),
        failed: false,
    })?
    .into_response())
}

/// `POST /login`.
pub async fn submit(
    State(state): State<Arc<UiState>>,
    Form(form): Form<LoginForm>,
) -> Result<Response, UiError> {
    let next = safe_next(form.next.as_deref());
    if !state.auth.token_matches(&form.token) {
        let page = render(&LoginPage { next, failed: true })?;
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    }
    let (id, _csrf) = state.auth.start_session();
    Ok((
        [(header::SET_COOKIE, state.auth.cookie(&id))],
        Redirect::to(&next),
    )
        .into_response())
}

/// The logout form.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, UiError> {
    if !principal.check_csrf(form.csrf.as_deref()) {
        return Err(UiError::Forbidden);
    }
    if let Some(id) = session_id(&headers) {
        state.auth.end_session(&id);
    }
    let clear = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}
