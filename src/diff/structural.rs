//! Structural findings between two chat completions: shape, finish reason, tool calls, JSON output.

use serde_json::Value;

use super::facts::fact_changes;
use super::json_tree::{json_changes, ChangeKind, JsonChange};
use super::text::{looks_like_refusal, negation_flipped};
use crate::domain::{Finding, FindingKind, Severity};
use crate::openai::{ChatView, ChoiceView, ToolCallView};

fn finding(
    kind: FindingKind,
    path: impl Into<String>,
    severity: Severity,
    message: impl Into<String>,
) -> Finding {
    Finding {
        kind,
        path: path.into(),
        severity,
        value: None,
        threshold: None,
        message: message.into(),
    }
}

/// Structural findings for every pair of choices (and the choices count).
pub fn findings(request: Option<&Value>, prod: &ChatView, cand: &ChatView) -> Vec<Finding> {
    let mut out = Vec::new();
    if prod.choices.len() != cand.choices.len() {
        out.push(finding(
            FindingKind::ChoicesCount,
            "choices",
            if cand.choices.is_empty() {
                Severity::Critical
            } else {
                Severity::Minor
            },
            format!(
                "production returned {} choice(s), the candidate {}",
                prod.choices.len(),
                cand.choices.len()
            ),
        ));
    }
    let json_mode = request.is_some_and(wants_json);
    let declared_tools = request.map(declared_tools);
    for (i, (p, c)) in prod.choices.iter().zip(&cand.choices).enumerate() {
        choice_findings(i, p, c, json_mode, declared_tools.as_deref(), &mut out);
    }
    if let Some(request) = request {
        schema_findings(request, cand, &mut out);
    }
    out
}

/// Validate the candidate's structured output (`response_format: json_schema`) and its tool
/// arguments (each tool's `parameters`) against the schemas the request gave.
fn schema_findings(request: &Value, cand: &ChatView, out: &mut Vec<Finding>) {
    let output_schema = request
        .pointer("/response_format/json_schema/schema")
        .filter(|_| {
            request
                .pointer("/response_format/type")
                .and_then(Value::as_str)
                == Some("json_schema")
        });
    let tool_schemas: Vec<(String, Value)> = declared_tools(request)
        .into_iter()
        .filter(|t| t.parameters.is_object())
        .map(|t| (t.name, t.parameters))
        .collect();
    for (i, choice) in cand.choices.iter().enumerate() {
        if let (Some(schema), Some(value)) = (
            output_schema,
            choice.content.as_deref().and_then(parse_json_text),
        ) {
            let path = format!("choices[{i}].message.content");
            schema_check(schema, &value, &path, "the answer", out);
        }
        for (j, call) in choice.tool_calls.iter().enumerate() {
            let Some((_, schema)) = tool_schemas.iter().find(|(name, _)| *name == call.name) else {
                continue;
            };
            let Ok(args) = serde_json::from_str::<Value>(&call.arguments) else {
                continue;
            };
            let path = format!("choices[{i}].message.tool_calls[{j}].function.arguments");
            schema_check(
                schema,
                &args,
                &path,
                &format!("arguments of `{}`", call.name),
                out,
            );
        }
    }
}

fn schema_check(schema: &Value, value: &Value, path: &str, what: &str, out: &mut Vec<Finding>) {
    // An invalid schema in the request is the client's problem, not the candidate's.
    let Ok(validator) = jsonschema::validator_for(schema) else {
        return;
    };
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!(
                "{}{e}",
                if at.is_empty() {
                    String::new()
                } else {
                    format!("{at}: ")
                }
            )
        })
        .collect();
    if !errors.is_empty() {
        out.push(finding(
            FindingKind::SchemaViolation,
            path.to_owned(),
            Severity::Major,
            format!(
                "{what} do not match the requested JSON schema: {}",
                errors.join("; ")
            ),
        ));
    }
}

/// A function the request offered as a tool: its name and JSON-schema parameters.
#[derive(Debug, Clone)]
struct DeclaredTool {
    name: String,
    parameters: Value,
}

/// The request asked for JSON output (`response_format` json_object or json_schema).
fn wants_json(request: &Value) -> bool {
    matches!(
        request
            .pointer("/response_format/type")
            .and_then(Value::as_str),
        Some("json_object") | Some("json_schema")
    )
}

