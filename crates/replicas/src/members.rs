//! `member_replica`: the members the service has heard of, from
//! `fabrique.members.member.*`.

use async_trait::async_trait;
use fabrique_api::members as proto;
use fabrique_platform::consumer::{ConsumerTxn, HandlerError, Handling};
use fabrique_platform::event::IncomingEvent;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use sea_orm_migration::prelude::{MigrationName, MigrationTrait, SchemaManager};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_replica")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub kind: String,
    pub siren: Option<String>,
    /// Added by [`SiretMigration`].
    pub siret: Option<String>,
    /// Added by [`TerritoryMigration`].
    pub insee_code: Option<String>,
    /// Added by [`TerritoryMigration`].
    pub epci_siren: Option<String>,
    pub state: String,
    /// Roles of the member's contact people (`elected_official`, …).
    #[sea_orm(column_type = "JsonBinary")]
    pub contact_roles: Json,
    pub version: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A member as the replica knows it. `kind` and `state` are the members service's
/// stable texts (`commune`, `active`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaMember {
    pub id: Uuid,
    pub display_name: String,
    pub kind: String,
    pub siren: Option<String>,
    /// Its head office's SIRET, as the members service last gave it.
    pub siret: Option<String>,
    /// The commune's INSEE code (a collectivity's seat for the others).
    pub insee_code: Option<String>,
    /// The SIREN of the EPCI a commune belongs to.
    pub epci_siren: Option<String>,
    pub state: String,
    pub contact_roles: Vec<String>,
    pub version: i64,
}

impl ReplicaMember {
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// What an event says happened to the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Applied,
    Joined,
    Updated,
    Suspended { reason: String },
    Reinstated,
    Left { reason: String },
}

impl Change {
    /// The member can no longer act in the alliance (for now or for good).
    pub fn removes(&self) -> bool {
        matches!(self, Change::Suspended { .. } | Change::Left { .. })
    }
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<ReplicaMember>, DbErr> {
    Ok(Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|m| ReplicaMember {
            id: m.id,
            display_name: m.display_name,
            kind: m.kind,
            siren: m.siren,
            siret: m.siret,
            insee_code: m.insee_code,
            epci_siren: m.epci_siren,
            state: m.state,
            contact_roles: serde_json::from_value(m.contact_roles).unwrap_or_default(),
            version: m.version,
        }))
}

/// Why a member may not take part in a call: the replica does not hold it as active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inactive {
    /// Its state as the replica knows it (`pending`, `suspended`, `left`, …); `None`
    /// when no event of this member has reached the service.
    pub state: Option<String>,
}

/// The member `id` when the replica knows it as active, else why not: a service that
/// lets only active members act decides on its own copy, without calling the members
/// service, and refuses with its own refusal built from [`Inactive`].
pub async fn require_active<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Result<ReplicaMember, Inactive>, DbErr> {
    Ok(match get(db, id).await? {
        Some(member) if member.is_active() => Ok(member),
        known => Err(Inactive {
            state: known.map(|member| member.state),
        }),
    })
}

/// Stores `member` unless the replica already holds this version or a newer one;
/// returns whether it was stored.
pub async fn upsert<C: ConnectionTrait>(db: &C, member: &ReplicaMember) -> Result<bool, DbErr> {
    Ok(upsert_all(db, std::slice::from_ref(member)).await?[..] == [true])
}

/// Stores each member unless the replica holds its version or a newer one, in as few
/// statements as their ids allow (one when they are all different); tells for each
/// whether it was stored, as [`upsert`] on each in turn would.
pub async fn upsert_all<C: ConnectionTrait>(
    db: &C,
    members: &[ReplicaMember],
) -> Result<Vec<bool>, DbErr> {
    let now = fabrique_platform::time::now();
    let rows = members
        .iter()
        .map(|member| {
            let row = ActiveModel {
                id: Set(member.id),
                display_name: Set(member.display_name.clone()),
                kind: Set(member.kind.clone()),
                siren: Set(member.siren.clone()),
                siret: Set(member.siret.clone()),
                insee_code: Set(member.insee_code.clone()),
                epci_siren: Set(member.epci_siren.clone()),
                state: Set(member.state.clone()),
                contact_roles: Set(serde_json::json!(member.contact_roles)),
                version: Set(member.version),
                updated_at: Set(now),
            };
            (member.id, row)
        })
        .collect();
    crate::upsert_newer(
        db,
        rows,
        [
            Column::DisplayName,
            Column::Kind,
            Column::Siren,
            Column::Siret,
            Column::InseeCode,
            Column::EpciSiren,
            Column::State,
            Column::ContactRoles,
            Column::Version,
            Column::UpdatedAt,
        ],
    )
    .await
}

