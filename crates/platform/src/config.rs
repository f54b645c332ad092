//! Configuration: command-line flags with `FABRIQUE_*` environment fallbacks, parsed by
//! clap into [`ServeArgs`], then validated once into the typed [`Settings`] the rest of
//! the platform uses. Tests build `Settings` directly and never touch the environment.
//! OpenTelemetry reads the standard `OTEL_*` variables itself; logs follow `RUST_LOG`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A value that must never be printed: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags shared by every command that touches a service's database or the bus.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Database URL. PostgreSQL (`postgres://user@host/db`): each service uses its own
    /// schema named after it, or its own database when the URL contains `{service}`.
    /// SQLite (`sqlite://path/{service}.db`). Default: SQLite files under --data-dir.
    #[arg(long, env = "FABRIQUE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory of the embedded default: SQLite files and the generated JWT secret.
    #[arg(long, env = "FABRIQUE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Connections per service database pool.
    #[arg(long, env = "FABRIQUE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
}

/// Flags of every command that talks to NATS: where it is, how to authenticate, and the
/// subject prefix of the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct NatsArgs {
    /// NATS server URL(s), comma-separated. Unset: the in-process bus (one process only).
    #[arg(long, env = "FABRIQUE_NATS_URL")]
    pub nats_url: Option<String>,

    /// NATS user (with --nats-password).
    #[arg(long, env = "FABRIQUE_NATS_USER")]
    pub nats_user: Option<String>,

    /// NATS password.
    #[arg(long, env = "FABRIQUE_NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<Secret>,

    /// NATS credentials file (JWT + NKey seed).
    #[arg(long, env = "FABRIQUE_NATS_CREDENTIALS")]
    pub nats_credentials: Option<PathBuf>,

    /// PEM file of the CA that signed the NATS server certificate; implies TLS.
    #[arg(long, env = "FABRIQUE_NATS_TLS_CA")]
    pub nats_tls_ca: Option<PathBuf>,

    /// Require TLS to NATS.
    #[arg(long, env = "FABRIQUE_NATS_TLS", default_value_t = false)]
    pub nats_tls: bool,

    /// Prefix of this process's reply subjects (default `_INBOX`): give each service its
    /// own (e.g. `_INBOX_members`) so NATS permissions can keep others' replies from it.
    #[arg(long, env = "FABRIQUE_NATS_INBOX_PREFIX")]
    pub nats_inbox_prefix: Option<String>,

    /// Replicas of the streams this process creates (3 on a 3-node JetStream cluster).
    #[arg(long, env = "FABRIQUE_NATS_STREAM_REPLICAS", default_value_t = 1)]
    pub nats_stream_replicas: usize,

    /// Bytes each service's stream may hold (`512MiB`, `1GiB`…). When it is full, events
    /// wait in the service's outbox until there is room: none is dropped.
    #[arg(long, env = "FABRIQUE_NATS_STREAM_MAX_BYTES", default_value_t = ByteSize(1 << 30))]
    pub nats_stream_max_bytes: ByteSize,

    /// Days after which a service's stream drops its events; 0: kept until the byte
    /// limit (a new consumer, such as a service added later, reads the whole history).
    #[arg(long, env = "FABRIQUE_NATS_STREAM_MAX_AGE_DAYS", default_value_t = 0)]
    pub nats_stream_max_age_days: u32,

    /// Bytes the dead-letter stream may hold; when full, its oldest letters go.
    #[arg(long, env = "FABRIQUE_NATS_DLQ_MAX_BYTES", default_value_t = ByteSize(256 << 20))]
    pub nats_dlq_max_bytes: ByteSize,

    /// Days a dead letter is kept.
    #[arg(long, env = "FABRIQUE_NATS_DLQ_MAX_AGE_DAYS", default_value_t = 30)]
    pub nats_dlq_max_age_days: u32,

    /// Prefix of every subject and stream, so environments and tests can share one NATS
    /// server (e.g. `staging.` gives `staging.fabrique.members.member.joined`).
    #[arg(long, env = "FABRIQUE_SUBJECT_PREFIX", default_value = "")]
    pub subject_prefix: String,
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

