//! Turning what the tap saw into an [`Exchange`] and publishing it — off the request path.
//!
//! The request path only does a `try_send` of a [`RawCapture`] into a bounded queue; the capture
//! thread parses, strips secrets, encodes, packs what it has ready into bus records and
//! `try_publish`es them. Anything full or down: drop and count.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use tokio::sync::mpsc;

use serde::Serialize;
use serde_json::value::RawValue;

use super::headers::is_secret;
use super::redact::{Redactor, Session};
use super::sample::CapturePolicy;
use super::tee::{BodyEnd, TeeOutcome};
use crate::bus::envelope::{Packer, Record};
use crate::bus::CapturePublisher;
use crate::domain::{CapturedBody, Exchange, ExchangeId, StreamStats};
use crate::openai::{jsontext, stream};
use crate::telemetry::Metrics;

/// Everything the request path hands over, unparsed.
pub struct RawCapture {
    pub id: ExchangeId,
    pub captured_at: DateTime<Utc>,
    pub started: Instant,
    pub method: String,
    pub path: String,
    pub request_headers: HeaderMap,
    pub request: Option<TeeOutcome>,
    pub response: TeeOutcome,
    pub status: u16,
    pub streamed: bool,
    /// The sampling decision waits for the parsed request (conversation key).
    pub decide_sample_by_body: bool,
}

/// Settings for building exchanges.
#[derive(Clone)]
pub struct CaptureRules {
    pub tag_headers: Vec<String>,
    pub redact_headers: Vec<String>,
    /// PII and secret masking of bodies and header values.
    pub redactor: Arc<Redactor>,
}

/// A body's content on its way to the bus. Serialises exactly like [`BodyContent`](crate::domain::BodyContent), but JSON stays
/// the text that went over the wire (string values redacted in place), never a parsed tree.
#[derive(Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum WireContent<'a> {
    Empty,
    Json(Cow<'a, RawValue>),
    Text(Cow<'a, str>),
}

/// What became of one raw capture on the capture thread.
pub enum Prepared {
    /// Not published: counted under this `captures_skipped` reason.
    Skipped(&'static str),
    /// The encoded exchange to publish.
    Ready(Ready),
}

/// An encoded capture and what the metrics need from it.
pub struct Ready {
    pub id: ExchangeId,
    /// The encoded exchange (a [`Packer`] wraps it into a bus record).
    pub payload: Vec<u8>,
    /// Replacements by kind.
    pub redactions: BTreeMap<String, u64>,
    /// A body was cut at the capture limit.
    pub truncated: bool,
}

/// Parse what the capture needs, apply the model and body-sampling rules, mask secrets and PII
/// (consistently within the exchange: request, response, header values, tags, stream error) and
/// encode the exchange.
///
/// JSON bodies are checked and redacted as text ([`jsontext`]) and embedded in the envelope as
/// they are: no `serde_json::Value` of the body is built and serialised again. The encoding
/// decodes to the same [`Exchange`] a parsed body would have given.
pub fn prepare(
    raw: &RawCapture,
    rules: &CaptureRules,
    policy: &CapturePolicy,
) -> Result<Prepared, serde_json::Error> {
    let request_checked = raw
        .request
        .as_ref()
        .filter(|o| !o.truncated)
        .and_then(|o| jsontext::check(&o.bytes));
    let model = request_checked
        .as_ref()
        .and_then(|c| c.model.as_deref())
        .map(str::to_owned);
    if !policy.model_allowed(model.as_deref()) {
        return Ok(Prepared::Skipped("model_excluded"));
    }
    if raw.decide_sample_by_body {
        // Sampling by a conversation key in the body reads the messages: parse them (only then).
        let parsed = raw
            .request
            .as_ref()
            .filter(|_| request_checked.is_some())
            .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.bytes).ok());
        if !policy.sampled_by_body(parsed.as_ref()) {
            return Ok(Prepared::Skipped("sampled_out"));
        }
    }
    let (mut tags, mut request_headers) = headers_and_tags(&raw.request_headers, rules);

    let mut session = rules.redactor.session();
    let request = match &raw.request {
        Some(o) => wire_body(o, request_checked.is_some(), &mut session)?,
        None => CapturedBody {
            content: WireContent::Empty,
            truncated: false,
            size: 0,
        },
    };
    let ms = |t: Instant| t.duration_since(raw.started).as_secs_f64() * 1000.0;
    let (response, mut stream) = if raw.streamed {
        let o = &raw.response;
        let transport_complete = o.end == BodyEnd::Complete && !o.truncated;
        let mut assembled = stream::assemble(&o.bytes, transport_complete);
        session.redact_json(&mut assembled.completion);
        let ttft_ms = assembled.first_content_offset.and_then(|offset| {
            o.marks
                .iter()
                .find(|(n, _)| *n >= offset)
                .map(|(_, t)| ms(*t))
        });
        let body = CapturedBody {
            content: WireContent::Json(Cow::Owned(serde_json::value::to_raw_value(
                &assembled.completion,
            )?)),
            truncated: o.truncated,
            size: o.total,
        };
        let stats = StreamStats {
            chunks: assembled.chunks,
            malformed_chunks: assembled.malformed_chunks,
            done: assembled.done,
            complete: assembled.complete,
            error: assembled.error,
            ttft_ms,
        };
        (body, Some(stats))
    } else {
        let checked = !raw.response.truncated && jsontext::check(&raw.response.bytes).is_some();
        (wire_body(&raw.response, checked, &mut session)?, None)
    };
    for value in request_headers.values_mut().chain(tags.values_mut()) {
        if let Cow::Owned(masked) = session.redact_str(value) {
            *value = masked;
        }
    }
    if let Some(err) = stream.as_mut().and_then(|s| s.error.as_mut()) {
        session.redact_json(err);
    }
    let truncated = request.truncated || response.truncated;
    let exchange = Exchange {
        id: raw.id,
        captured_at: raw.captured_at,
        method: raw.method.clone(),
        path: raw.path.clone(),
        model,
        tags,
        request_headers,
        request,
        response,
        status: raw.status,
        latency_ms: ms(raw.response.ended_at),
        ttfb_ms: raw.response.first_byte_at.map(ms),
        streamed: raw.streamed,
        stream,
        incomplete: raw.response.end != BodyEnd::Complete,
    };
    Ok(Prepared::Ready(Ready {
        id: raw.id,
        payload: serde_json::to_vec(&exchange)?,
        redactions: session.counts().clone(),
        truncated,
    }))
}

