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

    /// The `name=value` part of the `Set-Cookie` header, as a browser sends it back.
    pub fn cookie(&self) -> Option<String> {
        self.header("set-cookie")
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
    }

    /// The body with its no-break spaces read as plain ones, as a person reads them.
    pub fn text(&self) -> String {
        self.body.replace(['\u{202F}', '\u{A0}'], " ")
    }

    /// [`Page::text`] with the characters templates escape read as themselves
    /// (`&#39;` is an apostrophe).
    pub fn words(&self) -> String {
        self.text()
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
}

/// `GET path` on `site` over HTTP/1.1, as a browser would ask it.
pub async fn get(site: std::net::SocketAddr, path: &str) -> Page {
    request(site, "GET", path, &[], "").await
}

/// `GET path` with the `Cookie` header `cookie` (e.g. `name=value`).
pub async fn get_with_cookie(site: std::net::SocketAddr, path: &str, cookie: &str) -> Page {
    request(site, "GET", path, &[("Cookie", cookie)], "").await
}

/// `POST path` of the form `fields` (URL-encoded), with extra `headers` (a cookie, the
/// `Origin` or `Sec-Fetch-Site` a browser sends).
pub async fn post_form(
    site: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Page {
    let body: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{key}={}", form_encode(value)))
        .collect();
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    request(site, "POST", path, &all, &body.join("&")).await
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One request on a fresh connection.
pub async fn request(
    site: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Page {
    let mut stream = tokio::net::TcpStream::connect(site).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {site}\r\nAccept: text/html\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
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
