//! The co-funders' totals (`co_funding`): what each has committed and paid of its parts
//! of a programme's awards, moved in the transaction that moves an award, read with
//! the programme's report.

use std::collections::HashMap;

use fabrique_platform::Error;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entity::co_funding;
use crate::domain::Application;

/// Moves the co-funders' totals as `current` becoming `next` does: an approval commits
/// their parts, a cancellation returns them, a co-funder's payment is paid and its
/// balance returns what it leaves unpaid of its part.
pub async fn apply<C: ConnectionTrait>(
    txn: &C,
    current: &Application,
    next: &Application,
) -> Result<(), DbErr> {
    let mut changes: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for (member, committed) in current.co_committed_changes(next) {
        changes.entry(member).or_default().0 += committed;
    }
    for payment in &next.payments[current.payments.len().min(next.payments.len())..] {
        if let Some(member) = payment.co_funder {
            changes.entry(member).or_default().1 += payment.amount_cents;
        }
    }
    for (member, (committed, paid)) in changes {
        add(txn, next.programme, member, committed, paid).await?;
    }
    Ok(())
}

/// Adds `committed` and `paid` cents to `member`'s totals in `programme`.
async fn add<C: ConnectionTrait>(
    txn: &C,
    programme: Uuid,
    member: Uuid,
    committed: i64,
    paid: i64,
) -> Result<(), DbErr> {
    use co_funding::Column;
    co_funding::Entity::insert(co_funding::ActiveModel {
        programme_id: Set(programme),
        member_id: Set(member),
        committed_cents: Set(0),
        paid_cents: Set(0),
    })
    .on_conflict(
        OnConflict::columns([Column::ProgrammeId, Column::MemberId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    co_funding::Entity::update_many()
        .col_expr(
            Column::CommittedCents,
            Expr::col(Column::CommittedCents).add(committed),
        )
        .col_expr(Column::PaidCents, Expr::col(Column::PaidCents).add(paid))
        .filter(Column::ProgrammeId.eq(programme))
        .filter(Column::MemberId.eq(member))
        .exec(txn)
        .await?;
    Ok(())
}

/// Each of `programmes`' co-funders' committed and paid totals, in cents.
pub async fn totals<C: ConnectionTrait>(
    db: &C,
    programmes: &[Uuid],
) -> Result<HashMap<(Uuid, Uuid), (i64, i64)>, Error> {
    if programmes.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(co_funding::Entity::find()
        .filter(co_funding::Column::ProgrammeId.is_in(programmes.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            (
                (row.programme_id, row.member_id),
                (row.committed_cents, row.paid_cents),
            )
        })
        .collect())
}
