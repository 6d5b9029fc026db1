//! The servers under test, how to start them, and what /proc says about them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client;

/// Where everything lives, relative to the repository root.
pub struct Paths {
    pub root: PathBuf,
    pub tailmcp: PathBuf,
    pub python: PathBuf,
    pub python_script: PathBuf,
    pub native: PathBuf,
    pub greet_wasm: PathBuf,
    /// Scratch: logs, caches, the `.cwasm`.
    pub work: PathBuf,
}

impl Paths {
    pub fn new(root: PathBuf) -> Paths {
        let target = root.join("target");
        let work = target.join("benches").join("run");
        Paths {
            tailmcp: target.join("release/tailmcp"),
            python: target.join("bench-venv/bin/python"),
            python_script: root.join("benches/python_greet.py"),
            native: target.join("benches/release/native-rmcp-greet"),
            greet_wasm: target
                .join("component-build/wasm32-wasip2/component/tailmcp_component.wasm"),
            work,
            root,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// (a) tailmcp with the built-in greet component.
    Tailmcp,
    /// (b) FastMCP as the original example runs it: sessions, SSE answers.
    Python,
    /// (b') FastMCP stateless with JSON answers (what tailmcp does).
    PythonStateless,
    /// (c) rmcp's streamable-HTTP server, stateless, JSON.
    Native,
}

pub const ALL: [Kind; 4] = [
    Kind::Tailmcp,
    Kind::Python,
    Kind::PythonStateless,
    Kind::Native,
];

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Tailmcp => "tailmcp",
            Kind::Python => "python",
            Kind::PythonStateless => "python-stateless",
            Kind::Native => "native-rmcp",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Tailmcp => {
                "tailmcp serve, built-in greet component, warm compiled-component cache, default \
                 flags but --max-requests-per-caller=128 (access log on)"
            }
            Kind::Python => {
                "FastMCP (fastmcp 4.1.6, uvicorn) as the example runs it: streamable-http with a \
                 session (one initialize, Mcp-Session-Id reused), SSE answers"
            }
            Kind::PythonStateless => {
                "the same FastMCP server with stateless_http=True, json_response=True"
            }
            Kind::Native => "rmcp 3.11 StreamableHttpService on axum, stateless, JSON answers",
        }
    }

    pub fn has_session(self) -> bool {
        self == Kind::Python
    }

    pub fn parse(s: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.key() == s)
    }
}

/// A free loopback port (bound and released; good enough on a quiet box).
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free port")
}

/// The command that starts `kind` on `addr`; `extra` are more tailmcp flags.
pub fn command(paths: &Paths, kind: Kind, addr: SocketAddr, extra: &[&str]) -> Command {
    let mut cmd = match kind {
        Kind::Tailmcp => {
            let mut cmd = Command::new(&paths.tailmcp);
            cmd.args(["serve", "--listen", &addr.to_string()])
                .args(extra);
            cmd
        }
        Kind::Python | Kind::PythonStateless => {
            let mut cmd = Command::new(&paths.python);
            cmd.arg(&paths.python_script).arg(addr.port().to_string());
            if kind == Kind::PythonStateless {
                cmd.arg("--stateless");
            }
            cmd
        }
        Kind::Native => {
            let mut cmd = Command::new(&paths.native);
            cmd.arg(addr.to_string());
            cmd
        }
    };
    cmd.current_dir(&paths.root).stdin(Stdio::null());
    cmd
}

pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub child: Child,
    pub session: Option<String>,
}

impl Server {
    /// Starts `kind` with its output in `log`, waits for a good greeting.
    pub fn start(paths: &Paths, kind: Kind, extra: &[&str], log: &Path) -> Server {
        let addr = free_addr();
        let log = std::fs::File::create(log).expect("log file");
        let child = command(paths, kind, addr, extra)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", kind.key()));
        let mut server = Server {
            kind,
            addr,
            child,
            session: None,
        };
        let (_, session) = server
            .first_greeting(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{} did not come up: {e}", kind.key()));
        server.session = session;
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls until a `tools/call greet` succeeds (opening a session first
    /// where the server needs one); the time that took and the session.
    pub fn first_greeting(&mut self, limit: Duration) -> Result<(Instant, Option<String>), String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}"));
            }
            if Instant::now() > deadline {
                return Err("timed out".into());
            }
            match TcpStream::connect(self.addr) {
                Err(_) => std::thread::sleep(Duration::from_micros(200)),
                Ok(stream) => {
                    let attempt = if self.kind.has_session() {
                        drop(stream);
                        client::open_session(self.addr).and_then(|session| {
                            client::greet(self.addr, Some(&session)).map(|()| Some(session))
                        })
                    } else {
                        client::post_on(stream, self.addr, client::GREET, None)
                            .map_err(|e| e.to_string())
                            .and_then(|reply| {
                                if reply.status == 200 && reply.body.contains(client::EXPECTED) {
                                    Ok(None)
                                } else {
                                    Err(format!("got {}: {}", reply.status, reply.body))
                                }
                            })
                    };
                    match attempt {
                        Ok(session) => return Ok((Instant::now(), session)),
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            }
        }
    }

    pub fn stop(mut self) {
        // SIGTERM first (a clean exit for each), SIGKILL if it lingers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One value (in kB) from /proc/PID/status.
pub fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM (peak RSS) to the current RSS, so a peak can be taken per run.
pub fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// CPU time (user + system, in clock ticks) of a process and its threads.
pub fn cpu_ticks(pid: u32) -> u64 {
    stat_pair(&format!("/proc/{pid}/stat"), 14)
}

/// CPU time of this process's waited-for children (cutime + cstime): wrk's.
pub fn children_ticks() -> u64 {
    stat_pair("/proc/self/stat", 16)
}

/// The sum of fields `n` and `n + 1` (1-based, as proc(5) numbers them:
/// utime is 14) of a `/proc/PID/stat` file; 0 if it cannot be read.
fn stat_pair(path: &str, n: usize) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            // Fields after `pid (comm) `: the first of them is field 3.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(n - 3)?.parse::<u64>().ok()? + f.get(n - 2)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// Busy CPU ticks of the whole machine (all cores), from /proc/stat.
pub fn machine_busy_ticks() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?;
            let f: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...
            Some(f.iter().take(8).sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0)
}

pub const TICKS_PER_SEC: f64 = 100.0;
