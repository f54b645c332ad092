//! Applying to a programme and instructing the applications, for a person acting for a
//! member: the form of a programme's page, which first computes the aid and its
//! breakdown (`CreateApplication` with `validate_only`) and then submits it with the
//! form's request id (`POST /programmes/{id}/demander`); "Mes demandes d'aide"
//! (`/espace/demandes`), the member's applications, withdrawable while submitted and
//! completed when sent back; the rows both it and [`super::instruction`] list. Their
//! forms are handled in [`super::decisions`].

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::projects::{self as pp, ApplicationState, ProgrammeState};
use serde::Deserialize;

use super::common::member_names;
use super::forms::{self, Acting, FieldTexts, Problems};
use crate::texts::Texts;
use crate::{Web, fr};

/// Applications read per programme and state on the member's pages.
const LISTED: i32 = 200;

/// The application form's fields, as typed (kept when a submission is refused).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ApplyFields {
    /// The session's CSRF secret.
    #[serde(default)]
    pub csrf: String,
    /// The form's request id.
    #[serde(default)]
    pub demande: String,
    /// Units asked for.
    #[serde(default)]
    pub unites: String,
    /// What the aid is for.
    #[serde(default)]
    pub objet: String,
    /// `projects/{id}`, or empty.
    #[serde(default)]
    pub projet: String,
    /// The beneficiary's SIRET, or empty.
    #[serde(default)]
    pub siret: String,
    /// `calcul` (compute the aid) or `depot` (submit).
    #[serde(default)]
    pub etape: String,
}

/// One of the member's projects, offered by the form.
pub struct ProjectChoice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

/// The application form of a programme's page.
pub struct ApplyForm {
    pub(super) action: String,
    pub(super) csrf: String,
    pub(super) request_id: String,
    pub(super) units_label: String,
    pub(super) fields: ApplyFields,
    pub(super) projects: Vec<ProjectChoice>,
    pub(super) problems: Problems,
    /// The aid computed for what was typed: its total and its breakdown in one line.
    pub(super) computed: Option<(String, String)>,
}

impl ApplyForm {
    /// What is wrong with field `name`, empty when nothing.
    pub(super) fn field(&self, name: &str) -> &str {
        self.problems.field(name)
    }
}

/// What a programme's page offers to apply to it.
pub enum Applying {
    /// Not signed in, or acting for no member: the sign-in link.
    SignIn,
    /// The member acted for funds it: the link to the queue.
    Funder,
    /// The programme takes no application now.
    NotOpen,
    /// The form.
    Form(Box<ApplyForm>),
}

/// How the form names the API's fields of `CreateApplication`.
const APPLICATION_FIELDS: &FieldTexts = &[
    (
        "application.units",
        "unites",
        "Indiquez un nombre d'unités, au moins 1 et dans la limite du programme.",
    ),
    (
        "application.purpose",
        "objet",
        "Indiquez l'objet de la demande (500 caractères au plus).",
    ),
    (
        "application.project",
        "projet",
        "Choisissez un de vos projets.",
    ),
    (
        "application.beneficiary_siret",
        "siret",
        "Un SIRET compte 14 chiffres et une clé valide.",
    ),
];

/// The application part of a programme's page for the person behind `headers`.
pub async fn applying(
    web: &Web,
    headers: &HeaderMap,
    programme: &pp::Programme,
    fields: ApplyFields,
    problems: Problems,
    computed: Option<(String, String)>,
) -> Applying {
    let Some(acting) = forms::acting_of(web, headers) else {
        return Applying::SignIn;
    };
    if acting.member == programme.funder {
        return Applying::Funder;
    }
    if ProgrammeState::try_from(programme.state) != Ok(ProgrammeState::Open) {
        return Applying::NotOpen;
    }
    let projects = member_projects(web, &acting).await.unwrap_or_default();
    let request_id = forms::request_id(&fields.demande);
    Applying::Form(Box::new(ApplyForm {
        action: format!("/{}/demander", programme.name),
        csrf: acting.session.csrf.clone(),
        request_id,
        units_label: web
            .texts
            .applications
            .units_label
            .replace("{}", &programme.unit_label),
        projects: projects
            .into_iter()
            .map(|(value, label)| ProjectChoice {
                selected: value == fields.projet,
                value,
                label,
            })
            .collect(),
        fields,
        problems,
        computed,
    }))
}

