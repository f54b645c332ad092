//! The keys that verify tokens: the HS256 secret, a PEM public key, or the signing keys
//! of a JSON Web Key Set. Each key verifies one algorithm only, chosen from the key and
//! never from the token.

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::config::Secret;

/// A key that verifies tokens of one algorithm.
pub(super) struct VerifyingKey {
    /// The JWK `kid`; a token naming a kid is checked with that key only.
    pub(super) kid: Option<String>,
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

impl VerifyingKey {
    /// The shared secret, which `fabrique token` signs with.
    pub(super) fn hs256(secret: &Secret) -> Self {
        Self {
            kid: None,
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret.expose().as_bytes()),
        }
    }
}

/// The algorithms accepted from external issuers.
pub(super) const PUBLIC_KEY_ALGORITHMS: &[Algorithm] =
    &[Algorithm::RS256, Algorithm::EdDSA, Algorithm::ES256];

type PemParser = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;

/// A PEM public key: RSA → RS256, Ed25519 → EdDSA, P-256 → ES256.
pub(super) fn pem_key(path: &std::path::Path) -> Result<VerifyingKey, String> {
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
pub(super) fn jwks_keys(path: &std::path::Path) -> Result<Vec<VerifyingKey>, String> {
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
