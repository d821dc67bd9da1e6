//! UI at scale (issue 6): the regressions list (first and deep keyset pages, with and without
//! filters), its count, and the dashboard, timed over a database seeded with
//! `scripts/seed-diffs.sh` (1,000,000 diffs by default).
//!
//! Each case is requested through the real router (`shadowtap::ui::router`, called with
//! `tower::ServiceExt::oneshot`, bearer token, body read to the end) as the HTML page and as the
//! JSON API, and its store queries are timed on their own (`list_diffs`, `count_matching` capped
//! like the UI at 10,000; the dashboard's aggregates), so a slow page names its slow query.
//! Printed: p50 / p95 / max over `--runs` runs after `--warmup` runs, against the 100 ms target.
//!
//! `scripts/seed-diffs.sh postgres://postgres@127.0.0.1:5432/shadowtap_bench`
//! `cargo bench --bench ui -- --database-url postgres://postgres@127.0.0.1:5432/shadowtap_bench`

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::body::Body;
use clap::Parser;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use shadowtap::domain::Verdict;
use shadowtap::store::{DiffFilter, DiffSort, Store};
use shadowtap::telemetry::Metrics;
use shadowtap::ui::{self, Auth, UiState};
use tower::ServiceExt;

/// The UI's page size and count cap (`ui.page_size` default, `COUNT_CAP` in pages/list.rs).
const PAGE: i64 = 50;
const COUNT_CAP: i64 = 10_000;
const TARGET_MS: f64 = 100.0;
const TOKEN: &str = "bench-ui-token-0123456789";

/// UI-at-scale benchmark.
#[derive(Debug, Parser)]
#[command(name = "bench-ui", about, long_about = None)]
struct Args {
    /// A database seeded with scripts/seed-diffs.sh.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: String,
    /// Timed runs per case.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Untimed runs per case first (warm caches).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Set by `cargo bench`; without it (`cargo test --benches`) nothing runs.
    #[arg(long, hide = true)]
    bench: bool,
}

/// p50, p95 and max of some durations, in milliseconds.
#[derive(Clone, Copy)]
struct Stats {
    p50: f64,
    p95: f64,
    max: f64,
}

impl Stats {
    fn of(mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        Self {
            p50: at(0.5),
            p95: at(0.95),
            max: ms[ms.len() - 1],
        }
    }

    fn cell(&self) -> String {
        format!("{:.1} / {:.1}", self.p50, self.p95)
    }
}

/// Time `f` `runs` times after `warmup` untimed runs.
async fn time<F, Fut>(args: &Args, mut f: F) -> anyhow::Result<Stats>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for _ in 0..args.warmup {
        f().await?;
    }
    let mut ms = Vec::with_capacity(args.runs);
    for _ in 0..args.runs.max(1) {
        let t0 = Instant::now();
        f().await?;
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Stats::of(ms))
}

