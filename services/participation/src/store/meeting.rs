//! Meetings and their registrations. A seat is taken by a conditional UPDATE of the
//! meeting's `registered` count (`registered < seats`), which row-locks it: concurrent
//! registrations queue there and never pass the seats. Who does not get one is numbered
//! on the waiting list (`queued`); a seat given up goes to the lowest number still
//! waiting, by a conditional UPDATE of that registration, so two cancellations never
//! promote the same person.

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::corrupt;
use super::entity::{meeting, registration};
use crate::domain::meeting::{
    AttendanceState, Meeting, MeetingKind, NewMeeting, Registration, Venue,
};

/// One meeting per creation request.
pub const REQUEST_KEY: UniqueKey = UniqueKey {
    name: "meetings_create_request_id",
    table: "meetings",
    columns: &["create_request_id"],
};

/// One registration per participant and meeting.
pub const REGISTRATION_KEY: UniqueKey = UniqueKey {
    name: "meeting_registrations_pkey",
    table: "meeting_registrations",
    columns: &["meeting_id", "participant_id"],
};

fn row(m: &Meeting) -> meeting::ActiveModel {
    let d = &m.details;
    let (place, online) = match &d.venue {
        Venue::Place(place) => (Some(*place), None),
        Venue::Online(url) => (None, Some(url.clone())),
    };
    meeting::ActiveModel {
        id: Set(m.id),
        process_id: Set(m.process),
        kind: Set(d.kind.as_str().to_string()),
        title: Set(d.title.clone()),
        description: Set(d.description.clone()),
        starts_at: Set(d.start),
        ends_at: Set(d.end),
        place_id: Set(place),
        online_url: Set(online),
        seats: Set(d.seats as i32),
        cancelled_at: Set(m.cancelled_at),
        minutes: Set(m.minutes.as_ref().map(|(text, _)| text.clone())),
        minutes_at: Set(m.minutes.as_ref().map(|(_, at)| *at)),
        created_by: Set(m.created_by.clone()),
        created_at: Set(m.created_at),
        updated_at: Set(m.updated_at),
        version: Set(m.version),
        ..Default::default()
    }
}

/// The meetings rows hold, with their waiting counts and places' names.
async fn read<C: ConnectionTrait>(
    db: &C,
    rows: Vec<meeting::Model>,
) -> Result<Vec<Meeting>, Error> {
    let mut meetings = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: MeetingKind = row
            .kind
            .parse()
            .map_err(|e| corrupt("meeting", row.id, e))?;
        let venue = match (row.place_id, row.online_url) {
            (Some(place), _) => Venue::Place(place),
            (None, Some(url)) => Venue::Online(url),
            (None, None) => return Err(corrupt("meeting", row.id, "neither place nor address")),
        };
        let place_display_name = match venue {
            Venue::Place(place) => fabrique_replicas::places::get(db, place)
                .await?
                .map(|p| p.display_name),
            Venue::Online(_) => None,
        };
        let waiting = registration::Entity::find()
            .filter(registration::Column::MeetingId.eq(row.id))
            .filter(registration::Column::State.eq(AttendanceState::Waiting.as_str()))
            .count(db)
            .await?;
        meetings.push(Meeting {
            id: row.id,
            process: row.process_id,
            details: NewMeeting {
                kind,
                title: row.title,
                description: row.description,
                start: row.starts_at,
                end: row.ends_at,
                venue,
                seats: u32::try_from(row.seats).unwrap_or(0),
            },
            place_display_name,
            registered: u32::try_from(row.registered).unwrap_or(0),
            waiting: u32::try_from(waiting).unwrap_or(u32::MAX),
            cancelled_at: row.cancelled_at,
            minutes: row.minutes.zip(row.minutes_at),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        });
    }
    Ok(meetings)
}

/// Inserts a meeting, no seat taken; a [`REQUEST_KEY`] violation is a concurrent retry.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    m: &Meeting,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = row(m);
    row.registered = Set(0);
    row.queued = Set(0);
    row.create_request_id = Set(request_id);
    meeting::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A meeting of `process`.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    process: Uuid,
    id: Uuid,
) -> Result<Option<Meeting>, Error> {
    let rows = meeting::Entity::find_by_id(id)
        .filter(meeting::Column::ProcessId.eq(process))
        .all(db)
        .await?;
    Ok(read(db, rows).await?.pop())
}

/// The meeting an earlier CreateMeeting with this request id made.
pub async fn by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Meeting>, Error> {
    let rows = meeting::Entity::find()
        .filter(meeting::Column::CreateRequestId.eq(request_id))
        .all(db)
        .await?;
    Ok(read(db, rows).await?.pop())
}

/// A process's meetings, soonest first, skipping `skip`, at most `limit`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    process: Uuid,
    skip: u64,
    limit: u64,
) -> Result<Vec<Meeting>, Error> {
    let rows = meeting::Entity::find()
        .filter(meeting::Column::ProcessId.eq(process))
        .order_by_asc(meeting::Column::StartsAt)
        .order_by_asc(meeting::Column::Id)
        .offset(skip)
        .limit(limit)
        .all(db)
        .await?;
    read(db, rows).await
}

