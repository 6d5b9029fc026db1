//! Admission: how many requests may run in components at once, in total and
//! per caller, so one caller cannot starve the others. A full server answers
//! 503 and a caller over its share 429, both at once with `Retry-After`,
//! instead of letting requests pile up. Each caller also has a few *busy
//! slots*: a guest still computing at an epoch tick takes one, or
//! waits for one (see `instance.rs`), so one caller's busy tools leave the
//! other cores to everyone else while quick calls never wait.
//!
//! The same holds for memory: the bodies being buffered share a byte budget,
//! in total and per caller, so a request over it is refused before its body
//! is read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::digest::sha256_hex;
use crate::identity::Caller;

/// Why a request was not admitted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The server is running as many requests as it may (503).
    Busy,
    /// This caller is running its whole share (429).
    CallerBusy,
}

/// The admission counters.
pub struct Admission {
    total: Arc<Semaphore>,
    /// How many `total` holds when none is taken.
    max_total: usize,
    per_caller: Arc<Mutex<HashMap<String, Share>>>,
    per_caller_max: u32,
    busy_per_caller: u32,
}

/// One caller's requests: how many are admitted, and its busy slots. Kept
/// while any of them is admitted.
struct Share {
    admitted: u32,
    busy: Arc<Semaphore>,
}

/// Holds a request's place until dropped.
pub struct Admitted {
    _total: OwnedSemaphorePermit,
    per_caller: Arc<Mutex<HashMap<String, Share>>>,
    key: String,
    busy: Arc<Semaphore>,
}

impl Admitted {
    /// The caller's busy slots, shared by all its admitted requests; tokio's
    /// semaphore hands them out in the order they were asked for.
    pub fn busy_slots(&self) -> Arc<Semaphore> {
        self.busy.clone()
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut shares) = self.per_caller.lock()
            && let Some(share) = shares.get_mut(&self.key)
        {
            share.admitted -= 1;
            if share.admitted == 0 {
                shares.remove(&self.key);
            }
        }
    }
}

impl Admission {
    /// `total` requests at once, `per_caller` of them from one caller, and
    /// `busy_per_caller` busy slots per caller.
    pub fn new(total: u32, per_caller: u32, busy_per_caller: u32) -> Admission {
        Admission {
            total: Arc::new(Semaphore::new(total as usize)),
            max_total: total as usize,
            per_caller: Arc::new(Mutex::new(HashMap::new())),
            per_caller_max: per_caller.max(1),
            busy_per_caller: busy_per_caller.max(1),
        }
    }

    /// How many requests are admitted now: being handled by a component
    /// instance (an admitted request holds its place until it is answered).
    pub fn in_flight(&self) -> usize {
        self.max_total
            .saturating_sub(self.total.available_permits())
    }

    /// Admits a request of the caller whose [`share_key`] is `key`, or says
    /// why not; never waits.
    pub fn admit(&self, key: &str) -> Result<Admitted, Refused> {
        let key = key.to_string();
        let mut shares = self.per_caller.lock().map_err(|_| Refused::Busy)?;
        if shares.get(&key).map_or(0, |share| share.admitted) >= self.per_caller_max {
            return Err(Refused::CallerBusy);
        }
        let total = self
            .total
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Busy)?;
        let share = shares.entry(key.clone()).or_insert_with(|| Share {
            admitted: 0,
            busy: Arc::new(Semaphore::new(self.busy_per_caller as usize)),
        });
        share.admitted += 1;
        Ok(Admitted {
            _total: total,
            per_caller: self.per_caller.clone(),
            key,
            busy: share.busy.clone(),
        })
    }
}

/// The buffered-bytes budget: every request body is held in memory while it
/// arrives and while its component runs, so their total is capped, and one
/// caller's part of it too.
pub struct Budget {
    ledger: Arc<Mutex<Ledger>>,
    total: usize,
    per_caller: usize,
}

#[derive(Default)]
struct Ledger {
    used: usize,
    by_caller: HashMap<String, usize>,
}

/// Bytes one request holds of the budget, given back when dropped.
pub struct Reservation {
    ledger: Arc<Mutex<Ledger>>,
    key: String,
    bytes: usize,
    total: usize,
    per_caller: usize,
}

impl Budget {
    /// A budget of `total` bytes, of which one caller may hold `per_caller`.
    pub fn new(total: usize, per_caller: usize) -> Budget {
        Budget {
            ledger: Arc::default(),
            total,
            per_caller: per_caller.min(total),
        }
    }

    /// The share of `total` one caller gets: the same fraction as its share
    /// of the concurrent requests, but never less than one largest body (or
    /// a largest body could never be accepted, and `Retry-After` would lie).
    pub fn caller_share(total: usize, max_body: usize, per_caller: u32, concurrent: u32) -> usize {
        let fraction = (total as u128 * u128::from(per_caller) / u128::from(concurrent.max(1)))
            .try_into()
            .unwrap_or(usize::MAX);
        fraction.max(max_body).min(total)
    }

    /// An empty reservation for a request of the caller whose [`share_key`]
    /// is `key`, to grow as its body is read.
    pub fn reservation(&self, key: &str) -> Reservation {
        Reservation {
            ledger: self.ledger.clone(),
            key: key.to_string(),
            bytes: 0,
            total: self.total,
            per_caller: self.per_caller,
        }
    }
}

impl Reservation {
    /// Takes `bytes` more of the budget, or says why not; never waits.
    pub fn grow(&mut self, bytes: usize) -> Result<(), Refused> {
        let mut ledger = self.ledger.lock().map_err(|_| Refused::Busy)?;
        let mine = ledger.by_caller.get(&self.key).copied().unwrap_or(0);
        if mine.saturating_add(bytes) > self.per_caller {
            return Err(Refused::CallerBusy);
        }
        if ledger.used.saturating_add(bytes) > self.total {
            return Err(Refused::Busy);
        }
        ledger.used += bytes;
        *ledger.by_caller.entry(self.key.clone()).or_insert(0) += bytes;
        self.bytes += bytes;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.used -= self.bytes;
            if let Some(mine) = ledger.by_caller.get_mut(&self.key) {
                *mine -= self.bytes;
                if *mine == 0 {
                    ledger.by_caller.remove(&self.key);
                }
            }
        }
    }
}

/// Whose share a request counts against (and who owns an SSE session): the
/// login, or for a tagged device its tailnet address and every grant it holds
/// (all requests without either share one).
///
/// Capability names alone are not enough: devices with the same names can
/// hold different grants, and would post into each other's sessions.
pub fn share_key(caller: &Caller) -> String {
    match &caller.user {
        Some(user) => format!("user:{}", user.login),
        None if caller.capabilities.is_empty() => "anonymous".to_string(),
        None => {
            // Names and grants in one canonical form (sorted maps), hashed to
            // keep a key short whatever the grants hold.
            let grants = serde_json::to_string(&caller.capabilities).unwrap_or_default();
            let peer = caller
                .peer
                .map_or_else(|| "-".to_string(), |peer| peer.to_string());
            format!("tagged:{peer}:{}", sha256_hex(grants.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests;
