//! The review UI through its router (`tower::ServiceExt::oneshot`) against a real database filled by
//! the real pipeline: auth on every route, login and CSRF, filters and pagination, triage and rules,
//! hostile captured content.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shadowtap::demo::scenarios;
use shadowtap::telemetry::Metrics;
use shadowtap::ui::{self, Auth, UiState};
use tower::ServiceExt;

use crate::helpers::{count, spawn_app, wait_until, TestApp, TestBus, UI_TOKEN};

/// A UI router over the test app's database, with a small page size.
fn router(app: &TestApp, page_size: i64) -> Router {
    ui::router(Arc::new(UiState {
        store: app.store.clone(),
        metrics: Metrics::new(),
        page_size,
        candidates: vec!["faithful".into(), "regressing".into()],
        auth: Auth::new(UI_TOKEN.into(), Duration::from_secs(3600), false),
        production_prices: (0.15, 0.60),
        index: None,
        daily_budgets: Default::default(),
    }))
}

async fn send(router: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(path: &str, bearer: bool) -> Request<Body> {
    let mut r = Request::get(path);
    if bearer {
        r = r.header(header::AUTHORIZATION, format!("Bearer {UI_TOKEN}"));
    }
    r.body(Body::empty()).unwrap()
}

fn post_form(path: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut r =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::from(form.to_owned())).unwrap()
}

async fn seeded() -> TestApp {
    let app = spawn_app(TestBus::Memory).await;
    for s in scenarios::all() {
        let (status, _) = app.chat_through_tap(&s.request("gpt-4o-mini")).await;
        assert_eq!(status, 200);
    }
    let hostile = json!({"model": "gpt-4o-mini", "messages": [{"role": "user",
        "content": format!("<script>alert(1)</script>\"><img src=x onerror=alert(2)> {} \u{0} \u{fffd}", "A".repeat(20000))}]});
    app.chat_through_tap(&hostile).await;
    let expected = 2 * (scenarios::all().len() as i64 + 1);
    wait_until(Duration::from_secs(30), "all diffs", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == expected
    })
    .await;
    app
}