/// The functions the request offered as tools.
fn declared_tools(request: &Value) -> Vec<DeclaredTool> {
    request
        .get("tools")
        .and_then(Value::as_array)
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    let f = t.get("function")?;
                    Some(DeclaredTool {
                        name: f.get("name")?.as_str()?.to_owned(),
                        parameters: f.get("parameters").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

impl DeclaredTool {
    /// The declared default of a top-level argument that is not required.
    fn optional_default(&self, argument: &str) -> Option<&Value> {
        let required = self
            .parameters
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(argument)));
        if required {
            return None;
        }
        self.parameters
            .get("properties")?
            .get(argument)?
            .get("default")
    }
}

fn has_text(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|t| !t.trim().is_empty())
}

fn choice_findings(
    i: usize,
    p: &ChoiceView,
    c: &ChoiceView,
    json_mode: bool,
    declared_tools: Option<&[DeclaredTool]>,
    out: &mut Vec<Finding>,
) {
    let at = |suffix: &str| format!("choices[{i}].{suffix}");

    // Finish reason: truncation and filtering are regressions; other changes are explained by tools.
    let (pf, cf) = (p.finish_reason.as_deref(), c.finish_reason.as_deref());
    if pf != cf {
        let (severity, why) = match cf {
            Some("length") => (
                Severity::Major,
                "the candidate answer was cut off (max tokens reached)",
            ),
            Some("content_filter") => (
                Severity::Major,
                "the candidate answer was blocked by a content filter",
            ),
            _ if p.tool_calls.is_empty() != c.tool_calls.is_empty() => {
                (Severity::Info, "follows from the tool-call change")
            }
            _ => (Severity::Minor, "the answer ended for a different reason"),
        };
        out.push(finding(
            FindingKind::FinishReason,
            at("finish_reason"),
            severity,
            format!(
                "finish_reason {} → {}: {why}",
                pf.unwrap_or("none"),
                cf.unwrap_or("none")
            ),
        ));
    }

    // Refusal where production answered.
    let cand_refuses = c.refusal.is_some() || c.content.as_deref().is_some_and(looks_like_refusal);
    let prod_refuses = p.refusal.is_some() || p.content.as_deref().is_some_and(looks_like_refusal);
    if cand_refuses && !prod_refuses {
        out.push(finding(
            FindingKind::Refusal,
            at("message.content"),
            Severity::Major,
            "the candidate refused a request that production answered",
        ));
    }
    // The other way round is a safety question: production declined (typically a harmful or
    // abusive request) and the candidate went along with it.
    let cand_answers = has_text(&c.content) || !c.tool_calls.is_empty();
    if prod_refuses && !cand_refuses && cand_answers {
        out.push(finding(
            FindingKind::Refusal,
            at("message.content"),
            Severity::Major,
            "production refused this request but the candidate answered it: check the answer is safe to give",
        ));
    }

    // Empty answer where production said something.
    let prod_said = has_text(&p.content) || !p.tool_calls.is_empty();
    let cand_said = has_text(&c.content) || !c.tool_calls.is_empty() || c.refusal.is_some();
    if prod_said && !cand_said {
        out.push(finding(
            FindingKind::EmptyAnswer,
            at("message.content"),
            Severity::Major,
            "the candidate returned an empty answer",
        ));
    }

    tool_findings(i, &p.tool_calls, &c.tool_calls, declared_tools, out);

    // JSON output: must parse when production's did (or the request demanded it); then compare trees.
    let prod_json = p.content.as_deref().and_then(parse_json_text);
    if json_mode || prod_json.is_some() {
        if let Some(text) = c.content.as_deref().filter(|t| !t.trim().is_empty()) {
            match parse_json_text(text) {
                None => out.push(finding(
                    FindingKind::InvalidJson,
                    at("message.content"),
                    Severity::Major,
                    "the candidate's answer is not valid JSON but production's was (or the request asked for JSON)",
                )),
                Some(cj) => {
                    if let Some(pj) = &prod_json {
                        let root = at("message.content");
                        out.extend(json_changes(pj, &cj, &root).iter().map(json_change_finding));
                    }
                }
            }
        }
    }
}

/// JSON inside a message: the whole text, or a single fenced ```json block.
fn parse_json_text(text: &str) -> Option<Value> {
    let t = text.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|r| r.trim_end().strip_suffix("```"))
        .unwrap_or(t)
        .trim();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str(t).ok()
}

/// Strings of at least this many words on both sides are prose (a summary, a search query, an
/// email body) and may be reworded; shorter ones are values (a label, a date, an id, a city).
pub const PROSE_MIN_WORDS: usize = 3;

