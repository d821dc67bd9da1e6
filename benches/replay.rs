//! Replay benchmarks (issue 4): pacing accuracy and worker pipeline throughput.
//!
//! 1. **Pacing accuracy.** The real replay path (`replay::replay_request`: token estimate, the
//!    candidate's `RateLimiter`, HTTP, usage settlement) drives requests to a fast local fake
//!    provider under a limit of `--rpm` requests and `--tpm` tokens per minute, from `--clients`
//!    concurrent callers, for `--pacing-secs` per phase. Phase one sends short demo requests (the
//!    request limit binds), phase two long ones (the token limit binds). Printed: requests and
//!    tokens (as the provider reported them) per minute against the limits; the binding one should
//!    be within ±5 %.
//! 2. **Pipeline throughput.** The real `Application` (tap + memory bus + worker, a fresh
//!    PostgreSQL database per run) replays demo traffic to one zero-latency fake candidate, with
//!    semantic comparison off and on (the embedding cache is off, so every answer is embedded as
//!    it would be for unique traffic). Printed: replays stored per second, next to the fake
//!    provider's raw request rate measured in the same run (closed loop, `--clients` callers) and
//!    their ratio.
//!
//! Nothing is asserted: numbers swing with the machine (on 2 cores the load generator, the fake
//! providers, the application and PostgreSQL share the CPU); compare ratios within one run.
//!
//! `cargo bench --bench replay -- [--pacing-secs 60] [--exchanges 2000] [--only pacing,pipeline]`

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::body::Body;
use clap::Parser;
use http::{header, Method, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shadowtap::app::{Application, Roles};
use shadowtap::config::{BusKind, CandidateConfig, Config};
use shadowtap::demo::fake::FakeProvider;
use shadowtap::demo::scenarios::{self, Persona};
use shadowtap::domain::{CapturedBody, Exchange, ExchangeId};
use shadowtap::http_client::{self, HttpClient};
use shadowtap::replay::{replay_request, Candidate, Limits};
use shadowtap::telemetry::Metrics;
use sqlx::postgres::PgPoolOptions;

/// Replay benchmarks: pacing accuracy and pipeline throughput.
#[derive(Debug, Parser)]
#[command(name = "bench-replay", about, long_about = None)]
struct Args {
    /// Seconds each pacing phase runs (two phases: requests-bound, then tokens-bound).
    #[arg(long, default_value_t = 60.0)]
    pacing_secs: f64,
    /// Requests per minute the paced candidate allows.
    #[arg(long, default_value_t = 600)]
    rpm: u32,
    /// Tokens per minute the paced candidate allows.
    #[arg(long, default_value_t = 60_000)]
    tpm: u32,
    /// Exchanges sent through the tap per pipeline run.
    #[arg(long, default_value_t = 2000)]
    exchanges: usize,
    /// Seconds the raw fake-provider baseline runs.
    #[arg(long, default_value_t = 5.0)]
    raw_secs: f64,
    /// Concurrent callers: pacing clients, raw-baseline clients, senders through the tap.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Concurrency slots of the pipeline's candidate (`concurrency` in its config).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Which parts to run.
    #[arg(long, value_delimiter = ',', default_values_t = ["pacing".to_owned(), "pipeline".to_owned()])]
    only: Vec<String>,
    /// Admin URL of the PostgreSQL server the pipeline creates its databases on.
    #[arg(
        long,
        env = "SHADOWTAP_TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    admin_url: String,
    /// Set by `cargo bench`; without it (`cargo test --benches`) nothing runs.
    #[arg(long, hide = true)]
    bench: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.bench {
        println!("bench-replay: run with `cargo bench --bench replay`; skipped");
        return Ok(());
    }
    println!(
        "machine: {} cores; load generator, fake providers, shadowtap and PostgreSQL share them",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if args.only.iter().any(|p| p == "pacing") {
        pacing(&args).await?;
    }
    if args.only.iter().any(|p| p == "pipeline") {
        pipeline(&args).await?;
    }
    Ok(())
}

// === pacing ===

/// One replay as the pacing benchmark saw it.
struct Sent {
    /// When the (last) attempt left: its end minus its latency.
    at: Instant,
    tokens: u64,
    ok: bool,
}

/// POST `body` to a chat endpoint; returns the JSON answer.
async fn post_json(http: &HttpClient, url: &str, body: &Value) -> anyhow::Result<Value> {
    let req = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body)?))?;
    let resp = http.request(req).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    Ok(serde_json::from_slice(&bytes)?)
}

