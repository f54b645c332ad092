//! `place_replica`: the places of the registry, from `fabrique.registry.place.*`.

use async_trait::async_trait;
use fabrique_api::registry as proto;
use fabrique_platform::consumer::{ConsumerTxn, HandlerError, Handling};
use fabrique_platform::event::IncomingEvent;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use sea_orm_migration::prelude::{MigrationName, MigrationTrait, SchemaManager};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "place_replica")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub insee_code: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub state: String,
    pub operator_id: Option<Uuid>,
    pub version: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A place as the replica knows it; `state` is the registry's text (`listed`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaPlace {
    pub id: Uuid,
    pub display_name: String,
    pub insee_code: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub state: String,
    pub operator: Option<Uuid>,
    pub version: i64,
}

impl ReplicaPlace {
    pub fn is_closed(&self) -> bool {
        self.state == "closed"
    }
}

/// What an event says happened to the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Proposed,
    Listed,
    Updated,
    Suspended,
    Closed { reason: String },
    ReviewNeeded,
}

fn to_place(model: Model) -> ReplicaPlace {
    ReplicaPlace {
        id: model.id,
        display_name: model.display_name,
        insee_code: model.insee_code,
        latitude: model.latitude,
        longitude: model.longitude,
        state: model.state,
        operator: model.operator_id,
        version: model.version,
    }
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<ReplicaPlace>, DbErr> {
    Ok(Entity::find_by_id(id).one(db).await?.map(to_place))
}

/// Why a place may not be used (to host a project, to locate a resource…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The registry closed it.
    Closed,
    /// No event of this place has reached the service.
    Unknown,
}

/// The place `id` when the replica knows it and it is not closed (proposed, listed or
/// suspended), else why not: services decide on their own copy, without calling the
/// registry, and refuse with their own refusal built from [`Unavailable`].
pub async fn require_open<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Result<ReplicaPlace, Unavailable>, DbErr> {
    Ok(match get(db, id).await? {
        Some(place) if place.is_closed() => Err(Unavailable::Closed),
        Some(place) => Ok(place),
        None => Err(Unavailable::Unknown),
    })
}

/// Several places at once (for matching).
pub async fn get_many<C: ConnectionTrait>(
    db: &C,
    ids: Vec<Uuid>,
) -> Result<Vec<ReplicaPlace>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .filter(Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(to_place)
        .collect())
}

/// Stores `place` unless the replica holds this version or a newer one.
pub async fn upsert<C: ConnectionTrait>(db: &C, place: &ReplicaPlace) -> Result<bool, DbErr> {
    Ok(upsert_all(db, std::slice::from_ref(place)).await?[..] == [true])
}

/// Stores each place unless the replica holds its version or a newer one, in as few
/// statements as their ids allow; tells for each whether it was stored, as [`upsert`]
/// on each in turn would.
pub async fn upsert_all<C: ConnectionTrait>(
    db: &C,
    places: &[ReplicaPlace],
) -> Result<Vec<bool>, DbErr> {
    let now = fabrique_platform::time::now();
    let rows = places
        .iter()
        .map(|place| {
            let row = ActiveModel {
                id: Set(place.id),
                display_name: Set(place.display_name.clone()),
                insee_code: Set(place.insee_code.clone()),
                latitude: Set(place.latitude),
                longitude: Set(place.longitude),
                state: Set(place.state.clone()),
                operator_id: Set(place.operator),
                version: Set(place.version),
                updated_at: Set(now),
            };
            (place.id, row)
        })
        .collect();
    crate::upsert_newer(
        db,
        rows,
        [
            Column::DisplayName,
            Column::InseeCode,
            Column::Latitude,
            Column::Longitude,
            Column::State,
            Column::OperatorId,
            Column::Version,
            Column::UpdatedAt,
        ],
    )
    .await
}

