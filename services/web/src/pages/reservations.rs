//! Booking a resource's slot and following reservations, for a person acting for a
//! member: the booking form of a resource's page and what it sends
//! (`POST /ressources/{id}/reserver`: `CreateReservation` with the form's request id),
//! a refused slot told in French with the reservation in the way and the nearest free
//! slots of the same length, and "Mes réservations" (`/espace/reservations`): the
//! requests on the member's resources to confirm or decline, their reservations, and
//! what the member booked, each cancellable before its end; and the member's claims of
//! materials ([`claims`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use fabrique_api::sharing::{self as sp, ReservationState};
use serde::Deserialize;

use super::claims::{self, MemberClaims};
use super::common::{self, id_of, member_names};
use super::resources::Typed;
use crate::forms::{self, Acting, FieldTexts, Problems};
use crate::texts::Texts;
use crate::{Web, fr};

/// How far the free slots proposed after a refusal are looked for.
const LOOK_AHEAD_DAYS: i64 = 14;
/// How many free slots are proposed.
const PROPOSED: usize = 3;
/// Reservations read per list of the member's page.
const LISTED: i32 = 100;

/// The booking form's fields, as typed (kept when a submission is refused).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct BookingFields {
    /// The session's CSRF secret.
    #[serde(default)]
    pub csrf: String,
    /// The form's request id.
    #[serde(default)]
    pub demande: String,
    /// `2026-12-08`.
    #[serde(default)]
    pub jour: String,
    /// `10:00`, Paris time.
    #[serde(default)]
    pub debut: String,
    /// `12:00`, Paris time.
    #[serde(default)]
    pub fin: String,
    /// The message to the owner.
    #[serde(default)]
    pub note: String,
}

/// A free slot proposed after a refusal: its words and the link that fills the form
/// with it.
pub struct Proposal {
    pub(super) text: String,
    pub(super) href: String,
}

/// The booking form of a resource's page, as the person sees it.
pub struct BookingForm {
    pub(super) action: String,
    pub(super) csrf: String,
    pub(super) request_id: String,
    pub(super) fields: BookingFields,
    pub(super) problems: Problems,
    pub(super) proposals: Vec<Proposal>,
    /// Whether the proposals were looked for (a slot was refused).
    pub(super) proposed: bool,
}

/// What a bookable resource's page offers to book it.
pub enum Booking {
    /// Not signed in, or acting for no member: the sign-in link.
    SignIn,
    /// The resource of the member acted for: the link to its requests.
    Own,
    /// The form.
    Form(Box<BookingForm>),
}

impl BookingForm {
    /// What is wrong with field `name`, empty when nothing.
    pub(super) fn field(&self, name: &str) -> &str {
        self.problems.field(name)
    }
}

/// The booking part of a bookable resource's page for the person behind `headers`:
/// the form filled with `fields` (the query's, from a proposed slot's link, or those of
/// a refused submission), with `problems` and `proposals`.
pub fn booking(
    web: &Web,
    headers: &HeaderMap,
    resource: &sp::Resource,
    fields: BookingFields,
    problems: Problems,
    proposals: Option<Vec<Proposal>>,
) -> Booking {
    let Some(acting) = forms::acting_of(web, headers) else {
        return Booking::SignIn;
    };
    if acting.member == resource.owner {
        return Booking::Own;
    }
    let request_id = if fields.demande.is_empty() {
        forms::request_id()
    } else {
        fields.demande.clone()
    };
    Booking::Form(Box::new(BookingForm {
        action: format!(
            "/ressources/{}/reserver",
            id_of(&resource.name, "resources")
        ),
        csrf: acting.session.csrf,
        request_id,
        fields,
        problems,
        proposed: proposals.is_some(),
        proposals: proposals.unwrap_or_default(),
    }))
}

