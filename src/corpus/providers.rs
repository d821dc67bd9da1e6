//! Who answers in a run: the candidate and the baseline (expected answers, production, or
//! another candidate), resolved from the config; and the exchange a corpus item is stored as.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::run::RunError;
use crate::config::{CandidateConfig, Config, EnvLookup};
use crate::domain::{BodyContent, CapturedBody, Exchange, ExchangeId};
use crate::openai::ChatView;
use crate::replay::{Candidate, Limits};

/// What the candidate's answers are compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    /// The item's expected answer when it has one, else production's (replayed now).
    Auto,
    /// Only expected answers (every item needs one).
    Expected,
    /// Production's answer, replayed now to `control.base_url` (default `tap.upstream`).
    Production,
    /// Another configured candidate's answer, replayed now.
    Candidate(String),
}

impl Baseline {
    /// `auto`, `expected`, `production`, or a candidate name.
    pub fn parse(s: &str) -> Self {
        match s {
            "auto" => Self::Auto,
            "expected" => Self::Expected,
            "production" => Self::Production,
            other => Self::Candidate(other.to_owned()),
        }
    }

    /// The name stored with the run.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Auto => "auto",
            Self::Expected => "expected",
            Self::Production => "production",
            Self::Candidate(name) => name,
        }
    }
}

fn limits(config: &Config) -> Limits {
    Limits {
        timeout: Duration::from_secs_f64(config.worker.request_timeout_secs),
        max_response_bytes: config.worker.max_response_bytes,
    }
}

/// The configured candidate `name`.
pub fn candidate(config: &Config, env: &dyn EnvLookup, name: &str) -> Result<Candidate, RunError> {
    let c = config.candidates.iter().find(|c| c.name == name).ok_or_else(|| {
        let known: Vec<&str> = config.candidates.iter().map(|c| c.name.as_str()).collect();
        RunError::Usage(format!(
            "no candidate named {name:?} is configured (configured: {}); add it to [[candidates]] or pass --candidate {name}=BASE_URL",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        ))
    })?;
    Ok(Candidate::from_config(c, env, &limits(config))?)
}

/// The production provider as a baseline: `control.base_url` (default `tap.upstream`) with the
/// `[control]` key, pacing and prices.
pub fn production(config: &Config, env: &dyn EnvLookup) -> Result<Candidate, RunError> {
    let ctl = &config.control;
    let mut c = CandidateConfig::new(
        "production",
        ctl.base_url.as_deref().unwrap_or(&config.tap.upstream),
    );
    c.api_key_env = ctl.api_key_env.clone();
    c.rpm = ctl.rpm;
    c.tpm = ctl.tpm;
    c.concurrency = ctl.concurrency.max(1);
    c.input_price_per_mtok = ctl.input_price_per_mtok;
    c.output_price_per_mtok = ctl.output_price_per_mtok;
    Ok(Candidate::from_config(&c, env, &limits(config))?)
}

/// An exchange as shadowtap stores a corpus item: the request and the baseline's answer.
pub fn exchange_for(
    id: ExchangeId,
    path: &str,
    request: &Value,
    response: Option<&Value>,
    tags: BTreeMap<String, String>,
) -> Exchange {
    let body = |v: &Value| CapturedBody {
        content: BodyContent::Json(v.clone()),
        truncated: false,
        size: v.to_string().len() as u64,
    };
    Exchange {
        id,
        captured_at: chrono::Utc::now(),
        method: "POST".into(),
        path: path.to_owned(),
        model: request
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_owned),
        tags,
        request_headers: BTreeMap::new(),
        request: body(request),
        response: response.map_or(
            CapturedBody {
                content: BodyContent::Empty,
                truncated: false,
                size: 0,
            },
            body,
        ),
        status: 200,
        latency_ms: 0.0,
        ttfb_ms: None,
        streamed: false,
        stream: None,
        incomplete: false,
    }
}

/// Cost of an answer from its reported usage and prices (USD per million input, output tokens).
pub fn usage_cost(answer: &Value, (input, output): (f64, f64)) -> Option<f64> {
    let u = ChatView::parse(answer)?;
    let cost = (u.prompt_tokens? as f64 * input + u.completion_tokens? as f64 * output) / 1e6;
    (input > 0.0 || output > 0.0).then_some(cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn baselines_parse() {
        for s in ["auto", "expected", "production", "groq"] {
            assert_eq!(Baseline::parse(s).as_str(), s);
        }
        assert_eq!(Baseline::parse("groq"), Baseline::Candidate("groq".into()));
    }

    #[test]
    fn exchanges_carry_the_request_and_the_reference() {
        let req = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
        let answer = json!({"choices": []});
        let ex = exchange_for(
            ExchangeId::new(),
            "/v1/chat/completions",
            &req,
            Some(&answer),
            BTreeMap::new(),
        );
        assert_eq!(ex.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(ex.response.json(), Some(&answer));
        assert!(
            exchange_for(ExchangeId::new(), "/x", &req, None, BTreeMap::new())
                .response
                .json()
                .is_none()
        );
    }

    #[test]
    fn expected_answers_are_priced_from_usage() {
        let a = json!({"choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 500}});
        assert_eq!(usage_cost(&a, (2.0, 10.0)), Some(0.007));
        assert_eq!(usage_cost(&a, (0.0, 0.0)), None);
        assert_eq!(usage_cost(&json!({"choices": []}), (2.0, 10.0)), None);
    }
}
