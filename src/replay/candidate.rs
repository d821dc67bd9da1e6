//! A candidate as the worker uses it: request adaptation (model map, parameter overrides),
//! pacing, concurrency, retry policy, prices and the daily budget.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::pacing::RateLimiter;
use super::retry::RetryPolicy;
use crate::config::{CandidateConfig, ConfigError, ControlConfig, EnvLookup, Secret, StreamMode};
use crate::domain::CandidateName;
use crate::tap::sample::{bucket, glob_match};

/// Name of the control replay (production replayed to itself).
pub const CONTROL: &str = "control";

/// Spend per UTC day against an optional cap.
#[derive(Debug)]
pub struct Budget {
    cap_usd: f64,
    state: Mutex<(NaiveDate, f64)>,
}

impl Budget {
    /// A budget of `cap_usd` per day (0 = unlimited), starting with `spent_today`.
    pub fn new(cap_usd: f64, spent_today: f64, now: DateTime<Utc>) -> Self {
        Self {
            cap_usd,
            state: Mutex::new((now.date_naive(), spent_today)),
        }
    }

    /// True while today's spend is below the cap.
    pub fn allows(&self, now: DateTime<Utc>) -> bool {
        if self.cap_usd <= 0.0 {
            return true;
        }
        let mut s = self.state.lock().expect("budget lock");
        if s.0 != now.date_naive() {
            *s = (now.date_naive(), 0.0);
        }
        s.1 < self.cap_usd
    }

    /// Record spend; returns today's total.
    pub fn spend(&self, usd: f64, now: DateTime<Utc>) -> f64 {
        let mut s = self.state.lock().expect("budget lock");
        if s.0 != now.date_naive() {
            *s = (now.date_naive(), 0.0);
        }
        s.1 += usd;
        s.1
    }
}

/// A configured candidate, ready to replay to.
pub struct Candidate {
    pub name: CandidateName,
    pub base_url: String,
    pub(super) api_key: Option<Secret>,
    default_model: Option<String>,
    models: Vec<(String, String)>,
    params: serde_json::Map<String, Value>,
    drop_params: Vec<String>,
    pub(super) stream: StreamMode,
    share: f64,
    pub(super) timeout: Duration,
    pub(super) max_response_bytes: usize,
    pub(super) limiter: RateLimiter,
    pub(super) slots: Semaphore,
    pub(super) retry: RetryPolicy,
    input_price: f64,
    output_price: f64,
    pub(super) budget: Budget,
    pub(super) budget_cap: f64,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Limits shared by the constructor paths.
pub struct Limits {
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

impl Candidate {
    /// Resolve a candidate from config: validates the name and reads its API key variable.
    pub fn from_config(
        c: &CandidateConfig,
        env: &dyn EnvLookup,
        limits: &Limits,
    ) -> Result<Self, ConfigError> {
        let params = serde_json::to_value(&c.params)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        Ok(Self {
            name: CandidateName::parse(&c.name).map_err(ConfigError::Invalid)?,
            base_url: c.base_url.clone(),
            api_key: c.api_key(env)?,
            default_model: c.model.clone(),
            models: c
                .models
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            params,
            drop_params: c.drop_params.clone(),
            stream: c.stream,
            share: c.share,
            timeout: c
                .timeout_secs
                .map_or(limits.timeout, Duration::from_secs_f64),
            max_response_bytes: limits.max_response_bytes,
            limiter: RateLimiter::new(c.rpm, c.tpm),
            slots: Semaphore::new(c.concurrency),
            retry: RetryPolicy {
                max_attempts: c.max_attempts,
                ..RetryPolicy::default()
            },
            input_price: c.input_price_per_mtok,
            output_price: c.output_price_per_mtok,
            budget: Budget::new(c.daily_budget_usd, 0.0, Utc::now()),
            budget_cap: c.daily_budget_usd,
        })
    }

    /// The control replay: production's own provider, same model, same parameters.
    pub fn control(
        c: &ControlConfig,
        upstream: &str,
        env: &dyn EnvLookup,
        limits: &Limits,
    ) -> Result<Self, ConfigError> {
        let mut cfg = CandidateConfig::new(CONTROL, c.base_url.as_deref().unwrap_or(upstream));
        cfg.api_key_env = c.api_key_env.clone();
        cfg.share = c.share;
        cfg.rpm = c.rpm;
        cfg.tpm = c.tpm;
        cfg.concurrency = c.concurrency.max(1);
        cfg.daily_budget_usd = c.daily_budget_usd;
        cfg.input_price_per_mtok = c.input_price_per_mtok;
        cfg.output_price_per_mtok = c.output_price_per_mtok;
        Self::from_config(&cfg, env, limits)
    }

    /// Restore today's spend (from the database) at start-up.
    pub fn set_spent_today(&mut self, spent: f64) {
        self.budget = Budget::new(self.budget_cap, spent, Utc::now());
    }

