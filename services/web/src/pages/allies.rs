//! "Annuaire des alliés": the members of the alliance with filters (kind, département,
//! text), and a member's page — who it is, where, since when, the places it runs, the
//! programmes it funds, the resources it offers and the projects it takes part in.
//! Public fields only: the members service's public directory (`ListMembers`,
//! `GetMember` without a token) never gives contact people.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fabrique_api::members::{self as mp, MemberKind};
use fabrique_api::projects as pp;
use fabrique_api::registry as rp;
use fabrique_api::sharing as sp;
use serde::Deserialize;

use super::history::{self, Owner};
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;
use crate::{Web, fr};

/// Allies per page of the directory.
const PAGE_SIZE: i32 = 50;
/// Programmes read to find those a member funds (the API filters them by state only).
const PROGRAMMES_READ: i32 = 500;
/// The most resources and projects a member's page lists.
const ITEMS_SHOWN: i32 = 100;

/// The directory's filters as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Text searched in the names.
    #[serde(default)]
    q: String,
    /// A member kind, as [`kind_code`] writes it (`commune`).
    #[serde(default, rename = "type")]
    kind: String,
    /// An INSEE département code.
    #[serde(default)]
    departement: String,
    /// The API's page token of the next page.
    #[serde(default)]
    page: String,
}

/// One option of the kind filter.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// An ally in the directory.
struct AllyCard {
    href: String,
    name: String,
    kind: &'static str,
    territory: String,
}

#[derive(Template)]
#[template(path = "allies.html")]
struct AlliesPage {
    t: &'static Texts,
    title: &'static str,
    query: String,
    department: String,
    kinds: Vec<Choice>,
    allies: Vec<AllyCard>,
    count: String,
    next: Option<String>,
    paged: bool,
}

/// The id part of `members/{id}`.
fn member_id(name: &str) -> &str {
    name.strip_prefix("members/").unwrap_or(name)
}

fn card(t: &Texts, member: &mp::Member) -> AllyCard {
    AllyCard {
        href: format!("/allies/{}", member_id(&member.name)),
        name: member.display_name.clone(),
        kind: t.member_kind(MemberKind::try_from(member.kind).unwrap_or_default()),
        territory: member.territory.clone(),
    }
}

/// `GET /allies`.
pub async fn list(State(web): State<Arc<Web>>, Query(filters): Query<Filters>) -> Response {
    let t = web.texts;
    let kind = enum_of_code::<MemberKind>(&filters.kind);
    let request = mp::ListMembersRequest {
        page_size: PAGE_SIZE,
        page_token: filters.page.clone(),
        kinds: kind.map(|k| k as i32).into_iter().collect(),
        insee_department: filters.departement.trim().to_uppercase(),
        query: filters.q.trim().to_string(),
        ..Default::default()
    };
    let response = match web.api.members().list_members(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let allies: Vec<AllyCard> = response.members.iter().map(|m| card(t, m)).collect();
    let next = (!response.next_page_token.is_empty()).then(|| {
        super::href(
            "/allies",
            &[
                ("q", filters.q.as_str()),
                ("type", filters.kind.as_str()),
                ("departement", filters.departement.as_str()),
                ("page", response.next_page_token.as_str()),
            ],
        )
    });
    super::render(&AlliesPage {
        t,
        title: t.allies_title,
        query: filters.q.clone(),
        department: filters.departement.clone(),
        kinds: enum_values::<MemberKind>()
            .map(|k| Choice {
                value: enum_code(k),
                label: t.member_kind(k).to_string(),
                selected: Some(k) == kind,
            })
            .collect(),
        count: t.allies_count(allies.len()),
        allies,
        next,
        paged: !filters.page.is_empty(),
    })
}

/// A link to a place or a programme.
struct Link {
    href: String,
    text: String,
}

#[derive(Template)]
#[template(path = "ally.html")]
struct AllyPage {
    t: &'static Texts,
    title: String,
    kind: &'static str,
    facts: Vec<(&'static str, String)>,
    website: Option<Link>,
    places: Vec<Link>,
    programmes: Vec<Link>,
    resources: Vec<Link>,
    projects: Vec<Link>,
    /// Its audit, for an admin.
    history: Option<Vec<super::history::Row>>,
}

/// `GET /allies/{id}`: the member, then the places it runs, the programmes it funds,
/// the resources it offers and the projects it takes part in, at once.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let t = web.texts;
    let name = format!("members/{id}");
    let member = match web
        .api
        .members()
        .get_member(mp::GetMemberRequest { name: name.clone() })
        .await
    {
        Ok(member) => member.into_inner(),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            return super::from_status(t, &tonic::Status::not_found(status.message()));
        }
        Err(status) => return super::from_status(t, &status),
    };
    match tokio::try_join!(
        places_of(&web, &name),
        programmes_of(&web, &name),
        resources_of(&web, &name),
        projects_of(&web, &name),
    ) {
        Ok((places, programmes, resources, projects)) => {
            let mut page = ally_page(t, member, places, programmes);
            page.resources = resources;
            page.projects = projects;
            page.history = history::for_admin(&web, &headers, Owner::Members, &name).await;
            history::private_if(page.history.is_some(), super::render(&page))
        }
        Err(status) => super::from_status(t, &status),
    }
}

