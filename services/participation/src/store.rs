//! Where participation keeps its data — participants and their verifications,
//! processes; proposals and supports in [`proposal`], comments and reports in
//! [`comment`], meetings and registrations in [`meeting`], budgets and ballots in
//! [`budget`] — the same on PostgreSQL and
//! SQLite. A process's territory is a `|code|` list matched with LIKE; steps and themes
//! are JSON.

pub mod budget;
pub mod comment;
mod entity;
pub mod meeting;
pub mod migrations;
pub mod proposal;

use std::collections::HashMap;

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::domain::{Participant, Process, Step};
use entity::{participant, process, verification};

/// One participant per token subject: a second registration finds the first.
pub const SUBJECT_KEY: UniqueKey = UniqueKey {
    name: "participants_subject",
    table: "participants",
    columns: &["subject"],
};

/// One process per creation request.
pub const PROCESS_REQUEST_KEY: UniqueKey = UniqueKey {
    name: "processes_create_request_id",
    table: "processes",
    columns: &["create_request_id"],
};

fn corrupt(what: &str, id: Uuid, why: impl std::fmt::Display) -> Error {
    Error::internal(format!("{what} {id} no longer parses: {why}"))
}

// ---------------------------------------------------------------------------
// Participants
// ---------------------------------------------------------------------------

async fn with_verifications<C: ConnectionTrait>(
    db: &C,
    row: Option<participant::Model>,
) -> Result<Option<Participant>, DbErr> {
    let Some(row) = row else { return Ok(None) };
    let verified_by = verification::Entity::find()
        .filter(verification::Column::ParticipantId.eq(row.id))
        .order_by_asc(verification::Column::VerifiedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|v| v.organiser_id)
        .collect();
    Ok(Some(Participant {
        id: row.id,
        subject: row.subject,
        display_name: row.display_name,
        verified_by,
        created_at: row.created_at,
    }))
}

/// The participant a token subject registered as.
pub async fn participant_of<C: ConnectionTrait>(
    db: &C,
    subject: &str,
) -> Result<Option<Participant>, DbErr> {
    let row = participant::Entity::find()
        .filter(participant::Column::Subject.eq(subject))
        .one(db)
        .await?;
    with_verifications(db, row).await
}

/// A participant by id.
pub async fn participant<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<Participant>, DbErr> {
    let row = participant::Entity::find_by_id(id).one(db).await?;
    with_verifications(db, row).await
}

