//! The versioned JSON envelope captures travel in. A bus record holds one exchange or several:
//!
//! - version 1, one exchange: `{"v":1,"exchange":{...}}`
//! - version 2, a batch: `{"v":2,"exchanges":[{...},{...}]}`
//!
//! The tap packs the exchanges it has ready into one record ([`Packer`]) so the broker and the
//! Kafka client pay their per-record costs once per batch; a batch of one is written as version 1,
//! which every reader understands. Readers decode each exchange of a batch on its own
//! ([`decode_record`]): one bad exchange becomes one dead letter, not a lost batch.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::Exchange;

/// Version of a single-exchange envelope.
pub const VERSION: u32 = 1;
/// Version of a batch envelope.
pub const BATCH_VERSION: u32 = 2;

const SINGLE_HEAD: &[u8] = br#"{"v":1,"exchange":"#;
const SINGLE_TAIL: &[u8] = b"}";
const BATCH_HEAD: &[u8] = br#"{"v":2,"exchanges":["#;
const BATCH_TAIL: &[u8] = b"]}";

#[derive(Serialize)]
struct EnvelopeRef<'a, C> {
    v: u32,
    exchange: &'a Exchange<C>,
}

#[derive(Deserialize)]
struct EnvelopeBorrowed<'a> {
    v: u32,
    #[serde(borrow, default)]
    exchange: Option<&'a RawValue>,
    #[serde(borrow, default)]
    exchanges: Option<Vec<&'a RawValue>>,
}

/// Why a message (or one exchange of it) could not be decoded: it becomes a dead letter.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a shadowtap envelope: {0}")]
    NotEnvelope(String),
    #[error("unsupported envelope version {0} (this build reads versions {VERSION} and {BATCH_VERSION})")]
    Version(u32),
    #[error("invalid exchange in envelope: {0}")]
    Exchange(String),
}

/// Encode one exchange as a version-1 envelope (bodies parsed, or kept as text by the tap: same
/// wire form).
pub fn encode<C: Serialize>(exchange: &Exchange<C>) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&EnvelopeRef {
        v: VERSION,
        exchange,
    })
}

/// Encode a batch of already encoded exchanges as a version-2 envelope (tests and tools; the tap
/// uses a [`Packer`]).
pub fn encode_batch<'a>(exchanges: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = BATCH_HEAD.to_vec();
    for (i, ex) in exchanges.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(ex);
    }
    out.extend_from_slice(BATCH_TAIL);
    out
}

/// Decode a message holding exactly one exchange (version 1, or a batch of one).
pub fn decode(bytes: &[u8]) -> Result<Exchange, DecodeError> {
    let mut items = decode_record(bytes)?;
    match (items.pop(), items.is_empty()) {
        (Some(item), true) => item.map_err(|bad| bad.error),
        _ => Err(DecodeError::NotEnvelope(
            "a batch where one exchange was expected".into(),
        )),
    }
}

/// One exchange of a record, decoded on its own.
pub type Item = Result<Exchange, BadExchange>;

/// An exchange of a readable record that does not decode.
#[derive(Debug)]
pub struct BadExchange {
    pub error: DecodeError,
    /// The exchange's own version-1 envelope: what its dead letter keeps (not its neighbours).
    pub envelope: Vec<u8>,
}

/// Decode a bus record of either version into its exchanges, in order. `Err` when the record as
/// a whole is unreadable (garbage, unknown version); a bad exchange inside a readable batch is an
/// `Err` item.
pub fn decode_record(bytes: &[u8]) -> Result<Vec<Item>, DecodeError> {
    let env: EnvelopeBorrowed<'_> =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::NotEnvelope(e.to_string()))?;
    let item = |raw: &RawValue, envelope: &dyn Fn() -> Vec<u8>| {
        serde_json::from_str(raw.get()).map_err(|e| BadExchange {
            error: DecodeError::Exchange(e.to_string()),
            envelope: envelope(),
        })
    };
    match (env.v, env.exchange, env.exchanges) {
        (VERSION, Some(raw), None) => Ok(vec![item(raw, &|| bytes.to_vec())]),
        (BATCH_VERSION, None, Some(raws)) => Ok(raws
            .into_iter()
            .map(|raw| item(raw, &|| single(raw.get().as_bytes())))
            .collect()),
        (VERSION | BATCH_VERSION, ..) => Err(DecodeError::NotEnvelope(format!(
            "a version {} envelope holds {}",
            env.v,
            if env.v == VERSION {
                "\"exchange\" (and no \"exchanges\")"
            } else {
                "\"exchanges\" (and no \"exchange\")"
            }
        ))),
        (v, ..) => Err(DecodeError::Version(v)),
    }
}

