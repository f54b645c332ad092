//! Proposing (`/participation/{id}/proposer`): a citizen's proposal form — title, text,
//! one of the process's themes — sent with a request id so that sending it twice makes
//! one proposal; a refused field is told next to it with what was typed kept, and a
//! citizen with no pseudonym yet is sent to choose one, then brought back.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::{Choice, item_status, refusal_reason};
use super::forms::{self, FieldTexts, Problems};
use super::participation::{process_href, to_registration};
use crate::Web;
use crate::texts::Texts;

#[derive(Template)]
#[template(path = "proposal_form.html")]
struct ProposeForm {
    t: &'static Texts,
    process_title: String,
    href: String,
    csrf: String,
    request_id: String,
    title: String,
    body: String,
    themes: Vec<Choice>,
    /// The places of the map, for where it would happen.
    places: Vec<Choice>,
    problems: Problems,
}

/// The proposal form sent.
#[derive(Debug, Default, Deserialize)]
pub struct Proposed {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "demande")]
    request_id: String,
    #[serde(default)]
    titre: String,
    #[serde(default)]
    texte: String,
    #[serde(default)]
    theme: String,
    /// A place of the map (its id), or none.
    #[serde(default)]
    lieu: String,
}

const PROPOSAL_FIELDS: &FieldTexts = &[
    (
        "proposal.title",
        "titre",
        "Donnez un titre de 5 à 150 caractères.",
    ),
    (
        "proposal.body",
        "texte",
        "Décrivez votre proposition en 15 caractères au moins (10 000 au plus).",
    ),
    (
        "proposal.theme",
        "theme",
        "Choisissez un des thèmes proposés.",
    ),
];

/// The form for `process`, with what was typed and refused.
async fn propose_form(
    web: &Web,
    process: &pa::Process,
    csrf: String,
    sent: Proposed,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let mut themes = vec![Choice {
        value: String::new(),
        label: t.participation.no_theme.to_string(),
        selected: sent.theme.is_empty(),
    }];
    themes.extend(process.themes.iter().map(|theme| Choice {
        value: theme.clone(),
        label: theme.clone(),
        selected: *theme == sent.theme,
    }));
    let places = match super::nearby::listed_places(web).await {
        Ok(places) => places
            .into_iter()
            .map(|p| Choice {
                selected: p.id == sent.lieu,
                value: p.id,
                label: p.label,
            })
            .collect(),
        Err(status) => return super::from_status(t, &status),
    };
    let page = ProposeForm {
        t,
        places,
        process_title: process.title.clone(),
        href: process_href(&process.name),
        csrf,
        request_id: forms::request_id(&sent.request_id),
        title: sent.titre,
        body: sent.texte,
        themes,
        problems,
    };
    forms::private(page.problems.status(), &page)
}

/// `GET /participation/{id}/proposer`.
pub async fn new(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let t = web.texts;
    let Some(citizen) = forms::citizen_of(&web, &headers) else {
        return forms::see_other("/connexion", None);
    };
    let name = format!("processes/{id}");
    match web
        .api
        .participation()
        .get_process(pa::GetProcessRequest { name })
        .await
    {
        Ok(process) => {
            propose_form(
                &web,
                &process.into_inner(),
                citizen.session.csrf,
                Proposed::default(),
                Problems::none(),
            )
            .await
        }
        Err(status) => super::from_status(t, &item_status(status)),
    }
}

/// `POST /participation/{id}/proposer`: publishes the proposal, then its page.
pub async fn create(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(sent): Form<Proposed>,
) -> Response {
    let t = web.texts;
    let citizen = match forms::submitted_by_citizen(&web, &headers, &sent.csrf) {
        Ok(citizen) => citizen,
        Err(response) => return *response,
    };
    let mut api = web.api.participation();
    let parent = format!("processes/{id}");
    let request = pa::CreateProposalRequest {
        parent: parent.clone(),
        proposal: Some(pa::Proposal {
            title: sent.titre.trim().to_string(),
            body: sent.texte.trim().to_string(),
            theme: sent.theme.clone(),
            place: if sent.lieu.is_empty() {
                String::new()
            } else {
                format!("places/{}", sent.lieu)
            },
            ..Default::default()
        }),
        request_id: forms::request_id(&sent.request_id),
    };
    let status = match api.create_proposal(citizen.authed(request)).await {
        Ok(made) => {
            let href = super::participation::item_href(&made.into_inner().name);
            return forms::see_other(&href, None);
        }
        Err(status) => status,
    };
    if refusal_reason(&status) == "NOT_A_PARTICIPANT" {
        return to_registration(&format!("/participation/{id}/proposer"));
    }
    let problems = match forms::refused(t, status, PROPOSAL_FIELDS, |r| t.participation.refusal(r))
    {
        Ok(problems) => problems,
        Err(response) => return *response,
    };
    match api
        .get_process(pa::GetProcessRequest { name: parent })
        .await
    {
        Ok(process) => {
            propose_form(
                &web,
                &process.into_inner(),
                citizen.session.csrf,
                sent,
                problems,
            )
            .await
        }
        Err(status) => super::from_status(t, &item_status(status)),
    }
}
