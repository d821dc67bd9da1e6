//! Typed configuration: a TOML file, overridden by `SHADOWTAP_*` environment variables, then by CLI flags.
//!
//! Precedence (lowest first): built-in defaults, the file (`--config` / `SHADOWTAP_CONFIG`),
//! `DATABASE_URL`, `SHADOWTAP_SECTION__KEY` variables, command-line flags. Unknown keys are errors
//! that name the key. API keys are never part of the config: a candidate names the environment
//! variable that holds its key, and the key is read at start-up into a [`Secret`].

mod env;
mod gate;
mod index;
mod load;

use std::fmt;
use std::net::SocketAddr;

use serde::Deserialize;

pub use env::{EnvLookup, ProcessEnv};
pub use gate::{GateConfig, JudgeConfig};
pub use index::{DriftConfig, IndexBackend, IndexConfig};
pub use load::ConfigError;

/// The whole configuration of a shadowtap process.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub tap: TapConfig,
    pub bus: BusConfig,
    pub database: DatabaseConfig,
    pub worker: WorkerConfig,
    pub ui: UiConfig,
    pub candidates: Vec<CandidateConfig>,
    pub control: ControlConfig,
    pub diff: DiffConfig,
    pub retention: RetentionConfig,
    /// Thresholds of `shadowtap gate`.
    pub gate: GateConfig,
    /// The optional LLM-as-judge of corpus runs.
    pub judge: JudgeConfig,
    /// The vector index: similar regressions, clusters, prompt drift.
    pub index: IndexConfig,
}

/// How long captured bodies are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Request and response bodies older than this many days are deleted (verdicts and scores stay); 0 keeps them.
    pub body_ttl_days: f64,
    /// How often the expiry job runs, seconds.
    pub interval_secs: f64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            body_ttl_days: 14.0,
            interval_secs: 3600.0,
        }
    }
}

/// The differ.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiffConfig {
    /// Compare answers by meaning with a local sentence-embedding model.
    pub semantic: bool,
    pub embedding: EmbeddingConfig,
}

impl Default for DiffConfig {
    fn default() -> Self {
        Self {
            semantic: true,
            embedding: EmbeddingConfig::default(),
        }
    }
}

/// The local embedding model (all-MiniLM-L6-v2 via fastembed and ONNX Runtime).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingConfig {
    /// Folder with model.onnx, tokenizer.json, config.json, special_tokens_map.json, tokenizer_config.json
    /// (default: the folder scripts/lib.sh provisions under ~/.cache/shadowtap/models).
    pub model_dir: Option<std::path::PathBuf>,
    /// ONNX Runtime shared library (default: ORT_DYLIB_PATH, else the provisioned one in the cache).
    pub ort_library: Option<std::path::PathBuf>,
    /// Texts per model call.
    pub batch_size: usize,
    /// Embeddings kept in memory, by content hash.
    pub cache_entries: usize,
    /// Long answers are split into chunks of at most this many words (the model reads 256 tokens).
    pub max_chunk_words: usize,
    /// Model sessions embedding in parallel, each on its own thread (0: one per CPU core).
    pub sessions: usize,
    /// ONNX Runtime threads inside each session.
    pub intra_threads: usize,
}

