//! Memory and connections cannot be exhausted before a request is served:
//! request bodies share a byte budget (over it: 503, or 429 for one caller's
//! share, at once and unread), and at the connection limit connections that
//! never sent anything make room, while used ones are never cut.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tailmcp_tests::{MCP_HEADERS, Tailmcp, try_send};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KIB: usize = 1024;
/// How long a refusal may take to be "at once"; the stalled uploads wait far longer.
const AT_ONCE: Duration = Duration::from_secs(3);
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

/// A `ping` padded to exactly `len` bytes.
fn ping_of(len: usize) -> Vec<u8> {
    let head = r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":""#;
    let tail = r#""}}"#;
    let pad = len - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
}

#[derive(Clone, Copy)]
enum Framing {
    ContentLength,
    /// The whole body in one chunk; the last (empty) chunk is what stalls.
    Chunked,
}

/// An upload that has sent its head and part of its body, and stalls.
struct Upload {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl Upload {
    async fn start(server: &Tailmcp, login: &str, body: &[u8], framing: Framing) -> Upload {
        let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
        let mut head =
            String::from("POST /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in MCP_HEADERS {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Tailscale-User-Login: {login}\r\nTailscale-User-Name: {login}\r\n"
        ));
        let (sent, rest) = match framing {
            Framing::ContentLength => {
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                let half = body.len() / 2;
                let mut sent = head.into_bytes();
                sent.extend_from_slice(&body[..half]);
                (sent, body[half..].to_vec())
            }
            Framing::Chunked => {
                head.push_str("Transfer-Encoding: chunked\r\n\r\n");
                let mut sent = head.into_bytes();
                sent.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                sent.extend_from_slice(body);
                sent.extend_from_slice(b"\r\n");
                (sent, b"0\r\n\r\n".to_vec())
            }
        };
        stream
            .write_all(&sent)
            .await
            .expect("send the head and part of the body");
        Upload { stream, rest }
    }

    /// The answer, if one comes within `wait` (the body still unfinished).
    async fn answer_within(&mut self, wait: Duration) -> Option<String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(wait, async {
            loop {
                match self.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        (read.is_ok() || !out.is_empty()).then(|| String::from_utf8_lossy(&out).into_owned())
    }

    /// Sends the rest of the body and reads the answer.
    async fn finish(mut self) -> String {
        self.stream
            .write_all(&self.rest)
            .await
            .expect("send the rest");
        self.answer_within(Duration::from_secs(10))
            .await
            .expect("an answer once the body is complete")
    }
}

struct Case {
    name: &'static str,
    args: &'static [&'static str],
    /// Who sends each upload, all started together and stalled.
    callers: &'static [&'static str],
    body: usize,
    framing: Framing,
    /// The status the one upload over the budget gets at once.
    refused: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "declared bodies over the total budget",
        args: &["--max-buffered-bytes", "192KiB", "--max-body", "192KiB"],
        callers: &[
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
        ],
        body: 64 * KIB,
        framing: Framing::ContentLength,
        refused: "HTTP/1.1 503",
    },
    Case {
        name: "chunked bodies over the total budget",
        args: &["--max-buffered-bytes", "192KiB", "--max-body", "192KiB"],
        callers: &[
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com",
        ],
        body: 64 * KIB,
        framing: Framing::Chunked,
        refused: "HTTP/1.1 503",
    },
    Case {
        // One caller's share: 1 of 4 requests, so a quarter of 256 KiB.
        name: "one caller over its share of the budget",
        args: &[
            "--max-buffered-bytes",
            "256KiB",
            "--max-body",
            "64KiB",
            "--max-concurrent-requests",
            "4",
            "--max-requests-per-caller",
            "1",
        ],
        callers: &["alice@example.com", "alice@example.com", "bob@example.com"],
        body: 64 * KIB,
        framing: Framing::ContentLength,
        refused: "HTTP/1.1 429",
    },
];

#[tokio::test]
async fn the_upload_over_the_byte_budget_is_refused_at_once_the_others_complete() {
    for case in CASES {
        // A long --client-timeout: the stalled uploads wait for the checks.
        let args = [case.args, &["--client-timeout", "30s"]].concat();
        let server = Tailmcp::builder().args(&args).start().await;
        let body = ping_of(case.body);
        let mut waiting = Vec::new();
        for caller in case.callers {
            let mut upload = Upload::start(&server, caller, &body, case.framing).await;
            waiting.push(tokio::spawn(async move {
                let answer = upload.answer_within(AT_ONCE).await;
                (*caller, upload, answer)
            }));
        }
        // Exactly one of them is over the budget, whichever came last.
        let mut refused = Vec::new();
        let mut stalled = Vec::new();
        for waited in waiting {
            match waited.await.expect("upload task") {
                (caller, _, Some(answer)) => refused.push((caller, answer)),
                (_, upload, None) => stalled.push(upload),
            }
        }
        assert_eq!(
            refused.len(),
            1,
            "{}: one upload refused: {refused:?}",
            case.name
        );
        let (refused_caller, answer) = &refused[0];
        assert!(answer.starts_with(case.refused), "{}: {answer}", case.name);
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("\r\nretry-after: 1\r\n"),
            "{}: {answer}",
            case.name
        );
        for upload in stalled {
            let answer = upload.finish().await;
            assert!(
                answer.starts_with("HTTP/1.1 200"),
                "{}: {answer}",
                case.name
            );
        }
        // Their bytes are given back: the refused caller now gets in.
        let again = Upload::start(&server, refused_caller, &body, case.framing).await;
        let answer = again.finish().await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{}: {answer}",
            case.name
        );
    }
}

#[tokio::test]
async fn idle_sockets_at_the_connection_limit_make_room_used_connections_stay() {
    const LIMIT: usize = 8;
    // A long --client-timeout: only the limit can have closed the idle sockets.
    let server = Tailmcp::builder()
        .args([
            "--max-connections",
            &LIMIT.to_string(),
            "--client-timeout",
            "30s",
        ])
        .start()
        .await;
    let addr = server.addr();

    // A used keep-alive connection, as `tailscale serve` keeps them.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut kept, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let ping = || {
        let mut request = http::Request::post("/mcp").header("host", "localhost");
        for (name, value) in MCP_HEADERS {
            request = request.header(*name, *value);
        }
        request
            .body(Full::new(Bytes::from_static(PING.as_bytes())))
            .unwrap()
    };
    assert_eq!(kept.send_request(ping()).await.unwrap().status(), 200);
    // A request in the middle of its body.
    let mid_request = Upload::start(
        &server,
        "alice@example.com",
        &ping_of(4 * KIB),
        Framing::ContentLength,
    )
    .await;
    // The rest of the slots: sockets that never send a byte.
    let mut idle = Vec::new();
    for _ in 0..LIMIT - 2 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let fresh = tokio::time::timeout(
        Duration::from_secs(10),
        try_send(addr, "POST", "/mcp", MCP_HEADERS, PING),
    )
    .await
    .expect("a new client is answered while idle sockets fill the limit")
    .expect("a new client is answered");
    assert_eq!(fresh.status, 200);

    let again = kept
        .send_request(ping())
        .await
        .expect("the used connection stays open");
    assert_eq!(again.status(), 200);
    let body = again.into_body().collect().await.unwrap().to_bytes();
    assert!(body.starts_with(b"{"), "{body:?}");
    let answer = mid_request.finish().await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the request mid-body was not cut: {answer}"
    );
    drop(idle);
}