/// A captured exchange for `request` answered with `response`, as the worker would receive it.
fn exchange(request: &Value, response: &Value) -> Exchange {
    let bytes = |v: &Value| serde_json::to_vec(v).expect("JSON serializes");
    Exchange {
        id: ExchangeId::new(),
        captured_at: chrono::Utc::now(),
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        model: request.get("model").and_then(Value::as_str).map(Into::into),
        tags: BTreeMap::new(),
        request_headers: BTreeMap::new(),
        request: CapturedBody::whole(&bytes(request)),
        response: CapturedBody::whole(&bytes(response)),
        status: 200,
        latency_ms: 1.0,
        ttfb_ms: None,
        streamed: false,
        stream: None,
        incomplete: false,
    }
}

/// Long support-ticket prompts (~190 words): the fake provider echoes them, ~400 tokens a request.
fn long_requests() -> Vec<Value> {
    let ticket = "Customer reports that since the upgrade to release 4.2 the nightly export of \
        project timelines to the data warehouse fails intermittently with a timeout after about \
        ninety seconds. The export covers roughly twelve thousand tasks across forty projects. \
        They use single sign-on through Okta, the legacy v1 API was switched off last week, and \
        their integration was migrated to v2 by a contractor who has since left. Logs attached by \
        the customer show HTTP 504 responses from the bulk endpoint, retries with exponential \
        backoff, and finally a partial file with about seven thousand rows. They ask whether the \
        bulk endpoint has a new page size limit, whether the export can be resumed from the last \
        page, and whether the timeout can be raised for their workspace. They also mention that \
        the dashboard shows the export as successful even when the file is incomplete, which \
        misled their finance team into reporting wrong hours for March.";
    (0..8)
        .map(|i| {
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "You are a support engineer. Summarize tickets for the on-call engineer."},
                    {"role": "user", "content": format!("Ticket #{}: {ticket}", 4100 + i)}
                ],
                "temperature": 0
            })
        })
        .collect()
}

/// The paced candidate pointed at `base_url`.
fn paced_candidate(base_url: &str, rpm: u32, tpm: u32, slots: usize) -> anyhow::Result<Candidate> {
    let mut config = CandidateConfig::new("paced", base_url);
    config.rpm = rpm;
    config.tpm = tpm;
    config.concurrency = slots;
    let limits = Limits {
        timeout: Duration::from_secs(30),
        max_response_bytes: 16 << 20,
    };
    Ok(Candidate::from_config(
        &config,
        &BTreeMap::<String, String>::new(),
        &limits,
    )?)
}

/// Requests and tokens per minute one phase achieved.
struct PhaseResult {
    requests: usize,
    failed: usize,
    rpm: f64,
    tpm: f64,
    tokens_per_request: f64,
}

