//! The secret of the embedded default: generated once into the data directory, readable
//! by its owner only, so a restart keeps accepting the tokens it signed.

use uuid::Uuid;

use crate::config::Secret;

/// A random secret for the embedded default, written once under the data directory.
pub fn load_or_create_secret(path: &std::path::Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(secret) => Ok(Secret::new(secret.trim().to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
            write_private(path, &secret)?;
            Ok(Secret::new(secret))
        }
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
