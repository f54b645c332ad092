//! The [`Authenticator`]: from a call's `authorization` metadata to its [`Caller`],
//! checking the token's algorithm against the configured keys, then its signature and
//! claims.

use jsonwebtoken::{Algorithm, Validation};
use tonic::Status;
use uuid::Uuid;

use super::keys::{PUBLIC_KEY_ALGORITHMS, VerifyingKey, jwks_keys, pem_key};
use super::verified::Verified;
use super::{Caller, Claims, Role};
use crate::config::AuthSettings;

/// Clock skew tolerated on `exp` and `nbf`.
pub(super) const LEEWAY_SECONDS: i64 = 30;

/// Verifies the bearer tokens of calls; one per process, shared by every service.
pub struct Authenticator {
    keys: Vec<VerifyingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    pub(super) insecure_dev: bool,
    pub(super) verified: Verified,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("keys", &self.keys.len())
            .field("insecure_dev", &self.insecure_dev)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Reads the keys `settings` name now: a key file that cannot be used stops the
    /// start with the file named, rather than refusing every call later.
    pub fn new(settings: &AuthSettings) -> Result<Self, String> {
        let mut keys = Vec::new();
        if let Some(secret) = &settings.jwt_secret {
            keys.push(VerifyingKey::hs256(secret));
        }
        if let Some(path) = &settings.public_key {
            keys.push(pem_key(path)?);
        }
        if let Some(path) = &settings.jwks {
            keys.extend(jwks_keys(path)?);
        }
        if keys.is_empty() {
            return Err("no key to verify tokens with".into());
        }
        Ok(Self {
            keys,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            insecure_dev: settings.insecure_dev,
            verified: Verified::default(),
        })
    }

    /// The key for a token's header: its algorithm must be one a configured key verifies,
    /// and its `kid`, when given, must name that key.
    fn key_for(&self, header: &jsonwebtoken::Header) -> Result<&VerifyingKey, Status> {
        if header.alg != Algorithm::HS256 && !PUBLIC_KEY_ALGORITHMS.contains(&header.alg) {
            return Err(Status::unauthenticated(format!(
                "invalid token: algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let mut keys = self.keys.iter().filter(|k| k.algorithm == header.alg);
        let found = match &header.kid {
            Some(kid) if header.alg != Algorithm::HS256 => {
                keys.find(|k| k.kid.as_deref() == Some(kid.as_str()))
            }
            _ => keys.next(),
        };
        found.ok_or_else(|| {
            Status::unauthenticated(format!(
                "invalid token: no key verifies {:?} tokens{}",
                header.alg,
                header
                    .kid
                    .as_deref()
                    .map(|kid| format!(" with kid {kid:?}"))
                    .unwrap_or_default()
            ))
        })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS as u64;
        // A configured issuer or audience must be present, not only right when present.
        let mut required = vec!["exp", "sub"];
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation
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
            })?
            .trim();
        let now = chrono::Utc::now().timestamp();
        if let Some(caller) = self.verified.get(token, now) {
            return Ok(caller);
        }
        let jwt_header = jsonwebtoken::decode_header(token)
            .map_err(|e| Status::unauthenticated(format!("invalid token: {e}")))?;
        let key = self.key_for(&jwt_header)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation(key.algorithm))
            .map_err(|e| Status::unauthenticated(format!("invalid token: {e}")))?;
        let claims = data.claims;
        let roles = claims
            .roles
            .iter()
            .filter_map(|role| match role.as_str() {
                "admin" => Some(Role::Admin),
                "member" => Some(Role::Member),
                "citizen" => Some(Role::Citizen),
                _ => None,
            })
            .collect();
        let caller = Caller {
            member_id: Uuid::parse_str(&claims.sub).ok(),
            subject: claims.sub,
            roles,
            person: claims.act.map(|actor| actor.sub),
        };
        // Remembered only once valid (`nbf` passed), and until it expires as the
        // validation sees it (with its leeway).
        if claims.nbf.is_none_or(|nbf| nbf <= now) {
            self.verified
                .insert(token, &caller, claims.exp.saturating_add(LEEWAY_SECONDS));
        }
        Ok(caller)
    }
}
