//! Several worker processes share a Kafka topic; a SIGKILLed worker loses and duplicates nothing.

use std::net::SocketAddr;
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

use crate::helpers::{count, fresh_kafka, TestDb};

/// A worker process, SIGKILLed when dropped.
struct WorkerProcess {
    child: Child,
    /// Its admin listener (`/metrics`), when started with one.
    admin: Option<SocketAddr>,
}

impl WorkerProcess {
    fn start(db: &TestDb, kafka: &KafkaConfig, candidate_url: &str) -> Self {
        Self::spawn(db, kafka, candidate_url, None)
    }

    /// With an admin listener, to read its metrics.
    fn start_with_admin(db: &TestDb, kafka: &KafkaConfig, candidate_url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::spawn(
            db,
            kafka,
            candidate_url,
            Some(SocketAddr::from(([127, 0, 0, 1], port))),
        )
    }

    fn spawn(
        db: &TestDb,
        kafka: &KafkaConfig,
        candidate_url: &str,
        admin: Option<SocketAddr>,
    ) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shadowtap"));
        cmd.args(["worker", "--bus", "kafka"]);
        if let Some(addr) = admin {
            cmd.args(["--admin-listen", &addr.to_string()]);
        }
        let child = cmd
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
            .env(
                "SHADOWTAP_LOG",
                std::env::var("SHADOWTAP_TEST_WORKER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .expect("worker starts");
        Self { child, admin }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
    }

    /// SIGTERM and wait: a graceful leave.
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// A gauge or counter from its `/metrics` (summed over labels); None while unreachable.
    async fn metric(&self, name: &str) -> Option<f64> {
        let addr = self.admin?;
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        Some(
            text.lines()
                .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum(),
        )
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

/// Poll the diff count until it reaches `target`, printing progress; on timeout, panic with the
/// counts so far (a stalled consumer group shows as no progress between lines).
async fn wait_for_diffs(store: &Store, target: i64, timeout: Duration, what: &str) -> i64 {
    let started = Instant::now();
    let mut last_report = Instant::now();
    loop {
        let diffs = count(store, "SELECT count(*) FROM diffs").await;
        if diffs >= target {
            return diffs;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            println!(
                "{:>5.1?}: {diffs}/{target} diffs ({what})",
                started.elapsed()
            );
            last_report = Instant::now();
        }
        if started.elapsed() > timeout {
            let replays = count(store, "SELECT count(*) FROM replays").await;
            let exchanges = count(store, "SELECT count(*) FROM exchanges").await;
            panic!(
                "timed out after {timeout:?} waiting for {what}: {exchanges} exchanges, {replays} replays, \
                 {diffs}/{target} diffs"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn workers_share_partitions_and_two_sigkills_lose_and_duplicate_nothing() {
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
    // Records of 1 to 6 exchanges, as a tap packs them (a batch is acked when all its exchanges
    // are stored; one redelivered after a kill finds the stored ones).
    let all: Vec<Exchange> = (0..N).map(exchange).collect();
    let (mut next, mut size, mut records) = (0, 1, 0);
    while next < N {
        let chunk = &all[next..(next + size).min(N)];
        let payload = match chunk {
            [one] => envelope::encode(one).unwrap(),
            many => {
                let encoded: Vec<Vec<u8>> = many
                    .iter()
                    .map(|e| serde_json::to_vec(e).unwrap())
                    .collect();
                envelope::encode_batch(encoded.iter().map(Vec::as_slice))
            }
        };
        let key = chunk[0].id.to_string();
        producer
            .send(
                FutureRecord::to(&kafka.topic).key(&key).payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("produced");
        next += chunk.len();
        size = size % 6 + 1;
        records += 1;
    }

    let started = Instant::now();
    let mut a = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    let mut b = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    let first_kill = wait_for_diffs(
        &store,
        (N / 4) as i64,
        Duration::from_secs(60),
        "progress before the first kill",
    )
    .await;
    a.kill();
    let _c = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    let second_kill = wait_for_diffs(
        &store,
        (N / 2) as i64,
        Duration::from_secs(120),
        "progress before the second kill",
    )
    .await;
    b.kill();
    let _d = WorkerProcess::start(&db, &kafka, &candidate.base_url());
    wait_for_diffs(
        &store,
        N as i64,
        Duration::from_secs(180),
        "every exchange replayed and diffed",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let exchanges = count(&store, "SELECT count(*) FROM exchanges").await;
    let replays = count(&store, "SELECT count(*) FROM replays").await;
    let per_pair = count(&store, "SELECT count(*) FROM (SELECT exchange_id FROM replays GROUP BY exchange_id, candidate HAVING count(*) > 1) d").await;
    let diffs = count(&store, "SELECT count(*) FROM diffs").await;
    let calls = candidate.calls();
    println!(
        "{N} exchanges in {records} records, {:?}: SIGKILLed a worker after {first_kill} and another after {second_kill} diffs; \
         stored {exchanges} exchanges, {replays} replays, {diffs} diffs; candidate called {calls} times \
         ({} repeated calls for deliveries in flight at the kills)",
        started.elapsed(),
        calls.saturating_sub(N as u64)
    );
    assert_eq!(exchanges, N as i64, "nothing lost");
    assert_eq!(replays, N as i64, "one replay per exchange and candidate");
    assert_eq!(per_pair, 0, "no duplicates");
    assert_eq!(diffs, N as i64);
    assert!(
        calls >= N as u64 && calls <= N as u64 + 32,
        "at most the killed workers' in-flight deliveries are re-sent: {calls}"
    );
}

/// Wait until every worker reports `want` assigned partitions.
async fn wait_for_assignment(workers: &[&WorkerProcess], want: f64, what: &str) -> Duration {
    let started = Instant::now();
    loop {
        let mut assigned = Vec::new();
        for w in workers {
            assigned.push(w.metric("shadowtap_kafka_assigned_partitions").await);
        }
        if assigned.iter().all(|a| *a == Some(want)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{what}: assignment still {assigned:?} after 90 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_taps_three_workers_share_the_topic_evenly_and_rebalance_without_duplicates() {
    const N: usize = 300;
    let db = TestDb::new().await;
    let store = Store::connect(&db.url, 4, Duration::from_secs(5))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let kafka = fresh_kafka(6).await;
    let production = FakeProvider::spawn(Persona::Production).await.unwrap();
    let candidate = FakeProvider::spawn(Persona::Faithful).await.unwrap();

    let mut workers: Vec<WorkerProcess> = (0..3)
        .map(|_| WorkerProcess::start_with_admin(&db, &kafka, &candidate.base_url()))
        .collect();
    let joined = wait_for_assignment(
        &workers.iter().collect::<Vec<_>>(),
        2.0,
        "three workers join",
    )
    .await;

    let mut taps = Vec::new();
    for _ in 0..2 {
        let mut config = crate::helpers::test_config(
            &crate::helpers::TestBus::Kafka(kafka.clone()),
            &production,
            &[],
        );
        config.database.url = Some(db.url.clone());
        let roles = shadowtap::app::Roles {
            tap: true,
            worker: false,
            ui: false,
        };
        let env = std::collections::BTreeMap::<String, String>::new();
        taps.push(
            shadowtap::app::Application::build(config, roles, &env)
                .await
                .expect("tap starts"),
        );
    }
    let http = reqwest::Client::new();
    let send = |range: std::ops::Range<usize>| {
        let (http, addrs) = (
            http.clone(),
            taps.iter()
                .map(|t| t.tap_addr().unwrap())
                .collect::<Vec<_>>(),
        );
        async move {
            for i in range {
                let tap = addrs[i % addrs.len()];
                let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": format!("scale-out {i}")}]});
                let resp = http
                    .post(format!("http://{tap}/v1/chat/completions"))
                    .bearer_auth("sk-scale-out-0123456789")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
            }
        }
    };
    let started = Instant::now();
    send(0..N / 2).await;
    wait_for_diffs(
        &store,
        (N / 4) as i64,
        Duration::from_secs(120),
        "progress with three workers",
    )
    .await;
    let mut per_worker_before = Vec::new();
    for w in &workers {
        per_worker_before.push(
            w.metric("shadowtap_worker_messages_total")
                .await
                .unwrap_or(0.0),
        );
    }
    workers[0].terminate();
    let left = workers.remove(0);
    drop(left);
    let rebalanced = wait_for_assignment(
        &workers.iter().collect::<Vec<_>>(),
        3.0,
        "two workers after one leaves",
    )
    .await;
    send(N / 2..N).await;
    wait_for_diffs(
        &store,
        N as i64,
        Duration::from_secs(180),
        "every exchange replayed and diffed",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut per_worker_after = Vec::new();
    for w in &workers {
        per_worker_after.push(
            w.metric("shadowtap_worker_messages_total")
                .await
                .unwrap_or(0.0),
        );
    }
    let exchanges = count(&store, "SELECT count(*) FROM exchanges").await;
    let dup_replays = count(&store, "SELECT count(*) FROM (SELECT 1 FROM replays GROUP BY exchange_id, candidate HAVING count(*) > 1) d").await;
    let dup_diffs = count(&store, "SELECT count(*) FROM (SELECT 1 FROM diffs GROUP BY exchange_id, candidate HAVING count(*) > 1) d").await;
    let diffs = count(&store, "SELECT count(*) FROM diffs").await;
    let published: u64 = taps
        .iter()
        .map(|t| t.metrics().captures_published.get())
        .sum();
    println!(
        "2 taps + 3 workers, 6 partitions: 2 partitions each after {joined:?}; one worker left after \
         {per_worker_before:?} messages per worker, the other two held 3 each after {rebalanced:?}; \
         {published} captures published, {exchanges} exchanges, {diffs} diffs in {:?}; \
         messages handled by the remaining workers {per_worker_after:?}; candidate called {} times",
        started.elapsed(),
        candidate.calls()
    );
    assert_eq!(published, N as u64);
    assert_eq!(exchanges, N as i64);
    assert_eq!(diffs, N as i64);
    assert_eq!(
        (dup_replays, dup_diffs),
        (0, 0),
        "no duplicate replays or diffs"
    );
    assert!(
        candidate.calls() <= N as u64 + 8,
        "a graceful leave re-sends at most its in-flight deliveries"
    );
    for tap in &taps {
        tap.shutdown(Duration::from_secs(5)).await;
    }
}
