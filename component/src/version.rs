//! The protocol-version model: the two eras, the revisions served in each,
//! and what `initialize` negotiates.

use rmcp::model::ProtocolVersion;

/// Revisions served per request, with `_meta` (modern), newest first.
pub const MODERN_VERSIONS: &[ProtocolVersion] = &[ProtocolVersion::V_2026_07_28];

/// Revisions served through `initialize` (legacy), newest first. 2024-11-05
/// clients are served too: over Streamable HTTP the messages this server
/// uses are the same.
pub const LEGACY_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
];

/// Every revision served, newest first: `server/discover`'s
/// `supportedVersions`, and `supported` in a -32022 error, so that a client
/// that cannot speak 2026-07-28 learns it may fall back to `initialize`.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2026_07_28,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2024_11_05,
];

/// The protocol era of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2024-11-05 … 2025-11-25: `initialize`, errors in-band.
    Legacy,
    /// 2026-07-28: per-request `_meta`, `resultType`, `server/discover`.
    Modern,
}

/// Whether a version string names the modern era. Versions are dates, so
/// this is a plain string comparison, as the TypeScript SDK does: an unknown
/// later or non-date version counts as modern (and is then unsupported).
pub fn is_modern_version(version: &str) -> bool {
    version >= ProtocolVersion::V_2026_07_28.as_str()
}

/// Whether `version` is a legacy revision this server negotiates.
pub fn is_legacy_version(version: &str) -> bool {
    LEGACY_VERSIONS.iter().any(|v| v.as_str() == version)
}

/// What `initialize` counter-offers when the client asks for a version we do
/// not know: the newest one with an `initialize` handshake.
pub const LATEST_LEGACY_VERSION: ProtocolVersion = ProtocolVersion::LATEST_WITH_INITIALIZE;

/// The version to answer an `initialize` with: the client's if we serve it,
/// else our latest legacy one (the client decides whether it can use that).
/// Never 2026-07-28, which has no `initialize`.
pub fn negotiate(requested: &str) -> ProtocolVersion {
    LEGACY_VERSIONS
        .iter()
        .find(|v| v.as_str() == requested)
        .cloned()
        .unwrap_or(LATEST_LEGACY_VERSION)
}
