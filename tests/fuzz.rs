//! Time-bounded fuzzing of the pure parsers: the SSE parser + stream reassembler, the JSON
//! structural diff, the redactor and the config loader.
//!
//! Each target first replays its committed seed corpus (`tests/fuzz-corpus/<target>/`), then
//! mutates seeds (bit flips, byte and token insertions, splices, truncations) with a seeded RNG
//! until its time budget runs out: `SHADOWTAP_TEST_FUZZ_SECS` per target (default 3; the CI fuzz
//! job, `scripts/fuzz.sh`, gives each 60). Every target checks properties, not just "no panic":
//! reassembly does not depend on how the bytes were split (and its typed fast path agrees with
//! reading every chunk as a `serde_json::Value`), a value diffed with itself has no
//! changes, redaction is idempotent (also on JSON text, whose check and string rewrite must agree
//! with a `serde_json::Value` parse), and config errors are values. A failing input is written to
//! `$SHADOWTAP_TEST_ARTIFACTS/fuzz/` (or the temp dir) with the seed that reproduces the run.
//!
//! This is mutation fuzzing without coverage guidance: `cargo fuzz` would instrument every
//! dependency (Kafka, ONNX Runtime, Qdrant…) and double a cold CI build.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use shadowtap::config::{Config, RedactConfig};
use shadowtap::diff::json_tree::json_changes;
use shadowtap::diff::structural;
use shadowtap::openai::jsontext;
use shadowtap::openai::sse::SseParser;
use shadowtap::openai::stream::{assemble, StreamAssembler};
use shadowtap::openai::ChatView;
use shadowtap::tap::redact::Redactor;

fn budget() -> Duration {
    let secs: f64 = std::env::var("SHADOWTAP_TEST_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("seed corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "empty seed corpus for {target}");
    seeds
}

/// Tokens the mutator splices in: the syntax each parser cares about.
const TOKENS: &[&[u8]] = &[
    b"data: ",
    b"data:",
    b"event: error\n",
    b": keep-alive\n",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"[DONE]",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"true",
    b"0",
    b"-1",
    b"1e999",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"\"choices\":[",
    b"\"delta\":{",
    b"\"tool_calls\":[{\"index\":",
    b"\"content\":\"",
    b"\"arguments\":\"",
    b"\"usage\":",
    b"[[candidates]]\n",
    b"[tap]\n",
    b"= ",
    b"\"\"\"",
    b"'''",
    b"#",
    b"sk-",
    b"@example.com",
    b"4111 1111 1111 1111",
    b"+44 20 7946 0958",
];

fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.gen_range(0..seeds.len())].clone();
    for _ in 0..rng.gen_range(1..=8) {
        let at = rng.gen_range(0..=data.len());
        match rng.gen_range(0..7) {
            0 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => data.insert(at, rng.gen()),
            2 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            3 if !data.is_empty() => {
                let end = rng.gen_range(at..=data.len().min(at + 16));
                data.drain(at..end);
            }
            4 => data.truncate(at),
            5 => {
                let other = &seeds[rng.gen_range(0..seeds.len())];
                let from = rng.gen_range(0..=other.len());
                let to = rng.gen_range(from..=other.len());
                data.splice(at..at, other[from..to].iter().copied());
            }
            _ if !data.is_empty() => {
                // Duplicate a slice in place (repeated keys, nested structures).
                let end = rng.gen_range(at..=data.len());
                let copy = data[at..end].to_vec();
                data.splice(end..end, copy);
            }
            _ => {}
        }
    }
    data
}

/// Run `check` on every seed, then on mutants until the budget is spent. Panics (failing the
/// test) on the first input that breaks a property, after saving it.
fn fuzz(target: &str, check: impl Fn(&[u8], &mut StdRng)) {
    let seeds = corpus(target);
    let seed: u64 = std::env::var("SHADOWTAP_TEST_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let deadline = started + budget();
    let mut executions = 0u64;
    let mut i = 0usize;
    loop {
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else {
            mutate(&mut rng, &seeds)
        };
        i += 1;
        let mut case_rng = StdRng::seed_from_u64(rng.gen());
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input, &mut case_rng))) {
            let dir = std::env::var("SHADOWTAP_TEST_ARTIFACTS")
                .map(PathBuf::from)
                .unwrap_or_else(|_| std::env::temp_dir())
                .join("fuzz");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{target}-crash-{executions}"));
            let _ = std::fs::write(&file, &input);
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "{target}: property broken after {executions} executions (SHADOWTAP_TEST_FUZZ_SEED={seed}); \
                 input saved to {}: {msg}",
                file.display()
            );
        }
        executions += 1;
        if i >= seeds.len() && Instant::now() >= deadline {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz {target}: {executions} executions in {secs:.1} s ({:.0}/s), {} seeds, seed {seed}",
        executions as f64 / secs,
        seeds.len()
    );
}

