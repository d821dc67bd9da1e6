//! Token estimates for pacing (o200k tokenizer via tiktoken-rs), corrected later by reported usage.

use std::sync::OnceLock;

use serde_json::Value;
use tiktoken_rs::CoreBPE;

/// Completion length assumed when neither production usage nor `max_tokens` says more.
const DEFAULT_COMPLETION_TOKENS: u32 = 256;

fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()).as_ref()
}

/// Tokens in `text` (o200k; a chars/4 estimate if the tokenizer is unavailable).
pub fn count(text: &str) -> u32 {
    match bpe() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u32,
        None => (text.chars().count() as u32).div_ceil(4),
    }
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Prompt tokens of a chat request: messages (with OpenAI's per-message overhead) and tool schemas.
pub fn prompt_tokens(request: &Value) -> u32 {
    let messages = request.get("messages").and_then(Value::as_array);
    let mut total = 3;
    for m in messages.into_iter().flatten() {
        total += 3;
        total += count(m.get("role").and_then(Value::as_str).unwrap_or_default());
        total += count(&text_of(m.get("content").unwrap_or(&Value::Null)));
        if let Some(calls) = m.get("tool_calls") {
            total += count(&calls.to_string());
        }
    }
    if let Some(tools) = request.get("tools") {
        total += count(&tools.to_string());
    }
    total
}

/// Completion tokens to reserve: production's actual count when known, else `max_tokens`, else a default.
pub fn expected_completion_tokens(request: &Value, production_completion: Option<u64>) -> u32 {
    if let Some(n) = production_completion {
        return n.min(u64::from(u32::MAX)) as u32;
    }
    ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| request.get(*k).and_then(Value::as_u64))
        .map_or(DEFAULT_COMPLETION_TOKENS, |n| {
            n.min(u64::from(u32::MAX)) as u32
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_real_tokens() {
        assert_eq!(count("hello world"), 2);
        assert_eq!(count(""), 0);
    }

    #[test]
    fn prompt_tokens_grow_with_messages_and_tools() {
        let short = json!({"messages": [{"role": "user", "content": "Hi"}]});
        let long = json!({"messages": [{"role": "system", "content": "You are a helpful assistant."},
                                        {"role": "user", "content": "Explain TCP vs UDP in detail please."}],
                          "tools": [{"type": "function", "function": {"name": "get_weather"}}]});
        let (s, l) = (prompt_tokens(&short), prompt_tokens(&long));
        assert!((7..12).contains(&s), "{s}");
        assert!(l > s + 15, "{l}");
    }

    #[test]
    fn completion_estimate_prefers_production_usage() {
        let req = json!({"max_tokens": 500});
        assert_eq!(expected_completion_tokens(&req, Some(42)), 42);
        assert_eq!(expected_completion_tokens(&req, None), 500);
        assert_eq!(expected_completion_tokens(&json!({}), None), 256);
    }
}
