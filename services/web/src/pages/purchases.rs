//! "Achats groupés": the grouped purchases with the filters the API offers (category,
//! state), and a purchase's page — its lots with the total volume of each in French
//! numbers and its unit, the deadline, the coordinator, the members taking part, and
//! for a signed-in person its part ([`joining`]). Reads the projects service's public
//! calls (`ListGroupPurchases`, `GetGroupPurchase`: participations without their sites)
//! and the public directory; a signed-in person's page reads the purchase with their
//! token (their own sites, or everyone's for the coordinator).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use fabrique_api::projects::{self as pp, GroupPurchaseCategory, GroupPurchaseState};
use serde::Deserialize;

use super::common::{self, Choice, Link, id_of, item_status, member_link, member_names};
use super::forms::Problems;
use super::joining::{self, Joining};
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;
use crate::{Web, fr};
use axum::http::HeaderMap;

/// Grouped purchases per page of the list.
const PAGE_SIZE: i32 = 30;

/// The list's filters as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// A category, as [`enum_code`] writes it (`electricity`).
    #[serde(default)]
    categorie: String,
    /// A state, as [`enum_code`] writes it (`open`).
    #[serde(default)]
    etat: String,
    /// The API's page token of the next page.
    #[serde(default)]
    page: String,
}

/// A grouped purchase in the list.
struct PurchaseCard {
    href: String,
    title: String,
    category: &'static str,
    state: &'static str,
    deadline: String,
    coordinator: String,
}

#[derive(Template)]
#[template(path = "purchases.html")]
struct PurchasesPage {
    t: &'static Texts,
    title: &'static str,
    categories: Vec<Choice>,
    states: Vec<Choice>,
    purchases: Vec<PurchaseCard>,
    count: String,
    next: Option<String>,
    paged: bool,
}

fn category_text(t: &Texts, category: i32) -> &'static str {
    t.projects
        .category_name(GroupPurchaseCategory::try_from(category).unwrap_or_default())
}

fn state_text(t: &Texts, state: i32) -> &'static str {
    t.projects
        .purchase_state(GroupPurchaseState::try_from(state).unwrap_or_default())
}

/// The deadline, `6 décembre 2026 à 18 h`, in Paris.
fn deadline(purchase: &pp::GroupPurchase) -> String {
    common::instant(&purchase.deadline)
        .map(fr::date_time)
        .unwrap_or_default()
}

/// `GET /achats-groupes`.
pub async fn list(State(web): State<Arc<Web>>, Query(filters): Query<Filters>) -> Response {
    let t = web.texts;
    let category = enum_of_code::<GroupPurchaseCategory>(&filters.categorie);
    let state = enum_of_code::<GroupPurchaseState>(&filters.etat);
    let request = pp::ListGroupPurchasesRequest {
        page_size: PAGE_SIZE,
        page_token: filters.page.clone(),
        categories: category.map(|c| c as i32).into_iter().collect(),
        states: state.map(|s| s as i32).into_iter().collect(),
    };
    let response = match web.api.projects().list_group_purchases(request).await {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let coordinators: Vec<String> = response
        .group_purchases
        .iter()
        .map(|g| g.coordinator.clone())
        .collect();
    let names = match member_names(&web, coordinators).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let purchases: Vec<PurchaseCard> = response
        .group_purchases
        .iter()
        .map(|g| PurchaseCard {
            href: format!("/achats-groupes/{}", id_of(&g.name, "groupPurchases")),
            title: g.title.clone(),
            category: category_text(t, g.category),
            state: state_text(t, g.state),
            deadline: deadline(g),
            coordinator: names.get(&g.coordinator).cloned().unwrap_or_default(),
        })
        .collect();
    let next = (!response.next_page_token.is_empty()).then(|| {
        super::href(
            "/achats-groupes",
            &[
                ("categorie", filters.categorie.as_str()),
                ("etat", filters.etat.as_str()),
                ("page", response.next_page_token.as_str()),
            ],
        )
    });
    super::render(&PurchasesPage {
        t,
        title: t.projects.purchases_title,
        categories: category_choices(t, category),
        states: state_choices(t, state),
        count: t.projects.purchases_count(purchases.len()),
        purchases,
        next,
        paged: !filters.page.is_empty(),
    })
}

/// The category filter's options, `chosen` selected.
fn category_choices(t: &Texts, chosen: Option<GroupPurchaseCategory>) -> Vec<Choice> {
    enum_values::<GroupPurchaseCategory>()
        .map(|c| Choice {
            value: enum_code(c),
            label: t.projects.category_name(c).to_string(),
            selected: Some(c) == chosen,
        })
        .collect()
}

/// The state filter's options, `chosen` selected.
fn state_choices(t: &Texts, chosen: Option<GroupPurchaseState>) -> Vec<Choice> {
    enum_values::<GroupPurchaseState>()
        .map(|s| Choice {
            value: enum_code(s),
            label: t.projects.purchase_state(s).to_string(),
            selected: Some(s) == chosen,
        })
        .collect()
}

/// A lot's row: its code, title and total volume; once awarded, its price and saving.
struct LotRow {
    code: String,
    title: String,
    /// The kind of site it covers, when the tender splits lots by it.
    site_category: &'static str,
    volume: String,
    price: String,
    saving: String,
}

#[derive(Template)]
#[template(path = "purchase.html")]
struct PurchasePage {
    t: &'static Texts,
    title: String,
    category: &'static str,
    state: &'static str,
    deadline: String,
    coordinator: Option<Link>,
    supplier: String,
    lots: Vec<LotRow>,
    /// Once awarded, where its outcome is downloaded.
    outcome_href: Option<String>,
    /// The group's estimated yearly saving, once awarded; empty before.
    saving: String,
    total: String,
    members: Vec<Link>,
    /// The person's part: the member's sites, or the coordinator's view.
    joining: Joining,
    /// What a form just did.
    done: Option<&'static str>,
}

/// `GET /achats-groupes/{id}`: the purchase, then the names of its coordinator and
/// members, and the person's part.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let done = done_text(web.texts, &done.fait);
    page(&web, &id, &headers, None, Problems::none(), done).await
}

