//! Claiming reusable materials by quantity, for a person acting for a member: the form
//! of a material's page (`POST /ressources/{id}/prelever`: `CreateClaim` with the
//! form's request id, "accept less" when the visitor ticks it), a shortfall told in
//! French with what is left, and the claims of "Mes réservations": what the member
//! claimed (cancellable while held) and what was claimed of its materials (to hand over,
//! or to cancel: the quantity returns to the stock).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::sharing::{self as sp, ClaimState, QuantityUnit, ResourceKind};
use serde::Deserialize;

use super::common::{id_of, member_names};
use super::forms::{self, Acting, FieldTexts, Problems};
use super::resources::Typed;
use crate::texts::Texts;
use crate::{Web, fr};

/// Claims and materials read per list.
const LISTED: i32 = 100;

/// The claim form's fields, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ClaimFields {
    /// The session's CSRF secret.
    #[serde(default)]
    pub csrf: String,
    /// The form's request id.
    #[serde(default)]
    pub demande: String,
    /// The quantity, as typed (`12,5`).
    #[serde(default)]
    pub quantite: String,
    /// `oui` when less than asked will do.
    #[serde(default)]
    pub moins: String,
}

/// The claim form of a material's page.
pub struct ClaimForm {
    pub(super) action: String,
    pub(super) csrf: String,
    pub(super) request_id: String,
    /// The material's unit, written after the field (`t`, `m³`).
    pub(super) unit: String,
    pub(super) fields: ClaimFields,
    pub(super) problems: Problems,
}

impl ClaimForm {
    /// What is wrong with field `name`, empty when nothing.
    pub(super) fn field(&self, name: &str) -> &str {
        self.problems.field(name)
    }
}

/// What a material's page offers to claim it.
pub enum Claiming {
    /// Not signed in, or acting for no member.
    SignIn,
    /// The member acted for offers it.
    Own,
    /// Nothing left.
    Gone,
    /// The form.
    Form(Box<ClaimForm>),
}

