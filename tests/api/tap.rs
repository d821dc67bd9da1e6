//! The tap is invisible: streams pass through as they are produced, capture never waits, slow or
//! huge clients do not stall others.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use shadowtap::app::{Application, Roles};
use shadowtap::config::KafkaConfig;
use shadowtap::demo::fake::FakeProvider;
use shadowtap::demo::scenarios::{self, Persona};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{count, spawn_app, spawn_app_with, test_config, wait_until, TestApp, TestBus};

fn stream_request(prompt: &str) -> Value {
    json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": prompt}]})
}

#[tokio::test]
async fn streams_pass_through_byte_for_byte_and_are_reassembled() {
    let app = spawn_app(TestBus::Memory).await;
    let scenario = scenarios::all()
        .iter()
        .find(|s| s.name == "weather_tool")
        .unwrap();
    let mut body = scenario.request("gpt-4o-mini");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let direct = app
        .http
        .post(format!("{}/v1/chat/completions", app.production.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let direct_type = direct.headers()["content-type"].clone();
    let direct = direct.bytes().await.unwrap();
    let through = app
        .http
        .post(format!("http://{}/v1/chat/completions", app.tap))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(through.headers()["content-type"], direct_type);
    assert_eq!(
        through.bytes().await.unwrap(),
        direct,
        "SSE bytes unchanged"
    );

    wait_until(Duration::from_secs(20), "the stream's diffs", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == 2
    })
    .await;
    let (response, stats): (Value, Value) =
        sqlx::query_as("SELECT response_body, stream_stats FROM exchanges")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let call = &response["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Paris", "unit": "celsius"}),
        "tool-call deltas merged"
    );
    assert!(
        response["usage"]["total_tokens"].as_u64().is_some(),
        "usage from the last chunk"
    );
    assert_eq!(stats["done"], true);
    assert_eq!(stats["complete"], true);
    let verdict: String =
        sqlx::query_scalar("SELECT verdict FROM diffs WHERE candidate = 'regressing'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        verdict, "regression",
        "the dropped tool call is found in a streamed exchange too"
    );
}

#[tokio::test]
async fn each_chunk_reaches_the_client_as_the_upstream_sends_it() {
    let app = spawn_app(TestBus::Memory).await;
    let resp = app
        .http
        .post(format!("http://{}/v1/chat/completions", app.tap))
        .header("x-fake-chunk-delay-ms", "200")
        .json(&stream_request("one two three four five"))
        .send()
        .await
        .unwrap();
    let mut arrivals = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
        arrivals.push(Instant::now());
    }
    let emissions = app.production.emissions();
    assert!(emissions.len() >= 9, "{} frames", emissions.len());
    assert_eq!(
        arrivals.len(),
        emissions.len(),
        "no frames were held back and merged"
    );
    let mut worst = Duration::ZERO;
    for (sent, got) in emissions.iter().zip(&arrivals) {
        worst = worst.max(got.saturating_duration_since(*sent));
    }
    println!(
        "worst upstream→client delay over {} frames: {worst:?}",
        arrivals.len()
    );
    assert!(
        worst < Duration::from_millis(50),
        "a chunk waited {worst:?} in the tap"
    );
}

