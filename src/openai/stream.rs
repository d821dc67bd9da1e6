//! Reassembling a streamed chat completion (`chat.completion.chunk` events) into one `chat.completion`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::sse::{SseEvent, SseParser};

/// The result of folding a whole stream.
#[derive(Debug, Clone, PartialEq)]
pub struct AssembledStream {
    /// A reconstructed non-streaming `chat.completion` object (parseable by `ChatView::parse`).
    pub completion: Value,
    /// Valid JSON chunks consumed.
    pub chunks: u32,
    /// Data that was not a JSON object (excluding `[DONE]` and blank data).
    pub malformed_chunks: u32,
    /// `data: [DONE]` was seen.
    pub done: bool,
    /// The first error object seen mid-stream, if any.
    pub error: Option<Value>,
    /// `offset_end` of the first event carrying non-empty content, refusal or a tool-call delta.
    pub first_content_offset: Option<u64>,
    /// `done`, transport complete, no error, and at least one `finish_reason` seen.
    pub complete: bool,
}

/// Folds the events of one streamed response into a single completion.
#[derive(Debug, Default)]
pub struct StreamAssembler {
    id: Option<Value>,
    created: Option<Value>,
    model: Option<Value>,
    system_fingerprint: Option<Value>,
    choices: BTreeMap<u64, ChoiceAcc>,
    usage: Option<Value>,
    chunks: u32,
    malformed_chunks: u32,
    done: bool,
    error: Option<Value>,
    first_content_offset: Option<u64>,
    finish_seen: bool,
}

#[derive(Debug, Default)]
struct ChoiceAcc {
    role: Option<String>,
    content: Option<String>,
    refusal: Option<String>,
    tool_calls: BTreeMap<u64, ToolCallAcc>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default)]
struct ToolCallAcc {
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: String,
}

impl StreamAssembler {
    /// An assembler that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consume one event; `offset_end` is the stream byte offset at which the event ended (SseParser::offset() after the push that produced it).
    pub fn push_event(&mut self, event: &SseEvent, offset_end: u64) {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        let parsed = serde_json::from_str::<Value>(data).ok();
        if event.event.as_deref() == Some("error") {
            let error = match parsed {
                Some(value) => {
                    self.chunks = self.chunks.saturating_add(1);
                    error_of(&value).cloned().unwrap_or(value)
                }
                None => Value::String(event.data.clone()),
            };
            self.error.get_or_insert(error);
            return;
        }
        if data.is_empty() {
            return;
        }
        let Some(chunk @ Value::Object(_)) = parsed else {
            self.malformed_chunks = self.malformed_chunks.saturating_add(1);
            return;
        };
        self.chunks = self.chunks.saturating_add(1);
        if let Some(error) = error_of(&chunk) {
            self.error.get_or_insert_with(|| error.clone());
            return;
        }
        for (slot, key) in [
            (&mut self.id, "id"),
            (&mut self.created, "created"),
            (&mut self.model, "model"),
            (&mut self.system_fingerprint, "system_fingerprint"),
        ] {
            if slot.is_none() {
                *slot = non_null(chunk.get(key)).cloned();
            }
        }
        if let Some(usage) = non_null(chunk.get("usage")) {
            self.usage = Some(usage.clone());
        }
        let mut output = false;
        if let Some(choices) = chunk.get("choices").and_then(Value::as_array) {
            for (pos, choice) in choices.iter().enumerate() {
                output |= self.push_choice(pos, choice);
            }
        }
        if output && self.first_content_offset.is_none() {
            self.first_content_offset = Some(offset_end);
        }
    }

