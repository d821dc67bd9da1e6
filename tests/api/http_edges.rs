//! Request smuggling and header edge cases sent as raw bytes through the tap, against an upstream
//! that records exactly what reached it. A careful proxy rejects ambiguous framing, or (Content-Length
//! with chunked) follows Transfer-Encoding alone and closes the connection after answering (RFC 9112
//! §6.1); what it forwards is re-framed consistently, the hidden request never reaches the upstream
//! as a request, nothing crashes, and it keeps serving afterwards.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{spawn_app_with, TestApp, TestBus};

/// What the upstream received for one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// An upstream that records every request and answers a small chat completion.
struct RecordingUpstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RecordingUpstream {
    async fn spawn() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new().fallback({
            let seen = seen.clone();
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(Seen { method, uri, headers, body });
                    (
                        [("content-type", "application/json")],
                        r#"{"id":"chatcmpl-edge","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#,
                    )
                }
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { addr, seen }
    }

    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

async fn tap_with_recorder() -> (TestApp, RecordingUpstream) {
    let upstream = RecordingUpstream::spawn().await;
    let url = format!("http://{}", upstream.addr);
    let app = spawn_app_with(TestBus::Memory, |c| c.tap.upstream = url).await;
    (app, upstream)
}

/// Send raw bytes on a fresh connection; read until the server closes it or goes quiet.
async fn raw(tap: SocketAddr, bytes: &[u8]) -> String {
    let mut conn = TcpStream::connect(tap).await.unwrap();
    // The server may reject and close before reading everything: a failed write is an answer too.
    let _ = conn.write_all(bytes).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn statuses(response: &str) -> Vec<u16> {
    response
        .match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| response.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// The tap still serves a normal request (on a new connection).
async fn still_serves(app: &TestApp, upstream: &RecordingUpstream) {
    let body = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "after"}]});
    let (status, _) = app.chat_through_tap(&body).await;
    assert_eq!(status, 200, "the tap keeps serving");
    assert_eq!(upstream.take().len(), 1);
}

/// Invariants for whatever reached the upstream: self-consistent framing (the tap re-frames every
/// body it forwards, so bytes that were a hidden request stay body bytes), never the hidden request.
fn assert_consistent(seen: &[Seen]) {
    for s in seen {
        assert!(
            !(s.headers.contains_key("content-length")
                && s.headers.contains_key("transfer-encoding")),
            "upstream got both Content-Length and Transfer-Encoding: {s:?}"
        );
        if let Some(len) = s.headers.get("content-length") {
            assert_eq!(
                len.to_str().unwrap(),
                s.body.len().to_string(),
                "framing matches the body"
            );
        }
        assert_ne!(
            s.uri.path(),
            "/v1/smuggled",
            "the hidden request reached the upstream"
        );
    }
}

const SMUGGLED: &str = "GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test]
async fn ambiguous_framing_is_rejected_and_never_desynchronises() {
    let (app, upstream) = tap_with_recorder().await;
    let cases: Vec<(&str, String)> = vec![
        (
            "two different Content-Length values",
            format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: {}\r\n\r\n{{}}{SMUGGLED}", 2 + SMUGGLED.len()),
        ),
        (
            "Content-Length and chunked (CL.TE)",
            format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{SMUGGLED}", 5 + SMUGGLED.len()),
        ),
        (
            "chunked then Content-Length (TE.CL)",
            format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n{:x}\r\n{SMUGGLED}\r\n0\r\n\r\n", SMUGGLED.len()),
        ),
        (
            "obfuscated Transfer-Encoding",
            format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\n{{}}{SMUGGLED}"),
        ),
        (
            "invalid chunk size",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_string(),
        ),
        (
            "negative Content-Length",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}".to_string(),
        ),
        (
            "space before the header colon",
            format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length : {}\r\n\r\n{SMUGGLED}", SMUGGLED.len()),
        ),
    ];
    for (name, request) in cases {
        let response = raw(app.tap, request.as_bytes()).await;
        let seen = upstream.take();
        let codes = statuses(&response);
        println!(
            "{name}: client got {codes:?}; upstream got {} request(s)",
            seen.len()
        );
        // One answer, then the connection closes (RFC 9112 §6.1): what follows the ambiguous
        // request is never parsed as a request of its own.
        assert_eq!(
            codes.len(),
            1,
            "{name}: exactly one answer, then the connection closes"
        );
        assert_consistent(&seen);
        assert!(
            codes[0] == 200 || (400..500).contains(&codes[0]),
            "{name}: the client's fault is a 4xx, not a gateway error"
        );
        if codes[0] >= 400 {
            assert!(
                seen.is_empty(),
                "{name}: rejected, so nothing forwarded: {seen:?}"
            );
        }
        still_serves(&app, &upstream).await;
    }
}

