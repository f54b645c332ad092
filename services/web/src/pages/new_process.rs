//! Launching a participatory process from the organiser's tools
//! (`/espace/participation/nouvelle`): its title and description, its territory (INSEE
//! commune codes or EPCI SIREN), its themes, whom supports count (verified residents
//! only), the support limit and threshold, how many reports hide a comment, and up to
//! [`STEP_ROWS`] dated steps with what each opens. Sent with a request id (sending twice
//! makes one process); what the service refuses is told next to its field, with
//! everything typed kept.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use fabrique_api::participation as pa;

use super::common::{Choice, timestamp};
use super::forms::{self, Acting, FieldTexts, Problems};
use super::{enum_code, enum_of_code, enum_values};
use crate::Web;
use crate::fr;
use crate::texts::Texts;

/// Where the form is.
pub const PATH: &str = "/espace/participation/nouvelle";

/// How many step rows the form offers (the service takes up to 10).
pub const STEP_ROWS: usize = 5;

/// What the flags of a step are called in the form.
const OPENS: [&str; 4] = ["propositions", "soutiens", "commentaires", "votes"];

/// One step's row, as typed.
struct StepRow {
    number: usize,
    kinds: Vec<Choice>,
    title: String,
    start: String,
    end: String,
    opens: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "new_process.html")]
struct NewProcessPage {
    t: &'static Texts,
    csrf: String,
    request_id: String,
    value: Sent,
    verified_only: bool,
    steps: Vec<StepRow>,
    problems: Problems,
}

/// The form as sent: its fields by name.
#[derive(Default)]
struct Sent(Vec<(String, String)>);

impl Sent {
    /// The value of field `name`, empty if absent.
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// The form for `acting`, with what was typed and refused.
fn page(web: &Web, acting: &Acting, sent: Sent, problems: Problems) -> Response {
    let t = web.texts;
    let steps = (1..=STEP_ROWS)
        .map(|number| {
            let field = |name: &str| sent.get(&format!("etape{number}_{name}")).to_string();
            let kind = field("type");
            StepRow {
                number,
                kinds: enum_values::<pa::StepKind>()
                    .map(|k| Choice {
                        selected: enum_code(k) == kind,
                        value: enum_code(k),
                        label: t.participation.step_kind(k).to_string(),
                    })
                    .collect(),
                title: field("titre"),
                start: field("debut"),
                end: field("fin"),
                opens: OPENS
                    .iter()
                    .zip(t.organising.step_opens)
                    .map(|(name, label)| (*name, label, !field(name).is_empty()))
                    .collect(),
            }
        })
        .collect();
    let page = NewProcessPage {
        t,
        csrf: acting.session.csrf.clone(),
        request_id: forms::request_id(sent.get("demande")),
        verified_only: !sent.get("verifies").is_empty(),
        steps,
        value: sent,
        problems,
    };
    forms::private(page.problems.status(), &page)
}

/// `GET /espace/participation/nouvelle`.
pub async fn new(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    match forms::page_for_member(&web, &headers) {
        Ok(acting) => page(&web, &acting, Sent::default(), Problems::none()),
        Err(response) => *response,
    }
}

const FIELDS: &FieldTexts = &[
    (
        "process.title",
        "titre",
        "Donnez un titre de 3 à 150 caractères.",
    ),
    (
        "process.description",
        "description",
        "La description fait au plus 10 000 caractères.",
    ),
    (
        "process.territory",
        "territoire",
        "Indiquez des codes INSEE de communes (5 caractères) ou des SIREN d'EPCI (9 \
         chiffres), séparés par des virgules.",
    ),
    (
        "process.themes",
        "themes",
        "Au plus 20 thèmes de 60 caractères au plus, chacun une fois.",
    ),
    (
        "process.support_limit",
        "limite",
        "Indiquez un nombre entier, 0 pour aucune limite.",
    ),
    (
        "process.support_threshold",
        "seuil",
        "Indiquez un nombre entier, 0 pour aucun seuil.",
    ),
    (
        "process.report_threshold",
        "signalements",
        "Indiquez un nombre entier, 0 pour la valeur habituelle (3).",
    ),
    ("process.steps", "etapes", STEPS_PROBLEM),
    ("process.steps.title", "etapes", STEPS_PROBLEM),
    ("process.steps.kind", "etapes", STEPS_PROBLEM),
    ("process.steps.start_time", "etapes", STEPS_PROBLEM),
    ("process.steps.end_time", "etapes", STEPS_PROBLEM),
];

const STEPS_PROBLEM: &str = "Remplissez au moins une étape : un type, un titre (120 caractères \
                             au plus) et ses dates ; chacune commence après la fin de la \
                             précédente.";

/// `POST /espace/participation/nouvelle`: creates the process for the member acted
/// for, then its page.
pub async fn create(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let t = web.texts;
    let sent = Sent(pairs);
    let acting = match forms::submitted_for_member(&web, &headers, sent.get("csrf")) {
        Ok(acting) => acting,
        Err(response) => return *response,
    };
    let request = pa::CreateProcessRequest {
        process: Some(process_of(&acting.member, &sent)),
        request_id: forms::request_id(sent.get("demande")),
    };
    let status = match web
        .api
        .participation()
        .create_process(acting.authed(request))
        .await
    {
        Ok(made) => {
            let href = super::participation::process_href(&made.into_inner().name);
            return forms::see_other(&href, None);
        }
        Err(status) => status,
    };
    match forms::refused(t, status, FIELDS, |r| t.participation.refusal(r)) {
        Ok(problems) => page(&web, &acting, sent, problems),
        Err(response) => *response,
    }
}

/// The process the form describes, organised by `organiser`: numbers that do not read
/// as such are sent as -1, so that the service names their field.
fn process_of(organiser: &str, sent: &Sent) -> pa::Process {
    let number = |name: &str| match sent.get(name).trim() {
        "" => 0,
        text => text.parse::<i32>().unwrap_or(-1),
    };
    pa::Process {
        organiser: organiser.to_string(),
        title: sent.get("titre").trim().to_string(),
        description: sent.get("description").trim().to_string(),
        territory: sent
            .get("territoire")
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|code| !code.is_empty())
            .map(str::to_string)
            .collect(),
        themes: sent
            .get("themes")
            .lines()
            .map(str::trim)
            .filter(|theme| !theme.is_empty())
            .map(str::to_string)
            .collect(),
        steps: (1..=STEP_ROWS).filter_map(|n| step_of(sent, n)).collect(),
        verified_only: !sent.get("verifies").is_empty(),
        support_limit: number("limite"),
        support_threshold: number("seuil"),
        report_threshold: number("signalements"),
        ..Default::default()
    }
}

