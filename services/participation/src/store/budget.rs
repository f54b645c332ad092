//! Budgets, their items and ballots. A ballot gets in by a conditional UPDATE of its
//! budget's count while the budget is OPEN — which row-locks the budget — and by its key
//! (one per participant); closing is the conditional UPDATE to CLOSED on the same row,
//! so a ballot is either counted by the close or refused after it, never lost. Votes are
//! counted from the ballots' items when the budget closes.

use std::collections::HashMap;

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::corrupt;
use super::entity::{ballot, ballot_item, budget, budget_item};
use crate::domain::budget::{Budget, BudgetState, Item};

/// One budget per creation request.
pub const REQUEST_KEY: UniqueKey = UniqueKey {
    name: "budgets_create_request_id",
    table: "budgets",
    columns: &["create_request_id"],
};

/// One ballot per participant and budget.
pub const BALLOT_KEY: UniqueKey = UniqueKey {
    name: "ballots_pkey",
    table: "ballots",
    columns: &["budget_id", "participant_id"],
};

/// One item per proposal and budget.
pub const ITEM_KEY: UniqueKey = UniqueKey {
    name: "budget_items_proposal",
    table: "budget_items",
    columns: &["budget_id", "proposal_id"],
};

/// Inserts a new budget, OPEN, without items.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    b: &Budget,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    budget::Entity::insert(budget::ActiveModel {
        id: Set(b.id),
        process_id: Set(b.process),
        title: Set(b.title.clone()),
        description: Set(b.description.clone()),
        envelope_cents: Set(b.envelope_cents),
        minimum_basis_points: Set(b.minimum_basis_points as i32),
        state: Set(b.state.as_str().to_string()),
        ballot_count: Set(0),
        closed_at: Set(None),
        created_by: Set(b.created_by.clone()),
        create_request_id: Set(request_id),
        created_at: Set(b.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

async fn read<C: ConnectionTrait>(db: &C, row: budget::Model) -> Result<Budget, Error> {
    let state: BudgetState = row
        .state
        .parse()
        .map_err(|e| corrupt("budget", row.id, e))?;
    let items = budget_item::Entity::find()
        .filter(budget_item::Column::BudgetId.eq(row.id))
        .order_by_asc(budget_item::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| Item {
            id: i.id,
            proposal: i.proposal_id,
            title: i.title,
            cost_cents: i.cost_cents,
            votes: u32::try_from(i.votes).unwrap_or(0),
            rank: u32::try_from(i.rank).unwrap_or(0),
            selected: i.selected,
        })
        .collect();
    Ok(Budget {
        id: row.id,
        process: row.process_id,
        title: row.title,
        description: row.description,
        envelope_cents: row.envelope_cents,
        minimum_basis_points: u32::try_from(row.minimum_basis_points).unwrap_or(0),
        state,
        items,
        ballots: u32::try_from(row.ballot_count).unwrap_or(0),
        closed_at: row.closed_at,
        created_by: row.created_by,
        created_at: row.created_at,
    })
}

/// A budget of `process`, with its items.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    process: Uuid,
    id: Uuid,
) -> Result<Option<Budget>, Error> {
    match budget::Entity::find_by_id(id)
        .filter(budget::Column::ProcessId.eq(process))
        .one(db)
        .await?
    {
        Some(row) => read(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// A process's budgets, oldest first (a process has a few).
pub async fn list<C: ConnectionTrait>(db: &C, process: Uuid) -> Result<Vec<Budget>, Error> {
    let rows = budget::Entity::find()
        .filter(budget::Column::ProcessId.eq(process))
        .order_by_asc(budget::Column::Id)
        .all(db)
        .await?;
    let mut budgets = Vec::with_capacity(rows.len());
    for row in rows {
        budgets.push(read(db, row).await?);
    }
    Ok(budgets)
}

/// The budget an earlier CreateBudget with this request id made.
pub async fn by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Budget>, Error> {
    match budget::Entity::find()
        .filter(budget::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
    {
        Some(row) => read(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Within the caller's transaction: holds the budget while it is OPEN (the row is
/// locked until the transaction ends); `false` once CLOSED.
async fn hold_open<C: ConnectionTrait>(
    txn: &C,
    id: Uuid,
    count_ballot: bool,
) -> Result<bool, DbErr> {
    let by = i32::from(count_ballot);
    let held = budget::Entity::update_many()
        .col_expr(
            budget::Column::BallotCount,
            Expr::col(budget::Column::BallotCount).add(by),
        )
        .filter(budget::Column::Id.eq(id))
        .filter(budget::Column::State.eq(BudgetState::Open.as_str()))
        .exec(txn)
        .await?;
    Ok(held.rows_affected == 1)
}

/// Within the caller's transaction: adds an item while the budget is OPEN (`false`
/// otherwise). An [`ITEM_KEY`] violation means the proposal is an item already.
pub async fn add_item<C: ConnectionTrait>(
    txn: &C,
    budget: Uuid,
    item: &Item,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    if !hold_open(txn, budget, false).await? {
        return Ok(false);
    }
    budget_item::Entity::insert(budget_item::ActiveModel {
        id: Set(item.id),
        budget_id: Set(budget),
        proposal_id: Set(item.proposal),
        title: Set(item.title.clone()),
        cost_cents: Set(item.cost_cents),
        votes: Set(0),
        rank: Set(0),
        selected: Set(false),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(true)
}

/// Within the caller's transaction: the ballot counted while the budget is OPEN
/// (`false` once CLOSED), its row (a [`BALLOT_KEY`] violation means the participant
/// voted already: roll back) and its items.
pub async fn cast<C: ConnectionTrait>(
    txn: &C,
    budget: Uuid,
    participant: Uuid,
    items: &[Uuid],
    total_cents: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    if !hold_open(txn, budget, true).await? {
        return Ok(false);
    }
    ballot::Entity::insert(ballot::ActiveModel {
        budget_id: Set(budget),
        participant_id: Set(participant),
        total_cents: Set(total_cents),
        cast_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    ballot_item::Entity::insert_many(items.iter().map(|item| ballot_item::ActiveModel {
        budget_id: Set(budget),
        participant_id: Set(participant),
        item_id: Set(*item),
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(true)
}

/// The participant's ballot: its items and total, when they cast one.
pub async fn ballot_of<C: ConnectionTrait>(
    db: &C,
    budget: Uuid,
    participant: Uuid,
) -> Result<Option<(Vec<Uuid>, i64, chrono::DateTime<chrono::Utc>)>, DbErr> {
    let Some(found) = ballot::Entity::find_by_id((budget, participant))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let items = ballot_item::Entity::find()
        .filter(ballot_item::Column::BudgetId.eq(budget))
        .filter(ballot_item::Column::ParticipantId.eq(participant))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.item_id)
        .collect();
    Ok(Some((items, found.total_cents, found.cast_at)))
}

/// Within the caller's transaction: CLOSED if it was OPEN (`false` otherwise) — after
/// every ballot holding the row committed — then each item's votes counted from the
/// ballots.
pub async fn close<C: ConnectionTrait>(
    txn: &C,
    budget: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<HashMap<Uuid, u32>>, DbErr> {
    let closed = budget::Entity::update_many()
        .col_expr(
            budget::Column::State,
            Expr::value(BudgetState::Closed.as_str()),
        )
        .col_expr(budget::Column::ClosedAt, Expr::value(at))
        .filter(budget::Column::Id.eq(budget))
        .filter(budget::Column::State.eq(BudgetState::Open.as_str()))
        .exec(txn)
        .await?;
    if closed.rows_affected != 1 {
        return Ok(None);
    }
    let mut votes = HashMap::new();
    for row in ballot_item::Entity::find()
        .filter(ballot_item::Column::BudgetId.eq(budget))
        .all(txn)
        .await?
    {
        *votes.entry(row.item_id).or_insert(0u32) += 1;
    }
    Ok(Some(votes))
}

/// Within the caller's transaction: the results of each item.
pub async fn write_results<C: ConnectionTrait>(txn: &C, items: &[Item]) -> Result<(), DbErr> {
    for item in items {
        budget_item::Entity::update_many()
            .col_expr(budget_item::Column::Votes, Expr::value(item.votes as i32))
            .col_expr(budget_item::Column::Rank, Expr::value(item.rank as i32))
            .col_expr(budget_item::Column::Selected, Expr::value(item.selected))
            .filter(budget_item::Column::Id.eq(item.id))
            .exec(txn)
            .await?;
    }
    Ok(())
}