    /// Whether this exchange falls in the candidate's share (sticky per exchange id).
    pub fn takes(&self, exchange_key: &str) -> bool {
        self.share >= 100.0 || bucket(exchange_key.as_bytes()) < self.share
    }

    /// The candidate model for a production model.
    pub fn map_model(&self, production: Option<&str>) -> Option<String> {
        let production = production.unwrap_or_default();
        self.models
            .iter()
            .find(|(pattern, _)| glob_match(pattern, production))
            .map(|(_, m)| m.clone())
            .or_else(|| self.default_model.clone())
    }

    /// The request body this candidate gets: model mapped, overrides applied, dropped params removed,
    /// streaming as decided.
    pub fn adapt_request(&self, original: &Value, stream: bool) -> Value {
        let mut body = original.clone();
        let Some(obj) = body.as_object_mut() else {
            return body;
        };
        if let Some(model) = self.map_model(original.get("model").and_then(Value::as_str)) {
            obj.insert("model".into(), Value::String(model));
        }
        for (k, v) in &self.params {
            obj.insert(k.clone(), v.clone());
        }
        for k in &self.drop_params {
            obj.remove(k);
        }
        if stream {
            obj.insert("stream".into(), Value::Bool(true));
            obj.insert(
                "stream_options".into(),
                serde_json::json!({"include_usage": true}),
            );
        } else {
            obj.remove("stream");
            obj.remove("stream_options");
        }
        body
    }

    /// Whether to stream the replay of an exchange that was (or was not) streamed.
    pub fn streams(&self, original_streamed: bool) -> bool {
        match self.stream {
            StreamMode::Auto => original_streamed,
            StreamMode::Always => true,
            StreamMode::Never => false,
        }
    }

    /// Cost in USD of the given usage.
    pub fn cost(&self, prompt_tokens: u32, completion_tokens: u32) -> f64 {
        (f64::from(prompt_tokens) * self.input_price
            + f64::from(completion_tokens) * self.output_price)
            / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn candidate(edit: impl FnOnce(&mut CandidateConfig)) -> Candidate {
        let mut c = CandidateConfig::new("c", "http://x");
        edit(&mut c);
        let limits = Limits {
            timeout: Duration::from_secs(1),
            max_response_bytes: 1024,
        };
        Candidate::from_config(&c, &std::collections::BTreeMap::new(), &limits).unwrap()
    }

    #[test]
    fn maps_models_overrides_and_drops_params() {
        let c = candidate(|c| {
            c.model = Some("llama-3.1-8b".into());
            c.models.insert("gpt-4o".into(), "llama-3.3-70b".into());
            c.models.insert("gpt-4.1*".into(), "qwen-72b".into());
            c.params
                .insert("temperature".into(), toml::Value::Float(0.0));
            c.drop_params = vec!["logit_bias".into(), "seed".into()];
        });
        let req = json!({"model": "gpt-4o", "temperature": 0.7, "seed": 1, "logit_bias": {"1": 2}, "stream": true,
                         "stream_options": {"include_usage": true}, "messages": []});
        assert_eq!(
            c.adapt_request(&req, false),
            json!({"model": "llama-3.3-70b", "temperature": 0.0, "messages": []})
        );
        assert_eq!(
            c.map_model(Some("gpt-4.1-mini")).as_deref(),
            Some("qwen-72b")
        );
        assert_eq!(c.map_model(Some("o3")).as_deref(), Some("llama-3.1-8b"));
        let streamed = c.adapt_request(&req, true);
        assert_eq!(streamed["stream"], true);
        assert_eq!(streamed["stream_options"]["include_usage"], true);
    }

    #[test]
    fn unmapped_models_stay() {
        let c = candidate(|_| {});
        assert_eq!(
            c.adapt_request(&json!({"model": "gpt-4o"}), false)["model"],
            "gpt-4o"
        );
    }

    #[test]
    fn share_is_sticky_and_costs_add_up() {
        let c = candidate(|c| {
            c.share = 30.0;
            c.input_price_per_mtok = 2.5;
            c.output_price_per_mtok = 10.0;
        });
        let taken = (0..1000).filter(|i| c.takes(&format!("ex-{i}"))).count();
        assert!((250..350).contains(&taken), "{taken}");
        assert_eq!(c.takes("ex-7"), c.takes("ex-7"));
        assert!((c.cost(1_000_000, 100_000) - 3.5).abs() < 1e-9);
    }

    #[test]
    fn budgets_reset_daily() {
        let day1 = "2026-01-01T23:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let day2 = "2026-01-02T00:01:00Z".parse::<DateTime<Utc>>().unwrap();
        let b = Budget::new(1.0, 0.9, day1);
        assert!(b.allows(day1));
        b.spend(0.2, day1);
        assert!(!b.allows(day1), "over the cap");
        assert!(b.allows(day2), "a new day starts at zero");
        assert!(Budget::new(0.0, 1e9, day1).allows(day1), "0 = no cap");
    }
}
