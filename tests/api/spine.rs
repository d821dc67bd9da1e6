//! The spine: one request flows tap → bus → candidates → diff → Postgres → UI.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{json, Value};
use shadowtap::bus::envelope;
use shadowtap::demo::scenarios;
use shadowtap::domain::{CapturedBody, Exchange, ExchangeId};

use crate::helpers::{count, fresh_kafka, spawn_app, wait_until, TestApp, TestBus};

fn scenario_request(name: &str) -> Value {
    scenarios::all()
        .iter()
        .find(|s| s.name == name)
        .unwrap()
        .request("gpt-4o-mini")
}

/// The tap returns exactly what the upstream returns, and each candidate gets a diff.
async fn assert_flow(app: &TestApp) {
    let body = scenario_request("invoice_extraction");
    let direct = app
        .http
        .post(format!("{}/v1/chat/completions", app.production.base_url()))
        .header("x-shadowtap-capture", "off")
        .json(&body)
        .send()
        .await
        .unwrap();
    let direct_status = direct.status().as_u16();
    let direct_type = direct.headers()["content-type"].clone();
    let direct_body = direct.bytes().await.unwrap();

    let resp = app
        .http
        .post(format!("http://{}/v1/chat/completions", app.tap))
        .bearer_auth("sk-test-secret-key-0123456789")
        .header("x-shadowtap-team", "finance")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), direct_status);
    assert_eq!(resp.headers()["content-type"], direct_type);
    assert_eq!(
        resp.bytes().await.unwrap(),
        direct_body,
        "the client gets the upstream's exact bytes"
    );

    wait_until(Duration::from_secs(30), "a diff per candidate", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == 2
    })
    .await;
    let verdicts: Vec<(String, String, Value)> =
        sqlx::query_as("SELECT candidate, verdict, findings FROM diffs ORDER BY candidate")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(verdicts[0].0, "faithful");
    assert!(
        ["same", "noise"].contains(&verdicts[0].1.as_str()),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[1].0, "regressing");
    assert_eq!(verdicts[1].1, "regression");
    assert_eq!(
        verdicts[1].2[0]["kind"], "invalid_json",
        "{:?}",
        verdicts[1].2
    );

    let tags: Value = sqlx::query_scalar("SELECT tags FROM exchanges")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(tags, json!({"team": "finance"}));
    let leaked = count(
        &app.store,
        "SELECT count(*) FROM exchanges WHERE request_headers::text ILIKE '%sk-test-secret%' \
         OR request_headers::text ILIKE '%authorization%'",
    )
    .await;
    assert_eq!(leaked, 0, "the Authorization header is never stored");

    // The UI lists both diffs and shows the detail.
    let (status, list) = app.ui_get("/").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("faithful") && list.contains("regressing"),
        "{list}"
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM diffs WHERE candidate = 'regressing'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let (status, detail) = app.ui_get(&format!("/diffs/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        detail.contains("INV-2024-0117") && detail.contains("invalid_json"),
        "{detail}"
    );
    let (status, api) = app.ui_get("/api/diffs?verdict=regression").await;
    assert_eq!(status, 200);
    let api: Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["diffs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn memory_bus_end_to_end() {
    let app = spawn_app(TestBus::Memory).await;
    assert_flow(&app).await;
    assert_eq!(app.app.metrics().dropped_total(), 0);
    assert!(
        app.app.shutdown(Duration::from_secs(10)).await,
        "shuts down within the grace period"
    );
}

#[tokio::test]
async fn kafka_end_to_end() {
    let app = spawn_app(TestBus::Kafka(fresh_kafka(3).await)).await;
    assert_flow(&app).await;
    assert!(app.app.shutdown(Duration::from_secs(15)).await);
}

fn producer(brokers: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("message.timeout.ms", "10000")
        .create()
        .unwrap()
}

async fn produce(p: &FutureProducer, topic: &str, key: &str, payload: &[u8]) {
    p.send(
        FutureRecord::to(topic).key(key).payload(payload),
        Duration::from_secs(10),
    )
    .await
    .expect("delivered to the test broker");
}

fn captured_exchange(app_production_answer: &[u8]) -> Exchange {
    let request = scenario_request("order_lookup");
    Exchange {
        id: ExchangeId::new(),
        captured_at: chrono::Utc::now(),
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        model: Some("gpt-4o-mini".into()),
        tags: Default::default(),
        request_headers: Default::default(),
        request: CapturedBody::whole(request.to_string().as_bytes()),
        response: CapturedBody::whole(app_production_answer),
        status: 200,
        latency_ms: 3.0,
        ttfb_ms: Some(2.0),
        streamed: false,
        stream: None,
        incomplete: false,
    }
}

#[tokio::test]
async fn kafka_redelivery_is_idempotent_and_poison_is_dead_lettered() {
    let kafka = fresh_kafka(3).await;
    let app = spawn_app(TestBus::Kafka(kafka.clone())).await;
    let production_answer = app
        .http
        .post(format!("{}/v1/chat/completions", app.production.base_url()))
        .json(&scenario_request("order_lookup"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let exchange = captured_exchange(&production_answer);
    let message = envelope::encode(&exchange).unwrap();
    let key = exchange.id.to_string();
    let p = producer(&kafka.brokers);

    // The same message twice, a poison message, a garbage-version envelope, then a batch record
    // holding a third copy and an exchange that does not decode.
    produce(&p, &kafka.topic, &key, &message).await;
    produce(&p, &kafka.topic, &key, &message).await;
    produce(&p, &kafka.topic, "poison", b"\x00\x01 definitely not json").await;
    produce(&p, &kafka.topic, "future", br#"{"v": 99, "exchange": {}}"#).await;
    let bad = br#"{"id":"not an exchange"}"#;
    let batch = envelope::encode_batch([&serde_json::to_vec(&exchange).unwrap()[..], bad]);
    produce(&p, &kafka.topic, "batch", &batch).await;

    let metrics = app.app.metrics().clone();
    wait_until(
        Duration::from_secs(60),
        "the three copies processed and three dead letters",
        || {
            let metrics = metrics.clone();
            async move {
                metrics.worker_messages.with_label_values(&["stored"]).get() >= 3
                    && metrics
                        .worker_messages
                        .with_label_values(&["dead_letter"])
                        .get()
                        >= 3
            }
        },
    )
    .await;
    for candidate in ["faithful", "regressing"] {
        assert_eq!(
            app.store
                .count_replays(exchange.id.as_uuid(), candidate)
                .await
                .unwrap(),
            1,
            "{candidate}"
        );
    }
    assert_eq!(
        app.faithful.calls(),
        1,
        "the candidate is not called again on redelivery"
    );
    assert_eq!(app.regressing.calls(), 1);
    assert_eq!(count(&app.store, "SELECT count(*) FROM diffs").await, 2);
    let wrong_arg: String =
        sqlx::query_scalar("SELECT verdict FROM diffs WHERE candidate = 'regressing'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        wrong_arg, "regression",
        "a wrong tool argument is a regression"
    );

    let dead = app.store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 3);
    // Only the bad exchange of the batch is parked, as a message of its own.
    let parked = dead
        .iter()
        .find(|d| d.origin.ends_with("[1]"))
        .unwrap_or_else(|| panic!("the batch's second exchange: {dead:?}"));
    assert!(parked.reason.contains("invalid exchange"), "{parked:?}");
    assert_eq!(parked.message_key.as_deref(), Some("batch"));
    assert_eq!(
        parked.payload,
        format!(
            r#"{{"v":1,"exchange":{}}}"#,
            std::str::from_utf8(bad).unwrap()
        )
    );
    // The record redelivered (a neighbour unfinished at a shutdown): the same exchange of the same
    // record is not parked twice.
    let again = app
        .store
        .insert_dead_letter(
            &parked.origin,
            parked.message_key.as_deref(),
            parked.payload.as_bytes(),
            &parked.reason,
        )
        .await
        .unwrap();
    assert!(!again, "parked once");
    assert_eq!(app.store.dead_letters(10).await.unwrap().len(), 3);
    assert!(
        dead.iter()
            .any(|d| d.reason.contains("not a shadowtap envelope")),
        "{dead:?}"
    );
    assert!(
        dead.iter()
            .any(|d| d.reason.contains("unsupported envelope version 99")),
        "{dead:?}"
    );
    assert!(dead.iter().all(|d| d.origin.starts_with(&kafka.topic)));
    assert!(app.app.shutdown(Duration::from_secs(15)).await);
}
