//! The protocol-version model. MCP 2026-07-28 ("modern") has no
//! `initialize` handshake: every request carries its version in `_meta`.
//! The revisions up to 2025-11-25 ("legacy") negotiate once, with
//! `initialize`. tailmcp serves both.

/// The protocol era of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2024-11-05 … 2025-11-25: `initialize`, errors in-band.
    Legacy,
    /// 2026-07-28: per-request `_meta`, `resultType`, `server/discover`.
    Modern,
}

/// The first revision of the modern era.
pub const FIRST_MODERN_VERSION: &str = "2026-07-28";

/// Revisions served per request, with `_meta` (modern), newest first.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];

/// Revisions served through `initialize` (legacy), newest first. 2024-11-05
/// clients are served too: over Streamable HTTP the messages this server
/// uses are the same.
pub const LEGACY_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// Every revision served, newest first: `server/discover`'s
/// `supportedVersions`, and `supported` in a -32022 error, so that a client
/// that cannot speak 2026-07-28 learns it may fall back to `initialize`.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "2026-07-28",
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    "2024-11-05",
];

/// What `initialize` counter-offers when the client asks for a version we do
/// not know: the newest one with an `initialize` handshake.
pub const LATEST_LEGACY_VERSION: &str = "2025-11-25";

/// Whether a version string names the modern era. Versions are dates, so
/// this is a plain string comparison, as the TypeScript SDK does: an unknown
/// later or non-date version counts as modern (and is then unsupported).
pub fn is_modern_version(version: &str) -> bool {
    version >= FIRST_MODERN_VERSION
}

/// Whether `version` is a legacy revision this server negotiates.
pub fn is_legacy_version(version: &str) -> bool {
    LEGACY_VERSIONS.contains(&version)
}

/// The version to answer an `initialize` with: the client's if we serve it,
/// else our latest legacy one (the client decides whether it can use that).
/// Never 2026-07-28, which has no `initialize`.
pub fn negotiate(requested: &str) -> &'static str {
    LEGACY_VERSIONS
        .iter()
        .find(|v| **v == requested)
        .copied()
        .unwrap_or(LATEST_LEGACY_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_agree() {
        let all: Vec<&str> = MODERN_VERSIONS
            .iter()
            .chain(LEGACY_VERSIONS)
            .copied()
            .collect();
        assert_eq!(all, SUPPORTED_VERSIONS);
        assert!(MODERN_VERSIONS.iter().all(|v| is_modern_version(v)));
        assert!(LEGACY_VERSIONS.iter().all(|v| !is_modern_version(v)));
        assert_eq!(LEGACY_VERSIONS[0], LATEST_LEGACY_VERSION);
        assert_eq!(MODERN_VERSIONS.last(), Some(&FIRST_MODERN_VERSION));
    }

    #[test]
    fn eras_and_negotiation() {
        assert!(!is_modern_version("2025-11-25"));
        assert!(is_modern_version("2026-07-28"));
        assert!(is_modern_version("2099-01-01"));
        assert!(is_legacy_version("2024-11-05"));
        assert!(!is_legacy_version("2026-07-28"));
        for v in LEGACY_VERSIONS {
            assert_eq!(negotiate(v), *v);
        }
        assert_eq!(negotiate("2099-01-01"), LATEST_LEGACY_VERSION);
        assert_eq!(
            negotiate("2026-07-28"),
            "2025-11-25",
            "no initialize in 2026"
        );
        assert_eq!(negotiate(""), LATEST_LEGACY_VERSION);
    }
}
