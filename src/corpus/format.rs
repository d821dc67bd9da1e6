//! The corpus file format, version 1: JSON Lines of OpenAI-style chat requests with optional
//! expected answers and checks. Documented in `docs/corpus-format.md`.
//!
//! ```text
//! {"shadowtap_corpus": 1, "name": "support-golden", "checks": [{"type": "not_contains", "value": "I'm sorry"}]}
//! {"id": "refund-20d", "request": {"model": "gpt-4o-mini", "messages": [...]}, "expected": "Yes. Purchases ...",
//!  "checks": [{"type": "contains", "value": "30 days"}], "tags": {"team": "support"}}
//! {"model": "gpt-4o-mini", "messages": [...]}
//! ```
//!
//! The header line is optional (version 1 is assumed without it). A line without `request` but
//! with `messages` is a bare request. Pure: [`parse`] never fails on a bad line — it reports the
//! line number and the reason and goes on; the caller decides whether to skip or reject.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::checks::{self, CheckSpec};

/// The format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The route items are replayed on unless they say otherwise.
pub const DEFAULT_PATH: &str = "/v1/chat/completions";

/// The optional first line of a corpus file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Format version (1).
    pub shadowtap_corpus: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Checks applied to every item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckSpec>,
}

impl Default for Header {
    fn default() -> Self {
        Self {
            shadowtap_corpus: FORMAT_VERSION,
            name: None,
            description: None,
            checks: Vec::new(),
        }
    }
}

/// Latency and cost of the reference answer, when known (exports fill them from the capture).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// One corpus item, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable id: the line's `id`, else `req-` + a hash of the request.
    pub key: String,
    /// Line number in the file (1-based).
    pub line: usize,
    pub path: String,
    /// The chat request (an object with a non-empty `messages` array).
    pub request: Value,
    /// The reference answer as a chat.completion, if given.
    pub expected: Option<Value>,
    pub baseline: Option<Baseline>,
    pub checks: Vec<CheckSpec>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Option<String>,
    request: Value,
    expected: Option<Value>,
    #[serde(default)]
    checks: Vec<CheckSpec>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    path: Option<String>,
    baseline: Option<Baseline>,
}

/// A line that could not be read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What a corpus file contained.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub header: Header,
    pub items: Vec<Item>,
    /// Lines that were not read (the caller skips them, or rejects the file with `--strict`).
    pub errors: Vec<LineError>,
}

/// A whole-file problem: nothing can be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error("line {line}: corpus format version {found} is not supported by this shadowtap (it reads version {FORMAT_VERSION}); upgrade shadowtap or re-export the corpus")]
    Version { line: usize, found: u32 },
    #[error("line {line}: invalid header: {message}")]
    Header { line: usize, message: String },
}

/// Read a corpus file.
pub fn parse(text: &str) -> Result<Parsed, FormatError> {
    let mut parsed = Parsed::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut first = true;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                parsed.errors.push(LineError {
                    line,
                    message: format!("not valid JSON: {e}"),
                });
                first = false;
                continue;
            }
        };
        if value.get("shadowtap_corpus").is_some() {
            if !first {
                parsed.errors.push(LineError {
                    line,
                    message: "a header line may only come first".into(),
                });
                continue;
            }
            first = false;
            parsed.header = read_header(value, line)?;
            continue;
        }
        first = false;
        match read_item(value, line) {
            Ok(item) => match seen.get(&item.key) {
                Some(earlier) => parsed.errors.push(LineError {
                    line,
                    message: format!(
                        "duplicate item id {:?} (first on line {earlier}); give items distinct \"id\"s",
                        item.key
                    ),
                }),
                None => {
                    seen.insert(item.key.clone(), line);
                    parsed.items.push(item);
                }
            },
            Err(message) => parsed.errors.push(LineError { line, message }),
        }
    }
    Ok(parsed)
}

