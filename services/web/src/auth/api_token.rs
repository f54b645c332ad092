//! The tokens the site calls the API with for a signed-in person: valid
//! [`TOKEN_MINUTES`], for the member the person acts for (`sub`: its id, role
//! `member`) or, for an admin acting for no member, for the person as an admin; the
//! person in `act.sub` either way. Signed with the services' shared secret (HS256: the
//! embedded default, one process) or with a private key whose public half the services
//! trust (`FABRIQUE_WEB_SIGNING_KEY`: EdDSA, ES256 or RS256), with the issuer and
//! audience the services check.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::Session;

/// How long a token the site signs lasts: a page's calls, not a session.
pub const TOKEN_MINUTES: i64 = 5;

/// Signs the site's API tokens.
#[derive(Clone)]
pub struct ApiSigner {
    algorithm: Algorithm,
    key: Arc<EncodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

#[derive(Serialize)]
struct Actor<'a> {
    sub: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    roles: Vec<&'a str>,
    exp: i64,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    act: Actor<'a>,
}

impl ApiSigner {
    /// Signing with the services' shared secret.
    pub fn hs256(secret: String, issuer: Option<String>, audience: Option<String>) -> Self {
        ApiSigner {
            algorithm: Algorithm::HS256,
            key: Arc::new(EncodingKey::from_secret(secret.as_bytes())),
            issuer,
            audience,
        }
    }

    /// Signing with a PEM private key: Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256).
    pub fn from_pem(
        pem: &[u8],
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<Self, String> {
        type Parse = fn(&[u8]) -> jsonwebtoken::errors::Result<EncodingKey>;
        let candidates: [(Algorithm, Parse); 3] = [
            (Algorithm::EdDSA, EncodingKey::from_ed_pem),
            (Algorithm::ES256, EncodingKey::from_ec_pem),
            (Algorithm::RS256, EncodingKey::from_rsa_pem),
        ];
        candidates
            .into_iter()
            .find_map(|(algorithm, parse)| {
                parse(pem).ok().map(|key| ApiSigner {
                    algorithm,
                    key: Arc::new(key),
                    issuer: issuer.clone(),
                    audience: audience.clone(),
                })
            })
            .ok_or_else(|| "not a PEM Ed25519, P-256 or RSA private key".to_string())
    }

    /// The site's own token for `person`'s sign-in: an admin's, to find the members
    /// whose contact the person is (only admins may search contacts' e-mails), naming
    /// the person. Never given to a page.
    pub fn lookup_token(&self, person: &str) -> Option<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: "fabrique-web",
            roles: vec!["admin"],
            exp: now + 60,
            iat: now,
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
            act: Actor { sub: person },
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key).ok()
    }

    /// A token for `session`'s person as an inhabitant taking part in citizen
    /// participation (role `citizen`, `sub` their id at the OpenID provider). `None` for
    /// a session opened by a one-time link: those sign in a member's officer or an
    /// admin, never a person the provider vouched for.
    pub fn citizen_token(&self, session: &Session) -> Option<String> {
        if !session.sub.starts_with("oidc:") {
            return None;
        }
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: &session.sub,
            roles: vec!["citizen"],
            exp: now + TOKEN_MINUTES * 60,
            iat: now,
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
            act: Actor { sub: &session.sub },
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key).ok()
    }

    /// A token for what `session` may do now: as the member it acts for, else as an
    /// admin if it is one. `None` for a person who may do neither.
    pub fn token_for(&self, session: &Session) -> Option<String> {
        let (sub, role) = match (&session.acting, session.admin) {
            (Some(member), _) => (member.as_str(), "member"),
            (None, true) => (session.sub.as_str(), "admin"),
            (None, false) => return None,
        };
        let mut roles = vec![role];
        if session.admin && role == "member" {
            roles.push("admin");
        }
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub,
            roles,
            exp: now + TOKEN_MINUTES * 60,
            iat: now,
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
            act: Actor { sub: &session.sub },
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn only_a_person_the_provider_vouched_for_takes_part_as_a_citizen() {
        let secret = "s".repeat(32);
        let signer = ApiSigner::hs256(secret.clone(), None, None);
        let person = Session::new("oidc:42".into(), "Camille".into(), false, Vec::new());
        let token = signer.citizen_token(&person).expect("a citizen token");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation,
        )
        .expect("signed with the secret")
        .claims;
        assert_eq!(claims["sub"], "oidc:42");
        assert_eq!(claims["roles"], serde_json::json!(["citizen"]));
        assert_eq!(claims["act"]["sub"], "oidc:42");
        let officer = Session::new("lien:members/m1".into(), "Thiers".into(), false, Vec::new());
        assert!(signer.citizen_token(&officer).is_none(), "a one-time link");
    }
}
