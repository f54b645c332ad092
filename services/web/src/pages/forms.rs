//! What every form of the site goes through: the signed-in person and the member they
//! act for, the CSRF secret and the same-site check, the request id that makes a double
//! submission harmless (the API answers a retry with what the first one made), and the
//! API's refusals told in French — a field violation next to its field, a typed refusal
//! as one sentence — with what was typed kept in the form.

use std::collections::BTreeMap;

use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tonic_types::StatusExt;

use crate::Web;
use crate::auth::{Session, SignIn};
pub use crate::texts::forms::Refused;

/// A page of `status` that no cache keeps: every page of a session.
pub fn private(status: StatusCode, page: &impl askama::Template) -> Response {
    let mut response = super::render(page);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, "no-store".parse().expect("a header value"));
    response
}

/// A redirect after a form (303: the browser follows with a GET), maybe setting a cookie.
pub fn see_other(to: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response();
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, "no-store".parse().expect("a header value"));
    response
}

/// The session of a request, if signed in.
pub fn session_of(web: &Web, headers: &HeaderMap) -> Option<Session> {
    let sign_in = web.sign_in.as_ref()?;
    let cookies = headers
        .get(axum::http::header::COOKIE)
        .and_then(|v| v.to_str().ok());
    Session::from_cookies(sign_in, cookies)
}

/// Whether a form submission may be acted on: from a page of this site (the browser
/// says so in `Sec-Fetch-Site` or `Origin`), carrying the session's CSRF secret.
fn form_is_ours(sign_in: &SignIn, headers: &HeaderMap, session: &Session, csrf: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let same_site = match (header("sec-fetch-site"), header("origin")) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => origin == sign_in.public_url,
        (None, None) => true,
    };
    same_site && crate::auth::same(csrf, &session.csrf)
}

