//! Read models of other services' data, built from their events, for the services that
//! must decide on it without calling them: who is an active member (`member_replica`),
//! where a place is and whether it is open (`place_replica`).
//!
//! Each replica keeps the source's `version` of a row and ignores any older snapshot,
//! so redelivered or late events change nothing; a service lists the replica's
//! migration in its migrator and calls [`members::apply`] / [`places::apply`] from its
//! event handler, inside the consumer's transaction.

pub mod members;
pub mod places;

use sea_orm::{ConnectionTrait, DbBackend};

/// Column types that differ between the two databases: (uuid, time, json, double).
pub(crate) fn column_types(
    db: &impl ConnectionTrait,
) -> (&'static str, &'static str, &'static str, &'static str) {
    match db.get_database_backend() {
        DbBackend::Postgres => ("UUID", "TIMESTAMPTZ", "JSONB", "DOUBLE PRECISION"),
        _ => ("BLOB", "TEXT", "TEXT", "REAL"),
    }
}