impl EmbeddingConfig {
    /// How many model sessions to run (`sessions`, or one per core when 0).
    pub fn session_count(&self) -> usize {
        match self.sessions {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        Self {
            model_dir: None,
            ort_library: None,
            batch_size: 4,
            cache_entries: 20_000,
            max_chunk_words: 150,
            sessions: 0,
            intra_threads: 1,
        }
    }
}

/// The reverse proxy in front of the production provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TapConfig {
    /// Address the tap listens on (clients point their SDK's base_url here).
    pub listen: SocketAddr,
    /// Production provider base URL (scheme, host and optional path prefix); request paths are appended.
    pub upstream: String,
    /// Request paths whose exchanges are captured (exact match, or prefix when ending in `*`).
    pub capture_paths: Vec<String>,
    /// Request paths never captured, even when they match `capture_paths`.
    pub exclude_paths: Vec<String>,
    /// Only capture requests for these models (`*` wildcards); empty = all models.
    pub include_models: Vec<String>,
    /// Never capture requests for these models (`*` wildcards).
    pub exclude_models: Vec<String>,
    /// Which share of traffic is captured, and how it is chosen.
    pub sample: SampleConfig,
    /// Bodies longer than this are captured as a truncated prefix (they are always forwarded whole).
    pub max_capture_bytes: usize,
    /// Capacity of the in-process queue between the request path and the publisher.
    pub capture_queue: usize,
    /// Body bytes that queue may hold (captures beyond it are dropped and counted).
    pub capture_queue_bytes: usize,
    /// Niceness of the capture thread: 19 (default) uses spare CPU only, so a saturated tap sheds
    /// captures instead of slowing clients; 0 competes with forwarding as an equal.
    pub capture_nice: i32,
    /// Milliseconds the capture thread waits for more captures when its queue runs empty (having
    /// published what it had) before it parks: the longer, the fewer wake-ups and the bigger the
    /// bus records under load. Captures wait, never clients.
    pub capture_linger_ms: f64,
    /// Event loops serving the tap (each an OS thread with its own runtime, upstream pool and
    /// `SO_REUSEPORT` socket); 0 = one per CPU core.
    pub threads: usize,
    /// Request headers whose values become tags of the capture.
    pub tag_headers: Vec<String>,
    /// Remove the tag headers before forwarding (the upstream never sees them).
    pub strip_tag_headers: bool,
    /// Extra request headers never captured (Authorization, api-key, cookies are always dropped).
    pub redact_headers: Vec<String>,
    /// TCP connect timeout to the upstream, seconds.
    pub connect_timeout_secs: f64,
    /// Time allowed until the upstream's response head arrives, seconds.
    pub upstream_timeout_secs: f64,
    /// Longest silence allowed between two body chunks from the upstream, seconds.
    pub idle_timeout_secs: f64,
    /// Time a client has to send its request headers, seconds (slow clients are cut off).
    pub header_read_timeout_secs: f64,
    /// PII and secret masking applied to captured bodies before they leave the tap.
    pub redact: RedactConfig,
}

/// Sampling of captured traffic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SampleConfig {
    /// Percentage of eligible requests captured, 0..=100.
    pub percent: f64,
    /// What decides: `random` (per request), `header:NAME` (sticky per header value, e.g. a user or
    /// conversation id), or `conversation` (sticky per opening messages, so whole chats go together).
    pub key: String,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            percent: 100.0,
            key: "random".into(),
        }
    }
}

/// What the tap masks in captured bodies (the forwarded request is never changed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactConfig {
    /// Master switch.
    pub enabled: bool,
    /// Built-in detectors to run: `email`, `phone`, `card`, `iban`, `ip`, `secret`.
    pub kinds: Vec<String>,
    /// Extra patterns, each replaced by `<NAME_n>`.
    pub custom: Vec<CustomPattern>,
}

impl Default for RedactConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            kinds: ["email", "phone", "card", "iban", "ip", "secret"]
                .map(String::from)
                .to_vec(),
            custom: Vec::new(),
        }
    }
}

/// A user-defined redaction pattern.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// Placeholder name: `EMPLOYEE_ID` gives `<EMPLOYEE_ID_1>`. Letters, digits and `_`.
    pub name: String,
    /// A regular expression (Rust `regex` syntax).
    pub pattern: String,
}

