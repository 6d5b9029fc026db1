//! Where the server listens: a TCP address or a unix socket.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use crate::identity::Trust;

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