/// The form's slot, or what is wrong with each of its fields.
fn slot_of(t: &Texts, fields: &BookingFields) -> Result<(DateTime<Utc>, DateTime<Utc>), Problems> {
    let b = t.bookings;
    let mut problems = Problems::none();
    let day = NaiveDate::parse_from_str(fields.jour.trim(), "%Y-%m-%d").ok();
    let time = |value: &str| NaiveTime::parse_from_str(value.trim(), "%H:%M").ok();
    let (from, to) = (time(&fields.debut), time(&fields.fin));
    if day.is_none() {
        problems.fields.insert("jour", b.bad_day.to_string());
    }
    if from.is_none() {
        problems.fields.insert("debut", b.bad_time.to_string());
    }
    if to.is_none() {
        problems.fields.insert("fin", b.bad_time.to_string());
    }
    if fields.note.chars().count() > 1_000 {
        problems.fields.insert("note", b.note_too_long.to_string());
    }
    let (Some(day), Some(from), Some(to)) = (day, from, to) else {
        problems.general = Some(t.forms.check_fields.to_string());
        return Err(problems);
    };
    // A time the spring change skips is read an hour later, as a watch set forward.
    let at = |time: NaiveTime| {
        fr::paris_local(day, time).or_else(|| fr::paris_local(day, time + Duration::hours(1)))
    };
    match (at(from), at(to)) {
        (Some(start), Some(end)) if start < end && !problems.any() => Ok((start, end)),
        (Some(start), Some(end)) => {
            if start >= end {
                problems
                    .fields
                    .insert("fin", b.end_before_start.to_string());
            }
            problems.general = Some(t.forms.check_fields.to_string());
            Err(problems)
        }
        _ => {
            problems.fields.insert("debut", b.bad_time.to_string());
            problems.general = Some(t.forms.check_fields.to_string());
            Err(problems)
        }
    }
}

/// How the form names the API's fields of `CreateReservation`.
const RESERVATION_FIELDS: &FieldTexts = &[
    (
        "reservation.start_time",
        "debut",
        "Indiquez une heure de début valide.",
    ),
    (
        "reservation.end_time",
        "fin",
        "La fin doit venir après le début.",
    ),
    (
        "reservation.note",
        "note",
        "Le message fait au plus 1 000 caractères.",
    ),
];

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// `POST /ressources/{id}/reserver`: asks for the slot; to the member's reservations
/// when it is held, back to the resource's page with the form as typed when not.
pub async fn reserve(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<BookingFields>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &fields.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let (start, end) = match slot_of(t, &fields) {
        Ok(slot) => slot,
        Err(problems) => {
            let typed = Typed {
                booking: fields,
                problems,
                ..Default::default()
            };
            return super::resources::page(&web, &id, &headers, typed).await;
        }
    };
    let request_id = if uuid::Uuid::parse_str(&fields.demande).is_ok() {
        fields.demande.clone()
    } else {
        forms::request_id()
    };
    let request = acting.authed(sp::CreateReservationRequest {
        parent: format!("resources/{id}"),
        reservation: Some(sp::Reservation {
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(end)),
            note: fields.note.trim().to_string(),
            ..Default::default()
        }),
        request_id,
    });
    match web.api.sharing().create_reservation(request).await {
        Ok(_) => forms::see_other("/espace/reservations?fait=demande", None),
        Err(status) => {
            let Some(problems) =
                Problems::of(t, &status, RESERVATION_FIELDS, |r| t.bookings.refusal(r))
            else {
                return super::from_status(t, &common::item_status(status));
            };
            let taken = common::refusal_reason(&status) == "SLOT_TAKEN";
            let proposals = if taken {
                match free_slots_like(&web, &id, start, end).await {
                    Ok(proposals) => Some(proposals),
                    Err(status) => return super::from_status(t, &status),
                }
            } else {
                None
            };
            let typed = Typed {
                booking: fields,
                problems,
                proposals,
                ..Default::default()
            };
            super::resources::page(&web, &id, &headers, typed).await
        }
    }
}

