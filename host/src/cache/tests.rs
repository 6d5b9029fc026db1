use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn only_private_directories_are_trusted() {
    struct Case {
        name: &'static str,
        /// Mode of the cache directory; its parent is a private temp dir.
        mode: u32,
        /// Mode given to the parent instead, if any.
        parent_mode: Option<u32>,
        trusted: bool,
    }
    let cases = [
        Case {
            name: "private",
            mode: 0o700,
            parent_mode: None,
            trusted: true,
        },
        Case {
            name: "readable by all",
            mode: 0o755,
            parent_mode: None,
            trusted: true,
        },
        Case {
            name: "world-writable",
            mode: 0o777,
            parent_mode: None,
            trusted: false,
        },
        Case {
            name: "group-writable",
            mode: 0o770,
            parent_mode: None,
            trusted: false,
        },
        Case {
            name: "sticky and world-writable itself",
            mode: 0o1777,
            parent_mode: None,
            trusted: false,
        },
        Case {
            name: "parent world-writable",
            mode: 0o700,
            parent_mode: Some(0o777),
            trusted: false,
        },
        Case {
            name: "parent sticky like /tmp",
            mode: 0o700,
            parent_mode: Some(0o1777),
            trusted: true,
        },
    ];
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for (i, case) in cases.iter().enumerate() {
        // A fresh private parent in the (sticky) temp directory.
        let parent =
            std::env::temp_dir().join(format!("tailmcp-cache-test-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir(&parent).unwrap();
        set_mode(&parent, case.parent_mode.unwrap_or(0o700));
        let dir = parent.join("cache");
        std::fs::create_dir(&dir).unwrap();
        set_mode(&dir, case.mode);
        let result = check_dir_chain(&dir, euid());
        let _ = std::fs::remove_dir_all(&parent);
        assert_eq!(result.is_ok(), case.trusted, "{}: {result:?}", case.name);
    }
}

#[test]
fn owners_and_modes() {
    struct Case {
        name: &'static str,
        owner: u32,
        mode: u32,
        sticky_ok: bool,
        trusted: bool,
    }
    const ME: u32 = 1000;
    let cases = [
        Case {
            name: "mine, private",
            owner: ME,
            mode: 0o600,
            sticky_ok: false,
            trusted: true,
        },
        Case {
            name: "root's, read-only for others",
            owner: 0,
            mode: 0o755,
            sticky_ok: false,
            trusted: true,
        },
        Case {
            name: "another user's",
            owner: 1001,
            mode: 0o700,
            sticky_ok: false,
            trusted: false,
        },
        Case {
            name: "another user's sticky parent",
            owner: 1001,
            mode: 0o1777,
            sticky_ok: true,
            trusted: false,
        },
        Case {
            name: "mine, group-writable",
            owner: ME,
            mode: 0o620,
            sticky_ok: false,
            trusted: false,
        },
        Case {
            name: "mine, world-writable",
            owner: ME,
            mode: 0o602,
            sticky_ok: false,
            trusted: false,
        },
        Case {
            name: "root's sticky parent",
            owner: 0,
            mode: 0o1777,
            sticky_ok: true,
            trusted: true,
        },
        Case {
            name: "root's sticky, as the directory itself",
            owner: 0,
            mode: 0o1777,
            sticky_ok: false,
            trusted: false,
        },
    ];
    for case in cases {
        let result = check_owner_and_mode(case.owner, case.mode, ME, case.sticky_ok);
        assert_eq!(result.is_ok(), case.trusted, "{}: {result:?}", case.name);
    }
}
