//! LLM-as-judge (optional, off by default): a configured provider scores the candidate's answer
//! against the reference on a 1–5 rubric with a reason. Its JSON output is validated; calls go
//! through the replay client (pacing, concurrency, retries) and are cached by content hash, so
//! re-running a corpus never pays twice for the same judgement. Where the judge and the embedding
//! similarity disagree, the item is flagged for a human.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::format::hex_sha256;
use crate::config::{CandidateConfig, ConfigError, EnvLookup, JudgeConfig};
use crate::domain::{Exchange, ExchangeId};
use crate::http_client::HttpClient;
use crate::openai::ChatView;
use crate::replay::{self, Candidate, Limits};
use crate::store::Store;
use crate::telemetry::Metrics;

/// The built-in rubric.
pub const RUBRIC: &str = "You compare a CANDIDATE answer with a REFERENCE answer to the same request. \
Score how well the candidate could replace the reference for the user, from 1 to 5:\n\
5 = equivalent: same facts, same decisions (tool calls, arguments, structure), wording may differ;\n\
4 = minor differences a user would accept;\n\
3 = noticeably worse or different, but still usable;\n\
2 = wrong or missing important parts;\n\
1 = unusable: wrong, refused, truncated, broken format, or a different action.\n\
Answer with a JSON object only: {\"score\": <integer 1-5>, \"reason\": \"<one sentence>\"}.";

/// A judgement stored with a run item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JudgeResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why there is no score (the judge failed or answered outside the format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The judge's score (scaled to 0..=1) and the semantic similarity differ by more than allowed.
    #[serde(default)]
    pub disagrees: bool,
    /// Taken from the cache instead of calling the judge.
    #[serde(default)]
    pub cached: bool,
}

/// An answer as the judge reads it: its text, tool calls and finish reason.
pub fn render_answer(completion: &Value) -> String {
    let Some(choice) = ChatView::parse(completion).and_then(|v| v.choices.into_iter().next())
    else {
        return "(no answer)".into();
    };
    let mut out = choice.content.unwrap_or_default();
    if let Some(r) = choice.refusal.filter(|r| !r.is_empty()) {
        out.push_str(&format!("\n[refusal] {r}"));
    }
    for call in &choice.tool_calls {
        out.push_str(&format!("\n[tool call] {}({})", call.name, call.arguments));
    }
    if let Some(f) = choice.finish_reason.filter(|f| f != "stop") {
        out.push_str(&format!("\n[finish_reason: {f}]"));
    }
    out.trim().to_owned()
}

/// The judge's chat request.
pub fn prompt(
    model: &str,
    rubric: Option<&str>,
    request: &Value,
    reference: &str,
    candidate: &str,
) -> Value {
    let mut system = RUBRIC.to_owned();
    if let Some(extra) = rubric.filter(|r| !r.trim().is_empty()) {
        system.push_str("\nAdditional instructions: ");
        system.push_str(extra);
    }
    let conversation = request
        .get("messages")
        .map(Value::to_string)
        .unwrap_or_default();
    let user = format!("REQUEST (chat messages as JSON):\n{conversation}\n\nREFERENCE:\n{reference}\n\nCANDIDATE:\n{candidate}");
    json!({
        "model": model,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]
    })
}

/// Read the judge's answer: a JSON object with an integer `score` in 1..=5 and a non-empty `reason`.
pub fn parse_verdict(completion: &Value) -> Result<(u8, String), String> {
    let text = crate::diff::answer_text(completion).ok_or("the judge gave no text answer")?;
    let trimmed = text
        .trim()
        .trim_start_matches("```json")
        .trim_matches('`')
        .trim();
    let v: Value = serde_json::from_str(trimmed)
        .map_err(|e| format!("the judge's answer is not JSON ({e}): {}", clip(&text)))?;
    let score = v
        .get("score")
        .and_then(Value::as_u64)
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| format!("the judge's score must be an integer 1-5: {}", clip(&text)))?;
    let reason = v
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| format!("the judge gave no reason: {}", clip(&text)))?;
    Ok((score as u8, reason.to_owned()))
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Whether the judge's score and the semantic similarity tell different stories.
pub fn disagrees(score: u8, semantic: Option<f64>, threshold: f64) -> bool {
    let scaled = f64::from(score.clamp(1, 5) - 1) / 4.0;
    semantic.is_some_and(|s| (scaled - s).abs() > threshold)
}

/// The cache key of one judgement.
pub fn cache_key(
    model: &str,
    rubric: Option<&str>,
    request: &Value,
    reference: &str,
    candidate: &str,
) -> String {
    let material = json!([
        model,
        rubric,
        super::format::content_hash(request),
        reference,
        candidate
    ]);
    hex_sha256(material.to_string().as_bytes())
}

/// A ready-to-call judge.
pub struct Judge {
    candidate: Candidate,
    config: JudgeConfig,
    http: HttpClient,
    metrics: Metrics,
}

