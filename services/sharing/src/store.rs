//! Where resources, reservations, claims and needs are kept, the same on PostgreSQL and
//! SQLite. Two guarantees live in the database itself: holding reservations of a
//! resource never overlap (an exclusion constraint on PostgreSQL, triggers on SQLite),
//! and a material's remaining quantity never goes below zero (a CHECK and conditional
//! updates).

mod entity;
pub mod migrations;

use chrono::{DateTime, Duration, Utc};
use fabrique_platform::Error;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::domain::{
    BookingRules, Claim, ClaimState, Conditions, Invalid, Location, Milli, Need, NeedState,
    QuantityUnit, Reservation, ReservationState, Resource, ResourceKind, ResourceState, Slot, fold,
};
use entity::{claim, need, reservation, resource};

pub fn to_us(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

pub fn from_us(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn internal(what: &str, id: Uuid, invalid: Invalid) -> Error {
    Error::internal(format!("stored {what} {id} is invalid: {invalid}"))
}

/// Whether an insert or update broke the no-overlap guarantee.
pub fn is_overlap(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("reservations_no_overlap") || text.contains("23P01")
}

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

fn resource_columns(r: &Resource) -> resource::ActiveModel {
    let mut search = fold(&r.title);
    if let Some(description) = &r.description {
        search.push('\n');
        search.push_str(&fold(description));
    }
    resource::ActiveModel {
        owner_id: Set(r.owner),
        kind: Set(r.kind.as_str().to_string()),
        title: Set(r.title.clone()),
        description: Set(r.description.clone()),
        search_text: Set(search),
        place_id: Set(r.place),
        latitude: Set(r.location.map(|l| l.latitude())),
        longitude: Set(r.location.map(|l| l.longitude())),
        price_cents_per_day: Set(r.conditions.price_cents_per_day),
        deposit_cents: Set(r.conditions.deposit_cents),
        eco_labels: Set(serde_json::json!(r.eco_labels)),
        state: Set(r.state.as_str().to_string()),
        state_reason: Set(r.state_reason.clone()),
        turnaround_minutes: Set(r.rules.turnaround.num_minutes()),
        max_duration_minutes: Set(r.rules.max_duration.map(|d| d.num_minutes())),
        max_advance_days: Set(r.rules.max_advance.map(|d| d.num_days())),
        unit: Set(r.stock.map(|(_, _, unit)| unit.as_str().to_string())),
        offered_milli: Set(r.stock.map(|(offered, _, _)| offered.milli())),
        remaining_milli: Set(r.stock.map(|(_, remaining, _)| remaining.milli())),
        updated_at: Set(r.updated_at),
        version: Set(r.version),
        ..Default::default()
    }
}

/// A resource row and whether its coordinates came from its place.
pub struct StoredResource {
    pub resource: Resource,
    pub location_from_place: bool,
}

fn to_resource(m: resource::Model) -> Result<StoredResource, Error> {
    let id = m.id;
    let parse = || -> Result<Resource, Invalid> {
        let location = match (m.latitude, m.longitude) {
            (Some(lat), Some(lon)) => Some(Location::parse(lat, lon).map_err(|(_, e)| e)?),
            _ => None,
        };
        let stock = match (m.offered_milli, m.remaining_milli, m.unit.as_deref()) {
            (Some(offered), Some(remaining), Some(unit)) => Some((
                Milli::from_milli(offered),
                Milli::from_milli(remaining),
                unit.parse::<QuantityUnit>()?,
            )),
            _ => None,
        };
        Ok(Resource {
            id: m.id,
            owner: m.owner_id,
            kind: m.kind.parse()?,
            title: m.title.clone(),
            description: m.description.clone(),
            place: m.place_id,
            location,
            conditions: Conditions {
                price_cents_per_day: m.price_cents_per_day,
                deposit_cents: m.deposit_cents,
            },
            eco_labels: serde_json::from_value(m.eco_labels.clone())
                .map_err(|e| Invalid::new(e.to_string()))?,
            state: m.state.parse()?,
            state_reason: m.state_reason.clone(),
            rules: BookingRules {
                turnaround: Duration::minutes(m.turnaround_minutes),
                max_duration: m.max_duration_minutes.map(Duration::minutes),
                max_advance: m.max_advance_days.map(Duration::days),
            },
            stock,
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    let resource = parse().map_err(|invalid| internal("resource", id, invalid))?;
    Ok(StoredResource {
        resource,
        location_from_place: m.location_from_place,
    })
}

pub async fn insert_resource<C: ConnectionTrait>(
    db: &C,
    r: &Resource,
    location_from_place: bool,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = resource_columns(r);
    row.id = Set(r.id);
    row.location_from_place = Set(location_from_place);
    row.created_by = Set(r.created_by.clone());
    row.create_request_id = Set(request_id);
    row.created_at = Set(r.created_at);
    resource::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn get_resource<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<StoredResource>, Error> {
    resource::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_resource)
        .transpose()
}

pub async fn resource_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Resource>, Error> {
    resource::Entity::find()
        .filter(resource::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(|m| to_resource(m).map(|s| s.resource))
        .transpose()
}

/// Writes `r` (version `expected + 1`) if still at `expected`. The remaining stock is
/// not written here: only claims move it.
pub async fn update_resource<C: ConnectionTrait>(
    db: &C,
    r: &Resource,
    location_from_place: bool,
    expected: i64,
) -> Result<bool, DbErr> {
    let mut row = resource_columns(r);
    row.remaining_milli = sea_orm::ActiveValue::NotSet;
    row.location_from_place = Set(location_from_place);
    let result = resource::Entity::update_many()
        .set(row)
        .filter(resource::Column::Id.eq(r.id))
        .filter(resource::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes `quantity` from the stock if that much remains; `false` otherwise.
pub async fn take_stock<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    quantity: Milli,
) -> Result<bool, DbErr> {
    let result = resource::Entity::update_many()
        .col_expr(
            resource::Column::RemainingMilli,
            Expr::col(resource::Column::RemainingMilli).sub(quantity.milli()),
        )
        .filter(resource::Column::Id.eq(id))
        .filter(resource::Column::RemainingMilli.gte(quantity.milli()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn return_stock<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    quantity: Milli,
) -> Result<(), DbErr> {
    resource::Entity::update_many()
        .col_expr(
            resource::Column::RemainingMilli,
            Expr::col(resource::Column::RemainingMilli).add(quantity.milli()),
        )
        .filter(resource::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Filters of a resource list.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    pub kinds: Vec<ResourceKind>,
    /// Empty: AVAILABLE.
    pub states: Vec<ResourceState>,
    pub owner: Option<Uuid>,
    pub place: Option<Uuid>,
    pub query: Option<String>,
    /// Leave out this member's own resources (matching).
    pub not_owner: Option<Uuid>,
}

fn filtered(filter: &ResourceFilter) -> sea_orm::Select<resource::Entity> {
    use resource::Column;
    let mut query = resource::Entity::find();
    if !filter.kinds.is_empty() {
        query = query.filter(Column::Kind.is_in(filter.kinds.iter().map(|k| k.as_str())));
    }
    let states: Vec<&str> = if filter.states.is_empty() {
        vec![ResourceState::Available.as_str()]
    } else {
        filter.states.iter().map(|s| s.as_str()).collect()
    };
    query = query.filter(Column::State.is_in(states));
    if let Some(owner) = filter.owner {
        query = query.filter(Column::OwnerId.eq(owner));
    }
    if let Some(owner) = filter.not_owner {
        query = query.filter(Column::OwnerId.ne(owner));
    }
    if let Some(place) = filter.place {
        query = query.filter(Column::PlaceId.eq(place));
    }
    if let Some(text) = &filter.query {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(
            Expr::col(Column::SearchText).like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    query
}

pub async fn list_resources<C: ConnectionTrait>(
    db: &C,
    filter: &ResourceFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Resource>, Error> {
    let mut query = filtered(filter);
    if let Some(after) = after {
        query = query.filter(resource::Column::Id.gt(after));
    }
    query
        .order_by_asc(resource::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| to_resource(m).map(|s| s.resource))
        .collect()
}

/// Every resource matching `filter` within `radius_km` of `center`, nearest first.
pub async fn resources_within<C: ConnectionTrait>(
    db: &C,
    filter: &ResourceFilter,
    center: &Location,
    radius_km: f64,
) -> Result<Vec<(f64, Resource)>, Error> {
    let bbox = center.bounding_box(radius_km);
    let mut query = filtered(filter)
        .filter(resource::Column::Latitude.between(bbox.min_latitude, bbox.max_latitude));
    if let Some((min, max)) = bbox.longitudes {
        query = query.filter(resource::Column::Longitude.between(min, max));
    }
    let mut found = Vec::new();
    for model in query.all(db).await? {
        let resource = to_resource(model)?.resource;
        if let Some(location) = resource.location {
            let distance = center.distance_km(&location);
            if distance <= radius_km {
                found.push((distance, resource));
            }
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    Ok(found)
}

/// All resources matching `filter` (for matching; bounded by the caller).
pub async fn all_resources<C: ConnectionTrait>(
    db: &C,
    filter: &ResourceFilter,
    limit: u64,
) -> Result<Vec<Resource>, Error> {
    filtered(filter)
        .order_by_asc(resource::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| to_resource(m).map(|s| s.resource))
        .collect()
}

/// Resources a member owns, in `states`.
pub async fn resources_of<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    states: &[ResourceState],
) -> Result<Vec<StoredResource>, Error> {
    resource::Entity::find()
        .filter(resource::Column::OwnerId.eq(owner))
        .filter(resource::Column::State.is_in(states.iter().map(|s| s.as_str())))
        .order_by_asc(resource::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_resource)
        .collect()
}

/// Resources at a place.
pub async fn resources_at<C: ConnectionTrait>(
    db: &C,
    place: Uuid,
) -> Result<Vec<StoredResource>, Error> {
    resource::Entity::find()
        .filter(resource::Column::PlaceId.eq(place))
        .order_by_asc(resource::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_resource)
        .collect()
}

// ---------------------------------------------------------------------------
// Reservations
// ---------------------------------------------------------------------------

fn reservation_columns(r: &Reservation) -> reservation::ActiveModel {
    reservation::ActiveModel {
        resource_id: Set(r.resource),
        owner_id: Set(r.owner),
        borrower_id: Set(r.borrower),
        start_us: Set(to_us(r.slot.start())),
        end_us: Set(to_us(r.slot.end())),
        held_end_us: Set(to_us(r.held_end)),
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

/// Holding reservations of `resource` whose held range meets `[from, to)`.
pub async fn holding_between<C: ConnectionTrait>(
    db: &C,
    resource: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Reservation>, Error> {
    use reservation::Column;
    reservation::Entity::find()
        .filter(Column::ResourceId.eq(resource))
        .filter(Column::State.is_in([
            ReservationState::Requested.as_str(),
            ReservationState::Confirmed.as_str(),
        ]))
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
    reservation::Entity::find()
        .filter(
            Condition::any()
                .add(Column::BorrowerId.eq(member))
                .add(Column::OwnerId.eq(member)),
        )
        .filter(Column::State.is_in([
            ReservationState::Requested.as_str(),
            ReservationState::Confirmed.as_str(),
        ]))
        .filter(Column::StartUs.gt(to_us(now)))
        .order_by_asc(Column::StartUs)
        .all(db)
        .await?
        .into_iter()
        .map(to_reservation)
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct ReservationFilter {
    pub resource: Option<Uuid>,
    pub borrower: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub states: Vec<ReservationState>,
    /// Limits a non-admin to what concerns it: borrower or owner.
    pub involving: Option<Uuid>,
}

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

// ---------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------

fn to_claim(m: claim::Model) -> Result<Claim, Error> {
    let id = m.id;
    let parse = || -> Result<Claim, Invalid> {
        Ok(Claim {
            id: m.id,
            resource: m.resource_id,
            owner: m.owner_id,
            claimant: m.claimant_id,
            quantity: Milli::from_milli(m.quantity_milli),
            unit: m.unit.parse()?,
            state: m.state.parse()?,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    };
    parse().map_err(|invalid| internal("claim", id, invalid))
}

pub async fn insert_claim<C: ConnectionTrait>(
    db: &C,
    c: &Claim,
    created_by: &str,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    claim::Entity::insert(claim::ActiveModel {
        id: Set(c.id),
        resource_id: Set(c.resource),
        owner_id: Set(c.owner),
        claimant_id: Set(c.claimant),
        quantity_milli: Set(c.quantity.milli()),
        unit: Set(c.unit.as_str().to_string()),
        state: Set(c.state.as_str().to_string()),
        created_by: Set(created_by.to_string()),
        create_request_id: Set(request_id),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn get_claim<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Claim>, Error> {
    claim::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_claim)
        .transpose()
}

pub async fn claim_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Claim>, Error> {
    claim::Entity::find()
        .filter(claim::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_claim)
        .transpose()
}

/// Moves a claim from `from` to `to`; `false` if it was no longer in `from`.
pub async fn set_claim_state<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    from: ClaimState,
    to: ClaimState,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = claim::Entity::update_many()
        .col_expr(claim::Column::State, Expr::value(to.as_str()))
        .col_expr(claim::Column::UpdatedAt, Expr::value(at))
        .filter(claim::Column::Id.eq(id))
        .filter(claim::Column::State.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn list_claims<C: ConnectionTrait>(
    db: &C,
    resource: Option<Uuid>,
    claimant: Option<Uuid>,
    involving: Option<Uuid>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Claim>, Error> {
    use claim::Column;
    let mut query = claim::Entity::find();
    if let Some(resource) = resource {
        query = query.filter(Column::ResourceId.eq(resource));
    }
    if let Some(claimant) = claimant {
        query = query.filter(Column::ClaimantId.eq(claimant));
    }
    if let Some(member) = involving {
        query = query.filter(
            Condition::any()
                .add(Column::ClaimantId.eq(member))
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
        .map(to_claim)
        .collect()
}

// ---------------------------------------------------------------------------
// Needs
// ---------------------------------------------------------------------------

fn to_need(m: need::Model) -> Result<Need, Error> {
    let id = m.id;
    let parse = || -> Result<Need, Invalid> {
        let location = match (m.latitude, m.longitude) {
            (Some(lat), Some(lon)) => Some(Location::parse(lat, lon).map_err(|(_, e)| e)?),
            _ => None,
        };
        let slot = match (m.start_us, m.end_us) {
            (Some(start), Some(end)) => Some(Slot::new(from_us(start), from_us(end))?),
            _ => None,
        };
        let quantity = match (m.quantity_milli, m.unit.as_deref()) {
            (Some(q), Some(unit)) => Some((Milli::from_milli(q), unit.parse()?)),
            _ => None,
        };
        Ok(Need {
            id: m.id,
            member: m.member_id,
            kind: m.kind.as_deref().map(str::parse).transpose()?,
            description: m.description.clone(),
            place: m.place_id,
            location,
            radius_km: m.radius_km,
            slot,
            quantity,
            state: m.state.parse()?,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    };
    parse().map_err(|invalid| internal("need", id, invalid))
}

pub async fn insert_need<C: ConnectionTrait>(
    db: &C,
    n: &Need,
    created_by: &str,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    need::Entity::insert(need::ActiveModel {
        id: Set(n.id),
        member_id: Set(n.member),
        kind: Set(n.kind.map(|k| k.as_str().to_string())),
        description: Set(n.description.clone()),
        place_id: Set(n.place),
        latitude: Set(n.location.map(|l| l.latitude())),
        longitude: Set(n.location.map(|l| l.longitude())),
        radius_km: Set(n.radius_km),
        start_us: Set(n.slot.map(|s| to_us(s.start()))),
        end_us: Set(n.slot.map(|s| to_us(s.end()))),
        quantity_milli: Set(n.quantity.map(|(q, _)| q.milli())),
        unit: Set(n.quantity.map(|(_, u)| u.as_str().to_string())),
        state: Set(n.state.as_str().to_string()),
        created_by: Set(created_by.to_string()),
        create_request_id: Set(request_id),
        created_at: Set(n.created_at),
        updated_at: Set(n.updated_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn get_need<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Need>, Error> {
    need::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_need)
        .transpose()
}

pub async fn need_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Need>, Error> {
    need::Entity::find()
        .filter(need::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_need)
        .transpose()
}

pub async fn close_need<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = need::Entity::update_many()
        .col_expr(need::Column::State, Expr::value(NeedState::Closed.as_str()))
        .col_expr(need::Column::UpdatedAt, Expr::value(at))
        .filter(need::Column::Id.eq(id))
        .filter(need::Column::State.eq(NeedState::Open.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn list_needs<C: ConnectionTrait>(
    db: &C,
    member: Option<Uuid>,
    states: &[NeedState],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Need>, Error> {
    use need::Column;
    let mut query = need::Entity::find();
    if let Some(member) = member {
        query = query.filter(Column::MemberId.eq(member));
    }
    let states: Vec<&str> = if states.is_empty() {
        vec![NeedState::Open.as_str()]
    } else {
        states.iter().map(|s| s.as_str()).collect()
    };
    query = query.filter(Column::State.is_in(states));
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    query
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_need)
        .collect()
}
