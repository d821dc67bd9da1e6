//! `[gate]` (thresholds of `shadowtap gate`) and `[judge]` (the optional LLM-as-judge of corpus runs).

use serde::Deserialize;

use super::load::check_base_url;
use super::ConfigError;

/// Thresholds of `shadowtap gate`; each can be overridden by a flag of the same name.
/// A ratio or similarity threshold of 0 turns that criterion off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateConfig {
    /// Most regressions, as a share (0..=1) of the items the candidate answered or rejected.
    pub max_regression_rate: f64,
    /// Most candidate errors (unavailable after retries), as a share of all items.
    pub max_error_rate: f64,
    /// Most incompatible items (requests the candidate rejects as unsupported).
    pub max_incompatible: u64,
    /// Least mean semantic similarity to the baseline over items with text answers (0 = off).
    pub min_semantic_similarity: f64,
    /// Most candidate p95 latency ÷ baseline p95 latency (0 = off).
    pub max_p95_latency_ratio: f64,
    /// Most candidate cost ÷ baseline cost (0 = off).
    pub max_cost_ratio: f64,
    /// Every must-pass check of every item must pass.
    pub require_checks: bool,
    /// Least mean judge score, 1..=5, of a judged run (0 = off).
    pub min_judge_score: f64,
    /// `gate --compare`: most drop in mean semantic similarity from the first run to the second.
    pub max_semantic_drop: f64,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            max_regression_rate: 0.05,
            max_error_rate: 0.05,
            max_incompatible: 0,
            min_semantic_similarity: 0.80,
            max_p95_latency_ratio: 1.5,
            max_cost_ratio: 1.5,
            require_checks: true,
            min_judge_score: 0.0,
            max_semantic_drop: 0.05,
        }
    }
}

impl GateConfig {
    /// Check ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let share = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError::Invalid(format!(
                    "gate.{name} must be within 0..=1, not {v}"
                )))
            }
        };
        share("max_regression_rate", self.max_regression_rate)?;
        share("max_error_rate", self.max_error_rate)?;
        share("min_semantic_similarity", self.min_semantic_similarity)?;
        share("max_semantic_drop", self.max_semantic_drop)?;
        for (name, v) in [
            ("max_p95_latency_ratio", self.max_p95_latency_ratio),
            ("max_cost_ratio", self.max_cost_ratio),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ConfigError::Invalid(format!(
                    "gate.{name} must be a non-negative number (0 = off), not {v}"
                )));
            }
        }
        if !(self.min_judge_score == 0.0 || (1.0..=5.0).contains(&self.min_judge_score)) {
            return Err(ConfigError::Invalid(format!(
                "gate.min_judge_score must be within 1..=5 (or 0 = off), not {}",
                self.min_judge_score
            )));
        }
        Ok(())
    }
}

/// The LLM-as-judge: a provider that scores candidate answers against the reference (1–5).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JudgeConfig {
    /// Judge every corpus run (`shadowtap replay --judge` turns it on for one run).
    pub enabled: bool,
    /// OpenAI-compatible base URL of the judge provider.
    pub base_url: Option<String>,
    /// Environment variable holding the judge's API key.
    pub api_key_env: Option<String>,
    /// Judge model.
    pub model: String,
    /// Extra instructions appended to the built-in rubric.
    pub rubric: Option<String>,
    /// Requests / tokens per minute to the judge (0 = unlimited).
    pub rpm: u32,
    pub tpm: u32,
    /// Judge requests in flight at once.
    pub concurrency: usize,
    /// Attempts per judgement, including the first.
    pub max_attempts: u32,
    /// Time allowed for one judge request, seconds.
    pub timeout_secs: f64,
    /// Flag items where the judge's score (scaled to 0..=1) and the semantic similarity differ by more.
    pub disagreement: f64,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: None,
            api_key_env: None,
            model: "gpt-4o-mini".into(),
            rubric: None,
            rpm: 60,
            tpm: 0,
            concurrency: 2,
            max_attempts: 3,
            timeout_secs: 60.0,
            disagreement: 0.4,
        }
    }
}

impl JudgeConfig {
    /// Check values (the base URL only matters once the judge is used).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.base_url {
            check_base_url(url)
                .map_err(|m| ConfigError::Invalid(format!("judge.base_url: {m}")))?;
        }
        if self.enabled && self.base_url.is_none() {
            return Err(ConfigError::Invalid(
                "judge.enabled is set but judge.base_url is not: name the judge provider's URL"
                    .into(),
            ));
        }
        if self.concurrency == 0
            || self.max_attempts == 0
            || !self.timeout_secs.is_finite()
            || self.timeout_secs <= 0.0
        {
            return Err(ConfigError::Invalid(
                "judge.concurrency and judge.max_attempts must be at least 1, judge.timeout_secs positive".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.disagreement) {
            return Err(ConfigError::Invalid(format!(
                "judge.disagreement must be within 0..=1, not {}",
                self.disagreement
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use crate::config::Config;
    use std::collections::BTreeMap;

    #[test]
    fn defaults_are_valid_and_sections_load() {
        let env = BTreeMap::<String, String>::new();
        let c = Config::from_toml(
            "[gate]\nmax_regression_rate = 0.1\nmax_cost_ratio = 0\n[judge]\nbase_url = \"http://127.0.0.1:9\"\nenabled = true\n",
            "test",
            &env,
        )
        .unwrap();
        assert_eq!(c.gate.max_regression_rate, 0.1);
        assert_eq!(c.gate.max_p95_latency_ratio, 1.5);
        assert!(c.judge.enabled);
        Config::default().validate().unwrap();
    }

    #[test]
    fn bad_values_are_named() {
        let env = BTreeMap::<String, String>::new();
        for (toml, needle) in [
            (
                "[gate]\nmax_regression_rate = 5\n",
                "gate.max_regression_rate",
            ),
            ("[gate]\nmin_judge_score = 7\n", "gate.min_judge_score"),
            ("[gate]\nmax_regresion_rate = 0.1\n", "max_regresion_rate"),
            ("[judge]\nenabled = true\n", "judge.base_url"),
            ("[judge]\nbase_url = \"ftp://x\"\n", "judge.base_url"),
        ] {
            let err = Config::from_toml(toml, "test", &env)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{toml}: {err}");
        }
    }
}
