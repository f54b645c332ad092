//! The site's client: HTTP/1.1 GETs and form POSTs over keep-alive connections (hyper's connection
//! API, `TCP_NODELAY` as a browser sets it). HTTP/1.1 carries one request at a time per
//! connection, so a connection is taken from the idle ones for each request (or opened
//! when none is idle) and put back once its answer is read: as many connections as
//! requests in flight, each kept for the whole run, as a browser or a reverse proxy
//! keeps them.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// What a request came back with.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub headers: hyper::HeaderMap,
}

impl Answer {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Keep-alive connections to one HTTP/1.1 server.
pub struct HttpPool {
    address: SocketAddr,
    host: String,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl std::fmt::Debug for HttpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpPool")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl HttpPool {
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            host: address.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Connections open and idle now.
    pub fn idle(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// An idle connection ready for a request, or a new one.
    async fn connection(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        loop {
            let Some(mut sender) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) else {
                break;
            };
            // A connection the server closed meanwhile is dropped.
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
        let stream = tokio::net::TcpStream::connect(self.address)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// `GET path_and_query`, its whole body read. The connection goes back to the idle
    /// ones when the answer was read to its end; on any failure it is dropped (closed).
    pub async fn get(&self, path_and_query: &str) -> Result<Answer, String> {
        self.send("GET", path_and_query, &[], Bytes::new()).await
    }

    /// `GET path_and_query` with `headers` (a session's cookie).
    pub async fn get_with(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        self.send("GET", path_and_query, headers, Bytes::new())
            .await
    }

    /// `POST path` of a URL-encoded form `fields`, with `headers` (the session's cookie,
    /// the `Sec-Fetch-Site` a browser sends).
    pub async fn post_form(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let body: Vec<String> = fields
            .iter()
            .map(|(key, value)| format!("{key}={}", form_encode(value)))
            .collect();
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, Bytes::from(body.join("&")))
            .await
    }

    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Answer, String> {
        let mut sender = self.connection().await?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(hyper::header::HOST, &self.host);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(sender);
        }
        Ok(Answer {
            status,
            body,
            headers,
        })
    }

    /// Polls `path` every 2 ms until it answers 200, for up to `timeout`.
    pub async fn wait_ok(&self, path: &str, timeout: Duration) -> Result<(), String> {
        let began = tokio::time::Instant::now();
        loop {
            let last = match self.get(path).await {
                Ok(answer) if answer.status == 200 => return Ok(()),
                Ok(answer) => format!("status {}", answer.status),
                Err(error) => error,
            };
            if began.elapsed() > timeout {
                return Err(format!(
                    "{path} on {} not 200 within {timeout:?}: {last}",
                    self.address
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// `application/x-www-form-urlencoded` escaping of one value.
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every request on a connection with the same small body,
    /// and counts the connections it accepted.
    async fn server() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 4096];
                    let mut pending = Vec::new();
                    loop {
                        let Ok(n) = stream.read(&mut buffer).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buffer[..n]);
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
                            if stream.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (address, accepted)
    }

    #[tokio::test]
    async fn requests_one_after_another_share_one_connection() {
        let (address, accepted) = server().await;
        let pool = HttpPool::new(address);
        for _ in 0..20 {
            let answer = pool.get("/lieux").await.expect("an answer");
            assert_eq!((answer.status, &answer.body[..]), (200, &b"hello"[..]));
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(pool.idle(), 1);
        // Requests in flight together each need a connection of their own.
        let pool = std::sync::Arc::new(pool);
        let together: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.get("/").await })
            })
            .collect();
        for request in together {
            assert_eq!(request.await.expect("joined").expect("ok").status, 200);
        }
        let opened = accepted.load(std::sync::atomic::Ordering::Relaxed);
        assert!((1..=4).contains(&opened), "{opened}");
        assert_eq!(pool.idle(), opened);
    }
}