impl Default for TapConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 8080).into(),
            upstream: "https://api.openai.com".into(),
            capture_paths: vec!["/v1/chat/completions".into()],
            exclude_paths: Vec::new(),
            include_models: Vec::new(),
            exclude_models: Vec::new(),
            sample: SampleConfig::default(),
            max_capture_bytes: 1024 * 1024,
            capture_queue: 10_000,
            capture_queue_bytes: 64 * 1024 * 1024,
            capture_nice: 19,
            capture_linger_ms: 10.0,
            threads: 0,
            tag_headers: vec!["x-shadowtap-team".into(), "x-shadowtap-feature".into()],
            strip_tag_headers: false,
            redact_headers: Vec::new(),
            connect_timeout_secs: 10.0,
            upstream_timeout_secs: 600.0,
            idle_timeout_secs: 300.0,
            header_read_timeout_secs: 30.0,
            redact: RedactConfig::default(),
        }
    }
}

/// Which bus carries captures from taps to workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BusKind {
    /// In-process channel: single-node `serve` and the demo. Captures in flight are lost on crash.
    #[default]
    Memory,
    /// Kafka topic with a consumer group: durable, scales out.
    Kafka,
}

impl std::str::FromStr for BusKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "memory" => Ok(Self::Memory),
            "kafka" => Ok(Self::Kafka),
            other => Err(format!("unknown bus {other:?}: use memory or kafka")),
        }
    }
}

/// The capture bus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    pub kind: BusKind,
    /// Capacity of the memory bus (messages).
    pub memory_capacity: usize,
    pub kafka: KafkaConfig,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            kind: BusKind::Memory,
            memory_capacity: 10_000,
            kafka: KafkaConfig::default(),
        }
    }
}

/// Kafka settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    pub topic: String,
    /// Consumer group of the workers.
    pub group: String,
    /// Producer queue bound (records, each of one or more captures); beyond it captures are
    /// dropped and counted.
    pub queue_max_messages: u32,
    /// How long the producer keeps trying to deliver a capture before dropping it.
    pub message_timeout_ms: u32,
    /// Partitions used when shadowtap creates the topic.
    pub partitions: i32,
    /// Exchanges one record may hold: the tap packs the captures it has ready into one record
    /// (`{"v":2,"exchanges":[…]}`), so the broker and the client pay per-record costs once per
    /// batch. 1 publishes each exchange as its own version-1 record. Workers read both.
    pub batch_max_exchanges: usize,
    /// A record closes before an exchange would take it past this size (an exchange larger than
    /// this travels alone); keep it below the broker's `message.max.bytes`.
    pub batch_max_bytes: usize,
    /// The producer's `linger.ms`: how long records wait to share a produce request.
    pub linger_ms: u32,
    /// Extra librdkafka properties for every Kafka client shadowtap creates (producer, consumer,
    /// admin): `security.protocol`, `sasl.*`, `ssl.*`, tuning. Keys may spell `.` as `_`, so
    /// secrets can come from the environment: `SHADOWTAP_BUS__KAFKA__PROPERTIES__SASL_PASSWORD`.
    pub properties: KafkaProperties,
}

/// librdkafka properties (`name = "value"`); `Debug` shows the names only, since values can be
/// credentials.
#[derive(Clone, Default, PartialEq)]
pub struct KafkaProperties(std::collections::BTreeMap<String, String>);

/// Properties shadowtap sets itself (its at-least-once offset handling depends on them), or that
/// have their own setting.
const RESERVED_KAFKA_PROPERTIES: &[(&str, &str)] = &[
    ("bootstrap.servers", "bus.kafka.brokers"),
    ("group.id", "bus.kafka.group"),
    ("enable.auto.commit", "manual commits after the store"),
    ("enable.auto.offset.store", "manual commits after the store"),
    (
        "queue.buffering.max.messages",
        "bus.kafka.queue_max_messages",
    ),
    ("message.timeout.ms", "bus.kafka.message_timeout_ms"),
    ("linger.ms", "bus.kafka.linger_ms"),
    ("queue.buffering.max.ms", "bus.kafka.linger_ms"),
];

