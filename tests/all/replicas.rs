//! Several replicas as one Tailscale Service (README: "Scaling out"), on one
//! machine: three real tailmcp processes, each started with the settings
//! `deploy/replica/docker-compose.yml` gives it (read by
//! `tests/deploy/scale_out.py export`) on a unix socket of its own, each
//! behind a tailscale serve stand-in of its own (the replica's sidecar,
//! injecting the caller's identity), and in front of those a stand-in for the
//! service's routing, [`Rotator`].
//!
//! Tailscale pins each client to one replica and moves it only on failover.
//! The rotator is harsher: it sends every request to the next replica in
//! turn, so one client's `initialize`, `tools/list` and `tools/call` land on
//! different replicas. On a dead replica it does what a failover does, at
//! once: a replica it cannot connect to is marked down and skipped, and the
//! request goes to the next one (nothing was sent, so that is safe); a
//! request already sent to a replica that then dies is not retried (it may
//! have run) and is answered 502. Tailscale takes up to about 15 s to move a
//! dead replica's clients, and they fail meanwhile: what these tests prove is
//! tailmcp's part, that no replica needs anything from another.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tailmcp_tests::clients::{self, Client};
use tailmcp_tests::mounts::localize_with;
use tailmcp_tests::{
    Backend, Injected, MCP_HEADERS, Reply, ServeStandIn, Tailmcp, fixtures, repo, sha256_hex,
    tailmcp_bin, try_send,
};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------- replicas

