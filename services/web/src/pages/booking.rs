//! Booking a resource's slot, for a person acting for a member: the booking form of a
//! bookable resource's page and what it sends (`POST /ressources/{id}/reserver`:
//! `CreateReservation` with the form's request id), and a refused slot told in French
//! with the reservation in the way and the nearest free slots of the same length, as
//! links that fill the form again.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use fabrique_api::sharing as sp;
use serde::Deserialize;

use super::common::{self, id_of, timestamp};
use super::forms::{self, FieldTexts, Problems};
use super::resources::Typed;
use crate::texts::Texts;
use crate::{Web, fr};

/// How far the free slots proposed after a refusal are looked for.
const LOOK_AHEAD_DAYS: i64 = 14;
/// How many free slots are proposed.
const PROPOSED: usize = 3;
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
    let request_id = forms::request_id(&fields.demande);
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
    let request_id = forms::request_id(&fields.demande);
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
            let taken = common::refusal_reason(&status) == "SLOT_TAKEN";
            let problems =
                match forms::refused(t, status, RESERVATION_FIELDS, |r| t.bookings.refusal(r)) {
                    Ok(problems) => problems,
                    Err(page) => return *page,
                };
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
