//! The `programmes`, `applications` and `legal_entity_awards` tables. An approval
//! commits its aid with a conditional `UPDATE … WHERE committed + aid <= envelope` and
//! counts the award against the applicant's legal entity the same way, in the
//! transaction that moves the application ([`apply_application`], the only way in), so
//! that no interleaving of requests or replicas commits more than the envelope or gives
//! a legal entity more awards than allowed; cancellations and balances give back, and
//! payments never exceed what is committed.

use fabrique_platform::Error;
use fabrique_types::Siret;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::{application, legal_entity_award, programme};
use super::{internal, json};
use crate::domain::{
    Application, ApplicationState, CoFunder, FundingLine, Installation, Invalid, Programme,
    ProgrammeState,
};

fn to_programme(m: programme::Model) -> Result<Programme, Error> {
    let id = m.id;
    let parse = || -> Result<Programme, Invalid> {
        Ok(Programme {
            id: m.id,
            funder: m.funder_id,
            operator: m.operator_id,
            yield_kwh_per_kwp: m.yield_kwh_per_kwp.map(|y| y as u32),
            funder_siret: m.funder_siret.as_deref().map(Siret::parse).transpose()?,
            title: m.title.clone(),
            description: m.description.clone(),
            envelope_cents: m.envelope_cents,
            aid_per_unit_cents: m.aid_per_unit_cents,
            unit_label: m.unit_label.clone(),
            max_units_per_application: m.max_units_per_application.map(|v| v as u32),
            eligible_kinds: json(m.eligible_kinds.clone())?,
            max_awards_per_member: m.max_awards_per_member.map(|v| v as u32),
            co_funders: json::<Vec<CoFunder>>(m.co_funders.clone())?,
            opens_at: m.opens_at,
            closes_at: m.closes_at,
            state: m.state.parse()?,
            committed_cents: m.committed_cents,
            paid_cents: m.paid_cents,
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            envelope_changes: json(m.envelope_changes.clone())?,
        })
    };
    parse().map_err(|e| internal("programme", id, e))
}

