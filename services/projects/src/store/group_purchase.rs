//! The `group_purchases` and `participations` tables: a purchase's row, and one row per
//! member taking part, with its sites, so that joining and leaving never rewrite the
//! purchase (nor race with each other on it).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{group_purchase, participation};
use super::{internal, json};
use crate::domain::{Category, GroupPurchase, GroupPurchaseState, Invalid, Lot, LotPrice, Site};

async fn to_group_purchase<C: ConnectionTrait>(
    db: &C,
    m: group_purchase::Model,
) -> Result<GroupPurchase, Error> {
    let id = m.id;
    let participations = participation::Entity::find()
        .filter(participation::Column::GroupPurchaseId.eq(id))
        .order_by_asc(participation::Column::MemberId)
        .all(db)
        .await?;
    let parse = || -> Result<GroupPurchase, Invalid> {
        let mut by_member = BTreeMap::new();
        for p in participations {
            by_member.insert(p.member_id, json::<Vec<Site>>(p.sites)?);
        }
        Ok(GroupPurchase {
            id: m.id,
            title: m.title.clone(),
            coordinator: m.coordinator_id,
            category: m.category.parse::<Category>()?,
            unit: m.unit.clone(),
            lots: json::<Vec<Lot>>(m.lots.clone())?,
            deadline: m.deadline,
            state: m.state.parse()?,
            supplier: m.supplier.clone(),
            supplier_siret: m
                .supplier_siret
                .as_deref()
                .map(fabrique_types::Siret::parse)
                .transpose()?,
            prices: m
                .lot_prices
                .clone()
                .map(json::<Vec<LotPrice>>)
                .transpose()?
                .unwrap_or_default(),
            participations: by_member,
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    parse().map_err(|e| internal("group purchase", id, e))
}

/// Inserts a new purchase (no participation yet), with the `request_id` that created it.
pub async fn insert_group_purchase<C: ConnectionTrait>(
    db: &C,
    g: &GroupPurchase,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    group_purchase::Entity::insert(group_purchase::ActiveModel {
        id: Set(g.id),
        coordinator_id: Set(g.coordinator),
        title: Set(g.title.clone()),
        category: Set(g.category.as_str().to_string()),
        unit: Set(g.unit.clone()),
        lots: Set(serde_json::json!(g.lots)),
        deadline: Set(g.deadline),
        state: Set(g.state.as_str().to_string()),
        supplier_siret: Set(None),
        lot_prices: Set(None),
        supplier: Set(g.supplier.clone()),
        created_by: Set(g.created_by.clone()),
        create_request_id: Set(request_id),
        created_at: Set(g.created_at),
        updated_at: Set(g.updated_at),
        version: Set(g.version),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The purchase with its participations, if there is one of that id.
pub async fn get_group_purchase<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<GroupPurchase>, Error> {
    match group_purchase::Entity::find_by_id(id).one(db).await? {
        Some(m) => Ok(Some(to_group_purchase(db, m).await?)),
        None => Ok(None),
    }
}

/// The purchase a `CreateGroupPurchase` call with this `request_id` created, if any.
pub async fn group_purchase_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<GroupPurchase>, Error> {
    match group_purchase::Entity::find()
        .filter(group_purchase::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
    {
        Some(m) => Ok(Some(to_group_purchase(db, m).await?)),
        None => Ok(None),
    }
}

/// Up to `limit` purchases, after `after` in id order, in one of `states` and of one of
/// `categories` (any when empty).
pub async fn list_group_purchases<C: ConnectionTrait>(
    db: &C,
    states: &[GroupPurchaseState],
    categories: &[Category],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<GroupPurchase>, Error> {
    use group_purchase::Column;
    let mut query = group_purchase::Entity::find();
    if !states.is_empty() {
        query = query.filter(Column::State.is_in(states.iter().map(|s| s.as_str())));
    }
    if !categories.is_empty() {
        query = query.filter(Column::Category.is_in(categories.iter().map(|c| c.as_str())));
    }
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    let mut found = Vec::new();
    for m in query.order_by_asc(Column::Id).limit(limit).all(db).await? {
        found.push(to_group_purchase(db, m).await?);
    }
    Ok(found)
}

/// Writes `next`, the purchase `from` state became by a transition (its state, supplier
/// and time; the version raised by one), if it is still in `from`; `false` when a
/// concurrent call moved it first.
pub async fn move_group_purchase<C: ConnectionTrait>(
    db: &C,
    next: &GroupPurchase,
    from: GroupPurchaseState,
) -> Result<bool, DbErr> {
    use group_purchase::Column;
    let result = group_purchase::Entity::update_many()
        .col_expr(Column::State, Expr::value(next.state.as_str()))
        .col_expr(Column::Supplier, Expr::value(next.supplier.clone()))
        .col_expr(
            Column::SupplierSiret,
            Expr::value(next.supplier_siret.as_ref().map(|s| s.as_str().to_string())),
        )
        .col_expr(
            Column::LotPrices,
            Expr::value((!next.prices.is_empty()).then(|| serde_json::json!(next.prices))),
        )
        .col_expr(Column::UpdatedAt, Expr::value(next.updated_at))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(next.id))
        .filter(Column::State.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes the purchase's row for the caller's transaction if it is still OPEN and its
/// deadline is after `now`; `false` otherwise. A close waits for the transaction that
/// holds the row, and a join waiting for a close reads it CLOSED: no participation
/// commits after the close, whatever the interleaving.
pub async fn hold_open<C: ConnectionTrait>(
    db: &C,
    purchase: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use group_purchase::Column;
    // An UPDATE, not a SELECT: it takes the row (and SQLite's write lock) first, so
    // the check and the write that follows it cannot be split by a close. It changes
    // nothing: the version counts changes of state only.
    let result = group_purchase::Entity::update_many()
        .col_expr(Column::State, Expr::col(Column::State))
        .filter(Column::Id.eq(purchase))
        .filter(Column::State.eq(GroupPurchaseState::Open.as_str()))
        .filter(Column::Deadline.gt(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Replaces a member's sites in a purchase.
pub async fn set_participation<C: ConnectionTrait>(
    db: &C,
    purchase: Uuid,
    member: Uuid,
    sites: &[Site],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use participation::Column;
    participation::Entity::insert(participation::ActiveModel {
        group_purchase_id: Set(purchase),
        member_id: Set(member),
        sites: Set(serde_json::json!(sites)),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([Column::GroupPurchaseId, Column::MemberId])
            .update_columns([Column::Sites, Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Removes a member from a purchase; `false` when it was not in it.
pub async fn remove_participation<C: ConnectionTrait>(
    db: &C,
    purchase: Uuid,
    member: Uuid,
) -> Result<bool, DbErr> {
    let result = participation::Entity::delete_many()
        .filter(participation::Column::GroupPurchaseId.eq(purchase))
        .filter(participation::Column::MemberId.eq(member))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The open purchases a member takes part in.
pub async fn open_purchases_of<C: ConnectionTrait>(
    db: &C,
    member: Uuid,
) -> Result<Vec<Uuid>, Error> {
    let ids: Vec<Uuid> = participation::Entity::find()
        .filter(participation::Column::MemberId.eq(member))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.group_purchase_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(group_purchase::Entity::find()
        .filter(group_purchase::Column::Id.is_in(ids))
        .filter(group_purchase::Column::State.eq(GroupPurchaseState::Open.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect())
}
