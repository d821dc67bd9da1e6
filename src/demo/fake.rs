//! A deterministic fake OpenAI-compatible provider (for the demo and the tests).
//!
//! `POST /v1/chat/completions` answers the demo scenarios per [`Persona`]; any other prompt gets
//! a deterministic echo. `"stream": true` streams the same answer as SSE chunks (with a usage chunk
//! when `stream_options.include_usage`), waiting `x-fake-chunk-delay-ms` between chunks.
//! Models `fail-400`, `fail-429` (with `Retry-After: 1`) and `fail-500` answer with those errors;
//! `flaky-429` answers 429 to its first two requests, then normally; `unsupported` rejects a
//! parameter; `malformed` answers 200 with broken JSON; `broken-stream` cuts its stream before the
//! end; `huge` answers 10 MiB; `hang` never answers; `slow-N` waits N ms before answering.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::scenarios::{self, Answer, Persona};
use crate::openai::error_body;

/// A running fake provider; stops when dropped.
pub struct FakeProvider {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

/// State shared with the request handler.
struct Shared {
    persona: Persona,
    calls: AtomicU64,
    /// The last request: its Authorization header and body.
    last: Mutex<Option<(Option<String>, Value)>>,
    /// Requests seen per model (for "fail the first N" behaviours).
    per_model: Mutex<std::collections::HashMap<String, u64>>,
    /// When each streamed frame was handed to the connection (for pass-through timing tests).
    emitted: Arc<Mutex<Vec<Instant>>>,
}

impl FakeProvider {
    /// Start a fake provider on `127.0.0.1:0`.
    pub async fn spawn(persona: Persona) -> std::io::Result<Self> {
        Self::spawn_on(SocketAddr::from(([127, 0, 0, 1], 0)), persona).await
    }

    /// Start a fake provider on `addr`.
    pub async fn spawn_on(addr: SocketAddr, persona: Persona) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            persona,
            calls: AtomicU64::new(0),
            per_model: Mutex::new(Default::default()),
            last: Mutex::new(None),
            emitted: Arc::new(Mutex::new(Vec::new())),
        });
        let stop = CancellationToken::new();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .with_state(shared.clone());
        let token = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Ok(Self { addr, shared, stop })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Chat requests answered so far.
    pub fn calls(&self) -> u64 {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// The last request received: its Authorization header and JSON body.
    pub fn last_request(&self) -> Option<(Option<String>, Value)> {
        self.shared.last.lock().expect("last-request lock").clone()
    }

    /// When each streamed frame so far was handed to the connection.
    pub fn emissions(&self) -> Vec<Instant> {
        self.shared.emitted.lock().expect("emissions lock").clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn fail(status: StatusCode, message: &str, kind: &str, code: &str) -> Response {
    (status, Json(error_body(message, kind, code))).into_response()
}

/// OpenAI's 429 with `Retry-After: 1`.
fn rate_limited() -> Response {
    let msg = "Rate limit reached for requests. Please try again in 1s.";
    let mut resp = fail(
        StatusCode::TOO_MANY_REQUESTS,
        msg,
        "requests",
        "rate_limit_exceeded",
    );
    resp.headers_mut()
        .insert("retry-after", "1".parse().expect("valid header"));
    resp
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    shared.calls.fetch_add(1, Ordering::SeqCst);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            "invalid_json",
        );
    };
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    *shared.last.lock().expect("last-request lock") = Some((auth, request.clone()));
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-4o-mini")
        .to_owned();
    match model.as_str() {
        "fail-400" => {
            let msg = "The model `fail-400` does not exist.";
            return fail(
                StatusCode::BAD_REQUEST,
                msg,
                "invalid_request_error",
                "model_not_found",
            );
        }
        "fail-429" => {
            return rate_limited();
        }
        "fail-500" => {
            let msg = "The server had an error while processing your request.";
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                msg,
                "server_error",
                "server_error",
            );
        }
        "flaky-429" => {
            let seen = {
                let mut per_model = shared.per_model.lock().expect("per-model lock");
                let n = per_model.entry(model.clone()).or_default();
                *n += 1;
                *n
            };
            if seen <= 2 {
                return rate_limited();
            }
        }
        "unsupported" => {
            let msg = "Unsupported parameter: 'logit_bias' is not supported with this model.";
            return fail(
                StatusCode::BAD_REQUEST,
                msg,
                "invalid_request_error",
                "unsupported_parameter",
            );
        }
        "malformed" => {
            return (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                "{\"choices\": [{\"message\": ",
            )
                .into_response();
        }
        "huge" => {
            let text = "x".repeat(10 * 1024 * 1024);
            return Json(json!({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}))
                .into_response();
        }
        "hang" => {
            std::future::pending::<()>().await;
        }
        m if m.starts_with("slow-") => {
            let ms = m["slow-".len()..].parse().unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        _ => {}
    }
    let prompt = last_user_message(&request);
    let echo = format!("You said: {prompt}");
    let answer = match scenarios::find(&prompt) {
        Some(s) => s.answer(shared.persona).clone(),
        None => Answer {
            content: Some(&echo),
            tool_call: None,
            finish_reason: "stop",
        },
    };
    let completion = completion(&model, &prompt, &answer);
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = request
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        let delay = headers
            .get("x-fake-chunk-delay-ms")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .map_or(Duration::ZERO, Duration::from_millis);
        shared.emitted.lock().expect("emissions lock").clear();
        let mut frames = super::fake_stream::chunks(&completion, include_usage);
        if model == "broken-stream" {
            frames.truncate(frames.len() / 2);
            frames.push(bytes::Bytes::from_static(b"data: {\"id\": \"cut"));
        }
        return super::fake_stream::response(frames, delay, shared.emitted.clone());
    }
    Json(completion).into_response()
}

fn last_user_message(request: &Value) -> String {
    request
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| {
            m.iter()
                .rev()
                .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        })
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A chat.completion body for `answer`, deterministic for a given prompt.
pub fn completion(model: &str, prompt: &str, answer: &Answer<'_>) -> Value {
    let id = format!("chatcmpl-{:016x}", fnv1a(prompt.as_bytes()));
    let tool_calls = answer.tool_call.map(|(name, args)| {
        json!([{"id": format!("call_{:08x}", fnv1a(name.as_bytes()) as u32), "type": "function",
                "function": {"name": name, "arguments": args}}])
    });
    let mut message = json!({"role": "assistant", "content": answer.content, "refusal": null});
    if let Some(calls) = tool_calls {
        message["tool_calls"] = calls;
    }
    let completion_tokens = answer
        .content
        .map_or(12, |c| c.split_whitespace().count() as u64 + 1);
    let prompt_tokens = prompt.split_whitespace().count() as u64 + 9;
    json!({
        "id": id,
        "object": "chat.completion",
        "created": 1_735_689_600,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": answer.finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "system_fingerprint": "fp_shadowtap_fake"
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