#[tokio::test]
async fn client_disconnect_stops_the_upstream_stream() {
    let app = spawn_app(TestBus::Memory).await;
    let resp = app
        .http
        .post(format!("http://{}/v1/chat/completions", app.tap))
        .header("x-fake-chunk-delay-ms", "100")
        .json(&stream_request(&"word ".repeat(40)))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    // 40+ frames at 100 ms would take 4 s; the upstream must stop soon after the client left.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let emitted = app.production.emissions().len();
    assert!(
        emitted < 20,
        "upstream kept streaming {emitted} frames after the client left"
    );
    wait_until(Duration::from_secs(10), "the aborted exchange captured as incomplete", || async {
        count(&app.store, "SELECT count(*) FROM exchanges WHERE incomplete AND NOT (stream_stats->>'complete')::boolean").await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count(&app.store, "SELECT count(*) FROM replays").await,
        0,
        "an incomplete stream is not replayed"
    );
}

#[tokio::test]
async fn a_thousand_requests_succeed_with_the_bus_down_and_every_drop_is_counted() {
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    let kafka = KafkaConfig {
        brokers: "127.0.0.1:1".into(),
        topic: "shadowtap-down".into(),
        message_timeout_ms: 500,
        ..KafkaConfig::default()
    };
    let mut config = test_config(&TestBus::Kafka(kafka), &production, &[]);
    config.tap.capture_queue = 8;
    let roles = Roles {
        tap: true,
        worker: false,
        ui: false,
    };
    let env = std::collections::BTreeMap::<String, String>::new();
    let app = Application::build(config, roles, &env).await.unwrap();
    let tap = app.tap_addr().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let ok = futures_util::stream::iter(0..1000)
        .map(|_| {
            let http = http.clone();
            let body = body.clone();
            async move {
                match http
                    .post(format!("http://{tap}/v1/chat/completions"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .buffer_unordered(32)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    assert_eq!(ok, 1000, "every client request succeeds");
    let m = app.metrics().clone();
    wait_until(
        Duration::from_secs(20),
        "all 1000 captures accounted as dropped",
        || {
            let m = m.clone();
            async move { m.dropped_total() == 1000 }
        },
    )
    .await;
    let queue_full = m
        .captures_dropped
        .with_label_values(&["tap_queue_full"])
        .get();
    let failed = m
        .captures_dropped
        .with_label_values(&["delivery_failed"])
        .get();
    println!("dropped: {queue_full} at the tap queue, {failed} after failed delivery");
    assert_eq!(
        m.captures_published.get(),
        failed + m.captures_dropped.with_label_values(&["bus_full"]).get()
    );
    assert!(app.shutdown(Duration::from_secs(10)).await);
}

#[tokio::test]
async fn huge_bodies_and_slow_clients_do_not_stall_others() {
    let app = spawn_app_with(TestBus::Memory, |c| c.tap.header_read_timeout_secs = 1.0).await;
    let tap = app.tap;

    // A slowloris client: sends half a request line and then nothing.
    let mut slow = tokio::net::TcpStream::connect(tap).await.unwrap();
    slow.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    // A 10 MiB upload in flight at the same time.
    let big = format!(
        "{{\"model\":\"gpt-4o-mini\",\"pad\":\"{}\"}}",
        "x".repeat(10 * 1024 * 1024)
    );
    let big_req = app
        .http
        .post(format!("http://{tap}/v1/chat/completions"))
        .body(big)
        .send();
    let big_task = tokio::spawn(big_req);

    let started = Instant::now();
    for i in 0..20 {
        let (status, _) = app
            .chat_through_tap(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": format!("ping {i}")}]}))
            .await;
        assert_eq!(status, 200);
    }
    println!(
        "20 requests alongside a slowloris and a 10 MiB upload: {:?}",
        started.elapsed()
    );
    // The fake upstream refuses bodies over 2 MiB and closes the connection: depending on whether
    // its early 413 arrives before the upload breaks off, the client gets that 413 or a 502
    // (upstream closed mid-request). Either way the client gets an answer, not a broken pipe: the
    // tap reads and discards the rest of the upload before closing (lingering close). Never a
    // hang, and nobody else waits.
    let big = big_task
        .await
        .unwrap()
        .expect("an answer, not a reset, although the upload was cut off");
    let status = big.status().as_u16();
    assert!(status == 413 || status == 502, "{status}");

    // The slow client is disconnected by the header-read timeout.
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(
        matches!(read, Ok(0)) || read.is_err() || String::from_utf8_lossy(&buf).contains("408")
    );

    if status != 413 {
        return;
    }
    // Captured with a truncated request prefix (the upstream stopped reading at its own limit).
    wait_until(
        Duration::from_secs(20),
        "the capture of the 10 MiB request, truncated",
        || async {
            count(
                &app.store,
                "SELECT count(*) FROM exchanges WHERE request_truncated AND status = 413",
            )
            .await
                == 1
        },
    )
    .await;
}

#[tokio::test]
async fn secrets_and_pii_never_reach_the_database() {
    let app = spawn_app(TestBus::Memory).await;
    let secret = "sk-proj-Zx81TfQ0aL2mN7pR4sV9wB3cD6eF1gH5";
    let prompt = "Refund ada.lovelace@example.com, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32, \
                  call +44 20 7946 0958 from 203.0.113.42; my key is sk-proj-Zx81TfQ0aL2mN7pR4sV9wB3cD6eF1gH5";
    let resp = app
        .http
        .post(format!("http://{}/v1/chat/completions", app.tap))
        .bearer_auth(secret)
        .header("api-key", secret)
        .header("cookie", format!("session={secret}"))
        .header("x-shadowtap-team", "billing")
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert!(
        answer["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("ada.lovelace@example.com"),
        "the client's own traffic is never altered"
    );
    wait_until(Duration::from_secs(20), "diffs", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == 2
    })
    .await;

    let mut everything = String::new();
    for table in ["exchanges", "replays", "diffs", "dead_letters"] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(app.store.pool())
            .await
            .unwrap();
        everything.extend(rows);
    }
    for leaked in [
        secret,
        "ada.lovelace@example.com",
        "4111 1111 1111 1111",
        "GB82 WEST",
        "7946 0958",
        "203.0.113.42",
    ] {
        assert!(
            !everything.contains(leaked),
            "{leaked} reached the database"
        );
    }
    for placeholder in [
        "<EMAIL_1>",
        "<CARD_1>",
        "<IBAN_1>",
        "<PHONE_1>",
        "<IP_1>",
        "<SECRET_1>",
    ] {
        assert!(
            everything.contains(placeholder),
            "{placeholder} missing: {everything}"
        );
    }
    let tags: Value = sqlx::query_scalar("SELECT tags FROM exchanges")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(tags, json!({"team": "billing"}));
    let metrics = metrics_of(&app).await;
    assert!(
        metrics.contains("shadowtap_redactions_total{kind=\"email\"}"),
        "{metrics}"
    );
}

/// Threads of this process whose name starts with `prefix` (Linux: /proc/self/task/*/comm).
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn several_event_loops_share_the_address_and_stop_together() {
    assert_eq!(threads_named("shadowtap-tap-"), 0);
    let app = spawn_app_with(TestBus::Memory, |c| c.tap.threads = 4).await;
    // A new thread names itself once it runs.
    wait_until(Duration::from_secs(5), "one thread per loop", || async {
        threads_named("shadowtap-tap-") == 4
    })
    .await;
    // Every request on a new connection: the kernel spreads them over the four SO_REUSEPORT
    // sockets, so a loop that did not accept would leave some of them hanging.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tap = app.tap;
    let ok = futures_util::stream::iter(0..64)
        .map(|i| {
            let fresh = fresh.clone();
            async move {
                let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": format!("loop {i}")}]});
                let r = fresh
                    .post(format!("http://{tap}/v1/chat/completions"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                r.status() == 200 && r.bytes().await.is_ok()
            }
        })
        .buffer_unordered(16)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    assert_eq!(ok, 64);
    let ready = fresh
        .get(format!("http://{tap}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    wait_until(Duration::from_secs(30), "64 exchanges stored", || async {
        count(&app.store, "SELECT count(*) FROM exchanges").await == 64
    })
    .await;
    assert!(app.app.shutdown(Duration::from_secs(10)).await);
    // Each loop signals completion as its thread's last act.
    wait_until(Duration::from_secs(5), "every loop thread gone", || async {
        threads_named("shadowtap-tap-") == 0
    })
    .await;
}

/// The tap's `/metrics` text.
async fn metrics_of(app: &TestApp) -> String {
    let url = format!("http://{}/metrics", app.tap);
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// The value of one series in a Prometheus text exposition (`name{labels}`), if present.
fn series(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `/metrics` counts requests by route and status and times them per route, across the event
/// loops (each keeps its own handles to the same series).
#[tokio::test]
async fn requests_are_counted_by_route_and_status() {
    let app = spawn_app(TestBus::Memory).await;
    let client = reqwest::Client::new();
    let chat = format!("http://{}/v1/chat/completions", app.tap);
    for model in ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini", "fail-400"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        let r = client.post(&chat).json(&body).send().await.unwrap();
        r.bytes().await.unwrap();
    }
    let other = client
        .get(format!("http://{}/v1/models", app.tap))
        .send()
        .await
        .unwrap();
    let other_status = other.status().as_u16();
    other.bytes().await.unwrap();

    let route = r#"route="/v1/chat/completions""#;
    let expected = [
        (
            format!(r#"shadowtap_tap_requests_total{{{route},status="200"}}"#),
            3.0,
        ),
        (
            format!(r#"shadowtap_tap_requests_total{{{route},status="400"}}"#),
            1.0,
        ),
        (
            format!(r#"shadowtap_tap_requests_total{{route="other",status="{other_status}"}}"#),
            1.0,
        ),
        (
            format!("shadowtap_tap_upstream_seconds_count{{{route}}}"),
            4.0,
        ),
        (
            r#"shadowtap_tap_upstream_seconds_count{route="other"}"#.to_owned(),
            1.0,
        ),
        // Time to first byte is taken from captured responses (the chat route's).
        (format!("shadowtap_tap_ttfb_seconds_count{{{route}}}"), 4.0),
    ];
    // The last capture's tee may finish just after its client read the body.
    wait_until(Duration::from_secs(5), "request metrics", || async {
        let metrics = metrics_of(&app).await;
        expected
            .iter()
            .all(|(name, value)| series(&metrics, name) == Some(*value))
    })
    .await;
}

/// The tap's own answers are counted too: an unreachable upstream is a `502` on the route.
#[tokio::test]
async fn gateway_errors_are_counted_by_route() {
    let app = spawn_app_with(TestBus::Memory, |c| {
        c.tap.upstream = "http://127.0.0.1:1".into()
    })
    .await;
    for _ in 0..2 {
        let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
        let (status, _) = app.chat_through_tap(&body).await;
        assert_eq!(status, 502);
    }
    let metrics = metrics_of(&app).await;
    let route = r#"route="/v1/chat/completions""#;
    assert_eq!(
        series(
            &metrics,
            &format!(r#"shadowtap_tap_requests_total{{{route},status="502"}}"#)
        ),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        series(
            &metrics,
            &format!("shadowtap_tap_upstream_seconds_count{{{route}}}")
        ),
        Some(2.0),
        "{metrics}"
    );
}
