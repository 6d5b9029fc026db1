//! The docker compose topology on one machine, without Docker: tailmcp runs
//! with exactly the command and environment `docker-compose.yml` gives it
//! (read by `tests/deploy/check.py export`), its volumes are temp dirs, and
//! the tailscale serve stand-in proxies to the socket `config/serve.json`
//! names, resolved through the sidecar's own mounts. A real client goes
//! through it; tailmcp owns no TCP or UDP socket; the README's one-command
//! deploy swaps a component in; a request for another name gets 403.
//!
//! Run as root (`tests/run.sh` does), a further test runs tailmcp as the
//! container would (`tests/deploy/container.sh`): no network, read-only root,
//! uid 65532, no capabilities, no new privileges, the volumes at their
//! container paths.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tailmcp_tests::clients::{self, Client};
use tailmcp_tests::mounts::{localize_with, mount_for};
use tailmcp_tests::{
    Backend, Injected, ServeStandIn, Tailmcp, fixtures, post_mcp, repo, tailmcp_bin, tools_call,
};
use tokio::process::Command;

/// The capability config/serve.json accepts, and one it does not.
const ACCEPTED_CAP: &str = "tailmcp.github.io/cap/mcp";
const OTHER_CAP: &str = "other.example/cap/unrelated";

/// `.env` settings that make the public name the stand-in's (`mcp.tail1234.ts.net`).
const STAND_IN_NAME: &[(&str, &str)] = &[
    ("TS_HOSTNAME", "mcp"),
    ("TAILNET_DNS_NAME", "tail1234.ts.net"),
];

