//! "Projets": what allies lead together, with the filters the API offers (theme, state),
//! and a project's page — its lead, partners, host place and milestones. Reads the
//! projects service's public calls (`ListProjects`, `GetProject`: projects under way or
//! done), the public directory and the registry, without a token.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fabrique_api::projects::{self as pp, ProjectState, Theme};
use serde::Deserialize;

use super::common::{self, Link, id_of, item_status, member_link, member_names, paragraphs};
use crate::Web;
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;

/// Projects per page of the list.
const PAGE_SIZE: i32 = 30;
/// The states the public sees, hence the state filter's choices.
const PUBLIC_STATES: [ProjectState; 2] = [ProjectState::Active, ProjectState::Completed];

/// The list's filters as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// A theme, as [`enum_code`] writes it (`energy`).
    #[serde(default)]
    theme: String,
    /// A state, as [`enum_code`] writes it (`active`).
    #[serde(default)]
    etat: String,
    /// The API's page token of the next page.
    #[serde(default)]
    page: String,
}

/// One option of a filter's `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// A project in a list.
pub struct ProjectCard {
    href: String,
    title: String,
    themes: String,
    lead: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    t: &'static Texts,
    title: &'static str,
    themes: Vec<Choice>,
    states: Vec<Choice>,
    projects: Vec<ProjectCard>,
    count: String,
    next: Option<String>,
    paged: bool,
}

/// A project's themes in French, `Énergie, Mobilité`.
fn themes_text(t: &Texts, themes: &[i32]) -> String {
    themes
        .iter()
        .filter_map(|theme| Theme::try_from(*theme).ok())
        .map(|theme| t.projects.theme(theme))
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_text(t: &Texts, state: i32) -> &'static str {
    t.projects
        .project_state(ProjectState::try_from(state).unwrap_or_default())
}

/// A project as a card of a list, its lead named from `names`.
pub fn card(t: &Texts, project: &pp::Project, names: &BTreeMap<String, String>) -> ProjectCard {
    ProjectCard {
        href: format!("/projets/{}", id_of(&project.name, "projects")),
        title: project.title.clone(),
        themes: themes_text(t, &project.themes),
        lead: names.get(&project.lead).cloned().unwrap_or_default(),
        state: state_text(t, project.state),
    }
}

/// `GET /projets`.
pub async fn list(State(web): State<Arc<Web>>, Query(filters): Query<Filters>) -> Response {
    let t = web.texts;
    let theme = enum_of_code::<Theme>(&filters.theme);
    let state = enum_of_code::<ProjectState>(&filters.etat).filter(|s| PUBLIC_STATES.contains(s));
    let request = pp::ListProjectsRequest {
        page_size: PAGE_SIZE,
        page_token: filters.page.clone(),
        themes: theme.map(|th| th as i32).into_iter().collect(),
        states: state.map(|s| s as i32).into_iter().collect(),
        ..Default::default()
    };
    let response = match web.api.projects().list_projects(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let leads: Vec<String> = response.projects.iter().map(|p| p.lead.clone()).collect();
    let names = match member_names(&web, leads).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let projects: Vec<ProjectCard> = response
        .projects
        .iter()
        .map(|p| card(t, p, &names))
        .collect();
    let next = (!response.next_page_token.is_empty()).then(|| {
        super::href(
            "/projets",
            &[
                ("theme", filters.theme.as_str()),
                ("etat", filters.etat.as_str()),
                ("page", response.next_page_token.as_str()),
            ],
        )
    });
    super::render(&ProjectsPage {
        t,
        title: t.projects.projects_title,
        themes: enum_values::<Theme>()
            .map(|th| Choice {
                value: enum_code(th),
                label: t.projects.theme(th).to_string(),
                selected: Some(th) == theme,
            })
            .collect(),
        states: PUBLIC_STATES
            .into_iter()
            .map(|s| Choice {
                value: enum_code(s),
                label: t.projects.project_state(s).to_string(),
                selected: Some(s) == state,
            })
            .collect(),
        count: t.projects.projects_count(projects.len()),
        projects,
        next,
        paged: !filters.page.is_empty(),
    })
}

/// A partner of a project and its role.
struct Partner {
    link: Option<Link>,
    role: String,
}

/// A milestone's row.
struct MilestoneRow {
    title: String,
    due: String,
    done: bool,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    t: &'static Texts,
    title: String,
    state: &'static str,
    themes: Vec<&'static str>,
    summary: Vec<String>,
    lead: Option<Link>,
    place: Option<Link>,
    partners: Vec<Partner>,
    milestones: Vec<MilestoneRow>,
}

/// `GET /projets/{id}`: the project, then its members' names and its place at once.
pub async fn show(State(web): State<Arc<Web>>, Path(id): Path<String>) -> Response {
    let t = web.texts;
    let project = match web
        .api
        .projects()
        .get_project(pp::GetProjectRequest {
            name: format!("projects/{id}"),
        })
        .await
    {
        Ok(project) => project.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let members: Vec<String> = std::iter::once(project.lead.clone())
        .chain(project.participants.iter().map(|p| p.member.clone()))
        .collect();
    match tokio::try_join!(
        member_names(&web, members),
        common::place_link(&web, &project.host_place),
    ) {
        Ok((names, place)) => super::render(&project_page(t, project, &names, place)),
        Err(status) => super::from_status(t, &status),
    }
}

fn project_page(
    t: &'static Texts,
    project: pp::Project,
    names: &BTreeMap<String, String>,
    place: Option<Link>,
) -> ProjectPage {
    ProjectPage {
        t,
        state: state_text(t, project.state),
        themes: project
            .themes
            .iter()
            .filter_map(|theme| Theme::try_from(*theme).ok())
            .map(|theme| t.projects.theme(theme))
            .collect(),
        summary: paragraphs(&project.summary),
        lead: member_link(names, &project.lead),
        place,
        partners: project
            .participants
            .iter()
            .filter(|p| p.member != project.lead)
            .map(|p| Partner {
                link: member_link(names, &p.member),
                role: p.role.clone(),
            })
            .filter(|p| p.link.is_some())
            .collect(),
        milestones: project
            .milestones
            .iter()
            .map(|m| MilestoneRow {
                title: m.title.clone(),
                due: paris_date_of_day(&m.due).unwrap_or_else(|| t.projects.no_due.to_string()),
                done: m.done,
            })
            .collect(),
        title: project.title,
    }
}

/// A milestone's due day: the API sends it as midnight UTC of that day, which is the
/// day itself, not the evening before in Paris.
fn paris_date_of_day(due: &Option<prost_types::Timestamp>) -> Option<String> {
    common::instant(due).map(|at| crate::fr::date(at.date_naive()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn themes_and_states_travel_in_urls_by_a_short_name() {
        for theme in enum_values::<Theme>() {
            assert_eq!(enum_of_code::<Theme>(&enum_code(theme)), Some(theme));
        }
        assert_eq!(enum_code(Theme::CircularEconomy), "circular_economy");
        assert_eq!(enum_code(ProjectState::Active), "active");
        let due = Some(prost_types::Timestamp {
            seconds: 1_803_859_200, // 2027-03-01T00:00:00Z
            nanos: 0,
        });
        assert_eq!(paris_date_of_day(&due).as_deref(), Some("1er mars 2027"));
    }
}
