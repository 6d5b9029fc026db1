//! `GET /healthz`, and `tailmcp health`, which probes it (over TCP or a unix
//! socket) for container and Kubernetes health checks.
//!
//! Three views, decided once here for every field added later:
//! - a browser `Origin` that is not allowed: 403 (checked by the caller);
//! - a request that came through a proxy (`tailscale serve` adds
//!   `X-Forwarded-For` and `X-Forwarded-Host`), or on a listener that is not
//!   local: [`View::Summary`], status and the component's sha256 only;
//! - the local probe (no forwarding headers, on the unix socket or
//!   loopback): [`View::Full`], with refusal reasons, counts and paths.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::identity::Trust;
use crate::instance;
use crate::listen::Listen;
use crate::reload::Active;

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

/// The [`View::Summary`] body.
pub fn summary(active: &Active) -> Value {
    json!({ "status": "ok", "component": { "sha256": active.current().sha256 } })
}

/// The [`View::Full`] body.
pub fn report(active: &Active) -> Value {
    let mut report = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "in_flight": instance::in_flight(),
    });
    if let (Some(report), Value::Object(active)) = (report.as_object_mut(), active.health()) {
        report.extend(active);
    }
    report
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