/// The session a form may act on, else the answer to send: to the sign-in page when
/// signed out, a refusal when the form is not from this site or from an older session.
pub fn form_session(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(SignIn, Session), Box<Response>> {
    let t = web.texts;
    let (Some(sign_in), Some(session)) = (&web.sign_in, session_of(web, headers)) else {
        return Err(Box::new(see_other("/connexion", None)));
    };
    if !form_is_ours(sign_in, headers, &session, csrf) {
        return Err(Box::new(super::error_page(
            t,
            StatusCode::FORBIDDEN,
            t.account.sign_in_title,
            t.account.form_expired.to_string(),
        )));
    }
    Ok((sign_in.clone(), session))
}

/// A person acting for a member: what a page or a form of the member's work needs.
pub struct Acting {
    /// Who is signed in.
    pub session: Session,
    /// The member acted for, `members/{id}`.
    pub member: String,
    /// A short-lived API token for that member, carrying the person.
    pub token: String,
}

impl Acting {
    /// `message` with this member's token.
    pub fn authed<T>(&self, message: T) -> tonic::Request<T> {
        crate::api::authed(message, &self.token)
    }
}

/// The member a signed-in person acts for, if any (a page shows them the member's
/// forms; a visitor gets the public page).
pub fn acting_of(web: &Web, headers: &HeaderMap) -> Option<Acting> {
    let sign_in = web.sign_in.as_ref()?;
    acting(sign_in, session_of(web, headers)?)
}

/// `session` acting for its member, with a token for it; `None` when it acts for none.
pub fn acting(sign_in: &SignIn, session: Session) -> Option<Acting> {
    let member = format!("members/{}", session.acting_member()?.id);
    let token = sign_in.api.token_for(&session)?;
    Some(Acting {
        session,
        member,
        token,
    })
}

/// A form submitted for a member: the person's session checked as [`form_session`]
/// does, and the member they act for; a person acting for none is sent to their space
/// to choose one.
pub fn submitted_for_member(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Acting, Box<Response>> {
    let (sign_in, session) = form_session(web, headers, csrf)?;
    acting(&sign_in, session).ok_or_else(|| Box::new(see_other("/espace", None)))
}

/// A page of a member's work: the member acted for, else the sign-in page (signed out)
/// or their space (acting for none).
pub fn page_for_member(web: &Web, headers: &HeaderMap) -> Result<Acting, Box<Response>> {
    let Some(sign_in) = &web.sign_in else {
        return Err(Box::new(see_other("/connexion", None)));
    };
    let Some(session) = session_of(web, headers) else {
        return Err(Box::new(see_other("/connexion", None)));
    };
    acting(sign_in, session).ok_or_else(|| Box::new(see_other("/espace", None)))
}

/// A person taking part in citizen participation: signed in through the OpenID
/// provider, with a short-lived `citizen` token naming them.
pub struct Citizen {
    /// Who is signed in.
    pub session: Session,
    /// Their `citizen` token.
    pub token: String,
}

impl Citizen {
    /// `message` with this person's citizen token.
    pub fn authed<T>(&self, message: T) -> tonic::Request<T> {
        crate::api::authed(message, &self.token)
    }
}

/// The signed-in person as a citizen, if the provider vouched for them (a page shows
/// them its forms; anyone else gets the public page).
pub fn citizen_of(web: &Web, headers: &HeaderMap) -> Option<Citizen> {
    citizen(web.sign_in.as_ref()?, session_of(web, headers)?)
}

/// `session` as a citizen, if the provider vouched for its person.
pub fn citizen(sign_in: &SignIn, session: Session) -> Option<Citizen> {
    let token = sign_in.api.citizen_token(&session)?;
    Some(Citizen { session, token })
}

/// A form submitted by a citizen: the session checked as [`form_session`] does; a
/// person signed in by a one-time link (an officer, an admin) is told that taking part
/// needs the provider's sign-in.
pub fn submitted_by_citizen(
    web: &Web,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Citizen, Box<Response>> {
    let (sign_in, session) = form_session(web, headers, csrf)?;
    citizen(&sign_in, session).ok_or_else(|| Box::new(citizens_only(web)))
}

/// The page that tells a person signed in for a member only that taking part needs
/// the provider's sign-in.
pub fn citizens_only(web: &Web) -> Response {
    let t = web.texts;
    super::error_page(
        t,
        StatusCode::FORBIDDEN,
        t.participation.citizens_only_title,
        t.participation.citizens_only.to_string(),
    )
}

/// Why a form's action did not go through: the page to answer with instead, or the
/// API's refusal to tell on the form's page.
pub enum Outcome {
    /// The page to answer with (signed out, a stale form).
    Answer(Box<Response>),
    /// The API's refusal.
    Refused(tonic::Status),
}

impl From<Box<Response>> for Outcome {
    fn from(response: Box<Response>) -> Self {
        Outcome::Answer(response)
    }
}

impl From<tonic::Status> for Outcome {
    fn from(status: tonic::Status) -> Self {
        Outcome::Refused(status)
    }
}

/// The request id of a form: the one it was sent with when it is a UUID (a refused
/// submission shown again keeps it, so that sending it twice still makes one thing),
/// else a new one. The API makes one thing of every submission carrying it, however
/// many times it is sent.
pub fn request_id(sent: &str) -> String {
    match uuid::Uuid::parse_str(sent.trim()) {
        Ok(id) => id.to_string(),
        Err(_) => uuid::Uuid::new_v4().to_string(),
    }
}

/// What the API refused of a submission, in French: one sentence for the form, and one
/// per field it named.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Problems {
    /// For the whole form (a refusal, or a field the form does not show).
    pub general: Option<String>,
    /// By the form's field name.
    pub fields: BTreeMap<&'static str, String>,
}

/// How a form names the API's fields, and what to say when one is refused: (the API's
/// field path, the form's field name, the sentence).
pub type FieldTexts = [(&'static str, &'static str, &'static str)];

impl Problems {
    /// Nothing refused.
    pub fn none() -> Self {
        Self::default()
    }

    /// One sentence for the whole form.
    pub fn general(message: impl Into<String>) -> Self {
        Problems {
            general: Some(message.into()),
            fields: BTreeMap::new(),
        }
    }

    /// Whether anything was refused.
    pub fn any(&self) -> bool {
        self.general.is_some() || !self.fields.is_empty()
    }

    /// The status of the page that tells them: 422 when fields were refused, 409 when
    /// the whole submission was, 200 when nothing was.
    pub fn status(&self) -> StatusCode {
        if !self.fields.is_empty() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else if self.general.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        }
    }

    /// The sentence for field `name`, empty when it was not refused.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// What a status refused: its field violations by `fields` (an unknown field goes in
    /// the general sentence, with the API's own words), or the typed refusal told by
    /// `refusal`, which gets the code and the facts and may say nothing for a code the
    /// form does not expect. `None` when the status is not a refusal of the submission
    /// (the service is down, the resource is gone): the caller shows the error page.
    /// Over 60 lines: one arm per kind of status a form meets, so that how each reads is
    /// decided in one place.
    pub fn of(
        t: &crate::texts::Texts,
        status: &tonic::Status,
        fields: &FieldTexts,
        refusal: impl Fn(&Refused) -> Option<String>,
    ) -> Option<Self> {
        let details = status.get_error_details();
        match status.code() {
            tonic::Code::InvalidArgument => {
                let mut problems = Problems::none();
                let violations = details
                    .bad_request()
                    .map(|b| b.field_violations.clone())
                    .unwrap_or_default();
                let mut unknown = Vec::new();
                for violation in &violations {
                    // A list's item (`process.steps[1].title`) is told by the list's
                    // entry (`process.steps.title`) when the form has no entry of its own.
                    let unindexed = without_indexes(&violation.field);
                    let entry = fields
                        .iter()
                        .find(|(api, _, _)| *api == violation.field)
                        .or_else(|| fields.iter().find(|(api, _, _)| *api == unindexed));
                    match entry {
                        Some((_, field, text)) => {
                            problems.fields.entry(field).or_insert(text.to_string());
                        }
                        None => {
                            unknown.push(format!("{} : {}", violation.field, violation.description))
                        }
                    }
                }
                if !unknown.is_empty() || violations.is_empty() {
                    problems.general = Some(t.forms.refused_fields(&unknown));
                } else {
                    problems.general = Some(t.forms.check_fields.to_string());
                }
                Some(problems)
            }
            // A server too busy says so without a reason: that is not a refusal of the
            // submission but an unavailable service.
            tonic::Code::ResourceExhausted if details.error_info().is_none() => None,
            tonic::Code::FailedPrecondition
            | tonic::Code::Aborted
            | tonic::Code::AlreadyExists
            | tonic::Code::ResourceExhausted
            | tonic::Code::PermissionDenied => {
                let refused = Refused {
                    reason: details
                        .error_info()
                        .map(|i| i.reason.clone())
                        .unwrap_or_default(),
                    facts: details
                        .error_info()
                        .map(|i| i.metadata.clone())
                        .unwrap_or_default(),
                };
                let message = match status.code() {
                    tonic::Code::PermissionDenied => t.forms.not_allowed.to_string(),
                    _ => refusal(&refused).unwrap_or_else(|| match refused.reason.as_str() {
                        "ETAG_MISMATCH" | "CONCURRENT_CHANGE" => {
                            t.forms.changed_meanwhile.to_string()
                        }
                        "REQUEST_ID_REUSED" => t.forms.sent_twice.to_string(),
                        _ => t.forms.refused(status.message()),
                    }),
                };
                Some(Problems::general(message))
            }
            _ => None,
        }
    }
}

/// `field` without its list indexes: `process.steps[1].title` → `process.steps.title`.
fn without_indexes(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

/// What a refused submission says ([`Problems::of`]), or, when the status is not a
/// refusal of it, the error page to answer with instead.
pub fn refused(
    t: &'static crate::texts::Texts,
    status: tonic::Status,
    fields: &FieldTexts,
    refusal: impl Fn(&Refused) -> Option<String>,
) -> Result<Problems, Box<Response>> {
    Problems::of(t, &status, fields, refusal)
        .ok_or_else(|| Box::new(super::from_status(t, &super::common::item_status(status))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_s_items_are_told_by_the_list_s_entry() {
        assert_eq!(
            without_indexes("process.steps[1].title"),
            "process.steps.title"
        );
        assert_eq!(
            without_indexes("process.territory[12]"),
            "process.territory"
        );
        assert_eq!(without_indexes("display_name"), "display_name");
    }
}
