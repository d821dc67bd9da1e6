//! `shadowtap corpus import|export|list`: corpora in and out of the database.
//!
//! Exit statuses: 0 done, 1 failed, 2 usage error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::app;
use crate::config::Config;
use crate::corpus::format::{self, Baseline as ItemBaseline, Item};
use crate::corpus::run::RunError;
use crate::corpus::select;
use crate::diff::semantic::Semantic;
use crate::domain::Verdict;
use crate::store::{CorpusItemData, ExportFilter, SavedCorpus, Store};

/// A problem with what was asked for: reported, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub(super) fn usage<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(message.into()).into())
}

/// Map usage errors to exit status 2 (with the message); other errors go up (status 1).
pub fn exit_status(result: anyhow::Result<u8>) -> anyhow::Result<u8> {
    match result {
        Err(e)
            if e.is::<UsageError>()
                || matches!(e.downcast_ref::<RunError>(), Some(RunError::Usage(_))) =>
        {
            eprintln!("error: {e}");
            Ok(2)
        }
        other => other,
    }
}

#[derive(Debug, Args)]
pub struct CorpusArgs {
    #[command(subcommand)]
    pub command: CorpusCommand,
}

#[derive(Debug, Subcommand)]
pub enum CorpusCommand {
    /// Import a corpus file (JSONL, see docs/corpus-format.md) under a name.
    Import(ImportArgs),
    /// Export captured exchanges as a corpus file (redacted as stored).
    Export(ExportArgs),
    /// List corpora and recent runs.
    List,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The corpus file.
    pub file: PathBuf,
    /// Corpus name (default: the file header's name, else the file name without extension).
    #[arg(long)]
    pub name: Option<String>,
    /// Update an existing corpus of that name (items matched by id; items not in the file are removed).
    #[arg(long)]
    pub replace: bool,
    /// Reject the whole file if any line is malformed (default: report and skip those lines).
    #[arg(long)]
    pub strict: bool,
    /// Collapse requests at least this similar (0..1, embedding cosine), e.g. 0.95.
    #[arg(long, value_name = "SIMILARITY")]
    pub dedupe: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Corpus name written in the header (default: none, so an import names it after the file).
    #[arg(long)]
    pub name: Option<String>,
    /// Captured at or after: RFC 3339 (2025-01-31T00:00:00Z) or an age like 30m, 24h, 7d.
    #[arg(long)]
    pub since: Option<String>,
    /// Captured before (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Route (request path), e.g. /v1/chat/completions.
    #[arg(long)]
    pub route: Option<String>,
    /// Production model.
    #[arg(long)]
    pub model: Option<String>,
    /// A tag the exchange must carry, as KEY=VALUE (repeatable), e.g. team=support.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Only exchanges a candidate got this verdict on (same, noise, minor, regression, incompatible, error).
    #[arg(long)]
    pub verdict: Option<Verdict>,
    /// With --verdict: that candidate's verdict.
    #[arg(long, requires = "verdict")]
    pub candidate: Option<String>,
    /// Export at most this many, sampled across --stratify groups.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Sampling groups: route, model, route,model, or none.
    #[arg(long, default_value = "route,model")]
    pub stratify: String,
    /// Sampling seed (the same seed gives the same sample).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Newest matching exchanges considered at most.
    #[arg(long, default_value_t = 100_000)]
    pub max_scan: i64,
}

/// Run `shadowtap corpus …`.
pub async fn corpus(args: &CorpusArgs, config: Config) -> anyhow::Result<u8> {
    exit_status(match &args.command {
        CorpusCommand::Import(a) => import(a, &config).await,
        CorpusCommand::Export(a) => export(a, &config).await,
        CorpusCommand::List => list(&config).await,
    })
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        usage(format!(
            "invalid corpus name {name:?}: use 1-100 characters from A-Z a-z 0-9 _ - . (--name)"
        ))
    }
}