impl KafkaProperties {
    /// The properties with canonical (dotted, lowercase) names, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (String, &str)> {
        self.0
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase().replace('_', "."), v.as_str()))
    }

    /// A property that shadowtap owns, with what governs it instead.
    fn reserved(&self) -> Option<(String, &'static str)> {
        self.iter().find_map(|(name, _)| {
            RESERVED_KAFKA_PROPERTIES
                .iter()
                .find(|(r, _)| *r == name)
                .map(|(_, instead)| (name, *instead))
        })
    }
}

impl FromIterator<(String, String)> for KafkaProperties {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Debug for KafkaProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl<'de> Deserialize<'de> for KafkaProperties {
    /// Values may be strings, numbers or booleans (TOML and environment overrides alike); an
    /// unquoted dotted TOML key (`security.protocol = "SSL"`) is a nested table, flattened back.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Value {
            Text(String),
            Int(i64),
            Float(f64),
            Bool(bool),
            Table(std::collections::BTreeMap<String, Value>),
        }
        fn flatten(prefix: String, v: Value, out: &mut std::collections::BTreeMap<String, String>) {
            let text = match v {
                Value::Text(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Float(x) => x.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Table(t) => {
                    for (k, v) in t {
                        flatten(format!("{prefix}.{k}"), v, out);
                    }
                    return;
                }
            };
            out.insert(prefix, text);
        }
        let raw = std::collections::BTreeMap::<String, Value>::deserialize(d)?;
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in raw {
            flatten(k, v, &mut out);
        }
        Ok(Self(out))
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topic: "shadowtap.exchanges".into(),
            group: "shadowtap-workers".into(),
            queue_max_messages: 100_000,
            message_timeout_ms: 30_000,
            partitions: 6,
            batch_max_exchanges: 128,
            batch_max_bytes: 512 * 1024,
            linger_ms: 20,
            properties: KafkaProperties::default(),
        }
    }
}

/// PostgreSQL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Connection URL; `DATABASE_URL` is used when this is not set.
    pub url: Option<String>,
    pub max_connections: u32,
    /// Seconds to wait for a connection at start-up before giving up.
    pub connect_timeout_secs: f64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            connect_timeout_secs: 5.0,
        }
    }
}

/// Replay workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Total time allowed for one candidate request, seconds.
    pub request_timeout_secs: f64,
    /// Candidate response bodies larger than this are cut and classified as malformed.
    pub max_response_bytes: usize,
    /// Exchanges processed at once per worker (a bus record may hold several); beyond it the
    /// worker stops pulling (lag grows, nothing drops).
    pub max_in_flight: usize,
    /// Where a worker serves `/healthz` and `/metrics` (a standalone worker has no other listener).
    pub admin_listen: Option<SocketAddr>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            request_timeout_secs: 120.0,
            max_response_bytes: 16 * 1024 * 1024,
            max_in_flight: 64,
            admin_listen: None,
        }
    }
}

/// The review UI.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    pub listen: SocketAddr,
    /// Rows per page in lists.
    pub page_size: i64,
    /// Access token (prefer the SHADOWTAP_UI_TOKEN variable). Without one, a random token is
    /// generated at start-up and logged; it changes at every start.
    pub token: Option<String>,
    /// Require the token for /metrics too.
    pub protect_metrics: bool,
    /// How long a browser session lasts, hours.
    pub session_hours: u64,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 8081).into(),
            page_size: 50,
            token: None,
            protect_metrics: false,
            session_hours: 12,
        }
    }
}

