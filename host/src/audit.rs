//! The audit log: one JSON line per `tools/call` (allowed or refused, and
//! how it ended), written by the host, so a component can neither forge nor
//! suppress it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::identity::Caller;
use crate::rpc::Reading;

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stderr,
    File(PathBuf),
}

impl std::str::FromStr for Destination {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" => Err("--audit-log needs `stderr` or a file path".into()),
            "stderr" | "-" => Ok(Destination::Stderr),
            path => Ok(Destination::File(path.into())),
        }
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The tool ran and reported an error (`isError: true`).
    ToolError,
    /// The policy refused the call; the component never ran.
    Refused,
    /// A JSON-RPC error (unknown tool, bad params, ...).
    Error,
    Trap,
    Timeout,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
            Outcome::Trap => "trap",
            Outcome::Timeout => "timeout",
        }
    }
}

/// One call, as recorded.
pub struct Entry<'a> {
    pub caller: &'a Caller,
    pub tool: &'a str,
    pub outcome: Outcome,
    pub duration: Duration,
    pub component_sha256: &'a str,
    pub arguments: Option<&'a Value>,
}

/// An open audit log.
pub struct AuditLog {
    out: Mutex<Box<dyn Write + Send>>,
    /// Record arguments, cut to this many bytes of JSON; `None`: never.
    arguments_max: Option<usize>,
}

impl AuditLog {
    pub fn open(
        destination: &Destination,
        arguments_max: Option<usize>,
    ) -> Result<AuditLog, String> {
        let out: Box<dyn Write + Send> = match destination {
            Destination::Stderr => Box::new(std::io::stderr()),
            Destination::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open audit log `{}`: {e}", path.display()))?,
            ),
        };
        Ok(AuditLog {
            out: Mutex::new(out),
            arguments_max,
        })
    }

    /// Writes one line; a failed write is logged, never fatal to the request.
    pub fn record(&self, entry: &Entry<'_>) {
        let mut line = json!({
            "time": rfc3339(SystemTime::now()),
            // A request with neither a user nor capabilities is no tagged
            // device: it came without any identity (e.g. through Funnel).
            "caller": match (&entry.caller.user, entry.caller.capabilities.is_empty()) {
                (Some(user), _) => json!(user.login),
                (None, false) => json!("tagged device"),
                (None, true) => json!("anonymous"),
            },
            "identity": match (&entry.caller.user, entry.caller.capabilities.is_empty()) {
                (Some(_), _) => "user",
                (None, false) => "tagged-device",
                (None, true) => "none",
            },
            "capabilities": entry.caller.capabilities,
            "tool": entry.tool,
            "outcome": entry.outcome.as_str(),
            "durationMs": (entry.duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
            "component": entry.component_sha256,
        });
        if let (Some(max), Some(arguments)) = (self.arguments_max, entry.arguments) {
            let text = arguments.to_string();
            line["arguments"] = if text.len() <= max {
                arguments.clone()
            } else {
                let cut = (0..=max)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                json!({ "truncated": &text[..cut] })
            };
        }
        let mut text = line.to_string();
        text.push('\n');
        let written = self
            .out
            .lock()
            .map_err(|_| std::io::Error::other("audit log lock poisoned"))
            .and_then(|mut out| out.write_all(text.as_bytes()).and_then(|()| out.flush()));
        if let Err(e) = written {
            tracing::error!("could not write the audit log: {e}");
        }
    }
}

/// Records a `tools/call` (`reading.tool` set) in `audit`, if there is a log;
/// anything else is not audited.
pub fn record(
    audit: Option<&AuditLog>,
    caller: &Caller,
    reading: &Reading,
    outcome: Outcome,
    duration: Duration,
    component_sha256: &str,
) {
    if let (Some(audit), Some(tool)) = (audit, &reading.tool) {
        audit.record(&Entry {
            caller,
            tool,
            outcome,
            duration,
            component_sha256,
            arguments: reading.arguments.as_ref(),
        });
    }
}

/// `2026-11-26T19:53:02.123Z`, from the system clock, without a date crate.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_722_782_123);
        assert_eq!(rfc3339(t), "2026-11-26T19:53:02.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }
}