/// A version-1 envelope around an encoded exchange.
fn single(exchange: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SINGLE_HEAD.len() + exchange.len() + SINGLE_TAIL.len());
    out.extend_from_slice(SINGLE_HEAD);
    out.extend_from_slice(exchange);
    out.extend_from_slice(SINGLE_TAIL);
    out
}

/// One bus record, ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The first exchange's id (spreads records over partitions).
    pub key: String,
    pub payload: Vec<u8>,
    /// Exchanges in the record (what publish and drop counters count).
    pub exchanges: usize,
}

/// How many exchanges one record may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// At most this many exchanges per record; 1 writes every exchange as its own version-1
    /// record.
    pub max_exchanges: usize,
    /// A record closes before an exchange would take it past this many bytes (an exchange larger
    /// than this travels alone).
    pub max_bytes: usize,
}

impl BatchLimits {
    /// One exchange per record.
    pub const SINGLE: Self = Self {
        max_exchanges: 1,
        max_bytes: usize::MAX,
    };
}

/// Packs encoded exchanges into records within [`BatchLimits`]. Pure: the caller decides when a
/// record closes early ([`Packer::finish`], e.g. when no more exchanges are waiting).
#[derive(Debug)]
pub struct Packer {
    limits: BatchLimits,
    /// Encoded exchanges joined by commas.
    body: Vec<u8>,
    count: usize,
    key: String,
}

impl Packer {
    pub fn new(limits: BatchLimits) -> Self {
        Self {
            limits: BatchLimits {
                max_exchanges: limits.max_exchanges.max(1),
                max_bytes: limits.max_bytes,
            },
            body: Vec::new(),
            count: 0,
            key: String::new(),
        }
    }

    /// Add an encoded exchange keyed by `key`; records that close on the way (the open one if
    /// this exchange does not fit, and this one's if it is then full) go to `emit`.
    pub fn push(&mut self, key: &str, exchange: &[u8], mut emit: impl FnMut(Record)) {
        let grown = self.body.len() + 1 + exchange.len() + BATCH_HEAD.len() + BATCH_TAIL.len();
        if self.count > 0 && grown > self.limits.max_bytes {
            emit(self.take());
        }
        if self.count == 0 {
            self.key.clear();
            self.key.push_str(key);
        } else {
            self.body.push(b',');
        }
        self.body.extend_from_slice(exchange);
        self.count += 1;
        if self.count >= self.limits.max_exchanges {
            emit(self.take());
        }
    }

    /// Close the open record, if it holds anything.
    pub fn finish(&mut self) -> Option<Record> {
        (self.count > 0).then(|| self.take())
    }

    /// Exchanges in the open record.
    pub fn pending(&self) -> usize {
        self.count
    }

    fn take(&mut self) -> Record {
        let (head, tail) = if self.count == 1 {
            (SINGLE_HEAD, SINGLE_TAIL)
        } else {
            (BATCH_HEAD, BATCH_TAIL)
        };
        let mut payload = Vec::with_capacity(head.len() + self.body.len() + tail.len());
        payload.extend_from_slice(head);
        payload.extend_from_slice(&self.body);
        payload.extend_from_slice(tail);
        self.body.clear();
        let record = Record {
            key: std::mem::take(&mut self.key),
            payload,
            exchanges: self.count,
        };
        self.count = 0;
        record
    }
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

    fn exchanges(items: Vec<Item>) -> Vec<Exchange> {
        items.into_iter().map(|i| i.unwrap()).collect()
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
            decode(br#"{"v":3,"exchange":{}}"#),
            Err(DecodeError::Version(3))
        ));
        assert!(matches!(
            decode(br#"{"v":1,"exchange":{"id":1}}"#),
            Err(DecodeError::Exchange(_))
        ));
        for mixed in [
            &br#"{"v":1,"exchanges":[]}"#[..],
            br#"{"v":2,"exchange":{}}"#,
            br#"{"v":1}"#,
            br#"{"v":2,"exchange":{},"exchanges":[]}"#,
        ] {
            assert!(
                matches!(decode_record(mixed), Err(DecodeError::NotEnvelope(_))),
                "{}",
                String::from_utf8_lossy(mixed)
            );
        }
    }

