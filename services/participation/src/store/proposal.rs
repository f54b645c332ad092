//! Proposals and their supports. A proposal's `support_count` is raised and lowered in
//! SQL by each support's transaction, never written from a value read before; a
//! participant's supports in a process are counted in `support_tallies`, whose
//! conditional UPDATE (`used < limit`) row-locks it, so that concurrent supports of one
//! participant queue there and never pass the limit.

use std::collections::BTreeSet;

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::corrupt;
use super::entity::{proposal, support, tally};
use crate::domain::{Answer, Location, Proposal, ProposalState};

/// One proposal per creation request.
pub const REQUEST_KEY: UniqueKey = UniqueKey {
    name: "proposals_create_request_id",
    table: "proposals",
    columns: &["create_request_id"],
};

/// One support per participant and proposal.
pub const SUPPORT_KEY: UniqueKey = UniqueKey {
    name: "supports_pkey",
    table: "supports",
    columns: &["proposal_id", "participant_id"],
};

fn row(p: &Proposal) -> proposal::ActiveModel {
    proposal::ActiveModel {
        id: Set(p.id),
        process_id: Set(p.process),
        author_id: Set(p.author),
        title: Set(p.title.clone()),
        body: Set(p.body.clone()),
        theme: Set(p.theme.clone()),
        place_id: Set(p.place),
        latitude: Set(p.location.as_ref().map(Location::latitude)),
        longitude: Set(p.location.as_ref().map(Location::longitude)),
        state: Set(p.state.as_str().to_string()),
        support_count: Set(p.support_count as i32),
        answer_text: Set(p.answer.as_ref().map(|a| a.text.clone())),
        answered_at: Set(p.answer.as_ref().map(|a| a.at)),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
        version: Set(p.version),
        ..Default::default()
    }
}

/// The proposal a row holds; the author's pseudonym is filled in by the caller.
fn to_proposal(row: proposal::Model) -> Result<Proposal, Error> {
    let state: ProposalState = row
        .state
        .parse()
        .map_err(|e| corrupt("proposal", row.id, e))?;
    let location = match (row.latitude, row.longitude) {
        (Some(latitude), Some(longitude)) => Some(
            Location::parse(latitude, longitude)
                .map_err(|(_, e)| corrupt("proposal", row.id, e))?,
        ),
        _ => None,
    };
    let answer = match (row.answer_text, row.answered_at) {
        (Some(text), Some(at)) => Some(Answer { text, at }),
        _ => None,
    };
    Ok(Proposal {
        id: row.id,
        process: row.process_id,
        author: row.author_id,
        author_display_name: String::new(),
        title: row.title,
        body: row.body,
        theme: row.theme,
        place: row.place_id,
        location,
        state,
        support_count: u32::try_from(row.support_count).unwrap_or(0),
        answer,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

/// Fills in the authors' pseudonyms.
async fn signed<C: ConnectionTrait>(
    db: &C,
    mut proposals: Vec<Proposal>,
) -> Result<Vec<Proposal>, Error> {
    let names = super::display_names(db, proposals.iter().map(|p| p.author)).await?;
    for proposal in &mut proposals {
        proposal.author_display_name = names.get(&proposal.author).cloned().unwrap_or_default();
    }
    Ok(proposals)
}

/// Inserts a proposal; a [`REQUEST_KEY`] violation is a concurrent retry.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    proposal: &Proposal,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = row(proposal);
    row.create_request_id = Set(request_id);
    proposal::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A proposal of `process`.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    process: Uuid,
    id: Uuid,
) -> Result<Option<Proposal>, Error> {
    let Some(row) = proposal::Entity::find_by_id(id)
        .filter(proposal::Column::ProcessId.eq(process))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(signed(db, vec![to_proposal(row)?]).await?.pop())
}

/// The proposal an earlier CreateProposal with this request id made.
pub async fn by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Proposal>, Error> {
    let Some(row) = proposal::Entity::find()
        .filter(proposal::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(signed(db, vec![to_proposal(row)?]).await?.pop())
}

/// Filters of ListProposals.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Any of these.
    pub states: Vec<ProposalState>,
    /// Only this theme.
    pub theme: Option<String>,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy)]
pub enum Cursor {
    /// Newest first, after this id.
    Newest(Option<Uuid>),
    /// Most supported first, skipping this many: counts move between pages, so a
    /// keyset on them would skip or repeat; an offset only shifts.
    MostSupported(u64),
}

/// A process's proposals, at most `limit`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    process: Uuid,
    filter: &Filter,
    cursor: Cursor,
    limit: u64,
) -> Result<Vec<Proposal>, Error> {
    let mut query = proposal::Entity::find().filter(proposal::Column::ProcessId.eq(process));
    if !filter.states.is_empty() {
        query = query.filter(
            proposal::Column::State.is_in(filter.states.iter().map(|s| s.as_str().to_string())),
        );
    }
    if let Some(theme) = &filter.theme {
        query = query.filter(proposal::Column::Theme.eq(theme.as_str()));
    }
    query = match cursor {
        Cursor::Newest(after) => {
            if let Some(after) = after {
                query = query.filter(proposal::Column::Id.lt(after));
            }
            query.order_by_desc(proposal::Column::Id)
        }
        Cursor::MostSupported(skip) => query
            .order_by_desc(proposal::Column::SupportCount)
            .order_by_desc(proposal::Column::Id)
            .offset(skip),
    };
    let rows = query.limit(limit).all(db).await?;
    let proposals = rows
        .into_iter()
        .map(to_proposal)
        .collect::<Result<_, _>>()?;
    signed(db, proposals).await
}

