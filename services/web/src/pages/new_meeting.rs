//! Scheduling a meeting or a citizen conference of a process, for its organiser
//! (`/participation/{id}/rencontres/nouvelle`): its kind, title and description, its day
//! and hours (Paris time), a place published on the map or an online address, and its
//! seats. Sent with a request id; what the service refuses is told next to its field,
//! with everything typed kept.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{NaiveDate, NaiveTime};
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::Choice;
use super::forms::{self, Acting, FieldTexts, Problems};
use super::participation::{page_for_organiser, submitted_for_organiser};
use super::{enum_code, enum_of_code, enum_values};
use crate::Web;
use crate::fr;
use crate::texts::Texts;

/// The form as sent (and shown again).
#[derive(Debug, Default, Deserialize)]
pub struct Scheduled {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    demande: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    titre: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    jour: String,
    #[serde(default)]
    debut: String,
    #[serde(default)]
    fin: String,
    #[serde(default)]
    lieu: String,
    #[serde(default)]
    en_ligne: String,
    #[serde(default)]
    places: String,
}

#[derive(Template)]
#[template(path = "new_meeting.html")]
struct NewMeetingPage {
    t: &'static Texts,
    process_title: String,
    href: String,
    csrf: String,
    request_id: String,
    kinds: Vec<Choice>,
    places: Vec<Choice>,
    sent: Scheduled,
    problems: Problems,
}

/// The form for `acting` on `process`, with what was typed and refused.
async fn page(
    web: &Web,
    acting: &Acting,
    process: &pa::Process,
    sent: Scheduled,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let places = match super::nearby::listed_places(web).await {
        Ok(places) => places,
        Err(status) => return super::from_status(t, &status),
    };
    let page = NewMeetingPage {
        t,
        process_title: process.title.clone(),
        href: super::participation::process_href(&process.name),
        csrf: acting.session.csrf.clone(),
        request_id: forms::request_id(&sent.demande),
        kinds: enum_values::<pa::MeetingKind>()
            .map(|k| Choice {
                selected: enum_code(k) == sent.kind,
                value: enum_code(k),
                label: t.participation.meeting_kind(k).to_string(),
            })
            .collect(),
        places: places
            .into_iter()
            .map(|p| Choice {
                selected: p.id == sent.lieu,
                value: p.id,
                label: p.label,
            })
            .collect(),
        sent,
        problems,
    };
    forms::private(page.problems.status(), &page)
}

/// `GET /participation/{id}/rencontres/nouvelle`.
pub async fn new(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match page_for_organiser(&web, &headers, &id).await {
        Ok((acting, process)) => {
            page(
                &web,
                &acting,
                &process,
                Scheduled::default(),
                Problems::none(),
            )
            .await
        }
        Err(response) => *response,
    }
}

const FIELDS: &FieldTexts = &[
    ("meeting.kind", "type", "Choisissez le type de rencontre."),
    (
        "meeting.title",
        "titre",
        "Donnez un titre de 3 à 150 caractères.",
    ),
    (
        "meeting.description",
        "description",
        "La présentation fait au plus 10 000 caractères.",
    ),
    (
        "meeting.start_time",
        "jour",
        "Indiquez le jour et l'heure de début.",
    ),
    (
        "meeting.end_time",
        "fin",
        "Indiquez une heure de fin après le début (trois jours au plus).",
    ),
    (
        "meeting.place",
        "lieu",
        "Choisissez un lieu de la carte, ou une adresse en ligne, pas les deux.",
    ),
    (
        "meeting.online_url",
        "en_ligne",
        "Indiquez une adresse https, ou choisissez un lieu, pas les deux.",
    ),
    ("meeting.seats", "places", "Indiquez de 1 à 10 000 places."),
];

/// `POST /participation/{id}/rencontres/nouvelle`: schedules the meeting, then its page.
pub async fn create(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(sent): Form<Scheduled>,
) -> Response {
    let t = web.texts;
    let (acting, process) = match submitted_for_organiser(&web, &headers, &sent.csrf, &id).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let request = pa::CreateMeetingRequest {
        parent: process.name.clone(),
        meeting: Some(meeting_of(&sent)),
        request_id: forms::request_id(&sent.demande),
    };
    let status = match web
        .api
        .participation()
        .create_meeting(acting.authed(request))
        .await
    {
        Ok(made) => {
            let href = super::participation::item_href(&made.into_inner().name);
            return forms::see_other(&href, None);
        }
        Err(status) => status,
    };
    match forms::refused(t, status, FIELDS, |r| t.participation.refusal(r)) {
        Ok(problems) => page(&web, &acting, &process, sent, problems).await,
        Err(response) => *response,
    }
}

/// The meeting the form describes: its hours on its day in Paris (an end before the
/// start is left for the service to refuse).
fn meeting_of(sent: &Scheduled) -> pa::Meeting {
    let day = NaiveDate::parse_from_str(sent.jour.trim(), "%Y-%m-%d").ok();
    let at = |time: &str| {
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").ok()?;
        let instant = fr::paris_local(day?, time)?;
        Some(super::common::timestamp(instant))
    };
    pa::Meeting {
        kind: enum_of_code::<pa::MeetingKind>(&sent.kind).unwrap_or_default() as i32,
        title: sent.titre.trim().to_string(),
        description: sent.description.trim().to_string(),
        start_time: at(&sent.debut),
        end_time: at(&sent.fin),
        place: if sent.lieu.is_empty() {
            String::new()
        } else {
            format!("places/{}", sent.lieu)
        },
        online_url: sent.en_ligne.trim().to_string(),
        seats: sent.places.trim().parse().unwrap_or(0),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_as_a_meeting_in_paris_time() {
        let sent = Scheduled {
            kind: "citizen_conference".into(),
            titre: " Conférence ".into(),
            jour: "2027-02-06".into(),
            debut: "09:30".into(),
            fin: "17:00".into(),
            lieu: "abc".into(),
            places: "40".into(),
            ..Default::default()
        };
        let meeting = meeting_of(&sent);
        assert_eq!(meeting.kind, pa::MeetingKind::CitizenConference as i32);
        assert_eq!(meeting.title, "Conférence");
        assert_eq!(meeting.place, "places/abc");
        assert_eq!(meeting.seats, 40);
        let start = meeting.start_time.expect("a start").seconds;
        assert_eq!(
            chrono::DateTime::from_timestamp(start, 0).map(|s| s.to_rfc3339()),
            Some("2027-02-06T08:30:00+00:00".to_string())
        );
        let unfinished = meeting_of(&Scheduled {
            fin: "17h".into(),
            ..sent
        });
        assert!(unfinished.end_time.is_none(), "the service names the field");
    }
}
