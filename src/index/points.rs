//! What goes into the index: the texts to embed and the points built around their vectors (pure).

use serde_json::{Map, Value};

use super::{IndexPoint, PointId, PromptPayload, RegressionPayload};
use crate::domain::{DiffOutcome, Exchange, Severity, Verdict};
use crate::openai::ChatView;

/// Longest prompt text embedded, in characters (the rest is not read: drift looks at what users
/// ask, and a few hundred words say it).
pub const MAX_PROMPT_CHARS: usize = 4_000;

/// Characters of the answer kept in the payload for display.
const EXCERPT_CHARS: usize = 200;

/// At most `limit` admissions per key and minute (0 = unlimited): which prompts get indexed.
/// Only the current minute's counts are kept, so any number of keys stays bounded.
#[derive(Debug, Default)]
pub struct PerMinute {
    limit: u32,
    minute: i64,
    counts: std::collections::HashMap<String, u32>,
}

impl PerMinute {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    /// Whether one more item of `key` may pass in the minute containing `now_ms`.
    pub fn admit(&mut self, key: &str, now_ms: i64) -> bool {
        if self.limit == 0 {
            return true;
        }
        let minute = now_ms.div_euclid(60_000);
        if minute != self.minute {
            self.minute = minute;
            self.counts.clear();
        }
        let count = self.counts.entry(key.to_owned()).or_default();
        if *count >= self.limit {
            return false;
        }
        *count += 1;
        true
    }
}

/// The route of a request path: the path without its query string.
pub fn route_of(path: &str) -> &str {
    path.split('?').next().unwrap_or_default()
}

/// Whether diffs with this verdict are indexed as regressions.
pub fn is_indexed(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Regression | Verdict::Minor)
}

fn clip(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => s[..end].to_owned(),
        None => s.to_owned(),
    }
}

/// The text of a message's `content`: a string, or the text parts of an array of parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// What the user asked: the last user message of a chat request, clipped to [`MAX_PROMPT_CHARS`].
/// None when the request has no user text.
pub fn prompt_text(request: &Value) -> Option<String> {
    let messages = request.get("messages")?.as_array()?;
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?;
    let text = content_text(last_user.get("content")?);
    let text = text.trim();
    (!text.is_empty()).then(|| clip(text, MAX_PROMPT_CHARS))
}

/// The answer of a chat completion as one text: the first choice's content (or refusal), then
/// its tool calls as `→ name(arguments)`. `(empty answer)` when there is nothing.
pub fn answer_text(response: Option<&Value>) -> String {
    let first = response
        .and_then(ChatView::parse)
        .and_then(|c| c.first().cloned())
        .unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    if let Some(text) = first.content.as_deref().or(first.refusal.as_deref()) {
        if !text.trim().is_empty() {
            parts.push(text.trim().to_owned());
        }
    }
    for call in &first.tool_calls {
        parts.push(format!("→ {}({})", call.name, call.arguments));
    }
    if parts.is_empty() {
        "(empty answer)".to_owned()
    } else {
        parts.join("\n")
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The `regressions` point of a stored diff (id = diff id).
pub fn regression_point(
    diff_id: i64,
    ex: &Exchange,
    candidate: &str,
    outcome: &DiffOutcome,
    answer: &str,
    vector: Vec<f32>,
) -> IndexPoint {
    let mut finding_kinds: Vec<String> = Vec::new();
    for f in outcome
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
    {
        let kind = f.kind.as_str().to_owned();
        if !finding_kinds.contains(&kind) {
            finding_kinds.push(kind);
        }
    }
    let payload = RegressionPayload {
        diff_id,
        exchange_id: ex.id.as_uuid(),
        candidate: candidate.to_owned(),
        verdict: outcome.verdict.as_str().to_owned(),
        route: route_of(&ex.path).to_owned(),
        model: ex.model.clone().unwrap_or_default(),
        tags: ex.tags.clone(),
        finding_kinds,
        excerpt: clip(answer, EXCERPT_CHARS),
        ts_ms: chrono::Utc::now().timestamp_millis(),
    };
    IndexPoint {
        id: PointId::Num(diff_id as u64),
        vector,
        payload: object(serde_json::to_value(payload).unwrap_or_default()),
    }
}

/// The `prompts` point of an exchange (id = exchange id), timed by its capture.
pub fn prompt_point(ex: &Exchange, prompt_tokens: u32, vector: Vec<f32>) -> IndexPoint {
    let payload = PromptPayload {
        exchange_id: ex.id.as_uuid(),
        route: route_of(&ex.path).to_owned(),
        model: ex.model.clone().unwrap_or_default(),
        captured_at: ex.captured_at.to_rfc3339(),
        prompt_tokens,
        ts_ms: ex.captured_at.timestamp_millis(),
    };
    IndexPoint {
        id: PointId::Uuid(ex.id.as_uuid()),
        vector,
        payload: object(serde_json::to_value(payload).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompt_text_is_the_last_user_message() {
        let req = json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "look at"}, {"type": "image_url", "image_url": {}}, {"type": "text", "text": "this"}]}
        ]});
        assert_eq!(prompt_text(&req).as_deref(), Some("look at\nthis"));
        assert_eq!(
            prompt_text(&json!({"messages": [{"role": "system", "content": "x"}]})),
            None
        );
        assert_eq!(prompt_text(&json!({"input": "x"})), None);
        let long = json!({"messages": [{"role": "user", "content": "é".repeat(5000)}]});
        assert_eq!(
            prompt_text(&long).unwrap().chars().count(),
            MAX_PROMPT_CHARS
        );
    }

    #[test]
    fn answer_text_covers_content_tools_and_emptiness() {
        let tool = json!({"choices": [{"message": {"role": "assistant", "content": null,
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}]});
        assert_eq!(
            answer_text(Some(&tool)),
            "→ get_weather({\"city\":\"Paris\"})"
        );
        let text = json!({"choices": [{"message": {"content": " hi "}}]});
        assert_eq!(answer_text(Some(&text)), "hi");
        assert_eq!(answer_text(None), "(empty answer)");
        assert_eq!(route_of("/v1/chat/completions?x=1"), "/v1/chat/completions");
        assert!(is_indexed(Verdict::Minor) && !is_indexed(Verdict::Noise));
    }

    #[test]
    fn per_minute_admits_up_to_the_limit_per_key_and_minute() {
        let mut g = super::PerMinute::new(2);
        let t = 1_700_000_000_000;
        assert!(g.admit("/a", t) && g.admit("/a", t + 1));
        assert!(!g.admit("/a", t + 2), "third in the same minute");
        assert!(g.admit("/b", t + 3), "another route has its own budget");
        assert!(g.admit("/a", t + 60_000), "the next minute");
        let mut all = super::PerMinute::new(0);
        assert!((0..1000).all(|i| all.admit("/a", t + i)));
    }
}
