//! A JWT secret written anywhere in this repository is public: the services refuse to
//! start with one. The scan below finds every secret the repository writes (manifests,
//! docs, scripts, tests) and fails unless `config::check_jwt_secret` refuses it, so a new
//! example or test secret cannot slip into a deployment unnoticed.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fabrique_platform::config::{Secret, check_jwt_secret};
use regex::Regex;

const BIN: &str = env!("CARGO_BIN_EXE_fabrique");

/// The ways the repository writes a JWT secret: YAML keys, environment assignments,
/// flags, `Secret::new("…")` and `SECRET` constants.
fn patterns() -> Vec<Regex> {
    [
        r#"jwt[-_]secret\s*[:=]\s*["']?([^\s"'$(]+)"#,
        r#"FABRIQUE_JWT_SECRET\s*[:=]\s*["']?([^\s"'$(]+)"#,
        r#""FABRIQUE_JWT_SECRET"\s*,\s*"([^"]+)""#,
        r#"--jwt-secret[=\s]+["']?([^\s"'$(]+)"#,
        r#""--jwt-secret"\s*,\s*"([^"]+)""#,
        r#"Secret::new\(\s*"([^"]+)""#,
        r#"SECRET\s*(?::\s*&str)?\s*=\s*["']([^"']+)["']"#,
    ]
    .iter()
    .map(|p| Regex::new(p).expect("a valid pattern"))
    .collect()
}

/// Each way of writing a secret is seen.
#[test]
fn the_scan_sees_each_way_of_writing_a_secret() {
    // Built at run time: a literal here would be a secret written in the repository.
    let secret = |n: usize| format!("{}{n}", "a".repeat(36));
    let sample = [
        format!("  jwt-secret: {}", secret(1)),
        format!("FABRIQUE_JWT_SECRET={} fabrique serve", secret(2)),
        format!(r#".env("FABRIQUE_JWT_SECRET", "{}")"#, secret(3)),
        format!("fabrique serve --jwt-secret '{}'", secret(4)),
        format!(r#".args(["--jwt-secret", "{}"])"#, secret(5)),
        format!(r#"jwt_secret: Some(Secret::new("{}")),"#, secret(6)),
        format!(r#"pub const SECRET: &str = "{}";"#, secret(7)),
        format!(r#"SECRET="{}""#, secret(8)),
    ];
    let patterns = patterns();
    for (i, line) in sample.iter().enumerate() {
        let wanted = secret(i + 1);
        assert!(
            patterns
                .iter()
                .flat_map(|p| p.captures_iter(line))
                .any(|c| c[1] == wanted),
            "not seen: {line}"
        );
    }
}

/// Every secret-looking value the tracked files write, with where: shorter than 32
/// bytes (refused anyway) and placeholders (`…`, `<…>`, `${…}`) left out.
fn written_secrets(root: &Path) -> Vec<(String, String)> {
    let listed = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .expect("git ls-files runs");
    assert!(listed.status.success(), "git ls-files failed");
    let patterns = patterns();
    let mut found = Vec::new();
    for path in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path).to_string();
        let Ok(text) = std::fs::read_to_string(root.join(&path)) else {
            continue; // binary, or removed from the work tree
        };
        for (number, line) in text.lines().enumerate() {
            for pattern in &patterns {
                for captures in pattern.captures_iter(line) {
                    let value = &captures[1];
                    if value.len() >= 32
                        && !value.contains(['…', '<', '{', '$'])
                        && !value.contains("...")
                    {
                        found.push((format!("{path}:{}", number + 1), value.to_string()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_secret_written_in_the_repository_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = written_secrets(root);
    assert!(
        !found.is_empty(),
        "the scan found no secret at all, not even the unit tests' ones"
    );
    let accepted: Vec<_> = found
        .iter()
        .filter(|(_, value)| check_jwt_secret(&Secret::new(value.as_str())).is_ok())
        .collect();
    assert!(
        accepted.is_empty(),
        "secrets written in the repository that a service would accept (add them to \
         PUBLISHED_JWT_SECRETS, or generate them at run time): {accepted:#?}"
    );
}

#[tokio::test]
async fn serve_refuses_the_example_secret_and_says_why() {
    for secret in [
        "example-jwt-secret-change-me-0123456789abcdef",
        "test-secret-test-secret-test-secret-0123",
    ] {
        let run = tokio::process::Command::new(BIN)
            .args(["serve", "--services", "members", "--listen", "127.0.0.1:0"])
            .env_clear()
            .env(
                "FABRIQUE_DATABASE_URL",
                "postgres://nobody@127.0.0.1:1/none",
            )
            .env("FABRIQUE_NATS_URL", "nats://127.0.0.1:1")
            .env("FABRIQUE_JWT_SECRET", secret)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("it stops at once")
            .expect("fabrique runs");
        assert!(!output.status.success(), "{secret} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("FABRIQUE_JWT_SECRET is a value published"),
            "{stderr}"
        );
        assert!(!stderr.contains(secret), "the error repeats the secret");
    }
}
