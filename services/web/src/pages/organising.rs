//! The organiser's tools (`/espace/participation`), for a person acting for a member
//! that organises participatory processes: each process with its steps (open the next
//! one: `ActivateStep`), the proposals waiting for an official answer, and the
//! moderation queue — the comments that reports hid, to restore or remove on their
//! proposal's page; and recording that a participant's residence was checked
//! (`VerifyParticipant`, from the number their profile shows them).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::Link;
use super::forms::{self, Acting, FieldTexts, Problems};
use super::participation::{StepView, item_href, process_href, steps};
use crate::Web;
use crate::texts::Texts;

/// Where the organiser's tools are.
pub const PATH: &str = "/espace/participation";

/// A comment waiting for the organiser's decision.
struct Pending {
    proposal: Link,
    author: String,
    body: String,
    reports: String,
}

/// A process the member organises, as the tools show it.
struct Organised {
    name: String,
    href: String,
    title: String,
    etag: String,
    steps: Vec<StepView>,
    to_answer: Vec<Link>,
    pending: Vec<Pending>,
}

#[derive(Template)]
#[template(path = "organising.html")]
struct OrganisingPage {
    t: &'static Texts,
    csrf: String,
    processes: Vec<Organised>,
    number: String,
    done: Option<&'static str>,
    problems: Problems,
}

/// The comments of `proposal` hidden pending review, as its organiser reads them.
async fn pending(
    web: &Web,
    acting: &Acting,
    proposal: &pa::Proposal,
) -> Result<Vec<Pending>, tonic::Status> {
    let p = web.texts.participation;
    let request = acting.authed(pa::ListCommentsRequest {
        parent: proposal.name.clone(),
        page_size: 100,
        pending_review: true,
        ..Default::default()
    });
    let listed = web.api.participation().list_comments(request).await?;
    Ok(listed
        .into_inner()
        .comments
        .into_iter()
        .map(|c| Pending {
            proposal: Link {
                href: format!("{}#moderation", item_href(&proposal.name)),
                text: proposal.title.clone(),
            },
            author: c.author_display_name,
            body: c.body,
            reports: p.reports(c.report_count),
        })
        .collect())
}

/// `process` as the tools show it: its proposals read once, for the answers and the
/// queue.
async fn organised(
    web: &Web,
    acting: &Acting,
    process: &pa::Process,
) -> Result<Organised, tonic::Status> {
    let request = acting.authed(pa::ListProposalsRequest {
        parent: process.name.clone(),
        page_size: 100,
        ..Default::default()
    });
    let proposals = web
        .api
        .participation()
        .list_proposals(request)
        .await?
        .into_inner()
        .proposals;
    let mut queue = Vec::new();
    for proposal in &proposals {
        queue.extend(pending(web, acting, proposal).await?);
    }
    Ok(Organised {
        name: process.name.clone(),
        href: process_href(&process.name),
        title: process.title.clone(),
        etag: process.etag.clone(),
        steps: steps(web.texts, process),
        to_answer: proposals
            .iter()
            .filter(|p| {
                matches!(
                    p.state(),
                    pa::ProposalState::Published | pa::ProposalState::Evaluating
                )
            })
            .map(|p| Link {
                href: format!("{}#repondre", item_href(&p.name)),
                text: format!(
                    "{} — {}",
                    p.title,
                    web.texts.participation.proposal_state(p.state())
                ),
            })
            .collect(),
        pending: queue,
    })
}

/// The tools' page for `acting`.
async fn page(
    web: &Web,
    acting: &Acting,
    number: String,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let request = acting.authed(pa::ListProcessesRequest {
        page_size: 100,
        organiser: acting.member.clone(),
        ..Default::default()
    });
    let listed = match web.api.participation().list_processes(request).await {
        Ok(listed) => listed.into_inner().processes,
        Err(status) => return super::from_status(t, &status),
    };
    let mut processes = Vec::new();
    for process in &listed {
        match organised(web, acting, process).await {
            Ok(view) => processes.push(view),
            Err(status) => return super::from_status(t, &status),
        }
    }
    let page = OrganisingPage {
        t,
        csrf: acting.session.csrf.clone(),
        processes,
        number,
        done,
        problems,
    };
    forms::private(page.problems.status(), &page)
}

/// The page's query: what was just done.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// `GET /espace/participation`.
pub async fn show(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(response) => return *response,
    };
    let done = (done.fait == "verifie").then_some(web.texts.organising.verified_done);
    page(&web, &acting, String::new(), done, Problems::none()).await
}

/// The tools' forms.
#[derive(Debug, Default, Deserialize)]
pub struct ToolsForm {
    #[serde(default)]
    csrf: String,
    /// `activer` or `verifier`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    demarche: String,
    #[serde(default)]
    etape: i32,
    #[serde(default)]
    etag: String,
    #[serde(default)]
    numero: String,
}

const FIELDS: &FieldTexts = &[(
    "participant",
    "numero",
    "Recopiez le numéro de participant tel que son profil le montre.",
)];

/// `POST /espace/participation`: opens a step of one of the member's processes, or
/// records a participant's verified residence.
pub async fn act(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<ToolsForm>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &form.csrf) {
        Ok(acting) => acting,
        Err(response) => return *response,
    };
    let mut api = web.api.participation();
    let outcome = if form.action == "activer" {
        let request = acting.authed(pa::ActivateStepRequest {
            name: form.demarche.clone(),
            step: form.etape,
            etag: form.etag.clone(),
        });
        match api.activate_step(request).await {
            Ok(_) => return forms::see_other(PATH, None),
            Err(status) => status,
        }
    } else {
        let request = acting.authed(pa::VerifyParticipantRequest {
            participant: format!("participants/{}", form.numero.trim()),
            organiser: acting.member.clone(),
        });
        match api.verify_participant(request).await {
            Ok(_) => return forms::see_other(&format!("{PATH}?fait=verifie"), None),
            Err(status) if status.code() == tonic::Code::NotFound => {
                tonic::Status::invalid_argument("participant").with_field("participant")
            }
            Err(status) => status,
        }
    };
    match forms::refused(t, outcome, FIELDS, |r| t.participation.refusal(r)) {
        Ok(problems) => page(&web, &acting, form.numero, None, problems).await,
        Err(response) => *response,
    }
}

/// A status naming the field it refuses, as the services' `BadRequest` does.
trait WithField {
    fn with_field(self, field: &str) -> tonic::Status;
}

impl WithField for tonic::Status {
    fn with_field(self, field: &str) -> tonic::Status {
        use tonic_types::{ErrorDetails, StatusExt};
        let details = ErrorDetails::with_bad_request_violation(field, self.message());
        tonic::Status::with_error_details(tonic::Code::InvalidArgument, self.message(), details)
    }
}
