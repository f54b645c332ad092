//! Taking part in a grouped purchase, for a person acting for a member: on the
//! purchase's page, the member's sites with their lot and estimated volume — the rows
//! it gave, then empty ones (`JoinGroupPurchase` replaces them all) — and leaving before
//! the deadline (`POST /achats-groupes/{id}/participer`); for the coordinator, every
//! member's sites, closing and awarding to a supplier
//! (`POST /achats-groupes/{id}/coordonner`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::projects::{self as pp, GroupPurchaseState};

use super::common::member_names;
use super::forms::{self, Acting, Problems};
use crate::texts::Texts;
use crate::{Web, fr};

/// Empty rows after the sites already given, to add some without JavaScript.
const EMPTY_ROWS: usize = 3;

/// One site row of the form.
pub struct SiteRow {
    pub(super) index: usize,
    /// `Site 1`.
    pub(super) legend: String,
    pub(super) name: String,
    pub(super) volume: String,
    /// The purchase's lots, the row's one selected: (code, title, selected).
    pub(super) lots: Vec<(String, String, bool)>,
    pub(super) problem: String,
}

/// A member's participation, as the coordinator sees it.
pub struct ParticipantRow {
    pub(super) member: String,
    pub(super) sites: String,
}

/// What a purchase's page offers the person viewing it.
pub enum Joining {
    /// Not signed in, or acting for no member.
    SignIn,
    /// Joining is over (closed, awarded, or past the deadline).
    Over,
    /// The member's sites.
    Form {
        /// Where the form goes.
        action: String,
        /// The session's CSRF secret.
        csrf: String,
        /// The rows.
        rows: Vec<SiteRow>,
        /// Whether the member takes part already.
        joined: bool,
        /// The volume's label, with the purchase's unit.
        volume_label: String,
        /// What was refused.
        problems: Problems,
    },
    /// The coordinator's view: every member's sites, and closing or awarding.
    Coordinator {
        /// Where the forms go.
        action: String,
        /// The session's CSRF secret.
        csrf: String,
        /// Every participation.
        participants: Vec<ParticipantRow>,
        /// Open: may be closed.
        open: bool,
        /// Closed: may be awarded.
        closed: bool,
        /// What was refused.
        problems: Problems,
    },
}

/// The purchase as the person behind `headers` may read it (with their own sites, or
/// everyone's for the coordinator), and the member they act for.
pub async fn purchase_for(
    web: &Web,
    headers: &HeaderMap,
    id: &str,
) -> Result<(pp::GroupPurchase, Option<Acting>), tonic::Status> {
    let acting = forms::acting_of(web, headers);
    let request = pp::GetGroupPurchaseRequest {
        name: format!("groupPurchases/{id}"),
    };
    let request = match &acting {
        Some(acting) => acting.authed(request),
        None => tonic::Request::new(request),
    };
    let purchase = web
        .api
        .projects()
        .get_group_purchase(request)
        .await?
        .into_inner();
    Ok((purchase, acting))
}

/// What the purchase's page offers; `typed` are the rows of a refused submission.
pub async fn joining(
    web: &Web,
    purchase: &pp::GroupPurchase,
    acting: Option<&Acting>,
    typed: Option<Vec<pp::Site>>,
    problems: Problems,
) -> Result<Joining, tonic::Status> {
    let Some(acting) = acting else {
        return Ok(Joining::SignIn);
    };
    let state = GroupPurchaseState::try_from(purchase.state).unwrap_or_default();
    let csrf = acting.session.csrf.clone();
    if acting.member == purchase.coordinator {
        return coordinating(web, purchase, csrf, problems).await;
    }
    let past = super::common::instant(&purchase.deadline).is_some_and(|d| d <= chrono::Utc::now());
    if state != GroupPurchaseState::Open || past {
        return Ok(Joining::Over);
    }
    let mine = purchase
        .participations
        .iter()
        .find(|p| p.member == acting.member);
    let given = typed.unwrap_or_else(|| mine.map(|p| p.sites.clone()).unwrap_or_default());
    let rows = site_rows(web.texts, purchase, &given, &problems);
    Ok(Joining::Form {
        action: format!("/{}/participer", purchase_path(purchase)),
        csrf,
        rows,
        joined: mine.is_some(),
        volume_label: web
            .texts
            .projects
            .volume_label
            .replace("{}", &purchase.unit),
        problems,
    })
}

