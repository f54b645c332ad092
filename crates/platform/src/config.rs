//! Configuration: command-line flags with `FABRIQUE_*` environment fallbacks, parsed by
//! clap into [`ServeArgs`], then validated once into the typed [`Settings`] the rest of
//! the platform uses. Tests build `Settings` directly and never touch the environment.
//! OpenTelemetry reads the standard `OTEL_*` variables itself; logs follow `RUST_LOG`.
//!
//! The flags (`flags.rs`) and the settings (`settings.rs`) are kept apart so that what
//! an operator may write and what a running service may assume never blur: the only way
//! from one to the other is through the checks of `settings.rs` and `secret.rs`.

mod byte_size;
mod flags;
mod secret;
mod settings;

pub use byte_size::ByteSize;
pub use flags::{LogFormat, NatsArgs, ServeArgs, StoreArgs};
pub use secret::{PUBLISHED_JWT_SECRETS, Secret, check_jwt_secret};
pub use settings::{
    AuthSettings, BusSettings, DEFAULT_LANES, DEFAULT_RETENTION, DatabaseSettings, NatsSettings,
    Settings, StreamLimits, normalize_prefix,
};

/// A flag that cannot be run with; its message names the `FABRIQUE_*` variable to fix,
/// since that is what an operator sets in a deployment.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests;
