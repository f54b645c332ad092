//! A real OpenID Connect provider for the site's sign-in tests: node-oidc-provider (the
//! OpenID Certified package, from the npm registry) run with Node from
//! `tests/oidc/provider.mjs`, on a free loopback port, with the accounts a test gives.
//! `FABRIQUE_TEST_NODE` names Node and `FABRIQUE_TEST_OIDC_PROVIDER` the script
//! (`scripts/test` installs its packages); a missing one fails the test saying so.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

/// An account the provider knows: the login typed on its page, and the claims it gives.
#[derive(Debug, Clone)]
pub struct Account {
    /// What the person types as their login (it is also their `sub`).
    pub login: String,
    /// Their e-mail.
    pub email: String,
    /// Whether the provider vouches for the e-mail.
    pub email_verified: bool,
    /// Their name.
    pub name: String,
    /// A `roles` claim.
    pub roles: Vec<String>,
}

/// The provider, stopped when dropped.
pub struct OidcProvider {
    /// Its issuer URL, `http://127.0.0.1:<port>`.
    pub issuer: String,
    _process: tokio::process::Child,
}

impl OidcProvider {
    /// Starts a provider with one confidential client (`client_id`, `client_secret`)
    /// redirecting to `redirect_uri`, and `accounts`.
    pub async fn start(
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        accounts: &[Account],
    ) -> Self {
        let variable = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the suite with ./scripts/test, which installs the OpenID provider")
            })
        };
        let (node, script) = (
            variable("FABRIQUE_TEST_NODE"),
            variable("FABRIQUE_TEST_OIDC_PROVIDER"),
        );
        let accounts: serde_json::Map<String, serde_json::Value> = accounts
            .iter()
            .map(|a| {
                (
                    a.login.clone(),
                    serde_json::json!({
                        "email": a.email,
                        "email_verified": a.email_verified,
                        "name": a.name,
                        "roles": a.roles,
                    }),
                )
            })
            .collect();
        let port = crate::free_port();
        let mut process = tokio::process::Command::new(&node)
            .arg(&script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_ID", client_id)
            .env("OIDC_CLIENT_SECRET", client_secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .env(
                "OIDC_ACCOUNTS",
                serde_json::Value::Object(accounts).to_string(),
            )
            .env("NODE_ENV", "test")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {node} {script}: {e}"));
        let stdout = process.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    return Some(issuer.to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the OpenID provider ({script}) did not start"));
        // Keep reading, so that its output never blocks it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        OidcProvider {
            issuer,
            _process: process,
        }
    }
}
