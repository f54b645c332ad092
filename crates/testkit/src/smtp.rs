//! A real SMTP server for the notify tests: aiosmtpd (from PyPI) run by
//! `FABRIQUE_TEST_PYTHON` from `tests/smtp/server.py`, on a free loopback port, with or
//! without AUTH, that a test may stop and restart; and reads of the mail it received,
//! parsed by Python's `email` package (decoded headers and bodies).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::TempDir;

fn python() -> PathBuf {
    std::env::var_os("FABRIQUE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "FABRIQUE_TEST_PYTHON is not set: run the suite with ./scripts/test, which makes a \
                 venv with aiosmtpd, or point it at a Python that has aiosmtpd installed"
            )
        })
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp/server.py")
}

/// One message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub rcpt_tos: Vec<String>,
    /// The message as sent after `DATA` (UTF-8, invalid bytes replaced).
    pub data: String,
    /// Every header in order, unfolded and with RFC 2047 words decoded.
    pub headers: Vec<(String, String)>,
    text: Option<String>,
    html: Option<String>,
}

impl ReceivedMail {
    /// The first header called `name` (any case), unfolded and decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// The decoded text/plain body, with `\n` line breaks; panics when there is none.
    pub fn text_body(&self) -> String {
        self.text
            .clone()
            .unwrap_or_else(|| panic!("the mail has no text/plain part:\n{}", self.data))
    }

    /// The decoded text/html body, with `\n` line breaks; panics when there is none.
    pub fn html_body(&self) -> String {
        self.html
            .clone()
            .unwrap_or_else(|| panic!("the mail has no text/html part:\n{}", self.data))
    }

    fn from_json(line: &str) -> Self {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("bad line in the SMTP mailbox ({e}): {line}"));
        let string = |key: &str| value[key].as_str().map(str::to_string);
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        };
        Self {
            mail_from: string("mail_from").unwrap_or_default(),
            rcpt_tos: strings(&value["rcpt_tos"]),
            data: string("data").unwrap_or_default(),
            headers: value["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|pair| {
                    let pair = strings(pair);
                    (pair[0].clone(), pair[1].clone())
                })
                .collect(),
            text: string("text"),
            html: string("html"),
        }
    }

    fn summary(&self) -> String {
        format!(
            "from {} to {:?}, subject {:?}",
            self.mail_from,
            self.rcpt_tos,
            self.header("Subject").unwrap_or_default()
        )
    }
}

/// An aiosmtpd process of this test alone, killed when dropped.
#[derive(Debug)]
pub struct SmtpServer {
    // Before `dir`: the process goes before the files it writes.
    child: Option<tokio::process::Child>,
    port: u16,
    auth: Option<(String, String)>,
    dir: TempDir,
}

impl SmtpServer {
    /// A server taking mail from anyone.
    pub async fn start() -> Self {
        Self::launch(None).await
    }

    /// A server requiring AUTH PLAIN or LOGIN as `user` with `password`, over plain text.
    pub async fn start_with_auth(user: &str, password: &str) -> Self {
        Self::launch(Some((user.to_string(), password.to_string()))).await
    }

    async fn launch(auth: Option<(String, String)>) -> Self {
        let mut server = Self {
            child: None,
            port: crate::free_port(),
            auth,
            dir: TempDir::new("smtp"),
        };
        server.restart().await;
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://[user:password@]127.0.0.1:PORT`, for lettre's `from_url` (no TLS).
    pub fn url(&self) -> String {
        match &self.auth {
            None => format!("smtp://127.0.0.1:{}", self.port),
            Some((user, password)) => format!(
                "smtp://{}:{}@127.0.0.1:{}",
                percent_encode(user),
                percent_encode(password),
                self.port
            ),
        }
    }

    /// Every message received so far, in order, across restarts.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let text = match std::fs::read_to_string(self.mailbox()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => panic!("cannot read the SMTP mailbox: {e}"),
        };
        // The last line may still be being written: only whole lines count.
        text.split_inclusive('\n')
            .filter(|line| line.ends_with('\n') && !line.trim().is_empty())
            .map(ReceivedMail::from_json)
            .collect()
    }

    /// The messages once there are at least `count`; panics after `timeout` saying
    /// what did arrive.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::Instant::now() >= deadline {
                let arrived: Vec<String> = messages.iter().map(ReceivedMail::summary).collect();
                panic!(
                    "timed out after {timeout:?} waiting for {count} mail(s) on {}; {} arrived:\n  \
                     {}\nserver log:\n{}",
                    self.url(),
                    messages.len(),
                    arrived.join("\n  "),
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server (clients get connection refused); received mail is kept.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Starts it (again) on the same port and mailbox, once it listens.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut command = tokio::process::Command::new(python());
        command
            .arg(script())
            .arg(self.port.to_string())
            .arg(self.mailbox());
        if let Some((user, password)) = &self.auth {
            command.args(["--user", user, "--password", password]);
        }
        let log = std::fs::File::create(self.dir.path().join("server.log"))
            .unwrap_or_else(|e| panic!("cannot create the SMTP server's log: {e}"));
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python().display()));
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim() == "ready" {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        if !ready {
            let _ = child.kill().await;
            panic!(
                "the SMTP server ({}) did not start on port {}; is aiosmtpd installed \
                 (./scripts/test installs tests/interop/requirements.txt)? Its log:\n{}",
                script().display(),
                self.port,
                self.log()
            );
        }
        self.child = Some(child);
    }

    fn mailbox(&self) -> PathBuf {
        self.dir.path().join("mailbox.jsonl")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// `s` with everything but RFC 3986's unreserved characters percent-encoded.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn smtp_url_credentials_are_percent_encoded() {
        assert_eq!(super::percent_encode("a.b-c_d~9"), "a.b-c_d~9");
        assert_eq!(
            super::percent_encode("p@ss:w/rd é"),
            "p%40ss%3Aw%2Frd%20%C3%A9"
        );
    }
}
