//! `[index]`: the vector index of regressions and prompts (similar regressions, clusters, prompt drift).

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;

/// Where vectors are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum IndexBackend {
    /// The Qdrant engine in-process (qdrant-edge), persisted under `index.dir`: single node.
    #[default]
    Embedded,
    /// A Qdrant server over gRPC at `index.url` (compose.yaml's `qdrant` service): several processes.
    Qdrant,
    /// No vector index: no similar regressions, clusters or drift.
    Off,
}

impl std::str::FromStr for IndexBackend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "embedded" => Ok(Self::Embedded),
            "qdrant" => Ok(Self::Qdrant),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "unknown index backend {other:?}: use embedded, qdrant or off"
            )),
        }
    }
}

/// The vector index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    pub backend: IndexBackend,
    /// Folder of the embedded index (default: `index` under the cache folder, ~/.cache/shadowtap).
    /// One process at a time: it is locked while open.
    pub dir: Option<PathBuf>,
    /// gRPC URL of the Qdrant server (port 6334).
    pub url: String,
    /// Environment variable holding the Qdrant API key, if the server needs one.
    pub api_key_env: Option<String>,
    /// Prefix of the Qdrant collection names (`<prefix>regressions`, `<prefix>prompts`).
    pub collection_prefix: String,
    /// Similar regressions shown per diff.
    pub top_k: usize,
    /// Regressions whose answers have at least this cosine similarity to a cluster's first
    /// member join that cluster.
    pub cluster_threshold: f64,
    /// Most recent regressions per candidate considered for clustering.
    pub cluster_max_points: usize,
    /// Seconds between background flushes of the embedded index (and the drift gauge update).
    pub flush_secs: f64,
    /// Prompts indexed per route and minute by each worker (0 = every prompt). Drift reads at
    /// most `drift.max_prompts` per window, so a sample is enough and keeps the index bounded.
    pub prompts_per_minute: u32,
    /// Regressions are removed from the index after this many days (0 = kept). Prompts are kept
    /// for the drift windows (`drift.recent_secs` + `drift.baseline_secs`).
    pub regression_days: f64,
    pub drift: DriftConfig,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            backend: IndexBackend::Embedded,
            dir: None,
            url: "http://127.0.0.1:6334".into(),
            api_key_env: None,
            collection_prefix: "shadowtap_".into(),
            top_k: 5,
            cluster_threshold: 0.85,
            cluster_max_points: 500,
            flush_secs: 5.0,
            prompts_per_minute: 6,
            regression_days: 30.0,
            drift: DriftConfig::default(),
        }
    }
}

/// Prompt drift: recent prompts per route against a baseline window just before them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftConfig {
    /// Length of the recent window, seconds (ending now).
    pub recent_secs: f64,
    /// Length of the baseline window, seconds (ending where the recent window starts).
    pub baseline_secs: f64,
    /// Fewer prompts than this in either window: no verdict for the route.
    pub min_prompts: usize,
    /// Most prompts read per window (the most recent ones).
    pub max_prompts: usize,
    /// Centroid cosine distance (1 − cosine of the mean prompt embeddings) from which a route drifted.
    pub centroid_threshold: f64,
    /// Prompt-length distributions differ when the two-sample KS test's p-value is below this.
    pub length_p_value: f64,
    /// Seconds between updates of the `shadowtap_prompt_drift` gauge.
    pub interval_secs: f64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self {
            recent_secs: 86_400.0,
            baseline_secs: 7.0 * 86_400.0,
            min_prompts: 20,
            max_prompts: 2_000,
            centroid_threshold: 0.05,
            length_p_value: 0.01,
            interval_secs: 300.0,
        }
    }
}

impl IndexConfig {
    /// Check ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.backend == IndexBackend::Qdrant
            && !(self.url.starts_with("http://") || self.url.starts_with("https://"))
        {
            return invalid(format!(
                "index.url must be the Qdrant server's gRPC URL, e.g. http://127.0.0.1:6334, not {:?}",
                self.url
            ));
        }
        if !(self.regression_days >= 0.0 && self.regression_days.is_finite()) {
            return invalid(format!(
                "index.regression_days must be 0 (keep) or a number of days, not {}",
                self.regression_days
            ));
        }
        if self.top_k == 0 || self.top_k > 100 {
            return invalid(format!(
                "index.top_k must be within 1..=100, not {}",
                self.top_k
            ));
        }
        if !(0.0..=1.0).contains(&self.cluster_threshold) {
            return invalid(format!(
                "index.cluster_threshold is a cosine similarity within 0..=1, not {}",
                self.cluster_threshold
            ));
        }
        if self.cluster_max_points == 0 || self.drift.max_prompts == 0 {
            return invalid(
                "index.cluster_max_points and index.drift.max_prompts must be at least 1".into(),
            );
        }
        let d = &self.drift;
        for (name, v) in [
            ("index.flush_secs", self.flush_secs),
            ("index.drift.recent_secs", d.recent_secs),
            ("index.drift.baseline_secs", d.baseline_secs),
            ("index.drift.interval_secs", d.interval_secs),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return invalid(format!(
                    "{name} must be a positive number of seconds, not {v}"
                ));
            }
        }
        if !(0.0..=2.0).contains(&d.centroid_threshold) || !(0.0..=1.0).contains(&d.length_p_value)
        {
            return invalid(
                "index.drift.centroid_threshold must be within 0..=2 and length_p_value within 0..=1"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_backends_parse() {
        IndexConfig::default().validate().unwrap();
        assert_eq!("qdrant".parse::<IndexBackend>(), Ok(IndexBackend::Qdrant));
        assert!("pinecone".parse::<IndexBackend>().is_err());
        let mut c = IndexConfig {
            backend: IndexBackend::Qdrant,
            url: "127.0.0.1:6334".into(),
            ..IndexConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("index.url"));
        c.url = "http://q:6334".into();
        c.drift.recent_secs = 0.0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("recent_secs"));
    }
}
