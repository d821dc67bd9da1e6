//! Access to the UI: a bearer token for scripts, a session cookie for browsers (after logging in
//! once with the token), a CSRF token on every form, and security headers on every response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::UiState;

/// Name of the session cookie.
pub const COOKIE: &str = "shadowtap_session";

/// Content-Security-Policy: no inline scripts or styles, nothing from other origins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Who made a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A script with the bearer token (not cookie-based: no CSRF exposure).
    Bearer,
    /// A browser session; forms must echo its CSRF token.
    Session { csrf: String },
}

impl Principal {
    /// The CSRF token to embed in forms (empty for bearer callers).
    pub fn csrf(&self) -> &str {
        match self {
            Self::Bearer => "",
            Self::Session { csrf } => csrf,
        }
    }

    /// Accept a state-changing request: bearer callers always, sessions only with their token.
    pub fn check_csrf(&self, sent: Option<&str>) -> bool {
        match self {
            Self::Bearer => true,
            Self::Session { csrf } => {
                sent.is_some_and(|s| constant_time_eq(s.as_bytes(), csrf.as_bytes()))
            }
        }
    }
}

struct Session {
    csrf: String,
    expires: Instant,
}

/// Token and sessions.
pub struct Auth {
    token: String,
    sessions: Mutex<HashMap<String, Session>>,
    ttl: Duration,
    protect_metrics: bool,
}

/// Compare secrets without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random 128-bit hex string.
pub fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Auth {
    /// Auth with `token`; sessions last `ttl`.
    pub fn new(token: String, ttl: Duration, protect_metrics: bool) -> Self {
        Self {
            token,
            sessions: Mutex::new(HashMap::new()),
            ttl,
            protect_metrics,
        }
    }

    /// Check the token a user typed or a script sent.
    pub fn token_matches(&self, candidate: &str) -> bool {
        constant_time_eq(candidate.trim().as_bytes(), self.token.as_bytes())
    }

    /// Start a browser session: (session id, CSRF token).
    pub fn start_session(&self) -> (String, String) {
        let (id, csrf) = (random_token(), random_token());
        let mut sessions = self.sessions.lock().expect("sessions lock");
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                expires: now + self.ttl,
            },
        );
        (id, csrf)
    }

    /// End a session.
    pub fn end_session(&self, id: &str) {
        self.sessions.lock().expect("sessions lock").remove(id);
    }

    fn session_csrf(&self, id: &str) -> Option<String> {
        let sessions = self.sessions.lock().expect("sessions lock");
        sessions
            .get(id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    /// The cookie that starts a session.
    pub fn cookie(&self, id: &str) -> String {
        format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
            self.ttl.as_secs()
        )
    }

    /// Who is calling, if anyone.
    pub fn principal(&self, headers: &HeaderMap) -> Option<Principal> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|t| self.token_matches(t)) {
            return Some(Principal::Bearer);
        }
        let id = session_id(headers)?;
        self.session_csrf(&id)
            .map(|csrf| Principal::Session { csrf })
    }
}

/// The session id from the Cookie header(s).
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

fn is_public(path: &str, protect_metrics: bool) -> bool {
    matches!(path, "/healthz" | "/login" | "/static/app.css")
        || (path == "/metrics" && !protect_metrics)
}

/// Middleware: let authenticated requests through (with their [`Principal`]), redirect browsers
/// to the login page, answer 401 to API callers.
pub async fn require_auth(
    State(state): State<Arc<UiState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if is_public(&path, state.auth.protect_metrics) {
        return next.run(req).await;
    }
    match state.auth.principal(req.headers()) {
        Some(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        None if path.starts_with("/api/") || path == "/metrics" => {
            let body = axum::Json(
                serde_json::json!({"error": "authentication required: send Authorization: Bearer <token>"}),
            );
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                body,
            )
                .into_response()
        }
        None => {
            let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let next = super::pages::urlencode(target);
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
    }
}

/// Middleware: security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// A safe post-login target: a local path, never another origin.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_sessions_and_csrf() {
        let auth = Auth::new(
            "s3cret-token-0123456789".into(),
            Duration::from_secs(60),
            false,
        );
        assert!(auth.token_matches("s3cret-token-0123456789"));
        assert!(!auth.token_matches("s3cret-token-012345678"));
        let (id, csrf) = auth.start_session();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("other=1; {COOKIE}={id}").parse().unwrap(),
        );
        let p = auth.principal(&h).unwrap();
        assert!(p.check_csrf(Some(&csrf)));
        assert!(!p.check_csrf(Some("nope")));
        assert!(!p.check_csrf(None));
        auth.end_session(&id);
        assert!(auth.principal(&h).is_none());
        let mut b = HeaderMap::new();
        b.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-token-0123456789".parse().unwrap(),
        );
        assert!(matches!(auth.principal(&b), Some(Principal::Bearer)));
    }

    #[test]
    fn next_targets_stay_local() {
        assert_eq!(
            safe_next(Some("/diffs?verdict=regression")),
            "/diffs?verdict=regression"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
