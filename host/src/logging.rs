//! The host log: `tracing` events on stderr, exactly one line each.
//!
//! A line break inside an event (a multi-line error or backtrace, text a
//! client or a component chose) is written as `\n`, so every line on stderr
//! starts where the host started it, with a timestamp. No log line can then
//! look like an `--audit-log stderr` line, which is a JSON object.

use std::io::{self, Write};

/// Installs the subscriber (filter from `RUST_LOG`, default `info`).
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(|| OneLine(io::stderr()))
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .init();
}

/// Writes each event as one line. `tracing-subscriber` hands over a whole
/// formatted event in one `write_all`, ending in its single `\n`.
struct OneLine<W>(W);

impl<W: Write> Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&one_line(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `event` with its line breaks escaped, except a final `\n`.
fn one_line(event: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    if !body.iter().any(|b| matches!(b, b'\n' | b'\r')) {
        return event.into();
    }
    let mut line = Vec::with_capacity(event.len() + 16);
    for &byte in body {
        match byte {
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            _ => line.push(byte),
        }
    }
    line.extend_from_slice(end);
    line.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_event() {
        struct Case {
            name: &'static str,
            event: &'static [u8],
            written: &'static [u8],
        }
        let cases = [
            Case {
                name: "a plain event is unchanged",
                event: b"2026-12-02T10:00:00Z  INFO tailmcp: listening\n",
                written: b"2026-12-02T10:00:00Z  INFO tailmcp: listening\n",
            },
            Case {
                name: "an interior line break cannot start a line",
                event: b"T WARN x: failed: boom\n{\"caller\":\"ceo@corp\"}\n",
                written: b"T WARN x: failed: boom\\n{\"caller\":\"ceo@corp\"}\n",
            },
            Case {
                name: "carriage returns are escaped too",
                event: b"T INFO x: a\r\nb\n",
                written: b"T INFO x: a\\r\\nb\n",
            },
            Case {
                name: "no final line break is added",
                event: b"T INFO x: a\nb",
                written: b"T INFO x: a\\nb",
            },
        ];
        for case in cases {
            let mut out = OneLine(Vec::new());
            out.write_all(case.event).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.0),
                String::from_utf8_lossy(case.written),
                "{}",
                case.name
            );
        }
    }
}
