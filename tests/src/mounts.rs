//! Container paths in the service definitions `tests/deploy` exports
//! (compose's long mount syntax), mapped to directories on this machine.

use std::path::PathBuf;

use serde_json::Value;

/// The deepest of `mounts` that holds the container path `path`, and the
/// rest of `path` below its target.
pub fn mount_for<'m, 'p>(mounts: &'m Value, path: &'p str) -> Option<(&'m Value, &'p str)> {
    let target = |m: &'m Value| {
        m["target"]
            .as_str()
            .expect("a mount target")
            .trim_end_matches('/')
    };
    let mount = mounts
        .as_array()
        .expect("mounts")
        .iter()
        .filter(|m| path == target(m) || path.starts_with(&format!("{}/", target(m))))
        .max_by_key(|m| target(m).len())?;
    Some((mount, path[target(mount).len()..].trim_start_matches('/')))
}

/// `value` (an argument or environment value) with a container path in it,
/// plain or after `unix:`, made local by `local(mount, rest)`; other values
/// as they are. None when the path is on no mount.
pub fn localize_with(
    mounts: &Value,
    value: &str,
    local: impl FnOnce(&Value, &str) -> PathBuf,
) -> Option<String> {
    let (prefix, path) = match value.strip_prefix("unix:") {
        Some(path) => ("unix:", path),
        None => ("", value),
    };
    if !path.starts_with('/') {
        return Some(value.to_string());
    }
    let (mount, rest) = mount_for(mounts, path)?;
    Some(format!("{prefix}{}", local(mount, rest).display()))
}
