//! "Mes réservations" (`/espace/reservations`), for a person acting for a member: the
//! requests on the member's resources to confirm or decline, their reservations, and
//! what the member booked, each cancellable before its end; and the member's claims of
//! materials ([`claims`]). Booking itself is [`super::booking`].

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use fabrique_api::sharing::{self as sp, ReservationState};
use serde::Deserialize;

use super::claims::{self, MemberClaims};
use super::common::{self, id_of, member_names};
use super::forms::{self, Acting, Problems};
use crate::Web;
use crate::texts::Texts;

/// Reservations read per list of the member's page.
const LISTED: i32 = 100;

/// A reservation in a list of the member's page.
struct Row {
    name: String,
    etag: String,
    resource: String,
    resource_href: String,
    slot: String,
    borrower: String,
    state: &'static str,
    /// Why it was declined or cancelled, when a reason was given.
    reason: String,
    /// Whether it may still be cancelled (held, not over).
    cancellable: bool,
    /// Whether it awaits the owner's answer.
    to_answer: bool,
}

#[derive(Template)]
#[template(path = "reservations.html")]
struct ReservationsPage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    to_answer: Vec<Row>,
    on_mine: Vec<Row>,
    booked: Vec<Row>,
    claims: MemberClaims,
}

/// What "Mes réservations" says after a form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// `GET /espace/reservations`.
pub async fn mine(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let b = web.texts.bookings;
    let done = match done.fait.as_str() {
        "demande" => Some(b.requested_done),
        "confirmee" => Some(b.confirmed_done),
        "refusee" => Some(b.declined_done),
        "annulee" => Some(b.cancelled_done),
        "prelevee" => Some(b.claimed_done),
        "remise" => Some(b.collected_done),
        "prelevement-annule" => Some(b.claim_cancelled_done),
        _ => None,
    };
    reservations_page(&web, &acting, StatusCode::OK, done, Problems::none()).await
}

async fn reservations_page(
    web: &Web,
    acting: &Acting,
    status: StatusCode,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let listed = listed(web, acting).await;
    let (requested, confirmed, booked) = match listed {
        Ok(lists) => lists,
        Err(status) => return super::from_status(t, &status),
    };
    let all = || requested.iter().chain(&confirmed).chain(&booked);
    let resources: Vec<String> = all()
        .filter_map(|r| r.name.split("/reservations/").next())
        .map(str::to_string)
        .collect();
    let borrowers: Vec<String> = all().map(|r| r.borrower.clone()).collect();
    let looked_up = tokio::try_join!(
        resource_titles(web, acting, resources),
        member_names(web, borrowers)
    );
    let (titles, names) = match looked_up {
        Ok(found) => found,
        Err(status) => return super::from_status(t, &status),
    };
    let claims = match claims::of_member(web, acting).await {
        Ok(claims) => claims,
        Err(status) => return super::from_status(t, &status),
    };
    let row = |r: &sp::Reservation| row_of(t, r, &titles, &names);
    forms::private(
        status,
        &ReservationsPage {
            t,
            csrf: acting.session.csrf.clone(),
            done,
            problems,
            to_answer: requested.iter().map(row).collect(),
            on_mine: confirmed.iter().map(row).collect(),
            booked: booked.iter().map(row).collect(),
            claims,
        },
    )
}

/// The reservations of the member's page: the requests on its resources, their
/// confirmed reservations, and what it booked.
async fn listed(
    web: &Web,
    acting: &Acting,
) -> Result<
    (
        Vec<sp::Reservation>,
        Vec<sp::Reservation>,
        Vec<sp::Reservation>,
    ),
    tonic::Status,
> {
    let list = |owner: bool, states: Vec<ReservationState>| {
        let (owner, borrower) = if owner {
            (acting.member.clone(), String::new())
        } else {
            (String::new(), acting.member.clone())
        };
        let request = acting.authed(sp::ListReservationsRequest {
            parent: "resources/-".into(),
            page_size: LISTED,
            owner,
            borrower,
            states: states.into_iter().map(|s| s as i32).collect(),
            ..Default::default()
        });
        let mut sharing = web.api.sharing();
        async move {
            sharing
                .list_reservations(request)
                .await
                .map(|r| r.into_inner().reservations)
        }
    };
    tokio::try_join!(
        list(true, vec![ReservationState::Requested]),
        list(true, vec![ReservationState::Confirmed]),
        list(false, Vec::new()),
    )
}