/// The replica's tailmcp settings and serve config, interpolated with
/// `deploy/replica/.env.example` (tailnet `tail1234.ts.net`, so the service
/// is `mcp.tail1234.ts.net`, the name the serve stand-in forwards).
async fn replica_settings() -> Value {
    let output = tokio::process::Command::new(clients::python())
        .args(["tests/deploy/scale_out.py", "export"])
        .current_dir(repo())
        .output()
        .await
        .expect("run tests/deploy/scale_out.py");
    assert!(
        output.status.success(),
        "tests/deploy/scale_out.py export failed (run tests/run.sh, which installs its requirements):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let settings: Value = serde_json::from_slice(&output.stdout).expect("export prints JSON");
    assert_eq!(settings["serve"]["services"], json!(["svc:mcp"]));
    let names = settings["tailmcp"]["environment"]["TAILMCP_PUBLIC_NAMES"]
        .as_str()
        .expect("the replica sets TAILMCP_PUBLIC_NAMES");
    assert_eq!(
        names,
        ServeStandIn::PUBLIC_NAME,
        "a replica answers the service's name, which the stand-in forwards"
    );
    settings
}

/// One replica: tailmcp with the compose settings (its volumes are
/// directories of its own) and the serve stand-in in front of it.
struct Replica {
    dir: tempfile::TempDir,
    /// Its `TAILMCP_COMPONENT`, as a path here.
    component: PathBuf,
    server: Option<Tailmcp>,
    serve: Option<ServeStandIn>,
}

impl Replica {
    /// `prepare` gets the component path before tailmcp starts (e.g. to
    /// put a component there); `extra` are more `tailmcp serve` flags.
    async fn start(settings: &Value, prepare: impl FnOnce(&Path), extra: &[&str]) -> Replica {
        let dir = tempfile::tempdir().expect("temp dir");
        let svc = &settings["tailmcp"];
        let mounts = &svc["mounts"];
        assert_eq!(svc["argv"], json!(["tailmcp", "serve"]), "{svc}");
        let local = |value: &str| localize(dir.path(), mounts, value);
        // The container's environment and nothing else, paths made local.
        let env: Vec<(String, String)> = svc["environment"]
            .as_object()
            .expect("environment")
            .iter()
            .map(|(name, value)| (name.clone(), local(value.as_str().expect("a string"))))
            .collect();
        let component = env
            .iter()
            .find(|(name, _)| name == "TAILMCP_COMPONENT")
            .map(|(_, path)| PathBuf::from(path))
            .expect("the replica sets TAILMCP_COMPONENT");
        prepare(&component);
        let server = Tailmcp::builder()
            .env_clear()
            .envs(env)
            .listen_as_configured()
            .args(extra)
            .start()
            .await;

        // The sidecar's Proxy target, through the sidecar's own mounts, is
        // the socket tailmcp listens on.
        let handlers = settings["serve"]["handlers"].as_array().expect("handlers");
        assert_eq!(handlers.len(), 1, "one handler, for /: {handlers:?}");
        let handler = &handlers[0];
        assert!(
            handler["where"]
                .as_str()
                .unwrap()
                .contains(&format!("{}:443", ServeStandIn::PUBLIC_NAME)),
            "{handler}"
        );
        let socket = dir
            .path()
            .join("volumes")
            .join(handler["sidecar_volume"].as_str().expect("a volume"))
            .join(handler["sidecar_path"].as_str().expect("a path"));
        assert_eq!(server.socket(), socket, "serve proxies to tailmcp's socket");
        let serve = ServeStandIn::start(
            Backend::Unix(socket),
            Injected::user("alice@example.com", "Alice"),
        )
        .await;
        Replica {
            dir,
            component,
            server: Some(server),
            serve: Some(serve),
        }
    }

    /// Where its serve stand-in listens.
    fn addr(&self) -> SocketAddr {
        self.serve.as_ref().expect("replica is up").addr
    }

    fn logs(&self) -> String {
        self.server.as_ref().map(Tailmcp::logs).unwrap_or_default()
    }

    /// Its full `/healthz`, from `tailmcp health` on its socket (as the
    /// compose health check probes it); through serve it shows only the
    /// status and the component's sha256.
    async fn health(&self) -> Value {
        let socket = self.server.as_ref().expect("replica is up").socket();
        let probe = tokio::process::Command::new(tailmcp_bin())
            .args(["health", "--listen", &format!("unix:{}", socket.display())])
            .output()
            .await
            .expect("run tailmcp health");
        assert!(
            probe.status.success(),
            "{}",
            String::from_utf8_lossy(&probe.stderr)
        );
        serde_json::from_slice(&probe.stdout).expect("health is JSON")
    }

    /// The whole replica dies at once, as a machine or pod would: tailmcp
    /// gets SIGKILL (in-flight requests are cut off) and its serve stops
    /// listening. Returns once both are gone.
    async fn kill(&mut self) {
        self.server.take().expect("replica is up").kill().await;
        let serve = self.serve.take().expect("replica is up");
        let addr = serve.addr;
        drop(serve);
        let started = Instant::now();
        while TcpStream::connect(addr).await.is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the serve stand-in still listens"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(server) = &self.server
        {
            eprintln!(
                "--- replica in {} ---\n{}",
                self.dir.path().display(),
                server.logs()
            );
        }
    }
}

/// A container path as a path under `root`: named volumes are
/// `root/volumes/<name>`, `./components` is `root/components`.
fn localize(root: &Path, mounts: &Value, value: &str) -> String {
    localize_with(mounts, value, |mount, rest| {
        let source = mount["source"].as_str().unwrap_or("");
        let dir = match (mount["type"].as_str().unwrap(), source) {
            ("volume", name) => root.join("volumes").join(name),
            ("bind", "./components") => root.join("components"),
            (kind, source) => panic!("unexpected {kind} mount {source}"),
        };
        std::fs::create_dir_all(&dir).expect("create volume dir");
        if rest.is_empty() { dir } else { dir.join(rest) }
    })
    .unwrap_or_else(|| panic!("{value} is on no volume of the replica"))
}

async fn start_replicas(n: usize, prepare: impl Fn(&Path), extra: &[&str]) -> Vec<Replica> {
    let settings = replica_settings().await;
    let mut replicas = Vec::new();
    for _ in 0..n {
        replicas.push(Replica::start(&settings, &prepare, extra).await);
    }
    replicas
}

// ---------------------------------------------------------------- the rotator

/// What the rotator did with one request.
#[derive(Debug, Clone)]
struct Record {
    /// The `x-test-client` and `x-test-request` headers, if sent.
    client: String,
    request: String,
    /// The JSON-RPC method, or the HTTP method and path.
    method: String,
    /// The replica it went to; None when none was left.
    replica: Option<usize>,
    /// Replicas found dead (and skipped) on the way.
    skipped: Vec<usize>,
    dispatched: Instant,
    finished: Instant,
    status: u16,
}

struct Slot {
    addr: SocketAddr,
    down: AtomicBool,
    in_flight: AtomicUsize,
}

struct Shared {
    slots: Vec<Slot>,
    next: AtomicUsize,
    log: Mutex<Vec<Record>>,
}

/// A stand-in for the routing of a Tailscale Service: per-request rotation
/// over the replicas' serve stand-ins, skipping dead ones (module docs).
struct Rotator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Rotator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Rotator {
    async fn start(replicas: &[Replica]) -> Rotator {
        let shared = Arc::new(Shared {
            slots: replicas
                .iter()
                .map(|r| Slot {
                    addr: r.addr(),
                    down: AtomicBool::new(false),
                    in_flight: AtomicUsize::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| route(req, state.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Rotator { addr, shared, task }
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    fn records(&self) -> Vec<Record> {
        self.shared.log.lock().unwrap().clone()
    }

    fn in_flight(&self, replica: usize) -> usize {
        self.shared.slots[replica].in_flight.load(Ordering::SeqCst)
    }

    fn is_down(&self, replica: usize) -> bool {
        self.shared.slots[replica].down.load(Ordering::SeqCst)
    }
}

fn bad_gateway(message: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message)));
    *response.status_mut() = http::StatusCode::BAD_GATEWAY;
    response
}

async fn route(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let method = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("method")?.as_str().map(String::from))
        .unwrap_or_else(|| format!("{} {}", parts.method, parts.uri.path()));
    let mut record = Record {
        client: header("x-test-client"),
        request: header("x-test-request"),
        method,
        replica: None,
        skipped: Vec::new(),
        dispatched: Instant::now(),
        finished: Instant::now(),
        status: 502,
    };
    // The next replica in turn, among those not known to be down.
    let turn = shared.next.fetch_add(1, Ordering::SeqCst);
    loop {
        let alive: Vec<usize> = (0..shared.slots.len())
            .filter(|&i| !shared.slots[i].down.load(Ordering::SeqCst))
            .collect();
        let Some(&i) = alive.get(turn % alive.len().max(1)) else {
            break;
        };
        let slot = &shared.slots[i];
        // Not even connected: safe to send it to another replica.
        let Ok(stream) = TcpStream::connect(slot.addr).await else {
            slot.down.store(true, Ordering::SeqCst);
            record.skipped.push(i);
            continue;
        };
        slot.in_flight.fetch_add(1, Ordering::SeqCst);
        record.dispatched = Instant::now();
        let outcome = forward(stream, &parts, body.clone()).await;
        slot.in_flight.fetch_sub(1, Ordering::SeqCst);
        record.finished = Instant::now();
        record.replica = Some(i);
        // Sent: it may have run, so it is not retried.
        let mut response =
            outcome.unwrap_or_else(|e| bad_gateway(format!("replica {i} failed mid-request: {e}")));
        record.status = response.status().as_u16();
        response
            .headers_mut()
            .insert("x-replica", HeaderValue::from(i));
        shared.log.lock().unwrap().push(record);
        return Ok(response);
    }
    record.finished = Instant::now();
    shared.log.lock().unwrap().push(record);
    Ok(bad_gateway("no replica left".into()))
}

/// Sends the request on `stream` as it came, and reads the whole answer.
async fn forward(
    stream: TcpStream,
    parts: &http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, String> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone());
    for (name, value) in &parts.headers {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
        .await
        .map_err(|_| "no answer in 30 s".to_string())?
        .map_err(|e| e.to_string())?;
    let (mut head, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    for hop in ["transfer-encoding", "connection", "keep-alive"] {
        head.headers.remove(hop);
    }
    Ok(Response::from_parts(head, Full::new(body)))
}

// ---------------------------------------------------------------- load

/// What a load task saw for one request.
#[derive(Debug)]
struct Seen {
    id: String,
    replica: Option<usize>,
    status: Option<u16>,
    body: Bytes,
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(0);

/// A POST to /mcp through the rotator (an MCP request's shape; the swap
/// fixtures answer `{"version":…}` to any request, after `?sleep=MS`).
async fn request(rotator: SocketAddr, sleep_ms: u64) -> Seen {
    let id = REQUEST_IDS.fetch_add(1, Ordering::SeqCst).to_string();
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("x-test-request", &id));
    let body = tailmcp_tests::tools_call(1, "greet", json!({}));
    let path = format!("/mcp?sleep={sleep_ms}");
    match try_send(rotator, "POST", &path, &headers, body).await {
        Ok(Reply {
            status,
            headers,
            body,
        }) => Seen {
            replica: headers
                .get("x-replica")
                .and_then(|v| v.to_str().ok()?.parse().ok()),
            id,
            status: Some(status),
            body,
        },
        Err(_) => Seen {
            id,
            replica: None,
            status: None,
            body: Bytes::new(),
        },
    }
}

/// `tasks` loops sending requests until `stop`; everything they saw.
fn load(
    rotator: SocketAddr,
    tasks: usize,
    sleep_ms: impl Fn(u64) -> u64 + Send + Sync + Copy + 'static,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Seen>>> {
    (0..tasks)
        .map(|_| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    seen.push(request(rotator, sleep_ms(n)).await);
                    n += 1;
                }
                seen
            })
        })
        .collect()
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<Vec<Seen>>>) -> Vec<Seen> {
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("load task"));
    }
    all
}

