//! "Administration" (`/espace/administration`), for the alliance's admins: the
//! memberships to decide (approve, or refuse with a reason), suspended members to
//! reinstate and the members that left; the proposed places, each beside its possible
//! duplicates, to publish or close; the places to review; the e-mails given up, to
//! send again; the events the services gave up on, to hand back to them
//! ([`super::dead_letters`]). Each action is the API's own call, with the admin's token.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::members::{self as mp, MemberKind, MemberState};
use fabrique_api::notify as np;
use fabrique_api::registry::{self as rp, PlaceKind, PlaceState};
use serde::Deserialize;

use super::common::{id_of, paris_date};
use super::forms::{self, Problems};
use crate::Web;
use crate::api::authed;
use crate::texts::Texts;

/// Where the page is.
pub const PATH: &str = "/espace/administration";

/// A member in one of the page's tables.
struct MemberRow {
    name: String,
    href: String,
    display_name: String,
    kind: &'static str,
    identifiers: String,
    contacts: String,
    since: String,
    reason: String,
}

/// A place in one of the page's tables.
struct PlaceRow {
    name: String,
    href: String,
    display_name: String,
    kinds: String,
    address: String,
    review_reason: String,
    duplicates: Vec<PlaceRow>,
}

/// An e-mail given up.
struct FailedRow {
    name: String,
    recipient: String,
    subject: String,
    error: String,
}

#[derive(Template)]
#[template(path = "administration.html")]
struct AdministrationPage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    pending: Vec<MemberRow>,
    suspended: Vec<MemberRow>,
    left: Vec<MemberRow>,
    proposed: Vec<PlaceRow>,
    review: Vec<PlaceRow>,
    /// `None`: the notify service did not answer.
    failed: Option<Vec<FailedRow>>,
    failed_count: String,
    /// The services with dead letters (or that did not answer).
    dead: Vec<super::dead_letters::ServiceLetters>,
}

/// What the page says after an action.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// An admin's session and token, else the answer: sign in, or a 403 page.
fn admin(web: &Web, headers: &HeaderMap) -> Result<(String, String), Box<Response>> {
    let t = web.texts;
    let (Some(sign_in), Some(session)) = (&web.sign_in, forms::session_of(web, headers)) else {
        return Err(Box::new(forms::see_other("/connexion", None)));
    };
    match sign_in.api.token_for(&session).filter(|_| session.admin) {
        Some(token) => Ok((session.csrf, token)),
        None => Err(Box::new(super::error_page(
            t,
            StatusCode::FORBIDDEN,
            t.administration.title,
            t.administration.admins_only.to_string(),
        ))),
    }
}