/// A reservation as a row of the member's page, its resource's title from `titles`
/// and its borrower's name from `names`.
fn row_of(
    t: &Texts,
    r: &sp::Reservation,
    titles: &BTreeMap<String, String>,
    names: &BTreeMap<String, String>,
) -> Row {
    let resource = r.name.split("/reservations/").next().unwrap_or_default();
    let state = ReservationState::try_from(r.state).unwrap_or_default();
    let (start, end) = (common::instant(&r.start_time), common::instant(&r.end_time));
    Row {
        name: r.name.clone(),
        etag: r.etag.clone(),
        resource: titles.get(resource).cloned().unwrap_or_default(),
        resource_href: format!("/ressources/{}", id_of(resource, "resources")),
        slot: match (start, end) {
            (Some(start), Some(end)) => t.bookings.slot_of(start, end),
            _ => String::new(),
        },
        borrower: names.get(&r.borrower).cloned().unwrap_or_default(),
        state: t.bookings.state(state),
        reason: r.state_reason.clone(),
        cancellable: matches!(
            state,
            ReservationState::Requested | ReservationState::Confirmed
        ) && end.is_some_and(|end| end > Utc::now()),
        to_answer: state == ReservationState::Requested,
    }
}

/// The titles of `resources` (`resources/{id}`), as the member sees them.
async fn resource_titles(
    web: &Web,
    acting: &Acting,
    resources: Vec<String>,
) -> Result<BTreeMap<String, String>, tonic::Status> {
    let mut titles = BTreeMap::new();
    for name in resources {
        if titles.contains_key(&name) {
            continue;
        }
        let request = acting.authed(sp::GetResourceRequest { name: name.clone() });
        let title = match web.api.sharing().get_resource(request).await {
            Ok(resource) => resource.into_inner().title,
            Err(status) if status.code() == tonic::Code::NotFound => String::new(),
            Err(status) => return Err(status),
        };
        titles.insert(name, title);
    }
    Ok(titles)
}

/// A form of "Mes réservations": what to do to which reservation.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// `resources/{id}/reservations/{id}`.
    #[serde(default)]
    reservation: String,
    #[serde(default)]
    etag: String,
    /// `confirmer`, `refuser` or `annuler` (a reservation); `remettre` or
    /// `annuler-prelevement` (a claim, whose name `reservation` then holds).
    #[serde(default)]
    action: String,
    /// Why it is declined or cancelled.
    #[serde(default)]
    motif: String,
}

/// Does what `form` asks to the reservation or claim it names; the answer, and the
/// code of what was done. `None` for an action that is not one.
async fn answer(
    web: &Web,
    acting: &Acting,
    form: &ActionForm,
) -> Option<(Result<(), tonic::Status>, &'static str)> {
    let mut sharing = web.api.sharing();
    let (name, etag, reason) = (
        form.reservation.clone(),
        form.etag.clone(),
        form.motif.trim().to_string(),
    );
    Some(match form.action.as_str() {
        "confirmer" => (
            sharing
                .confirm_reservation(acting.authed(sp::ConfirmReservationRequest { name, etag }))
                .await
                .map(drop),
            "confirmee",
        ),
        "refuser" => (
            sharing
                .decline_reservation(acting.authed(sp::DeclineReservationRequest {
                    name,
                    reason,
                    etag,
                }))
                .await
                .map(drop),
            "refusee",
        ),
        "annuler" => (
            sharing
                .cancel_reservation(acting.authed(sp::CancelReservationRequest {
                    name,
                    reason,
                    etag,
                }))
                .await
                .map(drop),
            "annulee",
        ),
        other => return claims::act(web, acting, name, other).await,
    })
}

/// `POST /espace/reservations`: confirms, declines or cancels a reservation, with the
/// etag the page showed (a reservation changed since is shown again as it is now).
pub async fn act(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &form.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let (answer, done) = match answer(&web, &acting, &form).await {
        Some(answered) => answered,
        None => return super::not_found().await,
    };
    match answer {
        Ok(_) => forms::see_other(&format!("/espace/reservations?fait={done}"), None),
        Err(status) => match forms::refused(t, status, &[], |r| t.bookings.refusal(r)) {
            Ok(problems) => {
                reservations_page(&web, &acting, StatusCode::CONFLICT, None, problems).await
            }
            Err(page) => *page,
        },
    }
}
