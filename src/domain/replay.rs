//! The result of replaying one exchange to one candidate provider.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CapturedBody, ExchangeId};

/// Name of a candidate provider as configured (`[[candidates]] name = ...`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CandidateName(String);

impl CandidateName {
    /// Validate a candidate name: 1..=64 chars of `[A-Za-z0-9_.-]`.
    pub fn parse(name: &str) -> Result<Self, String> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(format!(
                "invalid candidate name {name:?}: use 1-64 characters from A-Z a-z 0-9 _ - ."
            ))
        }
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CandidateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a replay did not produce a usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    RateLimited,
    Auth,
    InvalidRequest,
    UnsupportedParameter,
    ContextLength,
    ContentFilter,
    ServerError,
    Timeout,
    Connection,
    MalformedResponse,
}

impl ErrorClass {
    /// All classes, in display order.
    pub const ALL: [ErrorClass; 10] = [
        Self::RateLimited,
        Self::Auth,
        Self::InvalidRequest,
        Self::UnsupportedParameter,
        Self::ContextLength,
        Self::ContentFilter,
        Self::ServerError,
        Self::Timeout,
        Self::Connection,
        Self::MalformedResponse,
    ];

    /// Stable snake_case name (stored in the database).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::Auth => "auth",
            Self::InvalidRequest => "invalid_request",
            Self::UnsupportedParameter => "unsupported_parameter",
            Self::ContextLength => "context_length",
            Self::ContentFilter => "content_filter",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::MalformedResponse => "malformed_response",
        }
    }

    /// The candidate cannot accept this request at all: a migration blocker, not noise.
    pub fn is_incompatibility(&self) -> bool {
        matches!(self, Self::UnsupportedParameter | Self::InvalidRequest)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown error class {s:?}"))
    }
}

/// What one candidate answered to one replayed exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayResult {
    pub exchange_id: ExchangeId,
    pub candidate: CandidateName,
    /// The request actually sent (after model mapping), secrets excluded.
    pub request: serde_json::Value,
    /// The candidate's response body, if any arrived.
    pub response: Option<CapturedBody>,
    /// HTTP status, if a response head arrived.
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub error_class: Option<ErrorClass>,
    pub error_message: Option<String>,
    pub attempts: u32,
    /// The replay was streamed (SSE), and the response is the reassembled completion.
    pub streamed: bool,
    /// Time to the first content token of a streamed replay, milliseconds.
    pub ttft_ms: Option<f64>,
    /// Stream chunks received.
    pub chunks: Option<u32>,
    /// Usage reported by the candidate.
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    /// Estimated cost from usage and the candidate's prices.
    pub cost_usd: Option<f64>,
}
