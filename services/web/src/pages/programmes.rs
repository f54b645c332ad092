//! "Programmes de financement": every programme with its envelope as a gauge, and a
//! programme's page (its rules in plain French, its funder and co-funders, its dates,
//! the gauge, and for a signed-in member the application form of
//! [`applications`]). Both read the projects service's public calls (`ListProgrammes`,
//! `GetProgramme`) and the public directory for the funders' names (`GetMember`).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use fabrique_api::projects::{self as pp, ProgrammeState};
use serde::Deserialize;

use super::applications::{self, ApplyFields, Applying};
use super::common::member_names;
use super::forms::Problems;
use crate::texts::Texts;
use crate::{Web, fr};

/// Programmes per page of the list.
const PAGE_SIZE: i32 = 20;
/// The gauge's width in SVG units (it scales to the page).
const GAUGE_WIDTH: f64 = 600.0;

/// The list's page token.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    page: String,
}

/// An envelope drawn as a bar: paid (hatched), committed but not paid (solid),
/// remaining (empty), each also written out, so that it reads without colour and
/// without the drawing.
pub struct Gauge {
    /// Unique in the page: the hatch pattern's id.
    pub(super) id: String,
    pub(super) paid_width: String,
    pub(super) committed_width: String,
    pub(super) envelope: String,
    pub(super) committed: String,
    pub(super) paid: String,
    pub(super) remaining: String,
    pub(super) committed_percent: String,
    /// The whole gauge in one sentence, for screen readers.
    pub(super) label: String,
    pub(super) spent: bool,
}

impl Gauge {
    /// The gauge of `programme`'s envelope; `id` is unique in the page.
    pub(super) fn of(t: &Texts, id: &str, programme: &pp::Programme) -> Self {
        let envelope = programme.envelope_cents.max(0);
        let width = |cents: i64| {
            if envelope == 0 {
                0.0
            } else {
                (cents.clamp(0, envelope) as f64) / (envelope as f64) * GAUGE_WIDTH
            }
        };
        let percent = if envelope == 0 {
            0.0
        } else {
            programme.committed_cents as f64 * 100.0 / envelope as f64
        };
        let label = format!(
            "{} {} : {} {}, {} {}, {} {}",
            t.envelope_total,
            fr::euros(envelope),
            t.committed,
            fr::euros(programme.committed_cents),
            t.paid,
            fr::euros(programme.paid_cents),
            t.remaining,
            fr::euros(programme.remaining_cents),
        );
        Self {
            id: id.to_string(),
            paid_width: format!("{:.1}", width(programme.paid_cents)),
            committed_width: format!("{:.1}", width(programme.committed_cents)),
            envelope: fr::euros(envelope),
            committed: fr::euros(programme.committed_cents),
            paid: fr::euros(programme.paid_cents),
            remaining: fr::euros(programme.remaining_cents),
            committed_percent: format!("{}{}%", fr::decimal(percent, 0), fr::BEFORE_UNIT),
            label,
            spent: envelope > 0 && programme.remaining_cents <= 0,
        }
    }
}

/// A programme in the list.
struct ProgrammeCard {
    href: String,
    title: String,
    funder: String,
    state: &'static str,
    gauge: Gauge,
}

#[derive(Template)]
#[template(path = "programmes.html")]
struct ProgrammesPage {
    t: &'static Texts,
    title: &'static str,
    programmes: Vec<ProgrammeCard>,
    next: Option<String>,
}

/// The id part of `programmes/{id}`.
fn programme_id(name: &str) -> &str {
    name.strip_prefix("programmes/").unwrap_or(name)
}

fn state_text(t: &Texts, state: i32) -> &'static str {
    match ProgrammeState::try_from(state) {
        Ok(ProgrammeState::Open) => t.programme_open,
        _ => t.programme_closed,
    }
}

/// `GET /programmes`.
pub async fn list(State(web): State<Arc<Web>>, Query(paging): Query<Paging>) -> Response {
    let t = web.texts;
    let response = match web
        .api
        .projects()
        .list_programmes(pp::ListProgrammesRequest {
            page_size: PAGE_SIZE,
            page_token: paging.page.clone(),
            states: Vec::new(),
        })
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let funders: Vec<String> = response
        .programmes
        .iter()
        .map(|p| p.funder.clone())
        .collect();
    let funders = match member_names(&web, funders).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let programmes = response
        .programmes
        .iter()
        .enumerate()
        .map(|(i, p)| ProgrammeCard {
            href: format!("/programmes/{}", programme_id(&p.name)),
            title: p.title.clone(),
            funder: funders.get(&p.funder).cloned().unwrap_or_default(),
            state: state_text(t, p.state),
            gauge: Gauge::of(t, &format!("g{i}"), p),
        })
        .collect();
    let next = (!response.next_page_token.is_empty())
        .then(|| format!("/programmes?page={}", response.next_page_token));
    super::render(&ProgrammesPage {
        t,
        title: t.programmes_title,
        programmes,
        next,
    })
}

/// A co-funder's line.
struct CoFunderLine {
    name: String,
    part: String,
    note: String,
}

#[derive(Template)]
#[template(path = "programme.html")]
struct ProgrammePage {
    t: &'static Texts,
    title: String,
    description: Vec<String>,
    funder: String,
    state: &'static str,
    dates: String,
    rules: Vec<String>,
    co_funders: Vec<CoFunderLine>,
    gauge: Gauge,
    counts: String,
    awards_href: String,
    /// How to apply to it, for the person viewing.
    applying: Applying,
}

/// `GET /programmes/{id}`.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    page(
        &web,
        &id,
        &headers,
        ApplyFields::default(),
        Problems::none(),
        None,
    )
    .await
}