/// Read, validate and store a corpus file; returns the corpus name.
pub(super) async fn import_file(
    store: &Store,
    config: &Config,
    a: &ImportArgs,
) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let parsed =
        format::parse(&text).map_err(|e| UsageError(format!("{}: {e}", a.file.display())))?;
    let name = a
        .name
        .clone()
        .or_else(|| parsed.header.name.clone())
        .unwrap_or_else(|| {
            a.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    check_name(&name)?;
    for e in parsed.errors.iter().take(50) {
        eprintln!("{}: {e}", a.file.display());
    }
    if parsed.errors.len() > 50 {
        eprintln!("… and {} more malformed lines", parsed.errors.len() - 50);
    }
    if a.strict && !parsed.errors.is_empty() {
        anyhow::bail!("{}: rejected, {} malformed lines (--strict); fix them, or import without --strict to skip them", a.file.display(), parsed.errors.len());
    }
    let mut items = parsed.items;
    if items.is_empty() {
        anyhow::bail!(
            "{}: no items to import (see docs/corpus-format.md for the format)",
            a.file.display()
        );
    }
    if let Some(threshold) = a.dedupe {
        if !(0.0..=1.0).contains(&threshold) {
            return usage(format!(
                "--dedupe {threshold}: give a similarity within 0..1, e.g. 0.95"
            ));
        }
        items = dedupe(items, threshold, config).await?;
    }
    let data: Vec<CorpusItemData> = items
        .iter()
        .map(|i| CorpusItemData {
            key: i.key.clone(),
            path: i.path.clone(),
            request: i.request.clone(),
            expected: i.expected.clone(),
            baseline: i.baseline.as_ref().map(|b| json!(b)),
            checks: json!(i.checks),
            tags: json!(i.tags),
        })
        .collect();
    let header = &parsed.header;
    let saved = store
        .save_corpus(
            &name,
            format::FORMAT_VERSION as i32,
            header.description.as_deref(),
            &json!(header.checks),
            &data,
            a.replace,
        )
        .await?;
    match saved {
        SavedCorpus::Exists => usage(format!("a corpus named {name:?} exists; pass --replace to update it, or --name to import under another name")),
        SavedCorpus::Saved { added, updated, unchanged, removed, .. } => {
            eprintln!(
                "corpus {name}: {} items (added {added}, updated {updated}, unchanged {unchanged}, removed {removed}); {} malformed lines skipped",
                data.len(),
                parsed.errors.len()
            );
            Ok(name)
        }
    }
}

async fn dedupe(items: Vec<Item>, threshold: f64, config: &Config) -> anyhow::Result<Vec<Item>> {
    let semantic =
        Semantic::load(&config.diff.embedding).context("--dedupe needs the embedding model")?;
    let texts: Vec<String> = items
        .iter()
        .map(|i| select::request_text(&i.request))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = semantic
        .text_vectors(&refs)
        .await
        .context("embedding the requests for --dedupe")?;
    let dups = select::near_duplicates(&vectors, threshold);
    let collapsed = dups.iter().filter(|d| d.is_some()).count();
    for (i, d) in dups.iter().enumerate() {
        if let Some(k) = d {
            tracing::debug!(item = %items[i].key, kept = %items[*k].key, "near-duplicate dropped");
        }
    }
    eprintln!("--dedupe {threshold}: collapsed {collapsed} near-duplicate requests");
    Ok(items
        .into_iter()
        .zip(dups)
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| i)
        .collect())
}

async fn import(a: &ImportArgs, config: &Config) -> anyhow::Result<u8> {
    let store = app::connect_store(config).await?;
    import_file(&store, config, a).await.map(|_| 0)
}

/// `30m`, `24h`, `7d` (before `now`) or an RFC 3339 time.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let unit = |c: char| match c {
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86_400),
        _ => None,
    };
    if let Some((n, secs)) = s
        .char_indices()
        .last()
        .and_then(|(i, c)| Some((s[..i].parse::<i64>().ok()?, unit(c)?)))
    {
        return Ok(now - chrono::Duration::seconds(n * secs));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "{s:?}: give an RFC 3339 time (2025-01-31T00:00:00Z) or an age like 30m, 24h, 7d"
            )
        })
}

