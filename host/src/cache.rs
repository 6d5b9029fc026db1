//! The compiled-component cache: native code for a component, keyed by the
//! sha256 of its `.wasm` and by the engine's compatibility hash (wasmtime
//! version and compilation settings), so restarts and swaps back to a known
//! version skip compilation. Only this directory is written, so the rest of
//! the filesystem may be read-only.
//!
//! An entry is loaded as native code without further checks, so whoever can
//! write the directory could run code in the host: a directory (or a parent
//! of it) that another user can write to disables the cache, and an entry
//! that is not a private regular file of ours is ignored.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;

/// Permission bits that let the group or others write.
const WRITABLE_BY_OTHERS: u32 = 0o022;
/// Set on shared directories such as `/tmp`: others may add entries but not
/// rename or remove ours.
const STICKY: u32 = 0o1000;

/// A cache directory for one engine configuration.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    engine_key: String,
}

impl Cache {
    /// Opens (creating it, private, if needed) the cache in `dir`; `None`
    /// with a warning if it cannot be used or is not safe to load code
    /// from, so serving never depends on it.
    pub fn open(dir: &Path, engine: &Engine) -> Option<Cache> {
        let created = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir);
        if let Err(e) = created {
            tracing::warn!(
                "compiled-component cache disabled: cannot create `{}`: {e}",
                dir.display()
            );
            return None;
        }
        // Checked and used by its real path, so a symlink swapped later
        // cannot redirect reads past the check.
        let dir = match std::fs::canonicalize(dir) {
            Ok(dir) => dir,
            Err(e) => {
                tracing::warn!(
                    "compiled-component cache disabled: cannot resolve `{}`: {e}",
                    dir.display()
                );
                return None;
            }
        };
        if let Err(why) = check_dir_chain(&dir, euid()) {
            tracing::warn!(
                "compiled-component cache disabled: {why}; anyone who can write there could \
                 plant native code for tailmcp to run (make it owned by uid {} and not \
                 group- or world-writable)",
                euid()
            );
            return None;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Some(Cache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    /// Where the compiled form of the `.wasm` with this sha256 lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled bytes for the `.wasm` with this sha256, if cached and
    /// trustworthy: a regular file (not a symlink) owned by tailmcp's user
    /// (or root) that nobody else may write.
    pub fn load(&self, sha256: &str) -> Option<Vec<u8>> {
        let path = self.path(sha256);
        let mut file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("ignoring cache entry `{}`: {e}", path.display());
                return None;
            }
        };
        // Checked on the open file, so it cannot be swapped after the check.
        let checked = file.metadata().map_err(|e| e.to_string()).and_then(|meta| {
            if !meta.is_file() {
                return Err("not a regular file".to_string());
            }
            check_owner_and_mode(meta.uid(), meta.mode(), euid(), false)
        });
        if let Err(why) = checked {
            tracing::warn!(
                "ignoring cache entry `{}` ({why}): compiling instead",
                path.display()
            );
            return None;
        }
        let mut bytes = Vec::new();
        match file.read_to_end(&mut bytes) {
            Ok(_) => Some(bytes),
            Err(e) => {
                tracing::warn!("ignoring cache entry `{}`: {e}", path.display());
                None
            }
        }
    }

    /// Stores compiled bytes, readable and writable by tailmcp's user only
    /// (written to a new file, then renamed, so readers never see half a file).
    pub fn store(&self, sha256: &str, compiled: &[u8]) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = self.path(sha256);
        let tmp = path.with_extension(format!(
            "tmp{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover of a crashed process that had the same pid.
        let _ = std::fs::remove_file(&tmp);
        let result = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .and_then(|mut file: File| file.write_all(compiled))
            .and_then(|()| std::fs::rename(&tmp, &path));
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

/// The effective user id tailmcp runs as.
#[allow(
    unsafe_code,
    reason = "geteuid has no preconditions and cannot fail; std has no safe wrapper"
)]
fn euid() -> u32 {
    // SAFETY: see the reason above.
    unsafe { libc::geteuid() }
}

/// Checks that only `uid` (or root) can write to `dir` or add to it, nor
/// replace it through a parent: `dir` and every parent are owned by `uid`
/// or root, `dir` is writable by nobody else, and a parent only if it is
/// sticky (like `/tmp`, where others cannot rename what is ours).
fn check_dir_chain(dir: &Path, uid: u32) -> Result<(), String> {
    for (i, ancestor) in dir.ancestors().enumerate() {
        let meta = std::fs::metadata(ancestor)
            .map_err(|e| format!("cannot inspect `{}`: {e}", ancestor.display()))?;
        if !meta.is_dir() {
            return Err(format!("`{}` is not a directory", ancestor.display()));
        }
        check_owner_and_mode(meta.uid(), meta.mode(), uid, i > 0)
            .map_err(|why| format!("`{}` {why}", ancestor.display()))?;
    }
    Ok(())
}

/// Owned by `uid` or root, and writable by no one else (unless `sticky_ok`
/// and the sticky bit is set).
fn check_owner_and_mode(owner: u32, mode: u32, uid: u32, sticky_ok: bool) -> Result<(), String> {
    if owner != uid && owner != 0 {
        return Err(format!(
            "is owned by uid {owner}, not by tailmcp's uid {uid} or root"
        ));
    }
    if mode & WRITABLE_BY_OTHERS != 0 && !(sticky_ok && mode & STICKY != 0) {
        return Err(format!(
            "is group- or world-writable (mode {:o})",
            mode & 0o7777
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
