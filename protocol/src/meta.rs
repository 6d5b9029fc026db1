//! The `_meta` keys of MCP 2026-07-28, where a request carries what a 2025
//! client said once, at `initialize`.

/// `_meta` key of the protocol version a modern request speaks.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client capabilities a modern request declares.
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's name and version (optional).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// Result `_meta` key under which a modern server names itself.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
