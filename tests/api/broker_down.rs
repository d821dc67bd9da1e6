//! The tap keeps serving when the Kafka broker is down: captures are dropped and counted.

use std::time::{Duration, Instant};

use shadowtap::app::{Application, Roles};
use shadowtap::config::KafkaConfig;
use shadowtap::demo::fake::FakeProvider;
use shadowtap::demo::scenarios::Persona;

use crate::helpers::{test_config, wait_until, TestBus};

#[tokio::test]
async fn tap_answers_and_counts_drops_when_the_broker_is_down() {
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    // Nothing listens on port 1: every delivery fails after message_timeout_ms.
    let kafka = KafkaConfig {
        brokers: "127.0.0.1:1".into(),
        topic: "shadowtap-down".into(),
        message_timeout_ms: 1_000,
        ..KafkaConfig::default()
    };
    let config = test_config(&TestBus::Kafka(kafka), &production, &[]);
    let roles = Roles {
        tap: true,
        worker: false,
        ui: false,
    };
    let env = std::collections::BTreeMap::<String, String>::new();
    let app = Application::build(config, roles, &env)
        .await
        .expect("a tap starts without a broker");
    let tap = app.tap_addr().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let body = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]});
    let expected = http
        .post(format!("{}/v1/chat/completions", production.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let started = Instant::now();
    for _ in 0..20 {
        let resp = http
            .post(format!("http://{tap}/v1/chat/completions"))
            .json(&body)
            .send()
            .await
            .expect("the tap answers while the broker is down");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.bytes().await.unwrap(), expected);
    }
    // Each request is bounded by the client's 5 s timeout; this only reports the figure.
    println!(
        "20 requests through the tap with the broker down took {:?}",
        started.elapsed()
    );

    let metrics = app.metrics().clone();
    wait_until(
        Duration::from_secs(20),
        "20 captures counted as dropped",
        || {
            let m = metrics.clone();
            async move { m.dropped_total() >= 20 }
        },
    )
    .await;
    assert_eq!(metrics.dropped_total(), 20);
    let text = reqwest::get(format!("http://{tap}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("shadowtap_captures_dropped_total{reason=\"delivery_failed\"} 20"),
        "{text}"
    );
    assert!(app.shutdown(Duration::from_secs(10)).await);
}
