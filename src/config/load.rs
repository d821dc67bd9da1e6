//! Loading: file → `DATABASE_URL` → `SHADOWTAP_*` overrides → typed, validated [`Config`].

use std::collections::BTreeMap;
use std::path::Path;

use super::{Config, EnvLookup};
use crate::domain::CandidateName;

const ENV_PREFIX: &str = "SHADOWTAP_";
/// `SHADOWTAP_*` variables that are not config keys.
const NOT_CONFIG_KEYS: &[&str] = &[
    "SHADOWTAP_CONFIG",
    "SHADOWTAP_LOG",
    "SHADOWTAP_UI_TOKEN",
    "SHADOWTAP_CACHE",
];
/// Prefix of variables used by shadowtap's own test and CI scripts.
const TEST_PREFIX: &str = "SHADOWTAP_TEST_";

/// Why a configuration could not be loaded. Each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{0}")]
    Key(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Load from an optional TOML file plus environment overrides, then validate.
    pub fn load(file: Option<&Path>, env: &dyn EnvLookup) -> Result<Self, ConfigError> {
        let (text, origin) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                (text, path.display().to_string())
            }
            None => (String::new(), "(none)".to_owned()),
        };
        Self::from_toml(&text, &origin, env)
    }

    /// Parse TOML text (from `origin`, for messages) with environment overrides, then validate.
    pub fn from_toml(text: &str, origin: &str, env: &dyn EnvLookup) -> Result<Self, ConfigError> {
        let mut table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: origin.to_owned(),
                    message: e.to_string(),
                })?;
        let mut sources = BTreeMap::new();
        if let Some(url) = env.get("DATABASE_URL").filter(|u| !u.is_empty()) {
            set_path(
                &mut table,
                &["database".into(), "url".into()],
                toml::Value::String(url),
            )
            .map_err(ConfigError::Invalid)?;
        }
        for (var, raw) in env.with_prefix(ENV_PREFIX) {
            if NOT_CONFIG_KEYS.contains(&var.as_str()) || var.starts_with(TEST_PREFIX) {
                continue;
            }
            let path: Vec<String> = var[ENV_PREFIX.len()..]
                .split("__")
                .map(str::to_ascii_lowercase)
                .collect();
            if path.iter().any(String::is_empty) {
                return Err(ConfigError::Key(format!(
                    "environment variable {var}: empty key segment (use SHADOWTAP_SECTION__KEY)"
                )));
            }
            set_path(&mut table, &path, parse_env_value(&raw))
                .map_err(|m| ConfigError::Key(format!("environment variable {var}: {m}")))?;
            sources.insert(path.join("."), var);
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| key_error(&e, origin, &sources))?;
        if let Some(token) = env.get("SHADOWTAP_UI_TOKEN").filter(|t| !t.is_empty()) {
            config.ui.token = Some(token);
        }
        config.validate()?;
        Ok(config)
    }

    /// Check values that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if let Err(m) = check_base_url(&self.tap.upstream) {
            return invalid(format!("tap.upstream: {m}"));
        }
        if !(0.0..=1000.0).contains(&self.tap.capture_linger_ms) {
            return invalid(format!(
                "tap.capture_linger_ms must be between 0 and 1000, not {}",
                self.tap.capture_linger_ms
            ));
        }
        if !(0..=19).contains(&self.tap.capture_nice) {
            return invalid(format!(
                "tap.capture_nice must be between 0 and 19, not {}",
                self.tap.capture_nice
            ));
        }
        if self.tap.capture_queue == 0
            || self.tap.capture_queue_bytes == 0
            || self.bus.memory_capacity == 0
            || self.worker.max_in_flight == 0
            || self.bus.kafka.batch_max_exchanges == 0
            || self.bus.kafka.batch_max_bytes == 0
        {
            return invalid("tap.capture_queue, tap.capture_queue_bytes, bus.memory_capacity, bus.kafka.batch_max_exchanges, bus.kafka.batch_max_bytes and worker.max_in_flight must be at least 1".into());
        }
        if self.tap.threads > 1024 {
            return invalid(format!(
                "tap.threads must be at most 1024 (0 = one per core), not {}",
                self.tap.threads
            ));
        }
        if self.bus.kafka.topic.is_empty() || self.bus.kafka.group.is_empty() {
            return invalid("bus.kafka.topic and bus.kafka.group must not be empty".into());
        }
        if let Some((name, instead)) = self.bus.kafka.properties.reserved() {
            return invalid(format!(
                "bus.kafka.properties: {name:?} is set by shadowtap (use {instead})"
            ));
        }
        if self.ui.token.as_deref().is_some_and(|t| t.len() < 16) {
            return invalid("ui.token (SHADOWTAP_UI_TOKEN) must be at least 16 characters".into());
        }
        if self.ui.page_size < 1 || self.ui.page_size > 500 {
            return invalid(format!(
                "ui.page_size must be within 1..=500, not {}",
                self.ui.page_size
            ));
        }
        for t in [
            self.tap.connect_timeout_secs,
            self.tap.upstream_timeout_secs,
            self.tap.idle_timeout_secs,
            self.tap.header_read_timeout_secs,
            self.worker.request_timeout_secs,
        ] {
            if !(t > 0.0 && t.is_finite()) {
                return invalid(format!(
                    "timeouts must be positive numbers of seconds, not {t}"
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.candidates {
            CandidateName::parse(&c.name).map_err(ConfigError::Invalid)?;
            if !seen.insert(c.name.as_str()) {
                return invalid(format!("candidate `{}` is configured twice", c.name));
            }
            if let Err(m) = check_base_url(&c.base_url) {
                return invalid(format!("candidate `{}` base_url: {m}", c.name));
            }
            if c.name == "control" {
                return invalid(
                    "the candidate name `control` is reserved for the [control] replay".into(),
                );
            }
            if !(0.0..=100.0).contains(&c.share) || c.concurrency == 0 || c.max_attempts == 0 {
                return invalid(format!(
                    "candidate `{}`: share must be within 0..=100, concurrency and max_attempts at least 1",
                    c.name
                ));
            }
        }
        if let Some(url) = &self.control.base_url {
            if let Err(m) = check_base_url(url) {
                return invalid(format!("control.base_url: {m}"));
            }
        }
        self.gate.validate()?;
        self.judge.validate()?;
        self.index.validate()?;
        Ok(())
    }

    /// Add or replace a candidate from a `NAME=BASE_URL` command-line value.
    pub fn upsert_candidate_flag(&mut self, spec: &str) -> Result<(), ConfigError> {
        let (name, url) = spec.split_once('=').ok_or_else(|| {
            ConfigError::Invalid(format!("--candidate {spec:?}: expected NAME=BASE_URL"))
        })?;
        match self.candidates.iter_mut().find(|c| c.name == name) {
            Some(c) => c.base_url = url.to_owned(),
            None => self.candidates.push(super::CandidateConfig::new(name, url)),
        }
        Ok(())
    }
}

/// A base URL must be absolute http(s) with a host.
pub(crate) fn check_base_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err(format!("{url:?} must start with http:// or https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    Ok(())
}

/// Environment values are TOML literals when they parse as one (`42`, `true`, `["a"]`), else strings.
fn parse_env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

/// Set `path` inside `table`, creating tables (and array slots, for numeric segments) on the way.
fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let (first, rest) = path.split_first().ok_or("empty key")?;
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(());
    }
    let slot = table
        .entry(first.clone())
        .or_insert_with(|| match rest[0].parse::<usize>() {
            Ok(_) => toml::Value::Array(Vec::new()),
            Err(_) => toml::Value::Table(toml::Table::new()),
        });
    set_in_value(slot, rest, value, first)
}

fn set_in_value(
    slot: &mut toml::Value,
    path: &[String],
    value: toml::Value,
    at: &str,
) -> Result<(), String> {
    match slot {
        toml::Value::Table(t) => set_path(t, path, value),
        toml::Value::Array(items) => {
            let index: usize = path[0]
                .parse()
                .map_err(|_| format!("`{at}` is a list: the next key segment must be an index"))?;
            if index > items.len() {
                return Err(format!(
                    "`{at}` has {} entries; index {index} would leave a gap",
                    items.len()
                ));
            }
            if index == items.len() {
                items.push(toml::Value::Table(toml::Table::new()));
            }
            if path.len() == 1 {
                items[index] = value;
                return Ok(());
            }
            set_in_value(&mut items[index], &path[1..], value, &path[0])
        }
        _ => Err(format!("`{at}` is a value, not a section")),
    }
}

/// Turn a deserialisation error into a message naming the full key and where it was set.
fn key_error(
    err: &serde_path_to_error::Error<toml::de::Error>,
    origin: &str,
    sources: &BTreeMap<String, String>,
) -> ConfigError {
    let path = err.path().to_string();
    let inner = err.inner().to_string();
    // toml appends "in `section`" on a new line; the path already says where.
    let inner = inner.lines().next().unwrap_or_default().trim();
    let (key, message) = match inner
        .strip_prefix("unknown field `")
        .and_then(|r| r.split_once('`'))
    {
        Some((field, expected)) => {
            let key = if path == "." || path.is_empty() {
                field.to_owned()
            } else if path == field || path.ends_with(&format!(".{field}")) {
                path.clone()
            } else {
                format!("{path}.{field}")
            };
            let expected = expected.trim_start_matches(',').trim();
            (
                key.clone(),
                format!("unknown config key `{key}` ({expected})"),
            )
        }
        None => (path.clone(), format!("config key `{path}`: {inner}")),
    };
    let from = match sources.get(&key) {
        Some(var) => format!("set by environment variable {var}"),
        None => format!("in {origin}"),
    };
    ConfigError::Key(format!("{message}; {from}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BusKind;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_without_a_file() {
        let c = Config::from_toml("", "test", &env(&[])).unwrap();
        assert_eq!(c.bus.kind, BusKind::Memory);
        assert_eq!(c.tap.listen.port(), 8080);
    }

    #[test]
    fn env_overrides_file_and_database_url_is_honoured() {
        let text = "[tap]\nupstream = \"http://file:1\"\n[bus]\nkind = \"memory\"\n";
        let e = env(&[
            ("SHADOWTAP_BUS__KIND", "kafka"),
            ("SHADOWTAP_BUS__KAFKA__PARTITIONS", "3"),
            ("DATABASE_URL", "postgres://x/y"),
            ("SHADOWTAP_CANDIDATES__0__NAME", "b"),
            ("SHADOWTAP_CANDIDATES__0__BASE_URL", "http://b:2"),
            ("SHADOWTAP_UI_TOKEN", "a-ui-token-0123456789"),
        ]);
        let c = Config::from_toml(text, "test", &e).unwrap();
        assert_eq!(c.bus.kind, BusKind::Kafka);
        assert_eq!(c.bus.kafka.partitions, 3);
        assert_eq!(c.tap.upstream, "http://file:1");
        assert_eq!(c.database.url.as_deref(), Some("postgres://x/y"));
        assert_eq!(c.candidates[0].base_url, "http://b:2");
        assert_eq!(
            c.ui.token.as_deref(),
            Some("a-ui-token-0123456789"),
            "SHADOWTAP_UI_TOKEN sets ui.token"
        );
    }

    #[test]
    fn kafka_properties_come_from_file_and_env_and_reserved_ones_are_refused() {
        let text = "[bus.kafka.properties]\nsecurity.protocol = \"SASL_SSL\"\n\"sasl.mechanisms\" = \"PLAIN\"\n\"socket.timeout.ms\" = 20000\n\"sasl.password\" = \"from-file\"\n";
        let e = env(&[(
            "SHADOWTAP_BUS__KAFKA__PROPERTIES__SASL_PASSWORD",
            "from-env",
        )]);
        let c = Config::from_toml(text, "test", &e).unwrap();
        let props: Vec<(String, String)> = c
            .bus
            .kafka
            .properties
            .iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect();
        // Applied in this order: the environment's spelling sorts after the file's, so it wins.
        assert_eq!(
            props,
            [
                ("sasl.mechanisms", "PLAIN"),
                ("sasl.password", "from-file"),
                ("sasl.password", "from-env"),
                ("security.protocol", "SASL_SSL"),
                ("socket.timeout.ms", "20000"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let debug = format!("{:?}", c.bus.kafka);
        assert!(
            !debug.contains("from-env") && !debug.contains("from-file"),
            "{debug}"
        );
        let err = Config::from_toml(
            "[bus.kafka.properties]\n\"group.id\" = \"x\"\n",
            "test",
            &env(&[]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"group.id\"") && err.contains("bus.kafka.group"),
            "{err}"
        );
        // A linger set as a property would be silently overridden: it has its own setting.
        let err = Config::from_toml(
            "",
            "test",
            &env(&[("SHADOWTAP_BUS__KAFKA__PROPERTIES__LINGER_MS", "50")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("\"linger.ms\"") && err.contains("bus.kafka.linger_ms"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml("[tap]\nlistne = \"x\"\n", "shadowtap.toml", &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown config key `tap.listne`"), "{err}");
        assert!(err.contains("shadowtap.toml"), "{err}");
        let err = Config::from_toml("", "f", &env(&[("SHADOWTAP_TAP__NOPE", "1")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`tap.nope`") && err.contains("SHADOWTAP_TAP__NOPE"),
            "{err}"
        );
        let err = Config::from_toml("colour = 1", "f", &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown config key `colour`"), "{err}");
    }

    #[test]
    fn bad_values_are_explained() {
        let err = Config::from_toml("[tap]\nupstream = \"ftp://x\"", "f", &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("tap.upstream"), "{err}");
        let err = Config::from_toml("[bus]\nkind = \"nats\"", "f", &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bus.kind"), "{err}");
        let dup = "[[candidates]]\nname=\"a\"\nbase_url=\"http://a\"\n[[candidates]]\nname=\"a\"\nbase_url=\"http://b\"\n";
        assert!(Config::from_toml(dup, "f", &env(&[]))
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn candidate_keys_come_from_the_named_variable() {
        let text = "[[candidates]]\nname=\"a\"\nbase_url=\"http://a\"\napi_key_env=\"A_KEY\"\n";
        let c = Config::from_toml(text, "f", &env(&[])).unwrap();
        let err = c.candidates[0].api_key(&env(&[])).unwrap_err().to_string();
        assert!(err.contains("A_KEY") && err.contains("not set"), "{err}");
        let key = c.candidates[0]
            .api_key(&env(&[("A_KEY", "sk-123")]))
            .unwrap()
            .unwrap();
        assert_eq!(key.expose(), "sk-123");
        assert_eq!(format!("{key:?}"), "Secret(***)");
    }

    #[test]
    fn candidate_flags_add_or_replace() {
        let mut c = Config::default();
        c.upsert_candidate_flag("a=http://a:1").unwrap();
        c.upsert_candidate_flag("a=http://a:2").unwrap();
        assert_eq!(c.candidates.len(), 1);
        assert_eq!(c.candidates[0].base_url, "http://a:2");
        assert!(c.upsert_candidate_flag("nourl").is_err());
    }
}