/// The member's projects, `(projects/{id}, title)`.
async fn member_projects(
    web: &Web,
    acting: &Acting,
) -> Result<Vec<(String, String)>, tonic::Status> {
    let request = acting.authed(pp::ListProjectsRequest {
        page_size: 100,
        member: acting.member.clone(),
        ..Default::default()
    });
    Ok(web
        .api
        .projects()
        .list_projects(request)
        .await?
        .into_inner()
        .projects
        .into_iter()
        .map(|p| (p.name, p.title))
        .collect())
}

/// `POST /programmes/{id}/demander`: computes the aid (`etape=calcul`) or submits.
pub async fn apply(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<ApplyFields>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &fields.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let units: i32 = match fields.unites.trim().parse() {
        Ok(units) if units >= 1 => units,
        _ => {
            let mut problems = Problems::general(t.forms.check_fields);
            problems
                .fields
                .insert("unites", APPLICATION_FIELDS[0].2.to_string());
            return super::programmes::page(&web, &id, &headers, fields, problems, None).await;
        }
    };
    let preview = fields.etape != "depot";
    // A preview writes nothing: its request id is the submission's, not its own.
    let request_id = if preview {
        String::new()
    } else {
        forms::request_id(&fields.demande)
    };
    let request = acting.authed(pp::CreateApplicationRequest {
        parent: format!("programmes/{id}"),
        application: Some(pp::Application {
            units,
            purpose: fields.objet.trim().to_string(),
            project: fields.projet.trim().to_string(),
            beneficiary_siret: fields.siret.trim().to_string(),
            ..Default::default()
        }),
        request_id,
        validate_only: preview,
    });
    match web.api.projects().create_application(request).await {
        Ok(made) if preview => match computed_aid(&web, &made.into_inner()).await {
            Ok(computed) => {
                let none = Problems::none();
                super::programmes::page(&web, &id, &headers, fields, none, Some(computed)).await
            }
            Err(status) => super::from_status(t, &status),
        },
        Ok(made) => submitted(&made.into_inner()),
        Err(status) => {
            match forms::refused(t, status, APPLICATION_FIELDS, |r| t.applications.refusal(r)) {
                Ok(problems) => {
                    super::programmes::page(&web, &id, &headers, fields, problems, None).await
                }
                Err(page) => *page,
            }
        }
    }
}

/// To the member's applications, at the one just submitted.
fn submitted(made: &pp::Application) -> Response {
    let to = format!("/espace/demandes?fait=deposee#{}", anchor(&made.name));
    forms::see_other(&to, None)
}

/// The aid `made` computes, as the form shows it: its total and its breakdown in one
/// line, each funder named.
async fn computed_aid(
    web: &Web,
    made: &pp::Application,
) -> Result<(String, String), tonic::Status> {
    let funders: Vec<String> = made.breakdown.iter().map(|l| l.funder.clone()).collect();
    let names = member_names(web, funders).await?;
    let lines: Vec<(String, i64)> = made
        .breakdown
        .iter()
        .map(|l| {
            let name = names.get(&l.funder).cloned().unwrap_or_default();
            (name, l.amount_cents)
        })
        .collect();
    let total = lines.iter().map(|(_, cents)| cents).sum::<i64>();
    Ok((fr::euros(total), web.texts.applications.breakdown(&lines)))
}

/// An application in a list of the member's pages.
pub(super) struct Row {
    pub(super) name: String,
    pub(super) programme: String,
    pub(super) applicant: String,
    pub(super) units: String,
    pub(super) purpose: String,
    pub(super) aid: String,
    pub(super) state: &'static str,
    pub(super) reason: String,
    /// Submitted: may be decided or withdrawn.
    pub(super) submitted: bool,
    /// Approved: may be paid.
    pub(super) approved: bool,
    /// Sent back to its applicant: may be completed.
    pub(super) to_complete: bool,
    /// What the instructor asked to complete, and the applicant's answer.
    pub(super) asked: String,
    pub(super) answered: String,
    /// The instructor's opinion, as a sentence (instructors only see it).
    pub(super) opinion: String,
    /// What the funder paid of it so far; empty when nothing.
    pub(super) paid: String,
}

impl Row {
    /// The row's id in the page, `demande-{id}`: where the form that made it leads.
    pub(super) fn anchor(&self) -> String {
        anchor(&self.name)
    }
}

