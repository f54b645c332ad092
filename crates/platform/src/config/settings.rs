//! The validated settings the platform runs on, and the one place each flag is checked
//! and turned into them: what is refused here never reaches a running service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, LogFormat, NatsArgs, Secret, ServeArgs, StoreArgs, check_jwt_secret};

/// Lanes per consumer unless `FABRIQUE_CONSUMER_LANES` says otherwise. Two: on the
/// 2-core machine of docs/performance.md, fewer lanes let more events queue behind a
/// transaction and share the next one, and 1,000 events/s kept up with two lanes
/// where eight fell behind (event-latency, two runs each).
pub const DEFAULT_LANES: usize = 2;

/// Processed-event ids kept unless `FABRIQUE_PROCESSED_RETENTION_HOURS` says
/// otherwise: a week.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// How much a stream keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamLimits {
    /// Bytes the stream may hold; `None`: as much as the server's store allows. JetStream
    /// reserves a stream's limit in its store when the stream is created, so a stream
    /// with a limit cannot be starved by another one.
    pub max_bytes: Option<u64>,
    /// Age after which events are removed; `None`: kept until `max_bytes`.
    pub max_age: Option<Duration>,
}

/// `0` days: no age limit.
fn days(days: u32) -> Option<Duration> {
    (days > 0).then(|| Duration::from_secs(u64::from(days) * 86_400))
}

impl NatsArgs {
    /// The NATS settings; `None` when no URL is given (the in-process bus).
    pub fn settings(&self) -> Result<Option<NatsSettings>, ConfigError> {
        if self.nats_user.is_some() != self.nats_password.is_some() {
            return Err(ConfigError(
                "FABRIQUE_NATS_USER and FABRIQUE_NATS_PASSWORD go together".into(),
            ));
        }
        if !(1..=5).contains(&self.nats_stream_replicas) {
            return Err(ConfigError(
                "FABRIQUE_NATS_STREAM_REPLICAS must be between 1 and 5".into(),
            ));
        }
        if let Some(prefix) = &self.nats_inbox_prefix
            && !prefix.is_empty()
            && !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(ConfigError(format!(
                "FABRIQUE_NATS_INBOX_PREFIX {prefix:?} must be letters, digits, '_', '-' or '.'"
            )));
        }
        Ok(match &self.nats_url {
            Some(url) if !url.trim().is_empty() => Some(NatsSettings {
                url: url.clone(),
                user: self.nats_user.clone(),
                password: self.nats_password.clone(),
                credentials: self.nats_credentials.clone(),
                tls_ca: self.nats_tls_ca.clone(),
                tls_required: self.nats_tls || self.nats_tls_ca.is_some(),
                inbox_prefix: self
                    .nats_inbox_prefix
                    .clone()
                    .filter(|p| !p.trim().is_empty()),
                stream_replicas: self.nats_stream_replicas,
                stream_limits: StreamLimits {
                    max_bytes: Some(self.nats_stream_max_bytes.0),
                    max_age: days(self.nats_stream_max_age_days),
                },
                dlq_limits: StreamLimits {
                    max_bytes: Some(self.nats_dlq_max_bytes.0),
                    max_age: days(self.nats_dlq_max_age_days),
                },
            }),
            _ => None,
        })
    }
}

/// Where each service keeps its data.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// URL, possibly with a `{service}` placeholder.
    pub url: String,
    /// Connections of each service's pool (at least 1).
    pub max_connections: u32,
}

impl DatabaseSettings {
    /// The database of `--database-url`, or SQLite files under `--data-dir` when none
    /// is given; refuses a URL no service could use.
    pub fn from_args(args: &StoreArgs) -> Result<Self, ConfigError> {
        let url = match &args.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}/{{service}}.db", args.data_dir.display()),
        };
        let settings = Self {
            url,
            max_connections: args.db_max_connections.max(1),
        };
        if !settings.is_postgres() && !settings.is_sqlite() {
            return Err(ConfigError(format!(
                "FABRIQUE_DATABASE_URL must start with postgres://, postgresql:// or sqlite://, got {:?}",
                scheme_of(&settings.url)
            )));
        }
        if settings.is_sqlite() && !settings.url.contains("{service}") {
            return Err(ConfigError(
                "a SQLite FABRIQUE_DATABASE_URL must contain {service}: every service keeps its own file".into(),
            ));
        }
        Ok(settings)
    }

    /// Whether the URL names PostgreSQL, which gets each service a schema of its own.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

    /// Whether the URL names SQLite files: one process only (the embedded default).
    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    /// The URL of one service's database.
    pub fn url_for(&self, service: &str) -> String {
        self.url.replace("{service}", service)
    }
}

