//! Which requests get captured: path and model filters, opt-out, and sticky sampling.
//!
//! Pure decisions. Sampling by a key hashes it with a fixed hash (FNV-1a), so every tap instance
//! makes the same choice for the same user or conversation.

use serde_json::Value;

use crate::config::{SampleConfig, TapConfig};

/// What the sampling decision is based on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleKey {
    /// An independent coin per request.
    Random,
    /// The value of a request header (requests without it are decided at random).
    Header(String),
    /// The opening system and first user message of the conversation.
    Conversation,
}

impl SampleKey {
    /// Parse `random`, `header:NAME` or `conversation`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "random" => Ok(Self::Random),
            "conversation" => Ok(Self::Conversation),
            _ => match s.strip_prefix("header:") {
                Some(name) if !name.is_empty() => Ok(Self::Header(name.to_ascii_lowercase())),
                _ => Err(format!(
                    "tap.sample.key {s:?}: use random, header:NAME or conversation"
                )),
            },
        }
    }
}

/// Capture rules compiled from [`TapConfig`].
#[derive(Debug, Clone)]
pub struct CapturePolicy {
    capture_paths: Vec<String>,
    exclude_paths: Vec<String>,
    include_models: Vec<String>,
    exclude_models: Vec<String>,
    percent: f64,
    key: SampleKey,
}

/// Parse `10%`, `10` or `0.5%` into a percentage within 0..=100.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage (e.g. 10%)"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s:?} must be between 0% and 100%"))
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// FNV-1a 64-bit: stable across processes and versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Position of a key in 0..100 (uniform for distinct keys).
pub fn bucket(key: &[u8]) -> f64 {
    (fnv1a(key) % 1_000_000) as f64 / 10_000.0
}

impl CapturePolicy {
    /// Compile the policy (validating the sample settings).
    pub fn new(config: &TapConfig) -> Result<Self, String> {
        let SampleConfig { percent, key } = &config.sample;
        if !(0.0..=100.0).contains(percent) {
            return Err(format!(
                "tap.sample.percent must be within 0..=100, not {percent}"
            ));
        }
        Ok(Self {
            capture_paths: config.capture_paths.clone(),
            exclude_paths: config.exclude_paths.clone(),
            include_models: config.include_models.clone(),
            exclude_models: config.exclude_models.clone(),
            percent: *percent,
            key: SampleKey::parse(key)?,
        })
    }