/// A programme's page, its application form filled with `fields`, told `problems` or
/// showing the aid `computed` for them; never cached when it shows a session's form.
pub(super) async fn page(
    web: &Web,
    id: &str,
    headers: &axum::http::HeaderMap,
    fields: ApplyFields,
    problems: Problems,
    computed: Option<(String, String)>,
) -> Response {
    let t = web.texts;
    let programme = match web
        .api
        .projects()
        .get_programme(pp::GetProgrammeRequest {
            name: format!("programmes/{id}"),
        })
        .await
    {
        Ok(programme) => programme.into_inner(),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            return super::from_status(t, &tonic::Status::not_found(status.message()));
        }
        Err(status) => return super::from_status(t, &status),
    };
    let members: Vec<String> = std::iter::once(programme.funder.clone())
        .chain(programme.co_funders.iter().map(|c| c.member.clone()))
        .collect();
    let names = match member_names(web, members).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let status = problems.status();
    let applying =
        applications::applying(web, headers, &programme, fields, problems, computed).await;
    let of_a_session = matches!(applying, Applying::Form(_) | Applying::Funder);
    let page = programme_page(t, programme, &names, applying);
    if of_a_session || status != axum::http::StatusCode::OK {
        super::forms::private(status, &page)
    } else {
        super::render(&page)
    }
}

fn programme_page(
    t: &'static Texts,
    programme: pp::Programme,
    names: &BTreeMap<String, String>,
    applying: Applying,
) -> ProgrammePage {
    let mut rules = vec![t.aid_per_unit(programme.aid_per_unit_cents, &programme.unit_label)];
    if programme.max_units_per_application > 0 {
        rules.push(t.max_units(programme.max_units_per_application));
    }
    if programme.max_awards_per_member > 0 {
        rules.push(t.max_awards(programme.max_awards_per_member));
    }
    rules.push(t.eligible(&programme.eligible_kinds));
    let day = |ts: &Option<prost_types::Timestamp>| {
        ts.as_ref()
            .and_then(|ts| chrono::DateTime::from_timestamp(ts.seconds, 0))
            .map(|at| fr::date(fr::in_paris(at).date_naive()))
    };
    let dates = match (day(&programme.opens_at), day(&programme.closes_at)) {
        (Some(opens), Some(closes)) => format!("Du {opens} au {closes}"),
        (Some(opens), None) => format!("Depuis le {opens}"),
        (None, Some(closes)) => format!("Jusqu'au {closes}"),
        (None, None) => String::new(),
    };
    ProgrammePage {
        t,
        description: programme
            .description
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        funder: names.get(&programme.funder).cloned().unwrap_or_default(),
        state: state_text(t, programme.state),
        dates,
        rules,
        co_funders: programme
            .co_funders
            .iter()
            .map(|c| CoFunderLine {
                name: names.get(&c.member).cloned().unwrap_or_default(),
                part: t.co_funding(c.share_basis_points, c.cents_per_unit),
                note: c.note.clone(),
            })
            .collect(),
        gauge: Gauge::of(t, "g", &programme),
        counts: t.applications_and_awards(programme.application_count, programme.award_count),
        awards_href: format!("/{}/aides.csv", programme.name.trim_start_matches('/')),
        applying,
        title: programme.title,
    }
}

/// `GET /programmes/{id}/aides.csv`: the programme's awards as the SCDL subventions
/// file its funder publishes (the API's `ExportAwards`, public).
pub async fn awards_csv(State(web): State<Arc<Web>>, Path(id): Path<String>) -> Response {
    let t = web.texts;
    let request = pp::ExportAwardsRequest {
        name: format!("programmes/{id}"),
    };
    match web.api.projects().export_awards(request).await {
        Ok(export) => {
            let disposition = format!(
                "attachment; filename=\"aides-{}.csv\"",
                id.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            );
            (
                [
                    (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (CONTENT_DISPOSITION, disposition),
                ],
                export.into_inner().csv,
            )
                .into_response()
        }
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            super::from_status(t, &tonic::Status::not_found(status.message()))
        }
        Err(status) => super::from_status(t, &status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::FR;

    fn programme(envelope: i64, committed: i64, paid: i64) -> pp::Programme {
        pp::Programme {
            envelope_cents: envelope,
            committed_cents: committed,
            paid_cents: paid,
            remaining_cents: envelope - committed,
            ..Default::default()
        }
    }

    #[test]
    fn the_gauge_draws_and_writes_the_same_amounts() {
        let gauge = Gauge::of(&FR, "g", &programme(50_000_000, 12_500_000, 5_000_000));
        assert_eq!(gauge.committed_width, "150.0");
        assert_eq!(gauge.paid_width, "60.0");
        assert_eq!(gauge.committed_percent, "25\u{A0}%");
        assert_eq!(gauge.remaining, "375\u{202F}000,00\u{A0}€");
        assert!(
            gauge
                .label
                .replace(['\u{202F}', '\u{A0}'], " ")
                .contains("Engagé 125 000,00 €, dont versé 50 000,00 €, Disponible 375 000,00 €")
        );
        assert!(!gauge.spent);
        let spent = Gauge::of(&FR, "g", &programme(1_000_000, 1_000_000, 0));
        assert!(spent.spent);
        assert_eq!(spent.committed_width, "600.0");
        // No envelope, nothing to draw, nothing divided by zero.
        let empty = Gauge::of(&FR, "g", &programme(0, 0, 0));
        assert_eq!(empty.committed_width, "0.0");
        assert!(!empty.spent);
    }
}
