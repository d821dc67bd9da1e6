//! Test harness: a fresh database per test, a fresh Kafka topic per test, fake providers, and the
//! real application started on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use shadowtap::app::{Application, Roles};
use shadowtap::bus::kafka::ensure_topic;
use shadowtap::config::{BusKind, CandidateConfig, Config, KafkaConfig};
use shadowtap::demo::fake::FakeProvider;
use shadowtap::demo::scenarios::Persona;
use shadowtap::store::Store;
use sqlx::postgres::PgPoolOptions;

/// The UI token test apps use.
pub const UI_TOKEN: &str = "test-ui-token-0123456789";

/// Admin URL of the test PostgreSQL server (databases are created and dropped through it).
pub fn admin_database_url() -> String {
    std::env::var("SHADOWTAP_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Kafka bootstrap servers for tests (the broker the test scripts start).
pub fn kafka_brokers() -> String {
    std::env::var("SHADOWTAP_TEST_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{db}")
}

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub url: String,
    name: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin_database_url())
            .await
            .expect("the test PostgreSQL server must be reachable (SHADOWTAP_TEST_DATABASE_URL)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        Self {
            url: with_database(&admin_database_url(), &name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop from a separate thread with its own runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin_database_url())
                    .await
                {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A Kafka config with a fresh topic and group, the topic created with `partitions`.
pub async fn fresh_kafka(partitions: i32) -> KafkaConfig {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let config = KafkaConfig {
        brokers: kafka_brokers(),
        topic: format!("shadowtap-test-{id}"),
        group: format!("shadowtap-test-{id}"),
        partitions,
        message_timeout_ms: 5_000,
        ..KafkaConfig::default()
    };
    ensure_topic(&config)
        .await
        .expect("the test Kafka broker must be reachable (scripts/test.sh starts one; SHADOWTAP_TEST_KAFKA_BROKERS)");
    config
}

/// Which bus a test app uses.
pub enum TestBus {
    Memory,
    Kafka(KafkaConfig),
}

/// A running app with its fake providers and database.
pub struct TestApp {
    pub app: Application,
    pub store: Store,
    pub production: FakeProvider,
    pub faithful: FakeProvider,
    pub regressing: FakeProvider,
    pub http: reqwest::Client,
    pub tap: SocketAddr,
    pub ui: SocketAddr,
    _db: TestDb,
}

/// Config for a test app: port 0 everywhere, the given bus, two fake candidates.
pub fn test_config(
    bus: &TestBus,
    production: &FakeProvider,
    candidates: &[(&str, &FakeProvider)],
) -> Config {
    let mut config = Config::default();
    config.tap.listen = ([127, 0, 0, 1], 0).into();
    config.ui.listen = ([127, 0, 0, 1], 0).into();
    config.tap.upstream = production.base_url();
    // Tests share two cores with many parallel tests: capture at normal priority keeps their
    // timing deterministic (the background-priority default is measured by scripts/bench-tap.sh).
    config.tap.capture_nice = 0;
    // Parallel tests must not share the default embedded index folder: tests that want the
    // index turn it on with their own folder (tests/api/index.rs).
    config.index.backend = shadowtap::config::IndexBackend::Off;
    match bus {
        TestBus::Memory => config.bus.kind = BusKind::Memory,
        TestBus::Kafka(k) => {
            config.bus.kind = BusKind::Kafka;
            config.bus.kafka = k.clone();
        }
    }
    for (name, p) in candidates {
        config
            .candidates
            .push(CandidateConfig::new(name, &p.base_url()));
    }
    config
}

/// Start the whole application (tap + worker + UI) against a fresh database.
pub async fn spawn_app(bus: TestBus) -> TestApp {
    spawn_app_with(bus, |_| {}).await
}

/// Like [`spawn_app`], with a chance to adjust the config first.
pub async fn spawn_app_with(bus: TestBus, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new().await;
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    let faithful = FakeProvider::spawn(Persona::Faithful).await.unwrap();
    let regressing = FakeProvider::spawn(Persona::Regressing).await.unwrap();
    let mut config = test_config(
        &bus,
        &production,
        &[("faithful", &faithful), ("regressing", &regressing)],
    );
    config.database.url = Some(db.url.clone());
    config.ui.token = Some(UI_TOKEN.into());
    adjust(&mut config);
    let env = std::collections::BTreeMap::<String, String>::new();
    let app = Application::build(config, Roles::ALL, &env)
        .await
        .expect("app starts");
    TestApp {
        store: app.store().unwrap().clone(),
        tap: app.tap_addr().unwrap(),
        ui: app.ui_addr().unwrap(),
        app,
        production,
        faithful,
        regressing,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        _db: db,
    }
}

impl TestApp {
    /// POST a chat request through the tap; returns status and body bytes.
    pub async fn chat_through_tap(&self, body: &serde_json::Value) -> (u16, bytes::Bytes) {
        let resp = self
            .http
            .post(format!("http://{}/v1/chat/completions", self.tap))
            .bearer_auth("sk-test-secret-key-0123456789")
            .json(body)
            .send()
            .await
            .expect("tap answers");
        (resp.status().as_u16(), resp.bytes().await.unwrap())
    }

    /// GET a UI path with the token; returns status and body text.
    pub async fn ui_get(&self, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(format!("http://{}{path}", self.ui))
            .bearer_auth(UI_TOKEN)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

/// Poll `check` until it returns true or `timeout` passes. Panics with `what` on timeout.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// Count rows of a table with a WHERE clause.
pub async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}
