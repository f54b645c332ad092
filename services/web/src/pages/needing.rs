//! A member's needs: the form that posts one (`/espace/besoins/nouveau`: `CreateNeed`
//! with the form's request id — what is sought, its kind, where and how far, how much)
//! and, on a need's page for the member that posted it, the resources that match it
//! (`ListMatches`) and the button that closes it (`CloseNeed`).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::sharing::{self as sp, QuantityUnit, ResourceKind};
use serde::Deserialize;

use super::common::{Choice, id_of};
use super::forms::{self, Acting, FieldTexts, Problems};
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;
use crate::{Web, fr};

/// Where the form is.
pub const NEW_PATH: &str = "/espace/besoins/nouveau";

/// The form's fields, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct NeedFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    demande: String,
    #[serde(default)]
    description: String,
    /// A resource kind's code, or empty for any.
    #[serde(default, rename = "type")]
    kind: String,
    /// A listed place's id, or empty.
    #[serde(default)]
    lieu: String,
    /// Kilometres, as typed.
    #[serde(default)]
    rayon: String,
    /// A material's quantity, as typed.
    #[serde(default)]
    quantite: String,
    #[serde(default)]
    unite: String,
}

#[derive(Template)]
#[template(path = "need_form.html")]
struct NeedForm {
    t: &'static Texts,
    csrf: String,
    request_id: String,
    fields: NeedFields,
    kinds: Vec<Choice>,
    places: Vec<Choice>,
    units: Vec<Choice>,
    problems: Problems,
}

impl NeedForm {
    fn field(&self, name: &str) -> &str {
        self.problems.field(name)
    }
}

/// How the form names the API's fields of `CreateNeed`.
const NEED_FIELDS: &FieldTexts = &[
    (
        "need.description",
        "description",
        "Dites en 1 à 500 caractères ce que vous cherchez.",
    ),
    (
        "need.place",
        "lieu",
        "Choisissez un lieu ouvert de la carte.",
    ),
    (
        "need.radius_km",
        "rayon",
        "Indiquez une distance positive en kilomètres.",
    ),
    (
        "need.quantity",
        "quantite",
        "Indiquez une quantité positive et son unité.",
    ),
];

async fn form_page(
    web: &Web,
    acting: &Acting,
    status: StatusCode,
    fields: NeedFields,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let places = match super::nearby::listed_places(web).await {
        Ok(places) => places,
        Err(status) => return super::from_status(t, &status),
    };
    forms::private(
        status,
        &NeedForm {
            t,
            csrf: acting.session.csrf.clone(),
            request_id: forms::request_id(&fields.demande),
            kinds: enum_values::<ResourceKind>()
                .map(|k| Choice {
                    selected: enum_code(k) == fields.kind,
                    value: enum_code(k),
                    label: t.sharing.resource_kind(k).to_string(),
                })
                .collect(),
            places: places
                .into_iter()
                .map(|p| Choice {
                    selected: p.id == fields.lieu,
                    value: p.id,
                    label: p.label,
                })
                .collect(),
            units: enum_values::<QuantityUnit>()
                .map(|u| Choice {
                    selected: enum_code(u) == fields.unite,
                    value: enum_code(u),
                    label: t.sharing.quantity_of(2.0, u).replace("2\u{a0}", ""),
                })
                .collect(),
            fields,
            problems,
        },
    )
}

/// `GET /espace/besoins/nouveau`.
pub async fn new(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    match forms::page_for_member(&web, &headers) {
        Ok(acting) => {
            form_page(
                &web,
                &acting,
                StatusCode::OK,
                NeedFields::default(),
                Problems::none(),
            )
            .await
        }
        Err(answer) => *answer,
    }
}