fn text(proto_name: &str, prefix: &str) -> String {
    proto_name
        .strip_prefix(prefix)
        .unwrap_or(proto_name)
        .to_ascii_lowercase()
}

/// The replica row of a snapshot.
pub fn from_snapshot(snapshot: &proto::MemberSnapshot) -> Result<ReplicaMember, HandlerError> {
    let id = Uuid::parse_str(&snapshot.id).map_err(|_| {
        HandlerError::Permanent(format!("member id {:?} is not a UUID", snapshot.id))
    })?;
    let kind = proto::MemberKind::try_from(snapshot.kind)
        .map(|k| text(k.as_str_name(), "MEMBER_KIND_"))
        .unwrap_or_else(|_| "unknown".into());
    let state = proto::MemberState::try_from(snapshot.state)
        .map(|s| text(s.as_str_name(), "MEMBER_STATE_"))
        .unwrap_or_else(|_| "unknown".into());
    let contact_roles = snapshot
        .contacts
        .iter()
        .filter_map(|c| proto::ContactRole::try_from(c.role).ok())
        .map(|r| text(r.as_str_name(), "CONTACT_ROLE_"))
        .collect();
    Ok(ReplicaMember {
        id,
        display_name: snapshot.display_name.clone(),
        kind,
        siren: (!snapshot.siren.is_empty()).then(|| snapshot.siren.clone()),
        siret: (!snapshot.siret.is_empty()).then(|| snapshot.siret.clone()),
        insee_code: (!snapshot.insee_code.is_empty()).then(|| snapshot.insee_code.clone()),
        epci_siren: (!snapshot.epci_siren.is_empty()).then(|| snapshot.epci_siren.clone()),
        state,
        contact_roles,
        version: snapshot.version,
    })
}

/// The member and the change a member event carries; `None` for a verb this version
/// does not know (skipped, not dead-lettered: the producer may be newer).
pub fn decode(event: &IncomingEvent) -> Result<Option<(ReplicaMember, Change)>, HandlerError> {
    let verb = event.subject.rsplit('.').next().unwrap_or_default();
    let (snapshot, change) = match verb {
        "applied" => (
            event.decode::<proto::MemberApplied>().map(|e| e.member),
            Change::Applied,
        ),
        "joined" => (
            event.decode::<proto::MemberJoined>().map(|e| e.member),
            Change::Joined,
        ),
        "updated" => (
            event.decode::<proto::MemberUpdated>().map(|e| e.member),
            Change::Updated,
        ),
        "reinstated" => (
            event.decode::<proto::MemberReinstated>().map(|e| e.member),
            Change::Reinstated,
        ),
        "suspended" => {
            let event = event
                .decode::<proto::MemberSuspended>()
                .map_err(HandlerError::Permanent)?;
            (
                Ok(event.member),
                Change::Suspended {
                    reason: event.reason,
                },
            )
        }
        "left" => {
            let event = event
                .decode::<proto::MemberLeft>()
                .map_err(HandlerError::Permanent)?;
            (
                Ok(event.member),
                Change::Left {
                    reason: event.reason,
                },
            )
        }
        _ => return Ok(None),
    };
    let snapshot = snapshot.map_err(HandlerError::Permanent)?.ok_or_else(|| {
        HandlerError::Permanent(format!("{} carries no member snapshot", event.ce_type))
    })?;
    Ok(Some((from_snapshot(&snapshot)?, change)))
}

/// Decodes a member event and updates the replica; `Some` only when the event was newer
/// than what the replica held (so its consequences should follow, once).
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    event: &IncomingEvent,
) -> Result<Option<(ReplicaMember, Change)>, HandlerError> {
    Ok(apply_all(db, &[event]).await?.pop().flatten())
}

/// [`apply`] for events in order, their rows written together (see [`upsert_all`]).
pub async fn apply_all<C: ConnectionTrait>(
    db: &C,
    events: &[&IncomingEvent],
) -> Result<Vec<Option<(ReplicaMember, Change)>>, HandlerError> {
    store(db, decode_all(events)?).await
}

