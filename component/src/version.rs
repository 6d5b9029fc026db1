//! The protocol-version model, from `tailmcp-protocol`, and rmcp's values
//! for its version strings.

use rmcp::model::ProtocolVersion;

pub use tailmcp_protocol::version::{
    Era, LEGACY_VERSIONS, MODERN_VERSIONS, SUPPORTED_VERSIONS, is_legacy_version, is_modern_version,
};

/// rmcp's value for a version this crate serves (every one is known to
/// rmcp; a unit test checks it).
fn rmcp_version(version: &str) -> Option<ProtocolVersion> {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .find(|known| known.as_str() == version)
        .cloned()
}

/// The version to answer an `initialize` with (see
/// [`tailmcp_protocol::version::negotiate`]).
pub fn negotiate(requested: &str) -> ProtocolVersion {
    rmcp_version(tailmcp_protocol::version::negotiate(requested))
        .unwrap_or(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// Every revision served, newest first, for `server/discover`.
pub fn supported() -> Vec<ProtocolVersion> {
    SUPPORTED_VERSIONS
        .iter()
        .filter_map(|version| rmcp_version(version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailmcp_protocol::version::LATEST_LEGACY_VERSION;

    #[test]
    fn rmcp_knows_every_served_version() {
        assert_eq!(
            supported()
                .iter()
                .map(ProtocolVersion::as_str)
                .collect::<Vec<_>>(),
            SUPPORTED_VERSIONS
        );
        assert_eq!(
            LATEST_LEGACY_VERSION,
            ProtocolVersion::LATEST_WITH_INITIALIZE.as_str()
        );
        for version in LEGACY_VERSIONS {
            assert_eq!(negotiate(version).as_str(), *version);
            assert!(rmcp_version(version).is_some_and(|v| v.has_initialize()));
        }
        for version in MODERN_VERSIONS {
            assert!(rmcp_version(version).is_some_and(|v| !v.has_initialize()));
        }
        assert_eq!(negotiate("2099-01-01"), ProtocolVersion::V_2025_11_25);
    }
}
