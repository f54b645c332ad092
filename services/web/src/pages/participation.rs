//! "Participation citoyenne": the processes (démarches) of the alliance's collectivities,
//! the process's meetings as an iCalendar file and its proposals, answers and budget
//! results as open data (CSV), and what the section's pages share: who looks at them
//! ([`Viewer`]), a process's steps, the paths of its items. A process's page is
//! `process`; what a signed-in person may do is in `proposals`, `proposing`, `meetings`,
//! `ballots`, `participant` (citizens), `organising` and the `new_*` forms (the
//! organiser).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::{Link, id_of, instant, item_status, member_link, member_names};
use super::forms::{self, Acting, Citizen};
use crate::Web;
use crate::texts::Texts;

/// Processes per page of the list.
const PAGE_SIZE: i32 = 20;

/// Who looks at a page of a process, and so what it offers them.
pub struct Viewer {
    /// The person as a citizen, when the provider vouched for them.
    pub citizen: Option<Citizen>,
    /// The person acting for the process's organiser.
    pub organiser: Option<Acting>,
    /// Signed in, but only for a member (a one-time link): told they cannot take part.
    pub officer_only: bool,
    /// The session's CSRF secret, for the forms.
    pub csrf: String,
}

impl Viewer {
    /// Who `headers` sign in, for a process organised by `organiser` (`members/{id}`).
    pub fn of(web: &Web, headers: &HeaderMap, organiser: &str) -> Self {
        // The session cookie is read once, then taken as a citizen and as an officer.
        let session = forms::session_of(web, headers);
        let signed = web.sign_in.as_ref().zip(session.clone());
        let citizen = signed
            .clone()
            .and_then(|(sign_in, s)| forms::citizen(sign_in, s));
        let organiser = signed
            .and_then(|(sign_in, s)| forms::acting(sign_in, s))
            .filter(|a| a.member == organiser);
        Viewer {
            officer_only: session.is_some() && citizen.is_none(),
            csrf: session.map(|s| s.csrf).unwrap_or_default(),
            citizen,
            organiser,
        }
    }

    /// Whether nobody is signed in.
    pub fn visitor(&self) -> bool {
        self.citizen.is_none() && !self.officer_only
    }

    /// `message` as the viewer asks it: with their citizen token (the answer then says
    /// what is theirs), else anonymously.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        match &self.citizen {
            Some(citizen) => citizen.authed(message),
            None => tonic::Request::new(message),
        }
    }
}

/// The process `processes/{id}` and who looks at it, else the page to answer with.
pub async fn process_for(
    web: &Web,
    headers: &HeaderMap,
    id: &str,
) -> Result<(pa::Process, Viewer), Box<Response>> {
    let request = pa::GetProcessRequest {
        name: format!("processes/{id}"),
    };
    match web.api.participation().get_process(request).await {
        Ok(process) => {
            let process = process.into_inner();
            let viewer = Viewer::of(web, headers, &process.organiser);
            Ok((process, viewer))
        }
        Err(status) => Err(Box::new(super::from_status(
            web.texts,
            &item_status(status),
        ))),
    }
}

/// The process `processes/{id}` for the member it is organised by, else the page to
/// answer with (not its organiser: the tools' page, which lists theirs).
async fn organised(web: &Web, acting: &Acting, id: &str) -> Result<pa::Process, Box<Response>> {
    let request = pa::GetProcessRequest {
        name: format!("processes/{id}"),
    };
    match web.api.participation().get_process(request).await {
        Ok(process) if process.get_ref().organiser == acting.member => Ok(process.into_inner()),
        Ok(_) => Err(Box::new(forms::see_other(super::organising::PATH, None))),
        Err(status) => Err(Box::new(super::from_status(
            web.texts,
            &super::common::item_status(status),
        ))),
    }
}

