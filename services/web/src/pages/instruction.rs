//! "Instruction des demandes" (`/espace/instruction`), for a person acting for a funder
//! or an operator: the queue of every programme the member funds or instructs, with each
//! envelope's gauge, filtered by programme, state and words of the applicant or purpose.
//! An instructor asks to complete; the operator gives its opinion; the funder approves,
//! rejects with a reason, records an advance or the balance, cancels an award, and
//! records the deliberations that change its envelope (the forms are sent to
//! [`super::decisions`]). An envelope spent is said on the page and in the refusal.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::projects::ApplicationState;

use fabrique_types::text::fold;
use serde::Deserialize;

use super::applications::{Done, Row, applications, done_text, programmes, row};
use super::common::{Choice, id_of, member_names};
use super::forms::{self, Acting, Problems};
use super::programmes::Gauge;
use crate::Web;
use crate::texts::Texts;

/// A programme the member funds or instructs, with its queue.
struct Funded {
    title: String,
    /// `programmes/{id}`, for the envelope form.
    name: String,
    href: String,
    gauge: Gauge,
    tables: Vec<Table>,
    /// The member funds it: it decides, pays and changes the envelope …
    decides: bool,
    /// … or it is its operator: it gives the opinion.
    operates: bool,
    /// The envelope changes voted, oldest first, as sentences.
    envelope_changes: Vec<String>,
}

/// One list of the queue: "À instruire", "Accordées, à payer"…
struct Table {
    heading: &'static str,
    /// Its part of the ids of the fields in its rows, unique in the page.
    id: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "instruction.html")]
struct InstructionPage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    funded: Vec<Funded>,
    /// Whether the member funds any programme (the filters may hide them all).
    funds_any: bool,
    programmes: Vec<Choice>,
    states: Vec<Choice>,
    search: String,
}

/// The page's query: what was done, and the filters.
#[derive(Debug, Default, Deserialize)]
pub struct InstructionQuery {
    /// What was just done (`accordee`…).
    #[serde(default)]
    fait: String,
    /// A programme's id; empty: every one the member funds.
    #[serde(default)]
    programme: String,
    /// `deposee`, `a-completer`, `accordee`, `payee`, `rejetee`; empty: what waits (the
    /// first three).
    #[serde(default)]
    etat: String,
    /// Words of the applicant's name or of the purpose.
    #[serde(default)]
    demandeur: String,
}

/// The lists a state filter shows, each with its states.
fn tables_for(t: &Texts, state: &str) -> Vec<(&'static str, Vec<ApplicationState>)> {
    let a = t.applications;
    let submitted = (a.to_decide, vec![ApplicationState::Submitted]);
    let to_complete = (
        t.instruction.to_complete,
        vec![ApplicationState::ToComplete],
    );
    let approved = (a.to_pay, vec![ApplicationState::Approved]);
    match state {
        "deposee" => vec![submitted],
        "a-completer" => vec![to_complete],
        "accordee" => vec![approved],
        "payee" => vec![(a.paid, vec![ApplicationState::Paid])],
        "rejetee" => vec![(
            a.rejected_or_withdrawn,
            vec![
                ApplicationState::Rejected,
                ApplicationState::Withdrawn,
                ApplicationState::Cancelled,
            ],
        )],
        _ => vec![submitted, to_complete, approved],
    }
}

/// A programme's envelope changes as sentences, oldest first.
fn envelope_changes(t: &Texts, programme: &fabrique_api::projects::Programme) -> Vec<String> {
    programme
        .envelope_changes
        .iter()
        .map(|c| {
            let day = c
                .deliberation_time
                .as_ref()
                .and_then(|d| chrono::DateTime::from_timestamp(d.seconds, 0))
                .map(|d| crate::fr::date(d.date_naive()))
                .unwrap_or_default();
            t.instruction.envelope_change(
                &day,
                &crate::fr::euros(c.previous_cents),
                &crate::fr::euros(c.envelope_cents),
                &c.deliberation_reference,
            )
        })
        .collect()
}