const V1: &[u8] = br#"{"version":"v1"}"#;
const V2: &[u8] = br#"{"version":"v2"}"#;

fn write_v1(component: &Path) {
    std::fs::write(component, std::fs::read(fixtures::SWAP_V1).unwrap()).unwrap();
}

// ---------------------------------------------------------------- the tests

/// Real clients through per-request rotation: each one's `initialize` is
/// answered by one replica and its tool calls by others, and every answer
/// carries the caller serve injected on that replica. After a replica dies,
/// clients keep working on the other two.
#[tokio::test]
async fn clients_initialize_on_one_replica_and_call_tools_on_others() {
    let mut replicas = start_replicas(3, |_| {}, &[]).await;
    let rotator = Rotator::start(&replicas).await;
    let greeting = "Hello, Alice! You are logged in as alice@example.com.";
    let mut runs = vec![
        ("ts-1", Client::TypeScriptSdk),
        ("ts-2", Client::TypeScriptSdk),
        ("py-1", Client::PythonSdk),
    ];
    for &(name, client) in &runs {
        // A forged identity: every replica's serve drops it.
        let headers =
            json!({"x-test-client": name, "Tailscale-User-Login": "mallory@evil.example"});
        let out = clients::run(client, &rotator.url(), headers, "greet", json!({})).await;
        assert_eq!(out["greet"]["content"][0]["text"], greeting, "{out}");
        assert!(!out.to_string().contains("mallory"), "{out}");
    }
    for (i, replica) in replicas.iter().enumerate() {
        assert!(
            replica.logs().contains("alice@example.com"),
            "replica {i} served nobody:\n{}",
            replica.logs()
        );
    }

    // One replica dies; clients go on with the others.
    replicas[2].kill().await;
    for name in ["ts-after-1", "ts-after-2"] {
        let headers = json!({"x-test-client": name});
        let out = clients::run(
            Client::TypeScriptSdk,
            &rotator.url(),
            headers,
            "greet",
            json!({}),
        )
        .await;
        assert_eq!(out["greet"]["content"][0]["text"], greeting, "{out}");
        runs.push((name, Client::TypeScriptSdk));
    }
    assert!(rotator.is_down(2));

    let records = rotator.records();
    for (name, _) in &runs {
        let mine: Vec<&Record> = records.iter().filter(|r| r.client == *name).collect();
        let used: BTreeSet<usize> = mine.iter().filter_map(|r| r.replica).collect();
        assert!(used.len() >= 2, "{name} used replicas {used:?}: {mine:#?}");
        let init = mine
            .iter()
            .find(|r| r.method == "initialize")
            .unwrap_or_else(|| panic!("{name} sent no initialize: {mine:#?}"));
        assert!(
            mine.iter()
                .any(|r| r.method.starts_with("tools/") && r.replica != init.replica),
            "{name}: no tool request on another replica than its initialize: {mine:#?}"
        );
        for r in &mine {
            assert!(r.status < 500, "{name}: {r:?}");
            if name.contains("after") {
                assert_ne!(r.replica, Some(2), "{name} reached the dead replica: {r:?}");
            }
        }
    }
}

