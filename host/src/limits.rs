//! Admission: how many requests may run in components at once, in total and
//! per caller, so one caller cannot starve the others. A full server answers
//! 503 and a caller over its share 429, both at once with `Retry-After`,
//! instead of letting requests pile up. Each caller also has a few *busy
//! slots*: a guest still computing at an epoch tick takes one, or
//! waits for one (see `instance.rs`), so one caller's busy tools leave the
//! other cores to everyone else while quick calls never wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
            per_caller: Arc::new(Mutex::new(HashMap::new())),
            per_caller_max: per_caller.max(1),
            busy_per_caller: busy_per_caller.max(1),
        }
    }

    /// Admits a request from `caller`, or says why not; never waits.
    pub fn admit(&self, caller: &Caller) -> Result<Admitted, Refused> {
        let key = share_key(caller);
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

/// Whose share a request counts against: the login, or for tagged devices
/// the set of capabilities they hold (all requests without either share one).
pub fn share_key(caller: &Caller) -> String {
    match &caller.user {
        Some(user) => format!("user:{}", user.login),
        None if caller.capabilities.is_empty() => "anonymous".to_string(),
        None => {
            let names: Vec<&str> = caller.capabilities.keys().map(String::as_str).collect();
            format!("tagged:{}", names.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::User;

    fn user(login: &str) -> Caller {
        Caller {
            user: Some(User {
                login: login.into(),
                display_name: login.into(),
                profile_pic_url: None,
            }),
            ..Caller::default()
        }
    }

    #[test]
    fn per_caller_share_then_total() {
        let admission = Admission::new(3, 2, 2);
        let a1 = admission.admit(&user("a")).unwrap();
        let _a2 = admission.admit(&user("a")).unwrap();
        assert_eq!(admission.admit(&user("a")).err(), Some(Refused::CallerBusy));
        let _b1 = admission.admit(&user("b")).unwrap();
        assert_eq!(admission.admit(&user("c")).err(), Some(Refused::Busy));
        drop(a1);
        assert!(
            admission.admit(&user("a")).is_ok(),
            "a slot and a share freed"
        );
    }

    #[test]
    fn busy_slots_are_per_caller() {
        let admission = Admission::new(8, 8, 2);
        let a1 = admission.admit(&user("a")).unwrap();
        let a2 = admission.admit(&user("a")).unwrap();
        let b1 = admission.admit(&user("b")).unwrap();
        assert!(Arc::ptr_eq(&a1.busy_slots(), &a2.busy_slots()));
        assert!(!Arc::ptr_eq(&a1.busy_slots(), &b1.busy_slots()));
        let held = a1.busy_slots().try_acquire_many_owned(2).unwrap();
        assert!(
            a2.busy_slots().try_acquire_owned().is_err(),
            "a's are taken"
        );
        assert!(b1.busy_slots().try_acquire_owned().is_ok(), "b has its own");
        drop((a1, a2));
        drop(held);
        let again = admission.admit(&user("a")).unwrap();
        assert_eq!(again.busy_slots().available_permits(), 2, "a fresh share");
    }

    #[test]
    fn tagged_devices_share_by_capabilities() {
        let mut tagged = Caller::default();
        tagged
            .capabilities
            .insert("example.com/cap/x".into(), vec![]);
        assert_eq!(share_key(&tagged), "tagged:example.com/cap/x");
        assert_eq!(share_key(&Caller::default()), "anonymous");
        assert_eq!(share_key(&user("a@b")), "user:a@b");
    }
}
