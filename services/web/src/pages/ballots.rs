//! A participatory budget's page: its envelope and the share of it a ballot must reach,
//! its items (proposals with a cost); while the vote is open, a citizen's ballot — the
//! items they check, whose total the service checks against the envelope and the
//! minimum — and, once cast, what they chose; once closed, the results ranked by votes
//! with the winners the envelope allows, and their CSV.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;

use super::common::Choice;
use super::common::{item_status, paragraphs, refusal_reason};
use super::forms::{self, FieldTexts, Outcome, Problems};
use super::participation::{Viewer, process_for, process_href, to_registration};
use crate::Web;
use crate::fr;
use crate::texts::Texts;

/// An item as the page shows it.
struct ItemView {
    name: String,
    href: String,
    title: String,
    cost: String,
    checked: bool,
    votes: String,
    rank: i32,
    selected: bool,
}

#[derive(Template)]
#[template(path = "budget.html")]
struct BudgetPage {
    t: &'static Texts,
    process_title: String,
    process_href: String,
    href: String,
    title: String,
    description: Vec<String>,
    envelope: String,
    state: &'static str,
    rule: String,
    ballots: String,
    items: Vec<ItemView>,
    open: bool,
    votes_open: bool,
    voted: bool,
    total: String,
    /// The proposals the organiser may add (empty for anyone else).
    candidates: Vec<Choice>,
    /// The cost typed in a refused item form.
    cost: String,
    problems: Problems,
    viewer: Viewer,
}

/// The ballot the viewer cast in `budget`, if they are a participant who voted.
async fn caller_ballot(
    web: &Web,
    viewer: &Viewer,
    budget: String,
) -> Result<Option<pa::Ballot>, tonic::Status> {
    let Some(citizen) = &viewer.citizen else {
        return Ok(None);
    };
    let request = citizen.authed(pa::GetBallotRequest { budget });
    match web.api.participation().get_ballot(request).await {
        Ok(ballot) => Ok(Some(ballot.into_inner())),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) if refusal_reason(&status) == "NOT_A_PARTICIPANT" => Ok(None),
        Err(status) => Err(status),
    }
}

/// What a refused form typed, shown again: a ballot's items, an item's proposal and
/// cost.
#[derive(Default)]
struct Kept {
    checked: Vec<String>,
    proposal: String,
    cost: String,
}

/// The proposals the organiser may add to `budget` as items: neither withdrawn (not
/// listed) nor rejected, nor an item already; `chosen` is selected.
async fn candidates(
    web: &Web,
    process: &str,
    budget: &pa::Budget,
    chosen: &str,
) -> Result<Vec<Choice>, tonic::Status> {
    let request = pa::ListProposalsRequest {
        parent: process.to_string(),
        page_size: 100,
        ..Default::default()
    };
    let proposals = web
        .api
        .participation()
        .list_proposals(request)
        .await?
        .into_inner()
        .proposals;
    Ok(proposals
        .into_iter()
        .filter(|p| p.state() != pa::ProposalState::Rejected)
        .filter(|p| budget.items.iter().all(|item| item.proposal != p.name))
        .map(|p| Choice {
            selected: p.name == chosen,
            value: p.name,
            label: p.title,
        })
        .collect())
}

