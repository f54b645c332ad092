//! The reservations table. What the database itself guarantees is here: holding
//! reservations of one resource never overlap, their turnaround included (an
//! exclusion constraint on PostgreSQL, triggers on SQLite; see the migration).

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::reservation;
use super::{from_us, internal, to_us};
use crate::domain::{Invalid, Reservation, ReservationFilter, ReservationState, Slot};

fn reservation_columns(r: &Reservation) -> reservation::ActiveModel {
    reservation::ActiveModel {
        resource_id: Set(r.resource),
        owner_id: Set(r.owner),
        borrower_id: Set(r.borrower),
        start_us: Set(to_us(r.slot.start())),
        end_us: Set(to_us(r.slot.end())),
        held_end_us: Set(to_us(r.held_end)),
        answer_by_us: Set(Some(to_us(r.answer_by))),
        note: Set(r.note.clone()),
        state: Set(r.state.as_str().to_string()),
        state_reason: Set(r.state_reason.clone()),
        updated_at: Set(r.updated_at),
        version: Set(r.version),
        ..Default::default()
    }
}

fn to_reservation(m: reservation::Model) -> Result<Reservation, Error> {
    let id = m.id;
    let parse = || -> Result<Reservation, Invalid> {
        Ok(Reservation {
            id: m.id,
            resource: m.resource_id,
            owner: m.owner_id,
            borrower: m.borrower_id,
            slot: Slot::new(from_us(m.start_us), from_us(m.end_us))?,
            held_end: from_us(m.held_end_us),
            answer_by: from_us(m.answer_by_us.unwrap_or(m.start_us)),
            note: m.note.clone(),
            state: m.state.parse()?,
            state_reason: m.state_reason.clone(),
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    parse().map_err(|invalid| internal("reservation", id, invalid))
}

/// One reservation per create `request_id`: a retried create finds the first's.
pub const RESERVATION_REQUEST_ID_KEY: UniqueKey = UniqueKey {
    name: "reservations_create_request_id",
    table: "reservations",
    columns: &["create_request_id"],
};

/// Inserts `r`; the exclusion constraint refuses it if it overlaps a holding one
/// (see [`super::is_overlap`]), and `request_id` lets a retried create find it
/// ([`RESERVATION_REQUEST_ID_KEY`]).
pub async fn insert_reservation<C: ConnectionTrait>(
    db: &C,
    r: &Reservation,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    // Two overlapping inserts racing on the exclusion constraint each wait for the
    // other's row, and PostgreSQL ends one as a deadlock, after a second: under load one
    // request lost three times running. Inserts on one resource take turns instead
    // (until their transaction ends); the constraint still decides who wins.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let key = fabrique_platform::db::lock_key("reservation", &r.resource.to_string());
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    let mut row = reservation_columns(r);
    row.id = Set(r.id);
    row.created_by = Set(r.created_by.clone());
    row.create_request_id = Set(request_id);
    row.created_at = Set(r.created_at);
    reservation::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The reservation `id`, if it exists.
pub async fn get_reservation<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<Reservation>, Error> {
    reservation::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_reservation)
        .transpose()
}

/// The reservation a create with `request_id` made, for replaying it.
pub async fn reservation_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Reservation>, Error> {
    reservation::Entity::find()
        .filter(reservation::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_reservation)
        .transpose()
}

/// Writes `r` (version `expected + 1`) if still at `expected`; `false` if another
/// change came first.
pub async fn update_reservation<C: ConnectionTrait>(
    db: &C,
    r: &Reservation,
    expected: i64,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .set(reservation_columns(r))
        .filter(reservation::Column::Id.eq(r.id))
        .filter(reservation::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The reservations that hold their slot (requested or confirmed).
fn holding() -> sea_orm::Select<reservation::Entity> {
    reservation::Entity::find().filter(reservation::Column::State.is_in([
        ReservationState::Requested.as_str(),
        ReservationState::Confirmed.as_str(),
    ]))
}

/// Holding reservations of `resource` whose held range meets `[from, to)`.
pub async fn holding_between<C: ConnectionTrait>(
    db: &C,
    resource: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Reservation>, Error> {
    use reservation::Column;
    holding()
        .filter(Column::ResourceId.eq(resource))
        .filter(Column::StartUs.lt(to_us(to)))
        .filter(Column::HeldEndUs.gt(to_us(from)))
        .order_by_asc(Column::StartUs)
        .all(db)
        .await?
        .into_iter()
        .map(to_reservation)
        .collect()
}

/// Holding reservations starting after `now` where `member` borrows or owns.
pub async fn future_holding_of<C: ConnectionTrait>(
    db: &C,
    member: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Reservation>, Error> {
    use reservation::Column;
    holding()
        .filter(
            Condition::any()
                .add(Column::BorrowerId.eq(member))
                .add(Column::OwnerId.eq(member)),
        )
        .filter(Column::StartUs.gt(to_us(now)))
        .order_by_asc(Column::StartUs)
        .all(db)
        .await?
        .into_iter()
        .map(to_reservation)
        .collect()
}

/// Holding reservations of `resource` that have not started at `now`: what a withdrawal
/// or a closed place ends.
pub async fn future_holding_on<C: ConnectionTrait>(
    db: &C,
    resource: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Reservation>, Error> {
    use reservation::Column;
    holding()
        .filter(Column::ResourceId.eq(resource))
        .filter(Column::StartUs.gt(to_us(now)))
        .order_by_asc(Column::StartUs)
        .all(db)
        .await?
        .into_iter()
        .map(to_reservation)
        .collect()
}

/// Up to `limit` requests still unanswered whose deadline has passed at `now`, oldest
/// deadline first.
pub async fn overdue_requests<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Reservation>, Error> {
    use reservation::Column;
    reservation::Entity::find()
        .filter(Column::State.eq(ReservationState::Requested.as_str()))
        .filter(Column::AnswerByUs.lte(to_us(now)))
        .order_by_asc(Column::AnswerByUs)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_reservation)
        .collect()
}

/// A page of reservations matching `filter`, by id after `after`.
pub async fn list_reservations<C: ConnectionTrait>(
    db: &C,
    filter: &ReservationFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Reservation>, Error> {
    use reservation::Column;
    let mut query = reservation::Entity::find();
    if let Some(resource) = filter.resource {
        query = query.filter(Column::ResourceId.eq(resource));
    }
    if let Some(borrower) = filter.borrower {
        query = query.filter(Column::BorrowerId.eq(borrower));
    }
    if let Some(owner) = filter.owner {
        query = query.filter(Column::OwnerId.eq(owner));
    }
    if !filter.states.is_empty() {
        query = query.filter(Column::State.is_in(filter.states.iter().map(|s| s.as_str())));
    }
    if let Some(member) = filter.involving {
        query = query.filter(
            Condition::any()
                .add(Column::BorrowerId.eq(member))
                .add(Column::OwnerId.eq(member)),
        );
    }
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    query
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_reservation)
        .collect()
}