/// A size in bytes, written `65536`, `64KiB`, `512MiB`, `1GiB` or `2TiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Below this a stream holds a handful of events: a typo more likely than a choice.
    pub const MIN: u64 = 16 * 1024;
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
        match units
            .iter()
            .find(|(shift, _)| self.0 >= 1 << shift && self.0.is_multiple_of(1 << shift))
        {
            Some((shift, unit)) => write!(f, "{}{unit}", self.0 >> shift),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits);
        let shift = match unit.trim() {
            "" | "B" => 0,
            "KiB" => 10,
            "MiB" => 20,
            "GiB" => 30,
            "TiB" => 40,
            other => {
                return Err(format!(
                    "unknown unit {other:?}: write bytes, or KiB, MiB, GiB, TiB"
                ));
            }
        };
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a size such as 512MiB or 1GiB"))?;
        let bytes = number
            .checked_mul(1 << shift)
            .filter(|bytes| i64::try_from(*bytes).is_ok())
            .ok_or_else(|| format!("{text:?} is too large"))?;
        if bytes < Self::MIN {
            return Err(format!("{text:?} is below the smallest stream size, 16KiB"));
        }
        Ok(Self(bytes))
    }
}

/// Flags of `fabrique serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address the gRPC server listens on.
    #[arg(long, env = "FABRIQUE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub nats: NatsArgs,

    /// HS256 secret that signs the bearer JWTs. Default on the embedded setup: a secret
    /// generated once into `<data-dir>/jwt-secret`.
    #[arg(long, env = "FABRIQUE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// PEM public key of an external token issuer (an OIDC provider): RSA keys verify
    /// RS256 tokens, Ed25519 keys EdDSA, P-256 keys ES256. Accepted beside the HS256 secret.
    #[arg(long, env = "FABRIQUE_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// JSON Web Key Set file (an OIDC provider's `jwks_uri` document saved to disk): its
    /// keys verify RS256, EdDSA and ES256 tokens, chosen by the token's `kid`.
    #[arg(long, env = "FABRIQUE_JWT_JWKS")]
    pub jwt_jwks: Option<PathBuf>,

    /// Required `iss` claim, when set.
    #[arg(long, env = "FABRIQUE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim, when set.
    #[arg(long, env = "FABRIQUE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Accept calls without a token as an admin. Only on the embedded default (SQLite and
    /// the in-process bus); never in production.
    #[arg(long, env = "FABRIQUE_INSECURE_DEV_AUTH", default_value_t = false)]
    pub insecure_dev_auth: bool,

    /// Largest gRPC message accepted or sent, in bytes.
    #[arg(long, env = "FABRIQUE_MAX_MESSAGE_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// RPCs handled at once; beyond, calls are refused with RESOURCE_EXHAUSTED.
    #[arg(long, env = "FABRIQUE_MAX_CONCURRENT_RPCS", default_value_t = 512)]
    pub max_concurrent_rpcs: usize,

    /// Seconds given to in-flight calls and the outbox relay to finish on shutdown.
    #[arg(long, env = "FABRIQUE_DRAIN_SECONDS", default_value_t = 20)]
    pub drain_seconds: u64,

    /// Deliveries of an event before a consumer sends it to `fabrique.dlq.<service>`.
    #[arg(long, env = "FABRIQUE_CONSUMER_MAX_DELIVER", default_value_t = 5)]
    pub consumer_max_deliver: u32,

    /// Events each consumer handles at once; an aggregate's events always take the same
    /// lane, in order, and what queues on a lane is applied in one transaction.
    #[arg(long, env = "FABRIQUE_CONSUMER_LANES", default_value_t = DEFAULT_LANES)]
    pub consumer_lanes: usize,

    /// Hours a consumer remembers the ids of the events it handled, so that a copy
    /// arriving meanwhile changes nothing; older ids are purged every hour.
    #[arg(
        long,
        env = "FABRIQUE_PROCESSED_RETENTION_HOURS",
        default_value_t = DEFAULT_RETENTION.as_secs() / 3600
    )]
    pub processed_retention_hours: u64,

    /// Log format on stderr.
    #[arg(long, env = "FABRIQUE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Where each service keeps its data.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// URL, possibly with a `{service}` placeholder.
    pub url: String,
    pub max_connections: u32,
}

impl DatabaseSettings {
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

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

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

// Built once at start and read in place: the size of the NATS variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum BusSettings {
    /// In-process bus: one process, nothing survives a restart.
    InProcess,
    Nats(NatsSettings),
}

#[derive(Debug, Clone, Default)]
pub struct NatsSettings {
    pub url: String,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub credentials: Option<PathBuf>,
    pub tls_ca: Option<PathBuf>,
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

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 secret; `None` when only public keys verify tokens.
    pub jwt_secret: Option<Secret>,
    /// PEM public key file of an external issuer.
    pub public_key: Option<PathBuf>,
    /// JSON Web Key Set file of an external issuer.
    pub jwks: Option<PathBuf>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Calls without a token act as an admin.
    pub insecure_dev: bool,
}

