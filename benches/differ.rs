//! Differ throughput (issue 5): answer pairs per second, structural only and with meaning, and
//! embeddings per second batched against one by one — all measured in the same run.
//!
//! Pairs are the labelled evaluation set (`tests/data/eval/pairs.jsonl`: support answers, JSON
//! extraction, tool calls, summaries, translations, errors; cases with a control are compared
//! like the worker does, control first as the noise floor, so they cost two comparisons).
//!
//! - structural only: `diff::compare` (findings, word similarity, score; no model)
//! - structural + semantic: `diff::compare_with_meaning` with the real all-MiniLM-L6-v2 model
//!   (`Semantic::load`): *cold* with the embedding cache off (every answer embedded, as for
//!   unique production traffic) one pair at a time and `--in-flight` pairs at once (as the worker
//!   runs them; the embedding thread batches across callers), and *warm* with the default cache
//!   after one pass (repeated answers)
//! - embeddings: `FastEmbedder::embed` on the pairs' distinct answer texts, 32 per call (in
//!   arbitrary order, and sorted by length so a batch pads less) against one per call
//!
//! The cold runs count what reaches the model (texts per pair, texts per model call) through a
//! counting wrapper around the same `FastEmbedder` that `Semantic::load` uses.
//!
//! Ratios are against structural-only and one-by-one from the same run; absolute numbers swing
//! with the machine. `cargo bench --bench differ -- [--secs 5] [--in-flight 32]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use futures_util::StreamExt;
use serde_json::Value;
use shadowtap::cli::diff::side;
use shadowtap::cli::eval::{load_cases, Case, DEFAULT_DATA};
use shadowtap::config::EmbeddingConfig;
use shadowtap::diff::semantic::{EmbedError, Embedder, FastEmbedder, Semantic};
use shadowtap::diff::{self, answer_text, DiffInput, Noise};
use shadowtap::domain::DiffOutcome;