#[tokio::test]
async fn every_route_needs_auth_except_health_login_css_and_metrics() {
    let app = seeded().await;
    let r = router(&app, 50);
    let id: i64 = sqlx::query_scalar("SELECT max(id) FROM diffs")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    for page in [
        "/",
        "/diffs",
        &format!("/diffs/{id}"),
        "/inventory",
        "/rules",
    ] {
        let (status, headers, _) = send(&r, get(page, false)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "{page}"
        );
        let (status, headers, body) = send(&r, get(page, true)).await;
        assert_eq!(status, StatusCode::OK, "{page}: {body}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }
    for api in [
        "/api/dashboard",
        "/api/diffs",
        &format!("/api/diffs/{id}"),
        "/api/inventory",
        "/api/rules",
    ] {
        let (status, _, _) = send(&r, get(api, false)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{api}");
        let (status, _, body) = send(&r, get(api, true)).await;
        assert_eq!(status, StatusCode::OK, "{api}");
        serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("{api}: {e}"));
    }
    for public in ["/healthz", "/login", "/static/app.css", "/metrics"] {
        assert_eq!(
            send(&r, get(public, false)).await.0,
            StatusCode::OK,
            "{public}"
        );
    }
    let (status, _, _) = send(&r, get("/diffs/999999999", true)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(&r, get("/diffs?verdict=awful", true)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, _, dash) = send(&r, get("/api/dashboard", true)).await;
    let dash: Value = serde_json::from_str(&dash).unwrap();
    let regressing = dash["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "regressing")
        .unwrap();
    assert!(
        regressing["regression_rate"].as_f64().unwrap() > 0.3,
        "{regressing}"
    );
    assert_eq!(regressing["ready"], false);
}

#[tokio::test]
async fn login_session_csrf_triage_and_rules() {
    let app = seeded().await;
    let r = router(&app, 50);
    let (status, _, _) = send(&r, post_form("/login", None, "token=wrong&next=%2Fdiffs")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, headers, _) = send(
        &r,
        post_form("/login", None, &format!("token={UI_TOKEN}&next=%2Fdiffs")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/diffs");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();

    let id: i64 = sqlx::query_scalar(
        "SELECT id FROM diffs WHERE candidate = 'regressing' AND first_kind = 'refusal' LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let mut req = get(&format!("/diffs/{id}"), false);
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    let (status, _, page) = send(&r, req).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    // A cross-site POST (no or wrong CSRF token) is rejected even with the session cookie.
    for form in ["state=acceptable", "state=acceptable&csrf=forged"] {
        let (status, _, _) = send(
            &r,
            post_form(&format!("/diffs/{id}/triage"), Some(&cookie), form),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form}");
    }
    let form = format!("csrf={csrf}&state=acceptable&note=fine+for+us&rule=accept_kind%3Arefusal");
    let (status, _, _) = send(
        &r,
        post_form(&format!("/diffs/{id}/triage"), Some(&cookie), &form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let state: Option<String> = sqlx::query_scalar("SELECT triage_state FROM diffs WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(state.as_deref(), Some("acceptable"));
    let (_, _, rules) = send(&r, get("/api/rules", true)).await;
    assert!(rules.contains("\"finding_kind\":\"refusal\""), "{rules}");

    // The rule applies to future diffs: the same refusal is no longer a regression.
    tokio::time::sleep(Duration::from_millis(5_500)).await; // the worker re-reads rules every 5 s
    let s = scenarios::all()
        .iter()
        .find(|s| s.name == "password_reset")
        .unwrap();
    app.chat_through_tap(&s.request("gpt-4o-mini")).await;
    wait_until(Duration::from_secs(20), "the new diff", || async {
        count(
            &app.store,
            "SELECT count(*) FROM diffs WHERE first_kind = 'refusal' AND verdict <> 'regression'",
        )
        .await
            >= 1
    })
    .await;

    // Bulk triage of a filtered list, then logout ends the session.
    let form =
        format!("csrf={csrf}&state=confirmed&query=candidate%3Dregressing%26verdict%3Dregression");
    let (status, _, _) = send(&r, post_form("/diffs/triage", Some(&cookie), &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let confirmed = count(
        &app.store,
        "SELECT count(*) FROM diffs WHERE triage_state = 'confirmed'",
    )
    .await;
    let regressions = count(
        &app.store,
        "SELECT count(*) FROM diffs WHERE candidate = 'regressing' AND verdict = 'regression'",
    )
    .await;
    assert_eq!(confirmed, regressions);
    let (status, _, _) = send(
        &r,
        post_form("/logout", Some(&cookie), &format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut req = get("/diffs", false);
    req.headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    assert_eq!(
        send(&r, req).await.0,
        StatusCode::SEE_OTHER,
        "the session is gone"
    );
}

#[tokio::test]
async fn filters_sorting_pagination_and_hostile_content() {
    let app = seeded().await;
    let r = router(&app, 3);
    let (_, _, body) = send(
        &r,
        get("/api/diffs?candidate=regressing&verdict=regression", true),
    )
    .await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert!(page["count"].as_i64().unwrap() >= 4);
    assert!(page["diffs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["candidate"] == "regressing" && d["verdict"] == "regression"));

    // Keyset pagination visits every row exactly once, in both sort orders.
    for sort in ["newest", "score"] {
        let total = count(&app.store, "SELECT count(*) FROM diffs").await as usize;
        let mut seen = Vec::new();
        let mut url = format!("/api/diffs?sort={sort}");
        loop {
            let (_, _, body) = send(&r, get(&url, true)).await;
            let page: Value = serde_json::from_str(&body).unwrap();
            let rows = page["diffs"].as_array().unwrap();
            assert!(rows.len() <= 3);
            if sort == "score" {
                let scores: Vec<f64> = rows.iter().map(|d| d["score"].as_f64().unwrap()).collect();
                assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
            }
            seen.extend(rows.iter().map(|d| d["id"].as_i64().unwrap()));
            match page["next_before"].as_str() {
                Some(next) => {
                    url = format!("/api/diffs?sort={sort}&before={}", next.replace(':', "%3A"))
                }
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (total, total), "{sort}");
    }
    let (_, _, body) = send(&r, get("/api/diffs?kind=tool_call_dropped&route=%2Fv1%2Fchat%2Fcompletions&model=gpt-4o-mini&since=2000-01-01&min_score=0.5", true)).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["diffs"].as_array().unwrap().len(), 1, "{page}");

    // Corpus runs are browsable like live traffic: the run filter narrows to a run's items.
    let (_, _, body) = send(&r, get("/api/diffs?run=999999", true)).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["count"], 0, "{page}");
    assert_eq!(
        send(&r, get("/api/diffs?run=abc", true)).await.0,
        StatusCode::BAD_REQUEST
    );

    // Hostile captured content comes out escaped on list and detail pages.
    let r = router(&app, 100);
    let (_, _, list) = send(&r, get("/diffs", true)).await;
    let id: i64 = sqlx::query_scalar(
        "SELECT d.id FROM diffs d JOIN exchanges e ON e.id = d.exchange_id WHERE e.request_body::text LIKE '%onerror%' LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let (status, _, detail) = send(&r, get(&format!("/diffs/{id}"), true)).await;
    assert_eq!(status, StatusCode::OK);
    for page in [&list, &detail] {
        assert!(!page.contains("<script>alert"), "unescaped script");
        assert!(!page.contains("<img src=x"), "unescaped tag");
    }
    assert!(
        detail.contains("&#60;script&#62;alert(1)"),
        "escaped, not dropped"
    );
}
