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
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::ack::AckTracker;
use super::stall::{PartitionProgress, StallWatch};
use super::{AckToken, BatchLimits, BusError, CapturePublisher, Delivery, PublishError, Record};
use crate::config::KafkaConfig;
use crate::telemetry::Metrics;

// === impl KafkaPublisher ===

/// Counts failed deliveries reported by librdkafka.
struct DeliveryCounter {
    metrics: Metrics,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    /// Exchanges in the record.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, exchanges: usize) {
        if let Err((err, _)) = result {
            tracing::debug!(error = %err, exchanges, "capture delivery failed");
            self.metrics
                .captures_dropped
                .with_label_values(&["delivery_failed"])
                .inc_by(exchanges as u64);
        }
    }
}

/// Publishes captures to a Kafka topic, keyed by exchange id.
pub struct KafkaPublisher {
    producer: ThreadedProducer<DeliveryCounter>,
    topic: String,
    batch: BatchLimits,
}

impl KafkaPublisher {
    /// Create the producer. Succeeds even if the broker is down (messages then time out and count).
    pub fn new(config: &KafkaConfig, metrics: &Metrics) -> Result<Self, BusError> {
        let producer = client_config(config)
            .set(
                "queue.buffering.max.messages",
                config.queue_max_messages.to_string(),
            )
            .set("queue.buffering.max.kbytes", "131072")
            .set("message.timeout.ms", config.message_timeout_ms.to_string())
            .set("linger.ms", config.linger_ms.to_string())
            // Only failures are counted: no delivery report (and no wake-up of the polling
            // thread) per successful record.
            .set("delivery.report.only.error", "true")
            .set("socket.keepalive.enable", "true")
            .create_with_context(DeliveryCounter {
                metrics: metrics.clone(),
            })?;
        Ok(Self {
            producer,
            topic: config.topic.clone(),
            batch: BatchLimits {
                max_exchanges: config.batch_max_exchanges,
                max_bytes: config.batch_max_bytes,
            },
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
    fn try_publish(&self, record: Record) -> Result<(), PublishError> {
        let message = BaseRecord::with_opaque_to(&self.topic, record.exchanges)
            .key(&record.key)
            .payload(&record.payload);
        self.producer.send(message).map_err(|(err, _)| match err {
            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => PublishError::Full,
            other => PublishError::Unavailable(other.to_string()),
        })
    }

    fn batch_limits(&self) -> BatchLimits {
        self.batch
    }
}

impl Drop for KafkaPublisher {
    fn drop(&mut self) {
        self.flush(Duration::from_secs(5));
    }
}

// === impl KafkaSource ===

/// Keeps the ack tracker and metrics in step with the group's partition assignment.
///
/// On revoke, offsets acknowledged so far are committed synchronously (so the next owner resumes
/// as late as possible) and the partitions are forgotten: deliveries from them still finishing
/// here commit nothing, which keeps a stale owner from committing over the new one's progress.
pub struct GroupContext {
    acks: Arc<Mutex<AckTracker>>,
    metrics: Metrics,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else {
            return;
        };
        self.metrics
            .kafka_rebalances
            .with_label_values(&["revoke"])
            .inc();
        let mut last = TopicPartitionList::new();
        {
            let mut acks = self.acks.lock().expect("ack tracker poisoned");
            for elem in revoked.elements() {
                if let Some(next) = acks.forget(elem.topic(), elem.partition()) {
                    let _ = last.add_partition_offset(
                        elem.topic(),
                        elem.partition(),
                        Offset::Offset(next),
                    );
                }
                let _ = self
                    .metrics
                    .kafka_lag
                    .remove_label_values(&[&elem.partition().to_string()]);
            }
        }
        if last.count() > 0 {
            // A synchronous commit waits for the coordinator (librdkafka defers it up to the
            // session timeout when the broker is gone and the assignment lost); this callback runs
            // inside `recv()` on a runtime thread, which in `serve` the tap shares.
            let commit = || consumer.commit(&last, CommitMode::Sync);
            if let Err(e) = off_runtime(commit) {
                tracing::warn!(error = %e, "commit on revoke failed; the next owner may redo a few messages");
            }
        }
        self.metrics.kafka_assigned_partitions.set(0);
        tracing::info!(partitions = %partitions(revoked), "partitions revoked");
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(assigned) => {
                self.metrics
                    .kafka_rebalances
                    .with_label_values(&["assign"])
                    .inc();
                self.metrics
                    .kafka_assigned_partitions
                    .set(assigned.count() as i64);
                tracing::info!(partitions = %partitions(assigned), "partitions assigned");
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                self.metrics
                    .kafka_rebalances
                    .with_label_values(&["error"])
                    .inc();
                tracing::warn!(error = %e, "consumer group rebalance failed");
            }
        }
    }
}

/// Run a blocking librdkafka call from code that may sit on a runtime worker thread, without
/// stalling the tasks queued on that thread (the tap's requests, in `serve`).
fn off_runtime<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Sorted partition ids, for logs.
fn partitions(tpl: &TopicPartitionList) -> String {
    let mut ids: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    ids.sort_unstable();
    format!("{ids:?}")
}

/// A member of the workers' consumer group.
pub struct KafkaSource {
    consumer: Arc<StreamConsumer<GroupContext>>,
    acks: Arc<Mutex<AckTracker>>,
    lag_task: tokio::task::JoinHandle<()>,
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.lag_task.abort();
    }
}

