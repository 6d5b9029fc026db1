//! Admission: how many requests may run in components at once, in total and
//! per caller, so one caller cannot starve the others. A full server answers
//! 503 and a caller over its share 429, both at once with `Retry-After`,
//! instead of letting requests pile up.

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
    per_caller: Arc<Mutex<HashMap<String, u32>>>,
    per_caller_max: u32,
}

/// Holds a request's place until dropped.
pub struct Admitted {
    _total: OwnedSemaphorePermit,
    per_caller: Arc<Mutex<HashMap<String, u32>>>,
    key: String,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.per_caller.lock()
            && let Some(count) = counts.get_mut(&self.key)
        {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

impl Admission {
    pub fn new(total: u32, per_caller: u32) -> Admission {
        Admission {
            total: Arc::new(Semaphore::new(total as usize)),
            per_caller: Arc::new(Mutex::new(HashMap::new())),
            per_caller_max: per_caller.max(1),
        }
    }

    /// Admits a request from `caller`, or says why not; never waits.
    pub fn admit(&self, caller: &Caller) -> Result<Admitted, Refused> {
        let key = share_key(caller);
        let mut counts = self.per_caller.lock().map_err(|_| Refused::Busy)?;
        if counts.get(&key).copied().unwrap_or(0) >= self.per_caller_max {
            return Err(Refused::CallerBusy);
        }
        let total = self
            .total
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Busy)?;
        *counts.entry(key.clone()).or_insert(0) += 1;
        Ok(Admitted {
            _total: total,
            per_caller: self.per_caller.clone(),
            key,
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
        let admission = Admission::new(3, 2);
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
