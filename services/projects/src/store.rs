//! Where projects, programmes, applications, grouped purchases and workshops are kept,
//! the same on PostgreSQL and SQLite. The envelope and the per-member award limit live in
//! the database: approvals raise counters with conditional updates (and CHECKs), so no
//! interleaving of requests or replicas can commit more than allowed.
//!
//! One file per aggregate — `project`, `programme` (programmes and their
//! applications), `group_purchase`, `workshop` — over the sea-orm entities of
//! `entity`; their queries are re-exported here, the one path the use cases name. A
//! lifecycle move is written only from the state it was read in, so a concurrent move
//! shows as `false` (or [`Applied::Raced`]) rather than being overwritten.

pub mod co_funding;
mod entity;
mod group_purchase;
mod grouping;
pub mod migrations;
mod programme;
mod project;
mod report;
mod session;
mod workshop;

use fabrique_platform::Error;
use uuid::Uuid;

use crate::domain::Invalid;
pub use group_purchase::{
    get_group_purchase, group_purchase_by_request, hold_open, insert_group_purchase,
    list_group_purchases, move_group_purchase, open_purchases_of, remove_participation,
    set_participation,
};
pub use grouping::{applications_of, get_grouping, grouping_by_request, insert_grouping};
pub use programme::{
    Applied, application_by_request, apply_application, awards_of, change_envelope,
    get_application, get_programme, insert_application, insert_programme, list_applications,
    list_programmes, locked_committed, move_programme, programme_by_request,
};
pub use project::{
    get_project, insert_project, list_projects, project_by_request, project_from_proposal,
    update_project,
};
pub use report::application_counts;
pub use session::{
    cancel_session, get_restitution, insert_restitution, insert_session, list_restitutions,
    publish_restitution, restitution_by_request, session_by_request, set_attendance,
};
pub use workshop::{
    get_workshop, insert_workshop, list_workshops, season_participants, set_co_pilots, set_team,
    workshop_by_request,
};

/// A stored row that no longer parses into the domain: a failure of this service (a
/// migration or a bug), never the caller's fault, so it is internal and names the row.
fn internal(what: &str, id: Uuid, invalid: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {what} {id} is invalid: {invalid}"))
}

/// A JSON column read back into its domain type.
fn json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Invalid> {
    serde_json::from_value(value).map_err(|e| Invalid::new(e.to_string()))
}

/// `|a|b|`: values as a tag column, so that `LIKE '%|a|%'` finds one on both databases.
fn tags<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut tags = String::from("|");
    for item in items {
        tags.push_str(item);
        tags.push('|');
    }
    tags
}
