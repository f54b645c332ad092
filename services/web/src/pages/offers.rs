//! What a member offers, for a person acting for it: "Mes ressources"
//! (`/espace/ressources`: every resource of the member with its state, withdrawn with a
//! reason or put back), and the form that offers a new one
//! (`/espace/ressources/nouvelle`: `CreateResource` with the form's request id — its
//! kind, place, terms, booking rules for what is booked by slot, quantity for a
//! material), refusals in French next to their fields, what was typed kept.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::sharing::{self as sp, CostMode, QuantityUnit, ResourceKind, ResourceState};
use serde::Deserialize;

use super::common::id_of;
use super::forms::{self, Acting, FieldTexts, Problems};
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;
use crate::{Web, fr};

/// The offer form's fields, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct OfferFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    demande: String,
    /// A resource kind's code (`equipment`).
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    titre: String,
    #[serde(default)]
    description: String,
    /// A listed place's id, or empty.
    #[serde(default)]
    lieu: String,
    /// `gratuit` or `frais`.
    #[serde(default)]
    conditions: String,
    /// Euros per day, as typed.
    #[serde(default)]
    prix: String,
    /// Euros, as typed.
    #[serde(default)]
    caution: String,
    /// Minutes kept free after each reservation.
    #[serde(default)]
    battement: String,
    /// Longest reservation, in hours.
    #[serde(default)]
    duree: String,
    /// How far ahead, in days.
    #[serde(default)]
    avance: String,
    /// Hours the owner has to answer a request before it expires.
    #[serde(default)]
    reponse: String,
    /// A material's quantity, as typed.
    #[serde(default)]
    quantite: String,
    /// A quantity unit's code (`tonne`).
    #[serde(default)]
    unite: String,
    /// Commitments, comma-separated.
    #[serde(default)]
    engagements: String,
}

/// One option of a `<select>`.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    t: &'static Texts,
    csrf: String,
    request_id: String,
    fields: OfferFields,
    kinds: Vec<Choice>,
    places: Vec<Choice>,
    units: Vec<Choice>,
    problems: Problems,
}

impl OfferPage {
    fn field(&self, name: &str) -> &str {
        self.problems.field(name)
    }
}

/// How the form names the API's fields of `CreateResource`.
const RESOURCE_FIELDS: &FieldTexts = &[
    ("resource.kind", "type", "Choisissez le type de ressource."),
    (
        "resource.title",
        "titre",
        "Donnez un titre de 1 à 200 caractères.",
    ),
    (
        "resource.description",
        "description",
        "La description fait au plus 5 000 caractères.",
    ),
    (
        "resource.place",
        "lieu",
        "Choisissez un lieu ouvert de la carte.",
    ),
    (
        "resource.conditions.price_cents_per_day",
        "prix",
        "Indiquez un prix par jour entre 0 et 100 000 €.",
    ),
    (
        "resource.conditions.deposit_cents",
        "caution",
        "Indiquez une caution entre 0 et 1 000 000 €.",
    ),
    (
        "resource.booking_rules.turnaround_minutes",
        "battement",
        "Le battement fait au plus 10 080 minutes (une semaine).",
    ),
    (
        "resource.booking_rules.max_duration_hours",
        "duree",
        "Indiquez une durée maximale en heures.",
    ),
    (
        "resource.booking_rules.max_advance_days",
        "avance",
        "Indiquez un nombre de jours.",
    ),
    (
        "resource.booking_rules.answer_within_hours",
        "reponse",
        "Indiquez un délai de réponse en heures, au plus 720 (30 jours).",
    ),
    (
        "resource.quantity",
        "quantite",
        "Indiquez la quantité offerte et son unité (matériaux seulement).",
    ),
    (
        "resource.eco_labels",
        "engagements",
        "20 engagements au plus, de 100 caractères chacun.",
    ),
];

/// `GET /espace/ressources/nouvelle`.
pub async fn new(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let fields = OfferFields {
        conditions: "gratuit".into(),
        ..Default::default()
    };
    offer_page(&web, &acting, StatusCode::OK, fields, Problems::none()).await
}

