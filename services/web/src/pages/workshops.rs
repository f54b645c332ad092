//! "Ateliers Villes Pairs": the peer workshops, and a workshop's page — its theme and
//! season, its co-pilots, the roles every team needs, each team with its members and the
//! roles it still lacks, its sessions (when, where, who is expected, who came) and the
//! restitutions of what they produced. Reads the projects service's public calls
//! (`ListWorkshops`, `GetWorkshop`, `ValidateTeam` — which roles are missing, never who
//! holds the others — `ListRestitutions`) and the public directory; for a person acting
//! for a member, the workshop and restitutions as that member reads them (an online
//! session's address and the season's unpublished restitutions, if it takes part).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fabrique_api::projects as pp;
use serde::Deserialize;

use super::common::{
    Link, id_of, instant, item_status, member_link, member_names, paragraphs, paris_date,
    place_link,
};
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

/// A session of a workshop.
struct SessionView {
    title: String,
    /// `mercredi 18 novembre 2026, 9 h 30 – 16 h 30`, in Paris time.
    when: String,
    place: Option<Link>,
    online: bool,
    /// The online address, for the workshop's participants.
    join: Option<String>,
    /// The team, the peer group, or every team.
    expected: String,
    attendees: Vec<Link>,
    cancelled: bool,
}

/// A restitution of a session.
struct RestitutionView {
    title: String,
    /// The session it came out of.
    from: String,
    /// The team or peer group it speaks for, or its author.
    by: String,
    paragraphs: Vec<String>,
    links: Vec<String>,
    unpublished: bool,
}

#[derive(Template)]
#[template(path = "workshop.html")]
struct WorkshopPage {
    t: &'static Texts,
    title: String,
    season: String,
    co_pilots: Vec<Link>,
    roles: Vec<&'static str>,
    teams: Vec<TeamView>,
    sessions: Vec<SessionView>,
    restitutions: Vec<RestitutionView>,
    /// `/ateliers/{id}`, where the team form posts (`{href}/equipe`).
    href: String,
    /// For a person acting for a member: its team's form.
    team: Option<super::teams::TeamForm>,
}

/// `GET /ateliers/{id}`: the workshop (as the member a person acts for reads it, else
/// as the public does), its restitutions, then its members' names, places and what each
/// team lacks; for a person acting for a member, the form of its team.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let t = web.texts;
    let name = format!("workshops/{id}");
    let acting = super::forms::acting_of(&web, &headers);
    let (mut workshops, mut restitutions) = (web.api.projects(), web.api.projects());
    let read = tokio::try_join!(
        workshops.get_workshop(ask(&acting, pp::GetWorkshopRequest { name: name.clone() })),
        restitutions.list_restitutions(ask(
            &acting,
            pp::ListRestitutionsRequest {
                parent: name.clone(),
                page_size: 100,
                page_token: String::new(),
            }
        )),
    );
    let (workshop, restitutions) = match read {
        Ok((w, r)) => (w.into_inner(), r.into_inner().restitutions),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let members: Vec<String> = workshop
        .teams
        .iter()
        .flat_map(|team| std::iter::once(team.lead.clone()).chain(team.members.clone()))
        .chain(workshop.co_pilots.clone())
        .chain(restitutions.iter().map(|r| r.author.clone()))
        .collect();
    let looked_up = tokio::try_join!(
        member_names(&web, members),
        missing_roles(&web, &workshop),
        session_places(&web, &workshop),
    );
    let (names, missing, places) = match looked_up {
        Ok(found) => found,
        Err(status) => return super::from_status(t, &status),
    };
    let found = Found {
        names: &names,
        missing: &missing,
        places: &places,
        restitutions: &restitutions,
    };
    let Some(acting) = acting else {
        return super::render(&workshop_page(t, workshop, &found, None));
    };
    match super::teams::team_form(&web, &acting, &workshop, None).await {
        Ok(form) => super::forms::private(
            axum::http::StatusCode::OK,
            &workshop_page(t, workshop, &found, Some(form)),
        ),
        Err(status) => super::from_status(t, &status),
    }
}

/// `message` as the member a person acts for, or as the public.
fn ask<T>(acting: &Option<super::forms::Acting>, message: T) -> tonic::Request<T> {
    match acting {
        Some(acting) => acting.authed(message),
        None => tonic::Request::new(message),
    }
}

