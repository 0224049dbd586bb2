//! Request heads, read and checked before actix parses them.
//!
//! actix-http answers a request head it cannot take with an empty body: 400 for a
//! target over 64 KiB or a malformed head, 431 for over 96 fields or 128 KiB, 408 when
//! the first head is slow. A client then learns nothing, and ours would show "empty
//! response". So every connection's bytes pass through a [`GuardedStream`] first. It
//! holds each request head back until the head is complete, then checks it against
//! tighter bounds than actix's ([`MAX_HEAD`], [`MAX_TARGET`], [`MAX_FIELDS`]) and a
//! deadline (`EDUPRO_HEAD_TIMEOUT`); a head that passes goes to actix whole, one that
//! does not is answered here in the API's error envelope, naming what was wrong, and the
//! connection is closed. actix's own checks stay behind ours and no longer fire.
//!
//! To find the next head on a kept-alive connection the guard follows each request's
//! body framing (`Content-Length`, or chunked with its trailers) while the body's bytes
//! flow straight through. A head it cannot frame for certain (a `Transfer-Encoding`
//! other than chunked, two different lengths, an upgrade to WebSocket) switches the
//! connection to pass-through: actix decides on it, as before.
//!
//! The refusal is written after the answers to earlier requests on the connection, since
//! a client sends its next head only once it has read them (a client that pipelines
//! requests may see the refusal interleaved with an earlier answer). It is followed by a
//! half-close and up to a second of reading what the client still sends, so that closing
//! with unread input (which sends a TCP reset) cannot destroy the answer in flight.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::api::{ErrorBody, ErrorCode, FieldError};

/// The largest request head (request line and fields).
pub const MAX_HEAD: usize = 64 * 1024;
/// The longest request target (path and query string).
pub const MAX_TARGET: usize = 16 * 1024;
/// The most header fields in one head.
pub const MAX_FIELDS: usize = 64;
/// How long a refused connection is read (and discarded) before it is closed.
const DRAIN_FOR: Duration = Duration::from_secs(1);
/// How much of it at most.
const DRAIN_BYTES: usize = 1024 * 1024;
/// The longest chunk-size or trailer line followed before pass-through.
const MAX_CHUNK_LINE: usize = 4096;
/// Bytes read from the socket at a time.
const READ_SIZE: usize = 16 * 1024;

/// A client connection whose request heads are checked before actix reads them.
pub struct GuardedStream {
    io: TcpStream,
    peer: Option<SocketAddr>,
    head_timeout: Duration,
    /// Read from the socket, not yet classified.
    pending: BytesMut,
    /// Classified, handed to actix at its next read.
    ready: BytesMut,
    phase: Phase,
    /// When the head being read must be complete: from the accept for the first head,
    /// from its first byte for later ones.
    deadline: Option<Pin<Box<Sleep>>>,
    /// How far `pending` has been searched for the end of the head.
    scanned: usize,
}

enum Phase {
    Head,
    /// Bytes of a body left.
    Body(u64),
    Chunked(Chunk),
    /// Not followed any more: everything goes to actix.
    Through,
    /// Answering a refused head.
    Refusing {
        answer: Vec<u8>,
        written: usize,
    },
    /// Answered and half-closed; reading what the client still sends.
    Draining {
        until: Pin<Box<Sleep>>,
        left: usize,
    },
    /// Done: actix reads the end of the stream.
    Closed,
}

enum Chunk {
    /// In a chunk-size line: its value so far, its hex digits, whether past them.
    Size {
        value: u64,
        digits: usize,
        past: bool,
        len: usize,
    },
    /// Bytes of chunk data left.
    Data(u64),
    /// The line end after a chunk's data.
    DataEnd,
    /// In the trailer section: the length of the current line.
    Trailer { len: usize },
}

const SIZE_LINE: Chunk = Chunk::Size {
    value: 0,
    digits: 0,
    past: false,
    len: 0,
};

/// Why a head is refused, and the answer.
struct Refusal {
    status: u16,
    reason: &'static str,
    code: ErrorCode,
    message: String,
    field: Option<&'static str>,
}

impl Refusal {
    fn response(&self) -> Vec<u8> {
        let body = ErrorBody {
            success: false,
            message: self.message.clone(),
            code: self.code,
            errors: self.field.map(|field| {
                vec![FieldError {
                    field: field.to_owned(),
                    message: self.message.clone(),
                }]
            }),
            retry_after: None,
            required_scope: None,
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut answer = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\n\r\n",
            self.status,
            self.reason,
            json.len()
        )
        .into_bytes();
        answer.extend_from_slice(&json);
        answer
    }
}

