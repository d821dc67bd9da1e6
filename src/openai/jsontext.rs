//! JSON bodies kept as text on the capture path: checked exactly as a `serde_json::Value` parse
//! would check them, their top-level `model` read, and their string values rewritten in place —
//! without building a tree of the body (allocations for every string, array and object, then
//! serialising it all again).
//!
//! Pure and synchronous; used by the capture thread (bodies) and the stream reassembler (chunks).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// `bytes` as text, invalid UTF-8 replaced by U+FFFD: `String::from_utf8_lossy`, but valid text
/// (nearly all of it) goes through the standard library's vectorised check instead of the lossy
/// decoder's byte-at-a-time walk, and stays borrowed.
pub fn utf8_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// What [`check`] learned about a JSON body.
#[derive(Debug, PartialEq)]
pub struct Checked<'a> {
    /// The top-level object's `model`, when it is a string (the last one if repeated, as a
    /// `serde_json::Value` keeps the last).
    pub model: Option<Cow<'a, str>>,
}

/// `Some` when `bytes` is one JSON value (surrounding whitespace allowed) that
/// `serde_json::from_slice::<Value>` accepts: same recursion limit, number range and UTF-8 rules,
/// because it is the same parser driven through `deserialize_any`, only nothing is kept.
pub fn check(bytes: &[u8]) -> Option<Checked<'_>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let model = de.deserialize_any(Top).ok()?;
    de.end().ok()?;
    Some(Checked { model })
}

/// Visits any value and keeps nothing.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// `visit_*` for booleans, numbers and `null`, answering `None` (for visitors of `Option<_>`).
macro_rules! scalars_are_none {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// The top-level value: like [`Skip`], but an object's `model` string is kept.
struct Top;

impl<'de> Visitor<'de> for Top {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    scalars_are_none!();
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut model = None;
        while let Some(is_model) = map.next_key_seed(IsModel)? {
            if is_model {
                model = map.next_value_seed(ModelValue)?;
            } else {
                map.next_value_seed(Skip)?;
            }
        }
        Ok(model)
    }
}

/// An object key: is it `model`?
struct IsModel;

impl<'de> DeserializeSeed<'de> for IsModel {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsModel {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == "model")
    }
}

/// The value of `model`: the string, or `None` for anything else (still checked).
struct ModelValue;

impl<'de> DeserializeSeed<'de> for ModelValue {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ModelValue {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    scalars_are_none!();
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip.visit_map(map).map(|()| None)
    }
}

