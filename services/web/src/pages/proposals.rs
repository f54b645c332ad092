//! A proposal's page and what people do there: a citizen supports or withdraws their
//! support, comments and reports a comment; the organiser
//! answers officially and decides on the comments that reports hid. Every action is a
//! form that works without JavaScript; a refusal is told in French on the page, with
//! what was typed kept. A citizen with no pseudonym yet is sent to choose one first.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::{Choice, item_status, paragraphs, paris_date, place_link, refusal_reason};
use super::forms::{self, FieldTexts, Outcome, Problems};
use super::participation::{Viewer, active_step, process_for, process_href, to_registration};
use crate::Web;
use crate::texts::Texts;

/// A comment as the page shows it.
pub struct CommentView {
    /// `processes/{p}/proposals/{q}/comments/{id}`, for the forms.
    pub name: String,
    /// The author's pseudonym.
    pub author: String,
    /// When, in French.
    pub date: String,
    /// Its paragraphs; none when hidden from the viewer.
    pub body: Vec<String>,
    /// What happened to it, for its author and the organiser; empty otherwise.
    pub note: String,
    /// The sentence in place of a text hidden from the viewer.
    pub hidden: &'static str,
    /// Whether the viewer may report it.
    pub reportable: bool,
}

/// The organiser's answer form.
struct AnswerForm {
    decisions: Vec<Choice>,
    answer: String,
    etag: String,
}

#[derive(Template)]
#[template(path = "proposal.html")]
struct ProposalPage {
    t: &'static Texts,
    process_title: String,
    process_href: String,
    href: String,
    title: String,
    state: &'static str,
    theme: String,
    author: String,
    date: String,
    body: Vec<String>,
    place: Option<super::common::Link>,
    supports: String,
    answer: Option<(String, Vec<String>)>,
    supports_open: bool,
    supported: bool,
    /// Its author may still withdraw it: published, and nobody supports it.
    withdrawable: bool,
    comments: Vec<CommentView>,
    comments_open: bool,
    comment: String,
    answer_form: Option<AnswerForm>,
    pending: Vec<CommentView>,
    problems: Problems,
    viewer: Viewer,
}

/// What a refused form typed, shown again.
#[derive(Default)]
struct Kept {
    comment: String,
    answer: String,
    decision: String,
}

