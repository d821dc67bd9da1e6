//! Deterministic checks of a candidate's answer: JSON validity and schema, required fields,
//! contains / not-contains / regex, an expected tool call, latency, tokens, cost, finish reason.
//!
//! Pure: a check is validated once when a corpus is read ([`validate`]) and evaluated against
//! what the candidate did ([`evaluate`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::openai::ChatView;

/// What a check tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckKind {
    /// The answer text is valid JSON.
    JsonValid {},
    /// The answer text is JSON matching this JSON Schema.
    JsonSchema { schema: Value },
    /// The answer text is a JSON object with these fields (dotted paths, e.g. `customer.id`).
    RequiredFields { fields: Vec<String> },
    /// The answer text contains `value`.
    Contains {
        value: String,
        #[serde(default)]
        ignore_case: bool,
    },
    /// The answer text does not contain `value`.
    NotContains {
        value: String,
        #[serde(default)]
        ignore_case: bool,
    },
    /// The answer text matches this regular expression (Rust `regex` syntax) somewhere.
    Regex { pattern: String },
    /// The answer calls tool `name`, with arguments matching the JSON Schema `arguments` if given.
    ToolCalled {
        name: String,
        #[serde(default)]
        arguments: Option<Value>,
    },
    /// The candidate answered within this many milliseconds (retries included).
    MaxLatencyMs { value: f64 },
    /// The answer used at most this many completion tokens (as the candidate reported).
    MaxTokens { value: u64 },
    /// The answer cost at most this much (USD, from usage and the candidate's prices).
    MaxCostUsd { value: f64 },
    /// The first choice finished with `finish_reason: "stop"`.
    FinishReasonStop {},
}

/// A check as written in a corpus: what to test, and whether the gate requires it to pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct CheckSpec {
    pub kind: CheckKind,
    /// A failing must-pass check fails the gate (default true; `"must_pass": false` = advisory).
    pub must_pass: bool,
}

impl TryFrom<Value> for CheckSpec {
    type Error = String;
    fn try_from(mut v: Value) -> Result<Self, String> {
        let obj = v
            .as_object_mut()
            .ok_or("a check must be an object like {\"type\": \"json_valid\"}")?;
        let must_pass = match obj.remove("must_pass") {
            None => true,
            Some(Value::Bool(b)) => b,
            Some(other) => return Err(format!("must_pass must be true or false, not {other}")),
        };
        let kind = serde_json::from_value(v).map_err(|e| format!("invalid check: {e}"))?;
        Ok(Self { kind, must_pass })
    }
}

impl From<CheckSpec> for Value {
    fn from(c: CheckSpec) -> Value {
        let mut v = serde_json::to_value(&c.kind).unwrap_or_default();
        if !c.must_pass {
            v["must_pass"] = Value::Bool(false);
        }
        v
    }
}

/// The outcome of one check on one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Short description, e.g. `contains "Paris"`.
    pub check: String,
    pub must_pass: bool,
    pub passed: bool,
    /// Why it failed (or what was measured).
    pub message: String,
}

/// What the candidate did for one item.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observed<'a> {
    /// The candidate's chat.completion, if it answered.
    pub answer: Option<&'a Value>,
    /// Why there is no usable answer.
    pub failure: Option<&'a str>,
    pub latency_ms: f64,
    pub completion_tokens: Option<u32>,
    pub cost_usd: Option<f64>,
}

/// Check a spec once, when the corpus is read: regexes and schemas must compile.
pub fn validate(spec: &CheckSpec) -> Result<(), String> {
    match &spec.kind {
        CheckKind::JsonSchema { schema } => compile(schema).map(drop),
        CheckKind::ToolCalled {
            arguments: Some(schema),
            ..
        } => compile(schema).map(drop),
        CheckKind::Regex { pattern } => regex::Regex::new(pattern)
            .map(drop)
            .map_err(|e| format!("invalid regex {pattern:?}: {e}")),
        CheckKind::RequiredFields { fields } if fields.is_empty() => {
            Err("required_fields needs at least one field".into())
        }
        CheckKind::MaxLatencyMs { value } | CheckKind::MaxCostUsd { value }
            if !(value.is_finite() && *value >= 0.0) =>
        {
            Err(format!(
                "the limit must be a non-negative number, not {value}"
            ))
        }
        _ => Ok(()),
    }
}

fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| format!("invalid JSON schema: {e}"))
}

