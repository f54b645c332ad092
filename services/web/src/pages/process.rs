//! A process's page: its organiser, description and dated steps with what the active
//! one opens, its rules, its proposals (filtered by theme and state, most supported or
//! newest first, a page at a time), its meetings and budgets, its open data; for its
//! organiser, the links to its tools and forms.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::{Choice, Link, member_link, member_names, paragraphs};
use super::forms;
use super::participation::{
    StepView, Viewer, active_step, item_href, meeting_time, process_for, process_href, steps,
};
use crate::Web;
use crate::texts::Texts;

/// A proposal in a process's list.
pub struct ProposalCard {
    /// Its page.
    pub href: String,
    /// Its title.
    pub title: String,
    /// Its state, in French.
    pub state: &'static str,
    /// Its supports, in French.
    pub supports: String,
    /// Its theme.
    pub theme: String,
}

/// A meeting in a process's page.
struct MeetingCard {
    href: String,
    title: String,
    kind: &'static str,
    when: String,
    cancelled: bool,
}

#[derive(Template)]
#[template(path = "process.html")]
struct ProcessPage {
    t: &'static Texts,
    title: String,
    href: String,
    organiser: Option<Link>,
    description: Vec<String>,
    steps: Vec<StepView>,
    open_now: Option<String>,
    rules: Vec<String>,
    proposals_open: bool,
    proposals: Vec<ProposalCard>,
    /// Themes, states and orders, for the filter form.
    filters: [Vec<Choice>; 3],
    filtered: bool,
    themed: bool,
    paged: bool,
    next: Option<String>,
    meetings: Vec<MeetingCard>,
    budgets: Vec<Link>,
    viewer: Viewer,
}

/// Proposals per page of a process.
const PROPOSALS_PAGE: i32 = 30;

/// How a process's page lists its proposals: a theme, a state, an order (`recentes`,
/// else most supported first), a page.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    theme: String,
    #[serde(default)]
    etat: String,
    #[serde(default)]
    ordre: String,
    #[serde(default)]
    page: String,
}

impl Filters {
    /// Whether any filter is set (the page says so when nothing matches).
    fn any(&self) -> bool {
        !(self.theme.is_empty() && self.etat.is_empty())
    }

    /// The filters' choices for `process`, each marked when chosen.
    fn choices(&self, t: &Texts, process: &pa::Process) -> [Vec<Choice>; 3] {
        let p = t.participation;
        let mut themes = vec![Choice {
            value: String::new(),
            label: t.any.to_string(),
            selected: self.theme.is_empty(),
        }];
        themes.extend(process.themes.iter().map(|theme| Choice {
            value: theme.clone(),
            label: theme.clone(),
            selected: *theme == self.theme,
        }));
        let mut states = vec![Choice {
            value: String::new(),
            label: t.any.to_string(),
            selected: self.etat.is_empty(),
        }];
        states.extend(
            super::enum_values::<pa::ProposalState>().map(|state| Choice {
                selected: super::enum_code(state) == self.etat,
                value: super::enum_code(state),
                label: p.proposal_state(state).to_string(),
            }),
        );
        let orders = [("", p.most_supported), ("recentes", p.newest)]
            .into_iter()
            .map(|(value, label)| Choice {
                selected: self.ordre == value,
                value: value.to_string(),
                label: label.to_string(),
            })
            .collect();
        [themes, states, orders]
    }
}