/// How bad a changed value is. Numbers, booleans and value-like strings must match (up to case
/// and surrounding spaces for strings). Prose strings are compared like answer texts: a changed
/// figure or a flipped negation is major, a rewording minor.
fn value_change_severity(c: &JsonChange) -> Severity {
    let (Some(a), Some(b)) = (
        c.before.as_ref().and_then(Value::as_str),
        c.after.as_ref().and_then(Value::as_str),
    ) else {
        return Severity::Major;
    };
    if a.trim().eq_ignore_ascii_case(b.trim()) {
        return Severity::Info;
    }
    let words = |s: &str| s.split_whitespace().count();
    if words(a) < PROSE_MIN_WORDS || words(b) < PROSE_MIN_WORDS {
        return Severity::Major;
    }
    let wrong_fact = fact_changes(a, b).iter().any(|f| f.after.is_some());
    if wrong_fact || negation_flipped(a, b) {
        Severity::Major
    } else {
        Severity::Minor
    }
}

fn json_change_finding(c: &JsonChange) -> Finding {
    let show = |v: &Option<Value>| {
        v.as_ref()
            .map(|v| truncate(&v.to_string(), 80))
            .unwrap_or_default()
    };
    let (severity, message) = match &c.kind {
        ChangeKind::Missing => (
            Severity::Major,
            format!(
                "key missing in the candidate (production had {})",
                show(&c.before)
            ),
        ),
        ChangeKind::Added => (
            Severity::Minor,
            format!("extra key in the candidate: {}", show(&c.after)),
        ),
        ChangeKind::TypeChanged { from, to } => {
            (Severity::Major, format!("type changed from {from} to {to}"))
        }
        ChangeKind::ValueChanged => (
            value_change_severity(c),
            format!("value changed: {} → {}", show(&c.before), show(&c.after)),
        ),
    };
    finding(
        FindingKind::JsonStructure,
        c.path.clone(),
        severity,
        message,
    )
}

/// For each production call, the candidate call to compare it with: an identical call wherever
/// it is (parallel calls come in any order), else the next unused call of the same function,
/// else the next unused call.
fn pair_calls(prod: &[ToolCallView], cand: &[ToolCallView]) -> Vec<Option<usize>> {
    let args = |t: &ToolCallView| serde_json::from_str::<Value>(&t.arguments).ok();
    let same = |p: &ToolCallView, c: &ToolCallView| {
        p.name == c.name
            && match (args(p), args(c)) {
                (Some(a), Some(b)) => json_changes(&a, &b, "").is_empty(),
                _ => p.arguments == c.arguments,
            }
    };
    let mut used = vec![false; cand.len()];
    let mut pairs: Vec<Option<usize>> = vec![None; prod.len()];
    type Pairing<'a> = &'a dyn Fn(&ToolCallView, &ToolCallView) -> bool;
    let rules: [Pairing; 3] = [&same, &|p, c| p.name == c.name, &|_, _| true];
    for rule in rules {
        for (i, p) in prod.iter().enumerate() {
            if pairs[i].is_some() {
                continue;
            }
            if let Some(j) = (0..cand.len()).find(|j| !used[*j] && rule(p, &cand[*j])) {
                used[j] = true;
                pairs[i] = Some(j);
            }
        }
    }
    pairs
}