/// A short description of a check.
pub fn label(kind: &CheckKind) -> String {
    match kind {
        CheckKind::JsonValid {} => "json_valid".into(),
        CheckKind::JsonSchema { .. } => "json_schema".into(),
        CheckKind::RequiredFields { fields } => format!("required_fields {}", fields.join(", ")),
        CheckKind::Contains { value, .. } => format!("contains {value:?}"),
        CheckKind::NotContains { value, .. } => format!("not_contains {value:?}"),
        CheckKind::Regex { pattern } => format!("regex {pattern:?}"),
        CheckKind::ToolCalled { name, .. } => format!("tool_called {name}"),
        CheckKind::MaxLatencyMs { value } => format!("max_latency_ms {value}"),
        CheckKind::MaxTokens { value } => format!("max_tokens {value}"),
        CheckKind::MaxCostUsd { value } => format!("max_cost_usd {value}"),
        CheckKind::FinishReasonStop {} => "finish_reason_stop".into(),
    }
}

/// Evaluate one check.
pub fn evaluate(spec: &CheckSpec, obs: &Observed<'_>) -> CheckResult {
    let outcome = run(&spec.kind, obs);
    CheckResult {
        check: label(&spec.kind),
        must_pass: spec.must_pass,
        passed: outcome.is_ok(),
        message: outcome.unwrap_or_else(|why| why),
    }
}

/// Evaluate every check; an item's own checks after the corpus-wide ones.
pub fn evaluate_all<'s>(
    specs: impl IntoIterator<Item = &'s CheckSpec>,
    obs: &Observed<'_>,
) -> Vec<CheckResult> {
    specs.into_iter().map(|s| evaluate(s, obs)).collect()
}

/// Ok(what was seen) or Err(why it failed).
fn run(kind: &CheckKind, obs: &Observed<'_>) -> Result<String, String> {
    match kind {
        CheckKind::MaxLatencyMs { value } => {
            let ms = obs.latency_ms;
            limit(ms <= *value, format!("took {ms:.0} ms (limit {value} ms)"))
        }
        CheckKind::MaxTokens { value } => match obs.completion_tokens {
            Some(n) => limit(
                u64::from(n) <= *value,
                format!("{n} completion tokens (limit {value})"),
            ),
            None => Err("the candidate reported no token usage".into()),
        },
        CheckKind::MaxCostUsd { value } => match obs.cost_usd {
            Some(c) => limit(*value >= c, format!("cost ${c:.6} (limit ${value})")),
            None => Err("cost unknown: the candidate reported no usage; set its \
                 input_price_per_mtok / output_price_per_mtok"
                .into()),
        },
        _ => {
            let view = answer(obs)?;
            content_check(kind, &view)
        }
    }
}

fn limit(ok: bool, what: String) -> Result<String, String> {
    if ok {
        Ok(what)
    } else {
        Err(what)
    }
}

fn answer(obs: &Observed<'_>) -> Result<ChatView, String> {
    if let Some(why) = obs.failure {
        return Err(format!("no answer: {why}"));
    }
    obs.answer
        .and_then(ChatView::parse)
        .ok_or_else(|| "no answer: the response is not a chat completion".to_owned())
}

