//! Where projects, programmes, applications, grouped purchases and workshops are kept,
//! the same on PostgreSQL and SQLite. The envelope and the per-member award limit live in
//! the database: approvals raise counters with conditional updates (and CHECKs), so no
//! interleaving of requests or replicas can commit more than allowed.

mod entity;
pub mod migrations;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::{
    Application, ApplicationState, Category, CoFunder, FundingLine, GroupPurchase,
    GroupPurchaseState, Invalid, Lot, Milestone, Participant, Programme, ProgrammeState, Project,
    ProjectState, Site, Theme, Workshop,
};
use entity::{
    application, award_count, group_purchase, participation, programme, project, team, workshop,
};

fn internal(what: &str, id: Uuid, invalid: impl std::fmt::Display) -> Error {
    Error::internal(format!("stored {what} {id} is invalid: {invalid}"))
}

fn json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Invalid> {
    serde_json::from_value(value).map_err(|e| Invalid::new(e.to_string()))
}

fn tags<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut tags = String::from("|");
    for item in items {
        tags.push_str(item);
        tags.push('|');
    }
    tags
}

// ---------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------

fn project_columns(p: &Project) -> project::ActiveModel {
    let members: Vec<String> = std::iter::once(p.lead)
        .chain(p.participants.iter().map(|x| x.member))
        .map(|m| m.to_string())
        .collect();
    project::ActiveModel {
        lead_id: Set(p.lead),
        title: Set(p.title.clone()),
        summary: Set(p.summary.clone()),
        theme_tags: Set(tags(p.themes.iter().map(|t| t.as_str()))),
        member_tags: Set(tags(members.iter().map(String::as_str))),
        participants: Set(serde_json::json!(p.participants)),
        host_place_id: Set(p.host_place),
        milestones: Set(serde_json::json!(p.milestones)),
        state: Set(p.state.as_str().to_string()),
        updated_at: Set(p.updated_at),
        version: Set(p.version),
        ..Default::default()
    }
}