async fn members_in(
    web: &Web,
    token: &str,
    state: MemberState,
) -> Result<Vec<MemberRow>, tonic::Status> {
    let t = web.texts;
    let request = mp::ListMembersRequest {
        page_size: 200,
        states: vec![state as i32],
        ..Default::default()
    };
    let members = web
        .api
        .members()
        .list_members(authed(request, token))
        .await?
        .into_inner()
        .members;
    Ok(members
        .into_iter()
        .map(|m| MemberRow {
            href: format!("/allies/{}", id_of(&m.name, "members")),
            kind: t.member_kind(MemberKind::try_from(m.kind).unwrap_or_default()),
            identifiers: [m.siren.as_str(), m.insee_code.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            contacts: m
                .contacts
                .iter()
                .map(|c| match c.email.as_str() {
                    "" => c.full_name.clone(),
                    email => format!("{} ({email})", c.full_name),
                })
                .collect::<Vec<_>>()
                .join(" ; "),
            since: paris_date(&m.create_time).unwrap_or_default(),
            reason: m.state_reason,
            display_name: m.display_name,
            name: m.name,
        })
        .collect())
}

fn place_row(t: &Texts, p: &rp::Place) -> PlaceRow {
    let address = p
        .address
        .as_ref()
        .map(|a| {
            [
                a.street.as_str(),
                a.postal_code.as_str(),
                a.locality.as_str(),
            ]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
        })
        .unwrap_or_default();
    PlaceRow {
        name: p.name.clone(),
        href: format!("/lieux/{}", id_of(&p.name, "places")),
        display_name: p.display_name.clone(),
        kinds: p
            .kinds
            .iter()
            .map(|k| t.place_kind(PlaceKind::try_from(*k).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", "),
        address,
        review_reason: p.review_reason.clone(),
        duplicates: Vec::new(),
    }
}

async fn places(
    web: &Web,
    token: &str,
    request: rp::ListPlacesRequest,
) -> Result<Vec<rp::Place>, tonic::Status> {
    Ok(web
        .api
        .registry()
        .list_places(authed(request, token))
        .await?
        .into_inner()
        .places)
}

/// The proposed places, each with the places it may duplicate.
async fn proposed(web: &Web, token: &str) -> Result<Vec<PlaceRow>, tonic::Status> {
    let t = web.texts;
    let request = rp::ListPlacesRequest {
        page_size: 100,
        states: vec![PlaceState::Proposed as i32],
        ..Default::default()
    };
    let mut rows = Vec::new();
    for place in places(web, token, request).await? {
        let mut row = place_row(t, &place);
        for duplicate in &place.possible_duplicates {
            let request = rp::GetPlaceRequest {
                name: duplicate.clone(),
            };
            match web.api.registry().get_place(authed(request, token)).await {
                Ok(found) => row.duplicates.push(place_row(t, &found.into_inner())),
                Err(status) if status.code() == tonic::Code::NotFound => {}
                Err(status) => return Err(status),
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

async fn failed(web: &Web, token: &str) -> Option<Vec<FailedRow>> {
    let request = np::ListDeliveriesRequest {
        state: np::DeliveryState::Failed as i32,
        page_size: 100,
        ..Default::default()
    };
    match web
        .api
        .notify()
        .list_deliveries(authed(request, token))
        .await
    {
        Ok(found) => Some(
            found
                .into_inner()
                .deliveries
                .into_iter()
                .map(|d| FailedRow {
                    name: d.name,
                    recipient: d.recipient,
                    subject: d.subject,
                    error: d.last_error,
                })
                .collect(),
        ),
        Err(status) => {
            tracing::warn!(%status, "the notify service did not list the failed e-mails");
            None
        }
    }
}

/// The page. Over 60 lines: one read per section, in the page's order.
async fn page(
    web: &Web,
    (csrf, token): (String, String),
    status: StatusCode,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let sections = async {
        let pending = members_in(web, &token, MemberState::Pending).await?;
        let suspended = members_in(web, &token, MemberState::Suspended).await?;
        let left = members_in(web, &token, MemberState::Left).await?;
        let proposed = proposed(web, &token).await?;
        let review = places(
            web,
            &token,
            rp::ListPlacesRequest {
                page_size: 100,
                states: vec![PlaceState::Listed as i32, PlaceState::Suspended as i32],
                needs_review: true,
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(|p| place_row(t, p))
        .collect();
        Ok::<_, tonic::Status>((pending, suspended, left, proposed, review))
    };
    let (pending, suspended, left, proposed, review) = match sections.await {
        Ok(sections) => sections,
        Err(status) => return super::from_status(t, &status),
    };
    let failed = failed(web, &token).await;
    let dead = super::dead_letters::sections(web, &token).await;
    let failed_count = t
        .administration
        .failed_count
        .replace("{n}", &failed.as_ref().map_or(0, Vec::len).to_string());
    forms::private(
        status,
        &AdministrationPage {
            t,
            csrf,
            done,
            problems,
            pending,
            suspended,
            left,
            proposed,
            review,
            failed,
            failed_count,
            dead,
        },
    )
}

/// `GET /espace/administration`.
pub async fn show(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let admin = match admin(&web, &headers) {
        Ok(admin) => admin,
        Err(answer) => return *answer,
    };
    let a = web.texts.administration;
    let done = match done.fait.as_str() {
        "approuve" => Some(a.done_approved),
        "refuse" => Some(a.done_refused),
        "retabli" => Some(a.done_reinstated),
        "publie" => Some(a.done_published),
        "ferme" => Some(a.done_closed),
        "revu" => Some(a.done_reviewed),
        "renvoye" => Some(a.done_retried),
        "rejoue" => Some(a.done_replayed),
        _ => None,
    };
    page(&web, admin, StatusCode::OK, done, Problems::none()).await
}

/// A form of the page.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    /// The resource acted on (`members/{id}`, `places/{id}`, `deliveries/{id}`).
    #[serde(default)]
    cible: String,
    #[serde(default)]
    motif: String,
}

/// `POST /espace/administration`: one decision.
pub async fn act(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let t = web.texts;
    if let Err(refusal) = forms::form_session(&web, &headers, &form.csrf) {
        return *refusal;
    }
    let admin = match admin(&web, &headers) {
        Ok(admin) => admin,
        Err(answer) => return *answer,
    };
    let Some(answered) = decide(&web, &admin.1, form).await else {
        return super::not_found().await;
    };
    match answered {
        Ok((done, section)) => forms::see_other(&format!("{PATH}?fait={done}#{section}"), None),
        Err(status) => match forms::refused(t, status, &[], |r| t.administration.refusal(r)) {
            Ok(problems) => page(&web, admin, StatusCode::CONFLICT, None, problems).await,
            Err(page) => *page,
        },
    }
}

/// The API call of the page's `form`, and where the page goes back to when it is done
/// (what it says, and its section); `None` for an unknown action. Over 60 lines: one
/// arm per decision the page offers, each the API's own call.
async fn decide(
    web: &Web,
    token: &str,
    form: ActionForm,
) -> Option<Result<(&'static str, &'static str), tonic::Status>> {
    let (name, reason) = (form.cible.clone(), form.motif.trim().to_string());
    let (mut members, mut registry) = (web.api.members(), web.api.registry());
    Some(match form.action.as_str() {
        "approuver" => members
            .approve_member(authed(
                mp::ApproveMemberRequest {
                    name,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ("approuve", "adhesions")),
        "refuser" => members
            .leave_member(authed(
                mp::LeaveMemberRequest {
                    name,
                    reason,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ("refuse", "adhesions")),
        "retablir" => members
            .reinstate_member(authed(
                mp::ReinstateMemberRequest {
                    name,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ("retabli", "suspendus")),
        "publier" => registry
            .approve_place(authed(
                rp::ApprovePlaceRequest {
                    name,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ("publie", "lieux-proposes")),
        "fermer" => registry
            .close_place(authed(
                rp::ClosePlaceRequest {
                    name,
                    reason,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ("ferme", "lieux-proposes")),
        "revu" => registry
            .mark_place_reviewed(authed(
                rp::MarkPlaceReviewedRequest {
                    name,
                    ..Default::default()
                },
                token,
            ))
            .await
            .map(|_| ("revu", "lieux-a-revoir")),
        "renvoyer" => web
            .api
            .notify()
            .retry_delivery(authed(np::RetryDeliveryRequest { name }, token))
            .await
            .map(|_| ("renvoye", "courriels")),
        "rejouer" => super::dead_letters::replay(web, token, name)
            .await
            .map(|_| ("rejoue", "evenements")),
        _ => return None,
    })
}