/// Captured request headers with secrets dropped, and the tag headers as tags (`x-shadowtap-`
/// prefix removed).
fn headers_and_tags(
    headers: &HeaderMap,
    rules: &CaptureRules,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut tags = BTreeMap::new();
    let mut kept = BTreeMap::new();
    for (name, value) in headers {
        let value = jsontext::utf8_lossy(value.as_bytes()).into_owned();
        if let Some(tag) = rules
            .tag_headers
            .iter()
            .find(|t| t.eq_ignore_ascii_case(name.as_str()))
        {
            let tag = tag.to_ascii_lowercase();
            let tag = tag.strip_prefix("x-shadowtap-").unwrap_or(&tag).to_owned();
            tags.insert(tag, value);
            continue;
        }
        if !is_secret(name.as_str(), &rules.redact_headers) {
            kept.insert(name.as_str().to_owned(), value);
        }
    }
    (tags, kept)
}

/// A non-streamed body for the wire, redacted: JSON (when `checked` by [`jsontext::check`]) as its
/// own text; a truncated prefix or anything else as lossy UTF-8 text (a prefix of JSON is not
/// JSON; keep it as text rather than guess).
fn wire_body<'a>(
    o: &'a TeeOutcome,
    checked: bool,
    session: &mut Session<'_>,
) -> Result<CapturedBody<WireContent<'a>>, serde_json::Error> {
    let json = if checked && !o.truncated {
        std::str::from_utf8(&o.bytes).ok()
    } else {
        None
    };
    let content = match json {
        Some(text) => WireContent::Json(match session.redact_json_text(text) {
            None => Cow::Borrowed(serde_json::from_str::<&RawValue>(text)?),
            Some(masked) => Cow::Owned(RawValue::from_string(masked)?),
        }),
        None if o.bytes.is_empty() && !o.truncated => WireContent::Empty,
        None => WireContent::Text(match jsontext::utf8_lossy(&o.bytes) {
            Cow::Borrowed(text) => session.redact_str(text),
            Cow::Owned(text) => Cow::Owned(session.redact_str(&text).into_owned()),
        }),
    };
    Ok(CapturedBody {
        content,
        truncated: o.truncated,
        size: o.total,
    })
}