/// The proposals of `process` its page lists with `filters`, and the link to the next
/// page, if any.
async fn proposal_cards(
    web: &Web,
    process: &pa::Process,
    filters: &Filters,
) -> Result<(Vec<ProposalCard>, Option<String>), tonic::Status> {
    let p = web.texts.participation;
    let request = pa::ListProposalsRequest {
        parent: process.name.clone(),
        page_size: PROPOSALS_PAGE,
        page_token: filters.page.clone(),
        states: super::enum_of_code::<pa::ProposalState>(&filters.etat)
            .map(|state| vec![state as i32])
            .unwrap_or_default(),
        theme: filters.theme.clone(),
        order: if filters.ordre == "recentes" {
            pa::ProposalOrder::Newest
        } else {
            pa::ProposalOrder::MostSupported
        } as i32,
    };
    let listed = web
        .api
        .participation()
        .list_proposals(request)
        .await?
        .into_inner();
    let next = (!listed.next_page_token.is_empty()).then(|| {
        super::href(
            &process_href(&process.name),
            &[
                ("theme", &filters.theme),
                ("etat", &filters.etat),
                ("ordre", &filters.ordre),
                ("page", &listed.next_page_token),
            ],
        ) + "#propositions"
    });
    let cards = listed
        .proposals
        .iter()
        .map(|proposal| ProposalCard {
            href: item_href(&proposal.name),
            title: proposal.title.clone(),
            state: p.proposal_state(proposal.state()),
            supports: p.supports(
                proposal.support_count,
                process.support_threshold,
                proposal.threshold_reached,
            ),
            theme: proposal.theme.clone(),
        })
        .collect();
    Ok((cards, next))
}

/// What the process asks of those who support and vote, as sentences.
fn rules(t: &Texts, process: &pa::Process) -> Vec<String> {
    let p = t.participation;
    let mut rules = vec![p.support_limit(process.support_limit)];
    if process.verified_only {
        rules.push(p.verified_only().to_string());
    }
    rules.retain(|r| !r.is_empty());
    rules
}

/// `GET /participation/{id}`.
///
/// Over 60 lines: the page gathers five reads (the process, its proposals, meetings and
/// budgets, its organiser's name) and lays each out, in the page's order.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    Query(filters): Query<Filters>,
    headers: HeaderMap,
) -> Response {
    let t = web.texts;
    let p = t.participation;
    let mut api = web.api.participation();
    let (process, viewer) = match process_for(&web, &headers, &id).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let name = process.name.clone();
    let proposals = proposal_cards(&web, &process, &filters).await;
    let meetings = api
        .list_meetings(pa::ListMeetingsRequest {
            parent: name.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await;
    let budgets = api
        .list_budgets(pa::ListBudgetsRequest {
            parent: name.clone(),
        })
        .await;
    let names = member_names(&web, vec![process.organiser.clone()]).await;
    let (proposals, meetings, budgets, names) = match (proposals, meetings, budgets, names) {
        (Ok(p), Ok(m), Ok(b), Ok(n)) => (p, m.into_inner().meetings, b.into_inner().budgets, n),
        (Err(status), ..) if status.code() == tonic::Code::InvalidArgument => {
            // A page token or filter of another list: the first page, unfiltered.
            return forms::see_other(&process_href(&process.name), None);
        }
        (Err(status), ..) | (_, Err(status), ..) | (.., Err(status), _) | (.., Err(status)) => {
            return super::from_status(t, &status);
        }
    };
    let active = active_step(&process);
    let page = ProcessPage {
        t,
        href: process_href(&process.name),
        organiser: member_link(&names, &process.organiser),
        description: paragraphs(&process.description),
        steps: steps(t, &process),
        open_now: active.map(|s| {
            p.opens(
                s.proposals_open,
                s.supports_open,
                s.comments_open,
                s.votes_open,
            )
        }),
        rules: rules(t, &process),
        proposals_open: active.is_some_and(|s| s.proposals_open),
        filters: filters.choices(t, &process),
        filtered: filters.any(),
        themed: !process.themes.is_empty(),
        paged: !filters.page.is_empty(),
        next: proposals.1,
        proposals: proposals.0,
        meetings: meetings
            .iter()
            .map(|m| MeetingCard {
                href: item_href(&m.name),
                title: m.title.clone(),
                kind: p.meeting_kind(m.kind()),
                when: meeting_time(m),
                cancelled: m.cancelled,
            })
            .collect(),
        budgets: budgets
            .iter()
            .map(|b| Link {
                href: item_href(&b.name),
                text: format!("{} — {}", b.title, p.budget_state(b.state())),
            })
            .collect(),
        viewer,
        title: process.title,
    };
    forms::private(axum::http::StatusCode::OK, &page)
}
