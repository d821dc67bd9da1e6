//! The tap: an OpenAI-compatible reverse proxy that mirrors production traffic without touching it.
//!
//! Invariants (see ARCHITECTURE.md): the client gets the upstream's status, headers (minus
//! hop-by-hop) and body bytes as they arrive; nothing on the request path awaits the bus or the
//! database — capture is a `try_send` after the body has passed through, dropped and counted when full.

pub mod capture;
pub mod headers;
pub mod idle;
pub mod redact;
pub mod sample;
pub mod server;
pub mod tee;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::config::TapConfig;
use crate::domain::ExchangeId;
use crate::http_client::{join_url, HttpClient};
use crate::openai::error_body;
use crate::telemetry::Metrics;
use capture::{CaptureQueue, RawCapture};
use idle::IdleTimeoutBody;
use prometheus::{Histogram, IntCounter};
use sample::CapturePolicy;
use tee::{TeeBody, TeeOutcome};

/// Request header a client sets to `off` to keep one request out of the capture.
pub const OPT_OUT_HEADER: &str = "x-shadowtap-capture";

/// Shared state of the tap's request handlers.
pub struct Tap {
    client: HttpClient,
    upstream: String,
    policy: CapturePolicy,
    max_capture_bytes: usize,
    upstream_timeout: Duration,
    idle_timeout: Duration,
    /// Tag headers removed before forwarding (empty unless `strip_tag_headers`).
    strip_headers: Vec<http::HeaderName>,
    queue: CaptureQueue,
    metrics: Metrics,
    /// One entry per capture pattern, then one for everything else (`other`).
    routes: Vec<RouteMetrics>,
    ready: Arc<AtomicBool>,
}

/// A route's metric handles, each resolved on first use: a request does not hash its labels and
/// take the metric family's lock for every observation (the `200` counter is kept; other statuses
/// are looked up).
struct RouteMetrics {
    label: String,
    upstream: OnceLock<Histogram>,
    ttfb: OnceLock<Histogram>,
    ok: OnceLock<IntCounter>,
}

impl RouteMetrics {
    fn new(label: &str) -> Self {
        Self {
            label: label.to_owned(),
            upstream: OnceLock::new(),
            ttfb: OnceLock::new(),
            ok: OnceLock::new(),
        }
    }

    fn upstream(&self, metrics: &Metrics) -> &Histogram {
        self.upstream.get_or_init(|| {
            metrics
                .tap_upstream_seconds
                .with_label_values(&[&self.label])
        })
    }

    fn ttfb(&self, metrics: &Metrics) -> &Histogram {
        self.ttfb
            .get_or_init(|| metrics.tap_ttfb_seconds.with_label_values(&[&self.label]))
    }

    /// Count an answer with `status`.
    fn answered(&self, metrics: &Metrics, status: u16) {
        let counter = |status: &str| {
            metrics
                .tap_requests
                .with_label_values(&[&self.label, status])
        };
        match status {
            200 => self.ok.get_or_init(|| counter("200")).inc(),
            other => counter(&other.to_string()).inc(),
        }
    }
}

impl Tap {
    /// Build the tap state from its config and the capture queue. `ready` is the readiness flag
    /// every event loop shares: store `false` to make `/readyz` answer 503 (shutting down).
    pub fn new(
        config: &TapConfig,
        client: HttpClient,
        queue: CaptureQueue,
        metrics: Metrics,
        ready: Arc<AtomicBool>,
    ) -> Result<Self, String> {
        let strip_headers = if config.strip_tag_headers {
            config
                .tag_headers
                .iter()
                .map(|h| {
                    http::HeaderName::from_bytes(h.as_bytes())
                        .map_err(|_| format!("tap.tag_headers: {h:?} is not a header name"))
                })
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let policy = CapturePolicy::new(config)?;
        let routes = policy
            .routes()
            .chain(["other"])
            .map(RouteMetrics::new)
            .collect();
        Ok(Self {
            client,
            upstream: config.upstream.clone(),
            policy,
            routes,
            max_capture_bytes: config.max_capture_bytes,
            upstream_timeout: Duration::from_secs_f64(config.upstream_timeout_secs),
            idle_timeout: Duration::from_secs_f64(config.idle_timeout_secs),
            strip_headers,
            queue,
            metrics,
            ready,
        })
    }
}

/// The client's request body on its way upstream. Notes when it fails, so the resulting upstream
/// error is answered as the client's (400), not the upstream's (502).
///
/// And lingers: when it is dropped unfinished — the upstream answered (a 413, a 401) or the tap
/// did (502, 504) before the upload ended — the rest is read and discarded in the background for
/// up to [`LINGER_TIME`] and [`LINGER_BYTES`], like nginx's lingering close. Closing a socket with
/// unread data makes the kernel reset the connection, and the client, still writing, would see a
/// broken pipe instead of the answer. HTTP/1 only (HTTP/2 cancels a stream cleanly).
struct WatchBody {
    inner: Body,
    failed: Arc<AtomicBool>,
    /// Linger when dropped unfinished.
    linger: bool,
}

/// How long a dropped request body is still read (and discarded), at most.
const LINGER_TIME: Duration = Duration::from_secs(5);
/// How much of a dropped request body is read (and discarded), at most.
const LINGER_BYTES: usize = 64 << 20;

/// Read and discard the rest of `body` within the linger bounds.
async fn linger(mut body: Body) {
    use http_body_util::BodyExt;
    let mut left = LINGER_BYTES;
    let drained = tokio::time::timeout(LINGER_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            left = left.saturating_sub(frame.data_ref().map_or(0, |d| d.len()));
            if left == 0 {
                return;
            }
        }
    })
    .await;
    tracing::debug!(
        read = LINGER_BYTES - left,
        timed_out = drained.is_err(),
        "lingered on an unfinished request body"
    );
}

