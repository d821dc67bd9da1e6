//! Logging (tracing) and the Prometheus metrics every stage reports into.
//!
//! Each running application owns its own [`Metrics`] (and registry), so several apps can run in
//! one test process without sharing counters.

use prometheus::{
    CounterVec, Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Install the global tracing subscriber (`SHADOWTAP_LOG` or `RUST_LOG`, default `info`).
pub fn init_tracing() {
    let filter = std::env::var("SHADOWTAP_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn,hyper=warn,rdkafka=warn,qdrant_edge=error".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// All metrics of one shadowtap process, named once here.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests through the tap, by captured route (or `other`) and status.
    pub tap_requests: IntCounterVec,
    /// Upstream time to response head, seconds, by route.
    pub tap_upstream_seconds: HistogramVec,
    /// Upstream time to first body byte, seconds, by route.
    pub tap_ttfb_seconds: HistogramVec,
    /// Captures handed to the bus.
    pub captures_published: IntCounter,
    /// Bus records they were packed into (published / records = exchanges per record).
    pub capture_records: IntCounter,
    /// Captures not delivered, by reason (`tap_queue_full`, `bus_full`, `bus_unavailable`, `delivery_failed`, `encode`).
    pub captures_dropped: IntCounterVec,
    /// Requests on captured routes that were not captured, by reason (`sampled_out`, `model_excluded`).
    pub captures_skipped: IntCounterVec,
    /// Values masked in captured bodies, by kind.
    pub redactions: IntCounterVec,
    /// Body bytes through the tap, by direction (`request`, `response`).
    pub tap_bytes: IntCounterVec,
    /// Captures whose request or response body was cut at `tap.max_capture_bytes`.
    pub captures_truncated: IntCounter,
    /// Messages the worker finished, by outcome (`stored`, `dead_letter`).
    pub worker_messages: IntCounterVec,
    /// Store operations retried after a transient database error.
    pub store_retries: IntCounter,
    /// Replays, by candidate and outcome (`ok` or an error class).
    pub replays: IntCounterVec,
    /// Diffs, by candidate and verdict.
    pub diffs: IntCounterVec,
    /// Replays currently in flight.
    pub replays_in_flight: IntGauge,
    /// Exchanges not replayed to a candidate, by reason (`share`, `budget`).
    pub replays_skipped: IntCounterVec,
    /// Retries of candidate requests, by candidate and error class.
    pub replay_retries: IntCounterVec,
    /// Seconds spent waiting for a candidate's rate limits.
    pub rate_limit_wait_seconds: CounterVec,
    /// Today's spend per candidate, USD.
    pub spend_usd: GaugeVec,
    /// Messages not yet consumed by this worker's group member, per assigned partition.
    pub kafka_lag: IntGaugeVec,
    /// Partitions currently assigned to this worker's group member.
    pub kafka_assigned_partitions: IntGauge,
    /// Consumer-group rebalances seen by this worker, by kind (`assign`, `revoke`, `error`).
    pub kafka_rebalances: IntCounterVec,
    /// Points written to the vector index, by collection (`regressions`, `prompts`).
    pub index_points: IntCounterVec,
    /// Vector index writes that failed (logged; the delivery goes on), by collection.
    pub index_failures: IntCounterVec,
    /// Prompt drift per route: centroid cosine distance of recent prompts to the baseline window.
    pub prompt_drift: GaugeVec,
}

impl Metrics {
    /// Create and register every metric in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let histogram = |name: &str, help: &str| {
            let buckets = vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
            ];
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), &["route"])
                .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("unique metric");
            h
        };
        let replays_in_flight =
            IntGauge::new("shadowtap_replays_in_flight", "Replays currently in flight")
                .expect("valid metric");
        registry
            .register(Box::new(replays_in_flight.clone()))
            .expect("unique metric");
        let kafka_assigned_partitions = IntGauge::new(
            "shadowtap_kafka_assigned_partitions",
            "Partitions currently assigned to this worker",
        )
        .expect("valid metric");
        registry
            .register(Box::new(kafka_assigned_partitions.clone()))
            .expect("unique metric");
        Self {
            kafka_assigned_partitions,
            kafka_rebalances: counter_vec(
                "shadowtap_kafka_rebalances_total",
                "Consumer-group rebalances seen by this worker, by kind",
                &["kind"],
            ),
            tap_requests: counter_vec(
                "shadowtap_tap_requests_total",
                "Requests through the tap",
                &["route", "status"],
            ),
            tap_upstream_seconds: histogram(
                "shadowtap_tap_upstream_seconds",
                "Upstream time to response head",
            ),
            tap_ttfb_seconds: histogram(
                "shadowtap_tap_ttfb_seconds",
                "Upstream time to first body byte",
            ),
            captures_published: counter(
                "shadowtap_captures_published_total",
                "Captures handed to the bus",
            ),
            capture_records: counter(
                "shadowtap_capture_records_total",
                "Bus records the published captures were packed into",
            ),
            captures_dropped: counter_vec(
                "shadowtap_captures_dropped_total",
                "Captures not delivered, by reason",
                &["reason"],
            ),
            captures_skipped: counter_vec(
                "shadowtap_captures_skipped_total",
                "Requests on captured routes not captured, by reason",
                &["reason"],
            ),
            redactions: counter_vec(
                "shadowtap_redactions_total",
                "Values masked in captured bodies, by kind",
                &["kind"],
            ),
            tap_bytes: counter_vec(
                "shadowtap_tap_bytes_total",
                "Body bytes through the tap (captured routes), by direction",
                &["direction"],
            ),
            captures_truncated: counter(
                "shadowtap_captures_truncated_total",
                "Captures with a body cut at the capture limit",
            ),
            worker_messages: counter_vec(
                "shadowtap_worker_messages_total",
                "Bus messages the worker finished",
                &["outcome"],
            ),
            store_retries: counter(
                "shadowtap_store_retries_total",
                "Store operations retried after a transient database error",
            ),
            replays: counter_vec(
                "shadowtap_replays_total",
                "Replays by candidate and outcome",
                &["candidate", "outcome"],
            ),
            diffs: counter_vec(
                "shadowtap_diffs_total",
                "Diffs by candidate and verdict",
                &["candidate", "verdict"],
            ),
            replays_in_flight,
            replays_skipped: counter_vec(
                "shadowtap_replays_skipped_total",
                "Exchanges not replayed to a candidate, by reason",
                &["candidate", "reason"],
            ),
            replay_retries: counter_vec(
                "shadowtap_replay_retries_total",
                "Retries of candidate requests",
                &["candidate", "class"],
            ),
            rate_limit_wait_seconds: {
                let c = CounterVec::new(
                    Opts::new(
                        "shadowtap_rate_limit_wait_seconds_total",
                        "Time spent waiting for rate limits",
                    ),
                    &["candidate"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(c.clone()))
                    .expect("unique metric");
                c
            },
            spend_usd: {
                let g = GaugeVec::new(
                    Opts::new("shadowtap_spend_usd", "Today's spend per candidate (USD)"),
                    &["candidate"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(g.clone()))
                    .expect("unique metric");
                g
            },
            kafka_lag: {
                let g = IntGaugeVec::new(
                    Opts::new(
                        "shadowtap_kafka_lag",
                        "Unconsumed messages per assigned partition",
                    ),
                    &["partition"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(g.clone()))
                    .expect("unique metric");
                g
            },
            index_points: counter_vec(
                "shadowtap_index_points_total",
                "Points written to the vector index, by collection",
                &["collection"],
            ),
            index_failures: counter_vec(
                "shadowtap_index_failures_total",
                "Vector index writes that failed, by collection",
                &["collection"],
            ),
            prompt_drift: {
                let g = GaugeVec::new(
                    Opts::new(
                        "shadowtap_prompt_drift",
                        "Centroid cosine distance of recent prompts to the baseline window, per route",
                    ),
                    &["route"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(g.clone()))
                    .expect("unique metric");
                g
            },
            registry,
        }
    }

    /// Total captures dropped, all reasons.
    pub fn dropped_total(&self) -> u64 {
        [
            "tap_queue_full",
            "bus_full",
            "bus_unavailable",
            "delivery_failed",
            "encode",
        ]
        .iter()
        .map(|r| self.captures_dropped.with_label_values(&[r]).get())
        .sum()
    }

    /// Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding never fails");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `/healthz` and `/metrics` for processes without another listener (a standalone worker).
pub fn admin_router(metrics: Metrics) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        metrics.render(),
                    )
                }
            }),
        )
}