/// The longest `FABRIQUE_PROCESSED_RETENTION_HOURS`: a hundred years.
const MAX_RETENTION_HOURS: u64 = 100 * 365 * 24;

/// Everything `serve` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    /// Empty, or ends with a dot.
    pub subject_prefix: String,
    pub auth: AuthSettings,
    pub max_message_bytes: usize,
    pub max_concurrent_rpcs: usize,
    pub drain_timeout: Duration,
    pub consumer_max_deliver: u32,
    pub consumer_lanes: usize,
    pub processed_retention: Duration,
    pub log_format: LogFormat,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

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
        let public_keys = args.jwt_public_key.is_some() || args.jwt_jwks.is_some();
        let jwt_secret = match args.jwt_secret.clone().or(default_secret) {
            Some(secret) => {
                check_jwt_secret(&secret)?;
                Some(secret)
            }
            None if public_keys => None,
            None => {
                return Err(ConfigError(
                    "FABRIQUE_JWT_SECRET, FABRIQUE_JWT_PUBLIC_KEY or FABRIQUE_JWT_JWKS is required outside the embedded default".into(),
                ));
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn parse(args: &[&str]) -> ServeArgs {
        Cli::try_parse_from(std::iter::once("fabrique").chain(args.iter().copied()))
            .expect("flags parse")
            .serve
    }

    /// A fresh secret: every literal one in the repository is refused.
    fn secret() -> Secret {
        Secret::new(format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    #[test]
    fn no_flags_is_the_embedded_default() {
        let settings = Settings::from_args(&parse(&[]), Some(secret())).unwrap();
        assert!(settings.is_embedded());
        assert_eq!(settings.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(
            settings.database.url_for("members"),
            "sqlite://data/members.db"
        );
    }

    #[test]
    fn dev_auth_is_refused_with_nats_or_postgres() {
        let with_nats = parse(&["--insecure-dev-auth", "--nats-url", "nats://127.0.0.1:4222"]);
        assert!(Settings::from_args(&with_nats, Some(secret())).is_err());
        let with_pg = parse(&["--insecure-dev-auth", "--database-url", "postgres://h/db"]);
        assert!(Settings::from_args(&with_pg, Some(secret())).is_err());
    }

    #[test]
    fn production_needs_a_long_enough_secret() {
        let args = parse(&["--database-url", "postgres://h/db", "--jwt-secret", "short"]);
        let error = Settings::from_args(&args, None).unwrap_err();
        assert!(error.to_string().contains("32 bytes"));
        assert!(Settings::from_args(&parse(&["--database-url", "postgres://h/db"]), None).is_err());
    }

    #[test]
    fn consumer_counts_are_at_least_one() {
        let settings = |args: &[&str]| Settings::from_args(&parse(args), Some(secret()));
        assert_eq!(settings(&[]).unwrap().consumer_lanes, DEFAULT_LANES);
        assert_eq!(
            settings(&["--consumer-lanes", "6"]).unwrap().consumer_lanes,
            6
        );
        let error = settings(&["--consumer-lanes", "0"]).unwrap_err();
        assert!(
            error.to_string().contains("FABRIQUE_CONSUMER_LANES"),
            "{error}"
        );
        let error = settings(&["--consumer-max-deliver", "0"]).unwrap_err();
        assert!(
            error.to_string().contains("FABRIQUE_CONSUMER_MAX_DELIVER"),
            "{error}"
        );
    }

    #[test]
    fn processed_ids_are_kept_between_an_hour_and_a_century() {
        let settings = |args: &[&str]| Settings::from_args(&parse(args), Some(secret()));
        assert_eq!(
            settings(&[]).unwrap().processed_retention,
            DEFAULT_RETENTION
        );
        assert_eq!(
            settings(&["--processed-retention-hours", "2"])
                .unwrap()
                .processed_retention,
            Duration::from_secs(7200)
        );
        for refused in ["0", "876001"] {
            let error = settings(&["--processed-retention-hours", refused]).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("FABRIQUE_PROCESSED_RETENTION_HOURS"),
                "{error}"
            );
        }
    }

    #[test]
    fn streams_are_bounded_by_default_and_sizes_parse() {
        let with = |extra: &[&str]| {
            let args: Vec<&str> = ["--nats-url", "nats://127.0.0.1:4222"]
                .iter()
                .chain(extra.iter())
                .copied()
                .collect();
            match Settings::from_args(&parse(&args), Some(secret()))
                .unwrap()
                .bus
            {
                BusSettings::Nats(nats) => nats,
                BusSettings::InProcess => panic!("NATS expected"),
            }
        };
        let defaults = with(&[]);
        assert_eq!(defaults.stream_limits.max_bytes, Some(1 << 30));
        assert_eq!(defaults.stream_limits.max_age, None);
        assert_eq!(defaults.dlq_limits.max_bytes, Some(256 << 20));
        assert_eq!(
            defaults.dlq_limits.max_age,
            Some(Duration::from_secs(30 * 86_400))
        );
        let set = with(&[
            "--nats-stream-max-bytes",
            "512MiB",
            "--nats-stream-max-age-days",
            "365",
            "--nats-dlq-max-age-days",
            "0",
        ]);
        assert_eq!(set.stream_limits.max_bytes, Some(512 << 20));
        assert_eq!(
            set.stream_limits.max_age,
            Some(Duration::from_secs(365 * 86_400))
        );
        assert_eq!(set.dlq_limits.max_age, None);

        for (text, bytes) in [("65536", 65_536), ("64KiB", 65_536), ("2TiB", 2 << 40)] {
            assert_eq!(text.parse::<ByteSize>(), Ok(ByteSize(bytes)), "{text}");
        }
        for size in [ByteSize(1 << 30), ByteSize(48 << 10), ByteSize(70_000)] {
            assert_eq!(size.to_string().parse::<ByteSize>(), Ok(size));
        }
        assert_eq!(ByteSize(1 << 30).to_string(), "1GiB");
        for refused in ["1GB", "lots", "", "1KiB", "99999999999TiB"] {
            assert!(refused.parse::<ByteSize>().is_err(), "{refused:?}");
        }
        let refused = Cli::try_parse_from(["fabrique", "--nats-stream-max-bytes", "10MB"]);
        assert!(refused.is_err());
    }

    #[test]
    fn published_and_placeholder_secrets_are_refused() {
        let with = |value: &str| {
            Settings::from_args(
                &parse(&["--database-url", "postgres://h/db", "--jwt-secret", value]),
                None,
            )
        };
        for published in PUBLISHED_JWT_SECRETS {
            let error = with(published).unwrap_err().to_string();
            assert!(error.contains("published"), "{published}: {error}");
        }
        for placeholder in [
            "CHANGE-ME-CHANGE-ME-CHANGE-ME-CHANGE-ME",
            "my-example-secret-0123456789abcdefghij",
        ] {
            assert!(with(placeholder).is_err(), "{placeholder}");
        }
        let generated = secret();
        assert!(with(generated.expose()).is_ok());
        // The embedded default's generated secret goes through the same check.
        let refused = Settings::from_args(&parse(&[]), Some(Secret::new(PUBLISHED_JWT_SECRETS[0])));
        assert!(refused.is_err());
    }

    #[test]
    fn secrets_never_print() {
        let secret = secret();
        let args = parse(&["--jwt-secret", secret.expose()]);
        assert!(!format!("{args:?}").contains(secret.expose()));
    }

    #[test]
    fn subject_prefix_is_normalized_and_checked() {
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("t1").unwrap(), "t1.");
        assert_eq!(normalize_prefix("a.b.").unwrap(), "a.b.");
        assert!(normalize_prefix("a b").is_err());
        assert!(normalize_prefix("a.*").is_err());
        assert!(normalize_prefix("a..b").is_err());
    }

    #[test]
    fn nats_inbox_prefix_and_stream_replicas_are_checked() {
        let url = ["--nats-url", "nats://127.0.0.1:4222"];
        let with = |extra: &[&str]| {
            let args: Vec<&str> = url.iter().chain(extra.iter()).copied().collect();
            Settings::from_args(&parse(&args), Some(secret()))
        };
        let settings = with(&[
            "--nats-inbox-prefix",
            "_INBOX_members",
            "--nats-stream-replicas",
            "3",
        ])
        .unwrap();
        let BusSettings::Nats(nats) = settings.bus else {
            panic!("NATS expected");
        };
        assert_eq!(nats.inbox_prefix.as_deref(), Some("_INBOX_members"));
        assert_eq!(nats.stream_replicas, 3);
        let defaults = with(&[]).unwrap();
        let BusSettings::Nats(nats) = defaults.bus else {
            panic!("NATS expected");
        };
        assert_eq!(nats.inbox_prefix, None);
        assert_eq!(nats.stream_replicas, 1);
        for bad in [
            &["--nats-stream-replicas", "0"][..],
            &["--nats-stream-replicas", "6"][..],
            &["--nats-inbox-prefix", "_INBOX.*"][..],
            &["--nats-inbox-prefix", "a b"][..],
        ] {
            let error = with(bad).unwrap_err().to_string();
            assert!(error.contains("FABRIQUE_NATS_"), "{bad:?}: {error}");
        }
    }
}