impl Drop for WatchBody {
    fn drop(&mut self) {
        let finished =
            http_body::Body::is_end_stream(&self.inner) || self.failed.load(Ordering::Relaxed);
        if !self.linger || finished {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(linger(std::mem::take(&mut self.inner)));
        }
    }
}

impl http_body::Body for WatchBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            std::task::Poll::Ready(Some(Err(_))) => self.failed.store(true, Ordering::Relaxed),
            // Ended: nothing to linger on (`is_end_stream` may not say so after the last frame).
            std::task::Poll::Ready(None) => self.linger = false,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The tap's router: health, readiness and metrics, everything else proxied.
pub fn router(tap: Arc<Tap>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(proxy)
        .with_state(tap)
}

async fn readyz(State(tap): State<Arc<Tap>>) -> Response {
    if tap.ready.load(Ordering::SeqCst) {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

async fn metrics(State(tap): State<Arc<Tap>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        tap.metrics.render(),
    )
        .into_response()
}

fn gateway_error(status: StatusCode, message: &str, code: &str) -> Response {
    let body = error_body(message, "upstream_error", code);
    (status, axum::Json(body)).into_response()
}

/// Where the two halves of one capture meet. The request body's tee and the response body's tee
/// finish in either order — an upstream may answer (413, an error) before it has read the whole
/// upload, while the request body is still being sent or dropped — and whichever finishes last
/// offers the capture, so its request prefix is never lost to that race. Each tee finishes
/// exactly once (on completion, error or drop).
struct Meet {
    queue: CaptureQueue,
    halves: Mutex<Halves>,
}

#[derive(Default)]
struct Halves {
    /// The request body's outcome, once its tee finished first.
    request: Option<TeeOutcome>,
    /// The capture, once the response body's tee finished first.
    waiting: Option<RawCapture>,
}

impl Meet {
    fn new(queue: CaptureQueue) -> Self {
        Self {
            queue,
            halves: Mutex::default(),
        }
    }

    fn request_done(&self, outcome: TeeOutcome) {
        let mut halves = self.halves.lock().expect("capture meeting poisoned");
        match halves.waiting.take() {
            Some(mut raw) => {
                drop(halves);
                raw.request = Some(outcome);
                self.queue.offer(raw);
            }
            None => halves.request = Some(outcome),
        }
    }

    fn response_done(&self, mut raw: RawCapture) {
        let mut halves = self.halves.lock().expect("capture meeting poisoned");
        match halves.request.take() {
            Some(request) => {
                drop(halves);
                raw.request = Some(request);
                self.queue.offer(raw);
            }
            None => halves.waiting = Some(raw),
        }
    }
}

async fn proxy(State(tap): State<Arc<Tap>>, req: Request) -> Response {
    let started = Instant::now();
    let captured_at = chrono::Utc::now();
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let route = tap.policy.route_index(parts.uri.path());
    let opted_out = parts
        .headers
        .get(OPT_OUT_HEADER)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"off"));
    let sampled = if route.is_some() && !opted_out {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        tap.policy.sampled_by_headers(header, rand::random::<f64>())
    } else {
        Some(false)
    };
    if route.is_some() && !opted_out && sampled == Some(false) {
        tap.metrics
            .captures_skipped
            .with_label_values(&["sampled_out"])
            .inc();
    }
    let mut capture = sampled != Some(false);
    if capture && !tap.queue.has_room() {
        // The capture side is behind (a saturated tap, a slow bus): shed this capture now, before
        // the request path spends anything on it (header copies, body tee).
        tap.queue.count_drop();
        capture = false;
    }
    let route = &tap.routes[route.unwrap_or(tap.routes.len() - 1)];

    let uri: Uri = match join_url(&tap.upstream, &path).parse() {
        Ok(uri) => uri,
        Err(_) => {
            return gateway_error(
                StatusCode::BAD_REQUEST,
                "shadowtap: invalid request path",
                "invalid_path",
            )
        }
    };
    // Only a captured request allocates anything for its capture.
    let meet = capture.then(|| Arc::new(Meet::new(tap.queue.clone())));
    let body_failed = Arc::new(AtomicBool::new(false));
    let body = Body::new(WatchBody {
        inner: body,
        failed: body_failed.clone(),
        // A client that asked `Expect: 100-continue` waits to be told to send: lingering would
        // tell it (hyper answers 100 on the first read) only to discard what it sends.
        linger: parts.version <= Version::HTTP_11
            && !parts
                .headers
                .get(header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
    });
    let body = match &meet {
        Some(meet) => {
            let meet = meet.clone();
            Body::new(TeeBody::new(body, tap.max_capture_bytes, move |o| {
                meet.request_done(o)
            }))
        }
        None => body,
    };
    let request_headers = if capture {
        parts.headers.clone()
    } else {
        Default::default()
    };
    headers::strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
    parts.headers.remove(OPT_OUT_HEADER);
    for name in &tap.strip_headers {
        parts.headers.remove(name);
    }
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    let method = parts.method.to_string();

    let sent = tokio::time::timeout(
        tap.upstream_timeout,
        tap.client.request(Request::from_parts(parts, body)),
    )
    .await;
    route
        .upstream(&tap.metrics)
        .observe(started.elapsed().as_secs_f64());
    let response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(e)) if body_failed.load(Ordering::Relaxed) => {
            // The client's own body broke (bad chunked framing, reset): its fault, not the upstream's.
            tracing::debug!(error = %e, path = %path, "client request body unreadable");
            route.answered(&tap.metrics, 400);
            let msg = "shadowtap: the request body could not be read (malformed or interrupted)";
            return gateway_error(StatusCode::BAD_REQUEST, msg, "invalid_request_body");
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, path = %path, "upstream request failed");
            route.answered(&tap.metrics, 502);
            let msg = format!("shadowtap: the upstream provider is unreachable ({e})");
            return gateway_error(StatusCode::BAD_GATEWAY, &msg, "upstream_unreachable");
        }
        Err(_) => {
            route.answered(&tap.metrics, 504);
            let msg = "shadowtap: the upstream provider did not answer in time";
            return gateway_error(StatusCode::GATEWAY_TIMEOUT, msg, "upstream_timeout");
        }
    };
    let (mut rparts, incoming) = response.into_parts();
    headers::strip_hop_by_hop(&mut rparts.headers);
    let status = rparts.status.as_u16();
    route.answered(&tap.metrics, status);
    let incoming = IdleTimeoutBody::new(incoming, tap.idle_timeout);
    let Some(meet) = meet else {
        return Response::from_parts(rparts, Body::new(incoming));
    };

    let streamed = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let ttfb = route.ttfb(&tap.metrics).clone();
    let tee = TeeBody::new(incoming, tap.max_capture_bytes, move |response| {
        if let Some(first) = response.first_byte_at {
            ttfb.observe(first.duration_since(started).as_secs_f64());
        }
        let raw = RawCapture {
            id: ExchangeId::new(),
            captured_at,
            started,
            method,
            path,
            request_headers,
            request: None,
            response,
            status,
            streamed,
            decide_sample_by_body: sampled.is_none(),
        };
        meet.response_done(raw);
    });
    Response::from_parts(rparts, Body::new(tee))
}

#[cfg(test)]
mod tests {
    use super::*;
    use capture::tests::{outcome, raw};

    /// Whichever tee finishes last offers the capture, with the request's outcome in it.
    #[test]
    fn a_capture_waits_for_the_request_body_in_either_order() {
        for response_first in [false, true] {
            let (queue, mut rx) = CaptureQueue::detached(4);
            let meet = Meet::new(queue);
            let mut capture = raw(&[], b"");
            capture.request = None;
            let request = outcome(br#"{"model":"gpt-4o-mini"}"#, true);
            if response_first {
                meet.response_done(capture);
                assert!(
                    rx.try_recv().is_err(),
                    "offered before the request finished"
                );
                meet.request_done(request);
            } else {
                meet.request_done(request);
                assert!(rx.try_recv().is_err());
                meet.response_done(capture);
            }
            let offered = rx.try_recv().expect("offered once both finished");
            let request = offered.request.expect("with the request's outcome");
            assert!(request.truncated && request.bytes.starts_with(b"{\"model\""));
            assert!(rx.try_recv().is_err(), "offered once");
        }
    }
}
