//! Binds the unix socket with mode [`SOCKET_MODE`], whatever the umask.
//!
//! Who may connect to a unix socket is who may write to it, and `bind`
//! gives it `0777 & !umask` (0777 under umask 000). So the socket is bound,
//! set to 0660, and only then put into the listening state: until `listen`
//! every connect is refused, and permission is checked only at connect, so
//! no client ever connects under the wider mode. (No `umask` call, which
//! would change the whole process and needs `unsafe`.)

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::net::{UnixListener, UnixSocket};
use wasmtime::Result;
use wasmtime::error::Context;

/// The socket's mode: owner and group (the `tailscale serve` sidecar shares
/// uid and gid 65532 in the compose and Kubernetes setups).
pub const SOCKET_MODE: u32 = 0o660;

/// Connections waiting to be accepted, at most.
const BACKLOG: u32 = 1024;

/// Binds a listener at `path`, which must not exist.
pub fn bind(path: &Path) -> Result<UnixListener> {
    let socket = UnixSocket::new_stream().context("cannot create a unix socket")?;
    socket
        .bind(path)
        .with_context(|| format!("cannot bind `{}`", path.display()))?;
    let listener = std::fs::set_permissions(path, Permissions::from_mode(SOCKET_MODE))
        .with_context(|| format!("cannot set the mode of `{}`", path.display()))
        .and_then(|()| socket.listen(BACKLOG).context("cannot listen"));
    if listener.is_err() {
        // Bound but never listening: leave no dead socket behind.
        let _ = std::fs::remove_file(path);
    }
    listener
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bound_with_its_mode() {
        let dir = std::env::temp_dir().join(format!("tailmcp-socket-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mcp.sock");
        let _ = std::fs::remove_file(&path);
        let listener = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, SOCKET_MODE);
        let client = tokio::net::UnixStream::connect(&path);
        let (accepted, connected) = tokio::join!(listener.accept(), client);
        accepted.unwrap();
        connected.unwrap();
        assert!(bind(&path).is_err(), "an existing path is not replaced");
        drop(listener);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