/// Writes `next` over `current` (seats taken and the queue left to registrations)
/// unless it changed meanwhile (then `false`).
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: &Meeting,
    next: &Meeting,
) -> Result<bool, DbErr> {
    let mut row = row(next);
    row.id = sea_orm::ActiveValue::NotSet;
    row.process_id = sea_orm::ActiveValue::NotSet;
    row.created_at = sea_orm::ActiveValue::NotSet;
    let result = meeting::Entity::update_many()
        .set(row)
        .filter(meeting::Column::Id.eq(current.id))
        .filter(meeting::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The participant's registration, with their place on the waiting list.
pub async fn registration_of<C: ConnectionTrait>(
    db: &C,
    meeting: Uuid,
    participant: Uuid,
) -> Result<Option<Registration>, Error> {
    let Some(found) = registration::Entity::find_by_id((meeting, participant))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let state: AttendanceState = found
        .state
        .parse()
        .map_err(|e| corrupt("registration", meeting, e))?;
    let waiting_position = if state == AttendanceState::Waiting {
        let ahead = registration::Entity::find()
            .filter(registration::Column::MeetingId.eq(meeting))
            .filter(registration::Column::State.eq(AttendanceState::Waiting.as_str()))
            .filter(registration::Column::Position.lte(found.position))
            .count(db)
            .await?;
        u32::try_from(ahead).unwrap_or(u32::MAX)
    } else {
        0
    };
    Ok(Some(Registration {
        state,
        waiting_position,
    }))
}

/// Within the caller's transaction: a seat if one is left (and the meeting not
/// cancelled), the next waiting-list number otherwise, then the registration row. A
/// [`REGISTRATION_KEY`] violation means the participant registered already: roll back.
pub async fn register<C: ConnectionTrait>(
    txn: &C,
    meeting: Uuid,
    participant: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<AttendanceState, DbErr> {
    let seat = meeting::Entity::update_many()
        .col_expr(
            meeting::Column::Registered,
            Expr::col(meeting::Column::Registered).add(1),
        )
        .filter(meeting::Column::Id.eq(meeting))
        .filter(Expr::col(meeting::Column::Registered).lt(Expr::col(meeting::Column::Seats)))
        .filter(meeting::Column::CancelledAt.is_null())
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    let (state, position) = if seat {
        (AttendanceState::Registered, 0)
    } else {
        meeting::Entity::update_many()
            .col_expr(
                meeting::Column::Queued,
                Expr::col(meeting::Column::Queued).add(1),
            )
            .filter(meeting::Column::Id.eq(meeting))
            .exec(txn)
            .await?;
        let queued: Option<i64> = meeting::Entity::find_by_id(meeting)
            .select_only()
            .column(meeting::Column::Queued)
            .into_tuple()
            .one(txn)
            .await?;
        (AttendanceState::Waiting, queued.unwrap_or_default())
    };
    registration::Entity::insert(registration::ActiveModel {
        meeting_id: Set(meeting),
        participant_id: Set(participant),
        state: Set(state.as_str().to_string()),
        position: Set(position),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(state)
}

/// Within the caller's transaction: removes the participant's registration; a seat it
/// held goes to the first still waiting, or is freed. What it was, `None` if nothing.
pub async fn cancel<C: ConnectionTrait>(
    txn: &C,
    meeting: Uuid,
    participant: Uuid,
) -> Result<Option<AttendanceState>, DbErr> {
    let Some(found) = registration::Entity::find_by_id((meeting, participant))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let deleted = registration::Entity::delete_many()
        .filter(registration::Column::MeetingId.eq(meeting))
        .filter(registration::Column::ParticipantId.eq(participant))
        .filter(registration::Column::State.eq(found.state.as_str()))
        .exec(txn)
        .await?;
    if deleted.rows_affected != 1 {
        return Ok(None);
    }
    if found.state != AttendanceState::Registered.as_str() {
        return Ok(Some(AttendanceState::Waiting));
    }
    // Hand the seat over: the first still waiting, unless a concurrent cancellation
    // promoted them first (then the next).
    loop {
        let next = registration::Entity::find()
            .filter(registration::Column::MeetingId.eq(meeting))
            .filter(registration::Column::State.eq(AttendanceState::Waiting.as_str()))
            .order_by_asc(registration::Column::Position)
            .one(txn)
            .await?;
        let Some(next) = next else {
            meeting::Entity::update_many()
                .col_expr(
                    meeting::Column::Registered,
                    Expr::col(meeting::Column::Registered).sub(1),
                )
                .filter(meeting::Column::Id.eq(meeting))
                .exec(txn)
                .await?;
            return Ok(Some(AttendanceState::Registered));
        };
        let promoted = registration::Entity::update_many()
            .col_expr(
                registration::Column::State,
                Expr::value(AttendanceState::Registered.as_str()),
            )
            .filter(registration::Column::MeetingId.eq(meeting))
            .filter(registration::Column::ParticipantId.eq(next.participant_id))
            .filter(registration::Column::State.eq(AttendanceState::Waiting.as_str()))
            .exec(txn)
            .await?;
        if promoted.rows_affected == 1 {
            return Ok(Some(AttendanceState::Registered));
        }
    }
}

/// How many registration rows say `state` (for checks against the count).
pub async fn count_in<C: ConnectionTrait>(
    db: &C,
    meeting: Uuid,
    state: AttendanceState,
) -> Result<u64, DbErr> {
    registration::Entity::find()
        .filter(registration::Column::MeetingId.eq(meeting))
        .filter(registration::Column::State.eq(state.as_str()))
        .count(db)
        .await
}
