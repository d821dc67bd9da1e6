//! Data protection: no secret reaches Postgres, Kafka, the vector index or the logs (at any level); captured bodies
//! expire; the redaction audit command; re-scoring stored diffs.

use std::process::{Command, Stdio};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use serde_json::json;
use shadowtap::demo::fake::FakeProvider;
use shadowtap::demo::scenarios::{self, Persona};
use shadowtap::store::Store;

use crate::helpers::{count, fresh_kafka, spawn_app, wait_until, TestBus, TestDb};

const CLIENT_KEY: &str = "sk-proj-ClientSecretKey0123456789abcdefXYZ";
const CANDIDATE_KEY: &str = "sk-candidate-Secret-9f8e7d6c5b4a3210";
const BODY_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

#[tokio::test]
async fn no_secret_in_postgres_kafka_qdrant_or_trace_logs() {
    let db = TestDb::new().await;
    let kafka = fresh_kafka(2).await;
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    let candidate = FakeProvider::spawn(Persona::Faithful).await.unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log_path = std::env::temp_dir().join(format!(
        "shadowtap-trace-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let log = std::fs::File::create(&log_path).unwrap();
    let index_dir = std::env::temp_dir().join(format!(
        "shadowtap-secrets-index-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_shadowtap"))
        .args([
            "serve",
            "--bus",
            "kafka",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--ui-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--upstream",
            &production.base_url(),
            "--candidate",
            &format!("c={}", candidate.base_url()),
        ])
        .env("DATABASE_URL", &db.url)
        .env("SHADOWTAP_BUS__KAFKA__BROKERS", &kafka.brokers)
        // The vector index on, in a folder of its own: its payloads are scanned too.
        .env("SHADOWTAP_INDEX__BACKEND", "embedded")
        .env("SHADOWTAP_INDEX__DIR", &index_dir)
        .env("SHADOWTAP_INDEX__FLUSH_SECS", "0.2")
        .env("SHADOWTAP_BUS__KAFKA__TOPIC", &kafka.topic)
        .env("SHADOWTAP_BUS__KAFKA__GROUP", &kafka.group)
        .env("SHADOWTAP_CANDIDATES__0__NAME", "c")
        .env("SHADOWTAP_CANDIDATES__0__BASE_URL", candidate.base_url())
        .env("SHADOWTAP_CANDIDATES__0__API_KEY_ENV", "C_KEY")
        .env("C_KEY", CANDIDATE_KEY)
        .env("SHADOWTAP_UI_TOKEN", "hardening-ui-token-0123456789")
        .env("SHADOWTAP_LOG", "trace")
        // A file, not a pipe: trace logs would fill a pipe nobody reads and block the process.
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    wait_until(Duration::from_secs(30), "the tap to listen", || {
        let http = http.clone();
        async move {
            http.get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .is_ok()
        }
    })
    .await;
    for s in scenarios::all().iter().take(4) {
        let mut body = s.request("gpt-4o-mini");
        body["messages"][1]["content"] = json!(format!(
            "{} (my AWS key is {BODY_KEY}, token {CLIENT_KEY})",
            s.prompt
        ));
        let resp = http
            .post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
            .bearer_auth(CLIENT_KEY)
            .header("api-key", CLIENT_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let store = Store::connect(&db.url, 2, Duration::from_secs(5))
        .await
        .unwrap();
    wait_until(Duration::from_secs(60), "4 diffs", || async {
        count(&store, "SELECT count(*) FROM diffs").await == 4
    })
    .await;
    let (auth, _) = candidate.last_request().unwrap();
    assert_eq!(
        auth.as_deref(),
        Some(format!("Bearer {CANDIDATE_KEY}").as_str()),
        "the candidate key is used"
    );

    // Kafka: read every message of the topic.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", format!("{}-scan", kafka.group))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&kafka.topic]).unwrap();
    let (mut messages, mut captures) = (Vec::new(), 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while captures < 4 && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let payload = m.payload().unwrap_or_default();
            // A record holds one capture or a batch of them.
            captures += shadowtap::bus::envelope::decode_record(payload)
                .expect("a shadowtap envelope")
                .len();
            messages.push(String::from_utf8_lossy(payload).into_owned());
        }
    }
    assert_eq!(captures, 4, "every capture was on the topic");

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let logs = String::from_utf8_lossy(&std::fs::read(&log_path).unwrap()).into_owned();
    let _ = std::fs::remove_file(&log_path);
    assert!(logs.lines().count() > 20, "trace logging was on");

    // Qdrant payloads: open the index folder the process released and read every point.
    let config = shadowtap::config::IndexConfig {
        backend: shadowtap::config::IndexBackend::Embedded,
        dir: Some(index_dir.clone()),
        flush_secs: 0.2,
        ..Default::default()
    };
    let env = std::collections::BTreeMap::<String, String>::new();
    let index = shadowtap::index::VectorIndex::open(&config, &env)
        .await
        .unwrap()
        .expect("embedded index");
    let mut payloads = Vec::new();
    for collection in [
        shadowtap::index::Collection::Prompts,
        shadowtap::index::Collection::Regressions,
    ] {
        for record in index.recent(collection, None, 1000).await.unwrap() {
            payloads.push(serde_json::Value::Object(record.payload).to_string());
        }
    }
    drop(index);
    let _ = std::fs::remove_dir_all(&index_dir);
    assert!(
        payloads.len() >= 4,
        "every prompt was indexed: {} points",
        payloads.len()
    );

    let mut database = String::new();
    for table in ["exchanges", "replays", "diffs", "dead_letters"] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(store.pool())
            .await
            .unwrap();
        database.extend(rows);
    }
    for secret in [CLIENT_KEY, CANDIDATE_KEY, BODY_KEY] {
        assert!(!database.contains(secret), "{secret} in Postgres");
        assert!(
            !messages.iter().any(|m| m.contains(secret)),
            "{secret} in Kafka"
        );
        assert!(!logs.contains(secret), "{secret} in the logs");
        assert!(
            !payloads.iter().any(|p| p.contains(secret)),
            "{secret} in Qdrant payloads"
        );
    }
    println!(
        "scanned {} bytes of rows, {} Kafka messages, {} log lines, {} index payloads: no secret",
        database.len(),
        messages.len(),
        logs.lines().count(),
        payloads.len()
    );
}

#[tokio::test]
async fn captured_bodies_expire_but_verdicts_stay() {
    let app = spawn_app(TestBus::Memory).await;
    for s in scenarios::all().iter().take(3) {
        app.chat_through_tap(&s.request("gpt-4o-mini")).await;
    }
    wait_until(Duration::from_secs(20), "diffs", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == 6
    })
    .await;
    sqlx::query("UPDATE exchanges SET captured_at = now() - interval '20 days' WHERE id IN (SELECT id FROM exchanges LIMIT 2)")
        .execute(app.store.pool())
        .await
        .unwrap();
    let expired = app
        .store
        .expire_bodies(Duration::from_secs(14 * 86_400))
        .await
        .unwrap();
    assert_eq!(expired, 2);
    assert_eq!(
        count(
            &app.store,
            "SELECT count(*) FROM exchanges WHERE response_body IS NULL AND bodies_expired"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app.store,
            "SELECT count(*) FROM replays WHERE response_body IS NULL"
        )
        .await,
        4
    );
    assert_eq!(
        count(&app.store, "SELECT count(*) FROM diffs").await,
        6,
        "verdicts stay"
    );
    assert_eq!(
        app.store
            .expire_bodies(Duration::from_secs(14 * 86_400))
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let (status, _) = app.ui_get("/diffs").await;
    assert_eq!(status, 200);
}

#[test]
fn redact_check_shows_what_would_be_masked() {
    let file = std::env::temp_dir().join(format!(
        "shadowtap-redact-{}.json",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, r#"{"messages":[{"role":"user","content":"mail ada@example.com, card 4111 1111 1111 1111"}]}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shadowtap"))
        .args(["redact", "--check"])
        .arg(&file)
        .env("SHADOWTAP_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("<EMAIL_1>") && stdout.contains("<CARD_1>") && stdout.contains("email: 1"),
        "{stdout}"
    );
    assert!(!stdout.contains("ada@example.com"));
    std::fs::write(&file, "nothing to hide here").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_shadowtap"))
        .args(["redact", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn rescore_applies_new_rules_to_stored_diffs() {
    let app = spawn_app(TestBus::Memory).await;
    for s in scenarios::all() {
        app.chat_through_tap(&s.request("gpt-4o-mini")).await;
    }
    let n = 2 * scenarios::all().len() as i64;
    wait_until(Duration::from_secs(30), "diffs", || async {
        count(&app.store, "SELECT count(*) FROM diffs").await == n
    })
    .await;
    let refusals = count(
        &app.store,
        "SELECT count(*) FROM diffs WHERE first_kind = 'refusal' AND verdict = 'regression'",
    )
    .await;
    assert_eq!(refusals, 1);
    app.store
        .insert_rule(&shadowtap::store::NewRule {
            action: "accept_kind".into(),
            finding_kind: Some("refusal".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let (seen, changes) = shadowtap::cli::rescore::rescore(&app.store, None, None, false)
        .await
        .unwrap();
    assert_eq!(seen, n as u64);
    assert_eq!(
        changes.get("regression → noise").copied().unwrap_or(0)
            + changes.get("regression → minor").copied().unwrap_or(0),
        1,
        "{changes:?}"
    );
    assert_eq!(
        count(
            &app.store,
            "SELECT count(*) FROM diffs WHERE first_kind = 'refusal' AND verdict = 'regression'"
        )
        .await,
        0
    );
}
