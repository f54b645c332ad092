//! `fabrique import places FILE.csv`: loads places from a CSV file in the shape of the
//! French open-data place schemas into the registry's database, as an admin. Rows are
//! keyed by `(--source, id)`: importing again updates, never duplicates. Bad rows are
//! listed by line and field; the good ones load. On a terminal, progress is shown.
//! Exit status: 0 when every row loaded, 3 when some were refused.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use fabrique_platform::auth::{Caller, Role};
use fabrique_platform::config::{DatabaseSettings, StoreArgs};
use fabrique_platform::outbox::OutboxSignal;
use fabrique_platform::service::Service;
use fabrique_registry::app::Registry;

#[derive(Subcommand)]
pub enum What {
    /// Places for the registry.
    Places {
        /// The CSV file (UTF-8; comma or semicolon separated; header line).
        file: PathBuf,
        /// Name of the data source; with each row's `id` it identifies a place.
        /// Default: the file name without extension.
        #[arg(long)]
        source: Option<String>,
        /// Operator of every imported place: `members/{id}` of an active member.
        #[arg(long)]
        operator: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(what: What) -> anyhow::Result<ExitCode> {
    let What::Places {
        file,
        source,
        operator,
        store,
    } = what;
    let bytes =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let source = source.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "import".into())
    });
    let source = fabrique_types::bounded_text(&source, 1, 100)
        .map_err(|e| anyhow::anyhow!("--source {e}"))?;
    let operator = operator
        .as_deref()
        .map(fabrique_registry::domain::parse_member_name)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--operator {e}"))?;
    let rows = fabrique_registry::import::parse_csv(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;

    let database = DatabaseSettings::from_args(&store)?;
    let service = fabrique_registry::RegistryServiceModule;
    let db = fabrique_platform::db::connect(&database, service.name()).await?;
    service.migrate(&db).await?;
    // The events wait in the outbox; a running registry's relay publishes them.
    let registry = Registry::new(db, OutboxSignal::new());
    let admin = Caller {
        subject: "fabrique-import".into(),
        member_id: None,
        roles: vec![Role::Admin],
        person: None,
    };
    let terminal = std::io::stderr().is_terminal();
    let report = registry
        .import(&admin, &source, rows, operator, |done, total| {
            if terminal && (done % 25 == 0 || done == total) {
                eprint!("\rimporting {}: {done}/{total} rows", file.display());
                let _ = std::io::stderr().flush();
                if done == total {
                    eprintln!();
                }
            }
        })
        .await?;
    println!(
        "{}: {} created, {} updated, {} unchanged, {} refused",
        file.display(),
        report.created,
        report.updated,
        report.unchanged,
        report.refused_rows()
    );
    for error in &report.errors {
        println!(
            "  line {}: {}: {}",
            error.line, error.field, error.description
        );
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