/// Handle the request path uses: never waits. A clone is one reference count (every captured
/// request holds one until its capture is offered).
#[derive(Clone)]
pub struct CaptureQueue(Arc<QueueShared>);

struct QueueShared {
    tx: mpsc::Sender<RawCapture>,
    /// Body bytes queued and not yet taken by the capture thread.
    queued_bytes: Arc<AtomicUsize>,
    max_bytes: usize,
    metrics: Metrics,
}

impl RawCapture {
    /// Body bytes this capture holds (what the queue's byte budget counts).
    fn size(&self) -> usize {
        self.response.bytes.len() + self.request.as_ref().map_or(0, |r| r.bytes.len())
    }
}

impl CaptureQueue {
    /// A queue of `capacity` entries and its receiving end, without a capture thread (tests).
    #[cfg(test)]
    pub(crate) fn detached(capacity: usize) -> (Self, mpsc::Receiver<RawCapture>) {
        let (tx, rx) = mpsc::channel(capacity);
        let queue = Self(Arc::new(QueueShared {
            tx,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            max_bytes: usize::MAX,
            metrics: Metrics::new(),
        }));
        (queue, rx)
    }

    /// Whether a capture offered now could be queued (entries and bytes both below their bounds).
    pub fn has_room(&self) -> bool {
        let q = &self.0;
        q.tx.capacity() > 0 && q.queued_bytes.load(Ordering::Relaxed) < q.max_bytes
    }

    /// Count a capture shed before it was built.
    pub fn count_drop(&self) {
        self.0
            .metrics
            .captures_dropped
            .with_label_values(&["tap_queue_full"])
            .inc();
    }

    /// Enqueue a capture or drop and count it: the queue is bounded in entries and in body bytes.
    pub fn offer(&self, raw: RawCapture) {
        let (q, size) = (&self.0, raw.size());
        let before = q.queued_bytes.fetch_add(size, Ordering::Relaxed);
        if before + size > q.max_bytes || q.tx.try_send(raw).is_err() {
            q.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            self.count_drop();
        }
    }
}

/// Where the capture thread's CPU comes from.
#[derive(Debug, Clone, Copy)]
pub struct CaptureLimits {
    /// Entries the queue holds.
    pub capacity: usize,
    /// Body bytes the queue holds.
    pub max_bytes: usize,
    /// Niceness of the capture thread: 0 competes with forwarding as an equal; 19 runs on spare
    /// CPU only, so a saturated tap sheds captures (dropped, counted) instead of slowing clients.
    pub nice: i32,
    /// How long the capture thread waits for more captures once its queue is empty before it
    /// parks (see [`drain`]).
    pub linger: std::time::Duration,
}

/// Lower the calling thread's scheduling priority (Linux: per-thread niceness). Best effort.
fn lower_thread_priority(nice: i32) {
    if nice <= 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain syscalls on the calling thread's id; no memory is shared.
        let rc = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, nice.min(19))
        };
        if rc != 0 {
            tracing::debug!(nice, "could not lower the capture thread's priority");
        }
    }
}

/// Create the queue and the thread draining it into the publisher (parse, sample by body,
/// redact, encode, publish). The thread ends when every [`CaptureQueue`] handle is dropped; the
/// returned task completes then.
pub fn spawn_capture_task(
    limits: CaptureLimits,
    rules: CaptureRules,
    policy: CapturePolicy,
    publisher: Arc<dyn CapturePublisher>,
    metrics: Metrics,
) -> (CaptureQueue, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<RawCapture>(limits.capacity);
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    let queue = CaptureQueue(Arc::new(QueueShared {
        tx,
        queued_bytes: queued_bytes.clone(),
        max_bytes: limits.max_bytes,
        metrics: metrics.clone(),
    }));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("shadowtap-capture".into())
        .spawn(move || {
            lower_thread_priority(limits.nice);
            let mut out = Outbox {
                packer: Packer::new(publisher.batch_limits()),
                publisher: publisher.as_ref(),
                metrics: &metrics,
            };
            drain(&mut rx, limits.linger, |next| match next {
                Some(raw) => {
                    queued_bytes.fetch_sub(raw.size(), Ordering::Relaxed);
                    capture_one(raw, &rules, &policy, &mut out);
                }
                // Nothing else is waiting: publish what is packed rather than hold it.
                None => out.flush(),
            });
            let _ = done_tx.send(());
        });
    if let Err(e) = spawned {
        // The queue's receiver is gone with the closure: every offer drops and counts.
        tracing::error!(error = %e, "cannot start the capture thread; captures will be dropped");
    }
    let task = tokio::spawn(async move {
        let _ = done_rx.await;
    });
    (queue, task)
}

