//! How `fabrique serve` lets people sign in to its site, and `fabrique login-link`.
//!
//! The site signs its API tokens with the services' shared secret when this process
//! has it (the embedded default generates one; `FABRIQUE_JWT_SECRET` otherwise), or with
//! `FABRIQUE_WEB_SIGNING_KEY`; its sessions and links with `FABRIQUE_WEB_SESSION_KEY`,
//! or a key derived from that secret. Without either, the site is read-only.

use anyhow::Context as _;
use fabrique_platform::auth;
use fabrique_platform::config::{Secret, ServeArgs};
use fabrique_web::WebArgs;
use fabrique_web::auth::link::{self, LinkFor};
use fabrique_web::auth::{ApiSigner, SignIn, derived_session_key};

/// The services' shared secret as this process knows it: given, or the embedded
/// default's generated one.
fn shared_secret(args: &ServeArgs, embedded: bool) -> anyhow::Result<Option<Secret>> {
    Ok(match &args.jwt_secret {
        Some(secret) => Some(secret.clone()),
        None if embedded => Some(auth::load_or_create_secret(
            &args.store.data_dir.join("jwt-secret"),
        )?),
        None => None,
    })
}

/// The session key: given (32 bytes or more), else derived from `secret`.
fn session_key(web: &WebArgs, secret: Option<&Secret>) -> anyhow::Result<Option<Vec<u8>>> {
    match (&web.web_session_key, secret) {
        (Some(key), _) => {
            anyhow::ensure!(
                key.len() >= 32,
                "FABRIQUE_WEB_SESSION_KEY must be 32 bytes or more"
            );
            Ok(Some(key.as_bytes().to_vec()))
        }
        (None, Some(secret)) => Ok(Some(derived_session_key(secret.expose()))),
        (None, None) => Ok(None),
    }
}

/// Sign-in for the site `serve` runs; `None` (read-only) when it has no key to sign
/// with. `embedded`: the embedded default (SQLite, in-process bus).
pub fn settings(args: &ServeArgs, web: &WebArgs, embedded: bool) -> anyhow::Result<Option<SignIn>> {
    let secret = shared_secret(args, embedded)?;
    let (issuer, audience) = (
        args.jwt_issuer.clone().filter(|i| !i.is_empty()),
        args.jwt_audience.clone().filter(|a| !a.is_empty()),
    );
    let api = match (&web.web_signing_key, &secret) {
        (Some(path), _) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("FABRIQUE_WEB_SIGNING_KEY {}", path.display()))?;
            ApiSigner::from_pem(&pem, issuer, audience)
                .map_err(|e| anyhow::anyhow!("FABRIQUE_WEB_SIGNING_KEY {}: {e}", path.display()))?
        }
        (None, Some(secret)) => ApiSigner::hs256(secret.expose().to_string(), issuer, audience),
        (None, None) => return Ok(None),
    };
    let Some(key) = session_key(web, secret.as_ref())? else {
        return Ok(None);
    };
    let sign_in = SignIn::new(&web.public_url(), key, api);
    Ok(Some(match web.oidc() {
        Some(config) => sign_in.with_oidc(config),
        None => sign_in,
    }))
}

/// The admin's one-time link that `serve` prints on the embedded default.
pub fn admin_link(sign_in: &SignIn) -> String {
    format!(
        "{}/connexion/lien/{}",
        sign_in.public_url,
        link::sign(&sign_in.session_key, LinkFor::Admin)
    )
}

/// `fabrique login-link`: a one-time link for an admin, or acting for `member`
/// (`members/<id>`), signed as the running `serve` of the same settings signs them.
pub fn login_link(
    member: Option<&str>,
    args: &ServeArgs,
    web: &WebArgs,
    embedded: bool,
) -> anyhow::Result<String> {
    let secret = shared_secret(args, embedded)?;
    let key = session_key(web, secret.as_ref())?
        .context("no key to sign the link with: set FABRIQUE_WEB_SESSION_KEY as the site has it")?;
    let whom = match member {
        None => LinkFor::Admin,
        Some(name) => {
            let id = name
                .strip_prefix("members/")
                .and_then(|id| uuid::Uuid::parse_str(id).ok())
                .with_context(|| format!("--member {name}: expected members/<uuid>"))?;
            LinkFor::Member(id.to_string())
        }
    };
    Ok(format!(
        "{}/connexion/lien/{}",
        web.public_url(),
        link::sign(&key, whom)
    ))
}