/// Writes `next` over `current` (its support count left to the supports' statements)
/// unless it changed meanwhile (then `false`).
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: &Proposal,
    next: &Proposal,
) -> Result<bool, DbErr> {
    let mut row = row(next);
    for unset in [&mut row.id, &mut row.process_id, &mut row.author_id] {
        *unset = sea_orm::ActiveValue::NotSet;
    }
    row.support_count = sea_orm::ActiveValue::NotSet;
    row.created_at = sea_orm::ActiveValue::NotSet;
    let result = proposal::Entity::update_many()
        .set(row)
        .filter(proposal::Column::Id.eq(current.id))
        .filter(proposal::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Which of `proposals` `participant` supports.
pub async fn supported_by<C: ConnectionTrait>(
    db: &C,
    participant: Uuid,
    proposals: &[Uuid],
) -> Result<BTreeSet<Uuid>, DbErr> {
    if proposals.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(support::Entity::find()
        .filter(support::Column::ParticipantId.eq(participant))
        .filter(support::Column::ProposalId.is_in(proposals.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.proposal_id)
        .collect())
}

/// What [`add_support`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Counted; the proposal's count is now this, and whether this support is the
    /// one that first reached the process's threshold.
    Counted(u32, bool),
    /// The participant supported it already: nothing changed.
    Already,
    /// The participant used the process's limit: nothing changed.
    OverLimit,
    /// The proposal no longer takes supports: nothing changed.
    Closed,
}

/// Within the caller's transaction: the support row (its key refusing a second), the
/// participant's tally raised only below `limit` (0: no limit), the proposal's count
/// raised only while it takes supports. Anything but [`Added::Counted`] must be rolled
/// back.
pub async fn add_support<C: ConnectionTrait>(
    txn: &C,
    process: Uuid,
    proposal: Uuid,
    participant: Uuid,
    (limit, threshold): (u32, u32),
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Added, DbErr> {
    let inserted = support::Entity::insert(support::ActiveModel {
        proposal_id: Set(proposal),
        participant_id: Set(participant),
        process_id: Set(process),
        created_at: Set(at),
    })
    .exec_without_returning(txn)
    .await;
    match inserted {
        Err(error) if fabrique_platform::db::violates(&error, &SUPPORT_KEY) => {
            return Ok(Added::Already);
        }
        other => other?,
    };
    if !raise_tally(txn, process, participant, limit).await? {
        return Ok(Added::OverLimit);
    }
    let Added::Counted(count, _) = count(txn, proposal, 1).await? else {
        return Ok(Added::Closed);
    };
    // Set once, by the one transaction that finds it unset with the count reached: a
    // count that falls and rises again is not announced twice.
    let first = threshold > 0
        && count >= threshold
        && proposal::Entity::update_many()
            .col_expr(proposal::Column::ThresholdReachedAt, Expr::value(at))
            .filter(proposal::Column::Id.eq(proposal))
            .filter(proposal::Column::ThresholdReachedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected
            == 1;
    Ok(Added::Counted(count, first))
}

/// Raises the participant's tally in the process, unless it reached `limit` (0: none):
/// whether it did. The conditional UPDATE holds the row's lock until the transaction
/// ends, so concurrent supports of one participant are counted one after the other.
async fn raise_tally<C: ConnectionTrait>(
    txn: &C,
    process: Uuid,
    participant: Uuid,
    limit: u32,
) -> Result<bool, DbErr> {
    tally::Entity::insert(tally::ActiveModel {
        process_id: Set(process),
        participant_id: Set(participant),
        used: Set(0),
    })
    .on_conflict(
        OnConflict::columns([tally::Column::ProcessId, tally::Column::ParticipantId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let mut raise = tally::Entity::update_many()
        .col_expr(tally::Column::Used, Expr::col(tally::Column::Used).add(1))
        .filter(tally::Column::ProcessId.eq(process))
        .filter(tally::Column::ParticipantId.eq(participant));
    if limit > 0 {
        raise = raise.filter(tally::Column::Used.lt(limit as i32));
    }
    Ok(raise.exec(txn).await?.rows_affected == 1)
}

/// Within the caller's transaction: the support row removed, the tally and the count
/// lowered. `None` when the participant did not support it.
pub async fn remove_support<C: ConnectionTrait>(
    txn: &C,
    process: Uuid,
    proposal: Uuid,
    participant: Uuid,
) -> Result<Option<Added>, DbErr> {
    let deleted = support::Entity::delete_many()
        .filter(support::Column::ProposalId.eq(proposal))
        .filter(support::Column::ParticipantId.eq(participant))
        .exec(txn)
        .await?;
    if deleted.rows_affected != 1 {
        return Ok(None);
    }
    tally::Entity::update_many()
        .col_expr(tally::Column::Used, Expr::col(tally::Column::Used).sub(1))
        .filter(tally::Column::ProcessId.eq(process))
        .filter(tally::Column::ParticipantId.eq(participant))
        .exec(txn)
        .await?;
    count(txn, proposal, -1).await.map(Some)
}

/// Moves the proposal's count by `by` while it takes supports; the count after (never
/// a threshold reached: [`add_support`] says).
async fn count<C: ConnectionTrait>(txn: &C, proposal: Uuid, by: i32) -> Result<Added, DbErr> {
    let open = [ProposalState::Published, ProposalState::Evaluating].map(|s| s.as_str());
    let moved = proposal::Entity::update_many()
        .col_expr(
            proposal::Column::SupportCount,
            Expr::col(proposal::Column::SupportCount).add(by),
        )
        .filter(proposal::Column::Id.eq(proposal))
        .filter(proposal::Column::State.is_in(open))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(Added::Closed);
    }
    // This transaction holds the row's lock until it commits: the count read is the
    // one it wrote, so exactly one support sees the threshold reached.
    let now: Option<i32> = proposal::Entity::find_by_id(proposal)
        .select_only()
        .column(proposal::Column::SupportCount)
        .into_tuple()
        .one(txn)
        .await?;
    Ok(Added::Counted(
        u32::try_from(now.unwrap_or_default()).unwrap_or(0),
        false,
    ))
}

/// How many supports `participant` gave in `process`.
pub async fn used<C: ConnectionTrait>(
    db: &C,
    process: Uuid,
    participant: Uuid,
) -> Result<u32, DbErr> {
    Ok(tally::Entity::find_by_id((process, participant))
        .one(db)
        .await?
        .map_or(0, |t| u32::try_from(t.used).unwrap_or(0)))
}