fn to_project(m: project::Model) -> Result<Project, Error> {
    let id = m.id;
    let parse = || -> Result<Project, Invalid> {
        Ok(Project {
            id: m.id,
            title: m.title.clone(),
            summary: m.summary.clone(),
            themes: m
                .theme_tags
                .split('|')
                .filter(|t| !t.is_empty())
                .map(str::parse::<Theme>)
                .collect::<Result<_, _>>()?,
            lead: m.lead_id,
            participants: json::<Vec<Participant>>(m.participants.clone())?,
            host_place: m.host_place_id,
            milestones: json::<Vec<Milestone>>(m.milestones.clone())?,
            state: m.state.parse()?,
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    parse().map_err(|e| internal("project", id, e))
}

pub async fn insert_project<C: ConnectionTrait>(
    db: &C,
    p: &Project,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = project_columns(p);
    row.id = Set(p.id);
    row.created_by = Set(p.created_by.clone());
    row.create_request_id = Set(request_id);
    row.created_at = Set(p.created_at);
    project::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn get_project<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Project>, Error> {
    project::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_project)
        .transpose()
}

pub async fn project_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Project>, Error> {
    project::Entity::find()
        .filter(project::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_project)
        .transpose()
}

pub async fn update_project<C: ConnectionTrait>(
    db: &C,
    p: &Project,
    expected: i64,
) -> Result<bool, DbErr> {
    let result = project::Entity::update_many()
        .set(project_columns(p))
        .filter(project::Column::Id.eq(p.id))
        .filter(project::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn list_projects<C: ConnectionTrait>(
    db: &C,
    member: Option<Uuid>,
    states: &[ProjectState],
    themes: &[Theme],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Project>, Error> {
    use project::Column;
    let mut query = project::Entity::find();
    if let Some(member) = member {
        query = query.filter(Column::MemberTags.contains(format!("|{member}|")));
    }
    if !states.is_empty() {
        query = query.filter(Column::State.is_in(states.iter().map(|s| s.as_str())));
    }
    for theme in themes {
        query = query.filter(Column::ThemeTags.contains(format!("|{}|", theme.as_str())));
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
        .map(to_project)
        .collect()
}

// ---------------------------------------------------------------------------
// Programmes
// ---------------------------------------------------------------------------

fn to_programme(m: programme::Model) -> Result<Programme, Error> {
    let id = m.id;
    let parse = || -> Result<Programme, Invalid> {
        Ok(Programme {
            id: m.id,
            funder: m.funder_id,
            funder_siret: m.funder_siret.clone(),
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
        })
    };
    parse().map_err(|e| internal("programme", id, e))
}

pub async fn insert_programme<C: ConnectionTrait>(
    db: &C,
    p: &Programme,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    programme::Entity::insert(programme::ActiveModel {
        id: Set(p.id),
        funder_id: Set(p.funder),
        funder_siret: Set(p.funder_siret.clone()),
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
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

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

pub async fn close_programme<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = programme::Entity::update_many()
        .col_expr(
            programme::Column::State,
            Expr::value(ProgrammeState::Closed.as_str()),
        )
        .col_expr(programme::Column::UpdatedAt, Expr::value(at))
        .filter(programme::Column::Id.eq(id))
        .filter(programme::Column::State.eq(ProgrammeState::Open.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Commits `cents` of the envelope if they fit; `false` when they do not.
pub async fn commit_aid<C: ConnectionTrait>(
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

/// Records `cents` as paid (never more than committed).
pub async fn pay_aid<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    cents: i64,
) -> Result<bool, DbErr> {
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

/// Counts one more award for `member` if it stays within `max`; `false` otherwise.
pub async fn count_award<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    member: Uuid,
    max: u32,
) -> Result<bool, DbErr> {
    use award_count::Column;
    award_count::Entity::insert(award_count::ActiveModel {
        programme_id: Set(programme),
        member_id: Set(member),
        awards: Set(0),
    })
    .on_conflict(
        OnConflict::columns([Column::ProgrammeId, Column::MemberId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let result = award_count::Entity::update_many()
        .col_expr(Column::Awards, Expr::col(Column::Awards).add(1))
        .filter(Column::ProgrammeId.eq(programme))
        .filter(Column::MemberId.eq(member))
        .filter(Column::Awards.lt(i64::from(max)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

// ---------------------------------------------------------------------------
// Applications
// ---------------------------------------------------------------------------

fn to_application(m: application::Model) -> Result<Application, Error> {
    let id = m.id;
    let parse = || -> Result<Application, Invalid> {
        Ok(Application {
            id: m.id,
            programme: m.programme_id,
            applicant: m.applicant_id,
            project: m.project_id,
            units: u32::try_from(m.units).map_err(|e| Invalid::new(e.to_string()))?,
            purpose: m.purpose.clone(),
            beneficiary_siret: m.beneficiary_siret.clone(),
            aid_cents: m.aid_cents,
            breakdown: json::<Vec<FundingLine>>(m.breakdown.clone())?,
            state: m.state.parse()?,
            state_reason: m.state_reason.clone(),
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            decided_at: m.decided_at,
            paid_at: m.paid_at,
            version: m.version,
        })
    };
    parse().map_err(|e| internal("application", id, e))
}

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
        beneficiary_siret: Set(a.beneficiary_siret.clone()),
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
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

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

/// Moves an application from `from` to `to` (with its reason and dates) if it is still
/// in `from`.
pub async fn move_application<C: ConnectionTrait>(
    db: &C,
    a: &Application,
    from: ApplicationState,
) -> Result<bool, DbErr> {
    use application::Column;
    let result = application::Entity::update_many()
        .col_expr(Column::State, Expr::value(a.state.as_str()))
        .col_expr(Column::StateReason, Expr::value(a.state_reason.clone()))
        .col_expr(Column::DecidedAt, Expr::value(a.decided_at))
        .col_expr(Column::PaidAt, Expr::value(a.paid_at))
        .col_expr(Column::Version, Expr::value(a.version))
        .filter(Column::Id.eq(a.id))
        .filter(Column::State.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// What [`apply_application`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Moved, its money effect made; `committed_cents` is the programme's committed
    /// total as it stands when the transaction commits (read under the programme's row
    /// lock, which every application move takes).
    Done { committed_cents: i64 },
    /// Not in the state it was read in any more: a concurrent call moved it first.
    Raced,
    /// Approving would commit more than the envelope.
    EnvelopeExhausted,
    /// Approving would give the applicant more awards than the programme allows.
    AwardLimitReached,
}

/// Writes `next`, the application `current` became by a transition, inside the
/// caller's transaction: the row moves only from the state it was read in; an approval
/// commits the aid within the envelope and counts the award within `max_awards`; a
/// payment pays it, never beyond what is committed. On anything but
/// [`Applied::Done`] the caller rolls back.
pub async fn apply_application<C: ConnectionTrait>(
    txn: &C,
    current: &Application,
    next: &Application,
    max_awards: Option<u32>,
) -> Result<Applied, DbErr> {
    if !move_application(txn, next, current.state).await? {
        return Ok(Applied::Raced);
    }
    match next.state {
        ApplicationState::Approved => {
            if !commit_aid(txn, next.programme, next.aid_cents).await? {
                return Ok(Applied::EnvelopeExhausted);
            }
            if let Some(max) = max_awards
                && !count_award(txn, next.programme, next.applicant, max).await?
            {
                return Ok(Applied::AwardLimitReached);
            }
        }
        ApplicationState::Paid if !pay_aid(txn, next.programme, next.aid_cents).await? => {
            return Ok(Applied::Raced);
        }
        _ => {}
    }
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

/// How many awards (approved or paid) a member holds in a programme.
pub async fn awards_of<C: ConnectionTrait>(
    db: &C,
    programme: Uuid,
    member: Uuid,
) -> Result<u64, Error> {
    Ok(list_applications(
        db,
        Some(programme),
        Some(member),
        &[ApplicationState::Approved, ApplicationState::Paid],
        None,
        None,
    )
    .await?
    .len() as u64)
}

// ---------------------------------------------------------------------------
// Grouped purchases
// ---------------------------------------------------------------------------

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
            participations: by_member,
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    parse().map_err(|e| internal("group purchase", id, e))
}

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

pub async fn get_group_purchase<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<GroupPurchase>, Error> {
    match group_purchase::Entity::find_by_id(id).one(db).await? {
        Some(m) => Ok(Some(to_group_purchase(db, m).await?)),
        None => Ok(None),
    }
}

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

/// Moves a purchase from `from` to `to` (and sets the supplier) if still in `from`.
pub async fn move_group_purchase<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    from: GroupPurchaseState,
    to: GroupPurchaseState,
    supplier: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use group_purchase::Column;
    let mut update = group_purchase::Entity::update_many()
        .col_expr(Column::State, Expr::value(to.as_str()))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1));
    if let Some(supplier) = supplier {
        update = update.col_expr(Column::Supplier, Expr::value(supplier));
    }
    let result = update
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(from.as_str()))
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

// ---------------------------------------------------------------------------
// Workshops
// ---------------------------------------------------------------------------

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
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn get_workshop<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Workshop>, Error> {
    let Some(m) = workshop::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let teams = team::Entity::find()
        .filter(team::Column::WorkshopId.eq(id))
        .all(db)
        .await?;
    let parse = || -> Result<Workshop, Invalid> {
        let mut by_lead = BTreeMap::new();
        for t in teams {
            by_lead.insert(t.lead_id, json::<Vec<Uuid>>(t.members)?);
        }
        Ok(Workshop {
            id: m.id,
            theme: m.theme.clone(),
            season: m.season.clone(),
            required_roles: json(m.required_roles.clone())?,
            teams: by_lead,
            created_at: m.created_at,
        })
    };
    parse().map(Some).map_err(|e| internal("workshop", id, e))
}

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