fn content_check(kind: &CheckKind, view: &ChatView) -> Result<String, String> {
    let first = view.first();
    let text = first.and_then(|c| c.content.as_deref()).unwrap_or_default();
    let json = || {
        serde_json::from_str::<Value>(strip_fence(text))
            .map_err(|e| format!("the answer is not valid JSON: {e}"))
    };
    match kind {
        CheckKind::JsonValid {} => json().map(|_| "valid JSON".into()),
        CheckKind::JsonSchema { schema } => {
            let value = json()?;
            schema_errors(schema, &value).map(|()| "matches the schema".into())
        }
        CheckKind::RequiredFields { fields } => {
            let value = json()?;
            let missing: Vec<&str> = fields
                .iter()
                .filter(|f| lookup(&value, f).is_none_or(Value::is_null))
                .map(String::as_str)
                .collect();
            limit(
                missing.is_empty(),
                if missing.is_empty() {
                    "all fields present".into()
                } else {
                    format!("missing fields: {}", missing.join(", "))
                },
            )
        }
        CheckKind::Contains { value, ignore_case } => limit(
            contains(text, value, *ignore_case),
            format!("the answer does not contain {value:?}"),
        )
        .map(|_| format!("contains {value:?}")),
        CheckKind::NotContains { value, ignore_case } => limit(
            !contains(text, value, *ignore_case),
            format!("the answer contains {value:?}"),
        )
        .map(|_| format!("does not contain {value:?}")),
        CheckKind::Regex { pattern } => {
            let re = regex::Regex::new(pattern).map_err(|e| format!("invalid regex: {e}"))?;
            limit(
                re.is_match(text),
                format!("the answer does not match {pattern:?}"),
            )
            .map(|_| format!("matches {pattern:?}"))
        }
        CheckKind::ToolCalled { name, arguments } => {
            let calls = first.map(|c| c.tool_calls.as_slice()).unwrap_or_default();
            let Some(call) = calls.iter().find(|c| &c.name == name) else {
                let called: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
                return Err(if called.is_empty() {
                    format!("no tool call; expected {name}")
                } else {
                    format!("expected a call to {name}, got {}", called.join(", "))
                });
            };
            let Some(schema) = arguments else {
                return Ok(format!("called {name}"));
            };
            let args: Value = serde_json::from_str(&call.arguments)
                .map_err(|e| format!("{name} arguments are not valid JSON: {e}"))?;
            schema_errors(schema, &args)
                .map(|()| format!("called {name} with valid arguments"))
                .map_err(|e| format!("{name} arguments: {e}"))
        }
        CheckKind::FinishReasonStop {} => {
            let reason = first.and_then(|c| c.finish_reason.as_deref());
            limit(
                reason == Some("stop"),
                format!("finish_reason is {}", reason.unwrap_or("missing")),
            )
        }
        CheckKind::MaxLatencyMs { .. }
        | CheckKind::MaxTokens { .. }
        | CheckKind::MaxCostUsd { .. } => {
            unreachable!("measured, not read from the answer")
        }
    }
}

fn contains(text: &str, needle: &str, ignore_case: bool) -> bool {
    if ignore_case {
        text.to_lowercase().contains(&needle.to_lowercase())
    } else {
        text.contains(needle)
    }
}

/// JSON answers wrapped in a Markdown code fence are read without the fence.
fn strip_fence(text: &str) -> &str {
    let t = text.trim();
    match t.strip_prefix("```") {
        Some(rest) if t.ends_with("```") && rest.len() >= 3 => {
            let body = &rest[..rest.len() - 3];
            body.split_once('\n').map_or(body, |(_, b)| b).trim()
        }
        _ => t,
    }
}