/// Hand every item of `rx` to `handle` (`Some`) until all senders are gone: block while idle;
/// when busy, drain without blocking and linger once before blocking again. `handle(None)` says
/// the queue is empty right now (before each linger or block, and at the end).
///
/// A parked receiver is woken by the sender (a futex wake on the request path's thread) for every
/// capture; a thread that lingers takes what arrived meanwhile as a batch, so under load the
/// request path wakes nobody, and the capture thread wakes once per linger instead of once per
/// request and packs what it found into few bus records. Captures wait at most this long; the
/// client never does.
fn drain<T>(
    rx: &mut mpsc::Receiver<T>,
    linger: std::time::Duration,
    mut handle: impl FnMut(Option<T>),
) {
    use mpsc::error::TryRecvError;
    while let Some(item) = rx.blocking_recv() {
        handle(Some(item));
        let mut lingered = false;
        loop {
            match rx.try_recv() {
                Ok(item) => {
                    handle(Some(item));
                    lingered = false;
                }
                Err(TryRecvError::Empty) if !lingered => {
                    handle(None);
                    std::thread::sleep(linger);
                    lingered = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    handle(None);
                    return;
                }
            }
        }
    }
    handle(None);
}

/// Where the capture thread's exchanges go: packed into records (as many as the bus takes per
/// record and are ready together), published without waiting, counted per exchange.
struct Outbox<'a> {
    packer: Packer,
    publisher: &'a dyn CapturePublisher,
    metrics: &'a Metrics,
}

impl Outbox<'_> {
    fn add(&mut self, ready: Ready) {
        let Self {
            packer,
            publisher,
            metrics,
        } = self;
        packer.push(&ready.id.to_string(), &ready.payload, |record| {
            publish(*publisher, metrics, record)
        });
    }

    /// Publish the open record now.
    fn flush(&mut self) {
        if let Some(record) = self.packer.finish() {
            publish(self.publisher, self.metrics, record);
        }
    }
}

fn publish(publisher: &dyn CapturePublisher, metrics: &Metrics, record: Record) {
    let exchanges = record.exchanges as u64;
    match publisher.try_publish(record) {
        Ok(()) => {
            metrics.captures_published.inc_by(exchanges);
            metrics.capture_records.inc();
        }
        Err(e) => {
            tracing::debug!(exchanges, error = %e, "captures dropped");
            metrics
                .captures_dropped
                .with_label_values(&[e.reason()])
                .inc_by(exchanges);
        }
    }
}

