//! The needs table.

use fabrique_platform::Error;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::need;
use super::{from_us, internal, to_us};
use crate::domain::{Invalid, Location, Milli, Need, NeedState, Slot};

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

/// Inserts `n`; `request_id` lets a retried create find it (unique).
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

/// The need `id`, if it exists.
pub async fn get_need<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Need>, Error> {
    need::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_need)
        .transpose()
}

/// The need a create with `request_id` made, for replaying it.
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

/// Writes `next`'s state if the need is still `from`; `false` if another change came
/// first (the conditional update is what decides between two racing calls).
pub async fn set_need_state<C: ConnectionTrait>(
    db: &C,
    next: &Need,
    from: NeedState,
) -> Result<bool, DbErr> {
    let result = need::Entity::update_many()
        .col_expr(need::Column::State, Expr::value(next.state.as_str()))
        .col_expr(need::Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(need::Column::Id.eq(next.id))
        .filter(need::Column::State.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A page of `member`'s needs (anyone's when `None`) in `states` (OPEN when empty), by
/// id after `after`.
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