/// A page of `processes/{id}`'s organiser: the person acting for it and the process,
/// else the page to answer with (`forms::page_for_member`, then [`organised`]).
pub async fn page_for_organiser(
    web: &Web,
    headers: &HeaderMap,
    id: &str,
) -> Result<(Acting, pa::Process), Box<Response>> {
    let acting = forms::page_for_member(web, headers)?;
    let process = organised(web, &acting, id).await?;
    Ok((acting, process))
}

/// A form of `processes/{id}`'s organiser, its session checked as
/// `forms::submitted_for_member` does: the person acting for it and the process, else
/// the page to answer with.
pub async fn submitted_for_organiser(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
    id: &str,
) -> Result<(Acting, pa::Process), Box<Response>> {
    let acting = forms::submitted_for_member(web, headers, csrf)?;
    let process = organised(web, &acting, id).await?;
    Ok((acting, process))
}

/// The path of a process's page, from its name.
pub fn process_href(process: &str) -> String {
    format!("/participation/{}", id_of(process, "processes"))
}

/// The path of an item of a process (`processes/{p}/proposals/{id}` →
/// `/participation/{p}/propositions/{id}`).
pub fn item_href(name: &str) -> String {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["processes", p, "proposals", id] => format!("/participation/{p}/propositions/{id}"),
        ["processes", p, "meetings", id] => format!("/participation/{p}/rencontres/{id}"),
        ["processes", p, "budgets", id] => format!("/participation/{p}/budgets/{id}"),
        _ => "/participation".to_string(),
    }
}

/// When a meeting happens, in Paris: `samedi 6 février 2027, de 9 h 30 à 17 h`.
pub fn meeting_time(meeting: &pa::Meeting) -> String {
    let (Some(start), Some(end)) = (instant(&meeting.start_time), instant(&meeting.end_time))
    else {
        return String::new();
    };
    let (start, end) = (crate::fr::in_paris(start), crate::fr::in_paris(end));
    use chrono::Timelike as _;
    let clock =
        |at: &chrono::DateTime<chrono::FixedOffset>| crate::fr::clock(at.hour(), at.minute());
    if start.date_naive() == end.date_naive() {
        format!(
            "{}, de {} à {}",
            crate::fr::weekday_date(start.date_naive()),
            clock(&start),
            clock(&end)
        )
    } else {
        format!(
            "du {} à {} au {} à {}",
            crate::fr::weekday_date(start.date_naive()),
            clock(&start),
            crate::fr::weekday_date(end.date_naive()),
            clock(&end)
        )
    }
}

/// A step as the page shows it.
pub struct StepView {
    /// `Propositions — Vos idées pour la route` (the list numbers it).
    pub title: String,
    /// `du 6 décembre 2026 au 31 janvier 2027`.
    pub dates: String,
    /// What it opens.
    pub opens: String,
    /// The active one.
    pub active: bool,
    /// Its number, for the organiser's button.
    pub number: i32,
}

/// The steps of `process`.
pub fn steps(t: &Texts, process: &pa::Process) -> Vec<StepView> {
    let p = t.participation;
    process
        .steps
        .iter()
        .map(|step| {
            let kind = pa::StepKind::try_from(step.kind).unwrap_or_default();
            StepView {
                title: format!("{} — {}", p.step_kind(kind), step.title),
                dates: match (
                    super::common::paris_date(&step.start_time),
                    last_day(&step.end_time),
                ) {
                    (Some(from), Some(to)) => format!("du {from} au {to}"),
                    _ => String::new(),
                },
                opens: p.opens(
                    step.proposals_open,
                    step.supports_open,
                    step.comments_open,
                    step.votes_open,
                ),
                active: step.number == process.active_step,
                number: step.number,
            }
        })
        .collect()
}

/// The last day of a period ending at `end`, in Paris: a period that ends at midnight
/// ends with the day before (steps run from one midnight to another).
fn last_day(end: &Option<prost_types::Timestamp>) -> Option<String> {
    use chrono::Timelike as _;
    let end = crate::fr::in_paris(instant(end)?);
    let day = if end.hour() == 0 && end.minute() == 0 && end.second() == 0 {
        end.date_naive().pred_opt()?
    } else {
        end.date_naive()
    };
    Some(crate::fr::date(day))
}