/// Rewrite the string values of a JSON text that [`check`] accepted; object keys are left alone.
/// `f` gets each value decoded (escapes resolved) and returns its replacement, or `None` to keep
/// it. Returns `None` when nothing was replaced (the common case: no copy at all); otherwise the
/// new text, in which only the replaced strings differ (re-escaped).
pub fn map_string_values(json: &str, mut f: impl FnMut(&str) -> Option<String>) -> Option<String> {
    let b = json.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `json` before this offset are already in `out`.
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'"', &b[i..]) {
        let start = i + offset;
        // The closing quote: the next `"` not escaped by a backslash.
        let mut j = start + 1;
        let mut escaped = false;
        let end = loop {
            let Some(k) = b
                .get(j..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
            else {
                // An unterminated string (not a checked text): leave the rest as it is.
                break None;
            };
            if b[j + k] == b'\\' {
                escaped = true;
                j += k + 2;
            } else {
                break Some(j + k + 1);
            }
        };
        let Some(end) = end else { break };
        i = end;
        let is_key = b[end..]
            .iter()
            .find(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
            == Some(&b':');
        if is_key {
            continue;
        }
        let token = &json[start..end];
        let value: Cow<'_, str> = if escaped {
            match serde_json::from_str::<String>(token) {
                Ok(s) => Cow::Owned(s),
                Err(_) => continue,
            }
        } else {
            Cow::Borrowed(&token[1..token.len() - 1])
        };
        if let Some(replacement) = f(&value) {
            let o = out.get_or_insert_with(|| String::with_capacity(json.len() + 16));
            o.push_str(&json[copied..start]);
            o.push_str(&serde_json::Value::String(replacement).to_string());
            copied = end;
        }
    }
    out.map(|mut o| {
        o.push_str(&json[copied..]);
        o
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// `check` accepts exactly what a `Value` parse accepts, and reads `model` like `Value` does.
    #[test]
    fn check_agrees_with_a_value_parse() {
        let deep_ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        let too_deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        let cases: Vec<&[u8]> = vec![
            br#"{"model":"gpt-4o","messages":[]}"#,
            br#"  {"model" : "gpt-4o"}  "#,
            br#"{"model":"a","model":"b"}"#,
            br#"{"model":"a","model":3}"#,
            br#"{"model":3}"#,
            br#"{"model":"g\u00e9\n"}"#,
            br#"{"nested":{"model":"x"}}"#,
            br#"["model"]"#,
            b"42",
            b"\"text\"",
            b"null",
            b"1e999",
            br#"{"n":-1e400}"#,
            br#"{"n":1e308}"#,
            b"{\"s\":\"\xff\"}",
            b"{\"s\":\"\\ud800\"}",
            br#"{"a":1,}"#,
            br#"{"a":1} {"b":2}"#,
            b"",
            b"   ",
            b"{not json",
            deep_ok.as_bytes(),
            too_deep.as_bytes(),
        ];
        for bytes in cases {
            let by_value = serde_json::from_slice::<Value>(bytes).ok();
            let checked = check(bytes);
            assert_eq!(
                checked.is_some(),
                by_value.is_some(),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
            if let (Some(c), Some(v)) = (checked, by_value) {
                assert_eq!(
                    c.model.as_deref(),
                    v.get("model").and_then(Value::as_str),
                    "{:?}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }

    #[test]
    fn utf8_lossy_is_from_utf8_lossy() {
        for bytes in [
            &b"plain"[..],
            "gr\u{fc}\u{df}e".as_bytes(),
            b"bad \xff\xfe end",
            b"cut \xe2\x82",
            b"",
        ] {
            let ours = utf8_lossy(bytes);
            assert_eq!(ours, String::from_utf8_lossy(bytes));
            assert_eq!(
                matches!(ours, Cow::Borrowed(_)),
                std::str::from_utf8(bytes).is_ok()
            );
        }
    }

    fn upper_if_secret(s: &str) -> Option<String> {
        s.contains("secret").then(|| s.to_uppercase())
    }

    /// Rewriting the text gives the same value as rewriting the parsed tree.
    #[test]
    fn rewrites_values_like_a_tree_walk_and_leaves_keys() {
        fn tree(v: &mut Value) {
            match v {
                Value::String(s) => {
                    if let Some(r) = upper_if_secret(s) {
                        *s = r;
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(tree),
                Value::Object(m) => m.values_mut().for_each(tree),
                _ => {}
            }
        }
        let cases = [
            r#"{"secret":"a secret","other":"plain"}"#,
            r#"{"k" : "secret \"quoted\" \\ back\\slash", "n": [1, "secret", {"secret": null}]}"#,
            r#"["secret\u00e9\n", "x", "", "secret"]"#,
            r#""just a secret""#,
            r#"{"a":"\\","b":"secret"}"#,
            r#"{"emoji":"secret 😀 \ud83d\ude00"}"#,
            "{\n  \"pretty\": \"secret\"\n}\n",
            r#"{"nothing":"here","n":1.5e3,"t":true}"#,
        ];
        for text in cases {
            let mut expected: Value = serde_json::from_str(text).unwrap();
            tree(&mut expected);
            let rewritten = map_string_values(text, upper_if_secret);
            let got: Value = serde_json::from_str(rewritten.as_deref().unwrap_or(text)).unwrap();
            assert_eq!(got, expected, "{text}");
        }
        assert_eq!(
            map_string_values(r#"{"a":"plain"}"#, upper_if_secret),
            None,
            "no copy when nothing changes"
        );
        assert_eq!(
            map_string_values(r#"{"a" : "secret", "b": 1}"#, upper_if_secret).as_deref(),
            Some(r#"{"a" : "SECRET", "b": 1}"#),
            "only the replaced string changes"
        );
    }

    #[test]
    fn replacements_are_escaped() {
        let out = map_string_values(r#"{"a":"x"}"#, |_| Some("say \"hi\"\n".into())).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            json!({"a": "say \"hi\"\n"})
        );
    }

    #[test]
    fn text_that_is_not_json_never_panics() {
        for text in [
            "\"",
            "\"\\",
            "\"abc\\\"",
            "\"é\\",
            "\\\"",
            "\"a\":",
            "x\"é\"",
            "\"\"\"",
        ] {
            let _ = map_string_values(text, |s| Some(format!("<{s}>")));
        }
    }

    #[test]
    fn values_are_visited_in_document_order() {
        let mut seen = Vec::new();
        map_string_values(r#"{"z":"1","a":["2",{"m":"3"}],"b":"4"}"#, |s| {
            seen.push(s.to_owned());
            None
        });
        assert_eq!(seen, ["1", "2", "3", "4"]);
    }
}
