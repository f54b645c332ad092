//! The session cookie: who is signed in, as a JWT the site signs with its session key
//! (HS256, audience `fabrique-web-session`, so that it is never taken for an API token).
//! It is `HttpOnly` (no script reads it), `SameSite=Lax` (another site's forms do not
//! carry it), `Secure` with the `__Host-` prefix over HTTPS, and expires after
//! [`SESSION_HOURS`]. Its `csrf` secret goes in every form the person submits.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::SignIn;

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 8;

/// The audience of session cookies.
const AUDIENCE: &str = "fabrique-web-session";

/// A member a person may act for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The member's id (UUID).
    pub id: String,
    /// Its name, as shown.
    pub name: String,
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The person: pseudonymous (`lien:admin`, an OpenID `sub`), never an e-mail.
    pub sub: String,
    /// How the person is greeted.
    pub name: String,
    /// Whether they administer the alliance.
    pub admin: bool,
    /// The members they may act for.
    pub members: Vec<Membership>,
    /// The member they act for now, one of `members`.
    pub acting: Option<String>,
    /// The secret every form of theirs carries.
    pub csrf: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// The person's e-mail as their OpenID provider verified it (the page of their
    /// e-mail settings shows it first); none for a one-time link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    aud: String,
}

impl Session {
    /// A new session for `sub`, acting for the first of `members` if any.
    pub fn new(sub: String, name: String, admin: bool, members: Vec<Membership>) -> Self {
        Session {
            acting: members.first().map(|m| m.id.clone()),
            sub,
            name,
            admin,
            members,
            csrf: super::random_hex(),
            exp: chrono::Utc::now().timestamp() + SESSION_HOURS * 3600,
            email: None,
            aud: AUDIENCE.to_string(),
        }
    }

    /// The same session, with the person's verified e-mail.
    pub fn with_email(mut self, email: Option<String>) -> Self {
        self.email = email;
        self
    }

    /// The member acted for, with its name.
    pub fn acting_member(&self) -> Option<&Membership> {
        let acting = self.acting.as_ref()?;
        self.members.iter().find(|m| &m.id == acting)
    }

    /// The cookie's name: `__Host-` prefixed over HTTPS (no subdomain can set it).
    pub fn cookie_name(sign_in: &SignIn) -> &'static str {
        if sign_in.is_https() {
            "__Host-fabrique_session"
        } else {
            "fabrique_session"
        }
    }

    /// The `Set-Cookie` value that stores this session.
    pub fn set_cookie(&self, sign_in: &SignIn) -> String {
        let value = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            self,
            &EncodingKey::from_secret(&sign_in.session_key),
        )
        .unwrap_or_default();
        cookie(sign_in, &value, SESSION_HOURS * 3600)
    }

    /// The `Set-Cookie` value that ends any session.
    pub fn clear_cookie(sign_in: &SignIn) -> String {
        cookie(sign_in, "", 0)
    }

    /// The session a request's `Cookie` header holds, if valid and current.
    pub fn from_cookies(sign_in: &SignIn, header: Option<&str>) -> Option<Session> {
        let name = Self::cookie_name(sign_in);
        let value = header?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 0;
        jsonwebtoken::decode::<Session>(
            value,
            &DecodingKey::from_secret(&sign_in.session_key),
            &validation,
        )
        .ok()
        .map(|data| data.claims)
    }
}

fn cookie(sign_in: &SignIn, value: &str, max_age: i64) -> String {
    let secure = if sign_in.is_https() { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        Session::cookie_name(sign_in)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ApiSigner;

    fn sign_in(url: &str, key: &[u8]) -> SignIn {
        SignIn::new(
            url,
            key.to_vec(),
            ApiSigner::hs256("x".repeat(32), None, None),
        )
    }

    #[test]
    fn a_session_reads_back_only_with_its_key_and_name() {
        let site = sign_in("http://127.0.0.1:8080", &[7; 32]);
        let session = Session::new(
            "lien:admin".into(),
            "Administrateur".into(),
            true,
            vec![Membership {
                id: "m1".into(),
                name: "Thiers".into(),
            }],
        );
        assert_eq!(session.acting.as_deref(), Some("m1"));
        let set = session.set_cookie(&site);
        assert!(set.starts_with("fabrique_session="), "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        assert!(!set.contains("Secure"), "{set}");
        let value = set.split(';').next().unwrap_or_default();
        let header = format!("autre=1; {value}");
        assert_eq!(
            Session::from_cookies(&site, Some(&header)),
            Some(session.clone())
        );

        let other = sign_in("http://127.0.0.1:8080", &[8; 32]);
        assert_eq!(
            Session::from_cookies(&other, Some(&header)),
            None,
            "another key"
        );
        let https = sign_in("https://fabrique.example.org", &[7; 32]);
        assert!(
            session
                .set_cookie(&https)
                .starts_with("__Host-fabrique_session=")
        );
        assert!(session.set_cookie(&https).contains("; Secure"));
        assert_eq!(
            Session::from_cookies(&https, Some(&header)),
            None,
            "another name"
        );

        let mut tampered = value.to_string();
        tampered.replace_range(tampered.len() - 3.., "AAA");
        assert_eq!(Session::from_cookies(&site, Some(&tampered)), None);
        let mut expired = session;
        expired.exp = chrono::Utc::now().timestamp() - 1;
        let stale = expired.set_cookie(&site);
        let stale = stale.split(';').next().unwrap_or_default();
        assert_eq!(Session::from_cookies(&site, Some(stale)), None, "expired");
        assert!(Session::clear_cookie(&site).contains("Max-Age=0"));
    }
}