/// What a complete head means for the bytes after it.
enum Framing {
    Length(u64),
    Chunked,
    Through,
}

impl GuardedStream {
    /// Guards `io`, whose first head must be complete within `head_timeout`.
    pub fn new(io: TcpStream, head_timeout: Duration) -> Self {
        let peer = io.peer_addr().ok();
        Self {
            io,
            peer,
            head_timeout,
            pending: BytesMut::new(),
            ready: BytesMut::new(),
            phase: Phase::Head,
            deadline: Some(Box::pin(tokio::time::sleep(head_timeout))),
            scanned: 0,
        }
    }

    /// The client's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    fn refuse(&mut self, refusal: Refusal) {
        tracing::info!(
            status = refusal.status,
            peer = ?self.peer,
            reason = %refusal.message,
            "request head refused"
        );
        self.pending.clear();
        self.ready.clear();
        self.deadline = None;
        self.phase = Phase::Refusing {
            answer: refusal.response(),
            written: 0,
        };
    }

    /// Moves what can be classified from `pending` to `ready` (or refuses); whether
    /// anything changed.
    fn classify(&mut self) -> bool {
        let mut changed = false;
        loop {
            if self.pending.is_empty() {
                return changed;
            }
            match &mut self.phase {
                Phase::Head => match self.head() {
                    Some(()) => changed = true,
                    None => return changed,
                },
                Phase::Body(left) => {
                    let n = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(self.pending.len());
                    *left -= n as u64;
                    if *left == 0 {
                        self.phase = Phase::Head;
                    }
                    let bytes = self.pending.split_to(n);
                    self.ready.unsplit(bytes);
                    changed = true;
                }
                Phase::Chunked(_) => {
                    self.chunked();
                    changed = true;
                }
                Phase::Through => {
                    let bytes = self.pending.split();
                    self.ready.unsplit(bytes);
                    return true;
                }
                Phase::Refusing { .. } | Phase::Draining { .. } | Phase::Closed => {
                    self.pending.clear();
                    return true;
                }
            }
        }
    }

    /// Checks the head at the start of `pending`: hands it on, refuses it, or (`None`)
    /// waits for more of it.
    fn head(&mut self) -> Option<()> {
        if self.deadline.is_none() {
            self.deadline = Some(Box::pin(tokio::time::sleep(self.head_timeout)));
        }
        let from = self.scanned.saturating_sub(3);
        let complete = head_end(&self.pending[from..]).is_some();
        self.scanned = self.pending.len();
        if !complete {
            if self.pending.len() > MAX_HEAD {
                // Most likely a request line too long to end within the bound.
                let line_end = self
                    .pending
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(self.pending.len());
                let refusal = match target_of(&self.pending[..line_end]) {
                    Some(target) if target.len() > MAX_TARGET => {
                        too_long_target(target, line_end == self.pending.len())
                    }
                    _ => too_large_head(),
                };
                self.refuse(refusal);
                return Some(());
            }
            return None;
        }
        let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
        let mut request = httparse::Request::new(&mut fields);
        let parsed = request.parse(&self.pending);
        let (len, refusal, framing) = match parsed {
            Ok(httparse::Status::Complete(len)) => match request.path {
                Some(target) if target.len() > MAX_TARGET => (
                    len,
                    Some(too_long_target(target.as_bytes(), false)),
                    Framing::Through,
                ),
                _ if len > MAX_HEAD => (len, Some(too_large_head()), Framing::Through),
                _ => (len, None, framing(&request)),
            },
            // Only blank lines so far (allowed before a request line).
            Ok(httparse::Status::Partial) => return None,
            Err(httparse::Error::TooManyHeaders) => (
                0,
                Some(Refusal {
                    status: 431,
                    reason: "Request Header Fields Too Large",
                    code: ErrorCode::PayloadTooLarge,
                    message: format!("The request has more than {MAX_FIELDS} header fields."),
                    field: Some("headers"),
                }),
                Framing::Through,
            ),
            Err(err) => (
                0,
                Some(Refusal {
                    status: 400,
                    reason: "Bad Request",
                    code: ErrorCode::BadRequest,
                    message: format!("The request head is not valid HTTP/1.1 ({err})."),
                    field: None,
                }),
                Framing::Through,
            ),
        };
        if let Some(refusal) = refusal {
            self.refuse(refusal);
            return Some(());
        }
        let head = self.pending.split_to(len);
        self.ready.unsplit(head);
        self.deadline = None;
        self.scanned = 0;
        self.phase = match framing {
            Framing::Length(0) => Phase::Head,
            Framing::Length(n) => Phase::Body(n),
            Framing::Chunked => Phase::Chunked(SIZE_LINE),
            Framing::Through => Phase::Through,
        };
        Some(())
    }

    /// Follows a chunked body through `pending`, handing it on as it goes.
    fn chunked(&mut self) {
        let Phase::Chunked(chunk) = &mut self.phase else {
            return;
        };
        let mut taken = 0;
        let mut next = None;
        while taken < self.pending.len() && next.is_none() {
            let byte = self.pending[taken];
            match chunk {
                Chunk::Data(left) => {
                    let n = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(self.pending.len() - taken);
                    *left -= n as u64;
                    taken += n;
                    if *left == 0 {
                        *chunk = Chunk::DataEnd;
                    }
                    continue;
                }
                Chunk::Size {
                    value,
                    digits,
                    past,
                    len,
                } => {
                    *len += 1;
                    match byte {
                        b'\n' if *digits == 0 || *len > MAX_CHUNK_LINE => {
                            next = Some(Phase::Through)
                        }
                        b'\n' if *value == 0 => *chunk = Chunk::Trailer { len: 0 },
                        b'\n' => *chunk = Chunk::Data(*value),
                        b'\r' => {}
                        _ if !*past && byte.is_ascii_hexdigit() => {
                            let digit = u64::from((byte as char).to_digit(16).unwrap_or(0));
                            match value.checked_mul(16).and_then(|v| v.checked_add(digit)) {
                                Some(v) => {
                                    *value = v;
                                    *digits += 1;
                                }
                                None => next = Some(Phase::Through),
                            }
                        }
                        b';' | b' ' | b'\t' => *past = true,
                        _ if *past && *len <= MAX_CHUNK_LINE => {}
                        _ => next = Some(Phase::Through),
                    }
                }
                Chunk::DataEnd => match byte {
                    b'\r' => {}
                    b'\n' => *chunk = SIZE_LINE,
                    _ => next = Some(Phase::Through),
                },
                Chunk::Trailer { len } => match byte {
                    b'\r' => {}
                    b'\n' if *len == 0 => next = Some(Phase::Head),
                    b'\n' => *len = 0,
                    _ if *len < MAX_CHUNK_LINE => *len += 1,
                    _ => next = Some(Phase::Through),
                },
            }
            taken += 1;
        }
        let bytes = self.pending.split_to(taken);
        self.ready.unsplit(bytes);
        if let Some(phase) = next {
            self.phase = phase;
        }
    }

    /// Reads from the socket into `pending`: `Ready(Ok(0))` at its end.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let mut chunk = [0u8; READ_SIZE];
        let mut buf = ReadBuf::new(&mut chunk);
        match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                self.pending.extend_from_slice(buf.filled());
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Writes the refusal, half-closes and drains; `Ready` once the connection is done.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match &mut self.phase {
                Phase::Refusing { answer, written } => {
                    while *written < answer.len() {
                        match Pin::new(&mut self.io).poll_write(cx, &answer[*written..]) {
                            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                                self.phase = Phase::Closed;
                                return Poll::Ready(());
                            }
                            Poll::Ready(Ok(n)) => *written += n,
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                    match Pin::new(&mut self.io).poll_shutdown(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(_) => {
                            self.phase = Phase::Draining {
                                until: Box::pin(tokio::time::sleep(DRAIN_FOR)),
                                left: DRAIN_BYTES,
                            }
                        }
                    }
                }
                Phase::Draining { until, left } => {
                    if *left == 0 || until.as_mut().poll(cx).is_ready() {
                        self.phase = Phase::Closed;
                        continue;
                    }
                    let left = *left;
                    match self.fill(cx) {
                        Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => self.phase = Phase::Closed,
                        Poll::Ready(Ok(n)) => {
                            self.pending.clear();
                            if let Phase::Draining { left: l, .. } = &mut self.phase {
                                *l = left.saturating_sub(n);
                            }
                        }
                        Poll::Pending => return Poll::Pending,
                    }
                }
                _ => return Poll::Ready(()),
            }
        }
    }

    fn refused(&self) -> bool {
        matches!(
            self.phase,
            Phase::Refusing { .. } | Phase::Draining { .. } | Phase::Closed
        )
    }
}

