//! A deterministic fake OpenAI-compatible provider (for the demo and the tests).
//!
//! `POST /v1/chat/completions` answers the demo scenarios per [`Persona`]; any other prompt gets
//! a deterministic echo. Requests whose model is `fail-400` get an OpenAI-style 400.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
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
    calls: Arc<AtomicU64>,
    stop: CancellationToken,
}

impl FakeProvider {
    /// Start a fake provider on `127.0.0.1:0`.
    pub async fn spawn(persona: Persona) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .with_state((persona, calls.clone()));
        let token = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Ok(Self { addr, calls, stop })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Chat requests answered so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn chat(
    State((persona, calls)): State<(Persona, Arc<AtomicU64>)>,
    body: axum::body::Bytes,
) -> Response {
    calls.fetch_add(1, Ordering::SeqCst);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        let err = error_body(
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            "invalid_json",
        );
        return (StatusCode::BAD_REQUEST, Json(err)).into_response();
    };
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt-4o-mini")
        .to_owned();
    if model == "fail-400" {
        let err = error_body(
            "The model `fail-400` does not exist.",
            "invalid_request_error",
            "model_not_found",
        );
        return (StatusCode::BAD_REQUEST, Json(err)).into_response();
    }
    let prompt = last_user_message(&request);
    let echo = format!("You said: {prompt}");
    let answer = match scenarios::find(&prompt) {
        Some(s) => s.answer(persona).clone(),
        None => Answer {
            content: Some(&echo),
            tool_call: None,
            finish_reason: "stop",
        },
    };
    Json(completion(&model, &prompt, &answer)).into_response()
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
