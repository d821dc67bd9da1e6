//! One attempt at a candidate: send the adapted request (streaming or not), read the answer
//! within limits, and classify what came back.

use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use http::{header, Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;

use super::candidate::Candidate;
use super::retry::retry_hint;
use crate::domain::{CapturedBody, ErrorClass};
use crate::http_client::{join_url, HttpClient};
use crate::openai::sse::SseParser;
use crate::openai::stream::StreamAssembler;
use crate::openai::{classify_error, ChatView};

/// What one attempt produced.
#[derive(Debug, Default)]
pub struct AttemptOutcome {
    pub status: Option<u16>,
    /// The answer (for streams: the reassembled completion).
    pub response: Option<CapturedBody>,
    /// Set when the attempt did not produce a usable answer.
    pub error: Option<(ErrorClass, String)>,
    /// The provider's "retry after" hint, if it gave one.
    pub retry_hint: Option<Duration>,
    /// Milliseconds from sending to the first content token (streams).
    pub ttft_ms: Option<f64>,
    pub chunks: Option<u32>,
    /// Wall time of the attempt, milliseconds.
    pub latency_ms: f64,
}

impl AttemptOutcome {
    fn failed(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            error: Some((class, message.into())),
            ..Self::default()
        }
    }
}

/// Send `body` to the candidate once, bounded by its timeout.
/// (Whether it streams is decided by `body`; an SSE answer is read as a stream whatever was asked.)
pub async fn attempt(http: &HttpClient, c: &Candidate, path: &str, body: &Value) -> AttemptOutcome {
    let started = Instant::now();
    let mut out = match tokio::time::timeout(c.timeout, send(http, c, path, body, started)).await {
        Ok(out) => out,
        Err(_) => AttemptOutcome::failed(
            ErrorClass::Timeout,
            format!("no complete answer within {:.0} s", c.timeout.as_secs_f64()),
        ),
    };
    out.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    out
}

async fn send(
    http: &HttpClient,
    c: &Candidate,
    path: &str,
    body: &Value,
    started: Instant,
) -> AttemptOutcome {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(join_url(&c.base_url, path))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::USER_AGENT,
            concat!("shadowtap/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(key) = &c.api_key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", key.expose()));
    }
    let req = match req.body(Body::from(serde_json::to_vec(body).unwrap_or_default())) {
        Ok(r) => r,
        Err(e) => {
            return AttemptOutcome::failed(
                ErrorClass::InvalidRequest,
                format!("cannot build request: {e}"),
            )
        }
    };
    let resp = match http.request(req).await {
        Ok(r) => r,
        Err(e) => {
            let class = if e.is_connect() {
                ErrorClass::Connection
            } else {
                ErrorClass::ServerError
            };
            return AttemptOutcome::failed(class, format!("request failed: {e}"));
        }
    };
    let status = resp.status().as_u16();
    let hint = retry_hint(resp.headers(), SystemTime::now());
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let mut out = if (200..300).contains(&status) && is_sse {
        read_stream(resp.into_body(), c.max_response_bytes, started).await
    } else {
        read_whole(resp.into_body(), c.max_response_bytes, status).await
    };
    out.status = Some(status);
    out.retry_hint = hint;
    out
}

async fn read_whole(mut body: hyper::body::Incoming, max: usize, status: u16) -> AttemptOutcome {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    if bytes.len() + d.len() > max {
                        return AttemptOutcome::failed(
                            ErrorClass::MalformedResponse,
                            format!("response larger than {max} bytes"),
                        );
                    }
                    bytes.extend_from_slice(d);
                }
            }
            Err(e) => {
                return AttemptOutcome::failed(
                    ErrorClass::Connection,
                    format!("response body failed: {e}"),
                )
            }
        }
    }
    let captured = CapturedBody::whole(&bytes);
    let error = if !(200..300).contains(&status) {
        Some((
            classify_error(status, captured.json()),
            error_message(status, &captured),
        ))
    } else if captured.json().and_then(ChatView::parse).is_none() {
        Some((
            ErrorClass::MalformedResponse,
            "2xx answer that is not a chat completion".to_owned(),
        ))
    } else {
        None
    };
    AttemptOutcome {
        response: Some(captured),
        error,
        ..AttemptOutcome::default()
    }
}

async fn read_stream(
    mut body: hyper::body::Incoming,
    max: usize,
    started: Instant,
) -> AttemptOutcome {
    let mut parser = SseParser::new();
    let mut assembler = StreamAssembler::new();
    let mut ttft_ms = None;
    let mut transport_complete = true;
    let mut failure = None;
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(f) => match f.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
            Err(e) => {
                transport_complete = false;
                failure = Some((ErrorClass::Connection, format!("stream broke off: {e}")));
                break;
            }
        };
        for event in parser.push(&data) {
            assembler.push_event(&event, parser.offset());
            if ttft_ms.is_none() && assembler.has_content() {
                ttft_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if parser.offset() > max as u64 {
            transport_complete = false;
            failure = Some((
                ErrorClass::MalformedResponse,
                format!("stream larger than {max} bytes"),
            ));
            break;
        }
    }
    let (pending, _partial) = parser.finish();
    if let Some(event) = pending {
        assembler.push_event(&event, parser.offset());
    }
    let assembled = assembler.finish(transport_complete);
    let error = match (failure, &assembled.error) {
        (Some(f), _) => Some(f),
        (None, Some(err)) => {
            let wrapped = serde_json::json!({ "error": err });
            Some((
                classify_error(200, Some(&wrapped)),
                format!("error event mid-stream: {err}"),
            ))
        }
        (None, None) if !assembled.complete => Some((
            ErrorClass::MalformedResponse,
            format!(
                "stream ended early ({} chunks, {} malformed, [DONE] {})",
                assembled.chunks,
                assembled.malformed_chunks,
                if assembled.done { "seen" } else { "missing" }
            ),
        )),
        (None, None) => None,
    };
    AttemptOutcome {
        response: Some(CapturedBody {
            content: crate::domain::BodyContent::Json(assembled.completion),
            truncated: false,
            size: parser.offset(),
        }),
        error,
        ttft_ms,
        chunks: Some(assembled.chunks),
        ..AttemptOutcome::default()
    }
}

/// A short description of an error answer.
pub fn error_message(status: u16, body: &CapturedBody) -> String {
    let detail = body
        .json()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("detail"))
        })
        .map(|m| {
            m.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| m.to_string())
        })
        .unwrap_or_default();
    let mut msg = format!("HTTP {status}");
    if !detail.is_empty() {
        msg.push_str(": ");
        msg.extend(detail.chars().take(500));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_short_and_readable() {
        let body = CapturedBody::whole(br#"{"error":{"message":"Rate limit reached"}}"#);
        assert_eq!(error_message(429, &body), "HTTP 429: Rate limit reached");
        assert_eq!(error_message(500, &CapturedBody::whole(b"")), "HTTP 500");
    }
}
