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
use super::forms::{self, Problems};
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
    problems: Problems,
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
    let begun = super::common::instant(&meeting.start_time)
        .is_some_and(|start| start <= chrono::Utc::now());
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
    page(&web, &headers, (&ids.0, &ids.1), Problems::none()).await
}

/// The registration form.
#[derive(Debug, Default, Deserialize)]
pub struct Attending {
    #[serde(default)]
    csrf: String,
    /// `inscrire` or `annuler`.
    #[serde(default)]
    action: String,
}

/// `POST /participation/{id}/rencontres/{meeting}`: registers the citizen (a seat or a
/// place in line) or gives it up, then back to the page.
pub async fn attend(
    State(web): State<Arc<Web>>,
    Path((id, meeting_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<Attending>,
) -> Response {
    let t = web.texts;
    let citizen = match forms::submitted_by_citizen(&web, &headers, &form.csrf) {
        Ok(citizen) => citizen,
        Err(response) => return *response,
    };
    let name = format!("processes/{id}/meetings/{meeting_id}");
    let href = format!("/participation/{id}/rencontres/{meeting_id}");
    let mut api = web.api.participation();
    let done = if form.action == "annuler" {
        let request = pa::CancelRegistrationRequest { name };
        api.cancel_registration(citizen.authed(request))
            .await
            .map(|_| ())
    } else {
        let request = pa::RegisterForMeetingRequest { name };
        api.register_for_meeting(citizen.authed(request))
            .await
            .map(|_| ())
    };
    let status = match done {
        Ok(()) => return forms::see_other(&format!("{href}#inscription"), None),
        Err(status) => status,
    };
    if refusal_reason(&status) == "NOT_A_PARTICIPANT" {
        return to_registration(&href);
    }
    match forms::refused(t, status, &[], |r| t.participation.refusal(r)) {
        Ok(problems) => page(&web, &headers, (&id, &meeting_id), problems).await,
        Err(response) => *response,
    }
}