/// Replay `requests` round robin from `clients` callers through a fresh paced candidate for
/// `secs`; sends after the window are not counted (callers still waiting finish first).
async fn pacing_phase(
    args: &Args,
    provider: &FakeProvider,
    http: &HttpClient,
    requests: &[Value],
) -> anyhow::Result<PhaseResult> {
    let mut work = Vec::new();
    for r in requests {
        let production = post_json(
            http,
            &format!("{}/v1/chat/completions", provider.base_url()),
            r,
        )
        .await
        .context("the fake provider answers")?;
        work.push((r.clone(), production.clone(), exchange(r, &production)));
    }
    let work = Arc::new(work);
    let candidate = Arc::new(paced_candidate(
        &provider.base_url(),
        args.rpm,
        args.tpm,
        args.clients,
    )?);
    let metrics = Metrics::new();
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let window = Duration::from_secs_f64(args.pacing_secs);
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let (work, candidate, metrics, sent, next, http) = (
            work.clone(),
            candidate.clone(),
            metrics.clone(),
            sent.clone(),
            next.clone(),
            http.clone(),
        );
        tasks.spawn(async move {
            while t0.elapsed() < window {
                let (request, production, ex) =
                    &work[next.fetch_add(1, Ordering::Relaxed) % work.len()];
                let r = replay_request(&http, &metrics, &candidate, ex, request, Some(production))
                    .await;
                let tokens = u64::from(r.prompt_tokens.unwrap_or(0))
                    + u64::from(r.completion_tokens.unwrap_or(0));
                let at = Instant::now() - Duration::from_secs_f64(r.latency_ms / 1000.0);
                sent.lock().expect("sent lock").push(Sent {
                    at,
                    tokens,
                    ok: r.error_class.is_none(),
                });
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let sent = sent.lock().expect("sent lock");
    let in_window: Vec<&Sent> = sent.iter().filter(|s| s.at - t0 < window).collect();
    let minutes = window.as_secs_f64() / 60.0;
    let tokens: u64 = in_window.iter().map(|s| s.tokens).sum();
    let ok = in_window.iter().filter(|s| s.ok).count();
    Ok(PhaseResult {
        requests: in_window.len(),
        failed: in_window.len() - ok,
        rpm: in_window.len() as f64 / minutes,
        tpm: tokens as f64 / minutes,
        tokens_per_request: tokens as f64 / ok.max(1) as f64,
    })
}

fn deviation(measured: f64, limit: f64) -> f64 {
    (measured - limit) / limit * 100.0
}

async fn pacing(args: &Args) -> anyhow::Result<()> {
    let provider = FakeProvider::spawn(Persona::Production).await?;
    let http = http_client::build(Duration::from_secs(5));
    let short: Vec<Value> = scenarios::all()
        .iter()
        .map(|s| s.request("gpt-4o-mini"))
        .collect();
    println!(
        "\npacing accuracy: limit {} requests/min and {} tokens/min, {} callers, {:.0} s per phase \
         (replay_request → RateLimiter → HTTP to a fake provider; tokens as the provider reported them)",
        args.rpm, args.tpm, args.clients, args.pacing_secs
    );
    println!(
        "| phase | binding limit | requests | failed | tokens/request | requests/min | vs limit | tokens/min | vs limit | within ±5% |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (phase, requests, binding) in [
        ("short demo requests", &short, "requests"),
        ("long ticket summaries", &long_requests(), "tokens"),
    ] {
        let r = pacing_phase(args, &provider, &http, requests).await?;
        let (dr, dt) = (
            deviation(r.rpm, f64::from(args.rpm)),
            deviation(r.tpm, f64::from(args.tpm)),
        );
        let bound = if binding == "requests" { dr } else { dt };
        println!(
            "| {phase} | {binding} | {} | {} | {:.0} | {:.1} | {dr:+.1}% | {:.0} | {dt:+.1}% | {} |",
            r.requests,
            r.failed,
            r.tokens_per_request,
            r.rpm,
            r.tpm,
            if bound.abs() <= 5.0 { "yes" } else { "NO" }
        );
    }
    Ok(())
}

// === pipeline ===

/// A database created for one run, dropped by [`BenchDb::drop_now`].
struct BenchDb {
    admin: String,
    name: String,
    url: String,
}

impl BenchDb {
    async fn create(admin: &str) -> anyhow::Result<Self> {
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(admin)
            .await
            .with_context(|| format!("PostgreSQL at {admin} (--admin-url)"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await?;
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').context("admin URL has a path")?;
        Ok(Self {
            url: format!("{base}/{name}"),
            admin: admin.to_owned(),
            name,
        })
    }

    async fn drop_now(self) -> anyhow::Result<()> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.admin)
            .await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&pool)
        .await?;
        pool.close().await;
        Ok(())
    }
}

/// Requests per second the fake provider answers directly (closed loop, `clients` callers).
async fn raw_rate(args: &Args) -> anyhow::Result<f64> {
    let provider = FakeProvider::spawn(Persona::Faithful).await?;
    let http = http_client::build(Duration::from_secs(5));
    let url = format!("{}/v1/chat/completions", provider.base_url());
    let bodies: Arc<Vec<Value>> = Arc::new(
        scenarios::all()
            .iter()
            .map(|s| s.request("gpt-4o-mini"))
            .collect(),
    );
    let run = |secs: f64| {
        let mut tasks = tokio::task::JoinSet::new();
        let t0 = Instant::now();
        for c in 0..args.clients {
            let (http, url, bodies) = (http.clone(), url.clone(), bodies.clone());
            tasks.spawn(async move {
                let mut n = 0usize;
                while t0.elapsed().as_secs_f64() < secs {
                    if post_json(&http, &url, &bodies[(c + n) % bodies.len()])
                        .await
                        .is_ok()
                    {
                        n += 1;
                    }
                }
                n
            });
        }
        async move {
            let mut total = 0;
            while let Some(n) = tasks.join_next().await {
                total += n.unwrap_or(0);
            }
            total as f64 / t0.elapsed().as_secs_f64()
        }
    };
    run(0.5).await; // warm up connections
    Ok(run(args.raw_secs).await)
}

/// What one pipeline run measured.
struct PipelineResult {
    sent: usize,
    stored: i64,
    dropped: u64,
    send_secs: f64,
    total_secs: f64,
    /// Diffs stored per second after the last request went through the tap (worker alone).
    drain_rate: Option<f64>,
}

async fn pipeline_run(args: &Args, semantic: bool) -> anyhow::Result<PipelineResult> {
    let db = BenchDb::create(&args.admin_url).await?;
    let production = FakeProvider::spawn(Persona::Production).await?;
    let candidate = FakeProvider::spawn(Persona::Faithful).await?;
    let mut config = Config::default();
    config.database.url = Some(db.url.clone());
    config.tap.listen = ([127, 0, 0, 1], 0).into();
    config.tap.upstream = production.base_url();
    config.tap.capture_queue = args.exchanges.max(10_000);
    config.bus.kind = BusKind::Memory;
    config.bus.memory_capacity = args.exchanges.max(10_000);
    config.diff.semantic = semantic;
    config.diff.embedding.cache_entries = 0;
    let mut c = CandidateConfig::new("faithful", &candidate.base_url());
    c.concurrency = args.concurrency;
    config.candidates.push(c);
    config.validate()?;
    let roles = Roles {
        tap: true,
        worker: true,
        ui: false,
    };
    let app = Application::build(config, roles, &BTreeMap::<String, String>::new()).await?;
    let tap = app.tap_addr().context("the tap runs")?;
    let store = app.store().context("the store is connected")?.clone();
    let http = http_client::build(Duration::from_secs(5));

    let wait_for = |target: i64, limit: Duration| {
        let store = store.clone();
        async move {
            let deadline = Instant::now() + limit;
            loop {
                let n = store.count_diffs().await?;
                if n >= target || Instant::now() > deadline {
                    return anyhow::Ok(n);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    // Warm up: connections, the first model calls.
    let warm = shadowtap::demo::send_traffic(&http, tap, 50).await;
    let base = wait_for(warm as i64, Duration::from_secs(60)).await?;

    let t0 = Instant::now();
    let ok = send_through_tap(&http, tap, args.exchanges, args.clients).await;
    let send_secs = t0.elapsed().as_secs_f64();
    let at_sent = store.count_diffs().await? - base;
    let dropped = app.metrics().dropped_total();
    let expected = base + ok as i64 - dropped as i64;
    let stored = wait_for(expected, Duration::from_secs(600)).await? - base;
    let total_secs = t0.elapsed().as_secs_f64();
    let drain = (stored - at_sent) as f64;
    let drain_rate = (drain >= 100.0).then(|| drain / (total_secs - send_secs));
    app.shutdown(Duration::from_secs(10)).await;
    drop(app);
    db.drop_now().await?;
    if stored < ok as i64 - dropped as i64 {
        bail!("only {stored} of {ok} exchanges were diffed within 10 minutes");
    }
    Ok(PipelineResult {
        sent: ok,
        stored,
        dropped,
        send_secs,
        total_secs,
        drain_rate,
    })
}

/// Send `count` demo requests through the tap from `clients` callers; returns how many got a 2xx.
async fn send_through_tap(
    http: &HttpClient,
    tap: std::net::SocketAddr,
    count: usize,
    clients: usize,
) -> usize {
    let all = scenarios::all();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, next) = (http.clone(), next.clone());
        tasks.spawn(async move {
            let mut ok = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return ok;
                }
                let s = &all[i % all.len()];
                let req = Request::builder()
                    .method(Method::POST)
                    .uri(format!("http://{tap}/v1/chat/completions"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::AUTHORIZATION, "Bearer sk-bench-0000000000000000")
                    .header("x-shadowtap-team", s.team)
                    .header("x-shadowtap-feature", s.feature)
                    .body(Body::from(
                        serde_json::to_vec(&s.request("gpt-4o-mini")).expect("serializes"),
                    ))
                    .expect("valid request");
                if let Ok(resp) = http.request(req).await {
                    let success = resp.status().is_success();
                    if resp.into_body().collect().await.is_ok() && success {
                        ok += 1;
                    }
                }
            }
        });
    }
    let mut ok = 0;
    while let Some(n) = tasks.join_next().await {
        ok += n.unwrap_or(0);
    }
    ok
}

async fn pipeline(args: &Args) -> anyhow::Result<()> {
    println!(
        "\npipeline throughput: {} exchanges through tap → memory bus → worker → 1 zero-latency candidate \
         (concurrency {}, max_in_flight 64) → differ → PostgreSQL; {} senders",
        args.exchanges, args.concurrency, args.clients
    );
    let raw = raw_rate(args).await?;
    println!(
        "| run | replays stored | dropped | send s | total s | replays/s | worker-only replays/s | raw fake provider req/s | replays/s ÷ raw |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for semantic in [false, true] {
        let r = pipeline_run(args, semantic).await?;
        let rate = r.stored as f64 / r.total_secs;
        println!(
            "| semantic {} | {}/{} | {} | {:.1} | {:.1} | {rate:.0} | {} | {raw:.0} | {:.3} |",
            if semantic { "on" } else { "off" },
            r.stored,
            r.sent,
            r.dropped,
            r.send_secs,
            r.total_secs,
            r.drain_rate
                .map_or_else(|| "—".to_owned(), |d| format!("{d:.0}")),
            rate / raw
        );
    }
    println!(
        "(worker-only: diffs stored after the last request left the tap, per second of that drain)"
    );
    Ok(())
}