/// Where the blank line that ends a head is in `bytes`, if it is there.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .or_else(|| bytes.windows(3).position(|w| w == b"\n\r\n"))
}

fn too_large_head() -> Refusal {
    Refusal {
        status: 431,
        reason: "Request Header Fields Too Large",
        code: ErrorCode::PayloadTooLarge,
        message: format!(
            "The request head is over {} KiB; send large values in the body.",
            MAX_HEAD / 1024
        ),
        field: Some("headers"),
    }
}

/// The request target of a (possibly unfinished) request line: after the method.
fn target_of(line: &[u8]) -> Option<&[u8]> {
    let start = line.iter().position(|&b| b == b' ')? + 1;
    let rest = &line[start..];
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The answer to a target over [`MAX_TARGET`]; `unfinished` when only its start came
/// within the head's bound.
fn too_long_target(target: &[u8], unfinished: bool) -> Refusal {
    let query = target
        .iter()
        .position(|&b| b == b'?')
        .map_or(0, |at| target.len() - at - 1);
    let (field, what) = if query > target.len() / 2 {
        ("query", "query string")
    } else {
        ("url", "URL")
    };
    let size = if unfinished {
        format!("over {} bytes", target.len())
    } else {
        format!("{} bytes", target.len())
    };
    Refusal {
        status: 414,
        reason: "URI Too Long",
        code: ErrorCode::PayloadTooLarge,
        message: format!("The {what} is {size}; at most {MAX_TARGET} are accepted."),
        field: Some(field),
    }
}

/// The framing a complete, accepted head gives the bytes after it.
fn framing(request: &httparse::Request<'_, '_>) -> Framing {
    if request.method == Some("CONNECT") {
        return Framing::Through;
    }
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for field in request.headers.iter() {
        if field.name.eq_ignore_ascii_case("upgrade") {
            return Framing::Through;
        }
        if field.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = field
                .value
                .rsplit(|&b| b == b',')
                .next()
                .map(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            if last != Some(true) {
                return Framing::Through;
            }
            chunked = true;
        }
        if field.name.eq_ignore_ascii_case("content-length") {
            let Some(value) = std::str::from_utf8(field.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                return Framing::Through;
            };
            if length.is_some_and(|seen| seen != value) {
                return Framing::Through;
            }
            length = Some(value);
        }
    }
    match (chunked, length) {
        (true, Some(_)) => Framing::Through,
        (true, None) => Framing::Chunked,
        (false, length) => Framing::Length(length.unwrap_or(0)),
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.refused() {
                // Nothing more for actix: the end of the stream once the answer is out.
                return this.poll_refusal(cx).map(|()| Ok(()));
            }
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready[..n]);
                this.ready.advance(n);
                if this.ready.is_empty() {
                    // Give the buffer back: a WebSocket or an idle kept-alive
                    // connection would otherwise hold its last read's 16 KiB.
                    this.ready = BytesMut::new();
                }
                return Poll::Ready(Ok(()));
            }
            if this.classify() {
                if this.pending.is_empty() {
                    this.pending = BytesMut::new();
                }
                continue;
            }
            // Straight through when nothing is held back.
            match this.phase {
                Phase::Through => return Pin::new(&mut this.io).poll_read(cx, buf),
                Phase::Body(left) if (buf.remaining() as u64) <= left => {
                    let before = buf.filled().len();
                    let read = Pin::new(&mut this.io).poll_read(cx, buf);
                    if let Poll::Ready(Ok(())) = read
                        && let Phase::Body(left) = &mut this.phase
                    {
                        *left -= (buf.filled().len() - before) as u64;
                        if *left == 0 {
                            this.phase = Phase::Head;
                        }
                    }
                    return read;
                }
                _ => {}
            }
            if matches!(this.phase, Phase::Head)
                && let Some(deadline) = this.deadline.as_mut()
                && deadline.as_mut().poll(cx).is_ready()
            {
                this.refuse(Refusal {
                    status: 408,
                    reason: "Request Timeout",
                    code: ErrorCode::RequestTimeout,
                    message: format!(
                        "The request head did not arrive within {} s; the connection is closed.",
                        this.head_timeout.as_secs_f64()
                    ),
                    field: None,
                });
                continue;
            }
            match this.fill(cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.refused() {
            // actix's own answer to the cut-off stream: ours has gone out instead.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.refused() {
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.refused() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.refused() {
            return this.poll_refusal(cx).map(|()| Ok(()));
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}
