//! `shadowtap replay --corpus NAME|FILE --candidate X`: replay a corpus against a candidate
//! without Kafka as a resumable run, with a progress bar (rate, ETA, errors).
//!
//! Exit statuses: 0 the run is complete, 1 failed, interrupted or items left pending (re-run to
//! resume), 2 usage error.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::corpus::{exit_status, import_file, usage, ImportArgs, UsageError};
use crate::app;
use crate::config::{Config, EnvLookup};
use crate::corpus::checks::CheckSpec;
use crate::corpus::judge::Judge;
use crate::corpus::report;
use crate::corpus::run::{self, Baseline, Runner};
use crate::diff::semantic::Semantic;
use crate::domain::Verdict;
use crate::telemetry::Metrics;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A corpus name, or a corpus file (imported under its file name first).
    #[arg(long, value_name = "NAME|FILE")]
    pub corpus: String,
    /// A configured candidate, or NAME=BASE_URL.
    #[arg(long, value_name = "NAME")]
    pub candidate: String,
    /// Compare with: auto (expected answers, else production), expected, production, or a candidate name.
    #[arg(long, default_value = "auto")]
    pub baseline: String,
    /// Resume this run (default: the latest unfinished run of the same corpus, candidate and baseline).
    #[arg(long, value_name = "ID", conflicts_with = "new")]
    pub run: Option<i64>,
    /// Start a new run even if an unfinished one exists.
    #[arg(long)]
    pub new: bool,
    /// Score answers with the LLM judge of the [judge] section.
    #[arg(long)]
    pub judge: bool,
    /// Skip the semantic comparison (no embedding model needed).
    #[arg(long)]
    pub no_semantic: bool,
}

/// Progress on the terminal: rate, ETA, errors and regressions so far.
struct Bar {
    bar: indicatif::ProgressBar,
    errors: AtomicUsize,
    regressions: AtomicUsize,
}

impl run::Progress for Bar {
    fn item(&self, verdict: Option<Verdict>) {
        match verdict {
            Some(Verdict::Error) | None => self.errors.fetch_add(1, Ordering::Relaxed),
            Some(Verdict::Regression | Verdict::Incompatible) => {
                self.regressions.fetch_add(1, Ordering::Relaxed)
            }
            _ => 0,
        };
        self.bar.set_message(format!(
            "errors {} · regressions {}",
            self.errors.load(Ordering::Relaxed),
            self.regressions.load(Ordering::Relaxed)
        ));
        self.bar.inc(1);
    }
}

