//! Opening a participatory budget of a process, for its organiser
//! (`/participation/{id}/budgets/nouveau`): its title and description, its envelope in
//! euros and the share of it each ballot must reach (70 % unless said). Its items are
//! added on the budget's page (`ballots`). Sent with a request id; what the service
//! refuses is told next to its field, with everything typed kept.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::forms::{self, Acting, FieldTexts, Problems};
use super::participation::{page_for_organiser, submitted_for_organiser};
use crate::Web;
use crate::fr;
use crate::texts::Texts;

/// The form as sent (and shown again).
#[derive(Debug, Default, Deserialize)]
pub struct Opened {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    demande: String,
    #[serde(default)]
    titre: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    enveloppe: String,
    #[serde(default)]
    minimum: String,
}

#[derive(Template)]
#[template(path = "new_budget.html")]
struct NewBudgetPage {
    t: &'static Texts,
    process_title: String,
    href: String,
    csrf: String,
    request_id: String,
    sent: Opened,
    problems: Problems,
}

fn page(
    acting: &Acting,
    t: &'static Texts,
    process: &pa::Process,
    sent: Opened,
    problems: Problems,
) -> Response {
    let page = NewBudgetPage {
        t,
        process_title: process.title.clone(),
        href: super::participation::process_href(&process.name),
        csrf: acting.session.csrf.clone(),
        request_id: forms::request_id(&sent.demande),
        sent,
        problems,
    };
    forms::private(page.problems.status(), &page)
}

/// `GET /participation/{id}/budgets/nouveau`.
pub async fn new(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match page_for_organiser(&web, &headers, &id).await {
        Ok((acting, process)) => page(
            &acting,
            web.texts,
            &process,
            Opened::default(),
            Problems::none(),
        ),
        Err(response) => *response,
    }
}

const FIELDS: &FieldTexts = &[
    (
        "budget.title",
        "titre",
        "Donnez un titre de 3 à 150 caractères.",
    ),
    (
        "budget.description",
        "description",
        "La présentation fait au plus 10 000 caractères.",
    ),
    (
        "budget.envelope_cents",
        "enveloppe",
        "Indiquez un montant positif en euros, par exemple 20 000.",
    ),
    (
        "budget.minimum_basis_points",
        "minimum",
        "Indiquez une part de 1 à 100 %, ou laissez vide pour 70 %.",
    ),
];

/// `POST /participation/{id}/budgets/nouveau`: opens the budget, then its page.
pub async fn create(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(sent): Form<Opened>,
) -> Response {
    let t = web.texts;
    let (acting, process) = match submitted_for_organiser(&web, &headers, &sent.csrf, &id).await {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let request = pa::CreateBudgetRequest {
        parent: process.name.clone(),
        budget: Some(budget_of(&sent)),
        request_id: forms::request_id(&sent.demande),
    };
    let status = match web
        .api
        .participation()
        .create_budget(acting.authed(request))
        .await
    {
        Ok(made) => {
            let href = super::participation::item_href(&made.into_inner().name);
            return forms::see_other(&href, None);
        }
        Err(status) => status,
    };
    match forms::refused(t, status, FIELDS, |r| t.participation.refusal(r)) {
        Ok(problems) => page(&acting, t, &process, sent, problems),
        Err(response) => *response,
    }
}

/// The budget the form describes; an amount or a share that does not read as one is
/// sent as -1, so that the service names its field.
fn budget_of(sent: &Opened) -> pa::Budget {
    let minimum = match sent.minimum.trim().trim_end_matches('%').trim() {
        "" => 0,
        share => fr::parse_decimal(share)
            .filter(|p| *p > 0.0 && *p <= 100.0)
            .map_or(-1, |p| (p * 100.0).round() as i32),
    };
    pa::Budget {
        title: sent.titre.trim().to_string(),
        description: sent.description.trim().to_string(),
        envelope_cents: fr::parse_cents(&sent.enveloppe).unwrap_or(-1),
        minimum_basis_points: minimum,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_and_per_cents_read_as_cents_and_basis_points() {
        let budget = budget_of(&Opened {
            titre: "Budget 2027".into(),
            enveloppe: "20 000,00".into(),
            minimum: "60 %".into(),
            ..Default::default()
        });
        assert_eq!(budget.envelope_cents, 2_000_000);
        assert_eq!(budget.minimum_basis_points, 6_000);
        let unread = budget_of(&Opened {
            enveloppe: "beaucoup".into(),
            minimum: "150".into(),
            ..Default::default()
        });
        assert_eq!(
            (unread.envelope_cents, unread.minimum_basis_points),
            (-1, -1)
        );
        assert_eq!(budget_of(&Opened::default()).minimum_basis_points, 0);
    }
}
