//! Where the tool policy (`policy.rs`) is enforced, by the host, so a buggy
//! component cannot skip it: a `tools/call` of a tool the caller may not use
//! is refused before the component runs; a `tools/list` answer is cut to the
//! tools the caller may use; and the policy is re-read on SIGHUP and when
//! its file changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use serde_json::{Value, json};

use crate::app::App;
use crate::identity::Caller;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::response;
use crate::rpc::Reading;

/// Refuses a `tools/call` of a tool `policy` does not let `caller` use,
/// with the same answer whether or not the tool exists.
pub fn check_call(
    policy: Option<&Policy>,
    caller: &Caller,
    reading: &Reading,
) -> Result<(), Refusal> {
    match (policy, &reading.tool) {
        (Some(policy), Some(tool)) if !policy.allows(caller, tool) => {
            Err(Refusal::ToolNotAllowed {
                tool: tool.clone(),
                id: reading.id.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// Whether the component's answer to `reading` must be filtered by the policy.
pub fn lists_tools(policy: Option<&Policy>, reading: &Reading) -> bool {
    policy.is_some() && reading.method.as_deref() == Some("tools/list")
}

/// Leaves only the tools `caller` may call in a `tools/list` answer; on
/// 2026-07-28 such a list is private to the caller.
///
/// Fails closed: an answer that is not a JSON-RPC error and has no readable
/// `result.tools` (an SSE-framed answer, say) is not passed on unfiltered.
pub fn filter_tools(
    response: Response<Bytes>,
    policy: &Policy,
    caller: &Caller,
    reading: &Reading,
) -> Result<Response<Bytes>, Refusal> {
    let unfilterable = || {
        tracing::error!(
            "the component's tools/list answer could not be checked against the policy (not a \
             JSON-RPC response with result.tools); answered 500 instead"
        );
        Refusal::Unfilterable {
            id: reading.id.clone(),
        }
    };
    let Ok(mut reply) = serde_json::from_slice::<Value>(response.body()) else {
        return Err(unfilterable());
    };
    if reply.get("error").is_some() && reply.get("result").is_none() {
        return Ok(response); // an error lists no tools
    }
    let Some(result) = reply.get_mut("result").and_then(Value::as_object_mut) else {
        return Err(unfilterable());
    };
    let Some(Value::Array(tools)) = result.get_mut("tools") else {
        return Err(unfilterable());
    };
    tools.retain(|tool| {
        tool.get("name")
            .and_then(Value::as_str)
            .is_some_and(|name| policy.allows(caller, name))
    });
    if reading.modern {
        result.insert("cacheScope".into(), json!("private"));
    }
    Ok(response::json(response.status(), &reply))
}

/// Re-reads the policy on SIGHUP, and when its contents change (checked
/// every `poll`: a distroless container has no `kill` to send SIGHUP with,
/// and a ConfigMap update arrives as a new file); a file that fails to
/// parse keeps the old one.
pub fn reload_policy(
    path: PathBuf,
    app: Arc<App>,
    poll: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()?;
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(poll.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // What was last tried, so a broken file is reported once, not every poll.
        let mut tried = policy_sha256(&path);
        loop {
            let why = tokio::select! {
                signal = hangup.recv() => match signal {
                    Some(()) => "SIGHUP",
                    None => return,
                },
                _ = ticker.tick() => {
                    let now = policy_sha256(&path);
                    if now.is_none() || now == tried {
                        continue;
                    }
                    tried = now;
                    "the file changed"
                }
            };
            match Policy::load(&path) {
                Ok(policy) => {
                    app.set_policy(policy);
                    tracing::info!("{why}: reloaded the tool policy from `{}`", path.display());
                }
                Err(e) => tracing::warn!("{why}: {e}; keeping the previous policy"),
            }
        }
    }))
}

/// The policy file's sha256, or `None` while it cannot be read (mid-rename).
fn policy_sha256(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|bytes| crate::digest::sha256_hex(&bytes))
}