/// Follow a dotted path (`a.b.0.c`) into a JSON value.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn schema_errors(schema: &Value, value: &Value) -> Result<(), String> {
    let validator = compile(schema)?;
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("schema violated: {}", errors.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> CheckSpec {
        serde_json::from_value(v).unwrap()
    }

    fn text(content: &str, finish: &str) -> Value {
        json!({"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": finish}],
               "usage": {"prompt_tokens": 10, "completion_tokens": 7}})
    }

    fn check(v: Value, answer: &Value) -> CheckResult {
        let obs = Observed {
            answer: Some(answer),
            latency_ms: 120.0,
            completion_tokens: Some(7),
            cost_usd: Some(0.001),
            ..Observed::default()
        };
        evaluate(&spec(v), &obs)
    }

    #[test]
    fn specs_round_trip_and_default_to_must_pass() {
        let s = spec(json!({"type": "contains", "value": "Paris"}));
        assert!(s.must_pass);
        let s = spec(json!({"type": "regex", "pattern": "a+", "must_pass": false}));
        assert!(!s.must_pass);
        let back: CheckSpec = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        for bad in [
            json!({"type": "nope"}),
            json!({"type": "contains"}),
            json!({"type": "contains", "value": "x", "typo": 1}),
            json!({"type": "json_valid", "must_pass": "yes"}),
            json!("json_valid"),
        ] {
            assert!(
                serde_json::from_value::<CheckSpec>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn validation_compiles_regexes_and_schemas() {
        assert!(validate(&spec(json!({"type": "regex", "pattern": "("}))).is_err());
        assert!(validate(&spec(
            json!({"type": "json_schema", "schema": {"type": 12}})
        ))
        .is_err());
        assert!(validate(&spec(json!({"type": "required_fields", "fields": []}))).is_err());
        assert!(validate(&spec(
            json!({"type": "json_schema", "schema": {"type": "object"}})
        ))
        .is_ok());
    }

    #[test]
    fn json_checks() {
        let good = text(
            r#"{"total": 12.5, "customer": {"id": "c1"}, "lines": [{"sku": "a"}]}"#,
            "stop",
        );
        let broken = text(r#"{"total": 12.5, "customer": "#, "length");
        let schema = json!({"type": "json_schema", "schema": {"type": "object", "required": ["total"],
            "properties": {"total": {"type": "number"}}}});
        assert!(check(json!({"type": "json_valid"}), &good).passed);
        assert!(!check(json!({"type": "json_valid"}), &broken).passed);
        assert!(check(schema.clone(), &good).passed);
        let wrong = text(r#"{"total": "12.5"}"#, "stop");
        let r = check(schema, &wrong);
        assert!(!r.passed && r.message.contains("/total"), "{}", r.message);
        let fields =
            json!({"type": "required_fields", "fields": ["total", "customer.id", "lines.0.sku"]});
        assert!(check(fields, &good).passed);
        let r = check(
            json!({"type": "required_fields", "fields": ["total", "due_date"]}),
            &good,
        );
        assert_eq!(r.message, "missing fields: due_date");
        let fenced = text("```json\n{\"a\": 1}\n```", "stop");
        assert!(check(json!({"type": "json_valid"}), &fenced).passed);
    }

    #[test]
    fn text_checks() {
        let a = text("The capital of France is Paris.", "stop");
        assert!(check(json!({"type": "contains", "value": "Paris"}), &a).passed);
        assert!(!check(json!({"type": "contains", "value": "paris"}), &a).passed);
        assert!(
            check(
                json!({"type": "contains", "value": "paris", "ignore_case": true}),
                &a
            )
            .passed
        );
        assert!(check(json!({"type": "not_contains", "value": "sorry"}), &a).passed);
        let refusal = text("I'm sorry, I can't help with that.", "stop");
        let r = check(
            json!({"type": "not_contains", "value": "I'm sorry"}),
            &refusal,
        );
        assert!(!r.passed && r.must_pass);
        assert!(check(json!({"type": "regex", "pattern": "^The .* Paris\\.$"}), &a).passed);
        assert!(check(json!({"type": "finish_reason_stop"}), &a).passed);
        let cut = text("The capital of", "length");
        let r = check(json!({"type": "finish_reason_stop"}), &cut);
        assert_eq!(
            (r.passed, r.message.as_str()),
            (false, "finish_reason is length")
        );
    }

    #[test]
    fn tool_checks() {
        let call = json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"order_id\": \"A-10032\"}"}}
        ]}, "finish_reason": "tool_calls"}]});
        let schema = json!({"type": "object", "required": ["order_id"],
            "properties": {"order_id": {"const": "A-10023"}}});
        assert!(
            check(
                json!({"type": "tool_called", "name": "lookup_order"}),
                &call
            )
            .passed
        );
        let r = check(
            json!({"type": "tool_called", "name": "lookup_order", "arguments": schema}),
            &call,
        );
        assert!(!r.passed && r.message.contains("order_id"), "{}", r.message);
        let r = check(json!({"type": "tool_called", "name": "get_weather"}), &call);
        assert_eq!(
            r.message,
            "expected a call to get_weather, got lookup_order"
        );
        let r = check(
            json!({"type": "tool_called", "name": "get_weather"}),
            &text("Sunny.", "stop"),
        );
        assert_eq!(r.message, "no tool call; expected get_weather");
    }

    #[test]
    fn measured_checks_and_failures() {
        let a = text("ok", "stop");
        assert!(check(json!({"type": "max_latency_ms", "value": 500}), &a).passed);
        assert!(!check(json!({"type": "max_latency_ms", "value": 100}), &a).passed);
        assert!(check(json!({"type": "max_tokens", "value": 7}), &a).passed);
        assert!(!check(json!({"type": "max_tokens", "value": 6}), &a).passed);
        assert!(!check(json!({"type": "max_cost_usd", "value": 0.0005}), &a).passed);
        let failed = Observed {
            failure: Some("timeout: no answer within 60 s"),
            ..Observed::default()
        };
        let r = evaluate(&spec(json!({"type": "contains", "value": "x"})), &failed);
        assert_eq!(r.message, "no answer: timeout: no answer within 60 s");
        let r = evaluate(&spec(json!({"type": "max_cost_usd", "value": 1})), &failed);
        assert!(!r.passed && r.message.contains("input_price_per_mtok"));
    }
}