/// GET `uri` through the router with the token; the body is read to the end.
async fn get(router: &axum::Router, uri: &str) -> anyhow::Result<()> {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())?;
    let resp = router.clone().oneshot(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK || body.is_empty() {
        bail!(
            "GET {uri} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    Ok(())
}

/// One list case: its query string and the store filter it means.
struct ListCase {
    name: &'static str,
    query: String,
    filter: DiffFilter,
}

fn filter(f: impl FnOnce(&mut DiffFilter)) -> DiffFilter {
    let mut d = DiffFilter {
        limit: PAGE,
        ..DiffFilter::default()
    };
    f(&mut d);
    d
}

fn verdict(s: &str) -> Verdict {
    s.parse().expect("known verdict")
}

fn flag(stats: &[Stats]) -> &'static str {
    if stats.iter().all(|s| s.p95 < TARGET_MS) {
        "yes"
    } else {
        "NO"
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.bench {
        println!("bench-ui: run with `cargo bench --bench ui -- --database-url URL`; skipped");
        return Ok(());
    }
    let store = Store::connect(&args.database_url, 8, Duration::from_secs(10))
        .await
        .context("connect to --database-url")?;
    store.migrate().await?;
    let pool = store.pool();
    let total = store.count_diffs().await?;
    if total == 0 {
        bail!("the database holds no diffs: seed it with scripts/seed-diffs.sh first");
    }
    let candidates: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT candidate FROM diff_daily ORDER BY 1")
            .fetch_all(pool)
            .await?;
    let cand = candidates
        .iter()
        .find(|c| c.as_str() != "control")
        .cloned()
        .context("no candidate in diff_daily")?;
    // Cursors about 90 % of the way down (newest first) and 100k rows down the score order.
    let (min_id, max_id): (i64, i64) = sqlx::query_as("SELECT min(id), max(id) FROM diffs")
        .fetch_one(pool)
        .await?;
    let deep = min_id + (max_id - min_id) / 10;
    let (deep_score, deep_score_id): (f64, i64) = sqlx::query_as(
        "SELECT score, id FROM diffs ORDER BY score DESC, id DESC OFFSET $1 LIMIT 1",
    )
    .bind((total / 10).min(100_000))
    .fetch_one(pool)
    .await?;
    let week_ago = chrono::Utc::now().date_naive() - chrono::Days::new(7);
    let day_after = week_ago + chrono::Days::new(1);
    let at_midnight = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();

    let state = Arc::new(UiState {
        store: store.clone(),
        metrics: Metrics::new(),
        page_size: PAGE,
        candidates: candidates.clone(),
        auth: Auth::new(TOKEN.to_owned(), Duration::from_secs(3600), false),
        production_prices: (0.15, 0.60),
        index: None,
        daily_budgets: Default::default(),
    });
    let router = ui::router(state);
    println!(
        "UI at scale: {total} diffs, candidates {candidates:?}; p50 / p95 ms over {} runs (after {} warm-up runs); \
         target p95 < {TARGET_MS:.0} ms; {} cores shared with PostgreSQL",
        args.runs,
        args.warmup,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let cases = vec![
        ListCase {
            name: "first page",
            query: String::new(),
            filter: filter(|_| {}),
        },
        ListCase {
            name: "deep page (90 % down)",
            query: format!("before={deep}"),
            filter: filter(|f| f.before = Some((deep, None))),
        },
        ListCase {
            name: "candidate + verdict=regression",
            query: format!("candidate={cand}&verdict=regression"),
            filter: filter(|f| {
                f.candidate = Some(cand.clone());
                f.verdict = Some(verdict("regression"));
            }),
        },
        ListCase {
            name: "candidate + verdict, deep",
            query: format!("candidate={cand}&verdict=regression&before={deep}"),
            filter: filter(|f| {
                f.candidate = Some(cand.clone());
                f.verdict = Some(verdict("regression"));
                f.before = Some((deep, None));
            }),
        },
        ListCase {
            name: "verdict=incompatible (rare)",
            query: "verdict=incompatible".into(),
            filter: filter(|f| f.verdict = Some(verdict("incompatible"))),
        },
        ListCase {
            name: "finding kind=numbers_changed",
            query: "kind=numbers_changed".into(),
            filter: filter(|f| f.finding_kind = Some("numbers_changed".into())),
        },
        ListCase {
            name: "finding kind=length_ratio (often not the first finding)",
            query: "kind=length_ratio".into(),
            filter: filter(|f| f.finding_kind = Some("length_ratio".into())),
        },
        ListCase {
            name: "candidate + kind=language_switch (rare)",
            query: format!("candidate={cand}&kind=language_switch"),
            filter: filter(|f| {
                f.candidate = Some(cand.clone());
                f.finding_kind = Some("language_switch".into());
            }),
        },
        ListCase {
            name: "team + feature (tags)",
            query: "team=finance&feature=invoice-parser".into(),
            filter: filter(|f| {
                f.team = Some("finance".into());
                f.feature = Some("invoice-parser".into());
            }),
        },
        ListCase {
            name: "route + model",
            query: "route=/v1/chat/completions&model=gpt-4o".into(),
            filter: filter(|f| {
                f.route = Some("/v1/chat/completions".into());
                f.model = Some("gpt-4o".into());
            }),
        },
        ListCase {
            name: "one day a week ago",
            query: format!("since={week_ago}&until={week_ago}"),
            filter: filter(|f| {
                f.since = Some(at_midnight(week_ago));
                f.until = Some(at_midnight(day_after));
            }),
        },
        ListCase {
            name: "untriaged regressions",
            query: "verdict=regression&triage=untriaged".into(),
            filter: filter(|f| {
                f.verdict = Some(verdict("regression"));
                f.triage = Some("untriaged".into());
            }),
        },
        ListCase {
            name: "sort=score, min_score=0.8",
            query: "sort=score&min_score=0.8".into(),
            filter: filter(|f| {
                f.sort = DiffSort::Score;
                f.min_score = Some(0.8);
            }),
        },
        ListCase {
            name: "sort=score, deep",
            query: format!("sort=score&before={deep_score}:{deep_score_id}"),
            filter: filter(|f| {
                f.sort = DiffSort::Score;
                f.before = Some((deep_score_id, Some(deep_score)));
            }),
        },
    ];

    println!("\nregressions list — GET /diffs (HTML) and /api/diffs (JSON); store queries alone");
    println!(
        "| case | /diffs p50 / p95 | /api/diffs p50 / p95 | list query p50 / p95 | count query p50 / p95 | page max | p95 < 100 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    let mut slow = Vec::new();
    for case in &cases {
        let sep = if case.query.is_empty() { "" } else { "?" };
        let html_uri = format!("/diffs{sep}{}", case.query);
        let api_uri = format!("/api/diffs{sep}{}", case.query);
        let html = time(&args, || get(&router, &html_uri)).await?;
        let api = time(&args, || get(&router, &api_uri)).await?;
        let list = time(&args, || async {
            store.list_diffs(&case.filter).await?;
            Ok(())
        })
        .await?;
        let count = time(&args, || async {
            store.count_matching(&case.filter, COUNT_CAP).await?;
            Ok(())
        })
        .await?;
        let ok = flag(&[html, api]);
        if ok != "yes" {
            slow.push(case.name.to_owned());
        }
        println!(
            "| {} (`{}`) | {} | {} | {} | {} | {:.1} | {ok} |",
            case.name,
            if case.query.is_empty() {
                "—"
            } else {
                &case.query
            },
            html.cell(),
            api.cell(),
            list.cell(),
            count.cell(),
            html.max.max(api.max)
        );
    }

    println!("\ndashboard — GET / (HTML) and /api/dashboard (JSON); its store queries alone (first candidate)");
    println!("| request | p50 / p95 | max | p95 < 100 ms |");
    println!("|---|---:|---:|---|");
    let mut row = |name: String, s: Stats| {
        let ok = flag(&[s]);
        if ok != "yes" {
            slow.push(name.clone());
        }
        println!("| {name} | {} | {:.1} | {ok} |", s.cell(), s.max);
    };
    for days in [14, 30] {
        for uri in [
            format!("/?days={days}"),
            format!("/api/dashboard?days={days}"),
        ] {
            row(
                format!("`{uri}`"),
                time(&args, || get(&router, &uri)).await?,
            );
        }
    }
    row(
        "store: daily_verdicts(14)".into(),
        time(&args, || async {
            store.daily_verdicts(14).await?;
            Ok(())
        })
        .await?,
    );
    row(
        format!("store: performance({cand})"),
        time(&args, || async {
            store.performance(&cand).await?;
            Ok(())
        })
        .await?,
    );
    row(
        format!("store: error_classes({cand}, 14)"),
        time(&args, || async {
            store.error_classes(&cand, 14).await?;
            Ok(())
        })
        .await?,
    );
    row(
        format!("store: top_finding_kinds({cand}, 14)"),
        time(&args, || async {
            store.top_finding_kinds(&cand, 14).await?;
            Ok(())
        })
        .await?,
    );
    row(
        "store: count_diffs() (exact count(*), not used by the UI)".into(),
        time(&args, || async {
            store.count_diffs().await?;
            Ok(())
        })
        .await?,
    );
    if slow.is_empty() {
        println!("\nevery request met p95 < {TARGET_MS:.0} ms");
    } else {
        println!("\nmissed p95 < {TARGET_MS:.0} ms: {}", slow.join(", "));
    }
    Ok(())
}