/// `demande-{id}` for `programmes/{p}/applications/{id}`.
fn anchor(name: &str) -> String {
    format!("demande-{}", name.rsplit('/').next().unwrap_or_default())
}

pub(super) fn row(
    t: &Texts,
    a: &pp::Application,
    programme: &str,
    names: &BTreeMap<String, String>,
) -> Row {
    let state = ApplicationState::try_from(a.state).unwrap_or_default();
    Row {
        name: a.name.clone(),
        programme: programme.to_string(),
        applicant: names.get(&a.applicant).cloned().unwrap_or_default(),
        units: fr::integer(i64::from(a.units)),
        purpose: a.purpose.clone(),
        aid: fr::euros(a.aid_cents),
        state: t.applications.state(state),
        reason: t.applications.reason(&a.state_reason),
        submitted: state == ApplicationState::Submitted,
        approved: state == ApplicationState::Approved,
        to_complete: state == ApplicationState::ToComplete,
        asked: a.completion_request.clone(),
        answered: a.completion_answer.clone(),
        opinion: opinion(t, a),
        paid: if a.paid_cents > 0 {
            fr::euros(a.paid_cents)
        } else {
            String::new()
        },
    }
}

/// The instructor's opinion of `a` as a sentence, empty when none was given or the
/// reader may not see it.
fn opinion(t: &Texts, a: &pp::Application) -> String {
    let Some(instruction) = a.instruction.as_ref().filter(|i| !i.opinion.is_empty()) else {
        return String::new();
    };
    let i = t.instruction;
    let lead = match pp::Recommendation::try_from(instruction.recommendation) {
        Ok(pp::Recommendation::Reject) => i.opinion_unfavourable,
        _ => i.opinion_favourable,
    };
    format!("{lead} : {}", instruction.opinion)
}

/// Every programme, open or closed.
pub(super) async fn programmes(web: &Web) -> Result<Vec<pp::Programme>, tonic::Status> {
    Ok(web
        .api
        .projects()
        .list_programmes(pp::ListProgrammesRequest {
            page_size: 100,
            ..Default::default()
        })
        .await?
        .into_inner()
        .programmes)
}

/// The applications of `programme` the member may read, in `states` (all when empty),
/// by `applicant` when given.
pub(super) async fn applications(
    web: &Web,
    acting: &Acting,
    programme: &str,
    states: &[ApplicationState],
    applicant: &str,
) -> Result<Vec<pp::Application>, tonic::Status> {
    let request = acting.authed(pp::ListApplicationsRequest {
        parent: programme.to_string(),
        page_size: LISTED,
        states: states.iter().map(|s| *s as i32).collect(),
        applicant: applicant.to_string(),
        ..Default::default()
    });
    Ok(web
        .api
        .projects()
        .list_applications(request)
        .await?
        .into_inner()
        .applications)
}

/// What the member's pages say after a form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    pub(super) fait: String,
}

pub(super) fn done_text(t: &Texts, done: &Done) -> Option<&'static str> {
    let a = t.applications;
    match done.fait.as_str() {
        "deposee" => Some(a.submitted_done),
        "accordee" => Some(a.approved_done),
        "rejetee" => Some(a.rejected_done),
        "payee" => Some(a.paid_done),
        "retiree" => Some(a.withdrawn_done),
        "a-completer" => Some(t.instruction.completion_asked_done),
        "avis" => Some(t.instruction.opinion_done),
        "acompte" => Some(t.instruction.advance_done),
        "annulee" => Some(t.instruction.cancelled_done),
        "enveloppe" => Some(t.instruction.envelope_done),
        "completee" => Some(t.instruction.completed_done),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "applications.html")]
struct MinePage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    rows: Vec<Row>,
}

/// `GET /espace/demandes`: the member's applications, every programme.
pub async fn mine(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let done = done_text(web.texts, &done);
    mine_page(&web, &acting, StatusCode::OK, done, Problems::none()).await
}

pub(super) async fn mine_page(
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
    let mut rows = Vec::new();
    for programme in &listed {
        match applications(web, acting, &programme.name, &[], &acting.member).await {
            Ok(found) => rows.extend(
                found
                    .iter()
                    .map(|a| row(t, a, &programme.title, &BTreeMap::new())),
            ),
            Err(status) => return super::from_status(t, &status),
        }
    }
    forms::private(
        status,
        &MinePage {
            t,
            csrf: acting.session.csrf.clone(),
            done,
            problems,
            rows,
        },
    )
}
