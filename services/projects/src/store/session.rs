//! The `workshop_sessions` and `workshop_restitutions` tables: a workshop's sessions
//! (read with the workshop), and the restitutions of what was produced there, read one
//! by one or a page at a time, published ones only unless the reader takes part.

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use super::entity::{restitution, session};
use super::{internal, json};
use crate::domain::{Expected, Invalid, Restitution, Session, Venue};

/// The session rows of `workshops`, earliest first.
pub(super) async fn sessions_of<C: ConnectionTrait>(
    db: &C,
    workshops: Vec<Uuid>,
) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::WorkshopId.is_in(workshops))
        .order_by_asc(session::Column::StartsAt)
        .order_by_asc(session::Column::Id)
        .all(db)
        .await
}

/// A session's row as the domain's session.
pub(super) fn to_session(m: session::Model) -> Result<Session, Invalid> {
    let venue = match (m.place_id, m.online_url) {
        (Some(place), None) => Venue::Place(place),
        (None, Some(url)) => Venue::Online(url),
        _ => {
            return Err(Invalid::new(
                "a session needs one place or one online address",
            ));
        }
    };
    let expected = match (m.expected_team, m.peer_group) {
        (Some(lead), None) => Expected::Team(lead),
        (None, Some(role)) => Expected::PeerGroup(role),
        (None, None) => Expected::AllTeams,
        (Some(_), Some(_)) => return Err(Invalid::new("a session expects a team or a peer group")),
    };
    Ok(Session {
        id: m.id,
        workshop: m.workshop_id,
        title: m.title,
        start: m.starts_at,
        end: m.ends_at,
        venue,
        expected,
        expected_members: json(m.expected_members)?,
        attendees: json(m.attendees)?,
        cancelled_at: m.cancelled_at,
        created_at: m.created_at,
    })
}

/// Inserts a new session, with the `request_id` that scheduled it.
pub async fn insert_session<C: ConnectionTrait>(
    db: &C,
    s: &Session,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let (place, url) = match &s.venue {
        Venue::Place(place) => (Some(*place), None),
        Venue::Online(url) => (None, Some(url.clone())),
    };
    let (team, peer_group) = match &s.expected {
        Expected::Team(lead) => (Some(*lead), None),
        Expected::PeerGroup(role) => (None, Some(role.clone())),
        Expected::AllTeams => (None, None),
    };
    session::Entity::insert(session::ActiveModel {
        id: Set(s.id),
        workshop_id: Set(s.workshop),
        title: Set(s.title.clone()),
        starts_at: Set(s.start),
        ends_at: Set(s.end),
        place_id: Set(place),
        online_url: Set(url),
        expected_team: Set(team),
        peer_group: Set(peer_group),
        expected_members: Set(serde_json::json!(s.expected_members)),
        attendees: Set(serde_json::json!(s.attendees)),
        cancelled_at: Set(s.cancelled_at),
        create_request_id: Set(request_id),
        created_at: Set(s.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The id of the session a `ScheduleWorkshopSession` call with this `request_id`
/// scheduled, if any.
pub async fn session_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Uuid>, DbErr> {
    Ok(session::Entity::find()
        .filter(session::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(|m| m.id))
}

/// Marks a session cancelled unless it already is (then it keeps its first time).
pub async fn cancel_session<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = session::Entity::update_many()
        .col_expr(session::Column::CancelledAt, Expr::value(at))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::CancelledAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Replaces who attended a session, unless it was cancelled meanwhile (`false`).
pub async fn set_attendance<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attendees: &[Uuid],
) -> Result<bool, DbErr> {
    let done = session::Entity::update_many()
        .col_expr(
            session::Column::Attendees,
            Expr::value(serde_json::json!(attendees)),
        )
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::CancelledAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Inserts a new restitution, with the `request_id` that created it.
pub async fn insert_restitution<C: ConnectionTrait>(
    db: &C,
    r: &Restitution,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    restitution::Entity::insert(restitution::ActiveModel {
        id: Set(r.id),
        workshop_id: Set(r.workshop),
        session_id: Set(r.session),
        title: Set(r.title.clone()),
        body: Set(r.text.clone()),
        links: Set(serde_json::json!(r.links)),
        team_lead: Set(r.team),
        peer_group: Set(r.peer_group.clone()),
        author_id: Set(r.author),
        published_at: Set(r.published_at),
        create_request_id: Set(request_id),
        created_at: Set(r.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A restitution's row as the domain's restitution.
fn to_restitution(m: restitution::Model) -> Result<Restitution, Error> {
    let id = m.id;
    Ok(Restitution {
        id,
        workshop: m.workshop_id,
        session: m.session_id,
        title: m.title,
        text: m.body,
        links: json(m.links).map_err(|e| internal("restitution", id, e))?,
        team: m.team_lead,
        peer_group: m.peer_group,
        author: m.author_id,
        published_at: m.published_at,
        created_at: m.created_at,
    })
}

/// The restitution `id` of `workshop`, if there is one.
pub async fn get_restitution<C: ConnectionTrait>(
    db: &C,
    workshop: Uuid,
    id: Uuid,
) -> Result<Option<Restitution>, Error> {
    restitution::Entity::find_by_id(id)
        .filter(restitution::Column::WorkshopId.eq(workshop))
        .one(db)
        .await?
        .map(to_restitution)
        .transpose()
}

/// The restitution a `CreateRestitution` call with this `request_id` created, if any.
pub async fn restitution_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Restitution>, Error> {
    restitution::Entity::find()
        .filter(restitution::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_restitution)
        .transpose()
}

/// Up to `limit` restitutions of `workshop` after `after`, oldest first; only the
/// published ones unless `unpublished_too`.
pub async fn list_restitutions<C: ConnectionTrait>(
    db: &C,
    workshop: Uuid,
    unpublished_too: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Restitution>, Error> {
    let mut query =
        restitution::Entity::find().filter(restitution::Column::WorkshopId.eq(workshop));
    if !unpublished_too {
        query = query.filter(restitution::Column::PublishedAt.is_not_null());
    }
    if let Some(after) = after {
        query = query.filter(restitution::Column::Id.gt(after));
    }
    query
        .order_by_asc(restitution::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_restitution)
        .collect()
}

/// Publishes a restitution unless it already is (then it keeps its first time).
pub async fn publish_restitution<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = restitution::Entity::update_many()
        .col_expr(restitution::Column::PublishedAt, Expr::value(at))
        .filter(restitution::Column::Id.eq(id))
        .filter(restitution::Column::PublishedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
