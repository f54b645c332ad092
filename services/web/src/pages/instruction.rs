//! "Instruction des demandes" (`/espace/instruction`), for a person acting for a funder:
//! the queue of every programme the member funds, with each envelope's gauge — approve,
//! reject with a reason, record a payment (the forms are sent to
//! [`super::applications::act`]). An envelope spent is said on the page and in the
//! refusal.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::projects::ApplicationState;

use super::applications::{Done, Row, applications, done_text, programmes, row};
use super::common::member_names;
use super::forms::{self, Acting, Problems};
use super::programmes::Gauge;
use crate::Web;
use crate::texts::Texts;

/// A programme the member funds, with its queue.
struct Funded {
    title: String,
    href: String,
    gauge: Gauge,
    to_decide: Vec<Row>,
    to_pay: Vec<Row>,
}

#[derive(Template)]
#[template(path = "instruction.html")]
struct InstructionPage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    funded: Vec<Funded>,
}

/// `GET /espace/instruction`: the queue of every programme the member funds.
pub async fn instruction(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let done = done_text(web.texts, &done);
    instruction_page(&web, &acting, StatusCode::OK, done, Problems::none()).await
}

pub(super) async fn instruction_page(
    web: &Web,
    acting: &Acting,
    status: StatusCode,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let listed = match programmes(web).await {
        Ok(listed) => listed,
        Err(status) => return super::from_status(t, &status),
    };
    let mut funded = Vec::new();
    for (n, programme) in listed
        .iter()
        .filter(|p| p.funder == acting.member)
        .enumerate()
    {
        let states = [ApplicationState::Submitted, ApplicationState::Approved];
        let found = match applications(web, acting, &programme.name, &states, "").await {
            Ok(found) => found,
            Err(status) => return super::from_status(t, &status),
        };
        let applicants = found.iter().map(|a| a.applicant.clone()).collect();
        let names = match member_names(web, applicants).await {
            Ok(names) => names,
            Err(status) => return super::from_status(t, &status),
        };
        let rows: Vec<Row> = found
            .iter()
            .map(|a| row(t, a, &programme.title, &names))
            .collect();
        let (to_decide, to_pay) = rows.into_iter().partition(|r| r.submitted);
        funded.push(Funded {
            title: programme.title.clone(),
            href: format!("/{}", programme.name),
            gauge: Gauge::of(t, &format!("g{n}"), programme),
            to_decide,
            to_pay,
        });
    }
    forms::private(
        status,
        &InstructionPage {
            t,
            csrf: acting.session.csrf.clone(),
            done,
            problems,
            funded,
        },
    )
}