/// The budget's page for `headers`' person; `kept` holds what a refused form typed.
///
/// Over 60 lines: the page is either a ballot or the results, and both are laid out
/// from the same reads here.
async fn page(
    web: &Web,
    headers: &HeaderMap,
    (id, budget_id): (&str, &str),
    problems: Problems,
    kept: Kept,
) -> Response {
    let t = web.texts;
    let p = t.participation;
    let mut api = web.api.participation();
    let (process, viewer) = match process_for(web, headers, id).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let name = format!("processes/{id}/budgets/{budget_id}");
    let budget = match api
        .get_budget(pa::GetBudgetRequest { name: name.clone() })
        .await
    {
        Ok(budget) => budget.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let ballot = match caller_ballot(web, &viewer, name).await {
        Ok(ballot) => ballot,
        Err(status) => return super::from_status(t, &status),
    };
    let chosen: Vec<String> = match &ballot {
        Some(ballot) => ballot.items.clone(),
        None => kept.checked.clone(),
    };
    let closed = budget.state() == pa::BudgetState::Closed;
    let candidates = match &viewer.organiser {
        Some(_) if !closed => match candidates(web, &process.name, &budget, &kept.proposal).await {
            Ok(candidates) => candidates,
            Err(status) => return super::from_status(t, &status),
        },
        _ => Vec::new(),
    };
    let minimum_bp = match budget.minimum_basis_points {
        0 => 7_000,
        bp => bp,
    };
    let minimum = budget.envelope_cents * i64::from(minimum_bp) / 10_000;
    let mut items: Vec<ItemView> = budget
        .items
        .iter()
        .map(|item| ItemView {
            name: item.name.clone(),
            href: super::participation::item_href(&item.proposal),
            title: item.title.clone(),
            cost: fr::euros(item.cost_cents),
            checked: chosen.contains(&item.name),
            votes: p.votes(item.votes),
            rank: item.rank,
            selected: item.selected,
        })
        .collect();
    if closed {
        items.sort_by_key(|item| item.rank);
    }
    let page = BudgetPage {
        t,
        process_title: process.title.clone(),
        process_href: process_href(&process.name),
        href: super::participation::item_href(&budget.name),
        description: paragraphs(&budget.description),
        envelope: fr::euros(budget.envelope_cents),
        state: p.budget_state(budget.state()),
        rule: p.ballot_rule(budget.envelope_cents, minimum),
        ballots: p.ballots(budget.ballot_count),
        items,
        open: !closed,
        votes_open: super::participation::active_step(&process).is_some_and(|s| s.votes_open),
        voted: ballot.is_some(),
        total: match (&ballot, closed) {
            (Some(ballot), false) => fr::euros(ballot.total_cents),
            (_, true) => p.selected_total(budget.selected_cents, budget.envelope_cents),
            _ => String::new(),
        },
        candidates,
        cost: kept.cost,
        problems,
        viewer,
        title: budget.title,
    };
    forms::private(page.problems.status(), &page)
}

/// `GET /participation/{id}/budgets/{budget}`.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    page(
        &web,
        &headers,
        (&ids.0, &ids.1),
        Problems::none(),
        Kept::default(),
    )
    .await
}

/// The citizen's ballot; the page's anchor to go back to.
async fn cast(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
    budget: String,
    items: Vec<String>,
) -> Result<&'static str, Outcome> {
    let citizen = forms::submitted_by_citizen(web, headers, csrf)?;
    let request = pa::CastBallotRequest { budget, items };
    web.api
        .participation()
        .cast_ballot(citizen.authed(request))
        .await?;
    Ok("bulletin")
}

/// The organiser adds a proposal to the budget with its cost; the anchor to go back to.
async fn add(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
    budget: String,
    kept: &Kept,
) -> Result<&'static str, Outcome> {
    let acting = forms::submitted_for_member(web, headers, csrf)?;
    let request = acting.authed(pa::AddBudgetItemRequest {
        budget,
        proposal: kept.proposal.clone(),
        // An amount that does not read as one is refused by the service, by its field.
        cost_cents: fr::parse_cents(&kept.cost).unwrap_or(-1),
    });
    web.api.participation().add_budget_item(request).await?;
    Ok("ajouter")
}

/// The API's fields the item form shows.
const FIELDS: &FieldTexts = &[
    (
        "proposal",
        "proposition",
        "Choisissez une proposition de la démarche, ni retirée ni écartée.",
    ),
    (
        "cost_cents",
        "cout",
        "Indiquez un coût positif en euros, dans la limite de l'enveloppe.",
    ),
];

/// The organiser closes the vote: the results are counted; the anchor to go back to.
async fn close(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
    name: String,
) -> Result<&'static str, Outcome> {
    let acting = forms::submitted_for_member(web, headers, csrf)?;
    let request = acting.authed(pa::CloseBudgetRequest { name });
    web.api.participation().close_budget(request).await?;
    Ok("resultats")
}

/// `POST /participation/{id}/budgets/{budget}`: the citizen's ballot (`csrf`, and one
/// `projet` per item checked), or the organiser closing the vote (`action=clore`), then
/// back to the page.
pub async fn act(
    State(web): State<Arc<Web>>,
    Path((id, budget_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let t = web.texts;
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let csrf = &value("csrf");
    let budget = format!("processes/{id}/budgets/{budget_id}");
    let items: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "projet")
        .map(|(_, v)| v.clone())
        .collect();
    let href = format!("/participation/{id}/budgets/{budget_id}");
    let kept = Kept {
        checked: items.clone(),
        proposal: value("proposition"),
        cost: value("cout"),
    };
    let done = match value("action").as_str() {
        "clore" => close(&web, &headers, csrf, budget).await,
        "ajouter" => add(&web, &headers, csrf, budget, &kept).await,
        _ => cast(&web, &headers, csrf, budget, items).await,
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
        Ok(problems) => page(&web, &headers, (&id, &budget_id), problems, kept).await,
        Err(response) => *response,
    }
}
