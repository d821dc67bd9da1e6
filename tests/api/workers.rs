//! Several worker processes share a Kafka topic; a SIGKILLed worker loses and duplicates nothing.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;
use shadowtap::bus::envelope;
use shadowtap::config::KafkaConfig;
use shadowtap::demo::fake::{completion, FakeProvider};
use shadowtap::demo::scenarios::{Answer, Persona};
use shadowtap::domain::{CapturedBody, Exchange, ExchangeId};
use shadowtap::store::Store;

use crate::helpers::{count, fresh_kafka, wait_until, TestDb};

/// A worker process, SIGKILLed when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(db: &TestDb, kafka: &KafkaConfig, candidate_url: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_shadowtap"))
            .args(["worker", "--bus", "kafka"])
            .env("DATABASE_URL", &db.url)
            .env("SHADOWTAP_BUS__KAFKA__BROKERS", &kafka.brokers)
            .env("SHADOWTAP_BUS__KAFKA__TOPIC", &kafka.topic)
            .env("SHADOWTAP_BUS__KAFKA__GROUP", &kafka.group)
            .env("SHADOWTAP_CANDIDATES__0__NAME", "steady")
            .env("SHADOWTAP_CANDIDATES__0__BASE_URL", candidate_url)
            .env("SHADOWTAP_CANDIDATES__0__MODEL", "slow-20")
            .env("SHADOWTAP_WORKER__MAX_IN_FLIGHT", "8")
            .env("SHADOWTAP_DIFF__SEMANTIC", "false")
            .env("SHADOWTAP_INDEX__BACKEND", "off") // not the user's default index folder
            .env("SHADOWTAP_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("worker starts");
        Self(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill(); // SIGKILL on Unix
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn exchange(i: usize) -> Exchange {
    let prompt = format!("Say hi to worker test {i}");
    let request =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]});
    let echo = format!("You said: {prompt}");
    let answer = Answer {
        content: Some(&echo),
        tool_call: None,
        finish_reason: "stop",
    };
    let response = completion("gpt-4o-mini", &prompt, &answer);
    Exchange {
        id: ExchangeId::new(),
        captured_at: chrono::Utc::now(),
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        model: Some("gpt-4o-mini".into()),
        tags: Default::default(),
        request_headers: Default::default(),
        request: CapturedBody::whole(request.to_string().as_bytes()),
        response: CapturedBody::whole(response.to_string().as_bytes()),
        status: 200,
        latency_ms: 5.0,
        ttfb_ms: Some(4.0),
        streamed: false,
        stream: None,
        incomplete: false,
    }
}

#[tokio::test]
async fn workers_share_partitions_and_a_sigkill_loses_and_duplicates_nothing() {
    const N: usize = 240;
    let db = TestDb::new().await;
    let store = Store::connect(&db.url, 4, Duration::from_secs(5))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let kafka = fresh_kafka(4).await;
    let candidate = FakeProvider::spawn(Persona::Faithful).await.unwrap();

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("message.timeout.ms", "10000")
        .create()
        .unwrap();
    for i in 0..N {
        let ex = exchange(i);
        let payload = envelope::encode(&ex).unwrap();
        let key = ex.id.to_string();
        producer
            .send(
                FutureRecord::to(&kafka.topic).key(&key).payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("produced");
    }

    let started = Instant::now();
    let mut a = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    let _b = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    wait_until(
        Duration::from_secs(60),
        "some progress before the kill",
        || async { count(&store, "SELECT count(*) FROM diffs").await >= (N / 4) as i64 },
    )
    .await;
    let at_kill = count(&store, "SELECT count(*) FROM diffs").await;
    a.kill();
    let _c = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    wait_until(
        Duration::from_secs(180),
        "every exchange replayed and diffed",
        || async { count(&store, "SELECT count(*) FROM diffs").await >= N as i64 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let exchanges = count(&store, "SELECT count(*) FROM exchanges").await;
    let replays = count(&store, "SELECT count(*) FROM replays").await;
    let per_pair = count(&store, "SELECT count(*) FROM (SELECT exchange_id FROM replays GROUP BY exchange_id, candidate HAVING count(*) > 1) d").await;
    let diffs = count(&store, "SELECT count(*) FROM diffs").await;
    let calls = candidate.calls();
    println!(
        "{N} exchanges in {:?}: killed a worker after {at_kill} diffs; stored {exchanges} exchanges, {replays} replays, \
         {diffs} diffs; candidate called {calls} times ({} repeated calls for deliveries in flight at the kill)",
        started.elapsed(),
        calls.saturating_sub(N as u64)
    );
    assert_eq!(exchanges, N as i64, "nothing lost");
    assert_eq!(replays, N as i64, "one replay per exchange and candidate");
    assert_eq!(per_pair, 0, "no duplicates");
    assert_eq!(diffs, N as i64);
    assert!(
        calls >= N as u64 && calls <= N as u64 + 16,
        "at most the killed worker's in-flight deliveries are re-sent: {calls}"
    );
}
