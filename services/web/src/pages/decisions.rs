//! The forms of the instruction queue ([`super::instruction`]) and of the member's
//! applications ([`super::applications`]): each action to its call of the projects
//! service — approve, reject, ask to complete, give an opinion, record an advance or the
//! balance, cancel an award, change an envelope; withdraw or complete for the
//! applicant — then back to the page it came from, which says what was done or, in
//! French, why not.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use fabrique_api::projects as pp;
use serde::Deserialize;

use super::forms::{self, Acting, Problems};
use crate::Web;
use crate::fr;
use crate::texts::Texts;

/// A form of the member's pages: what to do to which application, and what it needs.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// `programmes/{id}/applications/{id}`.
    #[serde(default)]
    demande: String,
    /// The funder's `accorder`, `rejeter`, `payer`, `acompte`, `annuler`; an
    /// instructor's `completer-demande`, `avis`; the applicant's `retirer`, `completer`.
    #[serde(default)]
    action: String,
    /// Why: a rejection, a withdrawal, a cancellation.
    #[serde(default)]
    motif: String,
    /// What the applicant must add.
    #[serde(default)]
    message: String,
    /// The opinion's text and recommendation (`favorable`, `defavorable`).
    #[serde(default)]
    avis: String,
    #[serde(default)]
    recommandation: String,
    /// An advance: its amount in euros and its day.
    #[serde(default)]
    montant: String,
    #[serde(default)]
    date: String,
    /// The applicant's answer and its purpose as corrected.
    #[serde(default)]
    reponse: String,
    #[serde(default)]
    objet: String,
}

/// Cents of an amount in euros as typed (`1 500`, `1 500,50`); `None` when not one.
fn cents(text: &str) -> Option<i64> {
    fr::parse_cents(text).filter(|cents| *cents > 0)
}

/// Midnight UTC of a day typed `YYYY-MM-DD` (the service reads only its date).
fn day(text: &str) -> Option<prost_types::Timestamp> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let at = day.and_time(chrono::NaiveTime::MIN).and_utc();
    Some(super::common::timestamp(at))
}

/// What a form misses before any call: a required text, an amount, a day.
fn missing(t: &Texts, form: &ActionForm) -> Option<&'static str> {
    let blank = |text: &str| text.trim().is_empty();
    let i = t.instruction;
    match form.action.as_str() {
        "rejeter" if blank(&form.motif) => Some(t.applications.reason_required),
        "annuler" if blank(&form.motif) => Some(i.text_required),
        "completer-demande" if blank(&form.message) => Some(i.text_required),
        "avis" if blank(&form.avis) => Some(i.text_required),
        "completer" if blank(&form.reponse) => Some(i.text_required),
        "acompte" if cents(&form.montant).is_none() => Some(i.amount_invalid),
        "acompte" if day(&form.date).is_none() => Some(i.day_invalid),
        _ => None,
    }
}

/// Does the form's action to its application; the answer, and the code of what was
/// done. `None` for an action that is not one. Over 60 lines: one arm per action, each
/// its own request, so that every form reads next to the call it makes.
async fn decide(
    web: &Web,
    acting: &Acting,
    form: ActionForm,
) -> Option<(Result<(), tonic::Status>, &'static str)> {
    let mut projects = web.api.projects();
    let name = form.demande;
    let reason = form.motif.trim().to_string();
    let answer = match form.action.as_str() {
        "accorder" => (
            projects
                .approve_application(acting.authed(pp::ApproveApplicationRequest { name }))
                .await
                .map(drop),
            "accordee",
        ),
        "rejeter" => (
            projects
                .reject_application(acting.authed(pp::RejectApplicationRequest { name, reason }))
                .await
                .map(drop),
            "rejetee",
        ),
        "payer" => (
            projects
                .pay_application(acting.authed(pp::PayApplicationRequest { name }))
                .await
                .map(drop),
            "payee",
        ),
        "acompte" => {
            let payment = pp::Payment {
                kind: pp::PaymentKind::Advance as i32,
                amount_cents: cents(&form.montant).unwrap_or_default(),
                pay_time: day(&form.date),
                ..Default::default()
            };
            let request = pp::RecordPaymentRequest {
                name,
                payment: Some(payment),
            };
            let answer = projects.record_payment(acting.authed(request)).await;
            (answer.map(drop), "acompte")
        }
        "annuler" => (
            projects
                .cancel_award(acting.authed(pp::CancelAwardRequest { name, reason }))
                .await
                .map(drop),
            "annulee",
        ),
        "completer-demande" => {
            let message = form.message.trim().to_string();
            let request = pp::RequestCompletionRequest { name, message };
            let answer = projects.request_completion(acting.authed(request)).await;
            (answer.map(drop), "a-completer")
        }
        "avis" => {
            let recommendation = if form.recommandation == "defavorable" {
                pp::Recommendation::Reject
            } else {
                pp::Recommendation::Approve
            };
            let request = pp::RecordOpinionRequest {
                name,
                recommendation: recommendation as i32,
                opinion: form.avis.trim().to_string(),
            };
            (
                projects
                    .record_opinion(acting.authed(request))
                    .await
                    .map(drop),
                "avis",
            )
        }
        "retirer" => (
            projects
                .withdraw_application(
                    acting.authed(pp::WithdrawApplicationRequest { name, reason }),
                )
                .await
                .map(drop),
            "retiree",
        ),
        "completer" => {
            let request = pp::CompleteApplicationRequest {
                name,
                answer: form.reponse.trim().to_string(),
                purpose: form.objet.trim().to_string(),
            };
            let answer = projects.complete_application(acting.authed(request)).await;
            (answer.map(drop), "completee")
        }
        _ => return None,
    };
    Some(answer)
}