/// The active step of `process`, if any.
pub fn active_step(process: &pa::Process) -> Option<&pa::Step> {
    process
        .steps
        .iter()
        .find(|s| s.number == process.active_step)
}

/// A process in the list.
struct ProcessCard {
    href: String,
    title: String,
    organiser: Option<Link>,
    now: String,
}

#[derive(Template)]
#[template(path = "participation.html")]
struct ProcessesPage {
    t: &'static Texts,
    processes: Vec<ProcessCard>,
    next: Option<String>,
    paged: bool,
}

/// The list's page token.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    page: String,
}

/// Where `process` stands at `now`, in the list: ended (on its last day), its step
/// under way, or not started.
fn stage(t: &Texts, process: &pa::Process, now: chrono::DateTime<chrono::Utc>) -> String {
    match (active_step(process), process.steps.last()) {
        (_, Some(last)) if instant(&last.end_time).is_some_and(|end| end <= now) => {
            let day = last_day(&last.end_time).unwrap_or_default();
            t.participation.ended.replace("{}", &day)
        }
        (Some(step), _) => {
            let kind = pa::StepKind::try_from(step.kind).unwrap_or_default();
            let kind = t.participation.step_kind(kind);
            format!(
                "{} : {kind} — {}",
                t.participation.active_step_now, step.title
            )
        }
        (None, _) => t.participation.not_started.to_string(),
    }
}

