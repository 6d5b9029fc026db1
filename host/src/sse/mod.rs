//! The legacy HTTP+SSE transport (MCP 2024-11-05), bridged onto the same
//! stateless component: `GET /sse` opens an event stream that announces
//! `/messages?sessionId=…`; each POST there runs through the component like a
//! Streamable-HTTP POST (fresh instance, that request's identity) and its
//! JSON-RPC response is written to the stream as a `message` event.
//!
//! A session belongs to the caller who opened it and lives as long as its
//! stream (or until it has been idle too long); sessions are capped in total
//! and per caller so abandoned clients cannot exhaust memory.
//!
//! This file holds the sessions; `bridge.rs` the HTTP handlers.

pub mod bridge;

use std::collections::HashMap;
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::identity::Caller;
use crate::limits::share_key;

/// Where legacy clients open their stream.
pub const SSE_PATH: &str = "/sse";
/// Where legacy clients post their messages.
pub const MESSAGES_PATH: &str = "/messages";

/// Events a slow reader may have queued before its session's POSTs get 503.
const QUEUE: usize = 64;

/// Limits of the legacy transport.
#[derive(Debug, Clone, Copy)]
pub struct SseLimits {
    pub max_sessions: usize,
    pub max_sessions_per_caller: usize,
    pub idle_timeout: Duration,
    pub keepalive: Duration,
}

struct Session {
    owner: String,
    events: mpsc::Sender<Bytes>,
    last_active: Instant,
}

/// The open sessions.
pub struct Sessions {
    limits: SseLimits,
    open: Arc<Mutex<HashMap<String, Session>>>,
}

/// Why a session could not be opened or used.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionError {
    /// Too many sessions in total (503).
    Full,
    /// Too many sessions for this caller (429).
    CallerFull,
    /// No such session, or it has ended (404).
    Unknown,
    /// The session belongs to another caller (403).
    NotYours,
    /// The client is not reading its stream (503).
    Backlogged,
}

impl Sessions {
    pub fn new(limits: SseLimits) -> Arc<Sessions> {
        let sessions = Arc::new(Sessions {
            limits,
            open: Arc::new(Mutex::new(HashMap::new())),
        });
        // Ends sessions that have been idle too long; stops with the last reference.
        let weak = Arc::downgrade(&sessions);
        let period =
            (limits.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(sessions) = weak.upgrade() else {
                    return;
                };
                sessions.sweep();
            }
        });
        sessions
    }

    fn sweep(&self) {
        let idle = self.limits.idle_timeout;
        if let Ok(mut open) = self.open.lock() {
            // Dropping a session's sender ends its stream.
            open.retain(|_, s| s.last_active.elapsed() < idle);
        }
    }

    /// Opens a session for `caller`: the stream to send, whose first event
    /// names the message endpoint.
    pub fn open(&self, caller: &Caller) -> Result<SseBody, SessionError> {
        let owner = share_key(caller);
        let id = session_id();
        let (events, receiver) = mpsc::channel(QUEUE);
        {
            let mut open = self.open.lock().map_err(|_| SessionError::Full)?;
            if open.len() >= self.limits.max_sessions {
                return Err(SessionError::Full);
            }
            let mine = open.values().filter(|s| s.owner == owner).count();
            if mine >= self.limits.max_sessions_per_caller {
                return Err(SessionError::CallerFull);
            }
            open.insert(
                id.clone(),
                Session {
                    owner,
                    events,
                    last_active: Instant::now(),
                },
            );
        }
        let endpoint = format!("event: endpoint\ndata: {MESSAGES_PATH}?sessionId={id}\n\n");
        let mut keepalive = tokio::time::interval(self.limits.keepalive);
        keepalive.reset();
        Ok(SseBody {
            first: Some(Bytes::from(endpoint)),
            events: receiver,
            keepalive,
            _session: SessionGuard {
                id,
                open: self.open.clone(),
            },
        })
    }

    /// Checks that `id` is open and belongs to `caller`; marks it active.
    pub fn check(&self, id: &str, caller: &Caller) -> Result<(), SessionError> {
        let mut open = self.open.lock().map_err(|_| SessionError::Unknown)?;
        let session = open.get_mut(id).ok_or(SessionError::Unknown)?;
        if session.owner != share_key(caller) {
            return Err(SessionError::NotYours);
        }
        session.last_active = Instant::now();
        Ok(())
    }

    /// Sends a JSON-RPC message to session `id`'s stream.
    pub fn send(&self, id: &str, message: &[u8]) -> Result<(), SessionError> {
        let open = self.open.lock().map_err(|_| SessionError::Unknown)?;
        let session = open.get(id).ok_or(SessionError::Unknown)?;
        // SSE data lines cannot hold newlines; JSON needs none between tokens.
        let data: String = String::from_utf8_lossy(message)
            .split(['\n', '\r'])
            .collect();
        let event = Bytes::from(format!("event: message\ndata: {data}\n\n"));
        session.events.try_send(event).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SessionError::Backlogged,
            mpsc::error::TrySendError::Closed(_) => SessionError::Unknown,
        })
    }

    /// Open sessions (for tests and `/healthz`).
    pub fn len(&self) -> usize {
        self.open.lock().map(|open| open.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The session id: 128 random bits from the OS, as hex.
fn session_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if filled.is_err() {
        // No /dev/urandom: fall back on std's randomly keyed hasher (still unguessable in practice).
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(Instant::now().elapsed().as_nanos());
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes its session when the stream ends (client gone, idle, shutdown).
struct SessionGuard {
    id: String,
    open: Arc<Mutex<HashMap<String, Session>>>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&self.id);
        }
    }
}

/// The event stream of one session.
pub struct SseBody {
    first: Option<Bytes>,
    events: mpsc::Receiver<Bytes>,
    keepalive: tokio::time::Interval,
    _session: SessionGuard,
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        match self.events.poll_recv(cx) {
            Poll::Ready(Some(event)) => return Poll::Ready(Some(Ok(Frame::data(event)))),
            // The session was closed (idle or shut down): end the stream.
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        match self.keepalive.poll_tick(cx) {
            Poll::Ready(_) => Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                b": keepalive\n\n",
            ))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl SseBody {
    /// As the host's response body type.
    pub fn boxed(self) -> wasmtime_wasi_http::p2::body::HyperOutgoingBody {
        BodyExt::boxed_unsync(self)
    }
}

/// The `sessionId` query parameter.
pub fn session_param(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sessionId="))
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_long_and_distinct() {
        let (a, b) = (session_id(), session_id());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn query() {
        assert_eq!(session_param(Some("sessionId=abc")), Some("abc"));
        assert_eq!(session_param(Some("x=1&sessionId=abc")), Some("abc"));
        assert_eq!(session_param(Some("sessionId=")), None);
        assert_eq!(session_param(None), None);
    }
}