/// The listed places `member` runs.
async fn places_of(web: &Web, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let places = web
        .api
        .registry()
        .list_places(rp::ListPlacesRequest {
            page_size: 100,
            operator: member.to_string(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .places;
    Ok(places
        .into_iter()
        .map(|p| Link {
            href: format!("/lieux/{}", p.name.trim_start_matches("places/")),
            text: p.display_name,
        })
        .collect())
}

/// The programmes `member` funds.
async fn programmes_of(web: &Web, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let programmes = web
        .api
        .projects()
        .list_programmes(pp::ListProgrammesRequest {
            page_size: PROGRAMMES_READ,
            ..Default::default()
        })
        .await?
        .into_inner()
        .programmes;
    Ok(programmes
        .into_iter()
        .filter(|p| p.funder == member)
        .map(|p| Link {
            href: format!("/programmes/{}", p.name.trim_start_matches("programmes/")),
            text: p.title,
        })
        .collect())
}

/// The resources `member` offers, as the public sees them (available ones).
async fn resources_of(web: &Web, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let resources = web
        .api
        .sharing()
        .list_resources(sp::ListResourcesRequest {
            page_size: ITEMS_SHOWN,
            owner: member.to_string(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .resources;
    Ok(resources
        .into_iter()
        .map(|r| Link {
            href: format!("/ressources/{}", r.name.trim_start_matches("resources/")),
            text: r.title,
        })
        .collect())
}

/// The projects `member` leads or takes part in, as the public sees them (under way or
/// done).
async fn projects_of(web: &Web, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let projects = web
        .api
        .projects()
        .list_projects(pp::ListProjectsRequest {
            page_size: ITEMS_SHOWN,
            member: member.to_string(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .projects;
    Ok(projects
        .into_iter()
        .map(|p| Link {
            href: format!("/projets/{}", p.name.trim_start_matches("projects/")),
            text: p.title,
        })
        .collect())
}

fn ally_page(
    t: &'static Texts,
    member: mp::Member,
    places: Vec<Link>,
    programmes: Vec<Link>,
) -> AllyPage {
    let joined = member
        .joined_at
        .as_ref()
        .and_then(|ts| chrono::DateTime::from_timestamp(ts.seconds, 0))
        .map(|at| fr::date(fr::in_paris(at).date_naive()));
    let facts = [
        (t.territory, member.territory.clone()),
        (t.insee_code, member.insee_code.clone()),
        (t.siren, member.siren.clone()),
        (t.siret, member.siret.clone()),
        (t.member_since, joined.unwrap_or_default()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect();
    AllyPage {
        t,
        kind: t.member_kind(MemberKind::try_from(member.kind).unwrap_or_default()),
        facts,
        website: (member.website.starts_with("https://") || member.website.starts_with("http://"))
            .then(|| Link {
                href: member.website.clone(),
                text: member
                    .website
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string(),
            }),
        places,
        programmes,
        resources: Vec::new(),
        projects: Vec::new(),
        history: None,
        title: member.display_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_kinds_travel_in_urls_by_a_short_name() {
        for kind in enum_values::<MemberKind>() {
            assert_eq!(enum_of_code::<MemberKind>(&enum_code(kind)), Some(kind));
        }
        assert_eq!(enum_code(MemberKind::EssEnterprise), "ess_enterprise");
        assert_eq!(enum_of_code::<MemberKind>("unspecified"), None);
    }
}
