//! Where the server listens: a TCP address or a unix socket ([`Listen`],
//! from the command line), and the bound socket itself ([`Listener`]).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use wasmtime::Result;
use wasmtime::error::Context;

use crate::identity::Trust;
use crate::unix_socket;

/// A listening address: `HOST:PORT` or `unix:/path/to/socket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("`unix:` needs a socket path, e.g. unix:/run/tailmcp/mcp.sock".into());
            }
            return Ok(Listen::Unix(PathBuf::from(path)));
        }
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(Listen::Tcp(addr));
        }
        parse_named_host(s).map(Listen::Tcp)
    }
}

/// `localhost:PORT` means the IPv4 loopback address (what `localhost`
/// resolves to first nearly everywhere), so the server stays loopback-only
/// without a DNS lookup; any other form gets an error saying what is wrong.
fn parse_named_host(s: &str) -> Result<SocketAddr, String> {
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(format!(
            "`{s}` has no port: use HOST:PORT (e.g. 127.0.0.1:8080, localhost:8080, \
             [::1]:8080) or unix:/path/to/socket"
        ));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("`{s}`: `{port}` is not a port number (0 to 65535)"))?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)));
    }
    if host.contains(':') && !host.starts_with('[') {
        return Err(format!(
            "`{s}`: put an IPv6 address in brackets, e.g. [::1]:{port}"
        ));
    }
    Err(format!(
        "`{s}`: `{host}` is not an IP address; give one (127.0.0.1 for this machine only, \
         0.0.0.0 for every interface) or localhost, e.g. 127.0.0.1:{port}"
    ))
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "http://{addr}"),
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

impl Listen {
    /// Whether identity headers arriving here can only have come from
    /// `tailscale serve`: true for unix sockets and loopback addresses.
    pub fn trust(&self) -> Trust {
        match self {
            Listen::Unix(_) => Trust::Honour,
            Listen::Tcp(addr) if is_loopback(addr.ip()) => Trust::Honour,
            Listen::Tcp(_) => Trust::Ignore,
        }
    }
}

/// Loopback, counting IPv4-mapped IPv6 (`::ffff:127.0.0.0/104`) as the IPv4
/// address it is: std's `Ipv6Addr::is_loopback` is true for `::1` only.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// A bound socket; a unix socket's file is removed when it is dropped.
pub enum Listener {
    Tcp(TcpListener, Listen),
    Unix(UnixListener, PathBuf),
}

/// What takes an accepted connection, and the trust its listener gives
/// identity headers.
pub trait Serve {
    fn serve<IO>(self, io: IO, trust: Trust)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static;
}

impl Listener {
    pub async fn bind(listen: &Listen) -> Result<Listener> {
        match listen {
            Listen::Tcp(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))?;
                let bound = Listen::Tcp(listener.local_addr()?);
                Ok(Listener::Tcp(listener, bound))
            }
            Listen::Unix(path) => {
                remove_stale_socket(path).await?;
                // Mode 0660 whatever the umask (see unix_socket.rs).
                let listener = unix_socket::bind(path).with_context(|| {
                    format!("cannot listen on unix socket `{}`", path.display())
                })?;
                Ok(Listener::Unix(listener, path.clone()))
            }
        }
    }

    /// Where it listens (for TCP, the port it was given if it asked for 0).
    pub fn address(&self) -> Listen {
        match self {
            Listener::Tcp(_, bound) => bound.clone(),
            Listener::Unix(_, path) => Listen::Unix(path.clone()),
        }
    }

    /// Accepts one connection and hands it to `serve`.
    pub async fn accept(&self, serve: impl Serve) -> std::io::Result<()> {
        match self {
            Listener::Tcp(listener, bound) => {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                serve.serve(stream, bound.trust());
            }
            Listener::Unix(listener, _) => {
                let (stream, _) = listener.accept().await?;
                serve.serve(stream, Trust::Honour);
            }
        }
        Ok(())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Removes a socket file left by a server that is gone; refuses to take over
/// one that still answers.
async fn remove_stale_socket(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        wasmtime::bail!(
            "`{}` exists and is not a socket; not replacing it",
            path.display()
        );
    }
    if tokio::net::UnixStream::connect(path).await.is_ok() {
        wasmtime::bail!("`{}` is in use by another running server", path.display());
    }
    std::fs::remove_file(path)
        .with_context(|| format!("cannot remove stale socket `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_trusts() {
        let tcp: Listen = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(tcp.trust(), Trust::Honour);
        assert_eq!(tcp.to_string(), "http://127.0.0.1:8080");
        assert_eq!("[::1]:0".parse::<Listen>().unwrap().trust(), Trust::Honour);
        assert_eq!(
            "0.0.0.0:8080".parse::<Listen>().unwrap().trust(),
            Trust::Ignore
        );
        assert_eq!(
            "100.64.0.1:80".parse::<Listen>().unwrap().trust(),
            Trust::Ignore
        );
        for mapped in ["[::ffff:127.0.0.1]:0", "[::ffff:127.1.2.3]:8080"] {
            let listen: Listen = mapped.parse().unwrap();
            assert_eq!(listen.trust(), Trust::Honour, "{mapped}");
        }
        for untrusted in ["[::ffff:100.64.0.1]:0", "[::ffff:0.0.0.0]:0", "[::]:0"] {
            let listen: Listen = untrusted.parse().unwrap();
            assert_eq!(listen.trust(), Trust::Ignore, "{untrusted}");
        }
        let unix: Listen = "unix:/tmp/x.sock".parse().unwrap();
        assert_eq!(unix, Listen::Unix("/tmp/x.sock".into()));
        assert_eq!(unix.trust(), Trust::Honour);
        assert!("unix:".parse::<Listen>().is_err());
        assert_eq!(
            "localhost:8080".parse::<Listen>(),
            Ok(Listen::Tcp("127.0.0.1:8080".parse().unwrap()))
        );
        assert_eq!(
            "LocalHost:0".parse::<Listen>().unwrap().trust(),
            Trust::Honour
        );
        for (input, says) in [
            ("localhost", "has no port"),
            ("localhost:http", "not a port number"),
            ("example.com:8080", "not an IP address"),
            ("::1:8080", "in brackets"),
        ] {
            let error = input.parse::<Listen>().unwrap_err();
            assert!(error.contains(says), "{input}: {error}");
        }
    }
}
