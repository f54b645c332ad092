//! "Ateliers Villes Pairs": the peer workshops, and a workshop's page — its theme and
//! season, the roles every team needs, and each team with its members and the roles it
//! still lacks. Reads the projects service's public calls (`ListWorkshops`,
//! `GetWorkshop`, `ValidateTeam` — which roles are missing, never who holds the others)
//! and the public directory, without a token.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fabrique_api::projects as pp;
use serde::Deserialize;

use super::common::{Link, id_of, item_status, member_link, member_names};
use crate::Web;
use crate::texts::Texts;

/// Workshops per page of the list.
const PAGE_SIZE: i32 = 30;

/// The list's page token.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    page: String,
}

/// A workshop in the list.
struct WorkshopCard {
    href: String,
    theme: String,
    season: String,
    teams: String,
}

#[derive(Template)]
#[template(path = "workshops.html")]
struct WorkshopsPage {
    t: &'static Texts,
    title: &'static str,
    workshops: Vec<WorkshopCard>,
    next: Option<String>,
    paged: bool,
}

/// `GET /ateliers`.
pub async fn list(State(web): State<Arc<Web>>, Query(paging): Query<Paging>) -> Response {
    let t = web.texts;
    let response = match web
        .api
        .projects()
        .list_workshops(pp::ListWorkshopsRequest {
            page_size: PAGE_SIZE,
            page_token: paging.page.clone(),
        })
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let workshops = response
        .workshops
        .iter()
        .map(|w| WorkshopCard {
            href: format!("/ateliers/{}", id_of(&w.name, "workshops")),
            theme: w.theme.clone(),
            season: w.season.clone(),
            teams: t.projects.teams_count(w.teams.len()),
        })
        .collect();
    let next = (!response.next_page_token.is_empty())
        .then(|| super::href("/ateliers", &[("page", response.next_page_token.as_str())]));
    super::render(&WorkshopsPage {
        t,
        title: t.projects.workshops_title,
        workshops,
        next,
        paged: !paging.page.is_empty(),
    })
}

/// A team of a workshop.
struct TeamView {
    /// `Équipe de …`.
    heading: String,
    /// Unique in the page: the heading's id.
    id: String,
    members: Vec<Link>,
    /// The French names of the roles it lacks; empty when complete.
    missing: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "workshop.html")]
struct WorkshopPage {
    t: &'static Texts,
    title: String,
    season: String,
    roles: Vec<&'static str>,
    teams: Vec<TeamView>,
    /// `/ateliers/{id}`, where the team form posts (`{href}/equipe`).
    href: String,
    /// For a person acting for a member: its team's form.
    team: Option<super::teams::TeamForm>,
}

/// `GET /ateliers/{id}`: the workshop, then its members' names and what each team
/// lacks; for a person acting for a member, the form of its team.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let t = web.texts;
    let name = format!("workshops/{id}");
    let workshop = match web
        .api
        .projects()
        .get_workshop(pp::GetWorkshopRequest { name: name.clone() })
        .await
    {
        Ok(workshop) => workshop.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let members: Vec<String> = workshop
        .teams
        .iter()
        .flat_map(|team| std::iter::once(team.lead.clone()).chain(team.members.clone()))
        .collect();
    let looked_up = tokio::try_join!(member_names(&web, members), missing_roles(&web, &workshop));
    let (names, missing) = match looked_up {
        Ok(found) => found,
        Err(status) => return super::from_status(t, &status),
    };
    let Some(acting) = super::forms::acting_of(&web, &headers) else {
        return super::render(&workshop_page(t, workshop, &names, &missing, None));
    };
    match super::teams::team_form(&web, &acting, &workshop, None).await {
        Ok(form) => super::forms::private(
            axum::http::StatusCode::OK,
            &workshop_page(t, workshop, &names, &missing, Some(form)),
        ),
        Err(status) => super::from_status(t, &status),
    }
}

/// The roles each team lacks, by its lead.
async fn missing_roles(
    web: &Web,
    workshop: &pp::Workshop,
) -> Result<BTreeMap<String, Vec<String>>, tonic::Status> {
    let mut missing = BTreeMap::new();
    for team in &workshop.teams {
        let report = web
            .api
            .projects()
            .validate_team(pp::ValidateTeamRequest {
                name: workshop.name.clone(),
                lead: team.lead.clone(),
            })
            .await?
            .into_inner();
        missing.insert(team.lead.clone(), report.missing_roles);
    }
    Ok(missing)
}

fn workshop_page(
    t: &'static Texts,
    workshop: pp::Workshop,
    names: &BTreeMap<String, String>,
    missing: &BTreeMap<String, Vec<String>>,
    team: Option<super::teams::TeamForm>,
) -> WorkshopPage {
    WorkshopPage {
        t,
        href: format!("/ateliers/{}", id_of(&workshop.name, "workshops")),
        team,
        season: workshop.season.clone(),
        roles: workshop
            .required_roles
            .iter()
            .map(|r| t.projects.role(r))
            .collect(),
        teams: workshop
            .teams
            .iter()
            .enumerate()
            .map(|(i, team)| TeamView {
                heading: t.projects.team_of(
                    names
                        .get(&team.lead)
                        .map(String::as_str)
                        .unwrap_or_default(),
                ),
                id: format!("equipe-{}", i + 1),
                members: team
                    .members
                    .iter()
                    .filter_map(|m| member_link(names, m))
                    .collect(),
                missing: missing
                    .get(&team.lead)
                    .map(|roles| roles.iter().map(|r| t.projects.role(r)).collect())
                    .unwrap_or_default(),
            })
            .collect(),
        title: workshop.theme,
    }
}