/// The need the form describes, or what is wrong with its fields.
fn need_of(t: &Texts, fields: &NeedFields) -> Result<sp::Need, Problems> {
    let mut problems = Problems::none();
    let mut refuse = |field: &'static str| {
        let text = NEED_FIELDS
            .iter()
            .find(|(_, name, _)| *name == field)
            .map(|(_, _, text)| *text)
            .unwrap_or_default();
        problems.fields.insert(field, text.to_string());
    };
    let radius_km = match fields.rayon.trim() {
        "" => 0.0,
        typed => fr::parse_decimal(typed)
            .filter(|km| *km >= 0.0)
            .unwrap_or_else(|| {
                refuse("rayon");
                0.0
            }),
    };
    let quantity = match fields.quantite.trim() {
        "" => None,
        typed => match (
            fr::parse_decimal(typed).filter(|a| *a > 0.0),
            enum_of_code::<QuantityUnit>(&fields.unite),
        ) {
            (Some(amount), Some(unit)) => Some(sp::Quantity {
                amount,
                unit: unit as i32,
            }),
            _ => {
                refuse("quantite");
                None
            }
        },
    };
    if problems.any() {
        problems.general = Some(t.forms.check_fields.to_string());
        return Err(problems);
    }
    Ok(sp::Need {
        description: fields.description.trim().to_string(),
        kind: enum_of_code::<ResourceKind>(&fields.kind)
            .map(|k| k as i32)
            .unwrap_or_default(),
        place: match fields.lieu.as_str() {
            "" => String::new(),
            id => format!("places/{id}"),
        },
        radius_km,
        quantity,
        ..Default::default()
    })
}

/// `POST /espace/besoins/nouveau`: posts the need; to its page when made.
pub async fn create(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(fields): Form<NeedFields>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &fields.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let need = match need_of(t, &fields) {
        Ok(need) => need,
        Err(problems) => {
            return form_page(&web, &acting, problems.status(), fields, problems).await;
        }
    };
    let request = acting.authed(sp::CreateNeedRequest {
        need: Some(need),
        request_id: forms::request_id(&fields.demande),
    });
    match web.api.sharing().create_need(request).await {
        Ok(need) => {
            let id = id_of(&need.into_inner().name, "needs").to_string();
            forms::see_other(&format!("/besoins/{id}"), None)
        }
        Err(status) => match forms::refused(t, status, NEED_FIELDS, |r| t.offers.refusal(r)) {
            Ok(problems) => form_page(&web, &acting, problems.status(), fields, problems).await,
            Err(page) => *page,
        },
    }
}

/// A resource that matches a need, as its page lists it for the member that posted it.
pub struct MatchRow {
    /// `/ressources/{id}`.
    pub href: String,
    /// The resource's title.
    pub title: String,
    /// Free at the need's time, or enough left, and how far.
    pub facts: String,
}

/// What the member that posted `need` sees of it: the resources that match, best first.
pub async fn matches(
    web: &Web,
    acting: &Acting,
    need: &str,
) -> Result<Vec<MatchRow>, tonic::Status> {
    let t = web.texts;
    let request = acting.authed(sp::ListMatchesRequest {
        need: need.to_string(),
        ..Default::default()
    });
    let found = web.api.sharing().list_matches(request).await?.into_inner();
    Ok(found
        .matches
        .into_iter()
        .filter_map(|m| {
            let resource = m.resource?;
            let mut facts = vec![t.needs.match_available(m.available).to_string()];
            if m.distance_km >= 0.0 {
                facts.push(fr::distance_km(m.distance_km));
            }
            Some(MatchRow {
                href: format!("/ressources/{}", id_of(&resource.name, "resources")),
                title: resource.title,
                facts: facts.join(", "),
            })
        })
        .collect())
}

/// A need's closing form.
#[derive(Debug, Default, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /besoins/{id}/clore`: the member that posted it closes it.
pub async fn close(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CloseForm>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &form.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let request = acting.authed(sp::CloseNeedRequest {
        name: format!("needs/{id}"),
    });
    match web.api.sharing().close_need(request).await {
        Ok(_) => forms::see_other("/besoins?fait=clos", None),
        Err(status) => super::from_status(t, &super::common::item_status(status)),
    }
}
