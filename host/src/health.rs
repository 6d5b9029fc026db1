//! `GET /healthz`, and `tailmcp health`, which probes it (over TCP or a unix
//! socket) for container and Kubernetes health checks.
//!
//! All of its JSON is built here. Three views, decided once here for every
//! field added later:
//! - a browser `Origin` that is not allowed: 403;
//! - a request that came through a proxy (`tailscale serve` adds
//!   `X-Forwarded-For` and `X-Forwarded-Host`), or on a listener that is not
//!   local: [`View::Summary`], status and the component's sha256 only;
//! - the local probe (no forwarding headers, on the unix socket or
//!   loopback): [`View::Full`], with refusal reasons, counts and paths.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::app::App;
use crate::checks;
use crate::identity::Trust;
use crate::listen::Listen;
use crate::policy::Policy;
use crate::refusal::Refusal;
use crate::reload::Active;
use crate::response;

/// The health path.
pub const PATH: &str = "/healthz";

/// Headers a proxy adds; any of them means the request is not the local probe.
const FORWARDING_HEADERS: [&str; 4] = [
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "forwarded",
];

/// How much `/healthz` tells a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Everything: for the operator's own probe.
    Full,
    /// `status` and `component.sha256`: for anyone on the tailnet.
    Summary,
}

/// The view for a request with `headers` on a listener of `trust`.
pub fn view(headers: &http::HeaderMap, trust: Trust) -> View {
    let forwarded = FORWARDING_HEADERS
        .iter()
        .any(|name| headers.contains_key(*name));
    if forwarded || trust == Trust::Ignore {
        View::Summary
    } else {
        View::Full
    }
}

/// Answers a request for [`PATH`].
pub fn answer<B>(app: &App, request: &http::Request<B>) -> Result<Response<Bytes>, Refusal> {
    // A page in a browser learns nothing here, not even that it is up.
    if !checks::origin_allowed(request.headers(), &app.config.allowed_origins) {
        return Err(Refusal::Origin);
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return Err(Refusal::HealthMethod);
    }
    let report = match view(request.headers(), app.config.listen.trust()) {
        View::Full => full(app),
        View::Summary => summary(&app.component),
    };
    Ok(response::json(StatusCode::OK, &report))
}

/// The [`View::Summary`] body.
pub fn summary(active: &Active) -> Value {
    json!({ "status": "ok", "component": { "sha256": active.current().sha256 } })
}

/// The [`View::Full`] body.
pub fn full(app: &App) -> Value {
    let mut report = component(&app.component);
    report["status"] = json!("ok");
    report["version"] = json!(env!("CARGO_PKG_VERSION"));
    report["sseSessions"] = json!(app.sessions.len());
    report["in_flight"] = json!(app.admission.in_flight());
    if let Some(policy) = app.policy() {
        report["policy"] = policy_report(&policy);
    }
    report
}

/// The active component, its swaps and the last file refused.
fn component(active: &Active) -> Value {
    let current = active.current();
    json!({
        "component": {
            "sha256": current.sha256,
            "source": current.source,
            "loadedAtUnix": unix(current.loaded_at),
            "how": current.how.to_string(),
        },
        "swaps": active.swaps(),
        "lastRefusal": active.last_refusal().map(|r| json!({
            "reason": r.reason,
            "sha256": r.sha256,
            "atUnix": unix(r.at),
        })),
    })
}

/// The tool policy in force: which file, which version, how many rules.
fn policy_report(policy: &Policy) -> Value {
    match &policy.source {
        Some(source) => json!({
            "path": source.path,
            "sha256": source.sha256,
            "loadedAt": crate::audit::rfc3339(source.loaded_at),
            "rules": policy.rules(),
        }),
        None => json!({ "rules": policy.rules() }),
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Probes `GET /healthz` at `listen`; Ok with the body when it answered 200.
pub async fn probe(listen: &Listen, timeout: Duration) -> Result<String, String> {
    tokio::time::timeout(timeout, probe_once(listen))
        .await
        .map_err(|_| format!("no answer from {listen} within {timeout:?}"))?
}

async fn probe_once(listen: &Listen) -> Result<String, String> {
    let request = http::Request::get(PATH)
        .header(http::header::HOST, "localhost")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = match listen {
        Listen::Tcp(addr) => {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("cannot connect to {listen}: {e}"))?;
            send(TokioIo::new(stream), request).await?
        }
        Listen::Unix(path) => {
            let stream = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| format!("cannot connect to {listen}: {e}"))?;
            send(TokioIo::new(stream), request).await?
        }
    };
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    if status == http::StatusCode::OK {
        Ok(body)
    } else {
        Err(format!("{listen} answered {status}: {body}"))
    }
}

async fn send<T>(
    io: TokioIo<T>,
    request: http::Request<Empty<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views() {
        struct Case {
            name: &'static str,
            headers: &'static [(&'static str, &'static str)],
            trust: Trust,
            view: View,
        }
        let cases = [
            Case {
                name: "local probe on the socket or loopback",
                headers: &[("host", "localhost")],
                trust: Trust::Honour,
                view: View::Full,
            },
            Case {
                name: "through tailscale serve",
                headers: &[
                    ("host", "localhost"),
                    ("x-forwarded-host", "mcp.tail1234.ts.net"),
                    ("x-forwarded-for", "100.64.0.7"),
                ],
                trust: Trust::Honour,
                view: View::Summary,
            },
            Case {
                name: "only X-Forwarded-For",
                headers: &[("x-forwarded-for", "100.64.0.7")],
                trust: Trust::Honour,
                view: View::Summary,
            },
            Case {
                name: "RFC 7239 Forwarded",
                headers: &[("forwarded", "for=100.64.0.7")],
                trust: Trust::Honour,
                view: View::Summary,
            },
            Case {
                name: "a listener reachable from the network",
                headers: &[("host", "10.0.0.5:8080")],
                trust: Trust::Ignore,
                view: View::Summary,
            },
        ];
        for case in cases {
            let mut headers = http::HeaderMap::new();
            for (name, value) in case.headers {
                headers.append(*name, value.parse().unwrap());
            }
            assert_eq!(view(&headers, case.trust), case.view, "{}", case.name);
        }
    }
}