/// An [`EventHandler::handle`](fabrique_platform::consumer::EventHandler::handle) for
/// these events: [`apply`], then `follow` (the event's consequences) when the event was
/// newer than the replica and its change is `consequential` here. Only then: a change
/// that is not sends the replica's write as the transaction's last statement
/// ([`ConsumerTxn::commit_with_next_statement`]).
pub async fn handle<P, F, Fut>(
    txn: &ConsumerTxn,
    event: &IncomingEvent,
    consequential: P,
    follow: F,
) -> Result<(), HandlerError>
where
    P: Fn(&Change) -> bool,
    F: FnOnce(ReplicaMember, Change) -> Fut,
    Fut: std::future::Future<Output = Result<(), HandlerError>>,
{
    let decoded = decode_all(&[event])?;
    crate::last_write_unless(txn, &decoded, |member| member.id, &consequential);
    match store(txn, decoded).await?.pop().flatten() {
        Some((member, change)) if consequential(&change) => follow(member, change).await,
        _ => Ok(()),
    }
}

/// [`handle`] for what queued on a lane
/// ([`EventHandler::handle_all`](fabrique_platform::consumer::EventHandler::handle_all)):
/// [`apply_all`], then `follow` for each event that was newer than the replica and whose
/// change is `consequential`, in order, under that event's span.
pub async fn handle_all<P, F, Fut>(
    txn: &ConsumerTxn,
    events: &[Handling<'_>],
    consequential: P,
    follow: F,
) -> Result<(), HandlerError>
where
    P: Fn(&Change) -> bool,
    F: Fn(ReplicaMember, Change) -> Fut,
    Fut: std::future::Future<Output = Result<(), HandlerError>>,
{
    let all: Vec<&IncomingEvent> = events.iter().map(|h| h.event).collect();
    let decoded = decode_all(&all)?;
    crate::last_write_unless(txn, &decoded, |member| member.id, &consequential);
    let applied = store(txn, decoded)
        .await?
        .into_iter()
        .map(|applied| applied.filter(|(_, change)| consequential(change)))
        .collect();
    crate::follow_each(events, applied, |(member, change)| follow(member, change)).await
}

fn decode_all(
    events: &[&IncomingEvent],
) -> Result<Vec<Option<(ReplicaMember, Change)>>, HandlerError> {
    events.iter().map(|event| decode(event)).collect()
}

/// Stores the decoded events' rows; those stored, in order.
async fn store<C: ConnectionTrait>(
    db: &C,
    decoded: Vec<Option<(ReplicaMember, Change)>>,
) -> Result<Vec<Option<(ReplicaMember, Change)>>, HandlerError> {
    let members: Vec<ReplicaMember> = decoded
        .iter()
        .flatten()
        .map(|(member, _)| member.clone())
        .collect();
    let stored = upsert_all(db, &members).await?;
    Ok(crate::stored_only(decoded, stored))
}

/// The migration creating `member_replica`.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000011_member_replica"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let (uuid, time, json, _) = crate::column_types(db);
        db.execute_unprepared(&format!(
            "CREATE TABLE member_replica (
                id {uuid} PRIMARY KEY,
                display_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                siren TEXT,
                state TEXT NOT NULL,
                contact_roles {json} NOT NULL,
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
            .execute_unprepared("DROP TABLE member_replica")
            .await?;
        Ok(())
    }
}

/// The migration adding `member_replica.siret` (empty for the members known before,
/// until their next event).
pub struct SiretMigration;

impl MigrationName for SiretMigration {
    fn name(&self) -> &str {
        "m20261207_000012_member_replica_siret"
    }
}

#[async_trait]
impl MigrationTrait for SiretMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE member_replica ADD COLUMN siret TEXT")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE member_replica DROP COLUMN siret")
            .await?;
        Ok(())
    }
}

/// The migration adding `member_replica.insee_code` and `epci_siren`, where a member is:
/// co-funders limit their part to a territory. Empty for the members known before,
/// until their next event.
pub struct TerritoryMigration;

impl MigrationName for TerritoryMigration {
    fn name(&self) -> &str {
        "m20261207_000013_member_replica_territory"
    }
}

#[async_trait]
impl MigrationTrait for TerritoryMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE member_replica ADD COLUMN insee_code TEXT")
            .await?;
        db.execute_unprepared("ALTER TABLE member_replica ADD COLUMN epci_siren TEXT")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE member_replica DROP COLUMN epci_siren")
            .await?;
        db.execute_unprepared("ALTER TABLE member_replica DROP COLUMN insee_code")
            .await?;
        Ok(())
    }
}
