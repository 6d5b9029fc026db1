//! A stand-in for `tailscale serve`: a reverse proxy on 127.0.0.1 that does
//! to each request what serve does (ipn/ipnlocal/serve.go): delete every
//! identity header the client sent, then inject the identity it was given,
//! Q-encoded like Go, plus the X-Forwarded-* headers; and forward to the
//! backend over TCP or a unix socket (where `Host` becomes `localhost`).

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream, UnixStream};

use crate::qencode::q_encode;

/// The identity serve attaches, as the tailnet would report it.
#[derive(Debug, Clone, Default)]
pub struct Injected {
    /// `None`: a tagged device (serve sends no user headers).
    pub user: Option<(String, String)>,
    pub profile_pic: Option<String>,
    /// Raw JSON for `Tailscale-App-Capabilities` (when `AcceptAppCaps` matches).
    pub capabilities: Option<String>,
    /// Mark requests as coming through Funnel.
    pub funnel: bool,
}

impl Injected {
    pub fn user(login: &str, name: &str) -> Injected {
        Injected {
            user: Some((login.into(), name.into())),
            ..Injected::default()
        }
    }
}

/// Where serve proxies to.
#[derive(Debug, Clone)]
pub enum Backend {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// A running stand-in; stops when dropped.
pub struct ServeStandIn {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ServeStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Identity headers serve deletes before setting its own.
const SERVE_HEADERS: &[&str] = &[
    "tailscale-user-login",
    "tailscale-user-name",
    "tailscale-user-profile-pic",
    "tailscale-headers-info",
    "tailscale-funnel-request",
    "tailscale-app-capabilities",
];

impl ServeStandIn {
    /// The public name clients use, as in `https://<name>/mcp`.
    pub const PUBLIC_NAME: &'static str = "mcp.tail1234.ts.net";

    pub async fn start(backend: Backend, identity: Injected) -> ServeStandIn {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let addr = listener.local_addr().expect("stand-in address");
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let backend = backend.clone();
                let identity = identity.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        proxy(req, backend.clone(), identity.clone(), peer)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ServeStandIn { addr, task }
    }

    /// The MCP endpoint URL clients connect to.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }
}

async fn proxy(
    req: Request<Incoming>,
    backend: Backend,
    identity: Injected,
    peer: SocketAddr,
) -> Result<Response<BoxBody<Bytes, hyper::Error>>, hyper::Error> {
    let (mut parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let headers = &mut parts.headers;
    for name in SERVE_HEADERS {
        headers.remove(*name);
    }
    headers.insert(
        "x-forwarded-host",
        HeaderValue::from_static(ServeStandIn::PUBLIC_NAME),
    );
    headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
    headers.insert(
        "x-forwarded-for",
        HeaderValue::from_str(&peer.ip().to_string()).expect("ip is a header value"),
    );
    let set = |headers: &mut http::HeaderMap, name: &'static str, value: &str| {
        headers.insert(
            name,
            HeaderValue::from_str(value).expect("encoded value is ASCII"),
        );
    };
    if identity.funnel {
        set(headers, "tailscale-funnel-request", "?1");
    } else {
        if let Some((login, name)) = &identity.user {
            set(headers, "tailscale-user-login", &q_encode(login));
            set(headers, "tailscale-user-name", &q_encode(name));
            set(
                headers,
                "tailscale-user-profile-pic",
                identity.profile_pic.as_deref().unwrap_or(""),
            );
            set(
                headers,
                "tailscale-headers-info",
                "https://tailscale.com/s/serve-headers",
            );
        }
        if let Some(caps) = &identity.capabilities {
            set(headers, "tailscale-app-capabilities", &q_encode(caps));
        }
    }
    match &backend {
        // serve keeps the client's Host for TCP targets...
        Backend::Tcp(_) => {
            headers.insert(
                http::header::HOST,
                HeaderValue::from_static(ServeStandIn::PUBLIC_NAME),
            );
        }
        // ...and sends `localhost` to unix: targets.
        Backend::Unix(_) => {
            headers.insert(http::header::HOST, HeaderValue::from_static("localhost"));
        }
    }
    let request = Request::from_parts(parts, Full::new(body));
    let response = match backend {
        Backend::Tcp(addr) => match TcpStream::connect(addr).await {
            Ok(stream) => send(TokioIo::new(stream), request).await,
            Err(e) => Err(e.to_string()),
        },
        Backend::Unix(path) => match UnixStream::connect(path).await {
            Ok(stream) => send(TokioIo::new(stream), request).await,
            Err(e) => Err(e.to_string()),
        },
    };
    Ok(response.unwrap_or_else(|e| {
        let body = Full::new(Bytes::from(format!("bad gateway: {e}")))
            .map_err(|never| match never {})
            .boxed();
        let mut r = Response::new(body);
        *r.status_mut() = http::StatusCode::BAD_GATEWAY;
        r
    }))
}

/// Forwards `request` and streams the answer back (SSE streams never end).
async fn send<T>(
    io: TokioIo<T>,
    request: Request<Full<Bytes>>,
) -> Result<Response<BoxBody<Bytes, hyper::Error>>, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.map(BodyExt::boxed))
}
