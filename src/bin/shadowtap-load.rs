//! shadowtap-load: a small open-loop, fixed-rate HTTP load generator for `scripts/bench-tap.sh`.
//!
//! wrk cannot hold a fixed rate and wrk2 is not packaged in Debian, so this does the one thing the
//! tap benchmark needs. With `--rate R` request `i` is scheduled at `start + i/R` by a dedicated
//! thread (`std::thread::sleep` has ~50 µs slack, tokio's timer has 1 ms) and its latency is
//! measured from that *scheduled* time, so a stalled server cannot hide its stall by slowing the
//! sender down (coordinated omission). At most `--connections` requests are in flight at once over
//! pooled keep-alive connections; a request waiting for a free connection is already late.
//! `--rate 0` runs closed-loop instead: `--connections` workers each send back to back (maximum
//! throughput; latency measured from the actual send).
//!
//! Prints one JSON line:
//! `{"url","rate","achieved_rps","requests","errors","p50_ms","p90_ms","p99_ms","p999_ms","max_ms"}`.
//! `achieved_rps` counts successful (2xx) answers only. Errors are transport failures, timeouts and
//! non-2xx statuses; latencies include every request that got an answer or timed out (a timed-out
//! request counts as its time until the timeout).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Body;
use bytes::Bytes;
use clap::Parser;
use http::{header, Method, Request, Uri};
use http_body_util::BodyExt;
use shadowtap::http_client::HttpClient;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

/// Open-loop fixed-rate (or closed-loop maximum-throughput) HTTP load generator.
#[derive(Debug, Parser)]
#[command(name = "shadowtap-load", about, long_about = None)]
struct Args {
    /// Target URL, e.g. http://127.0.0.1:8080/v1/chat/completions.
    #[arg(long)]
    url: String,
    /// Requests per second (open loop); 0 = closed loop at maximum throughput.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Measured seconds (after the warmup).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts (not recorded).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Maximum requests in flight (open loop) or number of workers (closed loop).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// POST this file as application/json (with a fake bearer token); without it, GET.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Per-request timeout in seconds, counted from the scheduled time.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
}

/// What one request looked like.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    /// Whether it falls into the measured window.
    measured: bool,
    /// Milliseconds from its start (scheduled or sent) to its end; `None` for a transport error.
    latency_ms: Option<f64>,
    ok: bool,
    done_at: Instant,
}

/// The request template: every request is the same.
#[derive(Clone)]
struct Template {
    uri: Uri,
    body: Option<Bytes>,
}

impl Template {
    fn request(&self) -> Request<Body> {
        let builder = Request::builder().uri(self.uri.clone());
        match &self.body {
            Some(body) => builder
                .method(Method::POST)
                .header(header::CONTENT_TYPE, "application/json")
                .header(
                    header::AUTHORIZATION,
                    "Bearer sk-bench-0000000000000000000000000000000000000000",
                )
                .body(Body::from(body.clone())),
            None => builder.method(Method::GET).body(Body::empty()),
        }
        .expect("a request built from a parsed URI is valid")
    }
}

/// Send one request and read its whole body; returns whether the status was 2xx.
async fn send(client: &HttpClient, template: &Template) -> anyhow::Result<bool> {
    let response = client.request(template.request()).await?;
    let ok = response.status().is_success();
    response.into_body().collect().await?;
    Ok(ok)
}

/// Run one request under a deadline, measuring from `start`.
async fn timed(
    client: &HttpClient,
    template: &Template,
    permits: Option<Arc<Semaphore>>,
    start: Instant,
    timeout: Duration,
    measured: bool,
) -> Outcome {
    let result = tokio::time::timeout_at((start + timeout).into(), async {
        let _permit = match permits {
            Some(p) => Some(p.acquire_owned().await.expect("semaphore is never closed")),
            None => None,
        };
        send(client, template).await
    })
    .await;
    let done_at = Instant::now();
    let elapsed_ms = done_at.duration_since(start).as_secs_f64() * 1000.0;
    let (latency_ms, ok) = match result {
        Ok(Ok(ok)) => (Some(elapsed_ms), ok),
        Ok(Err(_)) => (None, false),
        Err(_) => (Some(elapsed_ms), false),
    };
    Outcome {
        measured,
        latency_ms,
        ok,
        done_at,
    }
}