/// The comments of `proposal` as `viewer` may read them, each told for them.
async fn comments(
    web: &Web,
    viewer: &Viewer,
    proposal: &str,
    pending_review: bool,
) -> Result<Vec<CommentView>, tonic::Status> {
    let p = web.texts.participation;
    let message = pa::ListCommentsRequest {
        parent: proposal.to_string(),
        page_size: 100,
        pending_review,
        ..Default::default()
    };
    let request = match (&viewer.organiser, &viewer.citizen) {
        (Some(organiser), _) => organiser.authed(message),
        (None, Some(citizen)) => citizen.authed(message),
        (None, None) => tonic::Request::new(message),
    };
    let listed = web.api.participation().list_comments(request).await?;
    Ok(listed
        .into_inner()
        .comments
        .into_iter()
        .map(|c| {
            let state = c.state();
            let mut note = String::new();
            if c.authored_by_caller || viewer.organiser.is_some() {
                note = [
                    p.comment_state(state).to_string(),
                    p.reports(c.report_count),
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            }
            CommentView {
                reportable: viewer.citizen.is_some()
                    && !c.authored_by_caller
                    && state == pa::CommentState::Visible,
                hidden: match state {
                    pa::CommentState::Removed => p.comment_removed,
                    _ => p.comment_hidden,
                },
                body: paragraphs(&c.body),
                author: c.author_display_name,
                date: paris_date(&c.create_time).unwrap_or_default(),
                name: c.name,
                note,
            }
        })
        .collect())
}

/// The proposal's page for `headers`' person, with what `problems` refused.
///
/// Over 60 lines: the page reads the process, the proposal, its place and comments, and
/// the organiser's queue, and lays each out for whoever is looking.
async fn page(
    web: &Web,
    headers: &HeaderMap,
    (id, proposal_id): (&str, &str),
    problems: Problems,
    kept: Kept,
) -> Response {
    let t = web.texts;
    let p = t.participation;
    let name = format!("processes/{id}/proposals/{proposal_id}");
    let (process, viewer) = match process_for(web, headers, id).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let request = viewer.request(pa::GetProposalRequest { name: name.clone() });
    let proposal = match web.api.participation().get_proposal(request).await {
        Ok(proposal) => proposal.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let listed = comments(web, &viewer, &name, false).await;
    let pending = match &viewer.organiser {
        Some(_) => comments(web, &viewer, &name, true).await,
        None => Ok(Vec::new()),
    };
    let place = place_link(web, &proposal.place).await;
    let (listed, pending, place) = match (listed, pending, place) {
        (Ok(l), Ok(q), Ok(p)) => (l, q, p),
        (Err(status), ..) | (_, Err(status), _) | (.., Err(status)) => {
            return super::from_status(t, &status);
        }
    };
    let step = active_step(&process);
    let state = proposal.state();
    let answer_form = viewer
        .organiser
        .as_ref()
        .filter(|_| {
            matches!(
                state,
                pa::ProposalState::Published | pa::ProposalState::Evaluating
            )
        })
        .map(|_| AnswerForm {
            decisions: [
                pa::ProposalState::Evaluating,
                pa::ProposalState::Accepted,
                pa::ProposalState::Rejected,
            ]
            .into_iter()
            .filter(|d| *d != state)
            .map(|d| Choice {
                value: super::enum_code(d),
                label: t.organising.decision(d).to_string(),
                selected: kept.decision == super::enum_code(d),
            })
            .collect(),
            answer: kept.answer.clone(),
            etag: proposal.etag.clone(),
        });
    let page = ProposalPage {
        t,
        process_href: process_href(&process.name),
        href: super::participation::item_href(&proposal.name),
        state: p.proposal_state(state),
        theme: proposal.theme.clone(),
        author: proposal.author_display_name.clone(),
        date: paris_date(&proposal.create_time).unwrap_or_default(),
        body: paragraphs(&proposal.body),
        place,
        supports: p.supports(
            proposal.support_count,
            process.support_threshold,
            proposal.threshold_reached,
        ),
        answer: proposal.answer.as_ref().map(|a| {
            (
                paris_date(&a.answer_time).unwrap_or_default(),
                paragraphs(&a.text),
            )
        }),
        supports_open: step.is_some_and(|s| s.supports_open)
            && matches!(
                state,
                pa::ProposalState::Published | pa::ProposalState::Evaluating
            ),
        supported: proposal.supported_by_caller,
        withdrawable: proposal.authored_by_caller
            && state == pa::ProposalState::Published
            && proposal.support_count == 0,
        comments: listed,
        comments_open: step.is_some_and(|s| s.comments_open)
            && state != pa::ProposalState::Withdrawn,
        comment: kept.comment,
        answer_form,
        pending,
        problems,
        viewer,
        title: proposal.title,
        process_title: process.title,
    };
    let status = page.problems.status();
    forms::private(status, &page)
}

/// `GET /participation/{id}/propositions/{proposal}`.
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

/// A form of a proposal's page.
#[derive(Debug, Default, Deserialize)]
pub struct ProposalForm {
    #[serde(default)]
    csrf: String,
    /// `soutenir`, `retirer-soutien`, `commenter`, `signaler`, `retirer-proposition`
    /// (citizens); `repondre`,
    /// `restaurer`, `retirer` (the organiser).
    #[serde(default)]
    action: String,
    #[serde(default)]
    commentaire: String,
    /// The comment reported or decided on.
    #[serde(default)]
    comment: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reponse: String,
    #[serde(default)]
    etag: String,
}

/// The API's fields the forms of this page show.
const FIELDS: &FieldTexts = &[
    (
        "body",
        "commentaire",
        "Écrivez entre 2 et 2 000 caractères.",
    ),
    (
        "answer",
        "reponse",
        "Écrivez la réponse (5 000 caractères au plus) : elle est obligatoire pour \
         retenir ou non la proposition.",
    ),
    ("state", "decision", "Choisissez une décision."),
];

/// `POST /participation/{id}/propositions/{proposal}`: what a citizen or the organiser
/// does there, then back to the page (at the part that changed).
pub async fn act(
    State(web): State<Arc<Web>>,
    Path((id, proposal_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<ProposalForm>,
) -> Response {
    let t = web.texts;
    let name = format!("processes/{id}/proposals/{proposal_id}");
    let href = format!("/participation/{id}/propositions/{proposal_id}");
    let organiser_action = matches!(form.action.as_str(), "repondre" | "restaurer" | "retirer");
    let outcome = if organiser_action {
        organiser_acts(&web, &headers, &name, &form).await
    } else {
        citizen_acts(&web, &headers, &name, &form).await
    };
    let status = match outcome {
        Ok(anchor) => return forms::see_other(&format!("{href}#{anchor}"), None),
        Err(Outcome::Answer(response)) => return *response,
        Err(Outcome::Refused(status)) => status,
    };
    if refusal_reason(&status) == "NOT_A_PARTICIPANT" {
        return to_registration(&href);
    }
    let p = t.participation;
    match forms::refused(t, status, FIELDS, |r| p.refusal(r)) {
        Ok(problems) => {
            let kept = Kept {
                comment: form.commentaire,
                answer: form.reponse,
                decision: form.decision,
            };
            page(&web, &headers, (&id, &proposal_id), problems, kept).await
        }
        Err(response) => *response,
    }
}

/// A citizen's action on proposal `name`; the page's anchor to go back to.
async fn citizen_acts(
    web: &Web,
    headers: &HeaderMap,
    name: &str,
    form: &ProposalForm,
) -> Result<&'static str, Outcome> {
    let citizen = forms::submitted_by_citizen(web, headers, &form.csrf)?;
    let mut api = web.api.participation();
    let name = name.to_string();
    match form.action.as_str() {
        "retirer-proposition" => {
            api.withdraw_proposal(citizen.authed(pa::WithdrawProposalRequest { name }))
                .await?;
            Ok("contenu")
        }
        "soutenir" => {
            api.support_proposal(citizen.authed(pa::SupportProposalRequest { name }))
                .await?;
            Ok("soutiens")
        }
        "retirer-soutien" => {
            api.withdraw_support(citizen.authed(pa::WithdrawSupportRequest { name }))
                .await?;
            Ok("soutiens")
        }
        "signaler" => {
            let request = pa::ReportCommentRequest {
                name: form.comment.clone(),
            };
            api.report_comment(citizen.authed(request)).await?;
            Ok("commentaires")
        }
        "commenter" => {
            let request = pa::CreateCommentRequest {
                parent: name,
                body: form.commentaire.trim().to_string(),
            };
            api.create_comment(citizen.authed(request)).await?;
            Ok("commentaires")
        }
        _ => Err(tonic::Status::invalid_argument("action").into()),
    }
}

/// The organiser's action on proposal `name`; the page's anchor to go back to.
async fn organiser_acts(
    web: &Web,
    headers: &HeaderMap,
    name: &str,
    form: &ProposalForm,
) -> Result<&'static str, Outcome> {
    let acting = forms::submitted_for_member(web, headers, &form.csrf)?;
    let mut api = web.api.participation();
    if form.action == "repondre" {
        let state =
            super::enum_of_code::<pa::ProposalState>(&form.decision).unwrap_or_default() as i32;
        let request = pa::AnswerProposalRequest {
            name: name.to_string(),
            state,
            answer: form.reponse.trim().to_string(),
            etag: form.etag.clone(),
        };
        api.answer_proposal(acting.authed(request)).await?;
        return Ok("reponse");
    }
    if !form.comment.starts_with(&format!("{name}/comments/")) {
        return Err(tonic::Status::invalid_argument("comment").into());
    }
    let decision = if form.action == "restaurer" {
        pa::ModerationDecision::Restore
    } else {
        pa::ModerationDecision::Remove
    };
    let request = pa::ModerateCommentRequest {
        name: form.comment.clone(),
        decision: decision as i32,
    };
    api.moderate_comment(acting.authed(request)).await?;
    Ok("moderation")
}