/// The coordinator's part: every member's sites, closing or awarding.
async fn coordinating(
    web: &Web,
    purchase: &pp::GroupPurchase,
    csrf: String,
    problems: Problems,
) -> Result<Joining, tonic::Status> {
    let state = GroupPurchaseState::try_from(purchase.state).unwrap_or_default();
    let members = purchase
        .participations
        .iter()
        .map(|p| p.member.clone())
        .collect();
    let names = member_names(web, members).await?;
    Ok(Joining::Coordinator {
        action: format!("/{}/coordonner", purchase_path(purchase)),
        csrf,
        participants: purchase
            .participations
            .iter()
            .map(|p| ParticipantRow {
                member: names.get(&p.member).cloned().unwrap_or_default(),
                sites: sites_text(web.texts, purchase, &p.sites),
            })
            .collect(),
        open: state == GroupPurchaseState::Open,
        closed: state == GroupPurchaseState::Closed,
        problems,
    })
}

/// The form's rows: the sites `given`, then empty ones, each told its problem.
fn site_rows(
    t: &Texts,
    purchase: &pp::GroupPurchase,
    given: &[pp::Site],
    problems: &Problems,
) -> Vec<SiteRow> {
    given
        .iter()
        .cloned()
        .chain(std::iter::repeat_with(pp::Site::default).take(EMPTY_ROWS))
        .enumerate()
        .map(|(index, site)| SiteRow {
            index,
            legend: t
                .projects
                .site_legend
                .replace("{}", &(index + 1).to_string()),
            problem: problems.field(row_key(index)).to_string(),
            name: site.name,
            volume: if site.volume > 0.0 {
                fr::number(site.volume, 3)
            } else {
                String::new()
            },
            lots: purchase
                .lots
                .iter()
                .map(|l| (l.code.clone(), lot_title(l), l.code == site.lot))
                .collect(),
        })
        .collect()
}

/// `achats-groupes/{id}`: the purchase's page, without its leading slash.
fn purchase_path(purchase: &pp::GroupPurchase) -> String {
    let id = purchase.name.trim_start_matches("groupPurchases/");
    format!("achats-groupes/{id}")
}

fn lot_title(lot: &pp::Lot) -> String {
    if lot.title.is_empty() {
        lot.code.clone()
    } else {
        lot.title.clone()
    }
}

