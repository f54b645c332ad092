//! A real browser for the site's tests: Chromium driven through ChromeDriver's W3C
//! WebDriver protocol (JSON over HTTP on loopback), and axe-core run inside its pages.
//!
//! The programs come from the environment `scripts/test` prepares:
//! `FABRIQUE_TEST_CHROMEDRIVER`, `FABRIQUE_TEST_CHROMIUM` (Debian's chromium-driver and
//! chromium) and `FABRIQUE_TEST_AXE` (axe.min.js from the npm registry). A missing one
//! fails the test with a message saying so. The browser resolves no host name but the
//! loopback: a page that reaches out (map tiles, say) gets nothing, and no test depends
//! on the network.
//!
//! The client speaks the few commands the tests need; each waits for what it looks for
//! (up to [`WAIT`]), since pages load and scripts run asynchronously.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a lookup waits for its element.
pub const WAIT: Duration = Duration::from_secs(15);

/// The reference in a W3C element object (`{"element-6066-…": "id"}`: one key).
fn reference(value: &Value) -> Option<Element> {
    value
        .as_object()?
        .iter()
        .find(|(key, _)| key.starts_with("element-"))
        .and_then(|(_, id)| id.as_str())
        .map(|id| Element(id.to_string()))
}

fn program(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: run the suite with ./scripts/test, which installs Chromium, \
             ChromeDriver and axe-core, or set it yourself"
        )
    })
}

