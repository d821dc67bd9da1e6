//! Benchmark of the embedded vector index (qdrant-edge): upserts per second (batched like a
//! backfill, and one point per call like the worker), and top-k query latency at N points
//! (default 100,000) before and after the HNSW build, against a naive brute-force scan of the same
//! vectors measured in the same run (absolute numbers swing on a shared 2-core machine; the ratio
//! is the stable part). Also reports HNSW recall@k against the exact answer.
//!
//! `cargo bench --bench index` (`-- --points 20000 --queries 100` for a quick run).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shadowtap::config::IndexConfig;
use shadowtap::index::{
    Backend, Collection, EmbeddedIndex, Filter, IndexPoint, PointId, VectorIndex, DIMENSIONS,
};

const K: usize = 10;

/// Deterministic vectors with some structure: 200 topic centres plus noise, L2-normalised (real
/// answer embeddings cluster too; uniform noise would be an unrealistic worst case for HNSW).
struct Gen {
    state: u64,
    centres: Vec<Vec<f32>>,
}

impl Gen {
    fn new() -> Self {
        let mut g = Gen {
            state: 0x5eed_1234_abcd_ef01,
            centres: Vec::new(),
        };
        g.centres = (0..200).map(|_| g.raw(1.0)).collect();
        g
    }

    fn next(&mut self) -> f32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0
    }

    fn raw(&mut self, scale: f32) -> Vec<f32> {
        (0..DIMENSIONS).map(|_| self.next() * scale).collect()
    }

    fn vector(&mut self) -> Vec<f32> {
        let c = (self.next().abs() * 199.0) as usize;
        let noise = self.raw(0.6);
        let mut v: Vec<f32> = self.centres[c]
            .iter()
            .zip(noise)
            .map(|(a, b)| a + b)
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }
}

fn point(id: u64, vector: Vec<f32>) -> IndexPoint {
    let candidate = ["groq", "together", "mistral"][(id % 3) as usize];
    let Value::Object(payload) = json!({
        "diff_id": id, "exchange_id": uuid::Uuid::new_v4(), "candidate": candidate,
        "verdict": "regression", "route": "/v1/chat/completions", "model": "gpt-4o-mini",
        "tags": {"team": "support"}, "finding_kinds": ["semantic", "truncated"],
        "excerpt": "I'm sorry, but I can't help with that.", "ts_ms": id as i64
    }) else {
        unreachable!()
    };
    IndexPoint {
        id: PointId::Num(id),
        vector,
        payload,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Exact top-k by a plain scan (the baseline).
fn brute_force(all: &[Vec<f32>], q: &[f32]) -> Vec<u64> {
    let mut scored: Vec<(f32, u64)> = all
        .iter()
        .enumerate()
        .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), i as u64 + 1))
        .collect();
    let k = K.min(scored.len());
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    scored.truncate(k);
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|s| s.1).collect()
}

struct Latency {
    p50: Duration,
    p95: Duration,
    recall: f64,
}