/// A candidate provider that captured traffic is replayed against.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CandidateConfig {
    pub name: String,
    /// OpenAI-compatible base URL; the captured request path is appended.
    pub base_url: String,
    /// Name of the environment variable holding the API key (the key itself is never stored).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Default model to request instead of the production model (default: the same model).
    #[serde(default)]
    pub model: Option<String>,
    /// Production model → candidate model (`*` wildcards allowed in keys); wins over `model`.
    #[serde(default)]
    pub models: std::collections::BTreeMap<String, String>,
    /// Request fields set on every replayed request (e.g. `temperature = 0`).
    #[serde(default)]
    pub params: toml::Table,
    /// Request fields removed before replaying (parameters the candidate does not support).
    #[serde(default)]
    pub drop_params: Vec<String>,
    /// Requests in flight at once to this candidate.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Requests per minute (0 = unlimited).
    #[serde(default)]
    pub rpm: u32,
    /// Tokens per minute, prompt + expected completion (0 = unlimited).
    #[serde(default)]
    pub tpm: u32,
    /// Price in USD per million input tokens.
    #[serde(default)]
    pub input_price_per_mtok: f64,
    /// Price in USD per million output tokens.
    #[serde(default)]
    pub output_price_per_mtok: f64,
    /// Stop replaying to this candidate for the rest of the UTC day once it has cost this much (USD; 0 = no cap).
    #[serde(default)]
    pub daily_budget_usd: f64,
    /// Percentage of captured exchanges replayed to this candidate (sticky per exchange).
    #[serde(default = "default_share")]
    pub share: f64,
    /// Stream the replay when the original was streamed (`auto`), always, or never.
    #[serde(default)]
    pub stream: StreamMode,
    /// Attempts per replay, including the first (retries only for rate limits, 5xx, timeouts, connection errors).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Per-request timeout in seconds (default: worker.request_timeout_secs).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
}

fn default_concurrency() -> usize {
    4
}

fn default_share() -> f64 {
    100.0
}

fn default_attempts() -> u32 {
    4
}

/// Whether replays stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StreamMode {
    /// Stream when the captured original streamed.
    #[default]
    Auto,
    Always,
    Never,
}

impl CandidateConfig {
    /// A candidate with defaults for everything but its name and URL.
    pub fn new(name: &str, base_url: &str) -> Self {
        Self {
            name: name.to_owned(),
            base_url: base_url.to_owned(),
            api_key_env: None,
            model: None,
            models: Default::default(),
            params: Default::default(),
            drop_params: Vec::new(),
            concurrency: default_concurrency(),
            rpm: 0,
            tpm: 0,
            input_price_per_mtok: 0.0,
            output_price_per_mtok: 0.0,
            daily_budget_usd: 0.0,
            share: default_share(),
            stream: StreamMode::Auto,
            max_attempts: default_attempts(),
            timeout_secs: None,
        }
    }
}

/// Optional extra replay to the production provider itself: how much production disagrees with
/// itself is the noise floor the differ measures candidates against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    pub enabled: bool,
    /// Base URL of the production provider (default: tap.upstream).
    pub base_url: Option<String>,
    /// Environment variable with the production API key.
    pub api_key_env: Option<String>,
    /// Percentage of exchanges that get a control replay.
    pub share: f64,
    pub rpm: u32,
    pub tpm: u32,
    pub concurrency: usize,
    pub daily_budget_usd: f64,
    pub input_price_per_mtok: f64,
    pub output_price_per_mtok: f64,
}

impl Default for ControlConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: None,
            api_key_env: None,
            share: 100.0,
            rpm: 0,
            tpm: 0,
            concurrency: 4,
            daily_budget_usd: 0.0,
            input_price_per_mtok: 0.0,
            output_price_per_mtok: 0.0,
        }
    }
}

/// A secret read from the environment; never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret value; call only where it is sent, never where it is logged or stored.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl CandidateConfig {
    /// Read this candidate's API key from its environment variable, if it names one.
    pub fn api_key(&self, env: &dyn EnvLookup) -> Result<Option<Secret>, ConfigError> {
        let Some(var) = &self.api_key_env else {
            return Ok(None);
        };
        match env.get(var) {
            Some(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            _ => Err(ConfigError::Invalid(format!(
                "candidate `{}`: environment variable {var} (its api_key_env) is not set; \
                 export it with the candidate's API key, or remove api_key_env if the provider needs none",
                self.name
            ))),
        }
    }
}
