//! What an admin sees at the bottom of an ally's, a place's or a resource's page: who
//! changed it and when, from the owning service's audit (`ListChanges`), the person's
//! pseudonymous id for changes made on the site. Nobody else gets the section, and a
//! page that holds it is never cached.

use axum::http::HeaderMap;
use axum::http::header::CACHE_CONTROL;
use axum::response::Response;
use fabrique_api::audit as ap;

use crate::Web;
use crate::fr;
use crate::texts::account::AccountTexts;

/// The service that owns the resource.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    /// `members/{id}`.
    Members,
    /// `places/{id}`.
    Registry,
    /// `resources/{id}`.
    Sharing,
}

/// A change as the table shows it.
pub struct Row {
    /// `6 décembre 2026 à 14 h 05`.
    pub when: String,
    /// What happened, in French.
    pub what: String,
    /// Who: a person, an API client, or the platform itself.
    pub who: String,
}

/// The changes of `resource` when the request's session is an admin's; `None` for
/// anyone else (or when the audit cannot be read: the page shows without it).
pub async fn for_admin(
    web: &Web,
    headers: &HeaderMap,
    owner: Owner,
    resource: &str,
) -> Option<Vec<Row>> {
    let sign_in = web.sign_in.as_ref()?;
    let session = super::forms::session_of(web, headers).filter(|s| s.admin)?;
    let token = sign_in.api.token_for(&session)?;
    let request = crate::api::authed(
        ap::ListChangesRequest {
            resource: resource.to_string(),
            page_size: 30,
            page_token: String::new(),
        },
        &token,
    );
    let answer = match owner {
        Owner::Members => web.api.members().list_changes(request).await,
        Owner::Registry => web.api.registry().list_changes(request).await,
        Owner::Sharing => web.api.sharing().list_changes(request).await,
    };
    let changes = match answer {
        Ok(changes) => changes.into_inner().changes,
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "the audit could not be read");
            return None;
        }
    };
    let a = web.texts.account;
    Some(changes.iter().map(|c| row(a, c)).collect())
}

fn row(a: &AccountTexts, change: &ap::Change) -> Row {
    let when = change
        .change_time
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(fr::date_time)
        .unwrap_or_default();
    let who = match change.actor_type.as_str() {
        "user" => a.changed_by_person.replace("{}", &change.actor),
        "service_account" => a.changed_by_client.replace("{}", &change.actor),
        _ => a.changed_by_platform.to_string(),
    };
    Row {
        when,
        what: a
            .change_label(&change.event_subject)
            .map(str::to_string)
            .unwrap_or_else(|| change.event_subject.clone()),
        who,
    }
}

/// `response`, kept out of every cache when it shows the audit.
pub fn private_if(shown: bool, mut response: Response) -> Response {
    if shown && let Ok(value) = "private, no-store".parse() {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}