/// `POST /espace/instruction` and `POST /espace/demandes`: a decision, a step of the
/// instruction, a payment, a withdrawal or a completion; back to the page it came from,
/// which says what was done or why not.
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
    let applicant_page = matches!(form.action.as_str(), "retirer" | "completer");
    if let Some(problem) = missing(t, &form) {
        let problems = Problems::general(problem);
        return back(&web, &acting, applicant_page, problems).await;
    }
    let Some((answer, done)) = decide(&web, &acting, form).await else {
        return super::not_found().await;
    };
    let page = if applicant_page {
        "/espace/demandes"
    } else {
        "/espace/instruction"
    };
    match answer {
        Ok(()) => forms::see_other(&format!("{page}?fait={done}"), None),
        Err(status) => match forms::refused(t, status, &[], |r| t.applications.refusal(r)) {
            Ok(problems) => back(&web, &acting, applicant_page, problems).await,
            Err(page) => *page,
        },
    }
}

/// The page a refused form came from, with why.
async fn back(web: &Web, acting: &Acting, applicant_page: bool, problems: Problems) -> Response {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    if applicant_page {
        super::applications::mine_page(web, acting, status, None, problems).await
    } else {
        super::instruction::instruction_page(web, acting, status, None, problems).await
    }
}

/// The envelope form of a programme the member funds.
#[derive(Debug, Default, Deserialize)]
pub struct EnvelopeForm {
    #[serde(default)]
    csrf: String,
    /// `programmes/{id}`.
    #[serde(default)]
    programme: String,
    /// The new envelope in euros.
    #[serde(default)]
    montant: String,
    /// The deliberation's reference and day.
    #[serde(default)]
    reference: String,
    #[serde(default)]
    date: String,
}

/// `POST /espace/instruction/enveloppe`: the funder records the deliberation that
/// changes an envelope.
pub async fn change_envelope(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<EnvelopeForm>,
) -> Response {
    let t = web.texts;
    let acting = match forms::submitted_for_member(&web, &headers, &form.csrf) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let i = t.instruction;
    let problem = match (cents(&form.montant), day(&form.date)) {
        (None, _) => Some(i.amount_invalid),
        (_, None) => Some(i.day_invalid),
        _ if form.reference.trim().is_empty() => Some(i.text_required),
        _ => None,
    };
    if let Some(problem) = problem {
        return back(&web, &acting, false, Problems::general(problem)).await;
    }
    let request = pp::ChangeEnvelopeRequest {
        name: form.programme.clone(),
        envelope_cents: cents(&form.montant).unwrap_or_default(),
        deliberation_reference: form.reference.trim().to_string(),
        deliberation_time: day(&form.date),
    };
    match web
        .api
        .projects()
        .change_envelope(acting.authed(request))
        .await
    {
        Ok(_) => forms::see_other("/espace/instruction?fait=enveloppe", None),
        Err(status) => match forms::refused(t, status, &[], |r| t.applications.refusal(r)) {
            Ok(problems) => back(&web, &acting, false, problems).await,
            Err(page) => *page,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_days_read_as_people_type_them() {
        assert_eq!(cents("1 500"), Some(150_000));
        assert_eq!(cents("1 500,50"), Some(150_050));
        assert_eq!(cents("0"), None);
        assert_eq!(cents("mille"), None);
        assert_eq!(day("2026-12-06").map(|t| t.seconds), Some(1_796_515_200));
        assert_eq!(day("06/12/2026"), None);
    }
}
