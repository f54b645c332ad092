//! A fresh PostgreSQL database per test, dropped afterwards.

use fabrique_platform::db::with_database;
use sea_orm::{ConnectionTrait, Database};

/// `FABRIQUE_TEST_DATABASE_URL`: a URL whose user may create databases.
pub fn admin_url() -> String {
    std::env::var("FABRIQUE_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "FABRIQUE_TEST_DATABASE_URL is not set: run the suite with ./scripts/test, which starts \
             PostgreSQL and NATS, or set it to an admin URL such as postgres://postgres@127.0.0.1:5432/postgres"
        )
    })
}

#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// A fresh database when the test runs on PostgreSQL, none when it runs on SQLite.
    pub async fn create_if(postgres: bool) -> Option<Self> {
        if postgres {
            Some(Self::create().await)
        } else {
            None
        }
    }

    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("fabrique_t_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is not reachable: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Self {
            url,
            name,
            admin_url,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A PostgreSQL server of this test alone, which it may stop and restart: `initdb` and
/// `pg_ctl` from `FABRIQUE_TEST_PG_BINDIR` (as the `postgres` user when the tests run
/// as root, since PostgreSQL refuses to run as root), on a free port, trust auth,
/// no fsync.
#[derive(Debug)]
pub struct PostgresServer {
    bindir: std::path::PathBuf,
    dir: crate::TempDir,
    port: u16,
}

impl PostgresServer {
    /// Creates and starts it (a few seconds: initdb).
    pub fn start() -> Self {
        let bindir = std::env::var_os("FABRIQUE_TEST_PG_BINDIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "FABRIQUE_TEST_PG_BINDIR is not set: run the suite with ./scripts/test, or \
                     point it at the folder of PostgreSQL's initdb and pg_ctl"
                )
            });
        let dir = crate::TempDir::new("postgres");
        let port = crate::free_port();
        let server = Self { bindir, dir, port };
        std::fs::create_dir_all(server.dir.path().join("sock")).expect("socket folder");
        if is_root() {
            run("chown", &["-R", "postgres:", &server.path("")]);
        }
        server.pg(
            "initdb",
            &[
                "-D",
                &server.path("data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        );
        server.up();
        server
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Runs a PostgreSQL program, as `postgres` when we are root.
    fn pg(&self, program: &str, args: &[&str]) {
        let binary = self.bindir.join(program).display().to_string();
        let mut all = vec![binary.as_str()];
        all.extend_from_slice(args);
        if is_root() {
            let mut with_user = vec!["-u", "postgres", "--"];
            with_user.extend(all);
            run("runuser", &with_user);
        } else {
            run(all[0], &all[1..]);
        }
    }

    fn up(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.path("sock")
        );
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.path("data"),
                "-l",
                &self.path("log"),
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it (fast shutdown: sessions are cut).
    pub fn stop(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.path("data"), "-m", "fast", "-w", "stop"],
        );
    }

    /// Starts it again on the same port and data.
    pub fn restart(&self) {
        self.up();
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let binary = self.bindir.join("pg_ctl").display().to_string();
        let data = self.path("data");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if is_root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--", &binary])
                .args(args)
                .output()
        } else {
            std::process::Command::new(&binary).args(args).output()
        };
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(program: &str, args: &[&str]) {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A service's database for a test, not migrated: the PostgreSQL test database when one
/// is given, else a SQLite file in `dir`.
pub async fn service_database(
    postgres: Option<&TestDatabase>,
    dir: &crate::TempDir,
    service: &str,
) -> sea_orm::DatabaseConnection {
    let url = match postgres {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}/{{service}}.db", dir.path().display()),
    };
    let settings = fabrique_platform::config::DatabaseSettings {
        url,
        max_connections: 8,
    };
    fabrique_platform::db::connect(&settings, service)
        .await
        .expect("connect")
}
