//! One-time sign-in links, for the embedded default where no OpenID provider is set up:
//! `fabrique serve` prints one for an admin when it starts (as Jupyter does), and
//! `fabrique login-link --member members/<id>` prints one acting for a member. A link
//! is a JWT signed with the session key (audience `fabrique-web-link`), valid
//! [`LINK_MINUTES`], used once: the process remembers the links it accepted until they
//! expire, and refuses links signed before it started (a restart forgets nothing it
//! should remember). Opening a link shows a button; only pressing it signs in, so a
//! mail scanner that opens links uses none.

use std::collections::HashMap;
use std::sync::Mutex;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// How long a link may wait to be used.
pub const LINK_MINUTES: i64 = 15;

const AUDIENCE: &str = "fabrique-web-link";

/// Whom a link signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkFor {
    /// An admin of the alliance, acting for no member.
    Admin,
    /// A person acting for this member (its UUID).
    Member(String),
}

/// What a link says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Link {
    /// Used once.
    pub jti: String,
    /// Whom it signs in.
    pub whom: LinkFor,
    /// Signed at, seconds since the epoch.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    aud: String,
}

/// Why a link does not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Not signed with this site's key, or malformed.
    Invalid,
    /// Past its [`LINK_MINUTES`].
    Expired,
    /// Used already (or signed before this process started).
    Used,
}

/// A link for `whom`, signed with `key`: the path part after `/connexion/lien/`.
pub fn sign(key: &[u8], whom: LinkFor) -> String {
    let now = chrono::Utc::now().timestamp();
    let link = Link {
        jti: super::random_hex(),
        whom,
        iat: now,
        exp: now + LINK_MINUTES * 60,
        aud: AUDIENCE.to_string(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &link,
        &EncodingKey::from_secret(key),
    )
    .unwrap_or_default()
}

/// The links this process accepted, until they expire.
#[derive(Debug)]
pub struct UsedLinks {
    started: i64,
    used: Mutex<HashMap<String, i64>>,
}

impl Default for UsedLinks {
    fn default() -> Self {
        UsedLinks {
            started: chrono::Utc::now().timestamp(),
            used: Mutex::new(HashMap::new()),
        }
    }
}

impl UsedLinks {
    /// What `token` says, if it may be used now without using it ([`UsedLinks::consume`]
    /// does): for the page that shows the button.
    pub fn check(&self, key: &[u8], token: &str) -> Result<Link, LinkRefusal> {
        let link = decode(key, token)?;
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if link.iat < self.started || used.contains_key(&link.jti) {
            return Err(LinkRefusal::Used);
        }
        Ok(link)
    }

    /// Uses `token`: what it says, once.
    pub fn consume(&self, key: &[u8], token: &str) -> Result<Link, LinkRefusal> {
        let link = decode(key, token)?;
        let now = chrono::Utc::now().timestamp();
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|_, exp| *exp >= now);
        if link.iat < self.started || used.contains_key(&link.jti) {
            return Err(LinkRefusal::Used);
        }
        used.insert(link.jti.clone(), link.exp);
        Ok(link)
    }
}

fn decode(key: &[u8], token: &str) -> Result<Link, LinkRefusal> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Link>(token, &DecodingKey::from_secret(key), &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => LinkRefusal::Expired,
            _ => LinkRefusal::Invalid,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_once_then_never() {
        let (key, other) = ([3u8; 32], [4u8; 32]);
        let used = UsedLinks::default();
        let token = sign(&key, LinkFor::Member("m1".into()));
        assert_eq!(
            used.check(&key, &token).map(|l| l.whom),
            Ok(LinkFor::Member("m1".into()))
        );
        assert_eq!(used.check(&other, &token).err(), Some(LinkRefusal::Invalid));
        assert!(used.consume(&key, &token).is_ok());
        assert_eq!(used.consume(&key, &token).err(), Some(LinkRefusal::Used));
        assert_eq!(used.check(&key, &token).err(), Some(LinkRefusal::Used));
        assert_eq!(
            used.check(&key, "pas-un-lien").err(),
            Some(LinkRefusal::Invalid)
        );

        // Signed before this process started: another run's link.
        let later = UsedLinks {
            started: chrono::Utc::now().timestamp() + 10,
            used: Mutex::new(HashMap::new()),
        };
        let admin = sign(&key, LinkFor::Admin);
        assert_eq!(later.consume(&key, &admin).err(), Some(LinkRefusal::Used));

        let now = chrono::Utc::now().timestamp();
        let stale = Link {
            jti: "x".into(),
            whom: LinkFor::Admin,
            iat: now - 3600,
            exp: now - 60,
            aud: AUDIENCE.into(),
        };
        let stale = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &stale,
            &EncodingKey::from_secret(&key),
        )
        .unwrap_or_default();
        assert_eq!(used.consume(&key, &stale).err(), Some(LinkRefusal::Expired));
    }
}