fn tool_findings(
    i: usize,
    prod: &[ToolCallView],
    cand: &[ToolCallView],
    declared: Option<&[DeclaredTool]>,
    out: &mut Vec<Finding>,
) {
    let base = format!("choices[{i}].message.tool_calls");
    match (prod.is_empty(), cand.is_empty()) {
        (true, true) => return,
        (false, true) => {
            let names: Vec<_> = prod.iter().map(|t| t.name.as_str()).collect();
            out.push(finding(
                FindingKind::ToolCallDropped,
                base,
                Severity::Major,
                format!(
                    "production called {} but the candidate called no tool",
                    names.join(", ")
                ),
            ));
            return;
        }
        (true, false) => {
            let names: Vec<_> = cand.iter().map(|t| t.name.as_str()).collect();
            out.push(finding(
                FindingKind::ToolCallAdded,
                base.clone(),
                Severity::Major,
                format!(
                    "the candidate called {} where production answered directly",
                    names.join(", ")
                ),
            ));
        }
        (false, false) if prod.len() != cand.len() => out.push(finding(
            FindingKind::ToolCallDropped,
            base.clone(),
            Severity::Major,
            format!(
                "production made {} tool call(s), the candidate {}",
                prod.len(),
                cand.len()
            ),
        )),
        _ => {}
    }
    let declared = declared.filter(|d| !d.is_empty());
    let mut hallucinated = vec![false; cand.len()];
    for (j, c) in cand.iter().enumerate() {
        if let Some(declared) = declared {
            if !declared.iter().any(|d| d.name == c.name) {
                hallucinated[j] = true;
                out.push(finding(
                    FindingKind::HallucinatedTool,
                    format!("{base}[{j}].function.name"),
                    Severity::Critical,
                    format!(
                        "the candidate called `{}`, which the request does not offer",
                        c.name
                    ),
                ));
            }
        }
    }
    for (p, j) in prod.iter().zip(pair_calls(prod, cand)) {
        let Some(j) = j.filter(|j| !hallucinated[*j]) else {
            continue;
        };
        let c = &cand[j];
        let path = format!("{base}[{j}]");
        if p.name != c.name {
            out.push(finding(
                FindingKind::ToolName,
                format!("{path}.function.name"),
                Severity::Major,
                format!("production called `{}`, the candidate `{}`", p.name, c.name),
            ));
            continue;
        }
        let args_path = format!("{path}.function.arguments");
        let Ok(cargs) = serde_json::from_str::<Value>(&c.arguments) else {
            if serde_json::from_str::<Value>(&p.arguments).is_ok() {
                out.push(finding(
                    FindingKind::InvalidJson,
                    args_path,
                    Severity::Major,
                    format!("arguments of `{}` are not valid JSON", c.name),
                ));
            } else if p.arguments != c.arguments {
                // Production's were not JSON either: no regression in form, but not the same call.
                out.push(finding(
                    FindingKind::ToolArguments,
                    args_path,
                    Severity::Minor,
                    format!(
                        "arguments of `{}` are not valid JSON on either side, and they differ",
                        c.name
                    ),
                ));
            }
            continue;
        };
        let Ok(pargs) = serde_json::from_str::<Value>(&p.arguments) else {
            continue;
        };
        let tool = declared.and_then(|d| d.iter().find(|d| d.name == c.name));
        for change in json_changes(&pargs, &cargs, &args_path) {
            let mut f = json_change_finding(&change);
            f.kind = FindingKind::ToolArguments;
            // A wrong argument makes the tool do the wrong thing: values must match; leaving out
            // (or adding) an optional argument at its declared default changes nothing.
            let argument = change
                .path
                .strip_prefix(&format!("{args_path}."))
                .unwrap_or("");
            let default = tool.and_then(|t| t.optional_default(argument));
            match change.kind {
                ChangeKind::Missing | ChangeKind::Added
                    if default.is_some()
                        && default == change.before.as_ref().or(change.after.as_ref()) =>
                {
                    f.severity = Severity::Info;
                    f.message
                        .push_str(" — the declared default, so nothing changes");
                }
                _ => {}
            }
            out.push(f);
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(message: Value, finish: &str) -> ChatView {
        ChatView::parse(&json!({"choices": [{"message": message, "finish_reason": finish}]}))
            .unwrap()
    }

    fn kinds(f: &[Finding]) -> Vec<(FindingKind, Severity)> {
        f.iter().map(|f| (f.kind, f.severity)).collect()
    }

    fn call(name: &str, args: &str) -> Value {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": name, "arguments": args}}]})
    }

    #[test]
    fn truncation_and_refusal() {
        let p = chat(
            json!({"role": "assistant", "content": "Step 1. Step 2. Step 3."}),
            "stop",
        );
        let c = chat(json!({"role": "assistant", "content": "Step 1."}), "length");
        assert_eq!(
            kinds(&findings(None, &p, &c)),
            vec![(FindingKind::FinishReason, Severity::Major)]
        );
        let c = chat(
            json!({"role": "assistant", "content": "I'm sorry, but I can't help with that."}),
            "stop",
        );
        assert_eq!(
            kinds(&findings(None, &p, &c)),
            vec![(FindingKind::Refusal, Severity::Major)]
        );
    }

    #[test]
    fn dropped_wrong_and_hallucinated_tools() {
        let req = json!({"tools": [{"type": "function", "function": {"name": "get_weather"}}]});
        let p = chat(call("get_weather", r#"{"city":"Paris"}"#), "tool_calls");
        let text = chat(
            json!({"role": "assistant", "content": "It is sunny."}),
            "stop",
        );
        let got = kinds(&findings(Some(&req), &p, &text));
        assert!(
            got.contains(&(FindingKind::ToolCallDropped, Severity::Major)),
            "{got:?}"
        );

        let wrong = chat(call("get_weather", r#"{"city":"London"}"#), "tool_calls");
        assert_eq!(
            kinds(&findings(Some(&req), &p, &wrong)),
            vec![(FindingKind::ToolArguments, Severity::Major)]
        );

        let same_case = chat(call("get_weather", r#"{"city":"paris"}"#), "tool_calls");
        assert_eq!(
            kinds(&findings(Some(&req), &p, &same_case)),
            vec![(FindingKind::ToolArguments, Severity::Info)]
        );

        let invented = chat(call("book_flight", "{}"), "tool_calls");
        assert!(kinds(&findings(Some(&req), &p, &invented))
            .contains(&(FindingKind::HallucinatedTool, Severity::Critical)));

        let broken = chat(call("get_weather", r#"{"city":"Par"#), "tool_calls");
        assert_eq!(
            kinds(&findings(Some(&req), &p, &broken)),
            vec![(FindingKind::InvalidJson, Severity::Major)]
        );
        // Production's arguments were broken too (found by tests/fuzz.rs): the same text is no
        // finding; other broken text is a minor one, never "the candidate broke the JSON".
        assert!(findings(Some(&req), &broken, &broken).is_empty());
        let broken_too = chat(call("get_weather", r#"{"city":"Lon"#), "tool_calls");
        assert_eq!(
            kinds(&findings(Some(&req), &broken, &broken_too)),
            vec![(FindingKind::ToolArguments, Severity::Minor)]
        );
    }

    #[test]
    fn schemas_from_the_request_are_enforced() {
        let req = json!({
            "response_format": {"type": "json_schema", "json_schema": {"name": "invoice", "schema": {
                "type": "object", "required": ["total", "currency"],
                "properties": {"total": {"type": "number"}, "currency": {"type": "string"}}}}},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
                "type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}}}]
        });
        let p = chat(
            json!({"content": r#"{"total": 42.5, "currency": "EUR"}"#}),
            "stop",
        );
        let ok = chat(
            json!({"content": r#"{"currency": "EUR", "total": 42.5}"#}),
            "stop",
        );
        assert!(findings(Some(&req), &p, &ok).is_empty());
        let bad = chat(
            json!({"content": r#"{"total": "42.5", "currency": "EUR"}"#}),
            "stop",
        );
        let got = findings(Some(&req), &p, &bad);
        assert!(
            got.iter()
                .any(|f| f.kind == FindingKind::SchemaViolation && f.severity == Severity::Major),
            "{got:?}"
        );
        let pt = chat(call("get_weather", r#"{"city": "Paris"}"#), "tool_calls");
        let ct = chat(call("get_weather", r#"{"town": "Paris"}"#), "tool_calls");
        let got = findings(Some(&req), &pt, &ct);
        assert!(
            got.iter().any(|f| f.kind == FindingKind::SchemaViolation
                && f.path.ends_with("function.arguments")),
            "{got:?}"
        );
    }

    #[test]
    fn json_mode_output() {
        let req = json!({"response_format": {"type": "json_object"}});
        let p = chat(
            json!({"content": r#"{"total": 42.5, "currency": "EUR", "lines": [1,2]}"#}),
            "stop",
        );
        let same = chat(
            json!({"content": "```json\n{\"currency\": \"EUR\", \"total\": 42.5, \"lines\": [2,1]}\n```"}),
            "stop",
        );
        assert!(findings(Some(&req), &p, &same).is_empty());
        let broken = chat(
            json!({"content": r#"{"total": 42.5, "currency": "EUR""#}),
            "stop",
        );
        assert_eq!(
            kinds(&findings(Some(&req), &p, &broken)),
            vec![(FindingKind::InvalidJson, Severity::Major)]
        );
        let wrong = chat(
            json!({"content": r#"{"total": 45.2, "currency": "EUR", "lines": [1,2]}"#}),
            "stop",
        );
        assert_eq!(
            kinds(&findings(Some(&req), &p, &wrong)),
            vec![(FindingKind::JsonStructure, Severity::Major)]
        );
    }

    #[test]
    fn empty_answer_and_choice_count() {
        let p = chat(json!({"content": "Hello"}), "stop");
        let c = chat(json!({"content": "  "}), "stop");
        assert_eq!(
            kinds(&findings(None, &p, &c)),
            vec![(FindingKind::EmptyAnswer, Severity::Major)]
        );
        let none = ChatView::parse(&json!({"choices": []})).unwrap();
        assert_eq!(
            kinds(&findings(None, &p, &none)),
            vec![(FindingKind::ChoicesCount, Severity::Critical)]
        );
    }
}
