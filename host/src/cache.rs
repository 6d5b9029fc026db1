//! The compiled-component cache: native code for a component, keyed by the
//! sha256 of its `.wasm` and by the engine's compatibility hash (wasmtime
//! version and compilation settings), so restarts and swaps back to a known
//! version skip compilation. Only this directory is written, so the rest of
//! the filesystem may be read-only.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;

/// A cache directory for one engine configuration.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    engine_key: String,
}

impl Cache {
    /// Opens (creating it if needed) the cache in `dir`; `None` with a
    /// warning if it cannot be used, so serving never depends on it.
    pub fn open(dir: &Path, engine: &Engine) -> Option<Cache> {
        if let Err(e) = std::fs::create_dir_all(dir) {
            tracing::warn!(
                "compiled-component cache disabled: cannot create `{}`: {e}",
                dir.display()
            );
            return None;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Some(Cache {
            dir: dir.to_path_buf(),
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    /// Where the compiled form of the `.wasm` with this sha256 lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// Stores compiled bytes (write then rename, so readers never see half a file).
    pub fn store(&self, sha256: &str, compiled: &[u8]) {
        let path = self.path(sha256);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let result = std::fs::write(&tmp, compiled).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(
                "could not cache compiled component in `{}`: {e}",
                path.display()
            );
        }
    }

    /// Forgets an entry that turned out to be unusable.
    pub fn remove(&self, sha256: &str) {
        let _ = std::fs::remove_file(self.path(sha256));
    }
}