/// The compose settings, interpolated with `.env.example` plus `env`.
async fn export(env: &[(&str, &str)]) -> Value {
    let mut command = Command::new(clients::python());
    command
        .arg("tests/deploy/check.py")
        .arg("export")
        .current_dir(repo());
    for (name, value) in env {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    let output = command.output().await.expect("run tests/deploy/check.py");
    assert!(
        output.status.success(),
        "tests/deploy/check.py export failed (run tests/run.sh, which installs its requirements):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("check.py export prints JSON")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

/// Compose's volumes and bind mounts, as directories on this machine.
struct Volumes {
    root: tempfile::TempDir,
}

impl Volumes {
    fn new() -> Volumes {
        Volumes {
            root: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Where a mount's source lives here: named volumes and tmpfs are fresh
    /// directories (as on a first `docker compose up`), `./components` is a
    /// fresh one too (a fresh clone's is empty), other bind mounts are the
    /// repository's own directories.
    fn source(&self, mount: &Value) -> PathBuf {
        let source = mount["source"].as_str().unwrap_or("");
        let dir = match mount["type"].as_str().expect("mount type") {
            "volume" => self.root.path().join("volumes").join(source),
            "tmpfs" => self
                .root
                .path()
                .join("tmpfs")
                .join(mount["target"].as_str().unwrap().trim_start_matches('/')),
            "bind" if source.trim_start_matches("./") == "components" => {
                self.root.path().join("components")
            }
            "bind" => repo().join(source.trim_start_matches("./")),
            other => panic!("unexpected mount type {other}"),
        };
        std::fs::create_dir_all(&dir).expect("create volume dir");
        dir
    }

    /// A path inside a service's container, as a path here; None when it is
    /// on no mount (the container's read-only root filesystem).
    fn host_path(&self, mounts: &Value, path: &str) -> Option<PathBuf> {
        let (mount, rest) = mount_for(mounts, path)?;
        Some(self.source(mount).join(rest))
    }

    /// An argument or environment value with container paths made local.
    fn localize(&self, mounts: &Value, value: &str) -> String {
        localize_with(mounts, value, |mount, rest| self.source(mount).join(rest)).unwrap_or_else(
            || {
                panic!(
                    "{value} is on no volume: in the read-only container it could not be written"
                )
            },
        )
    }
}

/// How tailmcp is run.
#[derive(Clone, Copy, PartialEq)]
enum Run {
    /// A plain child process, container paths mapped to the volumes' dirs.
    Local,
    /// In `tests/deploy/container.sh`: the container's paths, user, network,
    /// capabilities and read-only root.
    Container,
}

/// tailmcp as the tailmcp service runs it.
struct Service {
    server: Tailmcp,
    /// The socket, as a path on this machine.
    socket: PathBuf,
}

impl Service {
    async fn start(topology: &Value, volumes: &Volumes, run: Run) -> Service {
        let svc = &topology["tailmcp"];
        let mounts = &svc["mounts"];
        let argv = strings(&svc["argv"]);
        assert_eq!(
            argv[..2],
            ["tailmcp", "serve"],
            "the image's entrypoint: {argv:?}"
        );
        let env: Vec<(String, String)> = svc["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let server = match run {
            // The container's command line and environment, and nothing else.
            Run::Local => Tailmcp::builder()
                .args(argv[2..].iter().map(|a| volumes.localize(mounts, a)))
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, volumes.localize(mounts, v))))
                .listen_as_configured(),
            Run::Container => {
                let (command, root) = container(svc, volumes, &argv, &env);
                Tailmcp::builder().command(command).keep(root)
            }
        };
        let server = server.start().await;
        let listening = &server.listening;
        let socket = listening
            .strip_prefix("unix:")
            .unwrap_or_else(|| panic!("compose runs tailmcp on {listening}, not a unix socket"));
        let socket = match run {
            Run::Local => PathBuf::from(socket),
            Run::Container => volumes
                .host_path(mounts, socket)
                .unwrap_or_else(|| panic!("the socket {socket} is on no volume")),
        };
        Service { server, socket }
    }

    /// tailmcp's pid: the child, or the child of `unshare --fork`.
    fn pid(&self) -> u32 {
        let pid = self.server.pid();
        match std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            Ok(children) if !children.trim().is_empty() => {
                children.split_whitespace().next().unwrap().parse().unwrap()
            }
            _ => pid,
        }
    }

    fn logs(&self) -> String {
        self.server.logs()
    }

    /// Runs the service's healthcheck command with the container's
    /// environment, as `docker` does, paths mapped to the volumes' dirs.
    async fn healthcheck(topology: &Value, volumes: &Volumes) -> bool {
        let svc = &topology["tailmcp"];
        let mounts = &svc["mounts"];
        let argv = strings(&svc["healthcheck"]);
        assert_eq!(argv[0], "tailmcp", "{argv:?}");
        Command::new(tailmcp_bin())
            .args(argv[1..].iter().map(|a| volumes.localize(mounts, a)))
            .env_clear()
            .envs(
                svc["environment"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| {
                        let v = volumes.localize(mounts, v.as_str().unwrap());
                        (k.clone(), v)
                    }),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .expect("run the healthcheck")
            .success()
    }
}

/// Whether this machine can run `tests/deploy/container.sh` (root, unshare).
fn can_run_containers() -> bool {
    std::process::Command::new("unshare")
        .args(["--net", "--mount", "--fork", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && ["setpriv", "chroot"].iter().all(|tool| {
            std::process::Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

/// `unshare ... container.sh ...`: the service as Docker runs it.
fn container(
    svc: &Value,
    volumes: &Volumes,
    argv: &[String],
    env: &[(String, String)],
) -> (Command, tempfile::TempDir) {
    let user = svc["user"].as_str().expect("compose sets a user");
    let (uid, gid) = user.split_once(':').unwrap_or((user, user));
    let mut command = Command::new("unshare");
    // --kill-child: tailmcp dies with unshare (the test's child).
    command.args(["--mount", "--fork", "--kill-child"]);
    if svc["network_mode"] == "none" {
        command.arg("--net");
    }
    let root = tempfile::tempdir().expect("container root");
    let caps_dropped = strings(&svc["cap_drop"]).iter().any(|c| c == "ALL");
    let nnp = strings(&svc["security_opt"])
        .iter()
        .any(|o| o == "no-new-privileges:true");
    command
        .arg("bash")
        .arg(repo().join("tests/deploy/container.sh"))
        .arg(root.path())
        .arg(tailmcp_bin())
        .arg(user)
        .arg(svc["read_only"].as_bool().unwrap_or(false).to_string())
        .arg(caps_dropped.to_string())
        .arg(nnp.to_string());
    for mount in svc["mounts"].as_array().unwrap() {
        let source = volumes.source(mount);
        // Docker gives a fresh named volume the owner of the image's
        // directory at its mount point: the Dockerfile makes those the user's.
        if mount["type"] == "volume" {
            std::os::unix::fs::chown(
                &source,
                Some(uid.parse().expect("numeric uid")),
                Some(gid.parse().expect("numeric gid")),
            )
            .expect("chown volume");
        }
        let mode = if mount["read_only"] == true {
            "ro"
        } else {
            "rw"
        };
        command.arg(format!(
            "{}:{}:{mode}",
            source.display(),
            mount["target"].as_str().unwrap()
        ));
    }
    command
        .arg("--")
        .args([
            "env",
            "-i",
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "RUST_LOG=info",
        ])
        .args(env.iter().map(|(k, v)| format!("{k}={v}")))
        .args(argv);
    (command, root)
}

/// The process's sockets, from /proc: (TCP/UDP sockets with their local
/// ports, listening unix socket paths).
fn sockets(pid: u32) -> (Vec<String>, Vec<String>) {
    let mut inodes = HashSet::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).expect("/proc/<pid>/fd") {
        let Ok(link) = std::fs::read_link(fd.unwrap().path()) else {
            continue;
        };
        if let Some(inode) = link
            .to_str()
            .and_then(|l| l.strip_prefix("socket:["))
            .and_then(|l| l.strip_suffix(']'))
        {
            inodes.insert(inode.to_string());
        }
    }
    let mut inet = Vec::new();
    for table in ["tcp", "tcp6", "udp", "udp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && inodes.contains(fields[9]) {
                let port = fields[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
                    .unwrap_or(0);
                let state = if fields[3] == "0A" {
                    "LISTEN"
                } else {
                    fields[3]
                };
                inet.push(format!("{table} port {port} state {state}"));
            }
        }
    }
    let mut unix = Vec::new();
    let text =
        std::fs::read_to_string(format!("/proc/{pid}/net/unix")).expect("/proc/<pid>/net/unix");
    for line in text.lines().skip(1) {
        // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000: listening
        let fields: Vec<&str> = line.split_whitespace().collect();
        let accepting = fields
            .get(3)
            .and_then(|f| u32::from_str_radix(f, 16).ok())
            .is_some_and(|flags| flags & 0x10000 != 0);
        if fields.len() > 7 && inodes.contains(fields[6]) && accepting {
            unix.push(fields[7].to_string());
        }
    }
    (inet, unix)
}

/// What serve would put in `Tailscale-App-Capabilities`: the caller's grants
/// for the capabilities the handler accepts, and no others.
fn accepted_grants(handler: &Value, policy: &Value) -> Option<String> {
    let accepted: serde_json::Map<String, Value> = strings(&handler["accept_app_caps"])
        .into_iter()
        .filter_map(|cap| policy.get(&cap).map(|grants| (cap, grants.clone())))
        .collect();
    (!accepted.is_empty()).then(|| Value::Object(accepted).to_string())
}

/// The stand-in for the sidecar: serve's handler for `/`, proxying where
/// config/serve.json says, resolved through the sidecar's mounts.
async fn sidecar(topology: &Value, volumes: &Volumes, tailmcp: &Service) -> ServeStandIn {
    let handlers = topology["serve"]["handlers"].as_array().unwrap();
    assert_eq!(handlers.len(), 1, "one handler, for /: {handlers:?}");
    let handler = &handlers[0];
    let proxy = handler["proxy"].as_str().unwrap();
    let socket = proxy
        .strip_prefix("unix:")
        .unwrap_or_else(|| panic!("serve proxies to {proxy}, not a unix socket"));
    let seen_by_sidecar = volumes
        .host_path(&topology["tailscale"]["mounts"], socket)
        .unwrap_or_else(|| panic!("{socket} is on none of the sidecar's volumes"));
    assert_eq!(
        seen_by_sidecar, tailmcp.socket,
        "the sidecar's Proxy target and tailmcp's socket are not the same file"
    );
    let policy = json!({
        ACCEPTED_CAP: [{"tools": ["greet"], "role": "admin"}],
        OTHER_CAP: [{"secret": true}],
    });
    let identity = Injected {
        capabilities: accepted_grants(handler, &policy),
        ..Injected::user("zoe@example.com", "Zoë")
    };
    ServeStandIn::start(Backend::Unix(seen_by_sidecar), identity).await
}

/// The compose topology end to end, with tailmcp run as `run` says.
async fn serves_through_the_sidecar_only(run: Run) -> (Value, Volumes, Service) {
    let topology = export(STAND_IN_NAME).await;
    assert_eq!(topology["serve"]["cert_domain"], ServeStandIn::PUBLIC_NAME);
    let volumes = Volumes::new();
    let tailmcp = Service::start(&topology, &volumes, run).await;
    assert!(
        tailmcp.logs().contains("does not exist yet"),
        "an empty components/ serves the built-in greet:\n{}",
        tailmcp.logs()
    );
    assert!(
        Service::healthcheck(&topology, &volumes).await,
        "healthcheck failed"
    );

    // Nothing but the unix socket: no TCP port, no UDP, nothing to reach
    // around serve.
    let (inet, unix) = sockets(tailmcp.pid());
    assert!(inet.is_empty(), "tailmcp has inet sockets: {inet:?}");
    assert_eq!(unix.len(), 1, "one listening unix socket: {unix:?}");

    // A real client through the sidecar; its forged identity never arrives.
    let serve = sidecar(&topology, &volumes, &tailmcp).await;
    let forged = json!({"Tailscale-User-Login": "mallory@evil.example"});
    let out = clients::run(
        Client::TypeScriptSdk,
        &serve.url(),
        forged,
        "greet",
        json!({}),
    )
    .await;
    assert_eq!(
        out["greet"]["content"][0]["text"], "Hello, Zoë! You are logged in as zoe@example.com.",
        "{out}"
    );
    assert!(!out.to_string().contains("mallory"), "{out}");
    // Out of the box: config/policy.toml is in force and every call is audited.
    let logs = tailmcp.logs();
    assert!(
        logs.contains("tool policy from `") && logs.contains("policy.toml"),
        "{logs}"
    );
    assert!(
        logs.lines().any(|line| line.starts_with('{')
            && line.contains(r#""caller":"zoe@example.com""#)
            && line.contains(r#""tool":"greet""#)),
        "no audit line for the greet call:\n{logs}"
    );

    // Deploy a component with the README's one command; it sees the accepted
    // capability's grants and no others.
    let components = volumes.root.path().join("components");
    std::fs::copy(
        fixtures::IDENTITY_HEADERS_ECHO,
        components.join("greet.wasm.tmp"),
    )
    .unwrap();
    std::fs::rename(
        components.join("greet.wasm.tmp"),
        components.join("greet.wasm"),
    )
    .unwrap();
    let started = Instant::now();
    let seen = loop {
        let reply = post_mcp(serve.addr, &[], tailmcp_tests::PING).await;
        if reply.status == 200
            && let Ok(seen) = serde_json::from_slice::<Value>(&reply.body)
            && seen.get("headers").is_some()
        {
            break seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the deployed component never served:\n{}",
            tailmcp.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(seen["user"]["login"], "zoe@example.com", "{seen}");
    let caps = seen["capabilities"].as_object().unwrap();
    assert_eq!(
        caps.keys().collect::<Vec<_>>(),
        [ACCEPTED_CAP],
        "only AcceptAppCaps reach the component: {seen}"
    );
    let grant: Value = serde_json::from_str(caps[ACCEPTED_CAP][0].as_str().unwrap()).unwrap();
    assert_eq!(grant, json!({"tools": ["greet"], "role": "admin"}));

    // Compiled components went to the cache volume.
    let cache_dir = topology["tailmcp"]["environment"]["TAILMCP_CACHE_DIR"]
        .as_str()
        .unwrap();
    let cache = volumes
        .host_path(&topology["tailmcp"]["mounts"], cache_dir)
        .unwrap();
    assert!(
        files(&cache) > 0,
        "nothing cached in {}:\n{}",
        cache.display(),
        tailmcp.logs()
    );
    assert!(sockets(tailmcp.pid()).0.is_empty(), "still no inet socket");
    (topology, volumes, tailmcp)
}

#[tokio::test]
async fn compose_topology_serves_through_the_sidecar_only() {
    let (topology, volumes, tailmcp) = serves_through_the_sidecar_only(Run::Local).await;
    let (_, unix) = sockets(tailmcp.pid());
    assert_eq!(unix, [tailmcp.socket.display().to_string()]);
    // The healthcheck can fail: it does once tailmcp is gone (its socket
    // file stays: the volume is not the harness's temp dir).
    tailmcp.server.kill().await;
    assert!(
        !Service::healthcheck(&topology, &volumes).await,
        "healthcheck passed with tailmcp stopped"
    );
}

/// The same, with tailmcp confined as the container confines it: it needs
/// no network, no writable root, no privilege. It needs root and `unshare`
/// (tests/deploy/container.sh); `tests/run.sh` runs it when it is root.
#[tokio::test]
#[ignore = "needs root and unshare: cargo test -- --ignored as root"]
async fn compose_topology_in_a_container_sandbox() {
    assert!(
        can_run_containers(),
        "this test needs root, `unshare`, `setpriv` and `chroot` (tests/deploy/container.sh)"
    );
    let (topology, _volumes, tailmcp) = serves_through_the_sidecar_only(Run::Container).await;
    let user = topology["tailmcp"]["user"].as_str().unwrap();
    let uid = user.split(':').next().unwrap();
    assert_ne!(uid, "0");
    let status = std::fs::read_to_string(format!("/proc/{}/status", tailmcp.pid())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(field("Uid"), format!("{uid} {uid} {uid} {uid}"), "{status}");
    assert_eq!(field("CapEff"), "0000000000000000", "{status}");
    assert_eq!(field("CapBnd"), "0000000000000000", "{status}");
    assert_eq!(field("NoNewPrivs"), "1", "{status}");
    let logs = tailmcp.logs();
    assert!(
        !logs.contains("Read-only file system") && !logs.contains("cache disabled"),
        "tailmcp tried to write outside its volumes:\n{logs}"
    );
    // The sidecar mounts the socket's volume read-only; connecting works.
    let mountpoint = tempfile::tempdir().unwrap();
    let socket_dir = tailmcp.socket.parent().unwrap();
    let socket_name = tailmcp.socket.file_name().unwrap().to_str().unwrap();
    let status = Command::new("unshare")
        .args(["--mount", "--fork", "sh", "-c"])
        .arg(r#"mount --bind -o ro "$1" "$2" && exec "$3" health --listen "unix:$2/$4""#)
        .arg("sh")
        .arg(socket_dir)
        .arg(mountpoint.path())
        .arg(tailmcp_bin())
        .arg(socket_name)
        .stdout(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(
        status.success(),
        "could not connect through a read-only mount"
    );
    // The container goes when its runner does, though tailmcp runs as
    // another user (which clears a parent-death signal set before).
    let pid = tailmcp.pid();
    drop(tailmcp);
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) {
        assert!(
            Instant::now() < deadline,
            "tailmcp (pid {pid}) outlived its container runner"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `pid` exists and is not a zombie waiting to be reaped.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(')')?.1.trim_start().starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

/// The troubleshooting entry: a tailnet name that is not the node's gets 403.
#[tokio::test]
async fn compose_refuses_requests_for_another_name() {
    let topology = export(&[
        ("TS_HOSTNAME", "mcp"),
        ("TAILNET_DNS_NAME", "tail9999.ts.net"),
    ])
    .await;
    let volumes = Volumes::new();
    let tailmcp = Service::start(&topology, &volumes, Run::Local).await;
    let serve = sidecar(&topology, &volumes, &tailmcp).await;
    let reply = post_mcp(serve.addr, &[], &tools_call(1, "greet", json!({}))).await;
    assert_eq!(reply.status, 403, "{:?}", reply.body);
}

/// The negative control for the socket check: a server on 127.0.0.1 is seen.
#[tokio::test]
async fn socket_check_sees_a_tcp_listener() {
    let server = Tailmcp::builder().start().await;
    let (inet, _) = sockets(server.pid());
    let want = format!("port {} state LISTEN", server.addr().port());
    assert!(
        inet.iter().any(|s| s.ends_with(&want)),
        "a TCP listener went unnoticed: {inet:?}"
    );
}

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { files(&path) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}