impl Judge {
    /// The judge described by `[judge]` (its API key read from the named variable).
    pub fn new(
        config: &JudgeConfig,
        env: &dyn EnvLookup,
        http: HttpClient,
        metrics: Metrics,
    ) -> Result<Self, ConfigError> {
        let url = config.base_url.as_deref().ok_or_else(|| {
            ConfigError::Invalid("the judge needs judge.base_url (and judge.model, judge.api_key_env) in the [judge] section".into())
        })?;
        let mut c = CandidateConfig::new("judge", url);
        c.api_key_env = config.api_key_env.clone();
        c.model = Some(config.model.clone());
        c.rpm = config.rpm;
        c.tpm = config.tpm;
        c.concurrency = config.concurrency;
        c.max_attempts = config.max_attempts;
        let limits = Limits {
            timeout: Duration::from_secs_f64(config.timeout_secs),
            max_response_bytes: 1024 * 1024,
        };
        Ok(Self {
            candidate: Candidate::from_config(&c, env, &limits)?,
            config: config.clone(),
            http,
            metrics,
        })
    }

    /// Score `candidate` against `reference` (both chat.completions) for `request`. Never fails:
    /// problems are recorded in the result.
    pub async fn judge(
        &self,
        store: &Store,
        request: &Value,
        reference: &Value,
        candidate: &Value,
        semantic: Option<f64>,
    ) -> JudgeResult {
        let (reference, answer) = (render_answer(reference), render_answer(candidate));
        let rubric = self.config.rubric.as_deref();
        let key = cache_key(&self.config.model, rubric, request, &reference, &answer);
        let finish = |score: u8, reason: String, cached: bool| JudgeResult {
            score: Some(score),
            reason: Some(reason),
            error: None,
            disagrees: disagrees(score, semantic, self.config.disagreement),
            cached,
        };
        match store.judge_cached(&key).await {
            Ok(Some((score, reason))) => return finish(score, reason, true),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "judge cache unavailable"),
        }
        let body = prompt(&self.config.model, rubric, request, &reference, &answer);
        let ex = synthetic(&body);
        let result =
            replay::replay_request(&self.http, &self.metrics, &self.candidate, &ex, &body, None)
                .await;
        if let Some(class) = result.error_class {
            let message = result.error_message.unwrap_or_default();
            return JudgeResult {
                error: Some(format!("judge call failed ({class}): {message}")),
                ..JudgeResult::default()
            };
        }
        let answer = result
            .response
            .as_ref()
            .and_then(|b| b.json())
            .cloned()
            .unwrap_or_default();
        match parse_verdict(&answer) {
            Ok((score, reason)) => {
                if let Err(e) = store.store_judgement(&key, score, &reason).await {
                    tracing::warn!(error = %e, "cannot cache the judgement");
                }
                finish(score, reason, false)
            }
            Err(error) => JudgeResult {
                error: Some(error),
                ..JudgeResult::default()
            },
        }
    }
}

/// A stand-in exchange for a request shadowtap makes itself (the judge's).
fn synthetic(body: &Value) -> Exchange {
    super::providers::exchange_for(
        ExchangeId::new(),
        super::format::DEFAULT_PATH,
        body,
        None,
        Default::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Value {
        json!({"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
    }

    #[test]
    fn verdicts_are_validated() {
        assert_eq!(
            parse_verdict(&answer(r#"{"score": 4, "reason": "close"}"#)),
            Ok((4, "close".into()))
        );
        assert_eq!(
            parse_verdict(&answer(
                "```json\n{\"score\": 2, \"reason\": \"wrong city\"}\n```"
            ))
            .unwrap()
            .0,
            2
        );
        for bad in [
            r#"{"score": 6, "reason": "x"}"#,
            r#"{"score": "5", "reason": "x"}"#,
            r#"{"score": 3}"#,
            "5/5 great",
            r#"{"score": 3.5, "reason": "x"}"#,
        ] {
            assert!(parse_verdict(&answer(bad)).is_err(), "{bad}");
        }
        assert!(parse_verdict(&json!({"error": {}})).is_err());
    }

    #[test]
    fn answers_render_tool_calls_and_truncation() {
        let v = json!({"choices": [{"message": {"content": null, "tool_calls": [{"type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}, "finish_reason": "tool_calls"}]});
        assert_eq!(
            render_answer(&v),
            "[tool call] get_weather({\"city\":\"Paris\"})\n[finish_reason: tool_calls]"
        );
        assert_eq!(render_answer(&json!({})), "(no answer)");
    }

    #[test]
    fn disagreement_and_cache_keys() {
        assert!(disagrees(1, Some(0.95), 0.4));
        assert!(!disagrees(5, Some(0.9), 0.4));
        assert!(!disagrees(1, None, 0.4));
        let req = json!({"messages": [{"role": "user", "content": "hi"}]});
        let k = cache_key("m", None, &req, "a", "b");
        assert_eq!(k, cache_key("m", None, &req, "a", "b"));
        assert_ne!(k, cache_key("m", Some("be strict"), &req, "a", "b"));
        assert_ne!(k, cache_key("m", None, &req, "a", "c"));
        let p = prompt("m", Some("be strict"), &req, "ref", "cand");
        assert_eq!(p["response_format"]["type"], "json_object");
        assert!(p["messages"][0]["content"]
            .as_str()
            .unwrap()
            .ends_with("be strict"));
    }
}