/// The nearest free slots of the resource as long as `start`–`end`, from `start` on
/// (or from now, if later), each at the start of a free interval or at `start` when
/// one covers it, on quarter hours.
async fn free_slots_like(
    web: &Web,
    id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Proposal>, tonic::Status> {
    let length = end - start;
    let from = start.max(Utc::now());
    let free = web
        .api
        .sharing()
        .get_availability(sp::GetAvailabilityRequest {
            name: format!("resources/{id}"),
            start_time: Some(timestamp(from)),
            end_time: Some(timestamp(from + Duration::days(LOOK_AHEAD_DAYS))),
        })
        .await?
        .into_inner()
        .free;
    let quarter = |at: DateTime<Utc>| {
        let past = i64::from(at.minute() % 15) * 60 + i64::from(at.second());
        if past == 0 {
            at.with_nanosecond(0).unwrap_or(at)
        } else {
            (at + Duration::seconds(15 * 60 - past))
                .with_nanosecond(0)
                .unwrap_or(at)
        }
    };
    let b = web.texts.bookings;
    Ok(free
        .iter()
        .filter_map(|i| {
            let (free_from, free_to) = (
                common::instant(&i.start_time)?,
                common::instant(&i.end_time)?,
            );
            let begin = quarter(free_from.max(from));
            (begin + length <= free_to).then_some((begin, begin + length))
        })
        .take(PROPOSED)
        .map(|(begin, finish)| {
            let (local_from, local_to) = (fr::in_paris(begin), fr::in_paris(finish));
            Proposal {
                text: b.slot_of(begin, finish),
                href: super::href(
                    &format!("/ressources/{id}"),
                    &[
                        ("jour", &local_from.format("%Y-%m-%d").to_string()),
                        ("debut", &local_from.format("%H:%M").to_string()),
                        ("fin", &local_to.format("%H:%M").to_string()),
                    ],
                ) + "#reserver",
            }
        })
        .collect())
}

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
    let list = |owner: bool, states: Vec<ReservationState>| {
        let request = sp::ListReservationsRequest {
            parent: "resources/-".into(),
            page_size: LISTED,
            owner: if owner {
                acting.member.clone()
            } else {
                String::new()
            },
            borrower: if owner {
                String::new()
            } else {
                acting.member.clone()
            },
            states: states.into_iter().map(|s| s as i32).collect(),
            ..Default::default()
        };
        let mut sharing = web.api.sharing();
        let request = acting.authed(request);
        async move {
            sharing
                .list_reservations(request)
                .await
                .map(|r| r.into_inner().reservations)
        }
    };
    let listed = tokio::try_join!(
        list(true, vec![ReservationState::Requested]),
        list(true, vec![ReservationState::Confirmed]),
        list(false, Vec::new()),
    );
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
    let now = Utc::now();
    let row = |r: &sp::Reservation| {
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
            ) && end.is_some_and(|end| end > now),
            to_answer: state == ReservationState::Requested,
        }
    };
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
    let mut sharing = web.api.sharing();
    let (name, etag, reason) = (
        form.reservation.clone(),
        form.etag.clone(),
        form.motif.trim().to_string(),
    );
    let (answer, done) = match form.action.as_str() {
        "confirmer" => (
            sharing
                .confirm_reservation(acting.authed(sp::ConfirmReservationRequest { name, etag }))
                .await,
            "confirmee",
        ),
        "refuser" => (
            sharing
                .decline_reservation(acting.authed(sp::DeclineReservationRequest {
                    name,
                    reason,
                    etag,
                }))
                .await,
            "refusee",
        ),
        "annuler" => (
            sharing
                .cancel_reservation(acting.authed(sp::CancelReservationRequest {
                    name,
                    reason,
                    etag,
                }))
                .await,
            "annulee",
        ),
        other => match claims::act(&web, &acting, form.reservation.clone(), other).await {
            Some((Ok(()), done)) => {
                return forms::see_other(&format!("/espace/reservations?fait={done}"), None);
            }
            Some((Err(status), _)) => (Err(status), ""),
            None => return super::not_found().await,
        },
    };
    match answer {
        Ok(_) => forms::see_other(&format!("/espace/reservations?fait={done}"), None),
        Err(status) => {
            let fields: &FieldTexts = &[];
            match Problems::of(t, &status, fields, |r| t.bookings.refusal(r)) {
                Some(problems) => {
                    reservations_page(&web, &acting, StatusCode::CONFLICT, None, problems).await
                }
                None => super::from_status(t, &common::item_status(status)),
            }
        }
    }
}