fn read_header(value: Value, line: usize) -> Result<Header, FormatError> {
    if let Some(found) = value.get("shadowtap_corpus").and_then(Value::as_u64) {
        if found != u64::from(FORMAT_VERSION) {
            return Err(FormatError::Version {
                line,
                found: found.try_into().unwrap_or(u32::MAX),
            });
        }
    }
    let header: Header = serde_json::from_value(value).map_err(|e| FormatError::Header {
        line,
        message: e.to_string(),
    })?;
    for c in &header.checks {
        checks::validate(c).map_err(|message| FormatError::Header { line, message })?;
    }
    Ok(header)
}

fn read_item(value: Value, line: usize) -> Result<Item, String> {
    let Value::Object(obj) = value else {
        return Err("an item must be a JSON object".into());
    };
    let raw: RawItem = if !obj.contains_key("request") && obj.contains_key("messages") {
        RawItem {
            id: None,
            request: Value::Object(obj),
            expected: None,
            checks: Vec::new(),
            tags: BTreeMap::new(),
            path: None,
            baseline: None,
        }
    } else {
        serde_json::from_value(Value::Object(obj)).map_err(|e| e.to_string())?
    };
    let messages = raw.request.get("messages").and_then(Value::as_array);
    if !raw.request.is_object() || messages.is_none_or(Vec::is_empty) {
        return Err(
            "`request` must be a chat request: an object with a non-empty \"messages\" array"
                .into(),
        );
    }
    let path = raw.path.unwrap_or_else(|| DEFAULT_PATH.to_owned());
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must start with /"));
    }
    let key = match raw.id {
        Some(id) => {
            let id = id.trim().to_owned();
            if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
                return Err("\"id\" must be 1-200 printable characters".into());
            }
            id
        }
        None => format!("req-{}", &content_hash(&raw.request)[..12]),
    };
    let expected = raw.expected.map(expected_completion).transpose()?;
    for c in &raw.checks {
        checks::validate(c)?;
    }
    Ok(Item {
        key,
        line,
        path,
        request: raw.request,
        expected,
        baseline: raw.baseline,
        checks: raw.checks,
        tags: raw.tags,
    })
}

/// `expected` is a chat.completion, or just the answer text.
fn expected_completion(v: Value) -> Result<Value, String> {
    match v {
        Value::String(text) => Ok(json!({
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
        })),
        v if v.get("choices").is_some_and(Value::is_array) => Ok(v),
        _ => Err(
            "\"expected\" must be a chat.completion object (with \"choices\") or the answer text"
                .into(),
        ),
    }
}

/// Hex sha256 of a JSON value's canonical text (object keys sorted, no whitespace).
pub fn content_hash(v: &Value) -> String {
    let mut text = String::new();
    canonical(v, &mut text);
    hex_sha256(text.as_bytes())
}

/// Hex sha256 of bytes.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The header line of an exported corpus.
pub fn header_line(header: &Header) -> String {
    serde_json::to_string(header).expect("a header serializes")
}

