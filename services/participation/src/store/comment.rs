//! Comments and their reports. A report is a row keyed by comment and participant (a
//! second is refused by the key); the comment's count is raised in SQL, and a
//! conditional UPDATE hides it once the count reaches the threshold — only while it is
//! visible and was never reviewed, so that exactly one report hides it.

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::corrupt;
use super::entity::{comment, report};
use crate::domain::comment::{Comment, CommentState};

/// One report per participant and comment.
pub const REPORT_KEY: UniqueKey = UniqueKey {
    name: "comment_reports_pkey",
    table: "comment_reports",
    columns: &["comment_id", "participant_id"],
};

async fn read<C: ConnectionTrait>(
    db: &C,
    rows: Vec<comment::Model>,
) -> Result<Vec<Comment>, Error> {
    let names = super::display_names(db, rows.iter().map(|r| r.author_id)).await?;
    rows.into_iter()
        .map(|row| {
            let state: CommentState = row
                .state
                .parse()
                .map_err(|e| corrupt("comment", row.id, e))?;
            Ok(Comment {
                id: row.id,
                process: row.process_id,
                proposal: row.proposal_id,
                author: row.author_id,
                author_display_name: names.get(&row.author_id).cloned().unwrap_or_default(),
                body: row.body,
                state,
                reports: u32::try_from(row.report_count).unwrap_or(0),
                reviewed: row.reviewed_at.is_some(),
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

/// Inserts a new comment.
pub async fn insert<C: ConnectionTrait>(db: &C, c: &Comment) -> Result<(), DbErr> {
    comment::Entity::insert(comment::ActiveModel {
        id: Set(c.id),
        process_id: Set(c.process),
        proposal_id: Set(c.proposal),
        author_id: Set(c.author),
        body: Set(c.body.clone()),
        state: Set(c.state.as_str().to_string()),
        report_count: Set(0),
        reviewed_at: Set(None),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A comment of `proposal`.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    proposal: Uuid,
    id: Uuid,
) -> Result<Option<Comment>, Error> {
    let rows = comment::Entity::find_by_id(id)
        .filter(comment::Column::ProposalId.eq(proposal))
        .all(db)
        .await?;
    Ok(read(db, rows).await?.pop())
}

/// A proposal's comments, oldest first, after `after`, at most `limit`; only those
/// hidden pending review when `pending` says so.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    proposal: Uuid,
    pending: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Comment>, Error> {
    let mut query = comment::Entity::find().filter(comment::Column::ProposalId.eq(proposal));
    if pending {
        query = query.filter(comment::Column::State.eq(CommentState::Hidden.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(comment::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(comment::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    read(db, rows).await
}

/// When `author` wrote their comments since `since`.
pub async fn written_since<C: ConnectionTrait>(
    db: &C,
    author: Uuid,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<chrono::DateTime<chrono::Utc>>, DbErr> {
    comment::Entity::find()
        .select_only()
        .column(comment::Column::CreatedAt)
        .filter(comment::Column::AuthorId.eq(author))
        .filter(comment::Column::CreatedAt.gte(since))
        .into_tuple()
        .all(db)
        .await
}

/// Within the caller's transaction: the report row (a [`REPORT_KEY`] violation means the
/// participant reported it already: roll back), the count raised, and the comment hidden
/// if this report is the one that reaches `threshold`. Whether it hid it.
pub async fn report<C: ConnectionTrait>(
    txn: &C,
    id: Uuid,
    participant: Uuid,
    threshold: u32,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    report::Entity::insert(report::ActiveModel {
        comment_id: Set(id),
        participant_id: Set(participant),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await?;
    comment::Entity::update_many()
        .col_expr(
            comment::Column::ReportCount,
            Expr::col(comment::Column::ReportCount).add(1),
        )
        .filter(comment::Column::Id.eq(id))
        .exec(txn)
        .await?;
    let hidden = comment::Entity::update_many()
        .col_expr(
            comment::Column::State,
            Expr::value(CommentState::Hidden.as_str()),
        )
        .col_expr(comment::Column::UpdatedAt, Expr::value(at))
        .filter(comment::Column::Id.eq(id))
        .filter(comment::Column::State.eq(CommentState::Visible.as_str()))
        .filter(comment::Column::ReviewedAt.is_null())
        .filter(comment::Column::ReportCount.gte(threshold as i32))
        .exec(txn)
        .await?;
    Ok(hidden.rows_affected == 1)
}

/// Writes the organiser's decision over `current` unless its state changed meanwhile.
pub async fn decide<C: ConnectionTrait>(
    db: &C,
    current: &Comment,
    next: &Comment,
) -> Result<bool, DbErr> {
    let reviewed_at = next.reviewed.then_some(next.updated_at);
    let result = comment::Entity::update_many()
        .col_expr(comment::Column::State, Expr::value(next.state.as_str()))
        .col_expr(comment::Column::ReviewedAt, Expr::value(reviewed_at))
        .col_expr(comment::Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(comment::Column::Id.eq(current.id))
        .filter(comment::Column::State.eq(current.state.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
