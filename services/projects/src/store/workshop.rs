//! The `workshops` and `teams` tables: a workshop's row with its co-pilots, and one row
//! per lead with its team, so that leads set their teams without waiting on each other.
//! A workshop is read with its sessions (`session.rs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{team, workshop};
use super::session::{sessions_of, to_session};
use super::{internal, json};
use crate::domain::{Invalid, Session, Workshop};

/// Inserts a new workshop (no team yet), with the `request_id` that created it.
pub async fn insert_workshop<C: ConnectionTrait>(
    db: &C,
    w: &Workshop,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    workshop::Entity::insert(workshop::ActiveModel {
        id: Set(w.id),
        theme: Set(w.theme.clone()),
        season: Set(w.season.clone()),
        required_roles: Set(serde_json::json!(w.required_roles)),
        create_request_id: Set(request_id),
        created_at: Set(w.created_at),
        co_pilots: Set(Some(serde_json::json!(w.co_pilots))),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The workshop with its teams, if there is one of that id.
pub async fn get_workshop<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Workshop>, Error> {
    let Some(m) = workshop::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let teams = team::Entity::find()
        .filter(team::Column::WorkshopId.eq(id))
        .all(db)
        .await?;
    let sessions = sessions_of(db, vec![id]).await?;
    let sessions = sessions
        .into_iter()
        .map(to_session)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| internal("workshop session of", id, e))?;
    to_workshop(m, teams, sessions)
        .map(Some)
        .map_err(|e| internal("workshop", id, e))
}

/// Up to `limit` workshops with their teams and sessions, after `after` in id order
/// (oldest first: ids are UUIDv7). Three queries whatever the page.
pub async fn list_workshops<C: ConnectionTrait>(
    db: &C,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Workshop>, Error> {
    let mut query = workshop::Entity::find();
    if let Some(after) = after {
        query = query.filter(workshop::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(workshop::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut teams: BTreeMap<Uuid, Vec<team::Model>> = BTreeMap::new();
    let mut sessions: BTreeMap<Uuid, Vec<Session>> = BTreeMap::new();
    if !ids.is_empty() {
        for t in team::Entity::find()
            .filter(team::Column::WorkshopId.is_in(ids.clone()))
            .all(db)
            .await?
        {
            teams.entry(t.workshop_id).or_default().push(t);
        }
        for s in sessions_of(db, ids).await? {
            let (workshop, id) = (s.workshop_id, s.id);
            let session = to_session(s).map_err(|e| internal("workshop session", id, e))?;
            sessions.entry(workshop).or_default().push(session);
        }
    }
    rows.into_iter()
        .map(|m| {
            let id = m.id;
            to_workshop(
                m,
                teams.remove(&id).unwrap_or_default(),
                sessions.remove(&id).unwrap_or_default(),
            )
            .map_err(|e| internal("workshop", id, e))
        })
        .collect()
}

/// A workshop's row, its team rows and its sessions as the domain's workshop.
fn to_workshop(
    m: workshop::Model,
    teams: Vec<team::Model>,
    sessions: Vec<Session>,
) -> Result<Workshop, Invalid> {
    let mut by_lead = BTreeMap::new();
    for t in teams {
        by_lead.insert(t.lead_id, json::<Vec<Uuid>>(t.members)?);
    }
    Ok(Workshop {
        id: m.id,
        theme: m.theme,
        season: m.season,
        required_roles: json(m.required_roles)?,
        teams: by_lead,
        created_at: m.created_at,
        co_pilots: m.co_pilots.map(json).transpose()?.unwrap_or_default(),
        sessions,
    })
}

/// The workshop a `CreateWorkshop` call with this `request_id` created, if any.
pub async fn workshop_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Workshop>, Error> {
    match workshop::Entity::find()
        .filter(workshop::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
    {
        Some(m) => get_workshop(db, m.id).await,
        None => Ok(None),
    }
}

/// Sets (or replaces) `lead`'s team in a workshop.
pub async fn set_team<C: ConnectionTrait>(
    db: &C,
    workshop: Uuid,
    lead: Uuid,
    members: &[Uuid],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use team::Column;
    team::Entity::insert(team::ActiveModel {
        workshop_id: Set(workshop),
        lead_id: Set(lead),
        members: Set(serde_json::json!(members)),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([Column::WorkshopId, Column::LeadId])
            .update_columns([Column::Members, Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Replaces the members who run a workshop.
pub async fn set_co_pilots<C: ConnectionTrait>(
    db: &C,
    workshop: Uuid,
    co_pilots: &[Uuid],
) -> Result<(), DbErr> {
    workshop::Entity::update_many()
        .col_expr(
            workshop::Column::CoPilots,
            sea_orm::sea_query::Expr::value(serde_json::json!(co_pilots)),
        )
        .filter(workshop::Column::Id.eq(workshop))
        .exec(db)
        .await?;
    Ok(())
}

/// Who takes part in a season: the co-pilots and team members of every workshop of
/// `season` (of the workshop `id` alone when it has none).
pub async fn season_participants<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    season: Option<&str>,
) -> Result<std::collections::BTreeSet<Uuid>, Error> {
    let rows = match season {
        Some(season) => {
            workshop::Entity::find()
                .filter(workshop::Column::Season.eq(season))
                .all(db)
                .await?
        }
        None => workshop::Entity::find_by_id(id).all(db).await?,
    };
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut all = std::collections::BTreeSet::new();
    for m in rows {
        let co_pilots: Vec<Uuid> = m
            .co_pilots
            .map(json)
            .transpose()
            .map_err(|e| internal("workshop", m.id, e))?
            .unwrap_or_default();
        all.extend(co_pilots);
    }
    for t in team::Entity::find()
        .filter(team::Column::WorkshopId.is_in(ids))
        .all(db)
        .await?
    {
        let members: Vec<Uuid> =
            json(t.members).map_err(|e| internal("workshop team of", t.workshop_id, e))?;
        all.insert(t.lead_id);
        all.extend(members);
    }
    Ok(all)
}