/// Open loop: a thread releases request `i` at `start + i/rate`; each runs as its own task.
/// Returns the outcomes and the start of the measured window.
async fn open_loop(args: &Args, client: HttpClient, template: Template) -> (Vec<Outcome>, Instant) {
    let timeout = Duration::from_secs_f64(args.timeout);
    let permits = Arc::new(Semaphore::new(args.connections.max(1)));
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let interval = 1.0 / args.rate;
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let pacer = std::thread::spawn(move || {
        for i in 0u64.. {
            let at = start + Duration::from_secs_f64(i as f64 * interval);
            if at >= end {
                break;
            }
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if tx.send(at).is_err() {
                break;
            }
        }
    });
    let mut tasks = JoinSet::new();
    let mut outcomes = Vec::with_capacity((args.rate * (args.warmup + args.duration)) as usize + 1);
    while let Some(at) = rx.recv().await {
        let (client, template, permits) = (client.clone(), template.clone(), permits.clone());
        let measured = at >= measure_from;
        tasks.spawn(async move {
            timed(&client, &template, Some(permits), at, timeout, measured).await
        });
        while let Some(done) = tasks.try_join_next() {
            outcomes.push(done.expect("request task panicked"));
        }
    }
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done.expect("request task panicked"));
    }
    pacer.join().expect("pacer thread panicked");
    (outcomes, measure_from)
}

/// Closed loop: `connections` workers send back to back until the end.
/// Returns the outcomes and the start of the measured window.
async fn closed_loop(
    args: &Args,
    client: HttpClient,
    template: Template,
) -> (Vec<Outcome>, Instant) {
    let timeout = Duration::from_secs_f64(args.timeout);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let mut workers = JoinSet::new();
    for _ in 0..args.connections.max(1) {
        let (client, template, outcomes) = (client.clone(), template.clone(), outcomes.clone());
        workers.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let mut outcome = timed(&client, &template, None, sent, timeout, false).await;
                outcome.measured = sent >= measure_from && outcome.done_at <= end;
                mine.push(outcome);
            }
            outcomes.lock().expect("outcomes poisoned").extend(mine);
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("worker panicked");
    }
    let mut outcomes = outcomes.lock().expect("outcomes poisoned");
    (std::mem::take(&mut *outcomes), measure_from)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn round3(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!((x * 1000.0).round() / 1000.0)
    } else {
        serde_json::Value::Null
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rate >= 0.0 && args.rate.is_finite(),
        "--rate must be >= 0"
    );
    anyhow::ensure!(args.duration > 0.0, "--duration must be > 0");
    let uri: Uri = args
        .url
        .parse()
        .with_context(|| format!("--url {:?} is not a URL", args.url))?;
    let body = match &args.body_file {
        Some(path) => Some(Bytes::from(
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )),
        None => None,
    };
    let template = Template { uri, body };
    let client = shadowtap::http_client::build(Duration::from_secs(5));
    let (outcomes, began) = if args.rate > 0.0 {
        open_loop(&args, client, template).await
    } else {
        closed_loop(&args, client, template).await
    };

    let measured: Vec<&Outcome> = outcomes.iter().filter(|o| o.measured).collect();
    let errors = measured.iter().filter(|o| !o.ok).count();
    let mut latencies: Vec<f64> = measured.iter().filter_map(|o| o.latency_ms).collect();
    latencies.sort_by(f64::total_cmp);
    let last_done = measured.iter().map(|o| o.done_at).max().unwrap_or(began);
    let window = last_done
        .saturating_duration_since(began)
        .as_secs_f64()
        .max(args.duration);
    let line = serde_json::json!({
        "url": args.url,
        "rate": args.rate,
        "achieved_rps": round3((measured.len() - errors) as f64 / window),
        "requests": measured.len(),
        "errors": errors,
        "p50_ms": round3(percentile(&latencies, 50.0)),
        "p90_ms": round3(percentile(&latencies, 90.0)),
        "p99_ms": round3(percentile(&latencies, 99.0)),
        "p999_ms": round3(percentile(&latencies, 99.9)),
        "max_ms": round3(latencies.last().copied().unwrap_or(f64::NAN)),
    });
    println!("{line}");
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // One thread for requests (plus the pacer): on a small machine the generator must stay light.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