/// Turn one raw capture into a published exchange (or a counted skip or drop).
fn capture_one(raw: RawCapture, rules: &CaptureRules, policy: &CapturePolicy, out: &mut Outbox) {
    let metrics = out.metrics;
    let ready = match prepare(&raw, rules, policy) {
        Ok(Prepared::Ready(ready)) => ready,
        Ok(Prepared::Skipped(reason)) => {
            metrics.captures_skipped.with_label_values(&[reason]).inc();
            return;
        }
        Err(e) => {
            tracing::warn!(exchange_id = %raw.id, error = %e, "capture encoding failed");
            metrics
                .captures_dropped
                .with_label_values(&["encode"])
                .inc();
            return;
        }
    };
    for (kind, n) in &ready.redactions {
        metrics.redactions.with_label_values(&[kind]).inc_by(*n);
    }
    if ready.truncated {
        metrics.captures_truncated.inc();
    }
    out.add(ready);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bus::envelope;
    use crate::domain::BodyContent;
    use bytes::Bytes;

    /// The exchange a worker decodes from what the capture thread publishes.
    fn build_exchange(raw: RawCapture, rules: &CaptureRules) -> Exchange {
        let policy = CapturePolicy::new(&crate::config::TapConfig::default()).unwrap();
        match prepare(&raw, rules, &policy).unwrap() {
            Prepared::Ready(ready) => serde_json::from_slice(&ready.payload).unwrap(),
            Prepared::Skipped(reason) => panic!("skipped: {reason}"),
        }
    }

    /// Bodies kept as text decode to what parsing and redacting them as values gives.
    #[test]
    fn text_bodies_decode_like_parsed_ones() {
        let bodies: [&'static [u8]; 9] = [
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"mail ada@example.com \"now\"\n"}]}"#,
            b"{\n  \"model\": \"gpt-4o\",\n  \"n\": [1, 2.5e3, true, null]\n}\n",
            br#"{"a":"call +1 (555) 123-4567","b":{"c":["10.0.0.1","plain"]}}"#,
            br#"{"n":1e999}"#,
            br#"[1,2"#,
            b"plain text with ada@example.com",
            b"",
            b"{\"s\":\"\xff\"}",
            br#""a JSON string sk-proj-abcdefghijklmnopqrstuvwxyz0123""#,
        ];
        for body in bodies {
            let mut r = raw(&[], body);
            r.response = outcome(body, false);
            let ex = build_exchange(r, &rules());
            let mut expected = BodyContent::from_bytes(body);
            let rules = rules();
            let mut session = rules.redactor.session();
            match &mut expected {
                BodyContent::Json(v) => session.redact_json(v),
                BodyContent::Text(t) => *t = session.redact_str(t).into_owned(),
                BodyContent::Empty => {}
            }
            let name = String::from_utf8_lossy(body);
            assert_eq!(ex.request.content, expected, "{name}");
            assert_eq!(ex.response.content, expected, "{name}");
            assert_eq!(ex.request.size, body.len() as u64);
        }
    }

    pub(crate) fn outcome(bytes: &'static [u8], truncated: bool) -> TeeOutcome {
        TeeOutcome {
            bytes: Bytes::from_static(bytes),
            total: bytes.len() as u64 + if truncated { 10 } else { 0 },
            truncated,
            end: BodyEnd::Complete,
            first_byte_at: Some(Instant::now()),
            ended_at: Instant::now(),
            marks: Vec::new(),
        }
    }

    pub(crate) fn raw(headers: &[(&str, &str)], request: &'static [u8]) -> RawCapture {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        RawCapture {
            id: ExchangeId::new(),
            captured_at: Utc::now(),
            started: Instant::now(),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            request_headers: h,
            request: Some(outcome(request, false)),
            response: outcome(br#"{"choices":[]}"#, false),
            status: 200,
            streamed: false,
            decide_sample_by_body: false,
        }
    }

    fn rules() -> CaptureRules {
        CaptureRules {
            tag_headers: vec!["x-shadowtap-team".into()],
            redact_headers: vec!["x-internal".into()],
            redactor: Arc::new(Redactor::new(&crate::config::RedactConfig::default()).unwrap()),
        }
    }

    #[test]
    fn bodies_and_header_values_are_redacted_consistently() {
        let mut r = raw(
            &[("x-user-email", "ada@example.com")],
            br#"{"messages":[{"role":"user","content":"Mail ada@example.com, card 4111 1111 1111 1111"}]}"#,
        );
        r.response = outcome(
            br#"{"choices":[{"message":{"content":"Sent to ada@example.com"}}]}"#,
            false,
        );
        let ex = build_exchange(r, &rules());
        let text = serde_json::to_string(&ex).unwrap();
        assert!(
            !text.contains("ada@example.com") && !text.contains("4111"),
            "{text}"
        );
        assert_eq!(ex.request_headers["x-user-email"], "<EMAIL_1>");
        assert_eq!(
            ex.response.json().unwrap()["choices"][0]["message"]["content"],
            "Sent to <EMAIL_1>"
        );
    }

    #[test]
    fn secrets_are_dropped_and_tags_extracted() {
        let ex = build_exchange(
            raw(
                &[
                    ("authorization", "Bearer sk-secret"),
                    ("api-key", "k"),
                    ("x-internal", "i"),
                    ("x-shadowtap-team", "search"),
                    ("content-type", "application/json"),
                ],
                br#"{"model":"gpt-4o"}"#,
            ),
            &rules(),
        );
        assert_eq!(ex.tags.get("team").map(String::as_str), Some("search"));
        assert_eq!(ex.request_headers.len(), 1, "{:?}", ex.request_headers);
        assert_eq!(ex.model.as_deref(), Some("gpt-4o"));
        assert!(!serde_json::to_string(&ex).unwrap().contains("sk-secret"));
    }

    #[test]
    fn malformed_json_is_kept_as_text() {
        let ex = build_exchange(raw(&[], b"{not json"), &rules());
        assert_eq!(ex.request.content, BodyContent::Text("{not json".into()));
        assert_eq!(ex.model, None);
    }

    #[test]
    fn streams_are_reassembled_and_timed() {
        let sse: &'static [u8] = b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n\
data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: [DONE]\n\n";
        let mut r = raw(&[], br#"{"stream":true}"#);
        r.streamed = true;
        let t0 = r.started;
        r.response = outcome(sse, false);
        // One mark per event: the content event ends at the second mark.
        let ends: Vec<u64> = {
            let text = std::str::from_utf8(sse).unwrap();
            let mut n = 0;
            text.split_inclusive("\n\n")
                .map(|e| {
                    n += e.len() as u64;
                    n
                })
                .collect()
        };
        r.response.marks = ends
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    *n,
                    t0 + std::time::Duration::from_millis(10 * (i as u64 + 1)),
                )
            })
            .collect();
        let ex = build_exchange(r, &rules());
        let chat = crate::openai::ChatView::parse(ex.response.json().unwrap()).unwrap();
        assert_eq!(chat.first().unwrap().content.as_deref(), Some("Hi"));
        let stats = ex.stream.unwrap();
        assert!(stats.done && stats.complete);
        assert_eq!(stats.chunks, 3);
        assert_eq!(stats.ttft_ms.map(|t| t.round()), Some(20.0));
    }

    #[test]
    fn truncated_bodies_are_text_and_flagged() {
        let mut r = raw(&[], b"{}");
        r.request = Some(outcome(br#"{"model":"gp"#, true));
        let ex = build_exchange(r, &rules());
        assert!(ex.request.truncated);
        assert!(matches!(ex.request.content, BodyContent::Text(_)));
    }

    #[test]
    fn the_queue_is_bounded_in_body_bytes_and_drops_are_counted() {
        let metrics = Metrics::new();
        let (tx, mut rx) = mpsc::channel(100);
        let body = br#"{"messages":[{"role":"user","content":"0123456789012345678901234567890123456789"}]}"#;
        let one = raw(&[], body).size();
        let queue = CaptureQueue(Arc::new(QueueShared {
            tx,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            max_bytes: one * 2,
            metrics: metrics.clone(),
        }));
        for _ in 0..3 {
            queue.offer(raw(&[], body));
        }
        let dropped = || {
            metrics
                .captures_dropped
                .with_label_values(&["tap_queue_full"])
                .get()
        };
        assert_eq!(dropped(), 1, "the third capture exceeds the byte budget");
        assert!(
            !queue.has_room(),
            "full: the tap sheds before building a capture"
        );
        assert_eq!(queue.0.queued_bytes.load(Ordering::Relaxed), one * 2);
        // Taking one frees its bytes (the capture thread does this) and makes room again.
        let taken = rx.try_recv().unwrap();
        queue
            .0
            .queued_bytes
            .fetch_sub(taken.size(), Ordering::Relaxed);
        assert!(queue.has_room());
        queue.offer(raw(&[], body));
        assert_eq!(dropped(), 1);
    }

    #[test]
    fn drain_takes_everything_in_order_and_ends_with_the_senders() {
        let (tx, mut rx) = mpsc::channel(64);
        let producer = std::thread::spawn(move || {
            for i in 0..200u32 {
                tx.blocking_send(i).unwrap();
                if i % 50 == 0 {
                    // Let the receiver go idle (park) between bursts.
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        });
        let mut seen = Vec::new();
        let mut idle = 0;
        drain(&mut rx, std::time::Duration::from_millis(1), |i| match i {
            Some(i) => seen.push(i),
            None => idle += 1,
        });
        producer.join().unwrap();
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
        assert!(idle >= 4, "told when the queue ran empty: {idle}");
    }

    #[tokio::test]
    async fn the_capture_thread_publishes_and_ends_with_the_last_handle() {
        let metrics = Metrics::new();
        let (publisher, mut source) = crate::bus::memory::channel(16);
        let limits = CaptureLimits {
            capacity: 8,
            max_bytes: 1 << 20,
            nice: 19,
            linger: std::time::Duration::from_millis(2),
        };
        let policy = CapturePolicy::new(&crate::config::TapConfig::default()).unwrap();
        let (queue, task) = spawn_capture_task(
            limits,
            rules(),
            policy,
            Arc::new(publisher),
            metrics.clone(),
        );
        queue.offer(raw(&[], br#"{"model":"gpt-4o-mini","messages":[]}"#));
        drop(queue);
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("the thread ends once the queue handle is gone")
            .unwrap();
        assert_eq!(metrics.captures_published.get(), 1);
        assert!(source.next().await.is_some());
    }

    /// Records the capture thread publishes, within the limits it was given; or a full bus.
    struct Recorder {
        limits: crate::bus::BatchLimits,
        full: bool,
        records: std::sync::Mutex<Vec<Record>>,
    }

    impl CapturePublisher for Recorder {
        fn try_publish(&self, record: Record) -> Result<(), crate::bus::PublishError> {
            if self.full {
                return Err(crate::bus::PublishError::Full);
            }
            self.records.lock().unwrap().push(record);
            Ok(())
        }

        fn batch_limits(&self) -> crate::bus::BatchLimits {
            self.limits
        }
    }

    #[test]
    fn queued_captures_are_packed_into_full_records() {
        let metrics = Metrics::new();
        let recorder = Recorder {
            limits: crate::bus::BatchLimits {
                max_exchanges: 8,
                max_bytes: 1 << 20,
            },
            full: false,
            records: Default::default(),
        };
        // Everything is waiting before the thread looks: records fill up to the limit, and the
        // rest goes out when the queue runs empty.
        let (tx, mut rx) = mpsc::channel(64);
        for _ in 0..20 {
            assert!(tx
                .try_send(raw(&[], br#"{"model":"gpt-4o-mini","messages":[]}"#))
                .is_ok());
        }
        drop(tx);
        let (rules, policy) = (
            rules(),
            CapturePolicy::new(&crate::config::TapConfig::default()).unwrap(),
        );
        let mut out = Outbox {
            packer: Packer::new(recorder.batch_limits()),
            publisher: &recorder,
            metrics: &metrics,
        };
        drain(&mut rx, std::time::Duration::ZERO, |next| match next {
            Some(raw) => capture_one(raw, &rules, &policy, &mut out),
            None => out.flush(),
        });
        let sizes: Vec<usize> = recorder
            .records
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.exchanges)
            .collect();
        assert_eq!(sizes, [8, 8, 4]);
        assert_eq!(metrics.captures_published.get(), 20);
        assert_eq!(metrics.capture_records.get(), 3);
    }

    #[tokio::test]
    async fn captures_ready_together_share_records_and_are_counted_per_exchange() {
        const N: usize = 40;
        for full in [false, true] {
            let metrics = Metrics::new();
            let recorder = Arc::new(Recorder {
                limits: crate::bus::BatchLimits {
                    max_exchanges: 8,
                    max_bytes: 1 << 20,
                },
                full,
                records: Default::default(),
            });
            let limits = CaptureLimits {
                capacity: N,
                max_bytes: 1 << 24,
                nice: 0,
                linger: std::time::Duration::from_millis(2),
            };
            let policy = CapturePolicy::new(&crate::config::TapConfig::default()).unwrap();
            let (queue, task) =
                spawn_capture_task(limits, rules(), policy, recorder.clone(), metrics.clone());
            let mut ids = Vec::new();
            for _ in 0..N {
                let capture = raw(&[], br#"{"model":"gpt-4o-mini","messages":[]}"#);
                ids.push(capture.id);
                queue.offer(capture);
            }
            drop(queue);
            tokio::time::timeout(std::time::Duration::from_secs(10), task)
                .await
                .expect("the thread ends once the queue handle is gone")
                .unwrap();
            let records = recorder.records.lock().unwrap();
            if full {
                assert!(records.is_empty());
                assert_eq!(metrics.captures_published.get(), 0);
                assert_eq!(metrics.dropped_total(), N as u64, "every exchange counted");
                continue;
            }
            assert_eq!(metrics.captures_published.get(), N as u64);
            assert_eq!(metrics.capture_records.get(), records.len() as u64);
            assert!(records.iter().all(|r| (1..=8).contains(&r.exchanges)));
            let decoded: Vec<ExchangeId> = records
                .iter()
                .flat_map(|r| {
                    let items = envelope::decode_record(&r.payload).unwrap();
                    assert_eq!(items.len(), r.exchanges);
                    items.into_iter().map(|i| i.unwrap().id)
                })
                .collect();
            assert_eq!(decoded, ids, "every exchange once, in order");
        }
    }
}
