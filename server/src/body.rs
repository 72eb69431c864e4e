//! Request and response bodies with bounded memory: JSON bodies read up to a
//! limit, part bodies streamed frame by frame with an idle deadline, record
//! downloads streamed from a blocking reader through a small channel.

use std::io::{Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::store::RecordReader;

/// Download chunk size; at most [`DOWNLOAD_QUEUE`] chunks are in memory per download.
const DOWNLOAD_CHUNK: usize = 256 << 10;
/// Chunks queued between the file reader and the socket.
const DOWNLOAD_QUEUE: usize = 4;

/// The next data chunk of `body`: `Ok(None)` at its end; trailers are skipped.
///
/// # Errors
/// [`ApiError::RequestTimeout`] after `idle` without data,
/// [`ApiError::BodyIncomplete`] if the connection fails.
pub async fn next_chunk(body: &mut Body, idle: Duration) -> Result<Option<Bytes>, ApiError> {
    loop {
        let frame = tokio::time::timeout(
            idle,
            std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)),
        )
        .await
        .map_err(|_| ApiError::RequestTimeout)?;
        match frame {
            None => return Ok(None),
            Some(Err(_)) => return Err(ApiError::BodyIncomplete),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// Reads and discards what is left of a refused request's body, up to
/// `max_bytes` or `deadline`, so that the client, still sending, reads the
/// refusal instead of a reset connection (a "lingering close"; clients that
/// send `Expect: 100-continue` never send the body at all).
pub async fn drain(body: &mut Body, max_bytes: u64, deadline: Duration) {
    let drained = async {
        let mut seen: u64 = 0;
        while let Ok(Some(chunk)) = next_chunk(body, deadline).await {
            seen += chunk.len() as u64;
            if seen > max_bytes {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(deadline, drained).await;
}

/// Most bytes [`read_limited`] discards after refusing an oversize body.
const JSON_DRAIN: u64 = 1 << 20;
/// Longest [`drain`] of a refused body.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Reads a whole small body of at most `limit` bytes.
///
/// # Errors
/// [`ApiError::PayloadTooLarge`] past `limit`; as [`next_chunk`].
pub async fn read_limited(mut body: Body, limit: u64, idle: Duration) -> Result<Bytes, ApiError> {
    if body.size_hint().lower() > limit {
        drain(&mut body, JSON_DRAIN, DRAIN_DEADLINE).await;
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut out = BytesMut::new();
    while let Some(chunk) = next_chunk(&mut body, idle).await? {
        if (out.len() + chunk.len()) as u64 > limit {
            drain(&mut body, JSON_DRAIN, DRAIN_DEADLINE).await;
            return Err(ApiError::PayloadTooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

/// A response body fed by a blocking reader thread.
struct ChannelBody {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    remaining: u64,
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(data))) => {
                self.remaining = self.remaining.saturating_sub(data.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
}

/// Streams `len` bytes of `reader` from `start` as a response body. The
/// record is read on the blocking pool in pieces of at most 256 KiB
/// ([`RecordReader::next_chunk`]: an S3 window's bytes are sent as they
/// came, without a copy); the reader stops as soon as the client goes away. A short file ends the body
/// with an error, so the client sees a cut connection, never short data as whole.
pub fn stream_range(mut reader: Box<dyn RecordReader>, start: u64, len: u64) -> Body {
    let (tx, rx) = mpsc::channel(DOWNLOAD_QUEUE);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = reader.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left.min(DOWNLOAD_CHUNK as u64)).unwrap_or(DOWNLOAD_CHUNK);
            let result = match reader.next_chunk(want) {
                Ok(chunk) if chunk.is_empty() => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "record shorter than recorded",
                )),
                Ok(chunk) => {
                    left -= chunk.len() as u64;
                    Ok(chunk)
                }
                Err(e) => Err(e),
            };
            let failed = result.is_err();
            if tx.blocking_send(result).is_err() || failed {
                return;
            }
        }
    });
    Body::new(ChannelBody { rx, remaining: len })
}

/// A byte range `start..start + len` of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Length.
    pub len: u64,
}

/// Parses a `Range` header against a record of `total` bytes (RFC 9110 §14).
/// `Ok(None)`: serve the whole record (no header, another unit, or several
/// ranges, which a server may ignore).
///
/// # Errors
/// `Err(())` if the range is not satisfiable (answered 416).
#[allow(clippy::result_unit_err)]
pub fn parse_range(header: Option<&str>, total: u64) -> Result<Option<ByteRange>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let range = match (first.trim().is_empty(), num(first), num(last)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) => {
            if n == 0 || total == 0 {
                return Err(());
            }
            let n = n.min(total);
            ByteRange {
                start: total - n,
                len: n,
            }
        }
        (false, Some(a), end) => {
            if a >= total {
                return Err(());
            }
            let end = match (end, last.trim().is_empty()) {
                (Some(b), _) if b >= a => b.min(total - 1),
                (None, true) => total - 1,
                _ => return Ok(None), // malformed: ignore the header
            };
            ByteRange {
                start: a,
                len: end - a + 1,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        let r = |s, t| parse_range(Some(s), t);
        assert_eq!(
            r("bytes=0-9", 100),
            Ok(Some(ByteRange { start: 0, len: 10 }))
        );
        assert_eq!(
            r("bytes=90-", 100),
            Ok(Some(ByteRange { start: 90, len: 10 }))
        );
        assert_eq!(
            r("bytes=90-500", 100),
            Ok(Some(ByteRange { start: 90, len: 10 }))
        );
        assert_eq!(
            r("bytes=-10", 100),
            Ok(Some(ByteRange { start: 90, len: 10 }))
        );
        assert_eq!(
            r("bytes=-500", 100),
            Ok(Some(ByteRange { start: 0, len: 100 }))
        );
        assert_eq!(r("bytes=100-", 100), Err(()));
        assert_eq!(r("bytes=-0", 100), Err(()));
        assert_eq!(r("bytes=5-1", 100), Ok(None));
        assert_eq!(r("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(r("items=0-1", 100), Ok(None));
        assert_eq!(r("bytes=a-b", 100), Ok(None));
        assert_eq!(parse_range(None, 100), Ok(None));
    }
}