/// The unit of a material, as written after a number (`t`, `m³`, `unités`).
pub fn unit_of(t: &Texts, resource: &sp::Resource) -> String {
    let unit = resource
        .quantity
        .as_ref()
        .map(|q| QuantityUnit::try_from(q.unit).unwrap_or_default())
        .unwrap_or_default();
    t.sharing
        .quantity_of(2.0, unit)
        .rsplit(fr::BEFORE_UNIT)
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The claim part of a material's page for the person behind `headers`.
pub fn claiming(
    web: &Web,
    headers: &HeaderMap,
    resource: &sp::Resource,
    fields: ClaimFields,
    problems: Problems,
) -> Claiming {
    let Some(acting) = forms::acting_of(web, headers) else {
        return Claiming::SignIn;
    };
    if acting.member == resource.owner {
        return Claiming::Own;
    }
    if resource.remaining.as_ref().is_some_and(|r| r.amount <= 0.0) {
        return Claiming::Gone;
    }
    let request_id = forms::request_id(&fields.demande);
    Claiming::Form(Box::new(ClaimForm {
        action: format!(
            "/ressources/{}/prelever",
            id_of(&resource.name, "resources")
        ),
        csrf: acting.session.csrf,
        request_id,
        unit: unit_of(web.texts, resource),
        fields,
        problems,
    }))
}

/// How the form names the API's field of `CreateClaim`.
const CLAIM_FIELDS: &FieldTexts = &[(
    "amount",
    "quantite",
    "Indiquez une quantité positive, avec trois décimales au plus.",
)];

/// `POST /ressources/{id}/prelever`: claims the quantity; to the member's reservations
/// when it is set aside, back to the material's page with the form as typed when not.
pub async fn claim(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<ClaimFields>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &fields.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let Some(amount) = fr::parse_decimal(&fields.quantite).filter(|a| *a > 0.0) else {
        let mut problems = Problems::general(t.forms.check_fields);
        problems
            .fields
            .insert("quantite", CLAIM_FIELDS[0].2.to_string());
        let typed = Typed {
            claim: fields,
            problems,
            ..Default::default()
        };
        return super::resources::page(&web, &id, &headers, typed).await;
    };
    let request_id = forms::request_id(&fields.demande);
    let request = acting.authed(sp::CreateClaimRequest {
        parent: format!("resources/{id}"),
        amount,
        accept_less: fields.moins == "oui",
        request_id,
    });
    match web.api.sharing().create_claim(request).await {
        Ok(_) => forms::see_other("/espace/reservations?fait=prelevee", None),
        Err(status) => {
            let resource = web
                .api
                .sharing()
                .get_resource(sp::GetResourceRequest {
                    name: format!("resources/{id}"),
                })
                .await
                .map(|r| r.into_inner())
                .ok();
            let unit = resource.as_ref().map(|r| unit_of(t, r)).unwrap_or_default();
            let refusal = |r: &_| t.bookings.claim_refusal(r, &unit);
            let problems = match forms::refused(t, status, CLAIM_FIELDS, refusal) {
                Ok(problems) => problems,
                Err(page) => return *page,
            };
            let typed = Typed {
                claim: fields,
                problems,
                ..Default::default()
            };
            super::resources::page(&web, &id, &headers, typed).await
        }
    }
}

/// A claim in a list of "Mes réservations".
pub struct ClaimRow {
    pub(super) name: String,
    pub(super) resource: String,
    pub(super) resource_href: String,
    pub(super) quantity: String,
    pub(super) claimant: String,
    pub(super) state: &'static str,
    /// Set aside, not yet handed over: may be collected or cancelled.
    pub(super) held: bool,
}

/// The claims of "Mes réservations": what the member claimed, and what was claimed of
/// its materials.
pub struct MemberClaims {
    pub(super) mine: Vec<ClaimRow>,
    pub(super) on_mine: Vec<ClaimRow>,
}

/// The member's claims and the claims on its materials.
pub async fn of_member(web: &Web, acting: &Acting) -> Result<MemberClaims, tonic::Status> {
    let t = web.texts;
    let list = |parent: String, claimant: String| {
        let mut sharing = web.api.sharing();
        let request = acting.authed(sp::ListClaimsRequest {
            parent,
            page_size: LISTED,
            claimant,
            ..Default::default()
        });
        async move {
            sharing
                .list_claims(request)
                .await
                .map(|r| r.into_inner().claims)
        }
    };
    let mine = list("resources/-".into(), acting.member.clone()).await?;
    let materials = web
        .api
        .sharing()
        .list_resources(acting.authed(sp::ListResourcesRequest {
            page_size: LISTED,
            kinds: vec![ResourceKind::Material as i32],
            owner: acting.member.clone(),
            ..Default::default()
        }))
        .await?
        .into_inner()
        .resources;
    let mut on_mine = Vec::new();
    for material in &materials {
        on_mine.extend(list(material.name.clone(), String::new()).await?);
    }
    let resources = claimed_resources(web, acting, materials, &mine).await;
    let claimants = on_mine.iter().map(|c| c.claimant.clone()).collect();
    let names = member_names(web, claimants).await?;
    let row = |c: &sp::Claim| claim_row(t, c, &resources, &names);
    Ok(MemberClaims {
        mine: mine.iter().map(row).collect(),
        on_mine: on_mine.iter().map(row).collect(),
    })
}

/// A claim as a row of "Mes réservations", its resource from `resources` and its
/// claimant's name from `names`.
fn claim_row(
    t: &Texts,
    c: &sp::Claim,
    resources: &BTreeMap<String, sp::Resource>,
    names: &BTreeMap<String, String>,
) -> ClaimRow {
    let resource_name = c.name.split("/claims/").next().unwrap_or_default();
    let state = ClaimState::try_from(c.state).unwrap_or_default();
    let quantity = c.quantity.as_ref().map(|q| {
        let unit = QuantityUnit::try_from(q.unit).unwrap_or_default();
        t.sharing.quantity_of(q.amount, unit)
    });
    ClaimRow {
        name: c.name.clone(),
        resource: resources
            .get(resource_name)
            .map(|r| r.title.clone())
            .unwrap_or_default(),
        resource_href: format!("/ressources/{}", id_of(resource_name, "resources")),
        quantity: quantity.unwrap_or_default(),
        claimant: names.get(&c.claimant).cloned().unwrap_or_default(),
        state: t.bookings.claim_state(state),
        held: state == ClaimState::Held,
    }
}

/// The member's `materials` and the resources of its `claims`, by name (a resource
/// that cannot be read any more is left out: its claims show without a title).
async fn claimed_resources(
    web: &Web,
    acting: &Acting,
    materials: Vec<sp::Resource>,
    claims: &[sp::Claim],
) -> BTreeMap<String, sp::Resource> {
    let mut resources: BTreeMap<String, sp::Resource> =
        materials.into_iter().map(|m| (m.name.clone(), m)).collect();
    for claim in claims {
        let name = claim.name.split("/claims/").next().unwrap_or_default();
        if !resources.contains_key(name) {
            let request = acting.authed(sp::GetResourceRequest { name: name.into() });
            if let Ok(found) = web.api.sharing().get_resource(request).await {
                resources.insert(name.to_string(), found.into_inner());
            }
        }
    }
    resources
}

/// Collects (`remettre`) or cancels (`annuler`) claim `name`; the action's "done" code.
pub async fn act(
    web: &Web,
    acting: &Acting,
    name: String,
    action: &str,
) -> Option<(Result<(), tonic::Status>, &'static str)> {
    let mut sharing = web.api.sharing();
    Some(match action {
        "remettre" => (
            sharing
                .collect_claim(acting.authed(sp::CollectClaimRequest { name }))
                .await
                .map(drop),
            "remise",
        ),
        "annuler-prelevement" => (
            sharing
                .cancel_claim(acting.authed(sp::CancelClaimRequest { name }))
                .await
                .map(drop),
            "prelevement-annule",
        ),
        _ => return None,
    })
}