/// `École Jules-Ferry (Gaz) : 120 MWh ; …`
fn sites_text(t: &Texts, purchase: &pp::GroupPurchase, sites: &[pp::Site]) -> String {
    let titles: BTreeMap<&str, String> = purchase
        .lots
        .iter()
        .map(|l| (l.code.as_str(), lot_title(l)))
        .collect();
    sites
        .iter()
        .map(|s| {
            let lot = titles.get(s.lot.as_str()).cloned().unwrap_or_default();
            let volume = t.projects.volume(s.volume, &purchase.unit);
            format!("{} ({lot}) : {volume}", s.name)
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// The sites of the form's rows (`nom-0`, `lot-0`, `volume-0`…), the empty rows left
/// out, or what is wrong with each row.
fn sites_of(
    t: &Texts,
    form: &HashMap<String, String>,
) -> Result<Vec<pp::Site>, (Vec<pp::Site>, Problems)> {
    let mut sites = Vec::new();
    let mut problems = Problems::none();
    for index in 0.. {
        let field = |name: &str| {
            form.get(&format!("{name}-{index}"))
                .map(|v| v.trim().to_string())
        };
        let (Some(name), Some(lot), Some(volume)) = (field("nom"), field("lot"), field("volume"))
        else {
            break;
        };
        if name.is_empty() && volume.is_empty() {
            continue;
        }
        let parsed = fr::parse_decimal(&volume).filter(|v| *v > 0.0);
        if name.is_empty() || name.chars().count() > 200 || parsed.is_none() {
            problems
                .fields
                .insert(row_key(sites.len()), t.projects.site_problem.to_string());
        }
        sites.push(pp::Site {
            name,
            lot,
            volume: parsed.unwrap_or(0.0),
        });
    }
    if problems.any() {
        problems.general = Some(t.forms.check_fields.to_string());
        return Err((sites, problems));
    }
    Ok(sites)
}

/// The key of row `index`'s problem.
fn row_key(index: usize) -> &'static str {
    const KEYS: [&str; 16] = [
        "site-0", "site-1", "site-2", "site-3", "site-4", "site-5", "site-6", "site-7", "site-8",
        "site-9", "site-10", "site-11", "site-12", "site-13", "site-14", "site-15",
    ];
    KEYS.get(index).copied().unwrap_or("site-15")
}

/// `POST /achats-groupes/{id}/participer`: the member's sites (`action=participer`),
/// or leaving (`action=quitter`).
pub async fn take_part(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let t = web.texts;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let acting = match forms::submitted_for_member(&web, &headers, &field("csrf")) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let name = format!("groupPurchases/{id}");
    let mut projects = web.api.projects();
    let (answer, done, typed) = if field("action") == "quitter" {
        let request = acting.authed(pp::LeaveGroupPurchaseRequest { name });
        (
            projects.leave_group_purchase(request).await.map(drop),
            "quitte",
            None,
        )
    } else {
        match sites_of(t, &form) {
            Ok(sites) => {
                let request = acting.authed(pp::JoinGroupPurchaseRequest {
                    name,
                    sites: sites.clone(),
                });
                let answer = projects.join_group_purchase(request).await.map(drop);
                (answer, "inscrit", Some(sites))
            }
            Err((sites, problems)) => {
                return super::purchases::page(&web, &id, &headers, Some(sites), problems, None)
                    .await;
            }
        }
    };
    match answer {
        Ok(()) => forms::see_other(&format!("/achats-groupes/{id}?fait={done}"), None),
        Err(status) => match forms::refused(t, status, &[], |r| t.projects.purchase_refusal(r)) {
            Ok(problems) => {
                super::purchases::page(&web, &id, &headers, typed, problems, None).await
            }
            Err(page) => *page,
        },
    }
}

/// How the award form names the API's fields of `AwardGroupPurchase`.
const AWARD_FIELDS: &forms::FieldTexts = &[
    (
        "supplier",
        "fournisseur",
        "Nommez le fournisseur retenu (200 caractères au plus).",
    ),
    (
        "supplier_siret",
        "siret",
        "Un SIRET compte 14 chiffres et une clé valide.",
    ),
];

/// The award form's prices: `prix-{lot}` and `reference-{lot}` in euros per unit, for
/// every lot the form shows; `None` when one is missing or not an amount.
fn award_prices(form: &HashMap<String, String>) -> Option<Vec<pp::LotPrice>> {
    let cents = |text: Option<&String>| crate::fr::parse_cents(text?);
    form.iter()
        .filter_map(|(key, value)| Some((key.strip_prefix("prix-")?, value)))
        .map(|(lot, price)| {
            Some(pp::LotPrice {
                lot: lot.to_string(),
                price_cents: cents(Some(price))?,
                reference_cents: cents(form.get(&format!("reference-{lot}")))?,
                saving_cents: 0,
            })
        })
        .collect()
}

/// `POST /achats-groupes/{id}/coordonner`: closing (`action=clore`) or awarding to
/// `fournisseur` (`action=attribuer`).
pub async fn coordinate(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let t = web.texts;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let acting = match forms::submitted_for_member(&web, &headers, &field("csrf")) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let name = format!("groupPurchases/{id}");
    let mut projects = web.api.projects();
    let (answer, done) = match field("action").as_str() {
        "clore" => {
            let request = acting.authed(pp::CloseGroupPurchaseRequest { name });
            (
                projects.close_group_purchase(request).await.map(drop),
                "clos",
            )
        }
        "attribuer" => {
            let supplier = field("fournisseur").trim().to_string();
            let Some(prices) = award_prices(&form) else {
                let problems = Problems::general(t.projects.prices_required);
                return super::purchases::page(&web, &id, &headers, None, problems, None).await;
            };
            let request = acting.authed(pp::AwardGroupPurchaseRequest {
                name,
                supplier,
                supplier_siret: field("siret").trim().to_string(),
                prices,
            });
            (
                projects.award_group_purchase(request).await.map(drop),
                "attribue",
            )
        }
        _ => return super::not_found().await,
    };
    let fields = AWARD_FIELDS;
    match answer {
        Ok(()) => forms::see_other(&format!("/achats-groupes/{id}?fait={done}"), None),
        Err(status) => {
            match forms::refused(t, status, fields, |r| t.projects.purchase_refusal(r)) {
                Ok(problems) => {
                    super::purchases::page(&web, &id, &headers, None, problems, None).await
                }
                Err(page) => *page,
            }
        }
    }
}
