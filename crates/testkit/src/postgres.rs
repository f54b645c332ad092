//! A fresh PostgreSQL database per test, dropped afterwards.

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

/// `postgres://u@h:5432/postgres?x=y` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (base, tail) = match url[authority_start..].find('/') {
        Some(slash) => url.split_at(authority_start + slash),
        None => (url, ""),
    };
    let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
    format!("{base}/{name}{query}")
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

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(
            super::with_database("postgres://p@h:5432/postgres", "x"),
            "postgres://p@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://p@h/postgres?sslmode=disable", "x"),
            "postgres://p@h/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://p@h", "x"),
            "postgres://p@h/x"
        );
    }
}