/// Every 10 s: lag per assigned partition = high watermark − the group's position; and whether a
/// partition nobody consumes needs a forced rebalance (see [`super::stall`]).
async fn report_lag(
    consumer: std::sync::Weak<StreamConsumer<GroupContext>>,
    topic: String,
    metrics: Metrics,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut stall = StallWatch::new(Duration::from_secs(30));
    loop {
        tick.tick().await;
        let Some(consumer) = consumer.upgrade() else {
            return;
        };
        let checked = tokio::task::spawn_blocking({
            let topic = topic.clone();
            move || {
                let mut lags = Vec::new();
                let (Ok(assigned), Ok(positions)) = (consumer.assignment(), consumer.position())
                else {
                    return (lags, None, consumer);
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
                let progress = topic_progress(&consumer, &topic, &assigned);
                (lags, progress, consumer)
            }
        })
        .await;
        let Ok((lags, progress, consumer)) = checked else {
            continue;
        };
        for (partition, lag) in lags {
            metrics
                .kafka_lag
                .with_label_values(&[&partition.to_string()])
                .set(lag);
        }
        let Some(progress) = progress else {
            continue;
        };
        let orphaned = stall.observe(std::time::Instant::now(), &progress);
        if !orphaned.is_empty() {
            tracing::warn!(
                partitions = ?orphaned,
                "partitions with waiting messages made no progress for a while and are not ours; rejoining the group to force a rebalance"
            );
            metrics
                .kafka_rebalances
                .with_label_values(&["forced_rejoin"])
                .inc();
            let topic = topic.clone();
            let _ = tokio::task::spawn_blocking(move || {
                consumer.unsubscribe();
                if let Err(e) = consumer.subscribe(&[&topic]) {
                    tracing::error!(error = %e, "rejoining the consumer group failed");
                }
            })
            .await;
        }
    }
}

/// Every partition of `topic`: held by us or not, the group's committed offset and the lag after it.
fn topic_progress(
    consumer: &StreamConsumer<GroupContext>,
    topic: &str,
    assigned: &TopicPartitionList,
) -> Option<Vec<PartitionProgress>> {
    let timeout = Duration::from_secs(2);
    let metadata = consumer.fetch_metadata(Some(topic), timeout).ok()?;
    let partitions = metadata.topics().first()?.partitions().len() as i32;
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(tpl, timeout).ok()?;
    let mut out = Vec::with_capacity(partitions as usize);
    for elem in committed.elements() {
        let (low, high) = consumer
            .fetch_watermarks(topic, elem.partition(), timeout)
            .ok()?;
        let at = match elem.offset() {
            Offset::Offset(o) => o,
            _ => low, // nothing committed yet: everything from the start waits
        };
        out.push(PartitionProgress {
            partition: elem.partition(),
            mine: assigned.find_partition(topic, elem.partition()).is_some(),
            lag: (high - at).max(0),
            committed: at,
        });
    }
    Some(out)
}

impl KafkaSource {
    /// Join the group and subscribe to the topic (partitions are assigned on the first poll).
    pub fn subscribe(config: &KafkaConfig, metrics: &Metrics) -> Result<Self, BusError> {
        let acks = Arc::new(Mutex::new(AckTracker::default()));
        let consumer: StreamConsumer<GroupContext> = client_config(config)
            .set("group.id", &config.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("enable.partition.eof", "false")
            .create_with_context(GroupContext {
                acks: acks.clone(),
                metrics: metrics.clone(),
            })?;
        consumer.subscribe(&[&config.topic])?;
        let consumer = Arc::new(consumer);
        let lag_task = tokio::spawn(report_lag(
            Arc::downgrade(&consumer),
            config.topic.clone(),
            metrics.clone(),
        ));
        Ok(Self {
            consumer,
            acks,
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
        if let Err(e) = off_runtime(|| self.consumer.commit(&tpl, CommitMode::Sync)) {
            tracing::warn!(error = %e, "final offset commit failed; the last messages may be redelivered");
        }
    }
}

/// A client config with the brokers and the user's extra properties (`bus.kafka.properties`:
/// security, tuning); the caller then sets what shadowtap owns (validation keeps those out).
fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    for (name, value) in config.properties.iter() {
        client.set(name, value);
    }
    client.set("bootstrap.servers", &config.brokers);
    client
}

/// Create the topic if it does not exist (idempotent).
pub async fn ensure_topic(config: &KafkaConfig) -> Result<(), BusError> {
    let admin: AdminClient<DefaultClientContext> = client_config(config).create()?;
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
