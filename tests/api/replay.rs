//! Replay workers: classification of every candidate failure, retries that honour Retry-After,
//! model mapping and parameter overrides, streaming replays, keys never stored.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use shadowtap::app::{Application, Roles};
use shadowtap::config::{CandidateConfig, StreamMode};
use shadowtap::demo::fake::FakeProvider;
use shadowtap::demo::scenarios::Persona;
use shadowtap::store::Store;

use crate::helpers::{count, test_config, wait_until, TestBus, TestDb};

struct Case {
    name: &'static str,
    model: &'static str,
    edit: fn(&mut CandidateConfig),
}

fn no_edit(_: &mut CandidateConfig) {}

#[tokio::test]
async fn candidate_outcomes_are_classified_and_retried_sensibly() {
    let db = TestDb::new().await;
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    let fake = FakeProvider::spawn(Persona::Faithful).await.unwrap();
    let cases = [
        Case {
            name: "ok",
            model: "gpt-4o-mini",
            edit: no_edit,
        },
        Case {
            name: "flaky",
            model: "flaky-429",
            edit: no_edit,
        },
        Case {
            name: "limited",
            model: "fail-429",
            edit: |c| c.max_attempts = 2,
        },
        Case {
            name: "broken",
            model: "fail-500",
            edit: |c| c.max_attempts = 3,
        },
        Case {
            name: "unsupported",
            model: "unsupported",
            edit: no_edit,
        },
        Case {
            name: "malformed",
            model: "malformed",
            edit: no_edit,
        },
        Case {
            name: "cut",
            model: "broken-stream",
            edit: |c| c.stream = StreamMode::Always,
        },
        Case {
            name: "slow",
            model: "slow-3000",
            edit: |c| {
                c.timeout_secs = Some(1.0);
                c.max_attempts = 1
            },
        },
        Case {
            name: "hang",
            model: "hang",
            edit: |c| {
                c.timeout_secs = Some(1.0);
                c.max_attempts = 1
            },
        },
        Case {
            name: "huge",
            model: "huge",
            edit: no_edit,
        },
    ];
    let mut config = test_config(&TestBus::Memory, &production, &[]);
    config.database.url = Some(db.url.clone());
    config.worker.max_response_bytes = 1024 * 1024;
    for case in &cases {
        let mut c = CandidateConfig::new(case.name, &fake.base_url());
        c.model = Some(case.model.into());
        (case.edit)(&mut c);
        config.candidates.push(c);
    }
    let app = Application::build(config, Roles::ALL, &BTreeMap::<String, String>::new())
        .await
        .unwrap();
    let store = app.store().unwrap().clone();
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let resp = http
        .post(format!(
            "http://{}/v1/chat/completions",
            app.tap_addr().unwrap()
        ))
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_until(Duration::from_secs(60), "a diff per candidate", || async {
        count(&store, "SELECT count(*) FROM diffs").await == cases.len() as i64
    })
    .await;
    println!("all candidates settled in {:?}", started.elapsed());

    type Row = (String, Option<String>, i32, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.candidate, r.error_class, r.attempts, d.verdict, r.error_message
         FROM replays r JOIN diffs d ON d.replay_id = r.id ORDER BY r.candidate",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let got: BTreeMap<&str, (Option<&str>, i32, &str)> = rows
        .iter()
        .map(|(c, e, a, v, _)| (c.as_str(), (e.as_deref(), *a, v.as_str())))
        .collect();
    for r in &rows {
        println!("{r:?}");
    }
    let expect: BTreeMap<&str, (Option<&str>, i32, &str)> = [
        ("ok", (None, 1, "same")),
        ("flaky", (None, 3, "same")),
        ("limited", (Some("rate_limited"), 2, "error")),
        ("broken", (Some("server_error"), 3, "error")),
        (
            "unsupported",
            (Some("unsupported_parameter"), 1, "incompatible"),
        ),
        ("malformed", (Some("malformed_response"), 1, "regression")),
        ("cut", (Some("malformed_response"), 1, "regression")),
        ("slow", (Some("timeout"), 1, "error")),
        ("hang", (Some("timeout"), 1, "error")),
        ("huge", (Some("malformed_response"), 1, "regression")),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, expect);
    // Retry-After: 1 was honoured twice for the flaky candidate (and once for the limited one).
    let flaky_latency: f64 = sqlx::query_scalar("SELECT extract(epoch FROM replayed_at - e.captured_at)::float8 FROM replays r JOIN exchanges e ON e.id = r.exchange_id WHERE candidate = 'flaky'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        flaky_latency >= 2.0,
        "two Retry-After waits of 1 s: {flaky_latency}"
    );
    let m = app.metrics();
    assert_eq!(
        m.replay_retries
            .with_label_values(&["flaky", "rate_limited"])
            .get(),
        2
    );
    assert_eq!(
        m.replay_retries
            .with_label_values(&["limited", "rate_limited"])
            .get(),
        1
    );
    assert_eq!(
        m.replay_retries
            .with_label_values(&["broken", "server_error"])
            .get(),
        2
    );
    assert_eq!(
        m.replay_retries
            .with_label_values(&["unsupported", "unsupported_parameter"])
            .get(),
        0
    );
    // 1 + 3 + 2 + 3 + 1 + 1 + 1 + 1 + 1 + 1 requests: no retry storm.
    assert_eq!(fake.calls(), 15);
    assert!(app.shutdown(Duration::from_secs(10)).await);
}

async fn all_text(store: &Store) -> String {
    let mut text = String::new();
    for table in ["exchanges", "replays", "diffs", "dead_letters"] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(store.pool())
            .await
            .unwrap();
        text.extend(rows);
    }
    text
}