fn progress_bar(total: u64, done: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} items · {per_sec} · ETA {eta} · {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_position(done);
    // Items done by an earlier invocation do not count towards the rate.
    bar.reset_eta();
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// Run `shadowtap replay`.
pub async fn replay(
    args: &ReplayArgs,
    mut config: Config,
    env: &dyn EnvLookup,
) -> anyhow::Result<u8> {
    exit_status(replay_inner(args, &mut config, env).await)
}

async fn replay_inner(
    args: &ReplayArgs,
    config: &mut Config,
    env: &dyn EnvLookup,
) -> anyhow::Result<u8> {
    let name = match args.candidate.split_once('=') {
        Some((name, _)) => {
            config.upsert_candidate_flag(&args.candidate)?;
            config.validate().map_err(|e| UsageError(e.to_string()))?;
            name.to_owned()
        }
        None => args.candidate.clone(),
    };
    let mut candidate = run::candidate(config, env, &name)?;
    let baseline = Baseline::parse(&args.baseline);
    if baseline == Baseline::Candidate(name.clone()) {
        return usage("--baseline names the candidate itself; compare it with production, expected answers or another candidate");
    }
    let (reference, reference_error) = match &baseline {
        Baseline::Expected => (None, None),
        Baseline::Candidate(other) => (Some(run::candidate(config, env, other)?), None),
        Baseline::Production | Baseline::Auto => match run::production(config, env) {
            Ok(p) => (Some(p), None),
            Err(e) if baseline == Baseline::Auto => (None, Some(e.to_string())),
            Err(e) => return Err(e.into()),
        },
    };
    let store = app::connect_store(config).await?;
    // The candidate's daily budget counts what live replays and earlier runs spent today (UTC).
    let midnight = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    candidate.set_spent_today(store.spend_since(&name, midnight).await?);
    let corpus_name = if Path::new(&args.corpus).is_file() {
        let a = ImportArgs {
            file: PathBuf::from(&args.corpus),
            name: None,
            replace: true,
            strict: false,
            dedupe: None,
        };
        import_file(&store, config, &a).await?
    } else {
        args.corpus.clone()
    };
    let Some(corpus) = store.corpus(&corpus_name).await? else {
        let known: Vec<String> = store.corpora().await?.into_iter().map(|c| c.name).collect();
        return usage(format!(
            "no corpus named {corpus_name:?} (corpora: {}); import one with `shadowtap corpus import FILE --name {corpus_name}`, or pass a file",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ));
    };
    let judge_on = args.judge || config.judge.enabled;
    let run_id = match args.run {
        Some(id) => match store.run(id).await? {
            Some(r) if r.corpus_id == Some(corpus.id) && r.candidate == name && r.baseline == baseline.as_str() => id,
            Some(r) => return usage(format!("run {id} replays corpus {} to {} (baseline {}), not this corpus/candidate/baseline", r.corpus_name, r.candidate, r.baseline)),
            None => return usage(format!("no run {id}; see `shadowtap corpus list`")),
        },
        None => match store.resumable_run(corpus.id, &name, baseline.as_str()).await? {
            Some(id) if !args.new => id,
            _ => store.create_run(&corpus, &name, baseline.as_str(), judge_on).await?,
        },
    };
    let run = store.run(run_id).await?.context("the run exists")?;
    if run.done > 0 {
        eprintln!(
            "resuming run {run_id}: {} of {} items already done",
            run.done, run.total
        );
    } else {
        eprintln!(
            "run {run_id}: corpus {} ({} items) → {name}, baseline {}",
            corpus.name,
            run.total,
            baseline.as_str()
        );
    }
    let semantic = if config.diff.semantic && !args.no_semantic {
        Some(
            Semantic::load(&config.diff.embedding)
                .map_err(|e| anyhow::anyhow!("{e} (or pass --no-semantic)"))?,
        )
    } else {
        None
    };
    let http = crate::http_client::build(Duration::from_secs_f64(config.tap.connect_timeout_secs));
    let metrics = Metrics::new();
    let judge = if judge_on {
        Some(Judge::new(
            &config.judge,
            env,
            http.clone(),
            metrics.clone(),
        )?)
    } else {
        None
    };
    let width = config
        .candidates
        .iter()
        .find(|c| c.name == name)
        .map_or(4, |c| c.concurrency)
        * 2;
    let reference_priced = match &baseline {
        Baseline::Candidate(other) => report::priced(config, other),
        _ => {
            config.control.input_price_per_mtok > 0.0 || config.control.output_price_per_mtok > 0.0
        }
    };
    let runner = Runner {
        store: store.clone(),
        http,
        metrics,
        candidate,
        reference,
        reference_error,
        baseline,
        semantic,
        judge,
        baseline_prices: (
            config.control.input_price_per_mtok,
            config.control.output_price_per_mtok,
        ),
        width,
        candidate_priced: report::priced(config, &name),
        reference_priced,
    };
    let checks: Vec<CheckSpec> = serde_json::from_value(corpus.checks.clone()).unwrap_or_default();
    let bar = Bar {
        bar: progress_bar(run.total as u64, run.done as u64),
        errors: AtomicUsize::new(0),
        regressions: AtomicUsize::new(0),
    };
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        on_signal.cancel();
    });
    let outcome = runner.run(run_id, &checks, &bar, &cancel).await;
    bar.bar.finish_and_clear();
    let outcome = outcome?;
    let verdicts: Vec<String> = outcome
        .verdicts
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect();
    let left = store.run(run_id).await?.map_or(0, |r| r.total - r.done);
    eprintln!(
        "run {run_id}: {} items replayed ({}); {left} left pending",
        outcome.replayed,
        if verdicts.is_empty() {
            "no verdicts".into()
        } else {
            verdicts.join(", ")
        },
    );
    if outcome.interrupted {
        eprintln!("interrupted: re-run the same command to resume run {run_id}");
        return Ok(1);
    }
    if outcome.budget_exhausted {
        eprintln!(
            "paused: candidate {name} reached its daily budget (daily_budget_usd, UTC day); re-run the same \
             command tomorrow or with a higher budget to resume run {run_id}"
        );
        return Ok(1);
    }
    if outcome.failed > 0 {
        eprintln!("{} items could not be replayed (see the warnings above); re-run the same command to retry them", outcome.failed);
        return Ok(1);
    }
    println!("{run_id}");
    eprintln!("next: shadowtap gate --run {run_id}   (or shadowtap report --run {run_id} --output run-{run_id}.html)");
    Ok(0)
}
