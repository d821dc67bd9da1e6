//! A captured exchange: one production request and the response the client received.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identity of a captured exchange (UUIDv7: sortable by capture time). Also the Kafka message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExchangeId(Uuid);

impl ExchangeId {
    /// A new time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for ExchangeId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for ExchangeId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a captured body contained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum BodyContent {
    /// No body bytes at all.
    Empty,
    /// A body that parsed as JSON.
    Json(serde_json::Value),
    /// Anything else (malformed JSON, SSE transcript, plain text), as lossy UTF-8.
    Text(String),
}

impl BodyContent {
    /// Classify raw bytes: JSON if they parse, text otherwise.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Self::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(value) => Self::Json(value),
            Err(_) => Self::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// The JSON value, if the body was JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// A body as captured: possibly cut at the capture limit (the forwarded body is always whole).
///
/// `C` is how the content is held: parsed ([`BodyContent`]) everywhere except in the tap's
/// encoder, which keeps JSON as text and serialises to the same wire form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedBody<C = BodyContent> {
    /// Parsed content (of the captured prefix when truncated).
    pub content: C,
    /// True when the body was longer than the capture limit and only a prefix was kept.
    pub truncated: bool,
    /// Total size of the body in bytes as it went over the wire.
    pub size: u64,
}

impl CapturedBody {
    /// A body that was captured whole.
    pub fn whole(bytes: &[u8]) -> Self {
        Self {
            content: BodyContent::from_bytes(bytes),
            truncated: false,
            size: bytes.len() as u64,
        }
    }

    /// The JSON value, if the body was captured whole and parsed as JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.content.json()
    }
}

/// How a streamed response went, as reassembled by the tap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamStats {
    /// Valid `chat.completion.chunk` events.
    pub chunks: u32,
    /// Data events that were not JSON.
    pub malformed_chunks: u32,
    /// `data: [DONE]` arrived.
    pub done: bool,
    /// The stream finished normally: `[DONE]`, a finish reason, no error event, transport complete.
    pub complete: bool,
    /// An error object sent mid-stream, if any.
    pub error: Option<serde_json::Value>,
    /// Time from request received to the first content token, milliseconds.
    pub ttft_ms: Option<f64>,
}

/// One production request/response pair, as seen by the tap (secrets already removed).
///
/// `C` is how bodies are held (see [`CapturedBody`]); every reader uses the default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange<C = BodyContent> {
    pub id: ExchangeId,
    pub captured_at: DateTime<Utc>,
    pub method: String,
    /// Path and query as the client sent it, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The `model` field of the request, when there is one.
    pub model: Option<String>,
    /// Tags from the configured tag headers (team, feature, ...).
    pub tags: BTreeMap<String, String>,
    /// Request headers with secrets removed.
    pub request_headers: BTreeMap<String, String>,
    pub request: CapturedBody<C>,
    pub response: CapturedBody<C>,
    /// HTTP status the client received.
    pub status: u16,
    /// Time from request received to last response byte, in milliseconds.
    pub latency_ms: f64,
    /// Time from request received to first response byte, in milliseconds.
    pub ttfb_ms: Option<f64>,
    /// True when the response was a server-sent event stream.
    pub streamed: bool,
    /// For streamed responses: what the reassembly found (the response body is the reassembled completion).
    #[serde(default)]
    pub stream: Option<StreamStats>,
    /// True when the response did not complete (upstream error mid-body or client went away).
    pub incomplete: bool,
}
