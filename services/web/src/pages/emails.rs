//! "Courriels reçus" (`/espace/courriels`): for each address of the member acted for
//! (its contact people's, the signed-in person's first), the kinds of e-mail it
//! receives, as the notify service keeps them; an admin acting for no member sees their
//! own address. Every e-mail's footer links here.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::members as mp;
use fabrique_api::notify::{self as np, NotificationKind};
use serde::Deserialize;

use super::forms::{self, Problems};
use crate::Web;
use crate::auth::Session;
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;

/// Where the page is.
pub const PATH: &str = "/espace/courriels";

/// One checkbox.
struct KindChoice {
    code: String,
    label: &'static str,
    checked: bool,
}

/// One address and its form.
struct Address {
    email: String,
    heading: String,
    yours: bool,
    etag: String,
    kinds: Vec<KindChoice>,
    /// Why this address cannot be set now, if so.
    problem: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "emails.html")]
struct EmailsPage {
    t: &'static Texts,
    csrf: String,
    done: Option<&'static str>,
    problems: Problems,
    addresses: Vec<Address>,
}

/// What the page says after its form.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// A person who may set e-mail settings: their session, a token (for the member acted
/// for, or an admin's), and the addresses they may set.
struct Setter {
    session: Session,
    token: String,
}

fn setter(web: &Web, session: Session) -> Option<Setter> {
    let token = web.sign_in.as_ref()?.api.token_for(&session)?;
    Some(Setter { session, token })
}

/// The addresses `setter` may set: the member's contacts' (theirs first), or an admin's
/// own.
async fn addresses_of(web: &Web, setter: &Setter) -> Result<Vec<String>, tonic::Status> {
    let own = setter.session.email.clone();
    let mut addresses = Vec::new();
    if let Some(member) = setter.session.acting_member() {
        let request = crate::api::authed(
            mp::GetMemberRequest {
                name: format!("members/{}", member.id),
            },
            &setter.token,
        );
        let member = web.api.members().get_member(request).await?.into_inner();
        addresses = member
            .contacts
            .iter()
            .map(|c| c.email.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
    } else if let Some(own) = own.clone().filter(|_| setter.session.admin) {
        addresses.push(own);
    }
    addresses.dedup();
    if let Some(own) = own
        && let Some(at) = addresses.iter().position(|a| *a == own)
    {
        let mine = addresses.remove(at);
        addresses.insert(0, mine);
    }
    Ok(addresses)
}

/// The kinds a person is offered: the memberships' only to admins.
fn offered(session: &Session) -> impl Iterator<Item = NotificationKind> + '_ {
    enum_values::<NotificationKind>()
        .filter(|k| session.admin || *k != NotificationKind::Memberships)
}

async fn address(web: &Web, setter: &Setter, email: String) -> Result<Address, tonic::Status> {
    let t = web.texts.emails;
    let request = crate::api::authed(
        np::GetNotificationSettingsRequest {
            name: format!("notificationSettings/{email}"),
        },
        &setter.token,
    );
    let (settings, problem) = match web.api.notify().get_notification_settings(request).await {
        Ok(settings) => (settings.into_inner(), None),
        // The address's contact event has not reached notify yet.
        Err(status) if status.code() == tonic::Code::NotFound => {
            (np::NotificationSettings::default(), Some(t.not_known_yet))
        }
        Err(status) => return Err(status),
    };
    Ok(Address {
        heading: t.address_heading.replace("{address}", &email),
        yours: setter.session.email.as_deref() == Some(email.as_str()),
        etag: settings.etag,
        kinds: offered(&setter.session)
            .map(|k| KindChoice {
                code: enum_code(k),
                label: t.kind(k),
                checked: !settings.disabled_kinds.contains(&(k as i32)),
            })
            .collect(),
        problem,
        email,
    })
}

async fn page(
    web: &Web,
    setter: &Setter,
    status: StatusCode,
    done: Option<&'static str>,
    problems: Problems,
) -> Response {
    let t = web.texts;
    let emails = match addresses_of(web, setter).await {
        Ok(emails) => emails,
        Err(status) => return super::from_status(t, &status),
    };
    let mut addresses = Vec::new();
    for email in emails {
        match address(web, setter, email).await {
            Ok(address) => addresses.push(address),
            Err(status) => return super::from_status(t, &status),
        }
    }
    forms::private(
        status,
        &EmailsPage {
            t,
            csrf: setter.session.csrf.clone(),
            done,
            problems,
            addresses,
        },
    )
}

/// `GET /espace/courriels`.
pub async fn show(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let Some(setter) = forms::session_of(&web, &headers).and_then(|s| setter(&web, s)) else {
        return forms::see_other(
            if forms::session_of(&web, &headers).is_some() {
                "/espace"
            } else {
                "/connexion"
            },
            None,
        );
    };
    let done = (done.fait == "enregistre").then_some(web.texts.emails.saved);
    page(&web, &setter, StatusCode::OK, done, Problems::none()).await
}

/// `POST /espace/courriels`: one address's kinds, those checked received.
pub async fn save(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let t = web.texts;
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (_, session) = match forms::form_session(&web, &headers, &value("csrf")) {
        Ok(found) => found,
        Err(refusal) => return *refusal,
    };
    let Some(setter) = setter(&web, session) else {
        return forms::see_other("/espace", None);
    };
    let email = value("adresse");
    // Only the addresses the page offers: the API would refuse others anyway.
    match addresses_of(&web, &setter).await {
        Ok(addresses) if addresses.contains(&email) => {}
        Ok(_) => return super::not_found().await,
        Err(status) => return super::from_status(t, &status),
    }
    let received: Vec<NotificationKind> = pairs
        .iter()
        .filter(|(k, _)| k == "recoit")
        .filter_map(|(_, v)| enum_of_code::<NotificationKind>(v))
        .collect();
    let disabled = offered(&setter.session)
        .filter(|k| !received.contains(k))
        .map(|k| k as i32)
        .collect();
    let request = crate::api::authed(
        np::UpdateNotificationSettingsRequest {
            settings: Some(np::NotificationSettings {
                name: format!("notificationSettings/{email}"),
                disabled_kinds: disabled,
                etag: value("etag"),
                ..Default::default()
            }),
        },
        &setter.token,
    );
    match web.api.notify().update_notification_settings(request).await {
        Ok(_) => forms::see_other(&format!("{PATH}?fait=enregistre"), None),
        Err(status) if status.code() == tonic::Code::Aborted => {
            let problems = Problems::general(t.emails.changed_meanwhile);
            page(&web, &setter, StatusCode::CONFLICT, None, problems).await
        }
        Err(status) if status.code() == tonic::Code::NotFound => {
            let problems = Problems::general(t.emails.not_known_yet);
            page(&web, &setter, StatusCode::CONFLICT, None, problems).await
        }
        Err(status) => super::from_status(t, &status),
    }
}
