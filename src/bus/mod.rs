//! The capture bus between taps and workers.
//!
//! Two halves with deliberately different contracts:
//! - [`CapturePublisher::try_publish`] is synchronous and never waits: a full or unavailable bus
//!   is reported at once so the caller can drop and count (the tap never awaits the bus).
//! - [`CaptureSource`] hands out [`Delivery`]s that are acknowledged only after the worker has
//!   stored their results, so a crash replays them instead of losing them.
//!
//! Implementations: [`kafka`] (durable, scales out) and [`memory`] (in-process, single node).

pub mod ack;
pub mod envelope;
pub mod kafka;
pub mod memory;
pub mod stall;

use std::sync::Arc;

pub use envelope::{BatchLimits, Record};

use crate::config::{BusConfig, BusKind};
use crate::telemetry::Metrics;

/// Why a publish did not happen. The caller drops the capture and counts it.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the bus queue is full")]
    Full,
    #[error("the bus is unavailable: {0}")]
    Unavailable(String),
}

impl PublishError {
    /// Metric label for the drop reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Full => "bus_full",
            Self::Unavailable(_) => "bus_unavailable",
        }
    }
}

/// Errors receiving or acknowledging deliveries.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("{0}")]
    Other(String),
}

/// Publishes encoded captures without ever waiting.
pub trait CapturePublisher: Send + Sync + 'static {
    /// Hand a record to the bus, or fail at once.
    fn try_publish(&self, record: Record) -> Result<(), PublishError>;

    /// How many exchanges this bus's records may hold (see [`envelope::Packer`]).
    fn batch_limits(&self) -> BatchLimits {
        BatchLimits::SINGLE
    }
}

/// One message from the bus, to be acknowledged after its results are stored.
#[derive(Debug)]
pub struct Delivery {
    pub key: Option<String>,
    pub payload: Vec<u8>,
    /// Where it came from, for logs and dead letters (e.g. `topic/2@1234`).
    pub origin: String,
    ack: AckToken,
}

#[derive(Debug)]
enum AckToken {
    None,
    Kafka {
        topic: String,
        partition: i32,
        offset: i64,
    },
}

/// The receiving half of a bus.
pub enum CaptureSource {
    Memory(memory::MemorySource),
    Kafka(kafka::KafkaSource),
}

impl CaptureSource {
    /// The next delivery; `Ok(None)` once the bus is closed for good.
    pub async fn next(&mut self) -> Result<Option<Delivery>, BusError> {
        match self {
            Self::Memory(s) => Ok(s.next().await),
            Self::Kafka(s) => s.next().await.map(Some),
        }
    }

    /// Acknowledge a delivery whose results are stored.
    pub fn ack(&self, delivery: &Delivery) -> Result<(), BusError> {
        match (self, &delivery.ack) {
            (
                Self::Kafka(s),
                AckToken::Kafka {
                    topic,
                    partition,
                    offset,
                },
            ) => s.commit(topic, *partition, *offset),
            _ => Ok(()),
        }
    }

    /// Make sure acknowledged offsets are durable (called on shutdown).
    pub fn flush_acks(&self) {
        if let Self::Kafka(s) = self {
            s.commit_sync_now();
        }
    }
}

/// A connected bus: publisher for taps, source for workers.
pub struct Bus {
    pub publisher: Arc<dyn CapturePublisher>,
    /// The memory bus's receiving half; for Kafka, sources are opened per worker with [`Bus::source`].
    memory_source: Option<memory::MemorySource>,
    config: BusConfig,
    metrics: Metrics,
}

impl Bus {
    /// Connect the configured bus. For Kafka this creates the producer (the broker may be down:
    /// captures are then dropped and counted, the tap keeps serving).
    pub fn connect(config: &BusConfig, metrics: &Metrics) -> Result<Self, BusError> {
        match config.kind {
            BusKind::Memory => {
                let (publisher, source) = memory::channel(config.memory_capacity);
                Ok(Self {
                    publisher: Arc::new(publisher),
                    memory_source: Some(source),
                    config: config.clone(),
                    metrics: metrics.clone(),
                })
            }
            BusKind::Kafka => Ok(Self {
                publisher: Arc::new(kafka::KafkaPublisher::new(&config.kafka, metrics)?),
                memory_source: None,
                config: config.clone(),
                metrics: metrics.clone(),
            }),
        }
    }

    /// Open the receiving half. The memory bus has exactly one source; Kafka opens a group member.
    pub async fn source(&mut self) -> Result<CaptureSource, BusError> {
        match self.config.kind {
            BusKind::Memory => self
                .memory_source
                .take()
                .map(CaptureSource::Memory)
                .ok_or_else(|| BusError::Other("the memory bus has a single consumer".into())),
            BusKind::Kafka => Ok(CaptureSource::Kafka(kafka::KafkaSource::subscribe(
                &self.config.kafka,
                &self.metrics,
            )?)),
        }
    }
}
