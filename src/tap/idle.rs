//! A body wrapper that fails when the inner body sends nothing for too long (a stalled upstream
//! stream must not hold the client and our resources forever).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{sleep, Instant, Sleep};

/// Boxed error type of the wrapped body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error produced when the idle timeout fires.
#[derive(Debug, thiserror::Error)]
#[error("upstream sent nothing for {0:?}")]
pub struct IdleTimeout(pub Duration);

/// See the module docs.
pub struct IdleTimeoutBody<B> {
    inner: B,
    timeout: Duration,
    timer: Pin<Box<Sleep>>,
}

impl<B> IdleTimeoutBody<B> {
    /// Wrap `inner`, allowing at most `timeout` between frames.
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            timer: Box::pin(sleep(timeout)),
        }
    }
}

impl<B> Body for IdleTimeoutBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = Instant::now() + this.timeout;
                this.timer.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(IdleTimeout(this.timeout))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use http_body_util::{BodyExt, StreamBody};

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_timeout() {
        let stalled = StreamBody::new(futures_util::stream::pending::<
            Result<Frame<Bytes>, std::io::Error>,
        >());
        let err = IdleTimeoutBody::new(stalled, Duration::from_secs(5))
            .collect()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("sent nothing"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_alive_body_completes() {
        let frames = futures_util::stream::iter(0..5).then(|i| async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            Ok::<_, std::io::Error>(Frame::data(Bytes::from(format!("{i}"))))
        });
        let body = IdleTimeoutBody::new(StreamBody::new(Box::pin(frames)), Duration::from_secs(5));
        assert_eq!(
            body.collect().await.unwrap().to_bytes(),
            Bytes::from_static(b"01234")
        );
    }
}
