//! Reassembling a streamed chat completion (`chat.completion.chunk` events) into one `chat.completion`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::jsontext;
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
    /// Every chunk through a `serde_json::Value` (the reference the typed path is tested against).
    value_only: bool,
    /// Chunks the typed path took.
    #[cfg(test)]
    fast_chunks: u32,
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

    /// An assembler that reads every chunk through a `serde_json::Value`, without the typed fast
    /// path: the reference that path must agree with (tests, fuzzing, the capture benchmark).
    pub fn reference() -> Self {
        Self {
            value_only: true,
            ..Self::default()
        }
    }

    /// Fold a whole SSE transcript (bytes), fed line by line, so each event's `offset_end` is
    /// where its blank line ended.
    pub fn assemble(mut self, bytes: &[u8], transport_complete: bool) -> AssembledStream {
        let mut parser = SseParser::new();
        for piece in bytes.split_inclusive(|&b| b == b'\n') {
            for event in parser.push(piece) {
                self.push_event(&event, parser.offset());
            }
        }
        if let Some(event) = parser.finish().0 {
            self.push_event(&event, parser.offset());
        }
        self.finish(transport_complete)
    }

    /// True once an event carried content, a refusal or a tool-call delta (the first token).
    pub fn has_content(&self) -> bool {
        self.first_content_offset.is_some()
    }

    /// Consume one event; `offset_end` is the stream byte offset at which the event ended (SseParser::offset() after the push that produced it).
    pub fn push_event(&mut self, event: &SseEvent, offset_end: u64) {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        if event.event.as_deref() != Some("error") && self.push_fast(data, offset_end) {
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

    /// [`push_event`](Self::push_event) for a chunk of the common shape; `false` (having changed
    /// nothing) when the chunk needs the `Value` path.
    fn push_fast(&mut self, data: &str, offset_end: u64) -> bool {
        if self.value_only || !data.starts_with('{') || jsontext::check(data.as_bytes()).is_none() {
            return false;
        }
        let Ok(fast::Obj(chunk)) = serde_json::from_str::<fast::Obj<fast::Chunk>>(data) else {
            return false;
        };
        if chunk.error.is_some() {
            return false;
        }
        self.chunks = self.chunks.saturating_add(1);
        #[cfg(test)]
        {
            self.fast_chunks += 1;
        }
        let value = |raw: &serde_json::value::RawValue| {
            serde_json::from_str::<Value>(raw.get()).expect("checked like a Value parse")
        };
        for (slot, raw) in [
            (&mut self.id, chunk.id),
            (&mut self.created, chunk.created),
            (&mut self.model, chunk.model),
            (&mut self.system_fingerprint, chunk.system_fingerprint),
        ] {
            if slot.is_none() {
                *slot = raw.map(value);
            }
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(value(usage));
        }
        let mut output = false;
        for (pos, fast::Obj(choice)) in chunk.choices.into_iter().flatten().enumerate() {
            output |= self.push_fast_choice(pos, choice);
        }
        if output && self.first_content_offset.is_none() {
            self.first_content_offset = Some(offset_end);
        }
        true
    }

    /// [`push_choice`](Self::push_choice) for a typed choice.
    fn push_fast_choice(&mut self, pos: usize, choice: fast::Choice<'_>) -> bool {
        let delta = choice.delta.map(|d| d.0);
        let parts = Parts {
            finish_reason: choice.finish_reason.as_deref(),
            text: choice.text.as_deref(),
            role: delta.as_ref().and_then(|d| d.role.as_deref()),
            content: delta.as_ref().and_then(|d| d.content.as_deref()),
            refusal: delta.as_ref().and_then(|d| d.refusal.as_deref()),
        };
        let acc = self
            .choices
            .entry(fast::index(choice.index, pos))
            .or_default();
        self.finish_seen |= parts.finish_reason.is_some();
        let mut output = acc.fold(&parts);
        let calls = delta.as_ref().and_then(|d| d.tool_calls.as_ref());
        for (pos, fast::Obj(call)) in calls.into_iter().flatten().enumerate() {
            output = true;
            let function = call.function.as_ref().map(|f| &f.0);
            acc.fold_call(
                fast::index(call.index, pos),
                call.id.as_deref(),
                call.kind.as_deref(),
                function.and_then(|f| f.name.as_deref()),
                function.and_then(|f| f.arguments.as_deref()),
            );
        }
        output
    }

    /// Fold one `choices[]` entry; returns whether it carried output (content, refusal, tool call).
    fn push_choice(&mut self, pos: usize, choice: &Value) -> bool {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(pos as u64);
        let delta = choice.get("delta");
        let parts = Parts {
            finish_reason: str_at(Some(choice), "finish_reason"),
            // Legacy completions stream: `choices[].text`.
            text: str_at(Some(choice), "text"),
            role: str_at(delta, "role"),
            content: str_at(delta, "content"),
            refusal: str_at(delta, "refusal"),
        };
        let acc = self.choices.entry(index).or_default();
        self.finish_seen |= parts.finish_reason.is_some();
        let mut output = acc.fold(&parts);
        let calls = delta
            .and_then(|d| d.get("tool_calls"))
            .and_then(Value::as_array);
        for (pos, call) in calls.into_iter().flatten().enumerate() {
            output = true;
            let index = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(pos as u64);
            let function = call.get("function");
            acc.fold_call(
                index,
                str_at(Some(call), "id"),
                str_at(Some(call), "type"),
                str_at(function, "name"),
                str_at(function, "arguments"),
            );
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

/// What the assembler keeps of one `choices[]` entry (besides tool calls), however the chunk was
/// read: both paths fold through [`ChoiceAcc::fold`], so they differ only in how they read.
struct Parts<'a> {
    finish_reason: Option<&'a str>,
    text: Option<&'a str>,
    role: Option<&'a str>,
    content: Option<&'a str>,
    refusal: Option<&'a str>,
}

impl ChoiceAcc {
    /// Fold a choice's parts; returns whether they carried output (content or refusal).
    fn fold(&mut self, parts: &Parts<'_>) -> bool {
        if let Some(reason) = parts.finish_reason {
            self.finish_reason = Some(reason.to_owned());
        }
        let mut output = false;
        let mut add = |slot: &mut Option<String>, piece: Option<&str>| {
            if let Some(piece) = piece {
                slot.get_or_insert_with(String::new).push_str(piece);
                output |= !piece.is_empty();
            }
        };
        add(&mut self.content, parts.text);
        add(&mut self.content, parts.content);
        add(&mut self.refusal, parts.refusal);
        if let Some(role) = parts.role {
            self.role = Some(role.to_owned());
        }
        output
    }

    /// Fold one tool-call delta: ids, types and names come once (the first non-empty one is
    /// kept), argument fragments are concatenated.
    fn fold_call(
        &mut self,
        index: u64,
        id: Option<&str>,
        kind: Option<&str>,
        name: Option<&str>,
        arguments: Option<&str>,
    ) {
        let tool = self.tool_calls.entry(index).or_default();
        for (slot, text) in [
            (&mut tool.id, id),
            (&mut tool.kind, kind),
            (&mut tool.name, name),
        ] {
            if slot.is_none() {
                *slot = text.filter(|s| !s.is_empty()).map(str::to_owned);
            }
        }
        if let Some(arguments) = arguments {
            tool.arguments.push_str(arguments);
        }
    }

    fn into_json(self, index: u64) -> Value {
        let mut message = Map::new();
        let role = self.role.unwrap_or_else(|| "assistant".to_owned());
        message.insert("role".into(), Value::String(role));
        message.insert(
            "content".into(),
            self.content.map_or(Value::Null, Value::String),
        );
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

/// Convenience: [`StreamAssembler::assemble`] a whole SSE transcript.
pub fn assemble(bytes: &[u8], transport_complete: bool) -> AssembledStream {
    StreamAssembler::new().assemble(bytes, transport_complete)
}

fn non_null(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

/// The `error` member of a chunk, when present and not null.
fn error_of(value: &Value) -> Option<&Value> {
    non_null(value.get("error"))
}

/// The string at `key` of an object, when it is one.
fn str_at<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a str> {
    value?.get(key)?.as_str()
}

/// The common shape of a `chat.completion.chunk`, borrowed from the event's text: what
/// [`StreamAssembler::push_event`] reads, without building a `serde_json::Value` of every chunk
/// (a map and a string per field). Anything else — a field of another type, a repeated key, an
/// `error`, a choice that is not an object — fails this parse, and the chunk takes the `Value`
/// path, which defines the behaviour; this one only has to agree with it where it succeeds.
mod fast {
    use std::borrow::Cow;
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde::Deserialize as DeriveDeserialize;
    use serde_json::value::RawValue;

    /// A JSON object as `T`: a derived struct would also accept an array (fields by position),
    /// which the `Value` path reads as nothing.
    pub struct Obj<T>(pub T);

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Only<T>(PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
                type Value = T;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                    T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                }
            }
            d.deserialize_map(Only(PhantomData)).map(Obj)
        }
    }

    #[derive(DeriveDeserialize)]
    pub struct Chunk<'a> {
        #[serde(borrow, default)]
        pub id: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub created: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub model: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub system_fingerprint: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub usage: Option<&'a RawValue>,
        /// Present (not null): the `Value` path handles it.
        #[serde(borrow, default)]
        pub error: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub choices: Option<Vec<Obj<Choice<'a>>>>,
    }

    #[derive(DeriveDeserialize)]
    pub struct Choice<'a> {
        /// Raw, because the `Value` path falls back to the position for anything but a `u64`.
        #[serde(borrow, default)]
        pub index: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub finish_reason: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub text: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub delta: Option<Obj<Delta<'a>>>,
    }

    #[derive(DeriveDeserialize)]
    pub struct Delta<'a> {
        #[serde(borrow, default)]
        pub role: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub content: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub refusal: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub tool_calls: Option<Vec<Obj<ToolCall<'a>>>>,
    }

    #[derive(DeriveDeserialize)]
    pub struct ToolCall<'a> {
        #[serde(borrow, default)]
        pub index: Option<&'a RawValue>,
        #[serde(borrow, default)]
        pub id: Option<Cow<'a, str>>,
        #[serde(borrow, default, rename = "type")]
        pub kind: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub function: Option<Obj<Function<'a>>>,
    }

    #[derive(DeriveDeserialize)]
    pub struct Function<'a> {
        #[serde(borrow, default)]
        pub name: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        pub arguments: Option<Cow<'a, str>>,
    }

    /// `Value::as_u64` of the raw value, or the position.
    pub fn index(raw: Option<&RawValue>, pos: usize) -> u64 {
        raw.and_then(|r| serde_json::from_str::<u64>(r.get()).ok())
            .unwrap_or(pos as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::ChatView;
    use proptest::prelude::*;

    /// One SSE event carrying a chunk with the given choices (and optional extra top-level fields).
    fn chunk(choices: Value, extra: Value) -> String {
        let mut c = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
            "model": "gpt-4o", "system_fingerprint": "fp_1", "choices": choices});
        for (k, v) in extra.as_object().into_iter().flatten() {
            c[k] = v.clone();
        }
        format!("data: {c}\n\n")
    }

    fn delta(delta: Value) -> String {
        chunk(
            json!([{"index": 0, "delta": delta, "finish_reason": null}]),
            json!({}),
        )
    }

    fn finish(reason: &str) -> String {
        chunk(
            json!([{"index": 0, "delta": {}, "finish_reason": reason}]),
            json!({}),
        )
    }

    const DONE: &str = "data: [DONE]\n\n";

    #[test]
    fn text_deltas_are_concatenated() {
        let stream = [
            delta(json!({"role": "assistant", "content": "", "refusal": null})),
            delta(json!({"content": "Hel"})),
            delta(json!({"content": "lo"})),
            finish("stop"),
            DONE.to_owned(),
        ]
        .concat();
        let out = assemble(stream.as_bytes(), true);
        let want = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
            "model": "gpt-4o", "system_fingerprint": "fp_1", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]});
        assert_eq!(out.completion, want);
        let counts = (out.chunks, out.malformed_chunks, out.done, out.complete);
        assert_eq!(counts, (4, 0, true, true));
    }

    #[test]
    fn parallel_tool_calls_are_merged() {
        let call = |index: u64, id: &str, name: &str| json!({"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}});
        let args = |index: u64, a: &str| json!({"index": index, "function": {"arguments": a}});
        let stream = [
            delta(json!({"role": "assistant", "content": null, "tool_calls": [call(0, "call_a", "get_weather")]})),
            delta(json!({"tool_calls": [args(0, "{\"ci")]})),
            delta(json!({"tool_calls": [call(1, "call_b", "get_time")]})),
            delta(json!({"tool_calls": [args(1, "{\"tz\":"), args(0, "ty\":\"Paris\"}")]})),
            delta(json!({"tool_calls": [args(1, "\"CET\"}")]})),
            finish("tool_calls"),
            DONE.to_owned(),
        ]
        .concat();
        let out = assemble(stream.as_bytes(), true);
        let message = &out.completion["choices"][0]["message"];
        assert!(message["content"].is_null());
        assert_eq!(
            message["tool_calls"],
            json!([
                {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}},
            ])
        );
        let view = ChatView::parse(&out.completion).unwrap();
        let first = view.first().unwrap();
        assert_eq!(first.tool_calls[1].name, "get_time");
        assert_eq!(first.finish_reason.as_deref(), Some("tool_calls"));
        assert!(out.complete);
    }

    #[test]
    fn usage_chunk_with_empty_choices() {
        let usage = json!({"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11});
        let stream = [
            delta(json!({"role": "assistant", "content": "Hi"})),
            finish("length"),
            chunk(json!([]), json!({"usage": usage})),
            DONE.to_owned(),
        ]
        .concat();
        let out = assemble(stream.as_bytes(), true);
        assert_eq!(out.completion["usage"], usage);
        assert_eq!(out.completion["choices"].as_array().unwrap().len(), 1);
        let view = ChatView::parse(&out.completion).unwrap();
        let reason = view.first().unwrap().finish_reason.as_deref();
        assert_eq!(
            (view.prompt_tokens, view.completion_tokens, reason),
            (Some(9), Some(2), Some("length"))
        );
        assert!(out.complete);
    }

    #[test]
    fn mid_stream_error_is_kept() {
        let error = json!({"message": "overloaded", "type": "server_error"});
        let (a, body) = (delta(json!({"content": "a"})), json!({"error": error}));
        for stream in [
            format!("{a}data: {body}\n\n{DONE}"),
            format!("{a}event: error\ndata: {body}\n\n"),
        ] {
            let out = assemble(stream.as_bytes(), true);
            assert_eq!(out.error.as_ref(), Some(&error));
            assert_eq!(out.completion["choices"][0]["message"]["content"], "a");
            assert!(!out.complete);
        }
        let out = assemble(b"event: error\ndata: upstream died\n\n", true);
        assert_eq!(out.error, Some(json!("upstream died")));
    }

    #[test]
    fn invalid_json_chunk_is_counted() {
        let (ok, stop) = (delta(json!({"content": "ok"})), finish("stop"));
        let stream = format!("{ok}data: {{\"choi\n\ndata: 42\n\ndata:\n\n{stop}{DONE}");
        let out = assemble(stream.as_bytes(), true);
        assert_eq!((out.chunks, out.malformed_chunks), (2, 2));
        assert_eq!(out.completion["choices"][0]["message"]["content"], "ok");
        assert!(out.complete);
    }

    #[test]
    fn incomplete_streams() {
        let body = [delta(json!({"content": "a"})), finish("stop")].concat();
        let no_done = assemble(body.as_bytes(), true);
        assert!(!no_done.done && !no_done.complete);
        let no_finish = format!("{}{DONE}", delta(json!({"content": "a"})));
        let no_finish = assemble(no_finish.as_bytes(), true);
        assert!(no_finish.done && !no_finish.complete);
        let reset = assemble(format!("{body}{DONE}").as_bytes(), false);
        assert!(reset.done && !reset.complete);
        let empty = assemble(b"", true);
        assert_eq!(empty.completion["choices"], json!([]));
        assert!(ChatView::parse(&empty.completion).is_some());
    }

    #[test]
    fn first_content_offset_skips_role_only_chunk() {
        let role = delta(json!({"role": "assistant", "content": ""}));
        let first = delta(json!({"content": "Hi"}));
        let more = delta(json!({"content": "!"}));
        let stream = format!(": keep-alive\n\n{role}{first}{more}{DONE}");
        let out = assemble(stream.as_bytes(), true);
        let want = ": keep-alive\n\n".len() + role.len() + first.len();
        assert_eq!(out.first_content_offset, Some(want as u64));
        let tools =
            delta(json!({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}]}));
        let out = assemble(format!("{role}{tools}").as_bytes(), true);
        let want = role.len() + tools.len();
        assert_eq!(out.first_content_offset, Some(want as u64));
        assert_eq!(assemble(role.as_bytes(), true).first_content_offset, None);
    }

    #[test]
    fn legacy_text_deltas() {
        let text = |t: &str, reason: Value| {
            chunk(
                json!([{"index": 0, "text": t, "logprobs": null, "finish_reason": reason}]),
                json!({"object": "text_completion"}),
            )
        };
        let stream = format!(
            "{}{}{DONE}",
            text("Once", Value::Null),
            text(" upon", json!("stop"))
        );
        let out = assemble(stream.as_bytes(), true);
        let content = &out.completion["choices"][0]["message"]["content"];
        assert_eq!(content, "Once upon");
        assert!(out.complete);
    }

    /// A realistic stream: role chunk, content pieces, two interleaved tool calls, finish, usage, `[DONE]`;
    /// each chunk's JSON spans two `data:` lines.
    fn realistic(pieces: &[String], args: &[(bool, String)], eol: &str) -> Vec<u8> {
        let mut events = vec![
            ": ping".to_owned(),
            delta(json!({"role": "assistant", "content": ""})),
        ];
        events.extend(pieces.iter().map(|p| delta(json!({"content": p}))));
        for (i, name) in ["f", "g"].iter().enumerate() {
            let call = json!({"index": i, "id": format!("call_{i}"), "type": "function", "function": {"name": name, "arguments": ""}});
            events.push(delta(json!({"tool_calls": [call]})));
        }
        for (second, fragment) in args {
            events.push(delta(json!({"tool_calls": [{"index": u8::from(*second), "function": {"arguments": fragment}}]})));
        }
        events.push(finish("tool_calls"));
        events.push(chunk(
            json!([]),
            json!({"usage": {"prompt_tokens": 1, "completion_tokens": 2}}),
        ));
        events.push(DONE.to_owned());
        let text: String = events
            .iter()
            .map(|e| {
                format!(
                    "{}\n\n",
                    e.trim_end().replacen("data: {", "data: {\ndata: ", 1)
                )
            })
            .collect();
        text.replace('\n', eol).into_bytes()
    }

    fn assemble_pieces<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> AssembledStream {
        let (mut parser, mut assembler) = (SseParser::new(), StreamAssembler::new());
        for piece in pieces {
            for event in parser.push(piece) {
                assembler.push_event(&event, parser.offset());
            }
        }
        let (pending, _) = parser.finish();
        if let Some(event) = pending {
            assembler.push_event(&event, parser.offset());
        }
        assembler.finish(true)
    }

    #[test]
    fn common_chunks_take_the_fast_path() {
        let bytes = realistic(
            &["Hel".into(), "lo \"é\"".into()],
            &[(true, "{\"a\":".into()), (false, "1}".into())],
            "\n",
        );
        let (mut parser, mut assembler) = (SseParser::new(), StreamAssembler::new());
        for event in parser.push(&bytes) {
            assembler.push_event(&event, parser.offset());
        }
        assert_eq!(assembler.chunks, 9);
        assert_eq!(assembler.fast_chunks, assembler.chunks);
    }

    #[test]
    fn the_fast_path_agrees_with_the_value_path_on_odd_chunks() {
        let odd = [
            // Escapes in keys and values, unknown fields of every kind, nulls.
            r#"{"id":"c\u0031","obj\u0065ct":"x","choices":[{"index":0,"delta":{"cont\u0065nt":"a\"b\n\u00e9"},"logprobs":{"content":[{"t":[1,2.5,-0]}]},"finish_reason":null}],"usage":null}"#,
            // Indexes that are not u64: the position counts.
            r#"{"choices":[{"index":"1","delta":{"content":"s"}},{"index":1.0,"delta":{"content":"f"}},{"index":-0,"delta":{"content":"z"}},{"index":null,"text":"t"},{"index":18446744073709551616,"delta":{"content":"big"}}]}"#,
            // Types the fast path refuses (the Value path decides).
            r#"{"choices":[{"index":0,"finish_reason":7,"delta":{"content":5,"role":["x"]}}]}"#,
            r#"{"choices":[["index",0],{"delta":[1,2]},"x",3,null]}"#,
            r#"{"choices":{"index":0}}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"","function":{"name":"f","arguments":"{"}},{"function":["n","a"]},7]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":{"index":0}}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":3,"type":null,"function":{"name":null,"arguments":1}}]}}]}"#,
            // Repeated keys: the Value path keeps the last.
            r#"{"choices":[{"index":0,"delta":{"content":"first","content":"last"}}],"model":"a","model":"b"}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"choices":[{"index":1,"delta":{"content":"y"}}]}"#,
            // Errors, numbers out of range, depth, odd top levels.
            r#"{"error":{"message":"overloaded"},"choices":[{"delta":{"content":"no"}}]}"#,
            r#"{"error":null,"choices":[{"delta":{"content":"yes"}}]}"#,
            r#"{"choices":[{"delta":{"content":"inf"}}],"x":1e999}"#,
            &format!(
                r#"{{"choices":[{{"delta":{{"content":"deep"}}}}],"x":{}1{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
            r#"["choices",[]]"#,
            r#"{"id":{"nested":[1,{"a":null}]},"created":1.5e3,"model":null,"system_fingerprint":["fp"],"usage":{"prompt_tokens":1},"choices":[]}"#,
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","refusal":"no","content":""},"finish_reason":"stop","text":"legacy"}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}]} trailing"#,
        ];
        for chunk in odd {
            let stream = format!("data: {chunk}\n\ndata: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"!\"}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n");
            let fast = assemble(stream.as_bytes(), true);
            let reference = StreamAssembler::reference().assemble(stream.as_bytes(), true);
            assert_eq!(fast, reference, "{chunk}");
        }
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<char>(), 0..6).prop_map(String::from_iter)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn any_split_gives_same_completion(
            pieces in prop::collection::vec(text(), 0..5),
            args in prop::collection::vec((any::<bool>(), text()), 0..5),
            eol in prop::sample::select(vec!["\n", "\r\n", "\r"]),
            sizes in prop::collection::vec(1usize..40, 1..20),
        ) {
            let bytes = realistic(&pieces, &args, eol);
            let whole = assemble_pieces([&bytes[..]]);
            prop_assert_eq!(assemble(&bytes, true), StreamAssembler::reference().assemble(&bytes, true));
            prop_assert!(whole.complete);
            prop_assert_eq!((whole.chunks, whole.malformed_chunks), (pieces.len() as u32 + args.len() as u32 + 5, 0));
            let message = &whole.completion["choices"][0]["message"];
            let content = pieces.concat();
            prop_assert_eq!(message["content"].as_str(), Some(content.as_str()));
            let second: String = args.iter().filter(|a| a.0).map(|a| a.1.as_str()).collect();
            prop_assert_eq!(message["tool_calls"][1]["function"]["arguments"].as_str(), Some(second.as_str()));
            for split in 0..=bytes.len() {
                let parts = assemble_pieces([&bytes[..split], &bytes[split..]]);
                prop_assert_eq!(&parts.completion, &whole.completion, "split at {}", split);
                prop_assert!(parts.complete);
            }
            let (mut chunks, mut rest, mut sizes) = (Vec::new(), &bytes[..], sizes.iter().cycle());
            while !rest.is_empty() {
                let (head, tail) = rest.split_at((*sizes.next().unwrap()).min(rest.len()));
                chunks.push(head);
                rest = tail;
            }
            let random = assemble_pieces(chunks);
            prop_assert_eq!(&random.completion, &whole.completion);
            prop_assert_eq!(random.first_content_offset.is_some(), whole.first_content_offset.is_some());
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            noise in prop::collection::vec(prop::sample::select(vec![
                "data: ", "data:", "event: error\n", ": x\n", "\n", "\r", "\r\n", "{", "}", "[DONE]", "\"choices\":[",
                "{\"index\":", "0", "\"delta\":", "\"tool_calls\":[", "\"content\":\"é", "\"error\":", ",", "null", "]",
            ]), 0..80),
            split in any::<prop::sample::Index>(),
        ) {
            for input in [bytes, noise.concat().into_bytes()] {
                let at = split.index(input.len() + 1);
                let out = assemble_pieces([&input[..at], &input[at..]]);
                prop_assert!(out.completion["choices"].is_array());
                prop_assert!(ChatView::parse(&out.completion).is_some());
                prop_assert_eq!(
                    assemble(&input, false),
                    StreamAssembler::reference().assemble(&input, false)
                );
            }
        }
    }
}