/// What a workshop's page shows beside the workshop, looked up from other calls.
struct Found<'a> {
    names: &'a BTreeMap<String, String>,
    missing: &'a BTreeMap<String, Vec<String>>,
    /// Each session's place, by its `places/{id}`, as the public registry shows it.
    places: &'a BTreeMap<String, Link>,
    restitutions: &'a [pp::Restitution],
}

/// The places of the workshop's sessions, once each.
async fn session_places(
    web: &Web,
    workshop: &pp::Workshop,
) -> Result<BTreeMap<String, Link>, tonic::Status> {
    let mut places = BTreeMap::new();
    for session in &workshop.sessions {
        if session.place.is_empty() || places.contains_key(&session.place) {
            continue;
        }
        if let Some(link) = place_link(web, &session.place).await? {
            places.insert(session.place.clone(), link);
        }
    }
    Ok(places)
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
    found: &Found<'_>,
    team: Option<super::teams::TeamForm>,
) -> WorkshopPage {
    let names = found.names;
    let heading = |lead: &str| {
        t.projects
            .team_of(names.get(lead).map(String::as_str).unwrap_or_default())
    };
    let sessions = workshop
        .sessions
        .iter()
        .map(|s| session_view(t, s, found, &heading))
        .collect();
    let restitutions = found
        .restitutions
        .iter()
        .map(|r| restitution_view(t, r, &workshop, names, &heading))
        .collect();
    WorkshopPage {
        t,
        href: format!("/ateliers/{}", id_of(&workshop.name, "workshops")),
        team,
        season: workshop.season.clone(),
        co_pilots: workshop
            .co_pilots
            .iter()
            .filter_map(|m| member_link(names, m))
            .collect(),
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
                heading: heading(&team.lead),
                id: format!("equipe-{}", i + 1),
                members: team
                    .members
                    .iter()
                    .filter_map(|m| member_link(names, m))
                    .collect(),
                missing: found
                    .missing
                    .get(&team.lead)
                    .map(|roles| roles.iter().map(|r| t.projects.role(r)).collect())
                    .unwrap_or_default(),
            })
            .collect(),
        sessions,
        restitutions,
        title: workshop.theme,
    }
}

/// A session as the page shows it; `heading` names a team by its lead.
fn session_view(
    t: &'static Texts,
    s: &pp::WorkshopSession,
    found: &Found<'_>,
    heading: &dyn Fn(&str) -> String,
) -> SessionView {
    SessionView {
        title: s.title.clone(),
        when: match (instant(&s.start_time), instant(&s.end_time)) {
            (Some(start), Some(end)) => t.bookings.slot_of(start, end),
            _ => String::new(),
        },
        place: found.places.get(&s.place).cloned(),
        online: s.online,
        join: (!s.online_url.is_empty()).then(|| s.online_url.clone()),
        expected: if !s.team.is_empty() {
            heading(&s.team)
        } else if !s.peer_group.is_empty() {
            t.projects.peer_group(&s.peer_group)
        } else {
            t.projects.every_team.to_string()
        },
        attendees: s
            .attendees
            .iter()
            .filter_map(|m| member_link(found.names, m))
            .collect(),
        cancelled: s.cancelled,
    }
}

/// A restitution as the page shows it: the session it came out of, whom it speaks for.
fn restitution_view(
    t: &'static Texts,
    r: &pp::Restitution,
    workshop: &pp::Workshop,
    names: &BTreeMap<String, String>,
    heading: &dyn Fn(&str) -> String,
) -> RestitutionView {
    let session = workshop.sessions.iter().find(|s| s.name == r.session);
    RestitutionView {
        title: r.title.clone(),
        from: session
            .map(|s| {
                let day = paris_date(&s.start_time).unwrap_or_default();
                t.projects.from_session(&s.title, &day)
            })
            .unwrap_or_default(),
        by: if !r.team.is_empty() {
            heading(&r.team)
        } else if !r.peer_group.is_empty() {
            t.projects.peer_group(&r.peer_group)
        } else {
            names.get(&r.author).cloned().unwrap_or_default()
        },
        paragraphs: paragraphs(&r.text),
        links: r.links.clone(),
        unpublished: !r.published,
    }
}
