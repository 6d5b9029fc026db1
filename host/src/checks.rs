//! Origin and public-name checks, made before a request reaches the component.
//!
//! Origin: browsers send it; a page on another site must not drive the MCP
//! server (DNS rebinding). A missing Origin (every non-browser client) passes.
//! Public name: behind `tailscale serve` the name the client used arrives in
//! `X-Forwarded-Host` (for `unix:` targets `Host` is just `localhost`).

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

const X_FORWARDED_HOST: &str = "x-forwarded-host";

/// Whether the request's `Origin`, if any, is allowed.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Whether the name the client used is one of `names` (any name when empty).
pub fn public_name_allowed(headers: &HeaderMap, names: &[String]) -> bool {
    if names.is_empty() {
        return true;
    }
    match requested_name(headers) {
        Some(used) => names
            .iter()
            .any(|name| name.trim_end_matches('.').eq_ignore_ascii_case(used)),
        None => false,
    }
}

/// The name the client used: `X-Forwarded-Host` behind a proxy, else `Host`,
/// without the port.
pub fn requested_name(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(X_FORWARDED_HOST)
        .or_else(|| headers.get(HOST))
        .and_then(|v| v.to_str().ok())
        // A proxy chain may list several; the first is what the client used.
        .and_then(|v| v.split(',').next())
        .map(|v| strip_port(v.trim()).trim_end_matches('.'))
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn origin() {
        let allowed = vec!["https://app.example.com".to_string()];
        assert!(origin_allowed(&headers(&[]), &[]));
        assert!(!origin_allowed(
            &headers(&[("origin", "https://evil.example")]),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(&[("origin", "https://app.example.com")]),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(&[("origin", "https://x")]),
            &["*".to_string()]
        ));
        assert!(!origin_allowed(&headers(&[("origin", "null")]), &[]));
    }

    #[test]
    fn public_name() {
        let names = vec!["mcp.tail1234.ts.net".to_string()];
        assert!(public_name_allowed(&headers(&[("host", "anything")]), &[]));
        assert!(public_name_allowed(
            &headers(&[
                ("host", "localhost"),
                ("x-forwarded-host", "MCP.tail1234.ts.net:443")
            ]),
            &names
        ));
        assert!(public_name_allowed(
            &headers(&[("host", "mcp.tail1234.ts.net")]),
            &names
        ));
        assert!(!public_name_allowed(
            &headers(&[
                ("host", "localhost"),
                ("x-forwarded-host", "100.64.0.7:8080")
            ]),
            &names
        ));
        assert!(!public_name_allowed(
            &headers(&[("host", "localhost")]),
            &names
        ));
        assert!(!public_name_allowed(&headers(&[]), &names));
        assert_eq!(strip_port("[::1]:80"), "::1");
    }
}
