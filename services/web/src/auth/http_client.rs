//! The site's few outgoing HTTP requests, to the OpenID provider only (discovery, keys,
//! tokens, user info): HTTP/1.1 over rustls with the Mozilla root certificates, or plain
//! HTTP for a provider on loopback (tests, a provider beside the site). Answers are
//! JSON, at most [`MAX_BODY`] bytes, within [`TIMEOUT`].

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// The longest answer read.
pub const MAX_BODY: usize = 1 << 20;

/// How long a request may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// `GET url`, with `bearer` as its token if given: the JSON answer.
pub async fn get_json(url: &str, bearer: Option<&str>) -> Result<Value, String> {
    let mut headers = Vec::new();
    if let Some(token) = bearer {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    send("GET", url, headers, Vec::new()).await
}

/// `POST url` of the form `fields`, with HTTP Basic `credentials` if given.
pub async fn post_form(
    url: &str,
    fields: &[(&str, &str)],
    credentials: Option<(&str, &str)>,
) -> Result<Value, String> {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let mut headers = vec![(
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    )];
    if let Some((user, password)) = credentials {
        // RFC 6749 2.3.1: each part form-encoded before Basic.
        let pair = format!("{}:{}", encode(user), encode(password));
        headers.push((
            "authorization",
            format!("Basic {}", base64(pair.as_bytes())),
        ));
    }
    send("POST", url, headers, body.join("&").into_bytes()).await
}

async fn send(
    method: &str,
    url: &str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> Result<Value, String> {
    tokio::time::timeout(TIMEOUT, exchange(method, url, headers, body))
        .await
        .map_err(|_| format!("{url}: no answer within {TIMEOUT:?}"))?
}

async fn exchange(
    method: &str,
    url: &str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> Result<Value, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let host = uri
        .host()
        .ok_or_else(|| format!("{url}: no host"))?
        .to_string();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(format!("{url}: not http(s)")),
    };
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let mut request = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", uri.authority().map(|a| a.as_str()).unwrap_or(&host))
        .header("accept", "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = if https {
        let name = rustls_pki_name(&host)?;
        let tls = tls_connector()
            .connect(name, tcp)
            .await
            .map_err(|e| format!("{url}: TLS: {e}"))?;
        round_trip(TokioIo::new(tls), request).await
    } else {
        round_trip(TokioIo::new(tcp), request).await
    }
    .map_err(|e| format!("{url}: {e}"))?;
    let (status, bytes) = response;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{url}: answer {status} is not JSON: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("{url}: {status} {value}"));
    }
    Ok(value)
}

async fn round_trip<T>(io: T, request: Request<Full<Bytes>>) -> Result<(u16, Vec<u8>), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let limited = http_body_util::Limited::new(response.into_body(), MAX_BODY);
    let bytes = limited
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    Ok((status, bytes.to_vec()))
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: std::sync::OnceLock<Arc<tokio_rustls::rustls::ClientConfig>> =
        std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = tokio_rustls::rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Arc::new(
            tokio_rustls::rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

fn rustls_pki_name(
    host: &str,
) -> Result<tokio_rustls::rustls::pki_types::ServerName<'static>, String> {
    tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host}: {e}"))
}

/// `application/x-www-form-urlencoded` of one value (spaces as `%20`): form fields and
/// query parameters.
pub(crate) fn encode(value: &str) -> String {
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

/// Standard base64 with padding (HTTP Basic).
fn base64(bytes: &[u8]) -> String {
    base64_with(
        bytes,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        true,
    )
}

/// Base64url without padding (PKCE's challenge).
pub(crate) fn base64url(bytes: &[u8]) -> String {
    base64_with(
        bytes,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        false,
    )
}

fn base64_with(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_basic_credentials_are_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(base64(b"fabrique:s3cret"), "ZmFicmlxdWU6czNjcmV0");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