fn assemble_split(
    bytes: &[u8],
    cuts: &[usize],
    complete: bool,
) -> shadowtap::openai::stream::AssembledStream {
    let mut parser = SseParser::new();
    let mut assembler = StreamAssembler::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(from, bytes.len());
        for event in parser.push(&bytes[from..cut]) {
            assembler.push_event(&event, parser.offset());
        }
        from = cut;
    }
    let (last, _) = parser.finish();
    if let Some(event) = last {
        assembler.push_event(&event, parser.offset());
    }
    assembler.finish(complete)
}

#[test]
fn sse_reassembly_never_panics_and_ignores_chunk_boundaries() {
    fuzz("sse", |bytes, rng| {
        let whole = assemble(bytes, true);
        assert!(
            whole.completion["choices"].is_array(),
            "always a chat completion shape"
        );
        assert_eq!(
            whole,
            StreamAssembler::reference().assemble(bytes, true),
            "the typed fast path disagrees with the Value path"
        );
        assert!(ChatView::parse(&whole.completion).is_some());
        let mut cuts: Vec<usize> = (0..rng.gen_range(1..12))
            .map(|_| rng.gen_range(0..=bytes.len()))
            .collect();
        cuts.sort_unstable();
        let split = assemble_split(bytes, &cuts, true);
        assert_eq!(split.completion, whole.completion, "split at {cuts:?}");
        assert_eq!(split.chunks, whole.chunks);
        assert_eq!(split.malformed_chunks, whole.malformed_chunks);
    });
}

/// Change one random spot of a JSON tree: a scalar's value or type, a removed or duplicated
/// element, a renamed key, a number as a string (the differ's classic cases).
fn mutate_value(v: &mut Value, rng: &mut StdRng, depth: usize) {
    let descend = depth < 12 && rng.gen_bool(0.7);
    match v {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(rng.gen_range(0..map.len())).unwrap().clone();
            match rng.gen_range(0..6) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    let moved = map.remove(&key).unwrap();
                    map.insert(format!("{key}_"), moved);
                }
                _ if descend => mutate_value(map.get_mut(&key).unwrap(), rng, depth + 1),
                _ => *v = scalar(rng),
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.gen_range(0..items.len());
            match rng.gen_range(0..6) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    items.insert(i, copy);
                }
                2 => {
                    let j = rng.gen_range(0..items.len());
                    items.swap(i, j);
                }
                _ if descend => mutate_value(&mut items[i], rng, depth + 1),
                _ => *v = scalar(rng),
            }
        }
        Value::String(text) if rng.gen_bool(0.5) => {
            // Text that is itself JSON (tool arguments, structured answers) gets mutated inside.
            if let Ok(mut inner) = serde_json::from_str::<Value>(text) {
                mutate_value(&mut inner, rng, depth + 1);
                *text = inner.to_string();
            } else {
                text.push_str(["", " ", "!", "é", "{"][rng.gen_range(0..5)]);
            }
        }
        Value::Number(n) if rng.gen_bool(0.5) => *v = Value::String(n.to_string()),
        _ => *v = scalar(rng),
    }
}

fn scalar(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..7) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => Value::from(rng.gen_range(-3i64..100)),
        3 => Value::from(rng.gen::<f64>() * 1e3),
        4 => Value::from(
            ["", "stop", "length", "tool_calls", "Paris", "{\"a\":1}"][rng.gen_range(0..6)],
        ),
        5 => serde_json::json!([]),
        _ => serde_json::json!({}),
    }
}