async fn offer_page(
    web: &Web,
    acting: &Acting,
    status: StatusCode,
    fields: OfferFields,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let places = match super::nearby::listed_places(web).await {
        Ok(places) => places,
        Err(status) => return super::from_status(t, &status),
    };
    let request_id = forms::request_id(&fields.demande);
    forms::private(
        status,
        &OfferPage {
            t,
            csrf: acting.session.csrf.clone(),
            request_id,
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

/// Reads the form's fields one by one, noting what is wrong with each in the words of
/// [`RESOURCE_FIELDS`].
#[derive(Default)]
struct Reading {
    problems: Problems,
}

impl Reading {
    fn refuse(&mut self, field: &'static str) {
        let text = RESOURCE_FIELDS
            .iter()
            .find(|(_, name, _)| *name == field)
            .map(|(_, _, text)| *text)
            .unwrap_or_default();
        self.problems.fields.insert(field, text.to_string());
    }

    /// A whole number as typed, 0 when empty.
    fn whole(&mut self, field: &'static str, text: &str) -> i32 {
        if text.trim().is_empty() {
            return 0;
        }
        text.trim()
            .parse()
            .ok()
            .filter(|n: &i32| *n >= 0)
            .unwrap_or_else(|| {
                self.refuse(field);
                0
            })
    }

    /// Euros as typed (`25`, `25,50`) in cents, 0 when empty.
    fn cents(&mut self, field: &'static str, text: &str) -> i64 {
        if text.trim().is_empty() {
            return 0;
        }
        match fr::parse_cents(text) {
            Some(cents) => cents,
            None => {
                self.refuse(field);
                0
            }
        }
    }

    /// A material's quantity and unit.
    fn quantity(&mut self, fields: &OfferFields) -> Option<sp::Quantity> {
        let amount = fr::parse_decimal(&fields.quantite).filter(|a| *a > 0.0);
        let unit = enum_of_code::<QuantityUnit>(&fields.unite);
        match (amount, unit) {
            (Some(amount), Some(unit)) => Some(sp::Quantity {
                amount,
                unit: unit as i32,
            }),
            _ => {
                self.refuse("quantite");
                None
            }
        }
    }
}

/// The resource the form describes, or what is wrong with its fields.
fn resource_of(t: &Texts, fields: &OfferFields) -> Result<sp::Resource, Problems> {
    let mut reading = Reading::default();
    let kind = enum_of_code::<ResourceKind>(&fields.kind);
    if kind.is_none() {
        reading.refuse("type");
    }
    let rules = sp::BookingRules {
        turnaround_minutes: reading.whole("battement", &fields.battement),
        max_duration_hours: reading.whole("duree", &fields.duree),
        max_advance_days: reading.whole("avance", &fields.avance),
        answer_within_hours: reading.whole("reponse", &fields.reponse),
    };
    let shared_costs = fields.conditions == "frais";
    let price = reading.cents("prix", &fields.prix);
    let conditions = sp::Conditions {
        mode: if shared_costs {
            CostMode::CostShared
        } else {
            CostMode::Free
        } as i32,
        price_cents_per_day: if shared_costs { price } else { 0 },
        deposit_cents: reading.cents("caution", &fields.caution),
    };
    let quantity = match kind {
        Some(ResourceKind::Material) => reading.quantity(fields),
        _ => None,
    };
    let mut problems = reading.problems;
    if problems.any() {
        problems.general = Some(t.forms.check_fields.to_string());
        return Err(problems);
    }
    Ok(sp::Resource {
        kind: kind.map(|k| k as i32).unwrap_or_default(),
        title: fields.titre.trim().to_string(),
        description: fields.description.trim().to_string(),
        place: match fields.lieu.as_str() {
            "" => String::new(),
            id => format!("places/{id}"),
        },
        conditions: Some(conditions),
        booking_rules: kind
            .is_some_and(super::resources::bookable)
            .then_some(rules),
        quantity,
        eco_labels: fields
            .engagements
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        ..Default::default()
    })
}

/// `POST /espace/ressources/nouvelle`: offers the resource; to its page when made.
pub async fn create(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(fields): Form<OfferFields>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &fields.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let resource = match resource_of(t, &fields) {
        Ok(resource) => resource,
        Err(problems) => {
            return offer_page(
                &web,
                &acting,
                StatusCode::UNPROCESSABLE_ENTITY,
                fields,
                problems,
            )
            .await;
        }
    };
    let request_id = forms::request_id(&fields.demande);
    let request = acting.authed(sp::CreateResourceRequest {
        resource: Some(resource),
        request_id,
    });
    match web.api.sharing().create_resource(request).await {
        Ok(made) => {
            let made = made.into_inner();
            forms::see_other(
                &format!("/ressources/{}", id_of(&made.name, "resources")),
                None,
            )
        }
        Err(status) => match forms::refused(t, status, RESOURCE_FIELDS, |r| t.offers.refusal(r)) {
            Ok(problems) => offer_page(&web, &acting, problems.status(), fields, problems).await,
            Err(page) => *page,
        },
    }
}

/// One of the member's resources.
struct Row {
    name: String,
    etag: String,
    href: String,
    title: String,
    kind: &'static str,
    state: &'static str,
    reason: String,
    available: bool,
    withdrawn: bool,
}

#[derive(Template)]
#[template(path = "offers.html")]
struct OffersPage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    rows: Vec<Row>,
}

/// What "Mes ressources" says after a form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// `GET /espace/ressources`.
pub async fn mine(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let o = web.texts.offers;
    let done = match done.fait.as_str() {
        "retiree" => Some(o.withdrawn_done),
        "remise" => Some(o.restored_done),
        _ => None,
    };
    offers_page(&web, &acting, StatusCode::OK, done, Problems::none()).await
}

async fn offers_page(
    web: &Web,
    acting: &Acting,
    status: StatusCode,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let request = acting.authed(sp::ListResourcesRequest {
        page_size: 200,
        owner: acting.member.clone(),
        states: enum_values::<ResourceState>().map(|s| s as i32).collect(),
        ..Default::default()
    });
    let resources = match web.api.sharing().list_resources(request).await {
        Ok(found) => found.into_inner().resources,
        Err(status) => return super::from_status(t, &status),
    };
    let rows = resources
        .iter()
        .map(|r| {
            let state = ResourceState::try_from(r.state).unwrap_or_default();
            Row {
                name: r.name.clone(),
                etag: r.etag.clone(),
                href: format!("/ressources/{}", id_of(&r.name, "resources")),
                title: r.title.clone(),
                kind: t
                    .sharing
                    .resource_kind(ResourceKind::try_from(r.kind).unwrap_or_default()),
                state: t.offers.state(state),
                reason: r.state_reason.clone(),
                available: state == ResourceState::Available,
                withdrawn: state == ResourceState::Withdrawn,
            }
        })
        .collect();
    forms::private(
        status,
        &OffersPage {
            t,
            csrf: acting.session.csrf.clone(),
            done,
            problems,
            rows,
        },
    )
}

/// A form of "Mes ressources".
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// `resources/{id}`.
    #[serde(default)]
    ressource: String,
    #[serde(default)]
    etag: String,
    /// `retirer` or `remettre`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    motif: String,
}

/// `POST /espace/ressources`: withdraws or restores one of the member's resources.
pub async fn act(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &form.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let mut sharing = web.api.sharing();
    let (name, etag) = (form.ressource.clone(), form.etag.clone());
    let (answer, done) = match form.action.as_str() {
        "retirer" => (
            sharing
                .withdraw_resource(acting.authed(sp::WithdrawResourceRequest {
                    name,
                    reason: form.motif.trim().to_string(),
                    etag,
                }))
                .await,
            "retiree",
        ),
        "remettre" => (
            sharing
                .restore_resource(acting.authed(sp::RestoreResourceRequest { name, etag }))
                .await,
            "remise",
        ),
        _ => return super::not_found().await,
    };
    match answer {
        Ok(_) => forms::see_other(&format!("/espace/ressources?fait={done}"), None),
        Err(status) => match forms::refused(t, status, &[], |r| t.offers.refusal(r)) {
            Ok(problems) => offers_page(&web, &acting, StatusCode::CONFLICT, None, problems).await,
            Err(page) => *page,
        },
    }
}