    /// Fold one `choices[]` entry; returns whether it carried output (content, refusal, tool call).
    fn push_choice(&mut self, pos: usize, choice: &Value) -> bool {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(pos as u64);
        let acc = self.choices.entry(index).or_default();
        let mut output = false;
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            acc.finish_reason = Some(reason.to_owned());
            self.finish_seen = true;
        }
        // Legacy completions stream: `choices[].text`.
        if let Some(text) = choice.get("text").and_then(Value::as_str) {
            append(&mut acc.content, text);
            output |= !text.is_empty();
        }
        let Some(delta) = choice.get("delta") else {
            return output;
        };
        if let Some(role) = delta.get("role").and_then(Value::as_str) {
            acc.role = Some(role.to_owned());
        }
        if let Some(content) = delta.get("content").and_then(Value::as_str) {
            append(&mut acc.content, content);
            output |= !content.is_empty();
        }
        if let Some(refusal) = delta.get("refusal").and_then(Value::as_str) {
            append(&mut acc.refusal, refusal);
            output |= !refusal.is_empty();
        }
        let calls = delta.get("tool_calls").and_then(Value::as_array);
        for (pos, call) in calls.into_iter().flatten().enumerate() {
            output = true;
            let index = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(pos as u64);
            let tool = acc.tool_calls.entry(index).or_default();
            let function = call.get("function");
            set_once(&mut tool.id, call.get("id"));
            set_once(&mut tool.kind, call.get("type"));
            set_once(&mut tool.name, function.and_then(|f| f.get("name")));
            let arguments = function.and_then(|f| f.get("arguments"));
            if let Some(arguments) = arguments.and_then(Value::as_str) {
                tool.arguments.push_str(arguments);
            }
        }
        output
    }

    /// Finish: `transport_complete` is false when the byte stream ended abnormally (client gone, upstream reset).
    pub fn finish(self, transport_complete: bool) -> AssembledStream {
        let choices: Vec<Value> = self
            .choices
            .into_iter()
            .map(|(index, choice)| choice.into_json(index))
            .collect();
        let mut completion = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        });
        if let Some(fingerprint) = self.system_fingerprint {
            completion["system_fingerprint"] = fingerprint;
        }
        if let Some(usage) = self.usage {
            completion["usage"] = usage;
        }
        let complete = self.done && transport_complete && self.error.is_none() && self.finish_seen;
        AssembledStream {
            completion,
            chunks: self.chunks,
            malformed_chunks: self.malformed_chunks,
            done: self.done,
            error: self.error,
            first_content_offset: self.first_content_offset,
            complete,
        }
    }
}

impl ChoiceAcc {
    fn into_json(self, index: u64) -> Value {
        let mut message = Map::new();
        let role = self.role.unwrap_or_else(|| "assistant".to_owned());
        message.insert("role".into(), Value::String(role));
        message.insert("content".into(), self.content.map_or(Value::Null, Value::String));
        if let Some(refusal) = self.refusal {
            message.insert("refusal".into(), Value::String(refusal));
        }
        if !self.tool_calls.is_empty() {
            let calls = self.tool_calls.into_values().map(|tool| {
                json!({
                    "id": tool.id,
                    "type": tool.kind.unwrap_or_else(|| "function".to_owned()),
                    "function": {"name": tool.name.unwrap_or_default(), "arguments": tool.arguments},
                })
            });
            message.insert("tool_calls".into(), Value::Array(calls.collect()));
        }
        json!({"index": index, "message": message, "finish_reason": self.finish_reason})
    }
}

/// Convenience: parse a whole SSE transcript (bytes) with SseParser + StreamAssembler.
///
/// The bytes are fed line by line, so each event's `offset_end` is where its blank line ended.
pub fn assemble(bytes: &[u8], transport_complete: bool) -> AssembledStream {
    let mut parser = SseParser::new();
    let mut assembler = StreamAssembler::new();
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        for event in parser.push(piece) {
            assembler.push_event(&event, parser.offset());
        }
    }
    if let Some(event) = parser.finish().0 {
        assembler.push_event(&event, parser.offset());
    }
    assembler.finish(transport_complete)
}

fn non_null(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// The `error` member of a chunk, when present and not null.
fn error_of(value: &Value) -> Option<&Value> {
    non_null(value.get("error"))
}

fn append(slot: &mut Option<String>, text: &str) {
    slot.get_or_insert_with(String::new).push_str(text);
}

/// Keep the first non-empty string seen (ids and names come once; repeats are ignored).
fn set_once(slot: &mut Option<String>, value: Option<&Value>) {
    if slot.is_none() {
        let text = value.and_then(Value::as_str).filter(|s| !s.is_empty());
        *slot = text.map(str::to_owned);
    }
}

#[cfg(test)]
mod tests;
