//! Headless Chromium loads the dashboard, the regressions list and a diff of a seeded database,
//! takes screenshots (kept under `$SHADOWTAP_TEST_ARTIFACTS/screenshots`, default `target/artifacts`),
//! and checks key elements and the absence of console errors (CSP violations included).

use std::process::Command;
use std::time::Duration;

use shadowtap::demo::send_traffic;
use shadowtap::http_client;

use crate::helpers::{count, spawn_app, wait_until, TestBus, UI_TOKEN};

#[tokio::test]
async fn dashboard_list_and_detail_render_in_chromium() {
    let app = spawn_app(TestBus::Memory).await;
    let http = http_client::build(Duration::from_secs(5));
    let sent = send_traffic(&http, app.tap, 30).await;
    assert_eq!(sent, 30);
    wait_until(Duration::from_secs(30), "diffs", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == 60
    })
    .await;

    let node_modules = std::env::var("SHADOWTAP_TEST_NODE_MODULES")
        .expect("SHADOWTAP_TEST_NODE_MODULES points at node_modules with playwright-core (scripts/test.sh provisions it)");
    let out = std::env::var("SHADOWTAP_TEST_ARTIFACTS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/artifacts").into());
    let out = format!("{out}/screenshots");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/ui.mjs");
    let base = format!("http://{}", app.ui);
    let result = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(base)
            .arg(UI_TOKEN)
            .arg(&out)
            .env("SHADOWTAP_TEST_NODE_MODULES", node_modules)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!("{stdout}{stderr}");
    assert!(result.status.success(), "browser check failed:\n{stderr}");
}