/// Differ throughput benchmark.
#[derive(Debug, Parser)]
#[command(name = "bench-differ", about, long_about = None)]
struct Args {
    /// Labelled pairs (JSON lines: request, production, candidate, optional control).
    #[arg(long, default_value = DEFAULT_DATA)]
    data: std::path::PathBuf,
    /// Minimum seconds per measurement (whole passes over the pairs are repeated until then).
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Pairs compared at once in the concurrent semantic run (the worker's max_in_flight is 64).
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Texts per model call in the batched embedding run.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Model sessions of the semantic service (`diff.embedding.sessions`; default: the config's).
    #[arg(long)]
    sessions: Option<usize>,
    /// ONNX Runtime threads per session (`diff.embedding.intra_threads`).
    #[arg(long)]
    intra_threads: Option<usize>,
    /// Texts per model call of the semantic service (`diff.embedding.batch_size`).
    #[arg(long)]
    service_batch: Option<usize>,
    /// Set by `cargo bench`; without it (`cargo test --benches`) nothing runs.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The real model, counting the texts and calls it is given.
struct Counting {
    inner: FastEmbedder,
    texts: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

impl Embedder for Counting {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.texts.fetch_add(texts.len(), Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.embed(texts)
    }
}

fn input<'a>(case: &'a Case, candidate: &'a Value, noise: Option<&'a Noise>) -> DiffInput<'a> {
    DiffInput {
        request: case.request.as_ref(),
        production: &case.production,
        candidate: side(candidate),
        semantic: None,
        noise,
    }
}

/// One pair as the worker compares it, structure only.
fn structural(case: &Case) -> DiffOutcome {
    let noise = case
        .control
        .as_ref()
        .map(|c| Noise::from_control(&diff::compare(&input(case, c, None))));
    diff::compare(&input(case, &case.candidate, noise.as_ref()))
}

/// One pair as the worker compares it, with meaning.
async fn with_meaning(semantic: &Semantic, case: &Case) -> DiffOutcome {
    let noise = match &case.control {
        Some(c) => Some(Noise::from_control(
            &diff::compare_with_meaning(Some(semantic), input(case, c, None)).await,
        )),
        None => None,
    };
    diff::compare_with_meaning(Some(semantic), input(case, &case.candidate, noise.as_ref())).await
}

/// Repeat `pass` (which handles `per_pass` items) until `secs` have passed; items per second.
async fn rate<F, Fut>(secs: f64, per_pass: usize, mut pass: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let t0 = Instant::now();
    let mut passes = 0usize;
    while passes == 0 || t0.elapsed().as_secs_f64() < secs {
        pass().await;
        passes += 1;
    }
    (passes * per_pass) as f64 / t0.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.bench {
        println!("bench-differ: run with `cargo bench --bench differ`; skipped");
        return Ok(());
    }
    let cases = load_cases(&args.data).map_err(anyhow::Error::msg)?;
    let n = cases.len();
    let controls = cases.iter().filter(|c| c.control.is_some()).count();
    let mut config = EmbeddingConfig::default();
    config.sessions = args.sessions.unwrap_or(config.sessions);
    config.intra_threads = args.intra_threads.unwrap_or(config.intra_threads);
    config.batch_size = args.service_batch.unwrap_or(config.batch_size);
    println!(
        "differ throughput: {n} pairs from {} ({controls} with a control), ≥ {:.0} s per row, {} cores; \
         semantic service: {} model sessions × {} thread(s), up to {} texts per model call",
        args.data.display(),
        args.secs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        config.session_count(),
        config.intra_threads,
        config.batch_size
    );

    let cases = &cases;
    let structural_rate = rate(args.secs, n, move || async move {
        for case in cases {
            std::hint::black_box(structural(case));
        }
    })
    .await;

    // `Semantic::load` with the cache off, built by hand to count what reaches the model.
    let (texts_in, calls_in) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut counting: Vec<Box<dyn Embedder>> = Vec::new();
    for _ in 0..config.session_count() {
        counting.push(Box::new(Counting {
            inner: FastEmbedder::load(&config)?,
            texts: texts_in.clone(),
            calls: calls_in.clone(),
        }));
    }
    let cold = &Semantic::start(counting, config.batch_size, 0, config.max_chunk_words);
    // The first model calls are slow (ONNX Runtime warms up): one pass before measuring. It
    // also counts the texts one pass embeds.
    for case in cases {
        with_meaning(cold, case).await;
    }
    let texts_per_pair = texts_in.load(Ordering::Relaxed) as f64 / n as f64;
    let cold_sequential = rate(args.secs, n, move || async move {
        for case in cases {
            std::hint::black_box(with_meaning(cold, case).await);
        }
    })
    .await;
    let in_flight = args.in_flight;
    let calls_before = calls_in.load(Ordering::Relaxed);
    let texts_before = texts_in.load(Ordering::Relaxed);
    let cold_concurrent = rate(args.secs, n, move || async move {
        futures_util::stream::iter(cases)
            .map(|case| with_meaning(cold, case))
            .buffer_unordered(in_flight)
            .for_each(|o| async move {
                std::hint::black_box(o);
            })
            .await;
    })
    .await;
    let texts_per_call = (texts_in.load(Ordering::Relaxed) - texts_before) as f64
        / (calls_in.load(Ordering::Relaxed) - calls_before).max(1) as f64;
    let warm = &Semantic::load(&config)?;
    for case in cases {
        with_meaning(warm, case).await;
    }
    let warm_rate = rate(args.secs, n, move || async move {
        for case in cases {
            std::hint::black_box(with_meaning(warm, case).await);
        }
    })
    .await;

    println!("\n| comparison | pairs/s | vs structural only |");
    println!("|---|---:|---:|");
    let row = |name: &str, r: f64| println!("| {name} | {r:.0} | {:.3} |", r / structural_rate);
    row("structural only (`diff::compare`)", structural_rate);
    row(
        "structural + semantic, cold cache, 1 pair at a time",
        cold_sequential,
    );
    row(
        &format!(
            "structural + semantic, cold cache, {} pairs in flight",
            args.in_flight
        ),
        cold_concurrent,
    );
    row(
        "structural + semantic, warm cache (repeated answers), 1 at a time",
        warm_rate,
    );
    println!(
        "a pair embeds {texts_per_pair:.1} texts on average with a cold cache (both answers, and \
         for numbered procedures each step and each candidate sentence); with {} pairs in flight \
         the embedding thread sent {texts_per_call:.1} texts per model call",
        args.in_flight
    );
    let end_to_end = cold_concurrent.max(cold_sequential);
    println!(
        "target ≥ 200 pairs/s end to end (cold cache, best of the two): {end_to_end:.0} pairs/s — {}",
        if end_to_end >= 200.0 {
            "met"
        } else {
            "MISSED"
        }
    );

    // Embeddings: the model alone, on every distinct answer text of the pairs.
    let mut texts: Vec<String> = cases
        .iter()
        .flat_map(|c| [Some(&c.production), Some(&c.candidate), c.control.as_ref()])
        .flatten()
        .filter_map(answer_text)
        .collect();
    texts.sort();
    texts.dedup();
    let words = texts
        .iter()
        .map(|t| t.split_whitespace().count())
        .sum::<usize>() as f64
        / texts.len().max(1) as f64;
    let mut model = FastEmbedder::load(&config)?;
    model.embed(&texts[..texts.len().min(args.batch)])?; // warm up
    let batched = |model: &mut FastEmbedder, texts: &[String]| -> anyhow::Result<f64> {
        let t0 = Instant::now();
        let mut done = 0;
        while done == 0 || t0.elapsed().as_secs_f64() < args.secs {
            for chunk in texts.chunks(args.batch) {
                std::hint::black_box(model.embed(chunk)?);
                done += chunk.len();
            }
        }
        Ok(done as f64 / t0.elapsed().as_secs_f64())
    };
    let batched_rate = batched(&mut model, &texts)?;
    // Texts of similar length batched together: less padding.
    texts.sort_by_key(|t| t.len());
    let sorted_rate = batched(&mut model, &texts)?;
    let t0 = Instant::now();
    let mut done = 0;
    while done == 0 || t0.elapsed().as_secs_f64() < args.secs {
        for t in &texts {
            std::hint::black_box(model.embed(std::slice::from_ref(t))?);
            done += 1;
        }
    }
    let single_rate = done as f64 / t0.elapsed().as_secs_f64();
    println!(
        "\nembeddings ({} distinct answer texts, {words:.0} words on average):",
        texts.len()
    );
    println!("| mode | texts/s | vs one by one |");
    println!("|---|---:|---:|");
    println!(
        "| batched, {} per call, mixed lengths (as answers arrive) | {batched_rate:.0} | {:.2} |",
        args.batch,
        batched_rate / single_rate
    );
    println!(
        "| batched, {} per call, texts sorted by length | {sorted_rate:.0} | {:.2} |",
        args.batch,
        sorted_rate / single_rate
    );
    println!("| one by one | {single_rate:.0} | 1.00 |");
    Ok(())
}