/// Inserts a participant; a [`SUBJECT_KEY`] violation means they registered already.
pub async fn insert_participant<C: ConnectionTrait>(
    db: &C,
    participant: &Participant,
) -> Result<(), DbErr> {
    participant::Entity::insert(participant::ActiveModel {
        id: Set(participant.id),
        subject: Set(participant.subject.clone()),
        display_name: Set(participant.display_name.clone()),
        created_at: Set(participant.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Records that `organiser` verified `participant` (once; again changes nothing).
/// Whether it was new.
pub async fn add_verification<C: ConnectionTrait>(
    db: &C,
    participant: Uuid,
    organiser: Uuid,
    by: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let inserted = verification::Entity::insert(verification::ActiveModel {
        participant_id: Set(participant),
        organiser_id: Set(organiser),
        verified_by: Set(by.to_string()),
        verified_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            verification::Column::ParticipantId,
            verification::Column::OrganiserId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// The pseudonyms of `ids`.
pub async fn display_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(participant::Entity::find()
        .filter(participant::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect())
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// `|63113|246300701|`.
fn tags(codes: &[String]) -> String {
    let mut tags = String::from("|");
    for code in codes {
        tags.push_str(code);
        tags.push('|');
    }
    tags
}

fn process_row(process: &Process) -> process::ActiveModel {
    process::ActiveModel {
        id: Set(process.id),
        organiser_id: Set(process.organiser),
        title: Set(process.title.clone()),
        description: Set(process.description.clone()),
        territory_tags: Set(tags(&process.territory)),
        steps: Set(serde_json::json!(process.steps)),
        active_step: Set(process.active_step as i32),
        verified_only: Set(process.verified_only),
        support_limit: Set(process.support_limit as i32),
        support_threshold: Set(process.support_threshold as i32),
        themes: Set(serde_json::json!(process.themes)),
        report_threshold: Set(process.report_threshold as i32),
        created_by: Set(process.created_by.clone()),
        created_at: Set(process.created_at),
        updated_at: Set(process.updated_at),
        version: Set(process.version),
        ..Default::default()
    }
}

fn to_process(row: process::Model) -> Result<Process, Error> {
    let steps: Vec<Step> =
        serde_json::from_value(row.steps).map_err(|e| corrupt("process", row.id, e))?;
    let themes: Vec<String> =
        serde_json::from_value(row.themes).map_err(|e| corrupt("process", row.id, e))?;
    Ok(Process {
        id: row.id,
        organiser: row.organiser_id,
        title: row.title,
        description: row.description,
        territory: row
            .territory_tags
            .split('|')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        steps,
        active_step: row.active_step.max(0) as u32,
        verified_only: row.verified_only,
        support_limit: row.support_limit.max(0) as u32,
        support_threshold: row.support_threshold.max(0) as u32,
        themes,
        report_threshold: u32::try_from(row.report_threshold).unwrap_or(0),
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

/// Inserts a process; a [`PROCESS_REQUEST_KEY`] violation is a concurrent retry.
pub async fn insert_process<C: ConnectionTrait>(
    db: &C,
    process: &Process,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = process_row(process);
    row.create_request_id = Set(request_id);
    process::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A process by id.
pub async fn process<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Process>, Error> {
    process::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_process)
        .transpose()
}

/// The process an earlier CreateProcess with this request id made.
pub async fn process_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Process>, Error> {
    process::Entity::find()
        .filter(process::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_process)
        .transpose()
}

/// Filters of ListProcesses.
#[derive(Debug, Clone, Default)]
pub struct ProcessFilter {
    /// Only this organiser's.
    pub organiser: Option<Uuid>,
    /// Only those whose territory names this code.
    pub territory: Option<String>,
}

/// Newest first, after `after` (an id of the previous page), at most `limit`.
pub async fn processes<C: ConnectionTrait>(
    db: &C,
    filter: &ProcessFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Process>, Error> {
    let mut query = process::Entity::find();
    if let Some(organiser) = filter.organiser {
        query = query.filter(process::Column::OrganiserId.eq(organiser));
    }
    if let Some(code) = &filter.territory {
        // Codes are digits and letters (checked on parsing): nothing to escape.
        query = query.filter(process::Column::TerritoryTags.contains(format!("|{code}|")));
    }
    if let Some(after) = after {
        query = query.filter(process::Column::Id.lt(after));
    }
    query
        .order_by_desc(process::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_process)
        .collect()
}

/// Writes `next` over `current` unless it changed meanwhile (then `false`).
pub async fn update_process<C: ConnectionTrait>(
    db: &C,
    current: &Process,
    next: &Process,
) -> Result<bool, DbErr> {
    let mut row = process_row(next);
    row.id = sea_orm::ActiveValue::NotSet;
    row.created_by = sea_orm::ActiveValue::NotSet;
    row.created_at = sea_orm::ActiveValue::NotSet;
    let result = process::Entity::update_many()
        .set(row)
        .filter(process::Column::Id.eq(current.id))
        .filter(process::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Erases a participant: their sign-in (the subject, freed for a new registration) and
/// pseudonym replaced, their verifications deleted; the rows that count what they did —
/// proposals, comments, supports, ballots, registrations — stay, now anonymous.
pub async fn erase_participant<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<bool, DbErr> {
    let erased = participant::Entity::update_many()
        .col_expr(
            participant::Column::Subject,
            sea_orm::sea_query::Expr::value(format!("erased:{id}")),
        )
        .col_expr(
            participant::Column::DisplayName,
            sea_orm::sea_query::Expr::value(crate::domain::ERASED),
        )
        .filter(participant::Column::Id.eq(id))
        .exec(db)
        .await?;
    verification::Entity::delete_many()
        .filter(verification::Column::ParticipantId.eq(id))
        .exec(db)
        .await?;
    Ok(erased.rows_affected == 1)
}
