//! A meeting's page — a public meeting or a citizen conference: when, where (a place of
//! the registry, or online), the seats taken and the waiting list, the minutes once
//! published — and a citizen's registration: a seat, or a numbered place in line, given
//! up with one button. It is the page the iCalendar feed's events link to.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::{Link, item_status, paragraphs, place_link, refusal_reason};
use super::forms::{self, FieldTexts, Outcome, Problems};
use super::participation::{Viewer, meeting_time, process_for, process_href, to_registration};
use crate::Web;
use crate::texts::Texts;

#[derive(Template)]
#[template(path = "meeting.html")]
struct MeetingPage {
    t: &'static Texts,
    process_title: String,
    process_href: String,
    href: String,
    title: String,
    kind: &'static str,
    description: Vec<String>,
    when: String,
    place: Option<Link>,
    online_url: String,
    seats: String,
    cancelled: bool,
    minutes: Vec<String>,
    attendance: String,
    registered: bool,
    open: bool,
    /// The organiser may cancel it: not begun.
    cancellable: bool,
    /// The organiser may publish (or correct) its minutes: it ended.
    minutes_form: bool,
    /// What the organiser typed of refused minutes.
    minutes_typed: String,
    problems: Problems,
    viewer: Viewer,
}

/// The meeting's page for `headers`' person, with what `problems` refused.
///
/// Over 60 lines: one field of the page a line or two, in the page's order.
async fn page(
    web: &Web,
    headers: &HeaderMap,
    (id, meeting_id): (&str, &str),
    (problems, minutes_typed): (Problems, String),
) -> Response {
    let t = web.texts;
    let p = t.participation;
    let (process, viewer) = match process_for(web, headers, id).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let request = viewer.request(pa::GetMeetingRequest {
        name: format!("processes/{id}/meetings/{meeting_id}"),
    });
    let meeting = match web.api.participation().get_meeting(request).await {
        Ok(meeting) => meeting.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let place = match place_link(web, &meeting.place).await {
        // A place the registry no longer shows keeps the name the meeting knew.
        Ok(place) => place.or_else(|| {
            (!meeting.place_display_name.is_empty()).then(|| Link {
                href: format!("/lieux/{}", super::common::id_of(&meeting.place, "places")),
                text: meeting.place_display_name.clone(),
            })
        }),
        Err(status) => return super::from_status(t, &status),
    };
    let registration = meeting.caller_registration.clone().unwrap_or_default();
    let now = chrono::Utc::now();
    let begun = super::common::instant(&meeting.start_time).is_some_and(|start| start <= now);
    let ended = super::common::instant(&meeting.end_time).is_some_and(|end| end <= now);
    let organiser = viewer.organiser.is_some() && !meeting.cancelled;
    let page = MeetingPage {
        t,
        process_title: process.title.clone(),
        process_href: process_href(&process.name),
        href: super::participation::item_href(&meeting.name),
        kind: p.meeting_kind(meeting.kind()),
        description: paragraphs(&meeting.description),
        when: meeting_time(&meeting),
        place,
        online_url: meeting.online_url.clone(),
        seats: p.seats(
            meeting.seats,
            meeting.registered_count,
            meeting.waiting_count,
        ),
        cancelled: meeting.cancelled,
        minutes: paragraphs(&meeting.minutes),
        attendance: p.attendance(registration.state(), registration.waiting_position),
        registered: matches!(
            registration.state(),
            pa::AttendanceState::Registered | pa::AttendanceState::Waiting
        ),
        open: !meeting.cancelled && !begun,
        cancellable: organiser && !begun,
        minutes_form: organiser && ended,
        minutes_typed,
        problems,
        viewer,
        title: meeting.title,
    };
    forms::private(page.problems.status(), &page)
}

/// `GET /participation/{id}/rencontres/{meeting}`.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let nothing = (Problems::none(), String::new());
    page(&web, &headers, (&ids.0, &ids.1), nothing).await
}

/// A form of the meeting's page.
#[derive(Debug, Default, Deserialize)]
pub struct MeetingForm {
    #[serde(default)]
    csrf: String,
    /// `inscrire` or `annuler` (citizens); `annuler-rencontre` or `compte-rendu` (the
    /// organiser).
    #[serde(default)]
    action: String,
    #[serde(default)]
    compte_rendu: String,
}

/// The API's field the minutes form shows.
const FIELDS: &FieldTexts = &[(
    "minutes",
    "compte_rendu",
    "Écrivez le compte rendu (50 000 caractères au plus).",
)];

/// `POST /participation/{id}/rencontres/{meeting}`: registers the citizen (a seat or a
/// place in line) or gives it up; for the organiser, cancels the meeting or publishes
/// its minutes. Then back to the page.
pub async fn act(
    State(web): State<Arc<Web>>,
    Path((id, meeting_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<MeetingForm>,
) -> Response {
    let t = web.texts;
    let name = format!("processes/{id}/meetings/{meeting_id}");
    let href = format!("/participation/{id}/rencontres/{meeting_id}");
    let done = match form.action.as_str() {
        "annuler-rencontre" | "compte-rendu" => organiser_acts(&web, &headers, name, &form).await,
        _ => citizen_acts(&web, &headers, name, &form).await,
    };
    let status = match done {
        Ok(anchor) => return forms::see_other(&format!("{href}#{anchor}"), None),
        Err(Outcome::Answer(response)) => return *response,
        Err(Outcome::Refused(status)) => status,
    };
    if refusal_reason(&status) == "NOT_A_PARTICIPANT" {
        return to_registration(&href);
    }
    match forms::refused(t, status, FIELDS, |r| t.participation.refusal(r)) {
        Ok(problems) => {
            let kept = form.compte_rendu;
            page(&web, &headers, (&id, &meeting_id), (problems, kept)).await
        }
        Err(response) => *response,
    }
}

/// A citizen's registration or withdrawal; the page's anchor to go back to.
async fn citizen_acts(
    web: &Web,
    headers: &HeaderMap,
    name: String,
    form: &MeetingForm,
) -> Result<&'static str, Outcome> {
    let citizen = forms::submitted_by_citizen(web, headers, &form.csrf)?;
    let mut api = web.api.participation();
    if form.action == "annuler" {
        let request = pa::CancelRegistrationRequest { name };
        api.cancel_registration(citizen.authed(request)).await?;
    } else {
        let request = pa::RegisterForMeetingRequest { name };
        api.register_for_meeting(citizen.authed(request)).await?;
    }
    Ok("inscription")
}

/// The organiser cancels the meeting or publishes its minutes; the anchor to go back to.
async fn organiser_acts(
    web: &Web,
    headers: &HeaderMap,
    name: String,
    form: &MeetingForm,
) -> Result<&'static str, Outcome> {
    let acting = forms::submitted_for_member(web, headers, &form.csrf)?;
    let mut api = web.api.participation();
    if form.action == "annuler-rencontre" {
        api.cancel_meeting(acting.authed(pa::CancelMeetingRequest { name }))
            .await?;
        return Ok("contenu");
    }
    let request = pa::PublishMinutesRequest {
        name,
        minutes: form.compte_rendu.trim().to_string(),
    };
    api.publish_minutes(acting.authed(request)).await?;
    Ok("compte-rendu")
}
