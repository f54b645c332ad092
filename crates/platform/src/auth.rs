//! Authentication: bearer JWTs turned into a [`Caller`] that handlers read from the
//! request. Tokens are HS256 (the shared secret; `fabrique token` signs them) or, from an
//! external issuer such as an OIDC provider, RS256, EdDSA or ES256 verified with a PEM
//! public key or a JSON Web Key Set on disk. Each key verifies one algorithm only, so a
//! token cannot choose how it is checked (no `alg: none`, no HS256 signed with a public
//! key). `exp` and `sub` are required; `nbf` is checked, `iss` and `aud` when configured.
//! The claims are `sub` (the member id the token acts for, or another principal such as
//! an operator) and `roles` (`admin`, `member`).
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

/// A key that verifies tokens of one algorithm.
struct VerifyingKey {
    /// The JWK `kid`; a token naming a kid is checked with that key only.
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: i64 = 30;

pub struct Authenticator {
    keys: Vec<VerifyingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    insecure_dev: bool,
    verified: Verified,
}

/// Tokens already verified, with their caller and expiry: a client sends the same token
/// on every call, and checking its signature and claims again cost 6 % of a GetMember
/// (docs/performance.md). Keyed by the whole token, so only that exact token hits.
#[derive(Default)]
struct Verified(std::sync::Mutex<std::collections::HashMap<String, (Caller, i64)>>);

impl Verified {
    /// Enough for every client of a busy replica; cleared when full (entries are
    /// cheap to make again).
    const CAPACITY: usize = 1024;

    fn get(&self, token: &str, now: i64) -> Option<Caller> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (caller, valid_until) = cache.get(token)?;
        (now < *valid_until).then(|| caller.clone())
    }

    fn insert(&self, token: &str, caller: &Caller, valid_until: i64) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= Self::CAPACITY {
            cache.clear();
        }
        cache.insert(token.to_string(), (caller.clone(), valid_until));
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("keys", &self.keys.len())
            .field("insecure_dev", &self.insecure_dev)
            .finish_non_exhaustive()
    }
}

/// The algorithms accepted from external issuers.
const PUBLIC_KEY_ALGORITHMS: &[Algorithm] = &[Algorithm::RS256, Algorithm::EdDSA, Algorithm::ES256];

type PemParser = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;

/// A PEM public key: RSA → RS256, Ed25519 → EdDSA, P-256 → ES256.
fn pem_key(path: &std::path::Path) -> Result<VerifyingKey, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let candidates: [(Algorithm, PemParser); 3] = [
        (Algorithm::RS256, DecodingKey::from_rsa_pem),
        (Algorithm::EdDSA, DecodingKey::from_ed_pem),
        (Algorithm::ES256, DecodingKey::from_ec_pem),
    ];
    candidates
        .into_iter()
        .find_map(|(algorithm, parse)| {
            parse(&pem).ok().map(|key| VerifyingKey {
                kid: None,
                algorithm,
                key,
            })
        })
        .ok_or_else(|| {
            format!(
                "{}: not a PEM RSA, Ed25519 or P-256 public key",
                path.display()
            )
        })
}

/// The signing keys of a JSON Web Key Set file.
fn jwks_keys(path: &std::path::Path) -> Result<Vec<VerifyingKey>, String> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a JSON Web Key Set: {e}", path.display()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let kid = jwk.common.key_id.clone();
        let named = |what: &str| {
            format!(
                "{}: key {}: {what}",
                path.display(),
                kid.as_deref().unwrap_or("without kid")
            )
        };
        // A key meant for encryption only is not a signing key.
        if matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        ) {
            continue;
        }
        let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(KeyAlgorithm::RS256), _) => Algorithm::RS256,
            (Some(KeyAlgorithm::EdDSA), _) => Algorithm::EdDSA,
            (Some(KeyAlgorithm::ES256), _) => Algorithm::ES256,
            (Some(other), _) => return Err(named(&format!("algorithm {other:?} is not accepted"))),
            (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
            (None, AlgorithmParameters::OctetKeyPair(p)) if p.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            (None, AlgorithmParameters::EllipticCurve(p)) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            (None, _) => return Err(named("unsupported key type")),
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| named(&e.to_string()))?;
        keys.push(VerifyingKey {
            kid,
            algorithm,
            key,
        });
    }
    if keys.is_empty() {
        return Err(format!("{}: no signing key", path.display()));
    }
    Ok(keys)
}

