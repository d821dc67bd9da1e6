//! Capture-side CPU per exchange (issue 3): what the tap's capture thread spends turning one
//! request/response into a bus envelope — parse, sampling rules, redaction, encoding — measured
//! in the same run against the baseline of handling the bodies as parsed `serde_json::Value`
//! trees (parse, redact the tree, serialise it again), which is what the capture thread did
//! before JSON bodies were kept as text.
//!
//! Exchanges:
//! - `chat`: the request and ~600-byte completion of `scripts/bench-tap.sh` (no PII), with the
//!   headers its load generator sends (Authorization dropped, the rest kept)
//! - `pii`: a support conversation with emails, a phone number, a card number and an IP in the
//!   request and the answer
//! - `stream`: the same completion streamed as ~60 SSE chunks (reassembled, then encoded)
//!
//! Rows: full `capture::prepare` per exchange with the default redactor and with redaction off
//! (what redaction costs), then the body stage alone, tree vs text, as µs per exchange and the
//! ratio; then stream reassembly alone, every chunk as a `Value` (the reference) vs the typed
//! fast path. `cargo bench --bench capture -- [--secs 3] [--only chat]`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use clap::Parser;
use http::HeaderMap;
use serde_json::value::RawValue;
use shadowtap::config::{RedactConfig, TapConfig};
use shadowtap::domain::{BodyContent, ExchangeId};
use shadowtap::openai::jsontext;
use shadowtap::openai::stream::StreamAssembler;
use shadowtap::tap::capture::{prepare, CaptureRules, Prepared, RawCapture};
use shadowtap::tap::redact::Redactor;
use shadowtap::tap::sample::CapturePolicy;
use shadowtap::tap::tee::{BodyEnd, TeeOutcome};

/// Capture-side CPU benchmark.
#[derive(Debug, Parser)]
#[command(name = "bench-capture", about, long_about = None)]
struct Args {
    /// Minimum seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Only the `prepare` row of this exchange (`chat`, `pii` or `stream`), e.g. under a profiler.
    #[arg(long, value_parser = ["chat", "pii", "stream"])]
    only: Option<String>,
    /// Set by `cargo bench`; without it (`cargo test --benches`) nothing runs.
    #[arg(long, hide = true)]
    bench: bool,
}

const CHAT_REQUEST: &str = r#"{"model":"gpt-4o-mini","temperature":0.2,"max_tokens":256,"messages":[{"role":"system","content":"You are a concise, friendly customer-support assistant for an online shop."},{"role":"user","content":"Hi! Where is my order A-1042? I ordered it last week and have not heard anything since."}]}"#;
const ANSWER: &str = "Your order #A-1042 shipped on Tuesday and should arrive within three to five business days. You will get an email with the tracking link as soon as the carrier scans the parcel. Is there anything else I can help you with today?";
const PII_REQUEST: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a support assistant. Never repeat card numbers."},{"role":"user","content":"I am Ada (ada.lovelace@example.com, +44 20 7946 0958). My card 4111 1111 1111 1111 was charged twice from 203.0.113.7, please refund to the same card and mail ada.lovelace@example.com."}]}"#;
const PII_ANSWER: &str = "Thanks Ada. I have flagged the double charge on the card ending 1111 and a refund confirmation will go to ada.lovelace@example.com within two business days. If you need us by phone, we will call +44 20 7946 0958.";

fn completion(answer: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-bench0000000000000000000001", "object": "chat.completion",
        "created": 1730000000, "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_bench0001",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 58, "completion_tokens": 49, "total_tokens": 107,
                  "completion_tokens_details": {"reasoning_tokens": 0}}
    })
    .to_string()
}

fn sse(answer: &str) -> String {
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        let c = serde_json::json!({
            "id": "chatcmpl-bench1", "object": "chat.completion.chunk", "created": 1730000000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        });
        format!("data: {c}\n\n")
    };
    let mut out = chunk(
        serde_json::json!({"role": "assistant", "content": ""}),
        None,
    );
    for word in answer.split_inclusive(' ') {
        out.push_str(&chunk(serde_json::json!({"content": word}), None));
    }
    out.push_str(&chunk(serde_json::json!({}), Some("stop")));
    out.push_str("data: [DONE]\n\n");
    out
}

fn outcome(bytes: String, started: Instant) -> TeeOutcome {
    let bytes = Bytes::from(bytes);
    TeeOutcome {
        total: bytes.len() as u64,
        marks: vec![(bytes.len() as u64, started)],
        bytes,
        truncated: false,
        end: BodyEnd::Complete,
        first_byte_at: Some(started),
        ended_at: started,
    }
}

fn raw(request: &str, response: String, streamed: bool) -> RawCapture {
    let started = Instant::now();
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("host", "127.0.0.1:18086"),
        ("content-type", "application/json"),
        (
            "authorization",
            "Bearer sk-bench-0000000000000000000000000000000000000000",
        ),
        ("content-length", "300"),
        ("user-agent", "OpenAI/Python 1.54.0"),
        ("x-shadowtap-team", "support"),
    ] {
        headers.insert(k, v.parse().unwrap());
    }
    RawCapture {
        id: ExchangeId::new(),
        captured_at: chrono::Utc::now(),
        started,
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        request_headers: headers,
        request: Some(outcome(request.to_owned(), started)),
        response: outcome(response, started),
        status: 200,
        streamed,
        decide_sample_by_body: false,
    }
}

