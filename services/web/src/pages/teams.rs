//! Forming a Villes Pairs team, for a person acting for a member, on a workshop's page:
//! the alliance's active members with the roles of their contact people, those of the
//! member's team checked; "Voir les rôles manquants" shows what the checked members'
//! people leave uncovered without saving anything (the page works without JavaScript),
//! "Enregistrer l'équipe" sets the team (`SetWorkshopTeam`) and the page then shows
//! what the projects service says it lacks (`ValidateTeam`).

use std::collections::BTreeSet;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::members::{self as mp, ContactRole, MemberState};
use fabrique_api::projects as pp;

use super::common::id_of;
use super::forms::{self, Acting, Problems};
use crate::Web;
use crate::pages::enum_code;
use crate::texts::Texts;

/// A member one may put in the team.
pub struct Candidate {
    /// `members/{id}`.
    pub name: String,
    /// Its display name.
    pub display_name: String,
    /// Its people's roles, in French.
    pub roles: String,
    /// In the team (as saved, or as checked).
    pub checked: bool,
}

/// The team form of a workshop's page.
pub struct TeamForm {
    /// `Former l'équipe de …`.
    pub title: String,
    /// The session's CSRF secret.
    pub csrf: String,
    /// The other active members.
    pub candidates: Vec<Candidate>,
    /// The required roles the checked members' people leave uncovered, in French.
    pub missing: Vec<&'static str>,
    /// Whether `missing` is a preview of unsaved choices.
    pub preview: bool,
}

/// The active members (the lead aside) with their people's role codes, as a member
/// token sees them.
async fn members_with_roles(
    web: &Web,
    acting: &Acting,
) -> Result<Vec<(mp::Member, BTreeSet<String>)>, tonic::Status> {
    let request = acting.authed(mp::ListMembersRequest {
        page_size: 500,
        states: vec![MemberState::Active as i32],
        ..Default::default()
    });
    let members = web
        .api
        .members()
        .list_members(request)
        .await?
        .into_inner()
        .members;
    Ok(members
        .into_iter()
        .map(|m| {
            let roles = m
                .contacts
                .iter()
                .filter_map(|c| ContactRole::try_from(c.role).ok())
                .filter(|r| *r != ContactRole::Unspecified)
                .map(enum_code)
                .collect();
            (m, roles)
        })
        .collect())
}

/// The form for `acting` on `workshop`: the team as saved, or as `chosen` when the
/// person asked for a preview.
pub async fn team_form(
    web: &Web,
    acting: &Acting,
    workshop: &pp::Workshop,
    chosen: Option<&BTreeSet<String>>,
) -> Result<TeamForm, tonic::Status> {
    let t = web.texts;
    let saved: BTreeSet<String> = workshop
        .teams
        .iter()
        .find(|team| team.lead == acting.member)
        .map(|team| team.members.iter().cloned().collect())
        .unwrap_or_default();
    let team = chosen.unwrap_or(&saved);
    let members = members_with_roles(web, acting).await?;
    let covered: BTreeSet<&String> = members
        .iter()
        .filter(|(m, _)| m.name == acting.member || team.contains(&m.name))
        .flat_map(|(_, roles)| roles)
        .collect();
    let missing = workshop
        .required_roles
        .iter()
        .filter(|role| !covered.contains(role))
        .map(|role| t.projects.role(role))
        .collect();
    let candidates = members
        .iter()
        .filter(|(m, _)| m.name != acting.member)
        .map(|(m, roles)| Candidate {
            name: m.name.clone(),
            display_name: m.display_name.clone(),
            roles: roles
                .iter()
                .map(|r| t.projects.role(r))
                .collect::<Vec<_>>()
                .join(", "),
            checked: team.contains(&m.name),
        })
        .collect();
    let lead_name = acting
        .session
        .acting_member()
        .map(|m| m.name.as_str())
        .unwrap_or_default();
    Ok(TeamForm {
        title: t.projects.form_team_title.replace("{}", lead_name),
        csrf: acting.session.csrf.clone(),
        candidates,
        missing,
        preview: chosen.is_some(),
    })
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    t: &'static Texts,
    title: String,
    href: String,
    form: TeamForm,
    problems: Problems,
}

/// `POST /ateliers/{id}/equipe`: `apercu` shows the roles the checked members leave
/// uncovered; `enregistrer` sets the team, then back to the workshop's page.
pub async fn set(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let t = web.texts;
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let acting = match forms::submitted_for_member(&web, &headers, &value("csrf")) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let chosen: BTreeSet<String> = pairs
        .iter()
        .filter(|(k, v)| k == "membre" && v.starts_with("members/"))
        .map(|(_, v)| v.clone())
        .collect();
    let name = format!("workshops/{id}");
    let href = format!("/ateliers/{}", id_of(&name, "workshops"));
    let mut projects = web.api.projects();
    let (status, problems) = if value("action") == "enregistrer" {
        let request = acting.authed(pp::SetWorkshopTeamRequest {
            name: name.clone(),
            members: chosen.iter().cloned().collect(),
        });
        match projects.set_workshop_team(request).await {
            Ok(_) => return forms::see_other(&format!("{href}#equipe-formee"), None),
            Err(status) => match forms::refused(t, status, &[], |r| t.projects.team_refusal(r)) {
                Ok(problems) => (StatusCode::CONFLICT, problems),
                Err(page) => return *page,
            },
        }
    } else {
        (StatusCode::OK, Problems::none())
    };
    let workshop = match projects.get_workshop(pp::GetWorkshopRequest { name }).await {
        Ok(workshop) => workshop.into_inner(),
        Err(status) => return super::from_status(t, &super::common::item_status(status)),
    };
    match team_form(&web, &acting, &workshop, Some(&chosen)).await {
        Ok(form) => forms::private(
            status,
            &TeamPage {
                t,
                title: workshop.theme,
                href,
                form,
                problems,
            },
        ),
        Err(status) => super::from_status(t, &status),
    }
}