/// Whether `row` holds every word of `search` in its applicant or purpose (case and
/// accents aside).
fn matches(row: &Row, search: &str) -> bool {
    let text = fold(&format!("{} {}", row.applicant, row.purpose));
    fold(search)
        .split_whitespace()
        .all(|word| text.contains(word))
}

/// `GET /espace/instruction`: the queue of every programme the member funds or
/// instructs, filtered
/// by programme, state and words.
pub async fn instruction(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(query): Query<InstructionQuery>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let done = done_text(
        web.texts,
        &Done {
            fait: query.fait.clone(),
        },
    );
    let page = Page {
        status: StatusCode::OK,
        done,
        problems: Problems::none(),
    };
    queue(&web, &acting, page, &query).await
}

/// What the page says besides its queue.
pub(super) struct Page {
    pub(super) status: StatusCode,
    pub(super) done: Option<&'static str>,
    pub(super) problems: Problems,
}

/// The page unfiltered, after a refused form.
pub(super) async fn instruction_page(
    web: &Web,
    acting: &Acting,
    status: StatusCode,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let page = Page {
        status,
        done,
        problems,
    };
    queue(web, acting, page, &InstructionQuery::default()).await
}

/// The queue as `query` filters it. Over 60 lines: per programme funded, each list of
/// the state chosen, read, named and filtered, then the filters' choices.
async fn queue(web: &Web, acting: &Acting, page: Page, query: &InstructionQuery) -> Response {
    let t = web.texts;
    let listed = match programmes(web).await {
        Ok(listed) => listed,
        Err(status) => return super::from_status(t, &status),
    };
    let mine: Vec<_> = listed
        .iter()
        .filter(|p| p.funder == acting.member || p.operator == acting.member)
        .collect();
    let mut funded = Vec::new();
    for (n, programme) in mine.iter().enumerate() {
        if !query.programme.is_empty() && id_of(&programme.name, "programmes") != query.programme {
            continue;
        }
        let mut tables = Vec::new();
        for (k, (heading, states)) in tables_for(t, &query.etat).into_iter().enumerate() {
            let found = match applications(web, acting, &programme.name, &states, "").await {
                Ok(found) => found,
                Err(status) => return super::from_status(t, &status),
            };
            let applicants = found.iter().map(|a| a.applicant.clone()).collect();
            let names = match member_names(web, applicants).await {
                Ok(names) => names,
                Err(status) => return super::from_status(t, &status),
            };
            let rows = found
                .iter()
                .map(|a| row(t, a, &programme.title, &names))
                .filter(|r| matches(r, &query.demandeur))
                .collect();
            tables.push(Table {
                heading,
                id: format!("{n}-{k}"),
                rows,
            });
        }
        funded.push(Funded {
            title: programme.title.clone(),
            name: programme.name.clone(),
            href: format!("/{}", programme.name),
            gauge: Gauge::of(t, &format!("g{n}"), programme),
            tables,
            decides: programme.funder == acting.member,
            operates: programme.operator == acting.member,
            envelope_changes: envelope_changes(t, programme),
        });
    }
    let a = t.applications;
    let programmes = mine
        .iter()
        .map(|p| {
            let id = id_of(&p.name, "programmes");
            Choice {
                value: id.to_string(),
                label: p.title.clone(),
                selected: id == query.programme,
            }
        })
        .collect();
    let states = [
        ("deposee", a.to_decide),
        ("a-completer", t.instruction.to_complete_filter),
        ("accordee", a.to_pay),
        ("payee", a.paid),
        ("rejetee", a.rejected_or_withdrawn),
    ]
    .iter()
    .map(|(value, label)| Choice {
        value: value.to_string(),
        label: label.to_string(),
        selected: *value == query.etat,
    })
    .collect();
    forms::private(
        page.status,
        &InstructionPage {
            t,
            csrf: acting.session.csrf.clone(),
            done: page.done,
            problems: page.problems,
            funded,
            funds_any: !mine.is_empty(),
            programmes,
            states,
            search: query.demandeur.clone(),
        },
    )
}