/// A headless Chromium and the ChromeDriver driving it; both stop when dropped.
pub struct Browser {
    driver: tokio::process::Child,
    port: u16,
    session: String,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// An accessibility rule a page breaks, as axe-core reports it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// What the rule asks.
    pub help: String,
    /// The offending elements' selectors.
    pub targets: Vec<String>,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium session (French,
    /// 1280 × 1000).
    pub async fn start() -> Self {
        let driver_path = program("FABRIQUE_TEST_CHROMEDRIVER");
        let chromium = program("FABRIQUE_TEST_CHROMIUM");
        let port = crate::free_port();
        let driver = tokio::process::Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_path}: {e}"));
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok((200, status)) = browser.request("GET", "/status", None).await
                && status["value"]["ready"] == true
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "ChromeDriver ({driver_path}) did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=fr-FR",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
                    ]
                }
            }}
        });
        let created = browser.command("POST", "/session", capabilities).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        browser
    }

    /// Opens `url` and waits for its load.
    pub async fn goto(&self, url: &str) {
        self.session_command("POST", "/url", json!({ "url": url }))
            .await;
    }

    /// The current page's URL.
    pub async fn url(&self) -> String {
        let url = self.session_command("GET", "/url", Value::Null).await;
        url.as_str().unwrap_or_default().to_string()
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (status, found) = self
                .request(
                    "POST",
                    &format!("/session/{}/element", self.session),
                    Some(json!({ "using": "css selector", "value": css })),
                )
                .await
                .unwrap_or_else(|e| panic!("ChromeDriver: {e}"));
            if status == 200
                && let Some(element) = reference(&found["value"])
            {
                return element;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no element matches {css} on {} after {WAIT:?}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every element matching `css` now (no wait).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self
            .session_command(
                "POST",
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found
            .as_array()
            .map(|items| items.iter().filter_map(reference).collect())
            .unwrap_or_default()
    }

    /// Clicks `element` as a person would (scrolled into view first).
    pub async fn click(&self, element: &Element) {
        self.session_command("POST", &format!("/element/{}/click", element.0), json!({}))
            .await;
    }

    /// Clicks the first element matching `css`, finding it again when the page redrew it
    /// between finding and clicking (a map redraws its markers as it settles).
    pub async fn click_on(&self, css: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                let path = format!("/session/{}/element/{}/click", self.session, element.0);
                match self.request("POST", &path, Some(json!({}))).await {
                    Ok((200, _)) => return,
                    Ok((404, reply)) if reply["value"]["error"] == "stale element reference" => {}
                    Ok((status, reply)) => panic!("WebDriver POST {path}: {status} {reply}"),
                    Err(e) => panic!("WebDriver POST {path}: {e}"),
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nothing to click matches {css} after 15 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into `element`.
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.session_command(
            "POST",
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await;
    }

    /// The rendered text of `element`.
    pub async fn text(&self, element: &Element) -> String {
        let text = self
            .session_command("GET", &format!("/element/{}/text", element.0), Value::Null)
            .await;
        text.as_str().unwrap_or_default().to_string()
    }

    /// The rendered text of `element`, or `None` when the page it was found on is gone
    /// (a navigation replaced it between finding and reading: "stale element").
    pub async fn text_now(&self, element: &Element) -> Option<String> {
        let path = format!("/session/{}/element/{}/text", self.session, element.0);
        match self.request("GET", &path, None).await {
            Ok((200, reply)) => Some(reply["value"].as_str().unwrap_or_default().to_string()),
            Ok((404, reply)) if reply["value"]["error"] == "stale element reference" => None,
            Ok((status, reply)) => panic!("WebDriver GET {path}: {status} {reply}"),
            Err(e) => panic!("WebDriver GET {path}: {e}"),
        }
    }

    /// An attribute of `element`, if it has it.
    pub async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        let value = self
            .session_command(
                "GET",
                &format!("/element/{}/attribute/{name}", element.0),
                Value::Null,
            )
            .await;
        value.as_str().map(str::to_string)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.session_command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Runs axe-core on the current page with the WCAG 2.1 A and AA rules, and returns
    /// what it finds `serious` or `critical`.
    pub async fn serious_accessibility_violations(&self) -> Vec<Violation> {
        let path = program("FABRIQUE_TEST_AXE");
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        self.execute(&axe, vec![]).await;
        let result = self
            .session_command(
                "POST",
                "/execute/async",
                json!({
                    "script": "const done = arguments[arguments.length - 1];
                        axe.run(document, { runOnly: { type: 'tag',
                            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                          .then(r => done(r.violations), e => done({ error: String(e) }));",
                    "args": []
                }),
            )
            .await;
        let violations = result
            .as_array()
            .unwrap_or_else(|| panic!("axe-core failed: {result}"));
        violations
            .iter()
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().to_string(),
                impact: v["impact"].as_str().unwrap_or_default().to_string(),
                help: v["help"].as_str().unwrap_or_default().to_string(),
                targets: v["nodes"]
                    .as_array()
                    .map(|nodes| nodes.iter().map(|n| n["target"].to_string()).collect())
                    .unwrap_or_default(),
            })
            .filter(|v| matches!(v.impact.as_str(), "serious" | "critical"))
            .collect()
    }

    /// Saves a PNG of the window, to look at when a test fails.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self
            .session_command("GET", "/screenshot", Value::Null)
            .await;
        let bytes = decode_base64(png.as_str().unwrap_or_default());
        let _ = std::fs::write(path, bytes);
    }

    /// Ends the session; the driver stops when dropped.
    pub async fn quit(mut self) {
        let _ = self
            .request("DELETE", &format!("/session/{}", self.session), None)
            .await;
        let _ = self.driver.kill().await;
    }

    async fn session_command(&self, method: &str, path: &str, body: Value) -> Value {
        self.command(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    /// A command that must succeed: its `value`.
    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let body = (!body.is_null()).then_some(body);
        match self.request(method, path, body).await {
            Ok((200, reply)) => reply["value"].clone(),
            Ok((status, reply)) => panic!("WebDriver {method} {path}: {status} {reply}"),
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    /// One HTTP/1.1 exchange with the driver.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .map_err(|e| e.to_string())?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        // ChromeDriver says `Connection: close` but keeps the connection open: read
        // the head, then exactly `Content-Length` bytes.
        let mut raw = Vec::new();
        let mut buffer = [0u8; 8192];
        let head_end = loop {
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let read = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the driver closed the connection before its answer".into());
            }
            raw.extend_from_slice(&buffer[..read]);
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("no status")?;
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .ok_or("no Content-Length")?;
        let mut body = raw[head_end + 4..].to_vec();
        while body.len() < length {
            let read = stream.read(&mut buffer).await.map_err(|e| e.to_string())?;
            if read == 0 {
                return Err("the driver closed the connection mid-answer".into());
            }
            body.extend_from_slice(&buffer[..read]);
        }
        let body = String::from_utf8_lossy(&body[..length]).to_string();
        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
        Ok((status, value))
    }
}

/// Standard base64 (the screenshots ChromeDriver sends).
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for six in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | u32::from(six);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
