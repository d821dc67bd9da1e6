//! Streaming answers of the fake provider: OpenAI-style `chat.completion.chunk` SSE events.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

/// The SSE events (already framed as `data: …\n\n`) for a streamed version of `completion`.
pub fn chunks(completion: &Value, include_usage: bool) -> Vec<Bytes> {
    let id = completion["id"].clone();
    let model = completion["model"].clone();
    let created = completion["created"].clone();
    let frame = |choices: Value, usage: Value| {
        let chunk = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                           "system_fingerprint": "fp_shadowtap_fake", "choices": choices, "usage": usage});
        Bytes::from(format!("data: {chunk}\n\n"))
    };
    let delta =
        |d: Value| json!([{"index": 0, "delta": d, "logprobs": null, "finish_reason": null}]);
    let message = &completion["choices"][0]["message"];
    let mut out = vec![frame(
        delta(json!({"role": "assistant", "content": "", "refusal": null})),
        Value::Null,
    )];
    if let Some(text) = message["content"].as_str() {
        for piece in pieces(text) {
            out.push(frame(delta(json!({"content": piece})), Value::Null));
        }
    }
    if let Some(calls) = message["tool_calls"].as_array() {
        for (i, call) in calls.iter().enumerate() {
            let first = json!({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""}}]});
            out.push(frame(delta(first), Value::Null));
            let args = call["function"]["arguments"].as_str().unwrap_or_default();
            for part in args
                .as_bytes()
                .chunks(8)
                .map(|c| String::from_utf8_lossy(c).into_owned())
            {
                let d = json!({"tool_calls": [{"index": i, "function": {"arguments": part}}]});
                out.push(frame(delta(d), Value::Null));
            }
        }
    }
    let finish = completion["choices"][0]["finish_reason"].clone();
    out.push(frame(
        json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": finish}]),
        Value::Null,
    ));
    if include_usage {
        out.push(frame(json!([]), completion["usage"].clone()));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

/// Split text into word-sized pieces (whitespace kept with the following word, as tokenizers do).
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_whitespace() && !current.trim().is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A `text/event-stream` response sending `frames` with `delay` between them, recording when each
/// frame was handed to the connection in `emitted`.
pub fn response(
    frames: Vec<Bytes>,
    delay: Duration,
    emitted: Arc<Mutex<Vec<Instant>>>,
) -> Response {
    let stream =
        futures_util::stream::unfold((frames.into_iter(), true), move |(mut it, first)| {
            let emitted = emitted.clone();
            async move {
                let frame = it.next()?;
                if !first && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                emitted.lock().expect("emissions lock").push(Instant::now());
                Some((Ok::<_, std::io::Error>(frame), (it, false)))
            }
        });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_rebuild_the_text() {
        let text = "Hello there,  world!\nBye";
        assert_eq!(pieces(text).concat(), text);
        assert_eq!(pieces("one two"), vec!["one", " two"]);
    }

    #[test]
    fn frames_end_with_done_and_usage_is_optional() {
        let c = json!({"id": "x", "model": "m", "created": 1, "usage": {"prompt_tokens": 1},
            "choices": [{"message": {"content": "a b"}, "finish_reason": "stop"}]});
        let with = chunks(&c, true);
        assert_eq!(
            with.last().unwrap(),
            &Bytes::from_static(b"data: [DONE]\n\n")
        );
        assert_eq!(with.len(), chunks(&c, false).len() + 1);
    }
}