#[tokio::test]
async fn requests_are_adapted_streamed_like_the_original_and_keys_never_stored() {
    let db = TestDb::new().await;
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    let fake = FakeProvider::spawn(Persona::Faithful).await.unwrap();
    let mut config = test_config(&TestBus::Memory, &production, &[]);
    config.database.url = Some(db.url.clone());
    let mut c = CandidateConfig::new("mapped", &fake.base_url());
    c.api_key_env = Some("MAPPED_API_KEY".into());
    c.models.insert("gpt-4o*".into(), "llama-3.3-70b".into());
    c.params
        .insert("temperature".into(), toml::Value::Float(0.0));
    c.drop_params = vec!["logit_bias".into()];
    c.input_price_per_mtok = 1.0;
    c.output_price_per_mtok = 2.0;
    config.candidates.push(c);
    let env: BTreeMap<String, String> = [(
        "MAPPED_API_KEY".to_string(),
        "sk-candidate-secret-9876543210".to_string(),
    )]
    .into();
    let app = Application::build(config, Roles::ALL, &env).await.unwrap();
    let store = app.store().unwrap().clone();

    let body = json!({"model": "gpt-4o-mini", "temperature": 0.9, "logit_bias": {"50256": -100},
        "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Translate to French: The meeting has been moved to Thursday at 10am."}]});
    let resp = reqwest::Client::new()
        .post(format!(
            "http://{}/v1/chat/completions",
            app.tap_addr().unwrap()
        ))
        .bearer_auth("sk-production-secret-0123456789")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    wait_until(Duration::from_secs(20), "the diff", || async {
        count(&store, "SELECT count(*) FROM diffs").await == 1
    })
    .await;

    let (auth, sent) = fake.last_request().unwrap();
    assert_eq!(
        auth.as_deref(),
        Some("Bearer sk-candidate-secret-9876543210"),
        "the candidate's own key is sent"
    );
    assert_eq!(sent["model"], "llama-3.3-70b");
    assert_eq!(sent["temperature"], json!(0.0));
    assert!(sent.get("logit_bias").is_none());
    assert_eq!(sent["stream"], true, "streamed like the original");

    let (streamed, ttft, chunks, cost, usage_in): (
        bool,
        Option<f64>,
        Option<i32>,
        Option<f64>,
        Option<i32>,
    ) = sqlx::query_as("SELECT streamed, ttft_ms, chunks, cost_usd, prompt_tokens FROM replays")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        streamed && ttft.is_some() && chunks.unwrap_or(0) > 2,
        "{streamed} {ttft:?} {chunks:?}"
    );
    assert!(
        usage_in.is_some() && cost.unwrap_or(0.0) > 0.0,
        "usage from the stream's last chunk, priced"
    );
    let verdict: String = sqlx::query_scalar("SELECT verdict FROM diffs")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(verdict, "same");

    let everything = all_text(&store).await;
    for secret in [
        "sk-candidate-secret-9876543210",
        "sk-production-secret-0123456789",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into the database"
        );
    }
    let stored: Value = sqlx::query_scalar("SELECT request_body FROM replays")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        stored["model"], "llama-3.3-70b",
        "the request actually sent is recorded"
    );
}

#[tokio::test]
async fn a_spent_daily_budget_stops_replays_and_shows_on_the_dashboard() {
    let app = crate::helpers::spawn_app_with(TestBus::Memory, |c| {
        c.candidates.truncate(1); // faithful
        c.candidates[0].input_price_per_mtok = 1_000_000.0; // a dollar per prompt token
        c.candidates[0].daily_budget_usd = 30.0;
        // One request at a time: each sees the previous one's spend (with more slots, requests
        // already holding one may all pass the cap before any of them has cost anything).
        c.candidates[0].concurrency = 1;
    })
    .await;
    for i in 0..4 {
        let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": format!("budget {i}")}]});
        assert_eq!(app.chat_through_tap(&body).await.0, 200);
    }
    let skipped = || {
        app.app
            .metrics()
            .replays_skipped
            .with_label_values(&["faithful", "budget"])
            .get()
    };
    wait_until(
        Duration::from_secs(30),
        "every capture replayed or skipped",
        || async {
            count(&app.store, "SELECT count(*) FROM exchanges").await == 4
                && count(&app.store, "SELECT count(*) FROM replays").await as u64 + skipped() == 4
        },
    )
    .await;
    let (replayed, calls) = (
        count(&app.store, "SELECT count(*) FROM replays").await,
        app.faithful.calls(),
    );
    println!("cap 30 USD: {replayed} replays paid, {} skipped", skipped());
    assert!(
        (1..4).contains(&replayed),
        "the cap stopped replays: {replayed}"
    );
    assert_eq!(calls, replayed as u64, "a skipped replay costs nothing");
    let (status, page) = app.ui_get("/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"budget-faithful\""),
        "the dashboard says the budget is spent"
    );
    assert!(page.contains("replays paused until 00:00 UTC"));
}