/// Row `number`'s step, if its title is filled in: from the first day's Paris midnight
/// to the midnight after the last day.
fn step_of(sent: &Sent, number: usize) -> Option<pa::Step> {
    let field = |name: &str| {
        sent.get(&format!("etape{number}_{name}"))
            .trim()
            .to_string()
    };
    let title = field("titre");
    if title.is_empty() {
        return None;
    }
    let day = |name: &str| NaiveDate::parse_from_str(&field(name), "%Y-%m-%d").ok();
    let at = |instant: chrono::DateTime<chrono::Utc>| Some(timestamp(instant));
    let open = |name: &str| !field(name).is_empty();
    Some(pa::Step {
        kind: enum_of_code::<pa::StepKind>(&field("type")).unwrap_or_default() as i32,
        title,
        start_time: day("debut").and_then(|d| at(fr::paris_midnight(d))),
        end_time: day("fin").and_then(|d| at(fr::paris_midnight(d + Duration::days(1)))),
        proposals_open: open(OPENS[0]),
        supports_open: open(OPENS[1]),
        comments_open: open(OPENS[2]),
        votes_open: open(OPENS[3]),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_reads_as_a_process_with_paris_days() {
        let sent = Sent(
            [
                ("titre", " Quelle route ? "),
                ("territoire", "63113, 246300701;63430"),
                ("themes", "Mobilités\n\n Matériaux \n"),
                ("limite", "3"),
                ("seuil", "douze"),
                ("etape1_type", "proposals"),
                ("etape1_titre", "Proposer"),
                ("etape1_debut", "2027-01-04"),
                ("etape1_fin", "2027-01-31"),
                ("etape1_propositions", "oui"),
                ("etape2_titre", ""),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let process = process_of("members/m1", &sent);
        assert_eq!(process.title, "Quelle route ?");
        assert_eq!(process.territory, ["63113", "246300701", "63430"]);
        assert_eq!(process.themes, ["Mobilités", "Matériaux"]);
        assert_eq!((process.support_limit, process.support_threshold), (3, -1));
        assert_eq!(process.steps.len(), 1, "an untitled row is no step");
        let step = &process.steps[0];
        assert_eq!(step.kind, pa::StepKind::Proposals as i32);
        assert!(step.proposals_open && !step.supports_open);
        // 4 January 2027 at midnight in Paris is 23:00 UTC the day before.
        let start = chrono::DateTime::from_timestamp(step.start_time.expect("a start").seconds, 0);
        assert_eq!(
            start.map(|s| s.to_rfc3339()),
            Some("2027-01-03T23:00:00+00:00".to_string())
        );
        let end = chrono::DateTime::from_timestamp(step.end_time.expect("an end").seconds, 0);
        assert_eq!(
            end.map(|s| s.to_rfc3339()),
            Some("2027-01-31T23:00:00+00:00".to_string())
        );
    }
}
