//! Kafka bus via rdkafka: a non-blocking producer for taps, a consumer-group member for workers.
//!
//! Producer: `ThreadedProducer::send` enqueues into librdkafka's bounded queue and returns at once;
//! `QueueFull` means drop-and-count, never wait. Delivery failures (broker down longer than
//! `message_timeout_ms`) are counted from delivery reports. Consumer: manual offset commits, issued
//! only when the worker acknowledges a delivery after storing its results.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::ack::AckTracker;
use super::{AckToken, BusError, CapturePublisher, Delivery, PublishError};
use crate::config::KafkaConfig;
use crate::telemetry::Metrics;

// === impl KafkaPublisher ===

/// Counts failed deliveries reported by librdkafka.
struct DeliveryCounter {
    metrics: Metrics,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((err, _)) = result {
            tracing::debug!(error = %err, "capture delivery failed");
            self.metrics
                .captures_dropped
                .with_label_values(&["delivery_failed"])
                .inc();
        }
    }
}

/// Publishes captures to a Kafka topic, keyed by exchange id.
pub struct KafkaPublisher {
    producer: ThreadedProducer<DeliveryCounter>,
    topic: String,
}

impl KafkaPublisher {
    /// Create the producer. Succeeds even if the broker is down (messages then time out and count).
    pub fn new(config: &KafkaConfig, metrics: &Metrics) -> Result<Self, BusError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set(
                "queue.buffering.max.messages",
                config.queue_max_messages.to_string(),
            )
            .set("queue.buffering.max.kbytes", "131072")
            .set("message.timeout.ms", config.message_timeout_ms.to_string())
            .set("linger.ms", "5")
            .set("socket.keepalive.enable", "true")
            .create_with_context(DeliveryCounter {
                metrics: metrics.clone(),
            })?;
        Ok(Self {
            producer,
            topic: config.topic.clone(),
        })
    }

    /// Wait up to `timeout` for queued captures to be delivered (shutdown).
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(timeout) {
            tracing::warn!(error = %e, "kafka producer flush incomplete");
        }
    }
}

impl CapturePublisher for KafkaPublisher {
    fn try_publish(&self, key: &str, payload: Vec<u8>) -> Result<(), PublishError> {
        let record = BaseRecord::to(&self.topic).key(key).payload(&payload);
        self.producer.send(record).map_err(|(err, _)| match err {
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => PublishError::Full,
            other => PublishError::Unavailable(other.to_string()),
        })
    }
}

impl Drop for KafkaPublisher {
    fn drop(&mut self) {
        self.flush(Duration::from_secs(5));
    }
}

// === impl KafkaSource ===

/// A member of the workers' consumer group.
pub struct KafkaSource {
    consumer: Arc<StreamConsumer>,
    acks: Mutex<AckTracker>,
    lag_task: tokio::task::JoinHandle<()>,
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.lag_task.abort();
    }
}

/// Every 10 s: lag per assigned partition = high watermark − the group's position.
async fn report_lag(consumer: std::sync::Weak<StreamConsumer>, metrics: Metrics) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    loop {
        tick.tick().await;
        let Some(consumer) = consumer.upgrade() else {
            return;
        };
        let lags = tokio::task::spawn_blocking(move || {
            let mut lags = Vec::new();
            let (Ok(assigned), Ok(positions)) = (consumer.assignment(), consumer.position()) else {
                return lags;
            };
            for elem in assigned.elements() {
                let Ok((_, high)) = consumer.fetch_watermarks(
                    elem.topic(),
                    elem.partition(),
                    Duration::from_secs(2),
                ) else {
                    continue;
                };
                let position = positions
                    .find_partition(elem.topic(), elem.partition())
                    .and_then(|p| p.offset().to_raw())
                    .filter(|o| *o >= 0);
                if let Some(position) = position {
                    lags.push((elem.partition(), (high - position).max(0)));
                }
            }
            lags
        })
        .await
        .unwrap_or_default();
        for (partition, lag) in lags {
            metrics
                .kafka_lag
                .with_label_values(&[&partition.to_string()])
                .set(lag);
        }
    }
}

impl KafkaSource {
    /// Join the group and subscribe to the topic (partitions are assigned on the first poll).
    pub fn subscribe(config: &KafkaConfig, metrics: &Metrics) -> Result<Self, BusError> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &config.brokers)
            .set("group.id", &config.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("enable.partition.eof", "false")
            .create()?;
        consumer.subscribe(&[&config.topic])?;
        let consumer = Arc::new(consumer);
        let lag_task = tokio::spawn(report_lag(Arc::downgrade(&consumer), metrics.clone()));
        Ok(Self {
            consumer,
            acks: Mutex::new(AckTracker::default()),
            lag_task,
        })
    }

    /// The next message (waits for one). It counts as in flight until acknowledged.
    pub async fn next(&self) -> Result<Delivery, BusError> {
        let msg = self.consumer.recv().await?;
        self.acks.lock().expect("ack tracker poisoned").begin(
            msg.topic(),
            msg.partition(),
            msg.offset(),
        );
        Ok(Delivery {
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: msg.payload().unwrap_or_default().to_vec(),
            origin: format!("{}/{}@{}", msg.topic(), msg.partition(), msg.offset()),
            ack: AckToken::Kafka {
                topic: msg.topic().to_owned(),
                partition: msg.partition(),
                offset: msg.offset(),
            },
        })
    }

    /// Mark `offset` as processed; commits as far as no earlier delivery is still in flight.
    pub fn commit(&self, topic: &str, partition: i32, offset: i64) -> Result<(), BusError> {
        let next = self
            .acks
            .lock()
            .expect("ack tracker poisoned")
            .complete(topic, partition, offset);
        if let Some(next) = next {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, partition, Offset::Offset(next))?;
            self.consumer.commit(&tpl, CommitMode::Async)?;
        }
        Ok(())
    }

    /// Synchronously commit every acknowledged offset (shutdown).
    pub fn commit_sync_now(&self) {
        let committed = self.acks.lock().expect("ack tracker poisoned").committed();
        if committed.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (topic, partition, next) in committed {
            let _ = tpl.add_partition_offset(&topic, partition, Offset::Offset(next));
        }
        if let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync) {
            tracing::warn!(error = %e, "final offset commit failed; the last messages may be redelivered");
        }
    }
}

/// Create the topic if it does not exist (idempotent).
pub async fn ensure_topic(config: &KafkaConfig) -> Result<(), BusError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &config.brokers)
        .create()?;
    let topic = NewTopic::new(&config.topic, config.partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = tokio::time::timeout(
        Duration::from_secs(15),
        admin.create_topics([&topic], &options),
    )
    .await
    .map_err(|_| {
        BusError::Other(format!(
            "no answer from kafka at {} within 15 s",
            config.brokers
        ))
    })??;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(BusError::Other(format!("creating topic {name}: {code}")))
            }
        }
    }
    Ok(())
}
