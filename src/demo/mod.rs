//! `shadowtap demo`: the whole pipeline on one machine with nothing but PostgreSQL.
//!
//! Starts a fake production provider and two fake candidates (one faithful, one with realistic
//! regressions), runs tap + memory bus + worker + UI in-process, sends a mix of realistic requests
//! through the tap, waits for every diff, and prints a summary and the dashboard URL.

pub mod fake;
mod fake_stream;
pub mod scenarios;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::body::Body;
use futures_util::StreamExt;
use http::{header, Method, Request};
use http_body_util::BodyExt;

use crate::app::{describe_database_url, Application, Roles};
use crate::config::{BusKind, CandidateConfig, Config, EnvLookup};
use crate::http_client::{self, HttpClient};
use crate::store;
use fake::FakeProvider;
use scenarios::Persona;

/// Database the demo uses when `DATABASE_URL` is not set.
pub const DEFAULT_DEMO_DATABASE: &str = "postgres://postgres@127.0.0.1:5432/shadowtap_demo";

/// Options of `shadowtap demo`.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub requests: usize,
    pub exit: bool,
    pub listen: SocketAddr,
    pub ui_listen: SocketAddr,
}

/// What the demo did, per candidate: verdict → count.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub sent: usize,
    pub succeeded: usize,
    pub per_candidate: BTreeMap<String, BTreeMap<String, i64>>,
}

/// Send `count` scenario requests through the tap at `tap`, 4 at a time. Returns how many got a 2xx.
pub async fn send_traffic(http: &HttpClient, tap: SocketAddr, count: usize) -> usize {
    let all = scenarios::all();
    futures_util::stream::iter(0..count)
        .map(|i| {
            let s = &all[i % all.len()];
            let body =
                serde_json::to_vec(&s.request("gpt-4o-mini")).expect("scenario requests serialize");
            let req = Request::builder()
                .method(Method::POST)
                .uri(format!("http://{tap}/v1/chat/completions"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(
                    header::AUTHORIZATION,
                    "Bearer sk-demo-0000000000000000000000000000",
                )
                .header("x-shadowtap-team", s.team)
                .header("x-shadowtap-feature", s.feature)
                .body(Body::from(body))
                .expect("valid request");
            async move {
                match http.request(req).await {
                    Ok(resp) => {
                        let ok = resp.status().is_success();
                        let _ = resp.into_body().collect().await;
                        ok
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "demo request failed");
                        false
                    }
                }
            }
        })
        .buffer_unordered(4)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await
}

/// Run the demo. Returns after printing the summary (and, unless `exit`, after Ctrl-C).
pub async fn run(options: DemoOptions, env: &dyn EnvLookup) -> anyhow::Result<DemoSummary> {
    let url = env
        .get("DATABASE_URL")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_DEMO_DATABASE.to_owned());
    if let Err(e) = store::ensure_database(&url, Duration::from_secs(5)).await {
        bail!(
            "the demo needs PostgreSQL and could not use {} ({e}).\n\
             Start one — e.g. `docker compose up -d postgres` with this repository's compose.yaml — \
             or point DATABASE_URL at a server you can use.",
            describe_database_url(&url)
        );
    }

    let production = FakeProvider::spawn(Persona::Production).await?;
    let faithful = FakeProvider::spawn(Persona::Faithful).await?;
    let regressing = FakeProvider::spawn(Persona::Regressing).await?;

    let mut config = Config::default();
    config.database.url = Some(url);
    config.bus.kind = BusKind::Memory;
    config.tap.listen = options.listen;
    config.tap.upstream = production.base_url();
    config.ui.listen = options.ui_listen;
    // Its own index folder, next to (not shared with) `shadowtap serve`'s.
    config.index.dir = Some(crate::index::default_dir().with_file_name("index-demo"));
    for (name, provider) in [("faithful", &faithful), ("regressing", &regressing)] {
        config
            .candidates
            .push(CandidateConfig::new(name, &provider.base_url()));
    }
    config.validate()?;

    let app = Application::build(config, Roles::ALL, env).await?;
    let tap = app.tap_addr().context("the tap is running")?;
    let ui = app.ui_addr().context("the UI is running")?;
    let store = app.store().context("the store is connected")?.clone();
    println!("shadowtap demo");
    println!("  tap (point an OpenAI SDK's base_url here): http://{tap}/v1");
    println!("  dashboard:                                 http://{ui}/");
    println!(
        "  dashboard token (log in with it):          {}",
        app.ui_token().unwrap_or_default()
    );
    println!(
        "  production: fake provider at {}; candidates: faithful, regressing",
        production.base_url()
    );

    let started_at = chrono::Utc::now();
    let before = store.count_diffs().await?;
    let http = http_client::build(Duration::from_secs(5));
    let t0 = Instant::now();
    let succeeded = send_traffic(&http, tap, options.requests).await;
    println!(
        "  sent {} requests through the tap ({} answered 2xx) in {:.1} s",
        options.requests,
        succeeded,
        t0.elapsed().as_secs_f64()
    );

    let expected = before + (succeeded as i64) * 2;
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.count_diffs().await? < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut summary = DemoSummary {
        sent: options.requests,
        succeeded,
        per_candidate: BTreeMap::new(),
    };
    for vc in store.verdict_counts(Some(started_at)).await? {
        summary
            .per_candidate
            .entry(vc.candidate)
            .or_default()
            .insert(vc.verdict, vc.count);
    }
    print_summary(&summary, app.metrics().dropped_total());
    println!("  open http://{ui}/ to browse the diffs");

    if options.exit {
        app.shutdown(Duration::from_secs(10)).await;
    } else {
        println!("  serving until Ctrl-C");
        app.run_until_signal(Duration::from_secs(10)).await;
    }
    Ok(summary)
}

fn print_summary(s: &DemoSummary, dropped: u64) {
    println!("  captures dropped: {dropped}");
    for (candidate, verdicts) in &s.per_candidate {
        let total: i64 = verdicts.values().sum();
        let regressions = verdicts.get("regression").copied().unwrap_or(0);
        let detail: Vec<String> = verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect();
        println!(
            "  {candidate:<11} replays {total:>4}, regressions {regressions:>4}  ({})",
            detail.join(", ")
        );
    }
}