/// One item as a line of the format (what `parse` reads back to the same item).
pub fn item_line(item: &Item) -> String {
    let mut v = json!({"id": item.key, "request": item.request});
    if let Some(e) = &item.expected {
        v["expected"] = e.clone();
    }
    if item.path != DEFAULT_PATH {
        v["path"] = json!(item.path);
    }
    if let Some(b) = item
        .baseline
        .as_ref()
        .filter(|b| **b != Baseline::default())
    {
        v["baseline"] = json!(b);
    }
    if !item.checks.is_empty() {
        v["checks"] = json!(item.checks);
    }
    if !item.tags.is_empty() {
        v["tags"] = json!(item.tags);
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"shadowtap_corpus": 1, "name": "golden", "checks": [{"type": "not_contains", "value": "sorry", "ignore_case": true}]}
{"id": "paris", "request": {"model": "m", "messages": [{"role": "user", "content": "Capital of France?"}]}, "expected": "Paris.", "checks": [{"type": "contains", "value": "Paris"}], "tags": {"team": "geo"}}

{"model": "m", "messages": [{"role": "user", "content": "bare"}]}
{"id": "broken", "request": {"model": "m", "messages": [
not json at all
{"id": "typo", "requets": {}}
{"id": "nomsg", "request": {"model": "m"}}
{"id": "paris", "request": {"model": "m", "messages": [{"role": "user", "content": "again"}]}}
{"id": "badcheck", "request": {"messages": [{"role": "user", "content": "x"}]}, "checks": [{"type": "regex", "pattern": "("}]}
{"id": "badexp", "request": {"messages": [{"role": "user", "content": "x"}]}, "expected": 42}
"#;

    #[test]
    fn reads_items_and_reports_bad_lines_with_numbers() {
        let p = parse(FILE).unwrap();
        assert_eq!(p.header.name.as_deref(), Some("golden"));
        assert_eq!(p.header.checks.len(), 1);
        let keys: Vec<&str> = p.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], "paris");
        assert!(
            keys[1].starts_with("req-") && keys[1].len() == 16,
            "{}",
            keys[1]
        );
        assert_eq!(p.items[0].line, 2);
        assert_eq!(p.items[1].line, 4);
        assert_eq!(
            p.items[0].expected.as_ref().unwrap()["choices"][0]["message"]["content"],
            "Paris."
        );
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 6, 7, 8, 9, 10, 11]);
        let msg = |line| {
            p.errors
                .iter()
                .find(|e| e.line == line)
                .unwrap()
                .message
                .clone()
        };
        assert!(msg(5).contains("not valid JSON"), "{}", msg(5));
        assert!(msg(7).contains("unknown field `requets`"), "{}", msg(7));
        assert!(msg(8).contains("messages"), "{}", msg(8));
        assert!(
            msg(9).contains("duplicate item id \"paris\" (first on line 2)"),
            "{}",
            msg(9)
        );
        assert!(msg(10).contains("invalid regex"), "{}", msg(10));
        assert!(msg(11).contains("\"expected\""), "{}", msg(11));
    }

    #[test]
    fn versions_and_headers() {
        let err = parse("{\"shadowtap_corpus\": 2}\n").unwrap_err();
        assert!(matches!(err, FormatError::Version { line: 1, found: 2 }));
        assert!(err.to_string().contains("upgrade shadowtap"));
        assert!(matches!(
            parse("{\"shadowtap_corpus\": 1, \"nmae\": \"x\"}").unwrap_err(),
            FormatError::Header { line: 1, .. }
        ));
        let late = "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n{\"shadowtap_corpus\": 1}\n";
        let p = parse(late).unwrap();
        assert_eq!((p.items.len(), p.errors[0].line), (1, 2));
        let p = parse("").unwrap();
        assert!(p.items.is_empty() && p.errors.is_empty());
        assert_eq!(p.header.shadowtap_corpus, FORMAT_VERSION);
    }

    #[test]
    fn lines_round_trip() {
        let p = parse(FILE).unwrap();
        let mut text = header_line(&p.header);
        for item in &p.items {
            text.push('\n');
            text.push_str(&item_line(item));
        }
        let again = parse(&text).unwrap();
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        assert_eq!(again.header, p.header);
        for (a, b) in again.items.iter().zip(&p.items) {
            assert_eq!(
                (&a.key, &a.request, &a.expected, &a.checks, &a.tags),
                (&b.key, &b.request, &b.expected, &b.checks, &b.tags)
            );
        }
    }

    #[test]
    fn keys_are_stable_content_hashes() {
        let a =
            parse("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"model\": \"m\"}")
                .unwrap();
        let b =
            parse("{\"model\": \"m\", \"messages\": [{\"content\": \"a\", \"role\": \"user\"}]}")
                .unwrap();
        assert_eq!(a.items[0].key, b.items[0].key);
    }
}
