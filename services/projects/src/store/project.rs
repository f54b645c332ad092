//! The `projects` table: a project's row, with its themes and members kept as `|…|` tags
//! so that list filters are plain LIKEs on both databases.

use fabrique_platform::Error;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::project;
use super::{internal, json, tags};
use crate::domain::{Invalid, Milestone, Participant, Project, ProjectState, Theme};

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
            origin_proposal: m.origin_proposal.clone(),
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    parse().map_err(|e| internal("project", id, e))
}

/// Inserts a new project, with the `request_id` that created it (a retried create finds
/// it by [`project_by_request`]).
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
    row.origin_proposal = Set(p.origin_proposal.clone());
    project::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The project made from this participation proposal, if any.
pub async fn project_from_proposal<C: ConnectionTrait>(
    db: &C,
    proposal: &str,
) -> Result<Option<Project>, Error> {
    project::Entity::find()
        .filter(project::Column::OriginProposal.eq(proposal))
        .one(db)
        .await?
        .map(to_project)
        .transpose()
}

/// The project, if there is one of that id.
pub async fn get_project<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Project>, Error> {
    project::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_project)
        .transpose()
}

/// The project a `CreateProject` call with this `request_id` created, if any.
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

/// Writes `p` over the stored project if it is still at version `expected`; `false` when
/// a concurrent change came first (the caller answers with a stale etag).
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

/// Up to `limit` projects, after `after` in id order, in which `member` takes part (as
/// lead or participant), in one of `states` and with every one of `themes`.
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
