//! Hex sha256: how components and policy files are named in logs and
//! `/healthz`, and how a tagged device's grants make its share key. A leaf,
//! so every module that names things by their digest can use it.

use sha2::{Digest, Sha256};

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