#[tokio::test]
async fn oversized_and_odd_headers_are_handled_like_a_careful_proxy() {
    let (app, upstream) = tap_with_recorder().await;

    // A 1 MiB header: refused with 431 (or the connection closed), no crash.
    let big = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nx-big: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "a".repeat(1 << 20)
    );
    let codes = statuses(&raw(app.tap, big.as_bytes()).await);
    println!("1 MiB header: {codes:?}");
    assert!(codes.is_empty() || codes[0] == 431, "{codes:?}");
    assert!(upstream.take().is_empty());
    still_serves(&app, &upstream).await;

    // Too many headers.
    let many: String = (0..500).map(|i| format!("x-h{i}: v\r\n")).collect();
    let codes = statuses(&raw(app.tap, format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n{many}Content-Length: 2\r\n\r\n{{}}").as_bytes()).await);
    println!("500 headers: {codes:?}");
    assert!(codes.is_empty() || codes[0] == 431, "{codes:?}");
    assert!(upstream.take().is_empty());
    still_serves(&app, &upstream).await;

    // Invalid UTF-8 inside a JSON body: forwarded byte for byte (the upstream decides), answered.
    let mut body = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"caf"#.to_vec();
    body.extend_from_slice(&[0xe9, 0xff]);
    body.extend_from_slice(br#""}]}"#);
    let mut request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-note: caf\u{e9}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let codes = statuses(&raw(app.tap, &request).await);
    let seen = upstream.take();
    println!("invalid UTF-8 body: {codes:?}");
    assert_eq!(codes, vec![200]);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(&seen[0].body[..], &body[..], "body forwarded byte for byte");
    assert_eq!(
        seen[0].headers["x-note"].as_bytes(),
        "caf\u{e9}".as_bytes(),
        "obs-text header value kept"
    );
    assert_consistent(&seen);

    // Absolute-form request target: still the configured upstream, never an open proxy.
    let codes = statuses(
        &raw(
            app.tap,
            b"GET http://169.254.169.254/v1/models HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n",
        )
        .await,
    );
    let seen = upstream.take();
    println!(
        "absolute-form target: {codes:?}, upstream saw {:?}",
        seen.iter().map(|s| s.uri.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(codes, vec![200]);
    assert_eq!(seen.len(), 1, "went to the configured upstream");
    assert_eq!(seen[0].uri.path(), "/v1/models");
    assert_eq!(
        seen[0].headers["host"],
        upstream.addr.to_string(),
        "Host is the upstream's"
    );

    // Pipelined requests on one connection: answered in order, each forwarded once.
    let one = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
    let last = "GET /v1/models?last=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let codes = statuses(&raw(app.tap, format!("{one}{one}{last}").as_bytes()).await);
    let seen = upstream.take();
    assert_eq!(codes, vec![200, 200, 200]);
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].uri.query(), Some("last=1"));
    still_serves(&app, &upstream).await;
}

/// Read one HTTP/1.1 response with a Content-Length body from `conn`; returns its status.
async fn read_response(conn: &mut TcpStream) -> u16 {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if got.len() >= end + 4 + len {
                return head[9..12].parse().unwrap();
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
            .await
            .expect("a response in time")
            .expect("readable");
        assert!(n > 0, "closed before a whole response: {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn an_upload_cut_short_by_an_early_answer_is_read_to_its_end_and_the_connection_kept() {
    // An upstream that refuses without reading the body (as providers do on a bad key).
    let router = Router::new().fallback(|| async {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            [("content-type", "application/json")],
            r#"{"error":{"message":"bad key","type":"invalid_request_error"}}"#,
        )
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let app = spawn_app_with(TestBus::Memory, |c| c.tap.upstream = url).await;

    const LEN: usize = 8 << 20;
    let mut conn = TcpStream::connect(app.tap).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {LEN}\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 << 10];
    conn.write_all(&chunk).await.unwrap();
    // The upstream's answer, or a 502 when the upstream's own close (with the upload unread) reset
    // its connection before the tap read that answer: an answer before the upload ends, either way.
    let first = read_response(&mut conn).await;
    assert!(first == 401 || first == 502, "{first}");
    // The rest of the upload: without a lingering close, the tap would have closed with unread
    // bytes and these writes would fail (connection reset, broken pipe).
    for _ in 1..LEN / chunk.len() {
        conn.write_all(&chunk)
            .await
            .expect("the tap reads the rest of the upload");
    }
    // Read to its end, the connection serves the next request.
    conn.write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut conn).await, 401, "the same connection");
}