fn rules(redact: bool) -> CaptureRules {
    let config = RedactConfig {
        enabled: redact,
        ..RedactConfig::default()
    };
    CaptureRules {
        tag_headers: vec!["x-shadowtap-team".into(), "x-shadowtap-feature".into()],
        redact_headers: Vec::new(),
        redactor: Arc::new(Redactor::new(&config).expect("default redaction config")),
    }
}

/// Microseconds per call of `f`, repeated for at least `secs`.
fn micros(secs: f64, mut f: impl FnMut()) -> f64 {
    for _ in 0..100 {
        f();
    }
    let t0 = Instant::now();
    let mut n = 0u64;
    while n == 0 || t0.elapsed().as_secs_f64() < secs {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    t0.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// The body stage as the baseline did it: parse to a tree, redact the tree, serialise it.
fn bodies_as_tree(bodies: &[&[u8]], redactor: &Redactor) -> usize {
    let mut session = redactor.session();
    let mut bytes = 0;
    for body in bodies {
        let mut content = BodyContent::from_bytes(body);
        match &mut content {
            BodyContent::Json(v) => session.redact_json(v),
            BodyContent::Text(t) => *t = session.redact_str(t).into_owned(),
            BodyContent::Empty => {}
        }
        bytes += serde_json::to_vec(&content).expect("serialises").len();
    }
    bytes
}

/// A JSON body as the envelope carries it.
#[derive(serde::Serialize)]
struct JsonContent<'a> {
    r#type: &'static str,
    value: &'a RawValue,
}

/// The body stage as the capture thread does it now: check, redact the text, embed it.
fn bodies_as_text(bodies: &[&[u8]], redactor: &Redactor) -> usize {
    let mut session = redactor.session();
    let mut bytes = 0;
    for body in bodies {
        let text = jsontext::check(body)
            .and_then(|_| std::str::from_utf8(body).ok())
            .expect("the benchmark's bodies are JSON");
        let masked;
        let value: &RawValue = match session.redact_json_text(text) {
            Some(m) => {
                masked = RawValue::from_string(m).expect("JSON");
                &masked
            }
            None => serde_json::from_str(text).expect("JSON"),
        };
        let content = JsonContent {
            r#type: "json",
            value,
        };
        bytes += serde_json::to_vec(&content).expect("serialises").len();
    }
    bytes
}

fn main() {
    let args = Args::parse();
    if !args.bench {
        println!("bench-capture: run with `cargo bench --bench capture`; skipped");
        return;
    }
    let policy = CapturePolicy::new(&TapConfig::default()).expect("default tap config");
    let on = rules(true);
    let off = rules(false);
    let chat_response = completion(ANSWER);
    let pii_response = completion(PII_ANSWER);
    let cases = [
        ("chat", raw(CHAT_REQUEST, chat_response.clone(), false)),
        ("pii", raw(PII_REQUEST, pii_response.clone(), false)),
        ("stream", raw(CHAT_REQUEST, sse(ANSWER), true)),
    ];
    println!(
        "capture::prepare, µs per exchange (parse, rules, redaction, envelope; publish not included)"
    );
    println!(
        "{:<8} {:>12} {:>14} {:>16} {:>14}",
        "exchange", "redact on", "redact off", "redaction share", "envelope bytes"
    );
    for (name, capture) in &cases {
        if args.only.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        let size = match prepare(capture, &on, &policy).expect("prepares") {
            Prepared::Ready(r) => r.payload.len(),
            Prepared::Skipped(reason) => panic!("{name} skipped: {reason}"),
        };
        let with = micros(args.secs, || {
            black_box(prepare(black_box(capture), &on, &policy).ok());
        });
        let without = micros(args.secs, || {
            black_box(prepare(black_box(capture), &off, &policy).ok());
        });
        println!(
            "{name:<8} {with:>12.2} {without:>14.2} {:>15.0}% {size:>14}",
            100.0 * (with - without) / with
        );
    }

    if args.only.is_some() {
        return;
    }
    println!();
    println!("Body stage only (request + non-streamed response), µs per exchange, same run:");
    println!(
        "{:<8} {:>16} {:>16} {:>12}",
        "exchange", "tree (baseline)", "text (now)", "tree / text"
    );
    for (name, request, response) in [
        ("chat", CHAT_REQUEST, chat_response.as_str()),
        ("pii", PII_REQUEST, pii_response.as_str()),
    ] {
        let bodies = [request.as_bytes(), response.as_bytes()];
        let tree = micros(args.secs, || {
            black_box(bodies_as_tree(black_box(&bodies), &on.redactor));
        });
        let text = micros(args.secs, || {
            black_box(bodies_as_text(black_box(&bodies), &on.redactor));
        });
        println!("{name:<8} {tree:>16.2} {text:>16.2} {:>11.2}×", tree / text);
    }

    println!();
    println!(
        "Stream reassembly only (the `stream` exchange's ~60 chunks), µs per stream, same run:"
    );
    println!(
        "{:<8} {:>16} {:>16} {:>12}",
        "exchange", "Value (before)", "typed (now)", "Value / typed"
    );
    let streamed = sse(ANSWER);
    let reference = micros(args.secs, || {
        black_box(StreamAssembler::reference().assemble(black_box(streamed.as_bytes()), true));
    });
    let typed = micros(args.secs, || {
        black_box(StreamAssembler::new().assemble(black_box(streamed.as_bytes()), true));
    });
    println!(
        "{:<8} {reference:>16.2} {typed:>16.2} {:>11.2}×",
        "stream",
        reference / typed
    );
}
