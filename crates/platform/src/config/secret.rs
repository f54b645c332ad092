//! Secrets: a [`Secret`] that never prints, and the check every JWT secret passes
//! before it may sign tokens.

use std::fmt;

use super::ConfigError;

/// A value that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from a flag, a file or a test.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one call that needs it (signing, connecting): named so
    /// that every use stands out in review.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// JWT secrets that were written in this repository at one time or another (the
/// Kubernetes example, tests, scripts): public, so anyone could sign an admin token with
/// them. `tests/it/published_secrets.rs` finds every secret written in the repository
/// and fails unless it is refused here.
pub const PUBLISHED_JWT_SECRETS: &[&str] = &[
    "example-jwt-secret-change-me-0123456789abcdef",
    "test-secret-test-secret-test-secret-0123",
    "seed-test-secret-seed-test-secret-0123",
    "jwt-secret-that-must-never-be-logged-0123",
    "measure-memory-secret-0123456789abcdef",
    "0123456789abcdef0123456789abcdef",
    "another secret another secret 123",
    "another-secret-another-secret-01234567",
];

/// Words of placeholders that a copied example keeps.
const PLACEHOLDER_MARKERS: &[&str] = &["change-me", "changeme", "example"];

/// A JWT secret signs every token the services accept: 32 bytes or more, never one
/// published in the repository, never a placeholder.
pub fn check_jwt_secret(secret: &Secret) -> Result<(), ConfigError> {
    let value = secret.expose();
    if value.len() < 32 {
        return Err(ConfigError(
            "FABRIQUE_JWT_SECRET must be at least 32 bytes".into(),
        ));
    }
    let lowered = value.to_ascii_lowercase();
    if PUBLISHED_JWT_SECRETS.contains(&value)
        || PLACEHOLDER_MARKERS.iter().any(|m| lowered.contains(m))
    {
        return Err(ConfigError(
            "FABRIQUE_JWT_SECRET is a value published in Fabrique's repository (an example or a \
             test): anyone could sign tokens with it. Generate one, e.g. `openssl rand -base64 48` \
             (docs/operations.md, \"Create the secrets\")"
                .into(),
        ));
    }
    Ok(())
}
