//! Who is signed in, and how the site acts for them. A person signs in (with the
//! OpenID provider the operator configures, or a one-time link on the embedded
//! default) and gets a session: a cookie holding a signed, short
//! list of who they are, whether they are an admin, the members they may act for and
//! the one they act for now. The site keeps nothing: any replica reads any session.
//!
//! To call the API for a person, the site signs a token of a few minutes for the member
//! they act for (or an admin token), naming the person in RFC 8693's `act` claim: the
//! services check it like any token, and every event of the call names the person
//! (docs/security.md).
//!
//! Rooms: [`session`] (the cookie, its CSRF secret), [`oidc`] (an OpenID provider),
//! [`link`] (one-time sign-in links), [`limit`] (sign-in attempts per address),
//! [`api_token`] (the tokens the site signs), [`http_client`] (its calls to the
//! provider).

pub mod api_token;
pub mod http_client;
pub mod limit;
pub mod link;
pub mod oidc;
pub mod session;

use std::sync::Arc;

use sha2::{Digest, Sha256};

pub use api_token::ApiSigner;
pub use session::Session;

/// How people sign in and how the site signs for them. Without it the site is
/// read-only: its account pages say that sign-in is not configured.
#[derive(Clone)]
pub struct SignIn {
    /// The site's address as people reach it (`https://fabrique.example.org`): links
    /// and the session cookie's `Secure` flag follow it.
    pub public_url: String,
    /// Signs the session cookies and the one-time links (32 bytes or more).
    pub session_key: Arc<Vec<u8>>,
    /// Signs the tokens the site calls the API with.
    pub api: ApiSigner,
    /// One-time links used by this process (and the time it started: links signed
    /// before were for another run, and are refused).
    pub links: Arc<link::UsedLinks>,
    /// Sign-in attempts per address.
    pub limiter: Arc<limit::Limiter>,
    /// The OpenID provider people sign in with, if configured (else one-time links).
    pub oidc: Option<Arc<oidc::Oidc>>,
}

impl SignIn {
    /// Sign-in for the site at `public_url`, sessions signed with `session_key`, API
    /// tokens with `api`.
    pub fn new(public_url: &str, session_key: Vec<u8>, api: ApiSigner) -> Self {
        SignIn {
            public_url: public_url.trim_end_matches('/').to_string(),
            session_key: Arc::new(session_key),
            api,
            links: Arc::new(link::UsedLinks::default()),
            limiter: Arc::new(limit::Limiter::new(limit::ATTEMPTS_PER_MINUTE)),
            oidc: None,
        }
    }

    /// The same, people signing in with the provider of `config`.
    pub fn with_oidc(mut self, config: oidc::OidcConfig) -> Self {
        self.oidc = Some(Arc::new(oidc::Oidc::new(config)));
        self
    }

    /// Whether the site is served over HTTPS (then cookies are `Secure`, `__Host-`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// A session key derived from the services' shared secret, for the embedded default
/// where one process holds both: the label keeps a session from ever being a token.
pub fn derived_session_key(jwt_secret: &str) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(b"fabrique-web-session-key\0");
    hash.update(jwt_secret.as_bytes());
    hash.finalize().to_vec()
}

/// 40 hex characters, about 150 bits from the OS (two UUIDv4): CSRF secrets, link ids.
pub fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string()[..8]
}

/// `a == b` in a time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_secrets() {
        assert_eq!(derived_session_key("s").len(), 32);
        assert_ne!(derived_session_key("s"), derived_session_key("t"));
        let (a, b) = (random_hex(), random_hex());
        assert_eq!(a.len(), 40);
        assert_ne!(a, b);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same("abc", "abcd"));
    }
}