/// What the page says after a form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

fn done_text(t: &Texts, done: &str) -> Option<&'static str> {
    match done {
        "inscrit" => Some(t.projects.joined_done),
        "quitte" => Some(t.projects.left_done),
        "clos" => Some(t.projects.closed_done),
        "attribue" => Some(t.projects.awarded_done),
        _ => None,
    }
}

/// A purchase's page with its part for the person viewing it ([`joining`]), the rows of
/// a refused submission (`typed`) and what was refused; never cached when it shows a
/// session's form.
pub(super) async fn page(
    web: &Web,
    id: &str,
    headers: &HeaderMap,
    typed: Option<Vec<pp::Site>>,
    problems: Problems,
    done: Option<&'static str>,
) -> Response {
    let t = web.texts;
    let (purchase, acting) = match joining::purchase_for(web, headers, id).await {
        Ok(found) => found,
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let status = problems.status();
    let part = joining::joining(web, &purchase, acting.as_ref(), typed, problems).await;
    let members: Vec<String> = std::iter::once(purchase.coordinator.clone())
        .chain(purchase.participations.iter().map(|p| p.member.clone()))
        .collect();
    match (member_names(web, members).await, part) {
        (Ok(names), Ok(part)) => {
            let of_a_session = !matches!(part, Joining::SignIn);
            let mut page = purchase_page(t, purchase, &names);
            page.joining = part;
            page.done = done;
            if of_a_session {
                super::forms::private(status, &page)
            } else {
                super::render(&page)
            }
        }
        (Err(status), _) | (_, Err(status)) => super::from_status(t, &status),
    }
}

/// A lot as the page's table shows it: its price and saving once awarded.
fn lot_row(t: &'static Texts, l: &pp::Lot, purchase: &pp::GroupPurchase) -> LotRow {
    let price = purchase.prices.iter().find(|p| p.lot == l.code);
    LotRow {
        code: l.code.clone(),
        title: if l.title.is_empty() {
            l.code.clone()
        } else {
            l.title.clone()
        },
        site_category: t.projects.site_category(l.site_category),
        volume: t.projects.volume(l.total_volume, &purchase.unit),
        price: price
            .map(|p| {
                format!(
                    "{} ({})",
                    crate::fr::euros(p.price_cents),
                    crate::fr::euros(p.reference_cents)
                )
            })
            .unwrap_or_default(),
        saving: price
            .map(|p| crate::fr::euros(p.saving_cents))
            .unwrap_or_default(),
    }
}

fn purchase_page(
    t: &'static Texts,
    purchase: pp::GroupPurchase,
    names: &BTreeMap<String, String>,
) -> PurchasePage {
    let total: f64 = purchase.lots.iter().map(|l| l.total_volume).sum();
    PurchasePage {
        t,
        category: category_text(t, purchase.category),
        state: state_text(t, purchase.state),
        deadline: deadline(&purchase),
        coordinator: member_link(names, &purchase.coordinator),
        supplier: purchase.supplier.clone(),
        lots: purchase
            .lots
            .iter()
            .map(|l| lot_row(t, l, &purchase))
            .collect(),
        outcome_href: (purchase.state == GroupPurchaseState::Awarded as i32).then(|| {
            format!(
                "/achats-groupes/{}/resultat.csv",
                id_of(&purchase.name, "groupPurchases")
            )
        }),
        saving: if purchase.prices.is_empty() {
            String::new()
        } else {
            crate::fr::euros(purchase.saving_cents)
        },
        total: t.projects.volume(total, &purchase.unit),
        members: purchase
            .participations
            .iter()
            .filter_map(|p| member_link(names, &p.member))
            .collect(),
        title: purchase.title,
        joining: Joining::SignIn,
        done: None,
    }
}

/// `GET /achats-groupes/{id}/resultat.csv`: an awarded purchase's outcome (the API's
/// `ExportGroupPurchase`): per lot and for the group to the public, per member too for
/// a person acting for a member.
pub async fn outcome_csv(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let t = web.texts;
    let message = pp::ExportGroupPurchaseRequest {
        name: format!("groupPurchases/{id}"),
    };
    let request = match super::forms::acting_of(&web, &headers) {
        Some(acting) => acting.authed(message),
        None => tonic::Request::new(message),
    };
    match web.api.projects().export_group_purchase(request).await {
        Ok(export) => {
            let file: String = id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (
                [
                    (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        CONTENT_DISPOSITION,
                        format!("attachment; filename=\"achat-groupe-{file}.csv\""),
                    ),
                ],
                export.into_inner().csv,
            )
                .into_response()
        }
        Err(status) => super::from_status(t, &item_status(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_states_travel_in_urls_by_a_short_name() {
        for category in enum_values::<GroupPurchaseCategory>() {
            assert_eq!(
                enum_of_code::<GroupPurchaseCategory>(&enum_code(category)),
                Some(category)
            );
        }
        assert_eq!(enum_code(GroupPurchaseState::Open), "open");
    }
}