async fn export(a: &ExportArgs, config: &Config) -> anyhow::Result<u8> {
    let now = Utc::now();
    let time = |s: &Option<String>| {
        s.as_deref()
            .map(|s| parse_time(s, now))
            .transpose()
            .map_err(UsageError)
    };
    let mut tags = serde_json::Map::new();
    for t in &a.tags {
        let Some((k, v)) = t.split_once('=') else {
            return usage(format!("--tag {t:?}: expected KEY=VALUE"));
        };
        tags.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let by: Vec<&str> = a.stratify.split(',').map(str::trim).collect();
    if !by.iter().all(|b| ["route", "model", "none"].contains(b)) {
        return usage(format!(
            "--stratify {:?}: use route, model, route,model or none",
            a.stratify
        ));
    }
    let filter = ExportFilter {
        since: time(&a.since)?,
        until: time(&a.until)?,
        route: a.route.clone(),
        model: a.model.clone(),
        tags: Value::Object(tags),
        verdict: a.verdict.map(|v| v.as_str().to_owned()),
        candidate: a.candidate.clone(),
        limit: a.max_scan,
    };
    let store = app::connect_store(config).await?;
    let index = store.export_index(&filter).await?;
    let chosen: Vec<uuid::Uuid> = match a.sample {
        Some(n) => {
            let ids: Vec<String> = index.iter().map(|r| r.0.to_string()).collect();
            let strata: Vec<String> = index
                .iter()
                .map(|(_, route, model)| {
                    let mut key = Vec::new();
                    if by.contains(&"route") {
                        key.push(route.clone());
                    }
                    if by.contains(&"model") {
                        key.push(model.clone().unwrap_or_default());
                    }
                    key.join(" ")
                })
                .collect();
            select::stratified(&ids, &strata, n, a.seed)
                .into_iter()
                .map(|i| index[i].0)
                .collect()
        }
        None => index.iter().map(|r| r.0).collect(),
    };
    let header = format::Header {
        name: a.name.clone(),
        ..format::Header::default()
    };
    let mut out = format::header_line(&header);
    out.push('\n');
    let mut written = 0;
    for batch in chosen.chunks(500) {
        for row in store.export_rows(batch).await? {
            let (Some(request), Some(response)) = (row.request_body, row.response_body) else {
                continue;
            };
            let item = Item {
                key: row.id.to_string(),
                line: 0,
                path: row
                    .path
                    .split('?')
                    .next()
                    .unwrap_or(format::DEFAULT_PATH)
                    .to_owned(),
                request,
                expected: Some(response),
                baseline: Some(ItemBaseline {
                    latency_ms: Some(row.latency_ms),
                    cost_usd: None,
                }),
                checks: Vec::new(),
                tags: serde_json::from_value::<BTreeMap<String, String>>(row.tags)
                    .unwrap_or_default(),
            };
            out.push_str(&format::item_line(&item));
            out.push('\n');
            written += 1;
        }
    }
    match &a.output {
        Some(path) => std::fs::write(path, &out)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(out.as_bytes())?,
    }
    eprintln!(
        "exported {written} of {} matching exchanges{}",
        index.len(),
        a.output
            .as_ref()
            .map_or(String::new(), |p| format!(" to {}", p.display()))
    );
    Ok(0)
}

async fn list(config: &Config) -> anyhow::Result<u8> {
    let store = app::connect_store(config).await?;
    println!("corpora:");
    for c in store.corpora().await? {
        println!(
            "  {:<30} {:>6} items  updated {}",
            c.name,
            c.items,
            c.updated_at.format("%Y-%m-%d %H:%M")
        );
    }
    println!("runs (newest first):");
    for r in store.runs(20).await? {
        println!(
            "  #{:<5} {:<24} → {:<16} baseline {:<10} {:>5}/{:<5} {}",
            r.id, r.corpus_name, r.candidate, r.baseline, r.done, r.total, r.status
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_ages_or_rfc3339() {
        let now: DateTime<Utc> = "2025-02-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_time("24h", now).unwrap(),
            "2025-01-31T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("30m", now).unwrap(),
            "2025-02-01T11:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("2025-01-01T00:00:00+01:00", now).unwrap(),
            "2024-12-31T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(parse_time("yesterday", now)
            .unwrap_err()
            .contains("RFC 3339"));
        assert!(parse_time("7w", now).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("support-golden_v2.1").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").unwrap_err().is::<UsageError>());
    }
}
