//! OpenAI-style error bodies: building our own, and classifying a provider's.

use serde_json::{json, Value};

use crate::domain::ErrorClass;

/// An OpenAI-style error body, as the official SDKs expect to parse it.
pub fn error_body(message: &str, kind: &str, code: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// Classify a provider's non-2xx answer from its status and body (OpenAI style and common variants).
pub fn classify_error(status: u16, body: Option<&Value>) -> ErrorClass {
    let text = body
        .map(error_text)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mentions = |needles: &[&str]| needles.iter().any(|n| text.contains(n));

    if mentions(&[
        "context_length_exceeded",
        "maximum context length",
        "context window",
        "too many tokens",
    ]) {
        return ErrorClass::ContextLength;
    }
    if mentions(&[
        "content_filter",
        "content_policy",
        "content management policy",
        "safety system",
    ]) {
        return ErrorClass::ContentFilter;
    }
    if mentions(&[
        "unsupported_parameter",
        "unsupported parameter",
        "unsupported_value",
        "not supported",
        "unrecognized request argument",
        "extra inputs are not permitted",
    ]) {
        return ErrorClass::UnsupportedParameter;
    }
    match status {
        429 => ErrorClass::RateLimited,
        401 | 403 => ErrorClass::Auth,
        408 | 504 => ErrorClass::Timeout,
        400 | 404 | 409 | 413 | 415 | 422 => ErrorClass::InvalidRequest,
        s if s >= 500 => ErrorClass::ServerError,
        _ => ErrorClass::InvalidRequest,
    }
}

/// Everything in an error body that may say what went wrong: code, type and message.
fn error_text(body: &Value) -> String {
    let err = body.get("error").unwrap_or(body);
    let mut parts = Vec::new();
    if let Some(s) = err.as_str() {
        parts.push(s.to_owned());
    }
    for key in ["code", "type", "message", "param"] {
        if let Some(s) = err.get(key).and_then(Value::as_str) {
            parts.push(s.to_owned());
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_status_and_body() {
        let cases = [
            (
                429,
                json!({"error": {"message": "Rate limit reached"}}),
                ErrorClass::RateLimited,
            ),
            (
                401,
                json!({"error": {"message": "Incorrect API key"}}),
                ErrorClass::Auth,
            ),
            (
                400,
                json!({"error": {"code": "context_length_exceeded", "message": "..."}}),
                ErrorClass::ContextLength,
            ),
            (
                400,
                json!({"error": {"message": "Unsupported parameter: 'logit_bias'", "code": "unsupported_parameter"}}),
                ErrorClass::UnsupportedParameter,
            ),
            (
                400,
                json!({"error": {"code": "content_filter", "message": "filtered"}}),
                ErrorClass::ContentFilter,
            ),
            (
                400,
                json!({"error": {"message": "bad"}}),
                ErrorClass::InvalidRequest,
            ),
            (503, json!({"error": "overloaded"}), ErrorClass::ServerError),
            (504, json!({}), ErrorClass::Timeout),
            (
                422,
                json!({"detail": "Extra inputs are not permitted"}),
                ErrorClass::InvalidRequest,
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(classify_error(status, Some(&body)), want, "{status} {body}");
        }
    }

    #[test]
    fn error_body_has_openai_shape() {
        let b = error_body("upstream unreachable", "upstream_error", "bad_gateway");
        assert_eq!(b["error"]["code"], "bad_gateway");
        assert!(b["error"]["param"].is_null());
    }
}
