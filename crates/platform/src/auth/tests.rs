//! Tokens of every kind accepted and refused: HS256 from the shared secret, RS256 and
//! EdDSA from the fixtures' external issuer, forged, expired, early and confused ones.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use uuid::Uuid;

use super::authenticator::LEEWAY_SECONDS;
use super::verified::Verified;
use super::*;
use crate::config::{AuthSettings, Secret};

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

fn signed(algorithm: Algorithm, private_key: &str, kid: Option<&str>, claims: &Claims) -> String {
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