pub fn from_snapshot(snapshot: &proto::PlaceSnapshot) -> Result<ReplicaPlace, HandlerError> {
    let permanent = |what: &str| HandlerError::Permanent(format!("place snapshot: {what}"));
    let id = Uuid::parse_str(&snapshot.id).map_err(|_| permanent("id is not a UUID"))?;
    let location = snapshot
        .location
        .as_ref()
        .ok_or_else(|| permanent("no location"))?;
    let state = proto::PlaceState::try_from(snapshot.state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("PLACE_STATE_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "unknown".into());
    let operator = match snapshot.operator.strip_prefix("members/") {
        Some(id) => {
            Some(Uuid::parse_str(id).map_err(|_| permanent("operator is not members/{id}"))?)
        }
        None => None,
    };
    Ok(ReplicaPlace {
        id,
        display_name: snapshot.display_name.clone(),
        insee_code: (!snapshot.insee_code.is_empty()).then(|| snapshot.insee_code.clone()),
        latitude: location.latitude,
        longitude: location.longitude,
        state,
        operator,
        version: snapshot.version,
    })
}

/// The place and change a registry event carries; `None` for an unknown verb.
pub fn decode(event: &IncomingEvent) -> Result<Option<(ReplicaPlace, Change)>, HandlerError> {
    let verb = event.subject.rsplit('.').next().unwrap_or_default();
    let permanent = HandlerError::Permanent;
    let (snapshot, change) = match verb {
        "proposed" => (
            event
                .decode::<proto::PlaceProposed>()
                .map_err(permanent)?
                .place,
            Change::Proposed,
        ),
        "listed" => (
            event
                .decode::<proto::PlaceListed>()
                .map_err(permanent)?
                .place,
            Change::Listed,
        ),
        "updated" => (
            event
                .decode::<proto::PlaceUpdated>()
                .map_err(permanent)?
                .place,
            Change::Updated,
        ),
        "suspended" => (
            event
                .decode::<proto::PlaceSuspended>()
                .map_err(permanent)?
                .place,
            Change::Suspended,
        ),
        "review_needed" => (
            event
                .decode::<proto::PlaceReviewNeeded>()
                .map_err(permanent)?
                .place,
            Change::ReviewNeeded,
        ),
        "closed" => {
            let closed = event.decode::<proto::PlaceClosed>().map_err(permanent)?;
            (
                closed.place,
                Change::Closed {
                    reason: closed.reason,
                },
            )
        }
        _ => return Ok(None),
    };
    let snapshot = snapshot.ok_or_else(|| {
        HandlerError::Permanent(format!("{} carries no place snapshot", event.ce_type))
    })?;
    Ok(Some((from_snapshot(&snapshot)?, change)))
}

/// Decodes a place event and updates the replica; `Some` only when it was newer.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    event: &IncomingEvent,
) -> Result<Option<(ReplicaPlace, Change)>, HandlerError> {
    Ok(apply_all(db, &[event]).await?.pop().flatten())
}

/// [`apply`] for events in order, their rows written together (see [`upsert_all`]).
pub async fn apply_all<C: ConnectionTrait>(
    db: &C,
    events: &[&IncomingEvent],
) -> Result<Vec<Option<(ReplicaPlace, Change)>>, HandlerError> {
    store(db, decode_all(events)?).await
}

/// For a service that keeps the replica and does nothing else with these events (its
/// [`EventHandler`](fabrique_platform::consumer::EventHandler)'s `handle` and
/// `handle_all`): [`apply_all`], sent as the transaction's last statement
/// ([`ConsumerTxn::commit_with_next_statement`]).
pub async fn keep(txn: &ConsumerTxn, events: &[&IncomingEvent]) -> Result<(), HandlerError> {
    let decoded = decode_all(events)?;
    crate::last_write_unless(txn, &decoded, |place| place.id, &|_| false);
    store(txn, decoded).await?;
    Ok(())
}

/// An [`EventHandler::handle_all`](fabrique_platform::consumer::EventHandler::handle_all)
/// for these events: [`apply_all`], then `follow` (the event's consequences) for each
/// event that was newer than the replica, under that event's span.
pub async fn handle_all<F, Fut>(
    txn: &ConsumerTxn,
    events: &[Handling<'_>],
    follow: F,
) -> Result<(), HandlerError>
where
    F: Fn(ReplicaPlace, Change) -> Fut,
    Fut: std::future::Future<Output = Result<(), HandlerError>>,
{
    let all: Vec<&IncomingEvent> = events.iter().map(|h| h.event).collect();
    let applied = apply_all(txn, &all).await?;
    crate::follow_each(events, applied, |(place, change)| follow(place, change)).await
}

fn decode_all(
    events: &[&IncomingEvent],
) -> Result<Vec<Option<(ReplicaPlace, Change)>>, HandlerError> {
    events.iter().map(|event| decode(event)).collect()
}

/// Stores the decoded events' rows; those stored, in order.
async fn store<C: ConnectionTrait>(
    db: &C,
    decoded: Vec<Option<(ReplicaPlace, Change)>>,
) -> Result<Vec<Option<(ReplicaPlace, Change)>>, HandlerError> {
    let places: Vec<ReplicaPlace> = decoded
        .iter()
        .flatten()
        .map(|(place, _)| place.clone())
        .collect();
    let stored = upsert_all(db, &places).await?;
    Ok(crate::stored_only(decoded, stored))
}

/// The migration creating `place_replica`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000012_place_replica"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time, _, double) = crate::column_types(db);
        db.execute_unprepared(&format!(
            "CREATE TABLE place_replica (
                id {uuid} PRIMARY KEY,
                display_name TEXT NOT NULL,
                insee_code TEXT,
                latitude {double} NOT NULL,
                longitude {double} NOT NULL,
                state TEXT NOT NULL,
                operator_id {uuid},
                version BIGINT NOT NULL,
                updated_at {time} NOT NULL
            )"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE place_replica")
            .await?;
        Ok(())
    }
}