#[test]
fn json_diff_never_panics_and_finds_nothing_between_equal_values() {
    // Byte mutations mostly break the syntax: half the time, start from an intact seed instead
    // and let the tree mutations below do the work (they keep the JSON valid and reach deeper).
    let seeds = corpus("json");
    fuzz("json", |bytes, rng| {
        let parse = |bytes: &[u8]| -> Option<(Value, Value)> {
            let text = String::from_utf8_lossy(bytes);
            // Two documents: the input split in two (or the input twice).
            let (a, b) = text.split_once("\n---\n").unwrap_or((&text, &text));
            Some((serde_json::from_str(a).ok()?, serde_json::from_str(b).ok()?))
        };
        let Some((a, b)) = parse(bytes).or_else(|| {
            rng.gen_bool(0.5)
                .then(|| parse(&seeds[rng.gen_range(0..seeds.len())]))
                .flatten()
        }) else {
            return;
        };
        // Byte mutations mostly break the syntax; tree mutations keep it valid and reach deeper.
        let mut b = b;
        for _ in 0..rng.gen_range(0..4) {
            mutate_value(&mut b, rng, 0);
        }
        assert!(
            json_changes(&a, &a, "$").is_empty(),
            "a value differs from itself"
        );
        let changes = json_changes(&a, &b, "$");
        if a == b {
            assert!(
                changes.is_empty(),
                "equal values reported as changed: {changes:?}"
            );
        }
        let reverse = json_changes(&b, &a, "$");
        assert_eq!(changes.is_empty(), reverse.is_empty(), "asymmetric diff");
        // The structural differ on completions built from the same bytes.
        let request = if rng.gen_bool(0.5) { Some(&a) } else { None };
        if let (Some(prod), Some(cand)) = (ChatView::parse(&a), ChatView::parse(&b)) {
            let _ = structural::findings(request, &prod, &cand);
            let same = structural::findings(None, &prod, &prod);
            assert!(
                same.iter()
                    .all(|f| f.severity < shadowtap::domain::Severity::Major),
                "a completion has major findings against itself: {same:?}"
            );
        }
    });
}

#[test]
fn redaction_never_panics_and_is_idempotent() {
    let redactor = Redactor::new(&RedactConfig::default()).unwrap();
    fuzz("redact", |bytes, _| {
        let text = String::from_utf8_lossy(bytes);
        let mut session = redactor.session();
        let once = session.redact_str(&text).into_owned();
        assert_eq!(
            session.redact_str(&once),
            once.as_str(),
            "redacting twice changes the text"
        );
        if let Ok(mut value) = serde_json::from_str::<Value>(&text) {
            session.redact_json(&mut value);
            let mut again = value.clone();
            session.redact_json(&mut again);
            assert_eq!(again, value, "redacting a JSON body twice changes it");
        }
        // The capture path's text redaction: checks exactly what a Value parse accepts, and a
        // rewrite of every string value (re-escaped) is still the same JSON.
        let parsed = serde_json::from_slice::<Value>(bytes).ok();
        assert_eq!(
            jsontext::check(bytes).is_some(),
            parsed.is_some(),
            "check disagrees with a Value parse"
        );
        let rewritten = jsontext::map_string_values(&text, |s| Some(s.to_owned()));
        if let Some(parsed) = parsed {
            let out = rewritten.unwrap_or_else(|| text.clone().into_owned());
            let reparsed: Value = serde_json::from_str(&out).expect("rewritten JSON parses");
            assert_eq!(reparsed, parsed, "rewriting string values changed the JSON");
            let masked = session.redact_json_text(&out).unwrap_or(out);
            serde_json::from_str::<Value>(&masked).expect("redacted JSON parses");
            assert!(
                session.redact_json_text(&masked).is_none(),
                "redacting a JSON text twice changes it"
            );
        }
    });
}

#[test]
fn config_loading_never_panics() {
    fuzz("config", |bytes, rng| {
        let text = String::from_utf8_lossy(bytes);
        // Sometimes with environment overrides on top.
        let mut env = std::collections::BTreeMap::<String, String>::new();
        const KEYS: &[&str] = &[
            "SHADOWTAP_TAP__SAMPLE_PERCENT",
            "SHADOWTAP_BUS__KIND",
            "SHADOWTAP_CANDIDATES__0__NAME",
            "SHADOWTAP_CANDIDATES__0__BASE_URL",
            "SHADOWTAP_CANDIDATES__3__RPM",
            "SHADOWTAP_TAP__LISTEN",
            "SHADOWTAP_DIFF__THRESHOLDS__REGRESSION",
            "SHADOWTAP_NOPE",
            "SHADOWTAP_TAP__",
            "SHADOWTAP___",
        ];
        const VALUES: &[&str] = &[
            "",
            "0",
            "-1",
            "1e309",
            "kafka",
            "x",
            "127.0.0.1:0",
            "[1,2]",
            "true",
            "\u{0}",
        ];
        for _ in 0..rng.gen_range(0..3) {
            env.insert(
                KEYS[rng.gen_range(0..KEYS.len())].into(),
                VALUES[rng.gen_range(0..VALUES.len())].into(),
            );
        }
        if let Ok(config) = Config::from_toml(&text, "fuzz.toml", &env) {
            let _ = config.validate();
        }
    });
}
