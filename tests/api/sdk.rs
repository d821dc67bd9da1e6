//! The official OpenAI Python SDK behaves identically against the upstream and through the tap.

use std::process::Command;
use std::time::Duration;

use crate::helpers::{count, spawn_app, wait_until, TestBus};

/// The Python with the `openai` package (scripts/test.sh provisions a venv and sets this).
fn python() -> String {
    std::env::var("SHADOWTAP_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn openai_python_sdk_sees_no_difference() {
    let app = spawn_app(TestBus::Memory).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/openai_parity.py");
    let direct = app.production.base_url();
    let tap = format!("http://{}", app.tap);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .arg(direct)
            .arg(tap)
            .output()
    })
    .await
    .unwrap()
    .expect("python runs (scripts/test.sh provisions it; or set SHADOWTAP_TEST_PYTHON)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "SDK results differ through the tap:\n{stdout}"
    );
    assert!(stdout.contains("7 passed, 0 failed"), "{stdout}");

    // The five successful calls were captured (streams reassembled) and diffed.
    wait_until(
        Duration::from_secs(20),
        "captures of the SDK calls",
        || async {
            count(
                &app.store,
                "SELECT count(*) FROM exchanges WHERE status = 200",
            )
            .await
                == 5
        },
    )
    .await;
    assert_eq!(
        count(&app.store, "SELECT count(*) FROM exchanges WHERE streamed").await,
        2
    );
    assert_eq!(
        count(
            &app.store,
            "SELECT count(*) FROM exchanges WHERE streamed AND (stream_stats->>'complete')::boolean AND ttft_ms IS NOT NULL"
        )
        .await,
        2
    );
    let leaked = count(
        &app.store,
        "SELECT count(*) FROM exchanges WHERE request_headers::text ILIKE '%sk-test-sdk%'",
    )
    .await;
    assert_eq!(leaked, 0);
}
