//! The in-process bus: a bounded channel. Single node only; captures in flight die with the process.

use tokio::sync::mpsc;

use super::{AckToken, CapturePublisher, Delivery, PublishError, Record};

/// Publishing half of the memory bus.
pub struct MemoryPublisher {
    tx: mpsc::Sender<(String, Vec<u8>)>,
}

/// Receiving half of the memory bus.
pub struct MemorySource {
    rx: mpsc::Receiver<(String, Vec<u8>)>,
    received: u64,
}

/// A bounded memory bus of `capacity` messages.
pub fn channel(capacity: usize) -> (MemoryPublisher, MemorySource) {
    let (tx, rx) = mpsc::channel(capacity);
    (MemoryPublisher { tx }, MemorySource { rx, received: 0 })
}

impl CapturePublisher for MemoryPublisher {
    /// One message per record; the capture thread gives this bus single-exchange records (its
    /// capacity counts messages).
    fn try_publish(&self, record: Record) -> Result<(), PublishError> {
        self.tx
            .try_send((record.key, record.payload))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => PublishError::Full,
                mpsc::error::TrySendError::Closed(_) => {
                    PublishError::Unavailable("memory bus closed".into())
                }
            })
    }
}

impl MemorySource {
    /// The next message, or `None` when every publisher is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        let (key, payload) = self.rx.recv().await?;
        self.received += 1;
        Some(Delivery {
            key: Some(key),
            payload,
            origin: format!("memory#{}", self.received),
            ack: AckToken::None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_is_reported_without_waiting() {
        let record = |key: &str, payload: &[u8]| Record {
            key: key.into(),
            payload: payload.to_vec(),
            exchanges: 1,
        };
        let (p, mut s) = channel(1);
        p.try_publish(record("a", b"1")).unwrap();
        assert!(matches!(
            p.try_publish(record("b", b"2")),
            Err(PublishError::Full)
        ));
        let d = s.next().await.unwrap();
        assert_eq!(d.payload, b"1");
        assert_eq!(d.key.as_deref(), Some("a"));
    }
}