async fn measure(index: &VectorIndex, queries: &[Vec<f32>], exact: &[Vec<u64>]) -> Latency {
    let mut times = Vec::new();
    let mut found = 0;
    for (q, truth) in queries.iter().zip(exact) {
        let t = Instant::now();
        let hits = index
            .search(Collection::Regressions, q, K, None)
            .await
            .expect("search");
        times.push(t.elapsed());
        found += hits
            .iter()
            .filter(|h| matches!(h.id, PointId::Num(n) if truth.contains(&n)))
            .count();
    }
    times.sort();
    Latency {
        p50: percentile(&times, 0.5),
        p95: percentile(&times, 0.95),
        recall: found as f64 / (queries.len() * K) as f64,
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let n = arg("--points", 100_000);
    let nq = arg("--queries", 200);
    let dir = std::env::temp_dir().join(format!("shadowtap-index-bench-{}", uuid::Uuid::new_v4()));
    let index = VectorIndex::new(
        Backend::Embedded(EmbeddedIndex::open(dir.clone()).await.expect("open")),
        IndexConfig::default(),
    );
    let mut gen = Gen::new();
    let all: Vec<Vec<f32>> = (0..n).map(|_| gen.vector()).collect();
    let queries: Vec<Vec<f32>> = (0..nq).map(|_| gen.vector()).collect();
    println!("embedded vector index (qdrant-edge 0.7), {n} points × {DIMENSIONS} dims, top-{K}, {nq} queries");

    // Upserts, one point per call (what the worker does per regression / prompt).
    let single = 2_000.min(n);
    let t = Instant::now();
    for (i, v) in all.iter().take(single).enumerate() {
        index
            .upsert(
                Collection::Regressions,
                vec![point(i as u64 + 1, v.clone())],
            )
            .await
            .expect("upsert");
    }
    let single_rate = single as f64 / t.elapsed().as_secs_f64();
    // The rest in batches of 1,000 (a backfill).
    let t = Instant::now();
    let mut id = single as u64;
    for chunk in all[single..].chunks(1_000) {
        let batch = chunk
            .iter()
            .map(|v| {
                id += 1;
                point(id, v.clone())
            })
            .collect();
        index
            .upsert(Collection::Regressions, batch)
            .await
            .expect("upsert");
    }
    let batched = n - single;
    let batch_rate = batched as f64 / t.elapsed().as_secs_f64().max(1e-9);
    let t = Instant::now();
    index.flush().await.expect("flush");
    let flush = t.elapsed();
    println!("  upserts, one point per call: {single_rate:>10.0} points/s ({single} points)");
    println!("  upserts, batches of 1,000:   {batch_rate:>10.0} points/s ({batched} points)");
    println!("  flush:                       {}", ms(flush));

    // Baseline: exact top-k by a naive scan over the same vectors.
    let t = Instant::now();
    let exact: Vec<Vec<u64>> = queries.iter().map(|q| brute_force(&all, q)).collect();
    let naive = t.elapsed() / nq as u32;
    println!("  baseline, naive scan in Rust: {} per query", ms(naive));

    let plain = measure(&index, &queries, &exact).await;
    println!(
        "  top-{K} before indexing (plain segment): p50 {} p95 {} ({:.2}× the naive scan), recall {:.3}",
        ms(plain.p50),
        ms(plain.p95),
        plain.p50.as_secs_f64() / naive.as_secs_f64(),
        plain.recall
    );

    let t = Instant::now();
    let Backend::Embedded(embedded) = index.backend() else {
        unreachable!()
    };
    let changed = embedded
        .optimize(Collection::Regressions)
        .await
        .expect("optimize");
    println!(
        "  HNSW build (optimize): {:.1} s{}",
        t.elapsed().as_secs_f64(),
        if changed { "" } else { " (nothing to do)" }
    );
    let hnsw = measure(&index, &queries, &exact).await;
    println!(
        "  top-{K} after indexing (HNSW):          p50 {} p95 {} ({:.2}× the naive scan), recall@{K} {:.3}",
        ms(hnsw.p50),
        ms(hnsw.p95),
        hnsw.p50.as_secs_f64() / naive.as_secs_f64(),
        hnsw.recall
    );

    let mut times = Vec::new();
    for q in &queries {
        let t = Instant::now();
        index
            .search(
                Collection::Regressions,
                q,
                K,
                Some(Filter::default().eq("candidate", "groq")),
            )
            .await
            .expect("search");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "  top-{K} with a candidate filter (1/3 of points): p50 {} p95 {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95))
    );
    drop(index);
    let (apparent, used) = dir_size(&dir);
    let (wal_apparent, wal_used) = dir_size(&dir.join("regressions/wal"));
    println!(
        "  on disk: {:.0} MB used ({:.0} MB apparent), of which the WAL {:.0} MB ({:.0} MB apparent)",
        used as f64 / 1e6,
        apparent as f64 / 1e6,
        wal_used as f64 / 1e6,
        wal_apparent as f64 / 1e6
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn dir_size(dir: &std::path::Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (a, u) = match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => (m.len(), m.blocks() * 512),
            Err(_) => (0, 0),
        };
        total.0 += a;
        total.1 += u;
    }
    total
}
