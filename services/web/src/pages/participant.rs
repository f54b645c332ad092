//! A citizen's participant profile (`/participation/profil`): choosing the pseudonym
//! they take part under (`RegisterParticipant`), then the pseudonym, the participant
//! number they show their town hall to have their residence verified, who verified it,
//! and erasing the profile (`EraseParticipant`: contributions stay, anonymised).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use fabrique_api::participation as pa;
use serde::Deserialize;

use super::common::{id_of, member_names, refusal_reason};
use super::forms::{self, Citizen, FieldTexts, Problems};
use super::participation::PROFILE_PATH;
use crate::Web;
use crate::texts::Texts;

#[derive(Template)]
#[template(path = "participant.html")]
struct ParticipantPage {
    t: &'static Texts,
    csrf: String,
    /// Registered: the pseudonym, the number, who verified.
    participant: Option<(String, String, Vec<String>)>,
    pseudonym: String,
    back: String,
    done: Option<&'static str>,
    problems: Problems,
}

/// Where to go back after registering: a page of the section, nothing else.
fn back_to(asked: &str) -> String {
    if asked.starts_with("/participation/") && !asked.contains("//") {
        asked.to_string()
    } else {
        String::new()
    }
}

/// The query of the page.
#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    #[serde(default)]
    retour: String,
    #[serde(default)]
    fait: String,
}

/// The page for `citizen`.
async fn page(
    web: &Web,
    citizen: &Citizen,
    back: String,
    done: Option<&'static str>,
    (pseudonym, problems): (String, Problems),
) -> Response {
    let t = web.texts;
    let request = citizen.authed(pa::GetParticipantRequest {
        name: "participants/me".into(),
    });
    let participant = match web.api.participation().get_participant(request).await {
        Ok(found) => Some(found.into_inner()),
        Err(status) if refusal_reason(&status) == "NOT_A_PARTICIPANT" => None,
        Err(status) => return super::from_status(t, &status),
    };
    let participant = match participant {
        Some(p) => {
            let names = match member_names(web, p.verified_by.clone()).await {
                Ok(names) => names,
                Err(status) => return super::from_status(t, &status),
            };
            let verified = names.into_values().filter(|n| !n.is_empty()).collect();
            Some((
                p.display_name,
                id_of(&p.name, "participants").to_string(),
                verified,
            ))
        }
        None => None,
    };
    let page = ParticipantPage {
        t,
        csrf: citizen.session.csrf.clone(),
        participant,
        pseudonym,
        back,
        done,
        problems,
    };
    forms::private(page.problems.status(), &page)
}

/// The signed-in citizen, else where to go: the sign-in page, or the refusal for a
/// person signed in for a member only.
fn citizen_or_refusal(web: &Web, headers: &HeaderMap) -> Result<Citizen, Box<Response>> {
    if let Some(citizen) = forms::citizen_of(web, headers) {
        return Ok(citizen);
    }
    if forms::session_of(web, headers).is_none() {
        return Err(Box::new(forms::see_other("/connexion", None)));
    }
    Err(Box::new(forms::citizens_only(web)))
}

/// `GET /participation/profil`.
pub async fn show(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(asked): Query<Asked>,
) -> Response {
    let citizen = match citizen_or_refusal(&web, &headers) {
        Ok(citizen) => citizen,
        Err(response) => return *response,
    };
    let done = (asked.fait == "efface").then_some(web.texts.participant.erased);
    let kept = (String::new(), Problems::none());
    page(&web, &citizen, back_to(&asked.retour), done, kept).await
}

/// The profile's forms.
#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    /// `inscrire` or `effacer`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    pseudonyme: String,
    #[serde(default)]
    retour: String,
    /// The erasure's box, checked.
    #[serde(default)]
    confirmer: String,
}

const FIELDS: &FieldTexts = &[(
    "display_name",
    "pseudonyme",
    "Choisissez un pseudonyme de 2 à 40 caractères, qui ne soit pas une adresse \
     électronique.",
)];

/// `POST /participation/profil`: registers under a pseudonym (then back where the
/// citizen was going), or erases the profile once its box is checked.
pub async fn act(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<ProfileForm>,
) -> Response {
    let t = web.texts;
    let citizen = match forms::submitted_by_citizen(&web, &headers, &form.csrf) {
        Ok(citizen) => citizen,
        Err(response) => return *response,
    };
    let back = back_to(&form.retour);
    let mut api = web.api.participation();
    let outcome = if form.action == "effacer" {
        if form.confirmer.is_empty() {
            let mut problems = Problems::general(t.forms.check_fields);
            problems.fields = BTreeMap::from([("confirmer", t.forms.missing.to_string())]);
            return page(&web, &citizen, back, None, (String::new(), problems)).await;
        }
        let request = pa::EraseParticipantRequest {
            name: "participants/me".into(),
        };
        match api.erase_participant(citizen.authed(request)).await {
            Ok(_) => return forms::see_other(&format!("{PROFILE_PATH}?fait=efface"), None),
            Err(status) => status,
        }
    } else {
        let request = pa::RegisterParticipantRequest {
            display_name: form.pseudonyme.trim().to_string(),
        };
        match api.register_participant(citizen.authed(request)).await {
            Ok(_) if !back.is_empty() => return forms::see_other(&back, None),
            Ok(_) => return forms::see_other(PROFILE_PATH, None),
            Err(status) => status,
        }
    };
    match forms::refused(t, outcome, FIELDS, |r| t.participation.refusal(r)) {
        Ok(problems) => page(&web, &citizen, back, None, (form.pseudonyme, problems)).await,
        Err(response) => *response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registering_brings_back_only_to_a_page_of_the_section() {
        assert_eq!(
            back_to("/participation/a/propositions/b"),
            "/participation/a/propositions/b"
        );
        assert_eq!(back_to("https://ailleurs.example/participation/"), "");
        assert_eq!(back_to("/participation//ailleurs.example"), "");
        assert_eq!(back_to("/espace"), "");
    }
}