fn scheme_of(url: &str) -> &str {
    url.split("://").next().unwrap_or(url)
}

/// Which bus the services share.
// Built once at start and read in place: the size of the NATS variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum BusSettings {
    /// In-process bus: one process, nothing survives a restart.
    InProcess,
    /// NATS JetStream: what several processes or replicas need.
    Nats(NatsSettings),
}

/// How to reach and authenticate to NATS, and how big the streams created may grow.
#[derive(Debug, Clone, Default)]
pub struct NatsSettings {
    /// Server URL(s), comma-separated.
    pub url: String,
    /// User name, always with `password`.
    pub user: Option<String>,
    /// Password of `user`.
    pub password: Option<Secret>,
    /// Credentials file (JWT and NKey seed) of decentralised authentication.
    pub credentials: Option<PathBuf>,
    /// PEM of the CA that signed the server's certificate.
    pub tls_ca: Option<PathBuf>,
    /// Refuse to talk to the server without TLS (implied by `tls_ca`).
    pub tls_required: bool,
    /// Reply-subject prefix; `None`: the client's default (`_INBOX`).
    pub inbox_prefix: Option<String>,
    /// Replicas of the streams created (1 to 5).
    pub stream_replicas: usize,
    /// Limits of the streams of the services this process runs.
    pub stream_limits: StreamLimits,
    /// Limits of the dead-letter stream.
    pub dlq_limits: StreamLimits,
}

/// What verifies the bearer tokens of calls.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 secret; `None` when only public keys verify tokens.
    pub jwt_secret: Option<Secret>,
    /// PEM public key file of an external issuer.
    pub public_key: Option<PathBuf>,
    /// JSON Web Key Set file of an external issuer.
    pub jwks: Option<PathBuf>,
    /// Required `iss` claim; `None`: not checked.
    pub issuer: Option<String>,
    /// Required `aud` claim; `None`: not checked.
    pub audience: Option<String>,
    /// Calls without a token act as an admin.
    pub insecure_dev: bool,
}

/// The longest `FABRIQUE_PROCESSED_RETENTION_HOURS`: a hundred years.
const MAX_RETENTION_HOURS: u64 = 100 * 365 * 24;

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the gRPC server binds (port 0: any free port).
    pub listen: SocketAddr,
    /// The services' databases.
    pub database: DatabaseSettings,
    /// The bus the services share.
    pub bus: BusSettings,
    /// Empty, or ends with a dot.
    pub subject_prefix: String,
    /// How calls are authenticated.
    pub auth: AuthSettings,
    /// Largest gRPC message accepted or sent (at least 64 KiB).
    pub max_message_bytes: usize,
    /// RPCs handled at once; beyond, calls are shed at once.
    pub max_concurrent_rpcs: usize,
    /// Time in-flight calls, and then the relays, get to finish at shutdown.
    pub drain_timeout: Duration,
    /// Deliveries of an event before it is dead-lettered.
    pub consumer_max_deliver: u32,
    /// Events each consumer handles at once.
    pub consumer_lanes: usize,
    /// How long consumers remember the ids of the events they handled.
    pub processed_retention: Duration,
    /// Log format on stderr.
    pub log_format: LogFormat,
}