/// `GET /participation`.
pub async fn list(State(web): State<Arc<Web>>, Query(paging): Query<Paging>) -> Response {
    let t = web.texts;
    let request = pa::ListProcessesRequest {
        page_size: PAGE_SIZE,
        page_token: paging.page.clone(),
        ..Default::default()
    };
    let response = match web.api.participation().list_processes(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let organisers = response
        .processes
        .iter()
        .map(|p| p.organiser.clone())
        .collect();
    let names = match member_names(&web, organisers).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let now = chrono::Utc::now();
    let processes = response
        .processes
        .iter()
        .map(|process| ProcessCard {
            href: process_href(&process.name),
            title: process.title.clone(),
            organiser: member_link(&names, &process.organiser),
            now: stage(t, process, now),
        })
        .collect();
    super::render(&ProcessesPage {
        t,
        processes,
        next: (!response.next_page_token.is_empty())
            .then(|| super::href("/participation", &[("page", &response.next_page_token)])),
        paged: !paging.page.is_empty(),
    })
}

/// A file to download: its type, its name, its bytes.
fn download(content_type: &str, filename: String, body: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// An id as a file name may carry it.
fn safe(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// `GET /participation/{id}/rencontres.ics`: the process's meetings for a calendar,
/// each linking back to its page on this site.
pub async fn calendar(State(web): State<Arc<Web>>, Path(id): Path<String>) -> Response {
    let t = web.texts;
    let site_url = web
        .sign_in
        .as_ref()
        .map(|s| s.public_url.clone())
        .unwrap_or_default();
    let request = pa::ExportCalendarRequest {
        parent: format!("processes/{id}"),
        site_url,
    };
    match web.api.participation().export_calendar(request).await {
        Ok(export) => {
            let export = export.into_inner();
            download(
                &export.content_type,
                format!("rencontres-{}.ics", safe(&id)),
                export.ics,
            )
        }
        Err(status) => super::from_status(t, &item_status(status)),
    }
}

/// `GET /participation/{id}/propositions.csv`: the proposals and their answers, with no
/// personal data.
pub async fn proposals_csv(State(web): State<Arc<Web>>, Path(id): Path<String>) -> Response {
    let t = web.texts;
    let request = pa::ExportProposalsRequest {
        parent: format!("processes/{id}"),
    };
    match web.api.participation().export_proposals(request).await {
        Ok(export) => download(
            "text/csv; charset=utf-8",
            format!("propositions-{}.csv", safe(&id)),
            export.into_inner().csv,
        ),
        Err(status) => super::from_status(t, &item_status(status)),
    }
}

/// `GET /participation/{id}/budgets/{budget}/resultats.csv`: a closed budget's results.
pub async fn results_csv(
    State(web): State<Arc<Web>>,
    Path((id, budget)): Path<(String, String)>,
) -> Response {
    let t = web.texts;
    let request = pa::ExportBudgetResultsRequest {
        name: format!("processes/{id}/budgets/{budget}"),
    };
    match web.api.participation().export_budget_results(request).await {
        Ok(export) => download(
            "text/csv; charset=utf-8",
            format!("resultats-{}.csv", safe(&budget)),
            export.into_inner().csv,
        ),
        Err(status) => super::from_status(t, &item_status(status)),
    }
}

/// The answer to a citizen's form the service refused because they have no pseudonym
/// yet: the participant page, which brings them back to `back` once registered.
pub fn to_registration(back: &str) -> Response {
    forms::see_other(&super::href(PROFILE_PATH, &[("retour", back)]), None)
}

/// The participant's page.
pub const PROFILE_PATH: &str = "/participation/profil";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_have_their_pages_and_meetings_their_french_times() {
        assert_eq!(
            item_href("processes/a/proposals/b"),
            "/participation/a/propositions/b"
        );
        assert_eq!(
            item_href("processes/a/meetings/m"),
            "/participation/a/rencontres/m"
        );
        assert_eq!(
            item_href("processes/a/budgets/x"),
            "/participation/a/budgets/x"
        );
        assert_eq!(process_href("processes/a"), "/participation/a");
        let midnight = chrono::DateTime::parse_from_rfc3339("2027-01-31T23:00:00Z")
            .map(|t| prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: 0,
            })
            .ok();
        assert_eq!(last_day(&midnight).as_deref(), Some("31 janvier 2027"));
        let evening = midnight.map(|t| prost_types::Timestamp {
            seconds: t.seconds - 3600,
            nanos: 0,
        });
        assert_eq!(last_day(&evening).as_deref(), Some("31 janvier 2027"));
    }

    #[test]
    fn the_list_says_where_a_process_stands() {
        let step = |number: i32, end: &str| pa::Step {
            number,
            kind: pa::StepKind::Proposals as i32,
            title: "Proposer".into(),
            end_time: chrono::DateTime::parse_from_rfc3339(end)
                .map(|t| prost_types::Timestamp {
                    seconds: t.timestamp(),
                    nanos: 0,
                })
                .ok(),
            ..Default::default()
        };
        let process = pa::Process {
            steps: vec![step(1, "2027-01-31T23:00:00Z")],
            ..Default::default()
        };
        let before = chrono::DateTime::parse_from_rfc3339("2027-01-10T00:00:00Z")
            .expect("a time")
            .with_timezone(&chrono::Utc);
        let t = &crate::texts::FR;
        assert_eq!(
            stage(t, &process, before),
            "La démarche n'a pas encore commencé."
        );
        let under_way = pa::Process {
            active_step: 1,
            ..process.clone()
        };
        assert_eq!(
            stage(t, &under_way, before),
            "Étape en cours : Propositions — Proposer"
        );
        let after = chrono::DateTime::parse_from_rfc3339("2027-03-01T00:00:00Z")
            .expect("a time")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            stage(t, &under_way, after),
            "Démarche terminée le 31 janvier 2027"
        );
        let at = |s: &str| {
            let t = chrono::DateTime::parse_from_rfc3339(s).expect("a time");
            Some(prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: 0,
            })
        };
        let meeting = pa::Meeting {
            start_time: at("2027-02-06T08:30:00Z"),
            end_time: at("2027-02-06T16:00:00Z"),
            ..Default::default()
        };
        assert_eq!(
            meeting_time(&meeting),
            "samedi 6 février 2027, de 9\u{a0}h\u{a0}30 à 17\u{a0}h"
        );
    }
}