/// Inserts a new programme, with the `request_id` that created it (a retried create finds
/// it by [`programme_by_request`]).
pub async fn insert_programme<C: ConnectionTrait>(
    db: &C,
    p: &Programme,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    programme::Entity::insert(programme::ActiveModel {
        id: Set(p.id),
        funder_id: Set(p.funder),
        operator_id: Set(p.operator),
        yield_kwh_per_kwp: Set(p.yield_kwh_per_kwp.map(i64::from)),
        funder_siret: Set(p.funder_siret.as_ref().map(|s| s.as_str().to_string())),
        title: Set(p.title.clone()),
        description: Set(p.description.clone()),
        envelope_cents: Set(p.envelope_cents),
        aid_per_unit_cents: Set(p.aid_per_unit_cents),
        unit_label: Set(p.unit_label.clone()),
        max_units_per_application: Set(p.max_units_per_application.map(i64::from)),
        eligible_kinds: Set(serde_json::json!(p.eligible_kinds)),
        max_awards_per_member: Set(p.max_awards_per_member.map(i64::from)),
        co_funders: Set(serde_json::json!(p.co_funders)),
        opens_at: Set(p.opens_at),
        closes_at: Set(p.closes_at),
        state: Set(p.state.as_str().to_string()),
        committed_cents: Set(0),
        paid_cents: Set(0),
        created_by: Set(p.created_by.clone()),
        create_request_id: Set(request_id),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
        envelope_changes: Set(serde_json::json!(p.envelope_changes)),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The programme, if there is one of that id.
pub async fn get_programme<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<Programme>, Error> {
    programme::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_programme)
        .transpose()
}

/// The programme a `CreateProgramme` call with this `request_id` created, if any.
pub async fn programme_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Programme>, Error> {
    programme::Entity::find()
        .filter(programme::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_programme)
        .transpose()
}

/// Up to `limit` programmes in one of `states` (any when empty), after `after` in id
/// order: the page and, one more than asked, whether another follows.
pub async fn list_programmes<C: ConnectionTrait>(
    db: &C,
    states: &[ProgrammeState],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Programme>, Error> {
    use programme::Column;
    let mut query = programme::Entity::find();
    if !states.is_empty() {
        query = query.filter(Column::State.is_in(states.iter().map(|s| s.as_str())));
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
        .map(to_programme)
        .collect()
}

/// Writes `next`, the programme `from` state became by a transition (its state and
/// time), if it is still in `from`; `false` when a concurrent call moved it first. The
/// counters are left alone: approvals move them meanwhile.
pub async fn move_programme<C: ConnectionTrait>(
    db: &C,
    next: &Programme,
    from: ProgrammeState,
) -> Result<bool, DbErr> {
    use programme::Column;
    let result = programme::Entity::update_many()
        .col_expr(Column::State, Expr::value(next.state.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(Column::Id.eq(next.id))
        .filter(Column::State.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Writes `next`, `current` with its envelope changed, if neither its envelope nor its
/// state moved meanwhile and the new envelope still covers what is committed (which
/// approvals may have raised since `current` was read); `false` otherwise.
pub async fn change_envelope<C: ConnectionTrait>(
    db: &C,
    current: &Programme,
    next: &Programme,
) -> Result<bool, DbErr> {
    use programme::Column;
    let result = programme::Entity::update_many()
        .col_expr(Column::EnvelopeCents, Expr::value(next.envelope_cents))
        .col_expr(
            Column::EnvelopeChanges,
            Expr::value(serde_json::json!(next.envelope_changes)),
        )
        .col_expr(Column::UpdatedAt, Expr::value(next.updated_at))
        .filter(Column::Id.eq(next.id))
        .filter(Column::EnvelopeCents.eq(current.envelope_cents))
        .filter(Column::UpdatedAt.eq(current.updated_at))
        .filter(Column::CommittedCents.lte(next.envelope_cents))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Commits `cents` of the envelope if they fit; `false` when they do not.
async fn commit_aid<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    cents: i64,
) -> Result<bool, DbErr> {
    use programme::Column;
    let result = programme::Entity::update_many()
        .col_expr(
            Column::CommittedCents,
            Expr::col(Column::CommittedCents).add(cents),
        )
        .filter(Column::Id.eq(programme))
        .filter(
            Expr::col(Column::CommittedCents)
                .add(cents)
                .lte(Expr::col(Column::EnvelopeCents)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives `cents` back to the envelope: a cancelled award, or what a balance left unpaid.
async fn release_aid<C: ConnectionTrait>(db: &C, programme: Uuid, cents: i64) -> Result<(), DbErr> {
    use programme::Column;
    programme::Entity::update_many()
        .col_expr(
            Column::CommittedCents,
            Expr::col(Column::CommittedCents).sub(cents),
        )
        .filter(Column::Id.eq(programme))
        .exec(db)
        .await?;
    Ok(())
}

/// Records `cents` as paid (never more than committed).
async fn pay_aid<C: ConnectionTrait>(db: &C, programme: Uuid, cents: i64) -> Result<bool, DbErr> {
    use programme::Column;
    let result = programme::Entity::update_many()
        .col_expr(Column::PaidCents, Expr::col(Column::PaidCents).add(cents))
        .filter(Column::Id.eq(programme))
        .filter(
            Expr::col(Column::PaidCents)
                .add(cents)
                .lte(Expr::col(Column::CommittedCents)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Counts one more award for `legal_entity` if it stays within `max`; `false`
/// otherwise.
async fn count_award<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    legal_entity: &str,
    max: u32,
) -> Result<bool, DbErr> {
    use legal_entity_award::Column;
    legal_entity_award::Entity::insert(legal_entity_award::ActiveModel {
        programme_id: Set(programme),
        legal_entity: Set(legal_entity.to_string()),
        awards: Set(0),
    })
    .on_conflict(
        OnConflict::columns([Column::ProgrammeId, Column::LegalEntity])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let result = legal_entity_award::Entity::update_many()
        .col_expr(Column::Awards, Expr::col(Column::Awards).add(1))
        .filter(Column::ProgrammeId.eq(programme))
        .filter(Column::LegalEntity.eq(legal_entity))
        .filter(Column::Awards.lt(i64::from(max)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Counts one award less for `legal_entity` (a cancelled one).
async fn uncount_award<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    legal_entity: &str,
) -> Result<(), DbErr> {
    use legal_entity_award::Column;
    legal_entity_award::Entity::update_many()
        .col_expr(Column::Awards, Expr::col(Column::Awards).sub(1))
        .filter(Column::ProgrammeId.eq(programme))
        .filter(Column::LegalEntity.eq(legal_entity))
        .filter(Column::Awards.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// How many awards `legal_entity` holds in a programme.
pub async fn awards_of<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    legal_entity: &str,
) -> Result<u64, Error> {
    Ok(
        legal_entity_award::Entity::find_by_id((programme, legal_entity.to_string()))
            .one(db)
            .await?
            .map_or(0, |row| u64::try_from(row.awards).unwrap_or(0)),
    )
}

// ---------------------------------------------------------------------------
// Applications
// ---------------------------------------------------------------------------

pub(super) fn to_application(m: application::Model) -> Result<Application, Error> {
    let id = m.id;
    let parse = || -> Result<Application, Invalid> {
        Ok(Application {
            id: m.id,
            programme: m.programme_id,
            applicant: m.applicant_id,
            project: m.project_id,
            units: u32::try_from(m.units).map_err(|e| Invalid::new(e.to_string()))?,
            purpose: m.purpose.clone(),
            beneficiary_siret: m
                .beneficiary_siret
                .as_deref()
                .map(Siret::parse)
                .transpose()?,
            aid_cents: m.aid_cents,
            breakdown: json::<Vec<FundingLine>>(m.breakdown.clone())?,
            state: m.state.parse()?,
            state_reason: m.state_reason.clone(),
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            decided_at: m.decided_at,
            paid_at: m.paid_at,
            legal_entity: m.legal_entity.clone(),
            payments: json(m.payments.clone())?,
            completion_request: m.completion_request.clone(),
            completion_answer: m.completion_answer.clone(),
            instruction: json(m.instruction.clone())?,
            installation: m.peak_watts.map(|watts| Installation {
                peak_watts: watts as u32,
                area_dm2: m.area_dm2.map(|a| a as u32),
                building: m.building.clone(),
            }),
            grouping: m.grouping_id,
            filer: m.filer_id,
            version: m.version,
        })
    };
    parse().map_err(|e| internal("application", id, e))
}

/// Inserts a new application, with the `request_id` that created it.
pub async fn insert_application<C: ConnectionTrait>(
    db: &C,
    a: &Application,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    application::Entity::insert(application::ActiveModel {
        id: Set(a.id),
        programme_id: Set(a.programme),
        applicant_id: Set(a.applicant),
        project_id: Set(a.project),
        units: Set(i64::from(a.units)),
        purpose: Set(a.purpose.clone()),
        beneficiary_siret: Set(a.beneficiary_siret.as_ref().map(|s| s.as_str().to_string())),
        aid_cents: Set(a.aid_cents),
        breakdown: Set(serde_json::json!(a.breakdown)),
        state: Set(a.state.as_str().to_string()),
        state_reason: Set(a.state_reason.clone()),
        created_by: Set(a.created_by.clone()),
        create_request_id: Set(request_id),
        created_at: Set(a.created_at),
        decided_at: Set(a.decided_at),
        paid_at: Set(a.paid_at),
        version: Set(a.version),
        legal_entity: Set(a.legal_entity.clone()),
        payments: Set(serde_json::json!(a.payments)),
        completion_request: Set(a.completion_request.clone()),
        completion_answer: Set(a.completion_answer.clone()),
        instruction: Set(serde_json::json!(a.instruction)),
        grouping_id: Set(a.grouping),
        filer_id: Set(a.filer),
        peak_watts: Set(a.installation.as_ref().map(|i| i64::from(i.peak_watts))),
        area_dm2: Set(a
            .installation
            .as_ref()
            .and_then(|i| i.area_dm2.map(i64::from))),
        building: Set(a.installation.as_ref().and_then(|i| i.building.clone())),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The application, if there is one of that id (in any programme: the caller checks).
pub async fn get_application<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<Application>, Error> {
    application::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_application)
        .transpose()
}

/// The application a `CreateApplication` call with this `request_id` created, if any.
pub async fn application_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Application>, Error> {
    application::Entity::find()
        .filter(application::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_application)
        .transpose()
}

/// Writes `a`'s state, reason, dates, legal entity, payments and version if the row is
/// still as `current` was read (its state and version).
async fn move_application<C: ConnectionTrait>(
    db: &C,
    current: &Application,
    a: &Application,
) -> Result<bool, DbErr> {
    use application::Column;
    let result = application::Entity::update_many()
        .col_expr(Column::State, Expr::value(a.state.as_str()))
        .col_expr(Column::StateReason, Expr::value(a.state_reason.clone()))
        .col_expr(Column::DecidedAt, Expr::value(a.decided_at))
        .col_expr(Column::PaidAt, Expr::value(a.paid_at))
        .col_expr(Column::LegalEntity, Expr::value(a.legal_entity.clone()))
        .col_expr(Column::Payments, Expr::value(serde_json::json!(a.payments)))
        .col_expr(Column::Purpose, Expr::value(a.purpose.clone()))
        .col_expr(
            Column::CompletionRequest,
            Expr::value(a.completion_request.clone()),
        )
        .col_expr(
            Column::CompletionAnswer,
            Expr::value(a.completion_answer.clone()),
        )
        .col_expr(
            Column::Instruction,
            Expr::value(serde_json::json!(a.instruction)),
        )
        .col_expr(Column::Version, Expr::value(a.version))
        .filter(Column::Id.eq(a.id))
        .filter(Column::State.eq(current.state.as_str()))
        .filter(Column::Version.eq(current.version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// What [`apply_application`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Moved, its money effect made.
    Done {
        /// The programme's committed total as it stands when the transaction commits
        /// (read under the programme's row lock, which every application move takes).
        committed_cents: i64,
    },
    /// Not in the state it was read in any more: a concurrent call moved it first.
    Raced,
    /// Approving would commit more than the envelope.
    EnvelopeExhausted,
    /// Approving would give the applicant more awards than the programme allows.
    AwardLimitReached,
}

/// Writes `next`, the application `current` became by a transition, inside the
/// caller's transaction: the row moves only from the state and version it was read in;
/// an approval commits the aid within the envelope and counts the award against its
/// legal entity within `max_awards`; a cancellation gives both back; a payment pays,
/// never beyond what is committed, and a balance gives back what it leaves unpaid. On
/// anything but [`Applied::Done`] the caller rolls back.
/// Over 60 lines: one money effect per move, in the order the CHECKs need.
pub async fn apply_application<C: ConnectionTrait>(
    txn: &C,
    current: &Application,
    next: &Application,
    max_awards: Option<u32>,
) -> Result<Applied, DbErr> {
    if !move_application(txn, current, next).await? {
        return Ok(Applied::Raced);
    }
    let committed = current.committed_change(next);
    let entity = next.legal_entity.as_deref().unwrap_or_default();
    match (current.state, next.state) {
        (ApplicationState::Submitted, ApplicationState::Approved) => {
            if !commit_aid(txn, next.programme, committed).await? {
                return Ok(Applied::EnvelopeExhausted);
            }
            if let Some(max) = max_awards
                && !count_award(txn, next.programme, entity, max).await?
            {
                return Ok(Applied::AwardLimitReached);
            }
        }
        (ApplicationState::Approved, ApplicationState::Cancelled) => {
            release_aid(txn, next.programme, -committed).await?;
            uncount_award(txn, next.programme, entity).await?;
        }
        _ => {}
    }
    let paid = next.paid_cents() - current.paid_cents();
    // Paid before the balance's remainder is released: paid never exceeds committed.
    if paid > 0 && !pay_aid(txn, next.programme, paid).await? {
        return Ok(Applied::Raced);
    }
    if next.state == ApplicationState::Paid && committed < 0 {
        release_aid(txn, next.programme, -committed).await?;
    }
    super::co_funding::apply(txn, current, next).await?;
    Ok(Applied::Done {
        committed_cents: locked_committed(txn, next.programme).await?,
    })
}

/// The programme's committed total, its row locked until the transaction ends
/// (PostgreSQL; SQLite has one writer at a time), so that an event carries it as it is
/// when the transaction commits. Taken after the application's row, as every
/// application write does, so two never wait on each other crosswise.
pub async fn locked_committed<C: ConnectionTrait>(txn: &C, programme: Uuid) -> Result<i64, DbErr> {
    use programme::Column;
    let mut query = programme::Entity::find_by_id(programme)
        .select_only()
        .column(Column::CommittedCents);
    // FOR NO KEY UPDATE, not FOR UPDATE: inserting an application takes a key-share
    // lock on its programme (the foreign key), which FOR UPDATE would wait on, so two
    // concurrent submissions deadlocked; the committed total's UPDATE takes this one.
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock(sea_orm::sea_query::LockType::NoKeyUpdate);
    }
    Ok(query
        .into_tuple::<i64>()
        .one(txn)
        .await?
        .unwrap_or_default())
}

/// The applications matching every filter given, in id order, after `after`; `limit`
/// `None` for all of them (the SCDL export, a departing member).
pub async fn list_applications<C: ConnectionTrait>(
    db: &C,
    programme: Option<Uuid>,
    applicant: Option<Uuid>,
    states: &[ApplicationState],
    after: Option<Uuid>,
    limit: Option<u64>,
) -> Result<Vec<Application>, Error> {
    use application::Column;
    let mut query = application::Entity::find();
    if let Some(programme) = programme {
        query = query.filter(Column::ProgrammeId.eq(programme));
    }
    if let Some(applicant) = applicant {
        query = query.filter(Column::ApplicantId.eq(applicant));
    }
    if !states.is_empty() {
        query = query.filter(Column::State.is_in(states.iter().map(|s| s.as_str())));
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
        .map(to_application)
        .collect()
}