impl Settings {
    /// Validates the flags. `jwt_secret` is what to use when none was given (the
    /// embedded default's generated secret), resolved by the caller because it touches
    /// the file system.
    pub fn from_args(
        args: &ServeArgs,
        default_secret: Option<Secret>,
    ) -> Result<Self, ConfigError> {
        let database = DatabaseSettings::from_args(&args.store)?;
        let bus = match args.nats.settings()? {
            Some(nats) => BusSettings::Nats(nats),
            None => BusSettings::InProcess,
        };
        let embedded = database.is_sqlite() && matches!(bus, BusSettings::InProcess);
        if args.insecure_dev_auth && !embedded {
            return Err(ConfigError(
                "--insecure-dev-auth is only allowed on the embedded default (SQLite and the in-process bus)".into(),
            ));
        }
        let jwt_secret = jwt_secret(args, default_secret)?;
        check_counts(args)?;
        Ok(Settings {
            listen: args.listen,
            database,
            bus,
            subject_prefix: normalize_prefix(&args.nats.subject_prefix)?,
            auth: AuthSettings {
                jwt_secret,
                public_key: args.jwt_public_key.clone(),
                jwks: args.jwt_jwks.clone(),
                // Empty (an unset ConfigMap entry) is unchecked, not "must be empty".
                issuer: args.jwt_issuer.clone().filter(|i| !i.trim().is_empty()),
                audience: args.jwt_audience.clone().filter(|a| !a.trim().is_empty()),
                insecure_dev: args.insecure_dev_auth,
            },
            max_message_bytes: args.max_message_bytes.max(64 * 1024),
            max_concurrent_rpcs: args.max_concurrent_rpcs,
            drain_timeout: Duration::from_secs(args.drain_seconds),
            consumer_max_deliver: args.consumer_max_deliver,
            consumer_lanes: args.consumer_lanes,
            processed_retention: Duration::from_secs(args.processed_retention_hours * 3600),
            log_format: args.log_format,
        })
    }

    /// Whether this is the zero-set-up default: SQLite and the in-process bus.
    pub fn is_embedded(&self) -> bool {
        self.database.is_sqlite() && matches!(self.bus, BusSettings::InProcess)
    }
}

/// The HS256 secret: the one given, else the embedded default's; none at all only when
/// public keys verify the tokens instead.
fn jwt_secret(
    args: &ServeArgs,
    default_secret: Option<Secret>,
) -> Result<Option<Secret>, ConfigError> {
    let public_keys = args.jwt_public_key.is_some() || args.jwt_jwks.is_some();
    match args.jwt_secret.clone().or(default_secret) {
        Some(secret) => {
            check_jwt_secret(&secret)?;
            Ok(Some(secret))
        }
        None if public_keys => Ok(None),
        None => Err(ConfigError(
            "FABRIQUE_JWT_SECRET, FABRIQUE_JWT_PUBLIC_KEY or FABRIQUE_JWT_JWKS is required outside the embedded default".into(),
        )),
    }
}

/// The counts and durations that would stop calls or events from ever being handled.
fn check_counts(args: &ServeArgs) -> Result<(), ConfigError> {
    if args.max_concurrent_rpcs == 0 {
        return Err(ConfigError(
            "FABRIQUE_MAX_CONCURRENT_RPCS must be at least 1".into(),
        ));
    }
    if args.consumer_max_deliver == 0 {
        return Err(ConfigError(
            "FABRIQUE_CONSUMER_MAX_DELIVER must be at least 1".into(),
        ));
    }
    if args.consumer_lanes == 0 {
        return Err(ConfigError(
            "FABRIQUE_CONSUMER_LANES must be at least 1".into(),
        ));
    }
    // Under an hour, an event redelivered after a slow handler or an outage could
    // find its id gone; a century is as good as forever.
    if !(1..=MAX_RETENTION_HOURS).contains(&args.processed_retention_hours) {
        return Err(ConfigError(format!(
            "FABRIQUE_PROCESSED_RETENTION_HOURS must be between 1 and {MAX_RETENTION_HOURS}"
        )));
    }
    Ok(())
}

/// A subject prefix is empty or dot-separated tokens of `[A-Za-z0-9_-]`, ending with a dot.
pub fn normalize_prefix(prefix: &str) -> Result<String, ConfigError> {
    let trimmed = prefix.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let valid = trimmed.split('.').all(|token| {
        !token.is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if !valid {
        return Err(ConfigError(format!(
            "FABRIQUE_SUBJECT_PREFIX {prefix:?} must be dot-separated tokens of letters, digits, '_' or '-'"
        )));
    }
    Ok(format!("{trimmed}."))
}