/// A replica dies under load: the only requests that fail are the ones it
/// was serving when it died, and every request sent after that succeeds on
/// the other two.
#[tokio::test]
async fn killing_a_replica_mid_load_fails_only_its_in_flight_requests() {
    let mut replicas = start_replicas(3, write_v1, &[]).await;
    let rotator = Rotator::start(&replicas).await;
    let stop = Arc::new(AtomicBool::new(false));
    // 150 ms per request: a few are always in flight on every replica.
    let tasks = load(rotator.addr, 12, |_| 150, stop.clone());

    // Kill it once it has served a few and is serving more.
    let started = Instant::now();
    let ok_on_1 = |r: &Record| r.replica == Some(1) && r.status == 200;
    while rotator.records().iter().filter(|r| ok_on_1(r)).count() < 5 || rotator.in_flight(1) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no load on replica 1"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let in_flight = rotator.in_flight(1);
    let killed = Instant::now();
    replicas[1].kill().await;
    let dead = Instant::now();
    // Then enough requests to see where they go.
    while rotator
        .records()
        .iter()
        .filter(|r| r.dispatched > dead)
        .count()
        < 30
    {
        assert!(
            dead.elapsed() < Duration::from_secs(30),
            "the load stopped after the death"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let seen = collect(tasks).await;
    let records = rotator.records();
    assert!(
        in_flight >= 1,
        "nothing was in flight on replica 1 when it died: the test is not mid-load"
    );

    let before = records
        .iter()
        .filter(|r| r.replica == Some(1) && r.status == 200 && r.finished < killed)
        .count();
    assert!(before >= 5, "replica 1 served only {before} before dying");

    let failed: Vec<&Record> = records.iter().filter(|r| r.status != 200).collect();
    assert!(
        !failed.is_empty(),
        "{in_flight} requests were in flight on replica 1, yet none failed"
    );
    for r in &failed {
        assert_eq!(r.replica, Some(1), "a request failed elsewhere: {r:?}");
        assert!(
            r.dispatched < dead && r.finished > killed,
            "failed, but was not in flight on replica 1 when it died: {r:?}"
        );
    }

    let after: Vec<&Record> = records.iter().filter(|r| r.dispatched > dead).collect();
    let served: BTreeSet<Option<usize>> = after.iter().map(|r| r.replica).collect();
    assert_eq!(
        served,
        BTreeSet::from([Some(0), Some(2)]),
        "requests after the death went to {served:?}"
    );
    for r in &after {
        assert_eq!(r.status, 200, "a request after the death failed: {r:?}");
    }
    assert!(rotator.is_down(1));
    assert!(
        records.iter().any(|r| r.skipped == [1]),
        "no request was moved off the dead replica"
    );

    // What the clients saw agrees with the rotator's record.
    let by_id: BTreeMap<&str, &Record> = records.iter().map(|r| (r.request.as_str(), r)).collect();
    for s in &seen {
        let r = by_id
            .get(s.id.as_str())
            .unwrap_or_else(|| panic!("request {} never reached the rotator: {s:?}", s.id));
        assert_eq!(s.status, Some(r.status), "{s:?} vs {r:?}");
        if s.status == Some(200) {
            assert_eq!(s.body, V1, "{s:?}");
            assert_eq!(s.replica, r.replica, "{s:?}");
        }
    }
    eprintln!(
        "replica 1 killed with {in_flight} requests in flight: {} of {} requests failed (those, and ones \
         sent to it while it died), the {} sent after its death all succeeded",
        failed.len(),
        records.len(),
        after.len()
    );
}

/// How a new component reaches a replica's `components/greet.wasm`.
#[derive(Clone, Copy, Debug)]
enum Deploy {
    /// The README's command: write beside it, rename over it.
    Rename,
    /// What the kubelet does to a ConfigMap volume (its AtomicWriter): the
    /// file is a symlink to `..data/greet.wasm`, `..data` a symlink to a
    /// timestamped directory; an update writes a new directory and renames
    /// a new `..data` symlink over the old one. `greet.wasm` itself never
    /// changes, so only tailmcp's poll notices.
    Kubelet,
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

fn deploy(how: Deploy, component: &Path, bytes: &[u8]) {
    let dir = component.parent().unwrap();
    let name = component.file_name().unwrap();
    match how {
        Deploy::Rename => {
            let tmp = dir.join("greet.wasm.tmp");
            std::fs::write(&tmp, bytes).unwrap();
            std::fs::rename(&tmp, component).unwrap();
        }
        Deploy::Kubelet => {
            let generation = GENERATION.fetch_add(1, Ordering::SeqCst);
            let stamp = format!("..2026_11_26_20_00_00.{generation:09}");
            std::fs::create_dir(dir.join(&stamp)).unwrap();
            std::fs::write(dir.join(&stamp).join(name), bytes).unwrap();
            let old = std::fs::read_link(dir.join("..data")).ok();
            std::os::unix::fs::symlink(&stamp, dir.join("..data_tmp")).unwrap();
            std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
            if std::fs::symlink_metadata(component).is_err() {
                std::os::unix::fs::symlink(Path::new("..data").join(name), component).unwrap();
            }
            if let Some(old) = old {
                std::fs::remove_dir_all(dir.join(old)).unwrap();
            }
        }
    }
}

/// A direct request to one replica's serve; its answer's body.
async fn version_of(replica: &Replica) -> Option<Bytes> {
    let reply = try_send(
        replica.addr(),
        "POST",
        "/mcp",
        MCP_HEADERS,
        tailmcp_tests::PING,
    )
    .await
    .ok()?;
    (reply.status == 200).then_some(reply.body)
}

/// v2 is deployed to one replica after another under load: every answer
/// is wholly v1 or wholly v2, a replica never goes back to v1 once it
/// served v2, no request fails, and in the end every replica serves v2.
async fn rolling_swap(how: Deploy) {
    let v1 = std::fs::read(fixtures::SWAP_V1).unwrap();
    let v2 = std::fs::read(fixtures::SWAP_V2).unwrap();
    let prepare = |component: &Path| deploy(how, component, &v1);
    let replicas = start_replicas(3, prepare, &["--watch-interval", "500ms"]).await;
    let rotator = Rotator::start(&replicas).await;
    let stop = Arc::new(AtomicBool::new(false));
    // Short and long requests, so swaps land while requests are in flight.
    let tasks = load(rotator.addr, 8, |n| (n * 37) % 100, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut deployed = Vec::new();
    for (i, replica) in replicas.iter().enumerate() {
        let at = Instant::now();
        deploy(how, &replica.component, &v2);
        while version_of(replica).await.as_deref() != Some(V2) {
            assert!(
                at.elapsed() < Duration::from_secs(20),
                "replica {i} never served v2 ({how:?}):\n{}",
                replica.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        deployed.push(at);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let seen = collect(tasks).await;
    let records = rotator.records();

    // Every answer is wholly one version, and none failed.
    assert!(seen.len() > 30, "only {} requests", seen.len());
    for s in &seen {
        assert_eq!(s.status, Some(200), "{s:?}");
        assert!(s.body == V1 || s.body == V2, "a mixed answer: {s:?}");
    }
    let version: BTreeMap<&str, &[u8]> = seen
        .iter()
        .map(|s| (s.id.as_str(), if s.body == V1 { V1 } else { V2 }))
        .collect();
    // Per replica: v1 until its deploy; v2 for every request sent after
    // it first answered v2.
    for (i, at) in deployed.iter().enumerate() {
        let mine: Vec<&Record> = records.iter().filter(|r| r.replica == Some(i)).collect();
        let first_v2 = mine
            .iter()
            .filter(|r| version[r.request.as_str()] == V2)
            .map(|r| r.finished)
            .min()
            .unwrap_or_else(|| panic!("replica {i} never answered the load with v2"));
        for r in &mine {
            let v = version[r.request.as_str()];
            if r.finished < *at {
                assert_eq!(v, V1, "replica {i} served v2 before its deploy: {r:?}");
            }
            if r.dispatched > first_v2 {
                assert_eq!(v, V2, "replica {i} went back to v1: {r:?}");
            }
        }
    }
    // While the rollout ran, the fleet served both: it is rolling, not atomic.
    let during: BTreeSet<&[u8]> = records
        .iter()
        .filter(|r| r.dispatched > deployed[0] && r.finished < deployed[2])
        .map(|r| version[r.request.as_str()])
        .collect();
    assert_eq!(during.len(), 2, "one version during the rollout");

    // In the end: all v2, each replica swapped exactly once.
    for (i, replica) in replicas.iter().enumerate() {
        let health = replica.health().await;
        assert_eq!(
            health["component"]["sha256"],
            sha256_hex(&v2),
            "replica {i}: {health}"
        );
        assert_eq!(health["swaps"], 1, "replica {i}: {health}");
    }
    for _ in 0..9 {
        let s = request(rotator.addr, 0).await;
        assert_eq!(s.body, V2, "{s:?}");
    }
}

#[tokio::test]
async fn rolling_hot_swap_never_serves_a_mixed_answer() {
    rolling_swap(Deploy::Rename).await;
}

#[tokio::test]
async fn rolling_configmap_update_never_serves_a_mixed_answer() {
    rolling_swap(Deploy::Kubelet).await;
}
