//! Bad input is forwarded untouched, captured as such, and never stops the worker.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{count, spawn_app, wait_until, TestBus};

#[tokio::test]
async fn malformed_json_is_forwarded_untouched_and_captured_as_text() {
    let app = spawn_app(TestBus::Memory).await;
    let malformed = "{\"model\": \"gpt-4o-mini\", \"messages\": [ <script>alert(1)</script>";
    let direct = app
        .http
        .post(format!("{}/v1/chat/completions", app.production.base_url()))
        .header("content-type", "application/json")
        .body(malformed)
        .send()
        .await
        .unwrap();
    let (direct_status, direct_body) = (direct.status().as_u16(), direct.bytes().await.unwrap());
    assert_eq!(
        direct_status, 400,
        "the upstream decides what malformed JSON means"
    );

    let resp = app
        .http
        .post(format!("http://{}/v1/chat/completions", app.tap))
        .header("content-type", "application/json")
        .body(malformed)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), direct_status);
    assert_eq!(resp.bytes().await.unwrap(), direct_body);

    wait_until(
        Duration::from_secs(20),
        "the malformed exchange stored",
        || async { count(&app.store, "SELECT count(*) FROM exchanges").await == 1 },
    )
    .await;
    let (body, is_json, status): (Value, bool, i32) =
        sqlx::query_as("SELECT request_body, request_is_json, status FROM exchanges")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(!is_json);
    assert_eq!(
        body,
        Value::String(malformed.into()),
        "captured byte-for-byte as text"
    );
    assert_eq!(status, 400);

    // The worker is still alive: a good request is replayed and diffed, and hostile text in
    // captured content comes out escaped on the pages.
    let hostile = serde_json::json!({"model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"}]});
    let (status, _) = app.chat_through_tap(&hostile).await;
    assert_eq!(status, 200);
    wait_until(
        Duration::from_secs(20),
        "diffs of the good request",
        || async { count(&app.store, "SELECT count(*) FROM diffs").await == 2 },
    )
    .await;
    assert_eq!(
        count(&app.store, "SELECT count(*) FROM replays").await,
        2,
        "the 400 exchange is not replayed"
    );
    let id: i64 = sqlx::query_scalar("SELECT max(id) FROM diffs")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (status, page) = app.ui_get(&format!("/diffs/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("<script>alert"),
        "captured content must be escaped"
    );
    assert!(
        !page.contains("<img src=x"),
        "captured content must be escaped"
    );
    assert!(
        page.contains("&#60;script&#62;alert"),
        "escaped, not dropped: {page}"
    );
}

#[tokio::test]
async fn unknown_routes_pass_through_uncaptured() {
    let app = spawn_app(TestBus::Memory).await;
    let resp = app
        .http
        .get(format!("http://{}/v1/models", app.tap))
        .send()
        .await
        .unwrap();
    // The fake provider has no /v1/models: the tap forwards the upstream's 404 as is.
    assert_eq!(resp.status().as_u16(), 404);
    let resp = app
        .http
        .get(format!("http://{}/readyz", app.tap))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&app.store, "SELECT count(*) FROM exchanges").await, 0);
}
