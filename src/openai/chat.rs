//! A tolerant, read-only view of a chat-completion response (`object: chat.completion`).

use serde_json::Value;

/// One tool call of an assistant message.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallView {
    pub id: Option<String>,
    pub name: String,
    /// The raw `arguments` string as the model produced it (may be invalid JSON).
    pub arguments: String,
}

/// One choice of a chat completion.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChoiceView {
    pub role: Option<String>,
    pub content: Option<String>,
    pub refusal: Option<String>,
    pub tool_calls: Vec<ToolCallView>,
    pub finish_reason: Option<String>,
}

/// The parts of a chat completion the differ looks at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatView {
    pub model: Option<String>,
    pub choices: Vec<ChoiceView>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

impl ChatView {
    /// Read a chat completion. Returns `None` when `value` has no `choices` array.
    pub fn parse(value: &Value) -> Option<Self> {
        let choices = value.get("choices")?.as_array()?;
        let usage = value.get("usage");
        Some(Self {
            model: str_field(value, "model"),
            choices: choices.iter().map(parse_choice).collect(),
            prompt_tokens: usage
                .and_then(|u| u.get("prompt_tokens"))
                .and_then(Value::as_u64),
            completion_tokens: usage
                .and_then(|u| u.get("completion_tokens"))
                .and_then(Value::as_u64),
        })
    }

    /// The first choice, if any.
    pub fn first(&self) -> Option<&ChoiceView> {
        self.choices.first()
    }
}

fn str_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_choice(choice: &Value) -> ChoiceView {
    let message = choice.get("message").unwrap_or(&Value::Null);
    let tool_calls = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| calls.iter().map(parse_tool_call).collect())
        .unwrap_or_default();
    ChoiceView {
        role: str_field(message, "role"),
        content: content_text(message.get("content")),
        refusal: str_field(message, "refusal"),
        tool_calls,
        finish_reason: str_field(choice, "finish_reason"),
    }
}

/// `content` is a string, or an array of parts (`{"type":"text","text":...}`), or null.
fn content_text(content: Option<&Value>) -> Option<String> {
    match content? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let text: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            Some(text.join(""))
        }
        _ => None,
    }
}

fn parse_tool_call(call: &Value) -> ToolCallView {
    let function = call.get("function").unwrap_or(&Value::Null);
    ToolCallView {
        id: str_field(call, "id"),
        name: str_field(function, "name").unwrap_or_default(),
        arguments: str_field(function, "arguments").unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_text_tool_calls_and_usage() {
        let v = json!({
            "model": "gpt-4o",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                ]},
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7}
        });
        let chat = ChatView::parse(&v).unwrap();
        let first = chat.first().unwrap();
        assert_eq!(first.content, None);
        assert_eq!(first.tool_calls[0].name, "get_weather");
        assert_eq!(first.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(chat.prompt_tokens, Some(12));
    }

    #[test]
    fn content_parts_are_joined() {
        let v = json!({"choices": [{"message": {"content": [
            {"type": "text", "text": "Hello "}, {"type": "text", "text": "world"}
        ]}}]});
        assert_eq!(
            ChatView::parse(&v)
                .unwrap()
                .first()
                .unwrap()
                .content
                .as_deref(),
            Some("Hello world")
        );
    }

    #[test]
    fn not_a_completion() {
        assert!(ChatView::parse(&json!({"error": {"message": "nope"}})).is_none());
        assert!(ChatView::parse(&json!("text")).is_none());
    }
}
