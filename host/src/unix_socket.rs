//! Binds the unix socket with mode [`SOCKET_MODE`], whatever the umask.
//!
//! Who may connect to a unix socket is who may write to it, and `bind`
//! gives it `0777 & !umask` (0777 under umask 000). So the socket is bound
//! in a fresh 0700 directory beside its path, where no one else can reach
//! it, set to 0660, and only then renamed into place: at no moment does the
//! path accept connections with a wider mode. (No `fchmod`-before-`bind` or
//! `umask` call: both need `unsafe` or change the whole process.)

use std::fs::{DirBuilder, Permissions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;
use wasmtime::Result;
use wasmtime::error::Context;

/// The socket's mode: owner and group (the `tailscale serve` sidecar shares
/// uid and gid 65532 in the compose and Kubernetes setups).
pub const SOCKET_MODE: u32 = 0o660;

/// Binds a listener at `path`, which must not exist.
pub fn bind(path: &Path) -> Result<UnixListener> {
    let private = private_dir(path);
    // Left behind by a crash: in a container this process is pid 1 every time.
    if private.exists() {
        std::fs::remove_dir_all(&private)
            .with_context(|| format!("cannot remove stale `{}`", private.display()))?;
    }
    DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .with_context(|| format!("cannot create `{}`", private.display()))?;
    let bound = bind_in(&private, path);
    // Empty after the rename; after a failure it may still hold the socket.
    let _ = std::fs::remove_dir_all(&private);
    bound
}

fn bind_in(private: &Path, path: &Path) -> Result<UnixListener> {
    // The umask may have narrowed even the owner's bits.
    std::fs::set_permissions(private, Permissions::from_mode(0o700))
        .with_context(|| format!("cannot set the mode of `{}`", private.display()))?;
    let staged = private.join("s");
    let listener = UnixListener::bind(&staged)
        .with_context(|| format!("cannot bind a unix socket at `{}`", staged.display()))?;
    std::fs::set_permissions(&staged, Permissions::from_mode(SOCKET_MODE))
        .with_context(|| format!("cannot set the mode of `{}`", staged.display()))?;
    std::fs::rename(&staged, path)
        .with_context(|| format!("cannot move the socket to `{}`", path.display()))?;
    Ok(listener)
}

/// `DIR/.tailmcp-PID` beside `path` (same file system, so rename works); a
/// short name, as socket paths are limited to about 100 bytes.
fn private_dir(path: &Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(format!(".tailmcp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bound_with_its_mode_and_nothing_left_behind() {
        let dir = std::env::temp_dir().join(format!("tailmcp-socket-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mcp.sock");
        let _ = std::fs::remove_file(&path);
        // A stale private directory from an earlier run is replaced.
        std::fs::create_dir_all(private_dir(&path).join("old")).unwrap();
        let listener = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, SOCKET_MODE);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("mcp.sock")]);
        // Still the same listening socket after the rename.
        let client = tokio::net::UnixStream::connect(&path);
        let (accepted, connected) = tokio::join!(listener.accept(), client);
        accepted.unwrap();
        connected.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