    #[test]
    fn a_batch_decodes_each_exchange_on_its_own() {
        let (a, b) = (sample(), sample());
        let enc = |ex: &Exchange| serde_json::to_vec(ex).unwrap();
        let bad = br#"{"id":"not an exchange"}"#.to_vec();
        let payload = encode_batch([&enc(&a)[..], &bad, &enc(&b)]);
        let items = decode_record(&payload).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap(), &a);
        assert_eq!(items[2].as_ref().unwrap(), &b);
        let Err(bad_item) = &items[1] else {
            panic!("the middle exchange is bad")
        };
        assert!(matches!(bad_item.error, DecodeError::Exchange(_)));
        // Its dead letter keeps a version-1 message of its own, not the batch.
        let envelope = [SINGLE_HEAD, &bad, SINGLE_TAIL].concat();
        assert_eq!(bad_item.envelope, envelope);
        assert!(matches!(decode(&envelope), Err(DecodeError::Exchange(_))));
        let v1 = br#"{"v":1,"exchange":{"id":1}}"#;
        let Err(bad_single) = decode_record(v1).unwrap().pop().unwrap() else {
            panic!("bad")
        };
        assert_eq!(
            bad_single.envelope, v1,
            "a single's dead letter is the message"
        );
        assert!(decode_record(br#"{"v":2,"exchanges":[]}"#)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_packer_closes_records_by_count_and_bytes_and_writes_singles_as_version_1() {
        // Same-length encodings (ids are fixed-width; the timestamp is pinned).
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let all: Vec<Exchange> = (0..5)
            .map(|_| Exchange {
                captured_at: at,
                ..sample()
            })
            .collect();
        let enc: Vec<Vec<u8>> = all.iter().map(|e| serde_json::to_vec(e).unwrap()).collect();
        let pack = |limits: BatchLimits, finish_after: &[usize]| {
            let mut packer = Packer::new(limits);
            let mut records = Vec::new();
            for (i, (ex, bytes)) in all.iter().zip(&enc).enumerate() {
                packer.push(&ex.id.to_string(), bytes, |r| records.push(r));
                if finish_after.contains(&i) {
                    records.extend(packer.finish());
                }
            }
            records.extend(packer.finish());
            assert_eq!(packer.pending(), 0);
            records
        };
        let check = |records: &[Record], sizes: &[usize]| {
            assert_eq!(
                records.iter().map(|r| r.exchanges).collect::<Vec<_>>(),
                sizes
            );
            let mut next = 0;
            for r in records {
                assert_eq!(
                    r.key,
                    all[next].id.to_string(),
                    "keyed by its first exchange"
                );
                let version = if r.exchanges == 1 { b'1' } else { b'2' };
                assert_eq!(r.payload[5], version);
                let got = exchanges(decode_record(&r.payload).unwrap());
                assert_eq!(got, all[next..next + r.exchanges]);
                next += r.exchanges;
            }
            assert_eq!(next, all.len(), "every exchange once, in order");
        };
        check(&pack(BatchLimits::SINGLE, &[]), &[1, 1, 1, 1, 1]);
        let by_count = BatchLimits {
            max_exchanges: 2,
            max_bytes: usize::MAX,
        };
        check(&pack(by_count, &[]), &[2, 2, 1]);
        check(&pack(by_count, &[0]), &[1, 2, 2]);
        let len = enc[0].len();
        let two_fit = BatchLimits {
            max_exchanges: 100,
            max_bytes: 2 * len + 1 + BATCH_HEAD.len() + BATCH_TAIL.len(),
        };
        let records = pack(two_fit, &[]);
        check(&records, &[2, 2, 1]);
        assert!(records.iter().all(|r| r.payload.len() <= two_fit.max_bytes));
        let tiny = BatchLimits {
            max_exchanges: 100,
            max_bytes: 10,
        };
        check(&pack(tiny, &[]), &[1, 1, 1, 1, 1]);
    }
}
