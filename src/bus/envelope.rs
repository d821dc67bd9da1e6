//! The versioned JSON envelope a capture travels in: `{"v": 1, "exchange": {...}}`.

use serde::{Deserialize, Serialize};

use crate::domain::Exchange;

/// Current envelope version. Readers reject versions they do not know (dead letter, not a crash).
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct EnvelopeRef<'a, C> {
    v: u32,
    exchange: &'a Exchange<C>,
}

#[derive(Deserialize)]
struct EnvelopeOwned {
    v: u32,
    exchange: serde_json::Value,
}

/// Why a message could not be decoded (it becomes a dead letter).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a shadowtap envelope: {0}")]
    NotEnvelope(String),
    #[error("unsupported envelope version {0} (this build reads version {VERSION})")]
    Version(u32),
    #[error("invalid exchange in envelope: {0}")]
    Exchange(String),
}

/// Encode an exchange for the bus (bodies parsed, or kept as text by the tap: same wire form).
pub fn encode<C: Serialize>(exchange: &Exchange<C>) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&EnvelopeRef {
        v: VERSION,
        exchange,
    })
}

/// Decode a bus message.
pub fn decode(bytes: &[u8]) -> Result<Exchange, DecodeError> {
    let env: EnvelopeOwned =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::NotEnvelope(e.to_string()))?;
    if env.v != VERSION {
        return Err(DecodeError::Version(env.v));
    }
    serde_json::from_value(env.exchange).map_err(|e| DecodeError::Exchange(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CapturedBody, ExchangeId};

    pub(crate) fn sample() -> Exchange {
        Exchange {
            id: ExchangeId::new(),
            captured_at: chrono::Utc::now(),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            model: Some("gpt-4o-mini".into()),
            tags: [("team".to_string(), "search".to_string())].into(),
            request_headers: Default::default(),
            request: CapturedBody::whole(br#"{"model":"gpt-4o-mini","messages":[]}"#),
            response: CapturedBody::whole(b"not json"),
            status: 200,
            latency_ms: 12.5,
            ttfb_ms: Some(10.0),
            streamed: false,
            stream: None,
            incomplete: false,
        }
    }

    #[test]
    fn round_trips() {
        let ex = sample();
        assert_eq!(decode(&encode(&ex).unwrap()).unwrap(), ex);
    }

    #[test]
    fn rejects_garbage_and_unknown_versions() {
        assert!(matches!(
            decode(b"\x00\xff"),
            Err(DecodeError::NotEnvelope(_))
        ));
        assert!(matches!(
            decode(br#"{"v":2,"exchange":{}}"#),
            Err(DecodeError::Version(2))
        ));
        assert!(matches!(
            decode(br#"{"v":1,"exchange":{"id":1}}"#),
            Err(DecodeError::Exchange(_))
        ));
    }
}
