//! The flags of the commands, as clap parses them from the command line and the
//! `FABRIQUE_*` environment variables. Nothing here is checked beyond its type: the
//! values become [`Settings`](super::Settings) only through their validation.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{ByteSize, DEFAULT_LANES, DEFAULT_RETENTION, Secret};

/// How logs are written on stderr: `Text` for a person at a terminal, `Json` (one
/// object a line) for a log collector.
// The variants carry no doc comment on purpose: clap would turn it into help text and
// change what `fabrique serve --help` prints.
#[allow(missing_docs)]
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

/// Flags of `fabrique serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address the gRPC server listens on.
    #[arg(long, env = "FABRIQUE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Where the services keep their data.
    #[command(flatten)]
    pub store: StoreArgs,

    /// Where the bus is, and how to reach it.
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
