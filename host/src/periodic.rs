//! Background chores on their own thread: advancing the engine's epoch,
//! trimming the heap. A thread rather than a tokio task, so a chore runs on
//! time however busy the workers are, and never blocks one.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// Runs a chore every `period` until dropped.
pub struct Periodic {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    pub fn start(
        name: &str,
        period: Duration,
        mut chore: impl FnMut() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                    chore();
                }
            })?;
        Ok(Periodic {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::Periodic;

    #[test]
    fn runs_the_chore_until_dropped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let periodic = Periodic::start("test-chore", Duration::from_millis(1), move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .expect("thread starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while runs.load(Ordering::SeqCst) < 3 {
            assert!(
                Instant::now() < deadline,
                "the chore did not run repeatedly"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(periodic); // joins the thread
        let after_drop = runs.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(runs.load(Ordering::SeqCst), after_drop, "ran after drop");
    }
}
