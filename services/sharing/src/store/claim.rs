//! The claims table, and the stock they move on the resources table: taken only if
//! that much remains (a conditional update, and a CHECK that it never goes below zero),
//! returned when a claim is cancelled.

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::{claim, resource};
use super::internal;
use crate::domain::{Claim, ClaimState, Invalid, Milli};

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

/// Gives `quantity` back to the stock (a cancelled claim).
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
            answer_by: m.answer_by_us.map(super::from_us),
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    };
    parse().map_err(|invalid| internal("claim", id, invalid))
}

/// One claim per create `request_id`: a retried create finds the first's.
pub const CLAIM_REQUEST_ID_KEY: UniqueKey = UniqueKey {
    name: "claims_create_request_id",
    table: "claims",
    columns: &["create_request_id"],
};

/// Inserts `c`; `request_id` lets a retried create find it ([`CLAIM_REQUEST_ID_KEY`]).
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
        answer_by_us: Set(c.answer_by.map(super::to_us)),
        created_by: Set(created_by.to_string()),
        create_request_id: Set(request_id),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The claim `id`, if it exists.
pub async fn get_claim<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Claim>, Error> {
    claim::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_claim)
        .transpose()
}

/// The claim a create with `request_id` made, for replaying it.
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

/// Writes `next`'s state if the claim is still `from`; `false` if another change came
/// first (the conditional update is what decides between two racing calls).
pub async fn set_claim_state<C: ConnectionTrait>(
    db: &C,
    next: &Claim,
    from: ClaimState,
) -> Result<bool, DbErr> {
    let result = claim::Entity::update_many()
        .col_expr(claim::Column::State, Expr::value(next.state.as_str()))
        .col_expr(claim::Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(claim::Column::Id.eq(next.id))
        .filter(claim::Column::State.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The HELD claims on `resource`: what a withdrawal or a closed place ends.
pub async fn held_on<C: ConnectionTrait>(db: &C, resource: Uuid) -> Result<Vec<Claim>, Error> {
    claim::Entity::find()
        .filter(claim::Column::ResourceId.eq(resource))
        .filter(claim::Column::State.eq(ClaimState::Held.as_str()))
        .order_by_asc(claim::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_claim)
        .collect()
}

/// Up to `limit` HELD claims whose deadline has passed at `now`, oldest deadline first.
pub async fn overdue_claims<C: ConnectionTrait>(
    db: &C,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> Result<Vec<Claim>, Error> {
    claim::Entity::find()
        .filter(claim::Column::State.eq(ClaimState::Held.as_str()))
        .filter(claim::Column::AnswerByUs.lte(super::to_us(now)))
        .order_by_asc(claim::Column::AnswerByUs)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_claim)
        .collect()
}

/// A page of claims on `resource` by `claimant` (either `None`: any), limited to those
/// `involving` a member as claimant or owner when given, by id after `after`.
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
