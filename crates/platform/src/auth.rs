//! Authentication: bearer JWTs (HS256, algorithm pinned; `exp` required, `nbf`, `iss`
//! and `aud` checked when configured) turned into a [`Caller`] that handlers read from
//! the request. The claims are `sub` (the member id the token acts for, or another
//! principal such as an operator) and `roles` (`admin`, `member`).
//!
//! `--insecure-dev-auth` (embedded default only) lets a call without a token act as an
//! admin; a call with a token is still verified.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::{Request, Status};
use uuid::Uuid;

use crate::config::{AuthSettings, Secret};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
}

/// Who is calling, established by the interceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`.
    pub subject: String,
    /// The member the caller acts for, when `sub` is a member id.
    pub member_id: Option<Uuid>,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether the caller acts for this member.
    pub fn is_member(&self, member: Uuid) -> bool {
        self.member_id == Some(member) && self.roles.contains(&Role::Member)
    }

    /// Admin, or acting for `member`.
    pub fn require_admin_or_member(&self, member: Uuid, action: &str) -> Result<(), Error> {
        if self.is_admin() || self.is_member(member) {
            Ok(())
        } else {
            Err(Error::permission_denied(format!(
                "only an admin or the member itself may {action}"
            )))
        }
    }

    pub fn require_admin(&self, action: &str) -> Result<(), Error> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::permission_denied(format!(
                "only an admin may {action}"
            )))
        }
    }

    fn dev() -> Self {
        Self {
            subject: "insecure-dev-auth".into(),
            member_id: None,
            roles: vec![Role::Admin],
        }
    }
}

/// The claims Fabrique reads and writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
    insecure_dev: bool,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("insecure_dev", &self.insecure_dev)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(settings: &AuthSettings) -> Result<Self, String> {
        let key = DecodingKey::from_secret(settings.jwt_secret.expose().as_bytes());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_nbf = true;
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &settings.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &settings.issuer {
            validation.set_issuer(&[issuer]);
        }
        Ok(Self {
            key,
            validation,
            insecure_dev: settings.insecure_dev,
        })
    }

    /// The caller of a request, from its `authorization` metadata.
    pub fn authenticate(&self, metadata: &tonic::metadata::MetadataMap) -> Result<Caller, Status> {
        let header = match metadata.get("authorization") {
            Some(value) => value
                .to_str()
                .map_err(|_| Status::unauthenticated("the authorization header is not text"))?,
            None if self.insecure_dev => return Ok(Caller::dev()),
            None => {
                return Err(Status::unauthenticated(
                    "missing bearer token: send `authorization: Bearer <JWT>`",
                ));
            }
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                Status::unauthenticated("the authorization header must be `Bearer <JWT>`")
            })?;
        let data = jsonwebtoken::decode::<Claims>(token.trim(), &self.key, &self.validation)
            .map_err(|e| Status::unauthenticated(format!("invalid token: {e}")))?;
        let claims = data.claims;
        let roles = claims
            .roles
            .iter()
            .filter_map(|role| match role.as_str() {
                "admin" => Some(Role::Admin),
                "member" => Some(Role::Member),
                _ => None,
            })
            .collect();
        Ok(Caller {
            member_id: Uuid::parse_str(&claims.sub).ok(),
            subject: claims.sub,
            roles,
        })
    }
}

/// For services with public reads: a call without a token passes anonymously (no
/// [`Caller`]; handlers that need one refuse it), a call with a token must be valid.
pub fn optional_interceptor(
    auth: Arc<Authenticator>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        if request.metadata().contains_key("authorization") || auth.insecure_dev {
            let caller = auth.authenticate(request.metadata())?;
            request.extensions_mut().insert(caller);
        }
        Ok(request)
    }
}

/// The caller of a call that may be anonymous.
pub fn maybe_caller<T>(request: &Request<T>) -> Option<Caller> {
    request.extensions().get::<Caller>().cloned()
}

/// A tonic interceptor that authenticates every call and stores the [`Caller`].
pub fn interceptor(
    auth: Arc<Authenticator>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        let caller = auth.authenticate(request.metadata())?;
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The caller the interceptor stored.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| {
            Status::unauthenticated("missing bearer token: send `authorization: Bearer <JWT>`")
        })
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
    }
}

/// A random secret for the embedded default, written once under the data directory.
pub fn load_or_create_secret(path: &std::path::Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(secret) => Ok(Secret::new(secret.trim().to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
            write_private(path, &secret)?;
            Ok(Secret::new(secret))
        }
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthSettings {
        AuthSettings {
            jwt_secret: Secret::new("0123456789abcdef0123456789abcdef"),
            issuer: None,
            audience: None,
            insecure_dev: false,
        }
    }

    fn metadata(token: &str) -> tonic::metadata::MetadataMap {
        let mut map = tonic::metadata::MetadataMap::new();
        map.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
        map
    }

    #[test]
    fn a_signed_token_names_the_member_and_roles() {
        let settings = settings();
        let auth = Authenticator::new(&settings).unwrap();
        let member = Uuid::now_v7();
        let token = mint(
            &settings.jwt_secret,
            &claims(member.to_string(), &["member"], chrono::Duration::hours(1)),
        )
        .unwrap();
        let caller = auth.authenticate(&metadata(&token)).unwrap();
        assert!(caller.is_member(member));
        assert!(!caller.is_admin());
    }

    #[test]
    fn expired_forged_and_missing_tokens_are_refused() {
        let settings = settings();
        let auth = Authenticator::new(&settings).unwrap();
        let expired = mint(
            &settings.jwt_secret,
            &claims("x", &["admin"], chrono::Duration::hours(-2)),
        )
        .unwrap();
        assert_eq!(
            auth.authenticate(&metadata(&expired)).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let other = Secret::new("another secret another secret 123");
        let forged = mint(&other, &claims("x", &["admin"], chrono::Duration::hours(1))).unwrap();
        assert_eq!(
            auth.authenticate(&metadata(&forged)).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        // alg "none": header {"alg":"none","typ":"JWT"}, claims, empty signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYWRtaW4iXSwiZXhwIjo0MTAyNDQ0ODAwfQ.";
        assert!(auth.authenticate(&metadata(none)).is_err());
        assert!(
            auth.authenticate(&tonic::metadata::MetadataMap::new())
                .is_err()
        );
    }

    #[test]
    fn dev_auth_makes_anonymous_calls_admin_but_still_checks_tokens() {
        let mut settings = settings();
        settings.insecure_dev = true;
        let auth = Authenticator::new(&settings).unwrap();
        assert!(
            auth.authenticate(&tonic::metadata::MetadataMap::new())
                .unwrap()
                .is_admin()
        );
        assert!(auth.authenticate(&metadata("garbage")).is_err());
    }
}
