//! `/diffs/{id}`: request, production and candidate answers side by side, word diff, findings.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use axum::Json;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::{fmt_opt, render};
use crate::domain::{BodyContent, Finding};
use crate::openai::ChatView;
use crate::store::DiffDetail;
use crate::ui::error::ApiError;
use crate::ui::{UiError, UiState};

/// Longest text shown on the page per panel; the rest is elided (the API has everything).
const MAX_PANEL_CHARS: usize = 100_000;

/// A span of the word diff.
pub struct Segment {
    /// `eq`, `del` or `ins` (CSS class).
    pub kind: &'static str,
    pub text: String,
}

/// A finding ready for display.
pub struct FindingView {
    pub kind: String,
    pub severity: String,
    pub path: String,
    pub message: String,
    pub measured: String,
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    id: i64,
    candidate: String,
    verdict: String,
    score: String,
    similarity: String,
    route: String,
    model: String,
    captured_at: String,
    tags: String,
    production_status: i32,
    production_latency: String,
    candidate_status: String,
    candidate_latency: String,
    candidate_error: String,
    request: String,
    production_json: String,
    candidate_json: String,
    production_text: String,
    candidate_text: String,
    word_diff: Vec<Segment>,
    findings: Vec<FindingView>,
}

fn pretty(body: &BodyContent) -> String {
    let s = match body {
        BodyContent::Empty => "(empty)".to_owned(),
        BodyContent::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        BodyContent::Text(t) => t.clone(),
    };
    clip(&s)
}

fn clip(s: &str) -> String {
    if s.len() <= MAX_PANEL_CHARS {
        return s.to_owned();
    }
    let mut end = MAX_PANEL_CHARS;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} more bytes; see /api/diffs/ID)",
        &s[..end],
        s.len() - end
    )
}

/// The answer text of a response (first choice content, or its tool calls).
fn answer_text(body: &BodyContent) -> String {
    let Some(chat) = body.json().and_then(ChatView::parse) else {
        return String::new();
    };
    let Some(first) = chat.first() else {
        return String::new();
    };
    let mut out = first.content.clone().unwrap_or_default();
    for call in &first.tool_calls {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("→ {}({})", call.name, call.arguments));
    }
    out
}

/// Word-level diff of two texts for highlighting.
pub fn word_diff(a: &str, b: &str) -> Vec<Segment> {
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_millis(250))
        .diff_words(a, b);
    let mut out: Vec<Segment> = Vec::new();
    for change in diff.iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => "eq",
            ChangeTag::Delete => "del",
            ChangeTag::Insert => "ins",
        };
        match out.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => out.push(Segment {
                kind,
                text: change.value().to_owned(),
            }),
        }
    }
    out
}

fn finding_views(findings: &Value) -> Vec<FindingView> {
    let parsed: Vec<Finding> = serde_json::from_value(findings.clone()).unwrap_or_default();
    parsed
        .into_iter()
        .map(|f| FindingView {
            kind: f.kind.as_str().to_owned(),
            severity: format!("{:?}", f.severity).to_lowercase(),
            path: f.path,
            message: f.message,
            measured: match (f.value, f.threshold) {
                (Some(v), Some(t)) => format!("{v:.2} (threshold {t:.2})"),
                (Some(v), None) => format!("{v:.2}"),
                _ => String::new(),
            },
        })
        .collect()
}

fn view(d: DiffDetail) -> DetailPage {
    let production = d.exchange.response();
    let candidate = d.replay.response();
    let production_text = answer_text(&production.content);
    let candidate_text = answer_text(&candidate.content);
    DetailPage {
        id: d.id,
        word_diff: word_diff(&clip(&production_text), &clip(&candidate_text)),
        production_text: clip(&production_text),
        candidate_text: clip(&candidate_text),
        candidate: d.candidate,
        verdict: d.verdict,
        score: format!("{:.2}", d.score),
        similarity: fmt_opt(d.text_similarity, 2),
        route: format!("{} {}", d.exchange.method, d.exchange.path),
        model: d.exchange.model.clone().unwrap_or_default(),
        captured_at: d
            .exchange
            .captured_at
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        tags: match &d.exchange.tags {
            Value::Object(m) if !m.is_empty() => m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        },
        production_status: d.exchange.status,
        production_latency: format!("{:.0} ms", d.exchange.latency_ms),
        candidate_status: d
            .replay
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "—".into()),
        candidate_latency: format!("{:.0} ms", d.replay.latency_ms),
        candidate_error: match (&d.replay.error_class, &d.replay.error_message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        },
        request: pretty(&d.exchange.request().content),
        production_json: pretty(&production.content),
        candidate_json: pretty(&candidate.content),
        findings: finding_views(&d.findings),
    }
}

/// `GET /diffs/{id}`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Path(id): Path<String>,
) -> Result<Html<String>, UiError> {
    let id: i64 = id.parse().map_err(|_| UiError::NotFound)?;
    let detail = state
        .store
        .diff_detail(id)
        .await?
        .ok_or(UiError::NotFound)?;
    render(&view(detail))
}

/// `GET /api/diffs/{id}`: the diff with its exchange and replay as JSON.
pub async fn api(
    State(state): State<Arc<UiState>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id: i64 = id.parse().map_err(|_| UiError::NotFound)?;
    let d = state
        .store
        .diff_detail(id)
        .await?
        .ok_or(UiError::NotFound)?;
    Ok(Json(serde_json::json!({
        "id": d.id,
        "candidate": d.candidate,
        "verdict": d.verdict,
        "score": d.score,
        "text_similarity": d.text_similarity,
        "findings": d.findings,
        "created_at": d.created_at,
        "exchange": {
            "id": d.exchange.id,
            "captured_at": d.exchange.captured_at,
            "method": d.exchange.method,
            "path": d.exchange.path,
            "model": d.exchange.model,
            "tags": d.exchange.tags,
            "status": d.exchange.status,
            "latency_ms": d.exchange.latency_ms,
            "streamed": d.exchange.streamed,
            "request": d.exchange.request_body,
            "response": d.exchange.response_body,
        },
        "replay": {
            "status": d.replay.status,
            "latency_ms": d.replay.latency_ms,
            "error_class": d.replay.error_class,
            "error_message": d.replay.error_message,
            "request": d.replay.request_body,
            "response": d.replay.response_body,
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_marks_changes() {
        let segs = word_diff("the cat sat", "the dog sat");
        let kinds: Vec<_> = segs.iter().map(|s| (s.kind, s.text.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                ("eq", "the "),
                ("del", "cat"),
                ("ins", "dog"),
                ("eq", " sat")
            ]
        );
    }
}
