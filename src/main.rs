//! `fabrique`: one binary for every service and deployment shape.
//!
//! - `fabrique serve [--services all|members,...]` — run services (default: all, on
//!   SQLite under `./data` and the in-process bus, on 127.0.0.1:50051);
//! - `fabrique migrate` — apply database migrations and exit;
//! - `fabrique seed` — load the example alliance of the source text;
//! - `fabrique import places FILE.csv` — load places from an open-data CSV file;
//! - `fabrique token` — sign a bearer token for a member or an admin;
//! - `fabrique login-link` — print a one-time sign-in link to the site;
//! - `fabrique dlq list|replay` — read a service's dead letters, replay them;
//! - `fabrique nats-conf` — print the NATS configuration of the Kubernetes manifests.
//! - `fabrique deploy-files` — write the deployment files derived from the services.

mod dlq;
mod import;
mod seed;
mod sign_in;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use fabrique::services;
use fabrique_platform::auth;
use fabrique_platform::config::{
    DatabaseSettings, LogFormat, Secret, ServeArgs, Settings, StoreArgs,
};
use fabrique_platform::server::{Application, shutdown_signal};
use fabrique_platform::telemetry::{self, TelemetryOptions};
use futures::FutureExt as _;

#[derive(Parser)]
#[command(
    name = "fabrique",
    version,
    about = "The Fabrique des transitions platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run services over gRPC, and the web site over HTTP.
    Serve {
        /// Services to run: `all` (every gRPC service and the web site), or names
        /// separated by commas (`web` for the site).
        #[arg(long, env = "FABRIQUE_SERVICES", default_value = "all")]
        services: String,
        #[command(flatten)]
        args: ServeArgs,
        #[command(flatten)]
        web: fabrique_web::WebArgs,
        #[command(flatten)]
        notify: fabrique_notify::NotifyArgs,
    },
    /// Apply every pending database migration, then exit.
    Migrate {
        #[arg(long, env = "FABRIQUE_SERVICES", default_value = "all")]
        services: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Load the example alliance of the source text (idempotent).
    Seed {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Load data from files.
    Import {
        #[command(subcommand)]
        what: import::What,
    },
    /// Read the dead letters of the services' consumers, and replay them.
    Dlq {
        #[command(subcommand)]
        action: dlq::Action,
    },
    /// Print deploy/k8s/components/nats/nats.conf for the services this binary runs
    /// (a NATS user per service with only the permissions it needs).
    NatsConf,
    /// Write the deployment files derived from the services this binary runs
    /// (deploy/k8s/base/services.yaml, deploy/k8s/components/nats/nats.conf).
    DeployFiles {
        /// The deploy/k8s folder to write into.
        #[arg(long, default_value = "deploy/k8s")]
        dir: std::path::PathBuf,
    },
    /// Print a one-time link that signs in to the site (15 minutes, once): as an admin,
    /// or acting for a member. The site must be running with the same settings.
    LoginLink {
        /// The member to act for, `members/<id>`; default: an admin.
        #[arg(long)]
        member: Option<String>,
        #[command(flatten)]
        args: ServeArgs,
        #[command(flatten)]
        web: fabrique_web::WebArgs,
    },
    /// Print a signed bearer token.
    Token {
        /// The `sub` claim: a member id (UUID) to act for that member, or any name.
        #[arg(long, default_value = "admin")]
        sub: String,
        /// Roles: admin, member.
        #[arg(long = "role", default_values = ["admin"])]
        roles: Vec<String>,
        /// Validity in hours.
        #[arg(long, default_value_t = 24)]
        hours: i64,
        /// Secret to sign with; default: the embedded default's generated secret.
        #[arg(long, env = "FABRIQUE_JWT_SECRET", hide_env_values = true)]
        jwt_secret: Option<Secret>,
        /// The `iss` claim: the issuer the services check (`FABRIQUE_JWT_ISSUER`), so that
        /// in a pod the token carries what its services expect.
        #[arg(long, env = "FABRIQUE_JWT_ISSUER")]
        issuer: Option<String>,
        /// The `aud` claim (`FABRIQUE_JWT_AUDIENCE`).
        #[arg(long, env = "FABRIQUE_JWT_AUDIENCE")]
        audience: Option<String>,
        #[arg(long, env = "FABRIQUE_DATA_DIR", default_value = "data")]
        data_dir: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fabrique: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fabrique: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            services,
            args,
            web,
            notify,
        } => serve(&services, args, web, notify)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Migrate { services, store } => {
            let _telemetry =
                telemetry::init(&telemetry_options("fabrique-migrate", LogFormat::Text))?;
            let database = DatabaseSettings::from_args(&store)?;
            for service in services::select(&services).map_err(anyhow::Error::msg)? {
                let db = fabrique_platform::db::connect(&database, service.name()).await?;
                service.migrate(&db).await?;
                tracing::info!(service = service.name(), "migrated");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed { store } => {
            let _telemetry = telemetry::init(&telemetry_options("fabrique-seed", LogFormat::Text))?;
            seed::run(&DatabaseSettings::from_args(&store)?).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what } => {
            let _telemetry =
                telemetry::init(&telemetry_options("fabrique-import", LogFormat::Text))?;
            import::run(what).await
        }
        Command::NatsConf => {
            print!("{}", fabrique::nats_conf::render(&services::all()));
            Ok(ExitCode::SUCCESS)
        }
        Command::DeployFiles { dir } => {
            anyhow::ensure!(
                dir.join("base").is_dir() && dir.join("components/nats").is_dir(),
                "{} is not a deploy/k8s folder (no base/ or components/nats/): run from the \
                 repository's root or give --dir",
                dir.display()
            );
            for path in fabrique::deploy_files::write(&dir, &services::all())? {
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq { action } => {
            dlq::run(action).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::LoginLink { member, args, web } => {
            let embedded = embedded(&args)?;
            let link = sign_in::login_link(member.as_deref(), &args, &web, embedded)?;
            println!("{link}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            sub,
            roles,
            hours,
            jwt_secret,
            issuer,
            audience,
            data_dir,
        } => {
            let secret = match jwt_secret {
                Some(secret) => secret,
                None => auth::load_or_create_secret(&data_dir.join("jwt-secret"))?,
            };
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            let mut claims = auth::claims(sub, &roles, chrono::Duration::hours(hours));
            claims.iss = issuer.filter(|i| !i.is_empty());
            claims.aud = audience.filter(|a| !a.is_empty());
            let token = auth::mint(&secret, &claims).map_err(anyhow::Error::msg)?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn telemetry_options(service_name: &str, log_format: LogFormat) -> TelemetryOptions {
    TelemetryOptions {
        service_name: service_name.to_string(),
        log_format,
    }
}

async fn serve(
    services: &str,
    args: ServeArgs,
    web_args: fabrique_web::WebArgs,
    notify_args: fabrique_notify::NotifyArgs,
) -> anyhow::Result<()> {
    let mut selection = services::select_with_web(services).map_err(anyhow::Error::msg)?;
    if selection
        .services
        .iter()
        .any(|s| s.name() == fabrique_notify::NAME)
    {
        let notify = notify_args
            .config(
                (&args.store.data_dir, embedded(&args)?),
                Some(&web_args.public_url()),
                &web_args.web_admins,
            )
            .map_err(anyhow::Error::msg)?;
        selection.services = services::with_notify(selection.services, notify);
    }
    let mut names: Vec<&str> = selection.services.iter().map(|s| s.name()).collect();
    let service_name = if names.len() == fabrique_count() && selection.web {
        "fabrique".to_string()
    } else {
        if selection.web {
            names.push(services::WEB);
        }
        format!("fabrique-{}", names.join("-"))
    };
    let _telemetry = telemetry::init(&telemetry_options(&service_name, args.log_format))?;
    // One signal stops both servers; each drains what it has in flight.
    let shutdown = shutdown_signal().shared();
    let site = if selection.web {
        // The site alone (`--services web`) needs no database, bus or token secret: only
        // where the services it reads answer.
        let own = (!selection.services.is_empty()).then(|| own_grpc_url(args.listen));
        let endpoints = web_args
            .endpoints(own.as_deref())
            .map_err(anyhow::Error::msg)?;
        let mut web = fabrique_web::Web::with_endpoints(&endpoints)?.with_tiles(web_args.tiles());
        // The embedded default: this process runs the services on SQLite and the
        // in-process bus, and holds their secret.
        let embedded = !selection.services.is_empty() && embedded(&args)?;
        let sign_in = sign_in::settings(&args, &web_args, embedded)?;
        if let Some(sign_in) = &sign_in {
            web = web.with_sign_in(sign_in.clone());
        } else {
            tracing::warn!("the web site has no key to sign with: it is read-only");
        }
        let listener = tokio::net::TcpListener::bind(web_args.web_listen)
            .await
            .with_context(|| format!("the web site cannot listen on {}", web_args.web_listen))?;
        let address = listener.local_addr()?;
        tracing::info!(
            %address,
            members = %endpoints.members,
            registry = %endpoints.registry,
            projects = %endpoints.projects,
            "web site: http://{address}"
        );
        // Links are the embedded default's way in; with a provider, people use it.
        if let (Some(sign_in), true) = (&sign_in, embedded && web_args.oidc().is_none()) {
            // As Jupyter does: the link goes to the terminal, never to the log.
            eprintln!(
                "\nSe connecter au site comme administrateur (une fois, dans les 15 minutes) :\n    {}\n",
                sign_in::admin_link(sign_in)
            );
        }
        Some(tokio::spawn(fabrique_web::serve(
            listener,
            web,
            shutdown.clone(),
        )))
    } else {
        None
    };
    if !selection.services.is_empty() {
        run_grpc(selection.services, args, shutdown.clone()).await?;
    } else {
        shutdown.clone().await;
    }
    if let Some(site) = site {
        site.await?.context("the web site stopped")?;
    }
    Ok(())
}

/// Where this process's own gRPC server answers, for the site running beside it.
fn own_grpc_url(listen: std::net::SocketAddr) -> String {
    let host = if listen.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        listen.ip()
    };
    format!("http://{}", std::net::SocketAddr::new(host, listen.port()))
}

async fn run_grpc(
    services: Vec<std::sync::Arc<dyn fabrique_platform::service::Service>>,
    args: ServeArgs,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    // The embedded default needs no configuration: its JWT secret is generated once
    // under the data directory (`fabrique token` signs with the same one).
    let database = DatabaseSettings::from_args(&args.store)?;
    let default_secret =
        if args.jwt_secret.is_none() && database.is_sqlite() && args.nats.nats_url.is_none() {
            Some(auth::load_or_create_secret(
                &args.store.data_dir.join("jwt-secret"),
            )?)
        } else {
            None
        };
    let settings = Settings::from_args(&args, default_secret)?;
    if settings.auth.insecure_dev {
        let banner = "INSECURE DEV AUTH: calls without a token act as an ADMIN. Never use this outside a local trial.";
        eprintln!(
            "\n{}\n{banner}\n{}\n",
            "!".repeat(banner.len()),
            "!".repeat(banner.len())
        );
        tracing::warn!("{banner}");
    }
    if settings.is_embedded() {
        tracing::info!(
            data_dir = %args.store.data_dir.display(),
            "embedded mode: SQLite files and the in-process bus; `fabrique token` prints a bearer token"
        );
    }
    let application = Application::build(settings, services).await?;
    application.run(shutdown).await?;
    Ok(())
}

/// Whether `args` describe the embedded default: SQLite and the in-process bus.
fn embedded(args: &ServeArgs) -> anyhow::Result<bool> {
    Ok(DatabaseSettings::from_args(&args.store)?.is_sqlite() && args.nats.nats_url.is_none())
}

fn fabrique_count() -> usize {
    services::all().len()
}
