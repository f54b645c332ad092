//! The claims of a Fabrique token, and how `fabrique token`, tests and tools sign one
//! with the HS256 secret.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// The claims Fabrique reads and writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The principal: a member id, or another name such as an operator's.
    pub sub: String,
    /// `admin`, `member`, `citizen`; others are ignored.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Expiry, in seconds since the epoch; required.
    pub exp: i64,
    /// Issued at, in seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not before, in seconds since the epoch; checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issuer; checked when `FABRIQUE_JWT_ISSUER` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience; checked when `FABRIQUE_JWT_AUDIENCE` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The person acting for `sub` (RFC 8693's actor claim): the site's tokens name who
    /// signed in; the events of the call say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<ActorClaim>,
}

/// RFC 8693 `act`: who acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorClaim {
    /// The person's id: pseudonymous, never an e-mail.
    pub sub: String,
}

/// Signs a token (for `fabrique token`, tests and tools).
pub fn mint(secret: &Secret, claims: &Claims) -> Result<String, String> {
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).map_err(|e| e.to_string())
}

/// Claims for `sub` with `roles`, valid for `ttl`.
pub fn claims(sub: impl Into<String>, roles: &[&str], ttl: chrono::Duration) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        exp: now + ttl.num_seconds(),
        iat: Some(now),
        nbf: None,
        iss: None,
        aud: None,
        act: None,
    }
}
