//! `GET /healthz`, and `tailmcp health`, which probes it (over TCP or a unix
//! socket) for container and Kubernetes health checks.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::listen::Listen;
use crate::reload::Active;

/// The health path.
pub const PATH: &str = "/healthz";

/// The `/healthz` body.
pub fn report(active: &Active) -> Value {
    let mut report = json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") });
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
