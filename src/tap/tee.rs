//! A body wrapper that forwards every frame untouched while copying a bounded prefix for capture.
//!
//! The wrapped body is polled exactly as the consumer polls it (no extra buffering, back-pressure
//! preserved). When the body ends, fails, or is dropped early, the copy is handed to a callback once.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

/// How a teed body finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyEnd {
    /// All frames were delivered.
    Complete,
    /// The inner body failed (e.g. the upstream closed mid-stream).
    Error(String),
    /// The consumer stopped reading before the end (e.g. the client disconnected).
    Dropped,
}

/// The captured copy of a body.
#[derive(Debug, Clone)]
pub struct TeeOutcome {
    /// The first `limit` bytes.
    pub bytes: Bytes,
    /// Total bytes that passed through.
    pub total: u64,
    /// True when more than `limit` bytes passed through.
    pub truncated: bool,
    pub end: BodyEnd,
    /// When the first data byte passed through.
    pub first_byte_at: Option<Instant>,
    /// When the body finished.
    pub ended_at: Instant,
    /// `(bytes so far, when)` after each data frame, for the first [`MAX_MARKS`] frames: lets the
    /// capture side time events inside a stream (time to first token).
    pub marks: Vec<(u64, Instant)>,
}

/// Frame timestamps kept per body.
pub const MAX_MARKS: usize = 4096;

type OnDone = Box<dyn FnOnce(TeeOutcome) + Send + 'static>;

/// See the module docs.
pub struct TeeBody<B> {
    inner: B,
    buf: BytesMut,
    limit: usize,
    total: u64,
    truncated: bool,
    first_byte_at: Option<Instant>,
    marks: Vec<(u64, Instant)>,
    on_done: Option<OnDone>,
}

impl<B> TeeBody<B> {
    /// Wrap `inner`, keeping at most `limit` bytes, calling `on_done` exactly once.
    pub fn new(inner: B, limit: usize, on_done: impl FnOnce(TeeOutcome) + Send + 'static) -> Self {
        Self {
            inner,
            buf: BytesMut::new(),
            limit,
            total: 0,
            truncated: false,
            first_byte_at: None,
            marks: Vec::new(),
            on_done: Some(Box::new(on_done)),
        }
    }

    fn record(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let now = Instant::now();
        if self.first_byte_at.is_none() {
            self.first_byte_at = Some(now);
        }
        self.total += data.len() as u64;
        if self.marks.len() < MAX_MARKS {
            self.marks.push((self.total, now));
        }
        let room = self.limit.saturating_sub(self.buf.len());
        if data.len() > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
    }

    fn finish(&mut self, end: BodyEnd) {
        if let Some(done) = self.on_done.take() {
            done(TeeOutcome {
                bytes: std::mem::take(&mut self.buf).freeze(),
                total: self.total,
                truncated: self.truncated,
                end,
                first_byte_at: self.first_byte_at,
                ended_at: Instant::now(),
                marks: std::mem::take(&mut self.marks),
            });
        }
    }
}

impl<B> Body for TeeBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.record(data);
                }
                if this.inner.is_end_stream() {
                    this.finish(BodyEnd::Complete);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.finish(BodyEnd::Error(e.to_string()));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.finish(BodyEnd::Complete);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for TeeBody<B> {
    fn drop(&mut self) {
        // Never polled to the end: the consumer went away (or a body known to be empty was
        // never polled at all; `total == 0` lets the caller tell those apart).
        self.finish(BodyEnd::Dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};
    use std::sync::{Arc, Mutex};

    fn collector() -> (
        Arc<Mutex<Option<TeeOutcome>>>,
        impl FnOnce(TeeOutcome) + Send + 'static,
    ) {
        let slot = Arc::new(Mutex::new(None));
        let s = slot.clone();
        (slot, move |o| *s.lock().unwrap() = Some(o))
    }

    #[tokio::test]
    async fn forwards_everything_and_keeps_a_bounded_prefix() {
        let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(Bytes::from_static(b"hello "))),
            Ok(Frame::data(Bytes::from_static(b"world"))),
        ];
        let (slot, done) = collector();
        let body = TeeBody::new(StreamBody::new(futures_util::stream::iter(chunks)), 8, done);
        let out = body.collect().await.unwrap().to_bytes();
        assert_eq!(&out[..], b"hello world");
        let got = slot.lock().unwrap().take().unwrap();
        assert_eq!(&got.bytes[..], b"hello wo");
        assert!(got.truncated);
        assert_eq!(got.total, 11);
        assert_eq!(got.end, BodyEnd::Complete);
    }

    #[tokio::test]
    async fn inner_errors_pass_through_and_are_recorded() {
        let chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(Bytes::from_static(b"data: {}\n\n"))),
            Err(std::io::Error::other("upstream closed")),
        ];
        let (slot, done) = collector();
        let body = TeeBody::new(
            StreamBody::new(futures_util::stream::iter(chunks)),
            1024,
            done,
        );
        assert!(body.collect().await.is_err());
        let got = slot.lock().unwrap().take().unwrap();
        assert_eq!(got.end, BodyEnd::Error("upstream closed".into()));
        assert_eq!(got.total, 10);
    }

    #[tokio::test]
    async fn dropping_early_reports_dropped_once() {
        let (slot, done) = collector();
        let body = TeeBody::new(Full::new(Bytes::from_static(b"x")), 10, done);
        drop(body);
        assert_eq!(slot.lock().unwrap().take().unwrap().end, BodyEnd::Dropped);
    }
}
