//! `/diffs/{id}`: request, production and candidate answers side by side, word diff, findings.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::vectors::{Section, SimilarHit};
use super::{fmt_opt, render};
use crate::diff::json_tree::{json_changes, ChangeKind};
use crate::domain::{BodyContent, Finding};
use crate::openai::ChatView;
use crate::store::{DiffDetail, NewRule, TRIAGE_STATES};
use crate::ui::auth::Principal;
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

/// A rule the reviewer can create from this diff.
pub struct RuleOption {
    pub value: String,
    pub label: String,
}

/// A tool call for display.
pub struct ToolCallView {
    pub name: String,
    pub arguments: String,
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    csrf: String,
    semantic: String,
    noise: String,
    triage_state: String,
    triage_note: String,
    rule_options: Vec<RuleOption>,
    production_tools: Vec<ToolCallView>,
    candidate_tools: Vec<ToolCallView>,
    control_text: Option<String>,
    json_changes: Vec<FindingView>,
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
    /// Regressions with similar candidate answers (the vector index).
    similar: Section<SimilarHit>,
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

fn tools(body: &BodyContent) -> Vec<ToolCallView> {
    body.json()
        .and_then(ChatView::parse)
        .and_then(|c| c.first().map(|f| f.tool_calls.clone()))
        .unwrap_or_default()
        .into_iter()
        .map(|t| ToolCallView {
            arguments: serde_json::from_str::<Value>(&t.arguments)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or(t.arguments),
            name: t.name,
        })
        .collect()
}

/// The structural tree diff of the two responses, minus fields that always differ (ids, timestamps, usage).
fn response_changes(production: &BodyContent, candidate: &BodyContent) -> Vec<FindingView> {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            for k in [
                "id",
                "created",
                "system_fingerprint",
                "usage",
                "model",
                "service_tier",
            ] {
                o.remove(k);
            }
        }
        v
    };
    let (Some(p), Some(c)) = (production.json(), candidate.json()) else {
        return Vec::new();
    };
    json_changes(&strip(p), &strip(c), "$")
        .into_iter()
        .take(200)
        .map(|ch| {
            let show = |v: &Option<Value>| {
                v.as_ref()
                    .map(|v| clip_short(&v.to_string()))
                    .unwrap_or_default()
            };
            let (kind, message) = match &ch.kind {
                ChangeKind::Missing => (
                    "missing",
                    format!("only in production: {}", show(&ch.before)),
                ),
                ChangeKind::Added => (
                    "added",
                    format!("only in the candidate: {}", show(&ch.after)),
                ),
                ChangeKind::TypeChanged { from, to } => ("type", format!("{from} → {to}")),
                ChangeKind::ValueChanged => (
                    "value",
                    format!("{} → {}", show(&ch.before), show(&ch.after)),
                ),
            };
            FindingView {
                kind: kind.to_owned(),
                severity: String::new(),
                path: ch.path,
                message,
                measured: String::new(),
            }
        })
        .collect()
}

fn clip_short(s: &str) -> String {
    if s.chars().count() <= 160 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(160).collect::<String>())
    }
}

fn rule_options(findings: &[FindingView], route: &str) -> Vec<RuleOption> {
    let mut out = vec![RuleOption {
        value: String::new(),
        label: "no rule".into(),
    }];
    for f in findings.iter().filter(|f| f.severity != "info") {
        if !f.path.is_empty() {
            out.push(RuleOption {
                value: format!("ignore_path:{}", f.path),
                label: format!("ignore {} on {route}", f.path),
            });
        }
        out.push(RuleOption {
            value: format!("accept_kind:{}", f.kind),
            label: format!("accept {} findings on {route}", f.kind),
        });
    }
    out.dedup_by(|a, b| a.value == b.value);
    out
}

fn view(d: DiffDetail, csrf: String) -> DetailPage {
    let production = d.exchange.response();
    let candidate = d.replay.response();
    let findings = finding_views(&d.findings);

    let production_text = answer_text(&production.content);
    let candidate_text = answer_text(&candidate.content);
    DetailPage {
        csrf,
        semantic: fmt_opt(d.semantic_similarity, 3),
        noise: fmt_opt(d.noise_semantic, 3),
        triage_state: d.triage_state.clone().unwrap_or_default(),
        triage_note: d.triage_note.clone().unwrap_or_default(),
        rule_options: rule_options(&findings, &d.exchange.path),
        production_tools: tools(&production.content),
        candidate_tools: tools(&candidate.content),
        control_text: d
            .control
            .as_ref()
            .map(|c| clip(&answer_text(&c.response().content))),
        json_changes: response_changes(&production.content, &candidate.content),
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
        findings,
        similar: Section::default(),
    }
}

/// `GET /diffs/{id}`.
pub async fn page(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Html<String>, UiError> {
    let id: i64 = id.parse().map_err(|_| UiError::NotFound)?;
    let detail = state
        .store
        .diff_detail(id)
        .await?
        .ok_or(UiError::NotFound)?;
    let mut page = view(detail, principal.csrf().to_owned());
    page.similar = state.similar_regressions(id, None, None).await?;
    render(&page)
}

/// The triage form of the detail page.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    csrf: Option<String>,
    state: String,
    note: Option<String>,
    /// `ignore_path:PATH` or `accept_kind:KIND` to turn the decision into a rule.
    rule: Option<String>,
}

/// `POST /diffs/{id}/triage`; scripts may post the same form with the bearer token.
pub async fn triage(
    State(state): State<Arc<UiState>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<TriageForm>,
) -> Result<Response, UiError> {
    if !principal.check_csrf(form.csrf.as_deref()) {
        return Err(UiError::Forbidden);
    }
    let id: i64 = id.parse().map_err(|_| UiError::NotFound)?;
    let detail = state
        .store
        .diff_detail(id)
        .await?
        .ok_or(UiError::NotFound)?;
    let new_state = match form.state.as_str() {
        "clear" => None,
        s if TRIAGE_STATES.contains(&s) => Some(s),
        other => {
            return Err(UiError::BadRequest(format!(
                "unknown triage state {other:?}"
            )))
        }
    };
    let note = form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let rule = form.rule.as_deref().filter(|r| !r.is_empty());
    let new_rule = match rule {
        None => None,
        Some(rule) => {
            if !matches!(new_state, Some("acceptable" | "noise")) {
                return Err(UiError::BadRequest(
                    "only an acceptable or noise decision can become a rule".into(),
                ));
            }
            let (action, target) = rule
                .split_once(':')
                .ok_or_else(|| UiError::BadRequest(format!("malformed rule {rule:?}")))?;
            let mut r = NewRule {
                action: action.to_owned(),
                route: Some(detail.exchange.path.clone()),
                note: note.map(str::to_owned),
                created_from: Some(id),
                ..NewRule::default()
            };
            match action {
                "ignore_path" => r.path = Some(target.to_owned()),
                "accept_kind" => r.finding_kind = Some(target.to_owned()),
                _ => {
                    return Err(UiError::BadRequest(format!(
                        "unknown rule action {action:?}"
                    )))
                }
            }
            Some(r)
        }
    };
    state.store.triage(&[id], new_state, note).await?;
    if let Some(r) = new_rule {
        state.store.insert_rule(&r).await?;
    }
    Ok(Redirect::to(&format!("/diffs/{id}")).into_response())
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
        "semantic_similarity": d.semantic_similarity,
        "noise_semantic": d.noise_semantic,
        "triage_state": d.triage_state,
        "triage_note": d.triage_note,
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
