//! `shadowtap gate` (a run, or two runs compared, against quality thresholds; exit 0 pass,
//! 1 fail, 2 usage error or nothing to evaluate) and `shadowtap report` (a run as HTML or JSON).

use std::path::PathBuf;

use anyhow::Context;
use clap::{ArgGroup, Args, ValueEnum};

use super::corpus::{exit_status, UsageError};
use crate::app;
use crate::config::{Config, GateConfig};
use crate::corpus::{compare, gate, junit, report, RunSummary};
use crate::store::Store;

/// Output format of `shadowtap gate`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GateFormat {
    Text,
    Json,
}

/// `0.05` or `5%`.
fn parse_share(s: &str) -> Result<f64, String> {
    let (num, scale) = match s.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (s, 1.0),
    };
    num.trim()
        .parse::<f64>()
        .map(|v| v / scale)
        .map_err(|_| format!("{s:?}: give a share like 0.05 or 5%"))
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["run", "compare"])))]
pub struct GateArgs {
    /// The run to gate.
    #[arg(long, value_name = "ID")]
    pub run: Option<i64>,
    /// Compare two runs of the same corpus: RUN_A is the reference, RUN_B is gated against it.
    #[arg(long, num_args = 2, value_names = ["RUN_A", "RUN_B"])]
    pub compare: Option<Vec<i64>>,
    /// Most regressions as a share of answered items (e.g. 0.05 or 5%).
    #[arg(long, value_parser = parse_share)]
    pub max_regression_rate: Option<f64>,
    /// Most candidate errors as a share of items.
    #[arg(long, value_parser = parse_share)]
    pub max_error_rate: Option<f64>,
    /// Most incompatible items.
    #[arg(long)]
    pub max_incompatible: Option<u64>,
    /// Least mean semantic similarity (0 = off).
    #[arg(long)]
    pub min_semantic_similarity: Option<f64>,
    /// Most p95 latency ratio candidate ÷ baseline (0 = off).
    #[arg(long)]
    pub max_p95_latency_ratio: Option<f64>,
    /// Most cost ratio candidate ÷ baseline (0 = off).
    #[arg(long)]
    pub max_cost_ratio: Option<f64>,
    /// Whether every must-pass check must pass.
    #[arg(long, value_name = "true|false")]
    pub require_checks: Option<bool>,
    /// Least mean judge score 1..=5 (0 = off).
    #[arg(long)]
    pub min_judge_score: Option<f64>,
    /// With --compare: most drop of mean semantic similarity.
    #[arg(long)]
    pub max_semantic_drop: Option<f64>,
    /// Write JUnit XML here (one test case per criterion and per item).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary here (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
}

/// Output format of `shadowtap report`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run to report on.
    #[arg(long, value_name = "ID")]
    pub run: i64,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// The thresholds: config, then flags.
pub fn thresholds(config: &GateConfig, a: &GateArgs) -> GateConfig {
    let mut t = config.clone();
    let set = |slot: &mut f64, v: Option<f64>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut t.max_regression_rate, a.max_regression_rate);
    set(&mut t.max_error_rate, a.max_error_rate);
    set(&mut t.min_semantic_similarity, a.min_semantic_similarity);
    set(&mut t.max_p95_latency_ratio, a.max_p95_latency_ratio);
    set(&mut t.max_cost_ratio, a.max_cost_ratio);
    set(&mut t.min_judge_score, a.min_judge_score);
    set(&mut t.max_semantic_drop, a.max_semantic_drop);
    if let Some(n) = a.max_incompatible {
        t.max_incompatible = n;
    }
    if let Some(b) = a.require_checks {
        t.require_checks = b;
    }
    t
}

async fn load_run(store: &Store, config: &Config, id: i64) -> anyhow::Result<RunSummary> {
    let mut run = report::load(store, id).await?.ok_or_else(|| {
        UsageError(format!(
            "no run {id}; `shadowtap corpus list` shows the runs"
        ))
    })?;
    report::forget_unpriced_costs(&mut run, config);
    Ok(run)
}

/// Run `shadowtap gate`. Every problem that keeps the gate from deciding exits 2.
pub async fn gate(args: &GateArgs, config: anyhow::Result<Config>) -> u8 {
    match gate_inner(args, config).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

async fn gate_inner(args: &GateArgs, config: anyhow::Result<Config>) -> anyhow::Result<u8> {
    let config = config?;
    let t = thresholds(&config.gate, args);
    t.validate()
        .map_err(|e| UsageError(e.to_string().replace("gate.", "--").replace('_', "-")))?;
    let store = app::connect_store(&config).await?;
    let result = match (&args.run, &args.compare) {
        (Some(id), _) => gate::evaluate(&load_run(&store, &config, *id).await?, &t),
        (None, Some(ids)) => {
            let (a, b) = (
                load_run(&store, &config, ids[0]).await?,
                load_run(&store, &config, ids[1]).await?,
            );
            if a.corpus != b.corpus {
                eprintln!("warning: run {} replays corpus {} and run {} corpus {}; items are matched by id", a.id, a.corpus, b.id, b.corpus);
            }
            compare::compare(&a, &b, &t)
        }
        (None, None) => {
            return Err(UsageError("give --run ID or --compare RUN_A RUN_B".into()).into())
        }
    };
    match args.format {
        GateFormat::Text => print!("{}", junit::render_text(&result)),
        GateFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, junit::render_junit(&result))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, junit::render_markdown(&result))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if result.passed { 0 } else { 1 })
}

/// Run `shadowtap report`.
pub async fn report(args: &ReportArgs, config: Config) -> anyhow::Result<u8> {
    exit_status(report_inner(args, &config).await)
}

async fn report_inner(args: &ReportArgs, config: &Config) -> anyhow::Result<u8> {
    let store = app::connect_store(config).await?;
    let run = load_run(&store, config, args.run).await?;
    let r = report::build(&store, run, &config.gate).await?;
    let text = match args.format {
        ReportFormat::Html => r.to_html().context("rendering the report")?,
        ReportFormat::Json => r.to_json(),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("report of run {} written to {}", args.run, path.display());
        }
        None => print!("{text}"),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_take_percentages() {
        assert_eq!(parse_share("5%"), Ok(0.05));
        assert_eq!(parse_share("0.1"), Ok(0.1));
        assert!(parse_share("five").is_err());
    }
}