impl Authenticator {
    pub fn new(settings: &AuthSettings) -> Result<Self, String> {
        let mut keys = Vec::new();
        if let Some(secret) = &settings.jwt_secret {
            keys.push(VerifyingKey {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.expose().as_bytes()),
            });
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
                _ => None,
            })
            .collect();
        let caller = Caller {
            member_id: Uuid::parse_str(&claims.sub).ok(),
            subject: claims.sub,
            roles,
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
            jwt_secret: Some(Secret::new("0123456789abcdef0123456789abcdef")),
            public_key: None,
            jwks: None,
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
            settings.jwt_secret.as_ref().unwrap(),
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
            settings.jwt_secret.as_ref().unwrap(),
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
    fn a_verified_token_is_remembered_until_it_expires_and_only_that_token() {
        let settings = settings();
        let auth = Authenticator::new(&settings).unwrap();
        let token = mint(
            settings.jwt_secret.as_ref().unwrap(),
            &claims("x", &["admin"], chrono::Duration::hours(1)),
        )
        .unwrap();
        let first = auth.authenticate(&metadata(&token)).unwrap();
        let now = chrono::Utc::now().timestamp();
        assert_eq!(auth.verified.get(&token, now), Some(first.clone()));
        assert_eq!(auth.authenticate(&metadata(&token)).unwrap(), first);
        // Its expiry (with the leeway) ends the remembering.
        let exp = now + 3600;
        assert!(
            auth.verified
                .get(&token, exp + LEEWAY_SECONDS - 5)
                .is_some()
        );
        assert!(
            auth.verified
                .get(&token, exp + LEEWAY_SECONDS + 5)
                .is_none()
        );
        // Another signature on the same claims is not the remembered token.
        let at = token.len() - 6;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert!(auth.authenticate(&metadata(&tampered)).is_err());
        // A token not yet valid is refused and not remembered.
        let mut early = claims("y", &["admin"], chrono::Duration::hours(1));
        early.nbf = Some(now + 600);
        let early = mint(settings.jwt_secret.as_ref().unwrap(), &early).unwrap();
        assert!(auth.authenticate(&metadata(&early)).is_err());
        assert!(auth.verified.get(&early, now).is_none());
    }

    #[test]
    fn the_remembered_tokens_stay_bounded() {
        let verified = Verified::default();
        let caller = Caller::dev();
        for i in 0..(Verified::CAPACITY * 3) {
            verified.insert(&format!("token-{i}"), &caller, i64::MAX);
        }
        let held = verified.0.lock().unwrap().len();
        assert!(held <= Verified::CAPACITY, "{held}");
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

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testkit/fixtures/jwt")
            .join(name)
    }

    fn external(public_key: Option<&str>, jwks: bool) -> AuthSettings {
        AuthSettings {
            jwt_secret: None,
            public_key: public_key.map(fixture),
            jwks: jwks.then(|| fixture("jwks.json")),
            issuer: Some("https://sso.example.org".into()),
            audience: Some("fabrique".into()),
            insecure_dev: false,
        }
    }

    fn signed(
        algorithm: Algorithm,
        private_key: &str,
        kid: Option<&str>,
        claims: &Claims,
    ) -> String {
        let pem = std::fs::read(fixture(private_key)).unwrap();
        let key = match algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
            _ => unreachable!(),
        };
        let mut header = Header::new(algorithm);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn oidc_claims(sub: &str) -> Claims {
        let mut c = claims(sub, &["member"], chrono::Duration::minutes(5));
        c.iss = Some("https://sso.example.org".into());
        c.aud = Some("fabrique".into());
        c
    }

    fn refused(auth: &Authenticator, token: &str) -> String {
        let status = auth.authenticate(&metadata(token)).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        status.message().to_string()
    }

    #[test]
    fn tokens_of_an_external_issuer_are_verified_with_its_public_keys() {
        let member = Uuid::now_v7();
        let claims = oidc_claims(&member.to_string());
        for (settings, algorithm, private, kid) in [
            (
                external(Some("rsa-public.pem"), false),
                Algorithm::RS256,
                "rsa-private.pem",
                None,
            ),
            (
                external(Some("ed25519-public.pem"), false),
                Algorithm::EdDSA,
                "ed25519-private.pem",
                None,
            ),
            (
                external(None, true),
                Algorithm::RS256,
                "rsa-private.pem",
                Some("fabrique-test-rsa"),
            ),
            (
                external(None, true),
                Algorithm::EdDSA,
                "ed25519-private.pem",
                Some("fabrique-test-ed25519"),
            ),
        ] {
            let auth = Authenticator::new(&settings).unwrap();
            let caller = auth
                .authenticate(&metadata(&signed(algorithm, private, kid, &claims)))
                .unwrap_or_else(|e| panic!("{algorithm:?} {kid:?}: {e:?}"));
            assert!(caller.is_member(member));
        }
    }

    #[test]
    fn the_key_decides_the_algorithm_not_the_token() {
        let claims = oidc_claims("x");
        let jwks = Authenticator::new(&external(None, true)).unwrap();
        // HS256 "signed" with the public key as the secret: the classic confusion attack.
        let public_pem = std::fs::read(fixture("rsa-public.pem")).unwrap();
        let confused = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&public_pem),
        )
        .unwrap();
        assert!(refused(&jwks, &confused).contains("HS256"));
        // A kid naming the Ed25519 key on an RS256 token, or an unknown kid.
        let wrong_kid = signed(
            Algorithm::RS256,
            "rsa-private.pem",
            Some("fabrique-test-ed25519"),
            &claims,
        );
        assert!(refused(&jwks, &wrong_kid).contains("kid"));
        let unknown = signed(
            Algorithm::RS256,
            "rsa-private.pem",
            Some("rotated-away"),
            &claims,
        );
        assert!(refused(&jwks, &unknown).contains("rotated-away"));
        // The HS256-only default refuses public-key tokens.
        let hs_only = Authenticator::new(&settings()).unwrap();
        let rs = signed(Algorithm::RS256, "rsa-private.pem", None, &claims);
        assert!(refused(&hs_only, &rs).contains("RS256"));
        // An Ed25519 key does not verify a token signed by the RSA key, whatever it says.
        let ed = Authenticator::new(&external(Some("ed25519-public.pem"), false)).unwrap();
        refused(&ed, &rs);
    }

    #[test]
    fn issuer_audience_and_validity_window_are_checked() {
        let auth = Authenticator::new(&external(Some("rsa-public.pem"), false)).unwrap();
        let token = |edit: &dyn Fn(&mut Claims)| {
            let mut claims = oidc_claims("x");
            edit(&mut claims);
            signed(Algorithm::RS256, "rsa-private.pem", None, &claims)
        };
        assert!(auth.authenticate(&metadata(&token(&|_| {}))).is_ok());
        refused(&auth, &token(&|c| c.aud = Some("another-app".into())));
        refused(&auth, &token(&|c| c.aud = None));
        refused(
            &auth,
            &token(&|c| c.iss = Some("https://evil.example".into())),
        );
        refused(
            &auth,
            &token(&|c| c.exp = chrono::Utc::now().timestamp() - 120),
        );
        refused(
            &auth,
            &token(&|c| c.nbf = Some(chrono::Utc::now().timestamp() + 600)),
        );
    }

    #[test]
    fn unusable_key_files_are_configuration_errors_naming_the_file() {
        let mut settings = external(Some("README.md"), false);
        assert!(
            Authenticator::new(&settings)
                .unwrap_err()
                .contains("README.md")
        );
        settings.public_key = None;
        settings.jwks = Some(fixture("rsa-public.pem"));
        assert!(
            Authenticator::new(&settings)
                .unwrap_err()
                .contains("not a JSON Web Key Set")
        );
        settings.jwks = Some(fixture("absent.json"));
        assert!(
            Authenticator::new(&settings)
                .unwrap_err()
                .contains("absent.json")
        );
    }
}
