//! What a component writes to its stdout and stderr. It never reaches the
//! host's own streams, where the host log and an `--audit-log stderr` line
//! live: each stream is captured per request, capped at [`MAX_CAPTURED`]
//! bytes, and logged by the host after the request as one escaped line, so
//! nothing a component prints can pass for a line the host wrote.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Bytes kept per stream and request; the rest is counted, not kept.
pub const MAX_CAPTURED: usize = 4096;

/// How much a component may write per `write` call; it may always write.
const WRITE_BUDGET: usize = 64 * 1024;

#[derive(Default)]
struct Buffer {
    kept: Vec<u8>,
    cut: usize,
}

/// One captured stream. Clones share the buffer: the store holds one, the
/// request's [`OutputLog`] another.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Buffer>>);

impl Capture {
    fn push(&self, bytes: &[u8]) {
        // A poisoned lock only loses output; the component keeps running.
        if let Ok(mut buffer) = self.0.lock() {
            let room = MAX_CAPTURED.saturating_sub(buffer.kept.len());
            let (kept, cut) = bytes.split_at(room.min(bytes.len()));
            buffer.kept.extend_from_slice(kept);
            buffer.cut += cut.len();
        }
    }

    /// What was written so far and how many bytes were cut; empties the buffer.
    fn take(&self) -> (Vec<u8>, usize) {
        match self.0.lock() {
            Ok(mut buffer) => (
                std::mem::take(&mut buffer.kept),
                std::mem::take(&mut buffer.cut),
            ),
            Err(_) => (Vec::new(), 0),
        }
    }
}

// Writes never fail and never block: a full capture drops bytes rather than
// trapping the component (as `MemoryOutputPipe` would) or making it wait.
#[wasmtime_wasi::async_trait]
impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// A request's stdout and stderr, for the store's `WasiCtx`.
#[derive(Clone, Default)]
pub struct ComponentOutput {
    pub stdout: Capture,
    pub stderr: Capture,
}

/// Logs what the component wrote once it is dropped: keep it where the
/// component runs, so it goes when the instance does (finished, trapped or
/// stopped), after the component's last write.
pub struct OutputLog {
    pub output: ComponentOutput,
    /// The first 12 hex digits of the component's sha256.
    pub component: String,
    /// `METHOD /path by caller`.
    pub request: String,
}

impl Drop for OutputLog {
    fn drop(&mut self) {
        for (name, capture) in [
            ("stdout", &self.output.stdout),
            ("stderr", &self.output.stderr),
        ] {
            let (kept, cut) = capture.take();
            if let Some(line) = describe(&kept, cut) {
                tracing::info!(
                    target: "tailmcp::component",
                    "component output ({name}) from {} for {}: {line}",
                    self.component,
                    self.request,
                );
            }
        }
    }
}

/// The captured bytes as one quoted, escaped string (no line breaks, no
/// control characters, no bare `"`), with a note of what was cut.
fn describe(kept: &[u8], cut: usize) -> Option<String> {
    if kept.is_empty() && cut == 0 {
        return None;
    }
    let text = String::from_utf8_lossy(kept);
    let mut line = format!("{text:?}");
    if cut > 0 {
        line.push_str(&format!(" ({cut} more bytes cut)"));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_and_escaped() {
        struct Case {
            name: &'static str,
            writes: &'static [&'static [u8]],
            expect: Option<&'static str>,
        }
        let cases = [
            Case {
                name: "nothing written",
                writes: &[],
                expect: None,
            },
            Case {
                name: "a forged audit line stays inside quotes",
                writes: &[b"ok\n{\"caller\":\"ceo@corp\"}\n"],
                expect: Some(r#""ok\n{\"caller\":\"ceo@corp\"}\n""#),
            },
            Case {
                name: "control characters are escaped",
                writes: &[b"\x1b[2K\r\x07bell"],
                expect: Some(r#""\u{1b}[2K\r\u{7}bell""#),
            },
            Case {
                name: "invalid UTF-8 is replaced",
                writes: &[b"a\xffb"],
                expect: Some("\"a\u{fffd}b\""),
            },
        ];
        for case in cases {
            let capture = Capture::default();
            for write in case.writes {
                capture.push(write);
            }
            let (kept, cut) = capture.take();
            assert_eq!(
                describe(&kept, cut).as_deref(),
                case.expect,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn cut_at_the_cap() {
        let capture = Capture::default();
        capture.push(&[b'x'; MAX_CAPTURED - 1]);
        capture.push(b"yz");
        capture.push(b"more");
        let (kept, cut) = capture.take();
        assert_eq!(kept.len(), MAX_CAPTURED);
        assert_eq!(kept.last(), Some(&b'y'));
        assert_eq!(cut, 5);
        let line = describe(&kept, cut).unwrap();
        assert!(line.ends_with("\" (5 more bytes cut)"), "{line}");
        assert_eq!(capture.take(), (Vec::new(), 0), "taken once");
    }
}
