//! Read models of other services' data, built from their events, for the services that
//! must decide on it without calling them: who is an active member (`member_replica`),
//! where a place is and whether it is open (`place_replica`).
//!
//! Each replica keeps the source's `version` of a row and ignores any older snapshot,
//! so redelivered or late events change nothing; a service lists the replica's
//! migration in its migrator and calls [`members::apply`] / [`places::apply`] from its
//! event handler, inside the consumer's transaction, or [`members::apply_all`] /
//! [`places::apply_all`] for a lane's batch (one statement for the batch's rows).

pub mod members;
pub mod places;

use std::collections::HashSet;
use std::future::Future;

use fabrique_platform::consumer::{ConsumerTxn, HandlerError, Handling};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryTrait};
use uuid::Uuid;

/// Stores rows of a replica (a table keyed by `id`, with the source's `version`), each
/// unless the replica holds its version or a newer one, in which case `update` columns
/// are left as they are; tells for each row whether it was stored, as one upsert per
/// row, in order, would. Rows of distinct ids go in one statement, which returns the
/// ids it stored; a statement cannot touch a row twice, so a repeated id starts the
/// next one. A read then a write would cost each consumer a round trip more.
pub(crate) async fn upsert_newer<A, C>(
    db: &C,
    rows: Vec<(Uuid, A)>,
    update: impl IntoIterator<Item = <A::Entity as EntityTrait>::Column>,
) -> Result<Vec<bool>, DbErr>
where
    A: ActiveModelTrait,
    C: ConnectionTrait,
{
    let version = || Alias::new("version");
    let on_conflict = &OnConflict::column(Alias::new("id"))
        .update_columns(update)
        .action_and_where(
            Expr::col((A::Entity::default(), version()))
                .lt(Expr::col((Alias::new("excluded"), version()))),
        )
        .to_owned();
    let mut stored = Vec::with_capacity(rows.len());
    let mut run: Vec<(Uuid, A)> = Vec::new();
    for (id, row) in rows {
        if run.iter().any(|(held, _)| *held == id) {
            store_run(db, std::mem::take(&mut run), on_conflict, &mut stored).await?;
        }
        run.push((id, row));
    }
    if !run.is_empty() {
        store_run(db, run, on_conflict, &mut stored).await?;
    }
    Ok(stored)
}

async fn store_run<A, C>(
    db: &C,
    run: Vec<(Uuid, A)>,
    on_conflict: &OnConflict,
    stored: &mut Vec<bool>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
    C: ConnectionTrait,
{
    let ids: Vec<Uuid> = run.iter().map(|(id, _)| *id).collect();
    let mut insert = A::Entity::insert_many(run.into_iter().map(|(_, row)| row))
        .on_conflict(on_conflict.clone())
        .into_query();
    insert.returning_col(Alias::new("id"));
    let returned = db
        .query_all(&insert)
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;
    stored.extend(ids.iter().map(|id| returned.contains(id)));
    Ok(())
}

/// Column types that differ between the two databases: (uuid, time, json, double).
pub(crate) fn column_types(
    db: &impl ConnectionTrait,
) -> (&'static str, &'static str, &'static str, &'static str) {
    match db.get_database_backend() {
        DbBackend::Postgres => ("UUID", "TIMESTAMPTZ", "JSONB", "DOUBLE PRECISION"),
        _ => ("BLOB", "TEXT", "TEXT", "REAL"),
    }
}

/// Of decoded events (`None`: a verb this version does not know), those whose row was
/// stored; `stored` has one entry per decoded row, in order.
pub(crate) fn stored_only<R, C>(
    decoded: Vec<Option<(R, C)>>,
    stored: Vec<bool>,
) -> Vec<Option<(R, C)>> {
    let mut stored = stored.into_iter();
    decoded
        .into_iter()
        .map(|decoded| decoded.filter(|_| stored.next() == Some(true)))
        .collect()
}

/// Announces the replica's write of `decoded` as the consumer transaction's last
/// statement, so that on PostgreSQL its `COMMIT` goes out with it
/// ([`ConsumerTxn::commit_with_next_statement`]): unless a change is `consequential`
/// (its follow-up writes more), or an id repeats (the rows then take more than one
/// statement, see [`upsert_newer`]).
pub(crate) fn last_write_unless<R, C>(
    txn: &ConsumerTxn,
    decoded: &[Option<(R, C)>],
    id: impl Fn(&R) -> Uuid,
    consequential: &impl Fn(&C) -> bool,
) {
    let rows: Vec<&(R, C)> = decoded.iter().flatten().collect();
    if rows.iter().any(|(_, change)| consequential(change)) {
        return;
    }
    let ids: HashSet<Uuid> = rows.iter().map(|(row, _)| id(row)).collect();
    if !rows.is_empty() && ids.len() == rows.len() {
        txn.commit_with_next_statement();
    }
}

/// Runs `follow` on what each event of a batch stored, in order, each under its event's
/// span ([`Handling::traced`]).
pub(crate) async fn follow_each<T, F, Fut>(
    events: &[Handling<'_>],
    applied: Vec<Option<T>>,
    follow: F,
) -> Result<(), HandlerError>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    for (handling, applied) in events.iter().zip(applied) {
        if let Some(applied) = applied {
            handling.traced(follow(applied)).await?;
        }
    }
    Ok(())
}
