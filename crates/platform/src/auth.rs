//! Authentication: bearer JWTs turned into a [`Caller`] that handlers read from the
//! request. Tokens are HS256 (the shared secret; `fabrique token` signs them) or, from an
//! external issuer such as an OIDC provider, RS256, EdDSA or ES256 verified with a PEM
//! public key or a JSON Web Key Set on disk. Each key verifies one algorithm only, so a
//! token cannot choose how it is checked (no `alg: none`, no HS256 signed with a public
//! key). `exp` and `sub` are required; `nbf` is checked, `iss` and `aud` when configured.
//! The claims are `sub` (the member id the token acts for, or another principal such as
//! an operator), `roles` (`admin`, `member`, `citizen`) and, from the site, `act` (the person
//! acting for `sub`), which the call's events carry ([`Actor`]).
//!
//! `--insecure-dev-auth` (embedded default only) lets a call without a token act as an
//! admin; a call with a token is still verified.

mod actor;
mod authenticator;
mod caller;
mod claims;
mod interceptor;
mod keys;
mod secret_file;
mod verified;

pub use actor::{Actor, ActorScope};
pub use authenticator::Authenticator;
pub use caller::{Caller, Role};
pub use claims::{ActorClaim, Claims, claims, mint};
pub use interceptor::{caller, interceptor, maybe_caller, optional_interceptor};
pub use secret_file::load_or_create_secret;

#[cfg(test)]
mod tests;
