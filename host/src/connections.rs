//! Open client connections: how many may be open, and which are closed when.
//!
//! A connection is in one of four phases: fresh (nothing received yet), head
//! (a request head is arriving), busy (a request is being served) or idle (a
//! keep-alive connection between requests). Fresh and head phases get
//! `--client-timeout`; an idle connection is kept for [`IDLE_TIMEOUT`]; a
//! busy one is never cut here (the body and the component have their own
//! deadlines). At the connection limit, fresh connections that have been
//! silent for [`SILENT_AT_LIMIT`] are closed to make room; otherwise new
//! connections wait to be accepted, since closing a used one could race a
//! request that `tailscale serve` is sending on it, and Go's reverse proxy
//! does not retry a POST (its client would see a 502).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// How long a used keep-alive connection may sit idle. Longer than the 90 s
/// `IdleConnTimeout` of `tailscale serve`'s transport, so serve always closes
/// first and never sends a request on a connection being closed here.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// At the limit, a fresh connection silent this long is closed to make room.
/// A real client sends its request head as soon as it connects.
pub const SILENT_AT_LIMIT: Duration = Duration::from_secs(1);
/// How often overdue connections are looked for.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(250);
/// How often a full server looks again for a connection to close.
const RECHECK_AT_LIMIT: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Fresh,
    Head,
    Busy,
    Idle,
    /// Told to close; not counted as a candidate again.
    Closing,
}

/// What is known about one connection; shared by its reader, its request
/// handler and the sweeper.
pub struct Activity {
    state: Mutex<(Phase, Instant)>,
    close: Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new((Phase::Fresh, Instant::now())),
            close: Notify::new(),
        }
    }

    fn set(&self, change: impl FnOnce(Phase) -> Option<Phase>) {
        if let Ok(mut state) = self.state.lock()
            && let Some(next) = change(state.0)
        {
            *state = (next, Instant::now());
        }
    }

    /// Bytes arrived: outside a request they start a request head.
    fn received(&self) {
        self.set(|phase| matches!(phase, Phase::Fresh | Phase::Idle).then_some(Phase::Head));
    }

    /// A request head has been read and is being served.
    pub fn request_started(&self) {
        self.set(|phase| (phase != Phase::Closing).then_some(Phase::Busy));
    }

    /// The response has been written (its body dropped).
    pub fn request_finished(&self) {
        self.set(|phase| (phase == Phase::Busy).then_some(Phase::Idle));
    }

    /// Completes when the connection is to be closed.
    pub async fn closed(&self) {
        self.close.notified().await;
    }

    /// Tells the connection to close if `overdue` says so for its phase and
    /// the time spent in it.
    fn close_if(&self, now: Instant, overdue: impl FnOnce(Phase, Duration) -> bool) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if !overdue(state.0, now.saturating_duration_since(state.1)) {
            return false;
        }
        state.0 = Phase::Closing;
        // notify_one keeps the wake-up if the connection is not waiting yet.
        self.close.notify_one();
        true
    }
}

/// The open connections and the limit on them.
pub struct Connections {
    slots: Arc<Semaphore>,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
    client_timeout: Duration,
}

/// One connection's place; gives it back when dropped.
pub struct Slot {
    id: u64,
    pub activity: Arc<Activity>,
    connections: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.connections.open.lock() {
            open.remove(&self.id);
        }
    }
}

impl Connections {
    pub fn new(max: u32, client_timeout: Duration) -> Arc<Connections> {
        Arc::new(Connections {
            slots: Arc::new(Semaphore::new(max as usize)),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            client_timeout,
        })
    }

    /// A place for the next connection, taken before it is accepted. At
    /// the limit, closes the fresh connections that have been silent for
    /// [`SILENT_AT_LIMIT`] and takes the first place freed; with none to
    /// close, waits.
    pub async fn place(&self) -> OwnedSemaphorePermit {
        loop {
            if let Ok(permit) = self.slots.clone().try_acquire_owned() {
                return permit;
            }
            self.close_where(Instant::now(), |phase, silent| {
                phase == Phase::Fresh && silent >= SILENT_AT_LIMIT
            });
            tokio::select! {
                permit = self.slots.clone().acquire_owned() => {
                    if let Ok(permit) = permit {
                        return permit;
                    }
                    // The semaphore is never closed; do not spin if it were.
                    tokio::time::sleep(RECHECK_AT_LIMIT).await;
                }
                () = tokio::time::sleep(RECHECK_AT_LIMIT) => {}
            }
        }
    }

    /// Starts tracking a connection just accepted into `permit`'s place
    /// (only now: its deadlines count from the accept).
    pub fn register(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Slot {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity::new());
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, activity.clone());
        }
        Slot {
            id,
            activity,
            connections: self.clone(),
            _permit: permit,
        }
    }

    /// Closes the connections past their phase's deadline: no request head
    /// (or only part of one) within `--client-timeout`, or idle for
    /// [`IDLE_TIMEOUT`]. Returns how many.
    pub fn sweep(&self) -> usize {
        self.sweep_at(Instant::now())
    }

    fn sweep_at(&self, now: Instant) -> usize {
        let timeout = self.client_timeout;
        self.close_where(now, |phase, elapsed| match phase {
            Phase::Fresh | Phase::Head => elapsed >= timeout,
            Phase::Idle => elapsed >= IDLE_TIMEOUT,
            Phase::Busy | Phase::Closing => false,
        })
    }

    fn close_where(&self, now: Instant, overdue: impl Fn(Phase, Duration) -> bool) -> usize {
        let Ok(open) = self.open.lock() else {
            return 0;
        };
        open.values()
            .filter(|activity| activity.close_if(now, &overdue))
            .count()
    }
}

/// Sweeps `connections` every [`SWEEP_INTERVAL`] until dropped.
pub fn sweeper(connections: Arc<Connections>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let closed = connections.sweep();
            if closed > 0 {
                tracing::debug!("closed {closed} connections past their deadline");
            }
        }
    })
}

/// A connection's socket, telling its [`Activity`] when bytes arrive.
pub struct Watched<IO> {
    io: IO,
    activity: Arc<Activity>,
}

impl<IO> Watched<IO> {
    pub fn new(io: IO, activity: Arc<Activity>) -> Watched<IO> {
        Watched { io, activity }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.received();
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
