//! A plain HTTP/1.1 client for the web site's tests: one GET on a fresh connection, the
//! way a browser's first request looks, with nothing between the test and the server.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response as the site sent it.
pub struct Page {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked (UTF-8, lossily for binary files).
    pub body: String,
    /// The body's bytes as received (images, or to compare with a file).
    pub bytes: Vec<u8>,
}

impl Page {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body with its no-break spaces read as plain ones, as a person reads them.
    pub fn text(&self) -> String {
        self.body.replace(['\u{202F}', '\u{A0}'], " ")
    }
}

/// `GET path` on `site` over HTTP/1.1, as a browser would ask it.
pub async fn get(site: std::net::SocketAddr, path: &str) -> Page {
    let mut stream = tokio::net::TcpStream::connect(site).await.expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {site}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head and a body");
    let head = std::str::from_utf8(&raw[..end]).expect("a UTF-8 head");
    let bytes = raw[end + 4..].to_vec();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { dechunk(&body) } else { body };
    Page {
        status,
        headers,
        body,
        bytes,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}