    /// The capture pattern matching `path` (also the metrics route label), unless excluded.
    pub fn route<'a>(&'a self, path: &str) -> Option<&'a str> {
        self.route_index(path)
            .map(|i| self.capture_paths[i].as_str())
    }

    /// [`CapturePolicy::route`] as an index into [`CapturePolicy::routes`].
    pub fn route_index(&self, path: &str) -> Option<usize> {
        let matches = |p: &String| match p.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == p.as_str(),
        };
        if self.exclude_paths.iter().any(matches) {
            return None;
        }
        self.capture_paths.iter().position(matches)
    }

    /// Every capture pattern, in the order [`CapturePolicy::route_index`] counts them.
    pub fn routes(&self) -> impl Iterator<Item = &str> {
        self.capture_paths.iter().map(String::as_str)
    }

    /// Sampling decision possible before the body is read: `Some(decision)`, or `None` when the
    /// key needs the body (decided later by [`CapturePolicy::sampled_by_body`]).
    pub fn sampled_by_headers(
        &self,
        header: impl Fn(&str) -> Option<String>,
        coin: f64,
    ) -> Option<bool> {
        if self.percent >= 100.0 {
            return Some(true);
        }
        if self.percent <= 0.0 {
            return Some(false);
        }
        match &self.key {
            SampleKey::Random => Some(coin * 100.0 < self.percent),
            SampleKey::Header(name) => Some(match header(name) {
                Some(v) => bucket(v.as_bytes()) < self.percent,
                None => coin * 100.0 < self.percent,
            }),
            SampleKey::Conversation => None,
        }
    }

    /// Sampling decision by the request body (the conversation key).
    pub fn sampled_by_body(&self, request: Option<&Value>) -> bool {
        let opening = request
            .and_then(|r| r.get("messages"))
            .and_then(Value::as_array)
            .map(|messages| {
                messages
                    .iter()
                    .filter(|m| {
                        matches!(
                            m.get("role").and_then(Value::as_str),
                            Some("system" | "developer" | "user")
                        )
                    })
                    .take_while({
                        let mut users = 0;
                        move |m| {
                            if m.get("role").and_then(Value::as_str) == Some("user") {
                                users += 1;
                            }
                            users <= 1
                        }
                    })
                    .map(|m| m.get("content").map(Value::to_string).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            })
            .unwrap_or_default();
        bucket(opening.as_bytes()) < self.percent
    }

    /// Whether a request for `model` is captured.
    pub fn model_allowed(&self, model: Option<&str>) -> bool {
        let model = model.unwrap_or("");
        if self.exclude_models.iter().any(|p| glob_match(p, model)) {
            return false;
        }
        self.include_models.is_empty() || self.include_models.iter().any(|p| glob_match(p, model))
    }

    /// True when the sampling key is the conversation (decided after the body is parsed).
    pub fn needs_body(&self) -> bool {
        self.key == SampleKey::Conversation && self.percent > 0.0 && self.percent < 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(percent: f64, key: &str) -> CapturePolicy {
        let c = TapConfig {
            sample: SampleConfig {
                percent,
                key: key.into(),
            },
            capture_paths: vec!["/v1/chat/completions".into(), "/v1/responses*".into()],
            exclude_paths: vec!["/v1/responses/internal*".into()],
            include_models: vec!["gpt-4o*".into()],
            exclude_models: vec!["gpt-4o-audio*".into()],
            ..TapConfig::default()
        };
        CapturePolicy::new(&c).unwrap()
    }

    #[test]
    fn percentages_parse() {
        assert_eq!(parse_percent("10%"), Ok(10.0));
        assert_eq!(parse_percent(" 0.5 % "), Ok(0.5));
        assert_eq!(parse_percent("100"), Ok(100.0));
        assert!(parse_percent("150%").is_err());
        assert!(parse_percent("ten").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("gpt-4o*", "gpt-4o-mini"));
        assert!(glob_match("*mini", "gpt-4o-mini"));
        assert!(glob_match("gpt-*-mini", "gpt-4o-mini"));
        assert!(!glob_match("gpt-*-mini", "gpt-4o"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("a*a", "a"));
    }

    #[test]
    fn routes_and_models() {
        let p = policy(100.0, "random");
        assert_eq!(
            p.route("/v1/chat/completions"),
            Some("/v1/chat/completions")
        );
        assert_eq!(p.route("/v1/responses/abc"), Some("/v1/responses*"));
        assert_eq!(p.route("/v1/responses/internal/x"), None);
        assert_eq!(p.route("/v1/embeddings"), None);
        assert!(p.model_allowed(Some("gpt-4o-mini")));
        assert!(!p.model_allowed(Some("gpt-4o-audio-preview")));
        assert!(!p.model_allowed(Some("llama")));
    }

    #[test]
    fn header_sampling_is_sticky_and_close_to_the_percentage() {
        let p = policy(10.0, "header:X-User-Id");
        let decide = |user: String| p.sampled_by_headers(|_| Some(user.clone()), 0.99).unwrap();
        let first: Vec<bool> = (0..2000).map(|i| decide(format!("user-{i}"))).collect();
        let again: Vec<bool> = (0..2000).map(|i| decide(format!("user-{i}"))).collect();
        assert_eq!(first, again, "the same user is always decided the same way");
        let share = first.iter().filter(|b| **b).count() as f64 / 2000.0;
        assert!((0.07..0.13).contains(&share), "{share}");
        assert_eq!(
            p.sampled_by_headers(|_| None, 0.05),
            Some(true),
            "no header: the coin decides"
        );
    }

    #[test]
    fn conversation_sampling_keeps_a_chat_together() {
        let p = policy(50.0, "conversation");
        assert_eq!(p.sampled_by_headers(|_| None, 0.0), None);
        assert!(p.needs_body());
        let opening = json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi 42"}]);
        let mut later = opening.as_array().unwrap().clone();
        later.push(json!({"role": "assistant", "content": "hello"}));
        later.push(json!({"role": "user", "content": "and more"}));
        let a = p.sampled_by_body(Some(&json!({"messages": opening})));
        let b = p.sampled_by_body(Some(&json!({"messages": later})));
        assert_eq!(a, b, "later turns of a conversation follow its first turn");
    }

    #[test]
    fn extremes_need_no_key() {
        assert_eq!(
            policy(0.0, "conversation").sampled_by_headers(|_| None, 0.0),
            Some(false)
        );
        assert_eq!(
            policy(100.0, "header:x").sampled_by_headers(|_| None, 0.99),
            Some(true)
        );
        assert!(SampleKey::parse("header:").is_err());
        assert!(SampleKey::parse("cookie").is_err());
    }
}
