//! Signing in and out, and the member's space: the sign-in page, one-time links
//! (`/connexion/lien/{jeton}` shows a button, pressing it signs in), `/espace` (who is
//! signed in, the member they act for as the API shows it to that member, the chooser
//! when they may act for several) and sign-out. Every form carries the session's CSRF
//! secret and must come from this site; sign-in attempts are limited per address; no
//! page of a session may be cached.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::members as mp;
use serde::Deserialize;

use super::forms::{form_session, private, see_other, session_of};
use crate::Web;
use crate::auth::link::{LinkFor, LinkRefusal};
use crate::auth::session::Membership;
use crate::auth::{Session, SignIn};
use crate::texts::Texts;
use crate::texts::account::AccountTexts;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    t: &'static Texts,
    a: &'static AccountTexts,
    available: bool,
    /// The provider's button, when one is configured.
    provider: Option<String>,
    message: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    t: &'static Texts,
    a: &'static AccountTexts,
    token: String,
    button: String,
}

/// The member acted for, as the API shows it to that member.
struct MemberView {
    name: String,
    href: String,
    contacts: Vec<String>,
}

/// A member one may act for, in the chooser.
struct Choice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "space.html")]
struct SpacePage {
    t: &'static Texts,
    a: &'static AccountTexts,
    signed_in_as: String,
    admin: bool,
    member: Option<MemberView>,
    /// What the member is part of; `None` when it could not be read (the page still
    /// shows the rest).
    involvement: Option<super::involvement::Involvement>,
    choices: Vec<Choice>,
    /// Whether the person may take part in citizen participation (signed in through
    /// the provider).
    citizen: bool,
    csrf: String,
}

/// The sign-in page with `message` (a refusal) and its status.
fn sign_in_page(web: &Web, status: StatusCode, message: Option<&'static str>) -> Response {
    let t = web.texts;
    private(
        status,
        &SignInPage {
            t,
            a: t.account,
            available: web.sign_in.is_some(),
            provider: web
                .sign_in
                .as_ref()
                .and_then(|s| s.oidc.as_ref())
                .map(|o| t.account.sign_in_with.replace("{}", &o.config.name)),
            message,
        },
    )
}

/// `GET /connexion`.
pub async fn sign_in(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    if session_of(&web, &headers).is_some() {
        return see_other("/espace", None);
    }
    sign_in_page(&web, StatusCode::OK, None)
}

/// Why a link does not sign in, in the visitor's words, with its status.
fn link_refused(web: &Web, refusal: LinkRefusal) -> Response {
    let a = web.texts.account;
    let (status, message) = match refusal {
        LinkRefusal::Expired => (StatusCode::GONE, a.link_expired),
        LinkRefusal::Used => (StatusCode::GONE, a.link_used),
        LinkRefusal::Invalid => (StatusCode::BAD_REQUEST, a.link_invalid),
    };
    sign_in_page(web, status, Some(message))
}

/// `GET /connexion/lien/{jeton}`: the button that uses the link (the link itself is not
/// used by opening it).
pub async fn link(State(web): State<Arc<Web>>, Path(token): Path<String>) -> Response {
    let t = web.texts;
    let Some(sign_in) = &web.sign_in else {
        return sign_in_page(&web, StatusCode::NOT_FOUND, None);
    };
    let link = match sign_in.links.check(&sign_in.session_key, &token) {
        Ok(link) => link,
        Err(refusal) => return link_refused(&web, refusal),
    };
    let button = match &link.whom {
        LinkFor::Admin => t.account.link_as_admin.to_string(),
        LinkFor::Member(id) => match member_name(&web, id).await {
            Some(name) => t.account.link_as_member.replace("{}", &name),
            None => return link_refused(&web, LinkRefusal::Invalid),
        },
    };
    private(
        StatusCode::OK,
        &LinkPage {
            t,
            a: t.account,
            token,
            button,
        },
    )
}

/// The form of a link's button.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    jeton: String,
}

/// `POST /connexion/lien`: uses the link, opens the session.
pub async fn use_link(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LinkForm>,
) -> Response {
    let Some(sign_in) = &web.sign_in else {
        return sign_in_page(&web, StatusCode::NOT_FOUND, None);
    };
    if !sign_in.limiter.allow(peer.ip()) {
        let message = web.texts.account.too_many_attempts;
        return sign_in_page(&web, StatusCode::TOO_MANY_REQUESTS, Some(message));
    }
    let link = match sign_in.links.consume(&sign_in.session_key, &form.jeton) {
        Ok(link) => link,
        Err(refusal) => return link_refused(&web, refusal),
    };
    let session = match link.whom {
        LinkFor::Admin => Session::new(
            "lien:admin".into(),
            "Administrateur".into(),
            true,
            Vec::new(),
        ),
        LinkFor::Member(id) => {
            let Some(name) = member_name(&web, &id).await else {
                return link_refused(&web, LinkRefusal::Invalid);
            };
            Session::new(
                format!("lien:members/{id}"),
                name.clone(),
                false,
                vec![Membership { id, name }],
            )
        }
    };
    tracing::info!(person = %session.sub, "signed in with a one-time link");
    see_other("/espace", Some(session.set_cookie(sign_in)))
}

/// The name of active member `id`, as the public directory gives it.
async fn member_name(web: &Web, id: &str) -> Option<String> {
    let request = mp::GetMemberRequest {
        name: format!("members/{id}"),
    };
    let member = web.api.members().get_member(request).await.ok()?;
    Some(member.into_inner().display_name)
}

/// `GET /espace`: who is signed in and the member they act for.
pub async fn space(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    let t = web.texts;
    let (Some(sign_in), Some(session)) = (&web.sign_in, session_of(&web, &headers)) else {
        return see_other("/connexion", None);
    };
    let (member, involvement) = match session.acting_member() {
        Some(acting) => {
            let token = sign_in.api.token_for(&session).unwrap_or_default();
            let name = format!("members/{}", acting.id);
            let request = crate::api::authed(mp::GetMemberRequest { name: name.clone() }, &token);
            let member = match web.api.members().get_member(request).await {
                Ok(member) => member_view(&member.into_inner()),
                Err(status) => return super::from_status(t, &status),
            };
            let involvement = super::involvement::of(&web, &token, &name)
                .await
                .inspect_err(|status| tracing::warn!(%status, "what the member is part of"))
                .ok();
            (Some(member), involvement)
        }
        None => (None, None),
    };
    private(
        StatusCode::OK,
        &SpacePage {
            t,
            a: t.account,
            signed_in_as: t.account.signed_in_as.replace("{}", &session.name),
            admin: session.admin,
            member,
            involvement,
            choices: session
                .members
                .iter()
                .map(|m| Choice {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    selected: session.acting.as_ref() == Some(&m.id),
                })
                .collect(),
            citizen: sign_in.api.citizen_token(&session).is_some(),
            csrf: session.csrf.clone(),
        },
    )
}

fn member_view(member: &mp::Member) -> MemberView {
    MemberView {
        name: member.display_name.clone(),
        href: format!(
            "/allies/{}",
            member.name.strip_prefix("members/").unwrap_or_default()
        ),
        contacts: member
            .contacts
            .iter()
            .map(|c| {
                [c.full_name.as_str(), c.title.as_str(), c.email.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" — ")
            })
            .collect(),
    }
}

/// A form of the space: its CSRF secret, and the member chosen.
#[derive(Debug, Deserialize)]
pub struct SpaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    membre: String,
}

/// `POST /espace/membre`: act for another of one's members.
pub async fn choose_member(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<SpaceForm>,
) -> Response {
    let (sign_in, mut session) = match form_session(&web, &headers, &form.csrf) {
        Ok(found) => found,
        Err(refusal) => return *refusal,
    };
    if session.members.iter().any(|m| m.id == form.membre) {
        session.acting = Some(form.membre);
    }
    see_other("/espace", Some(session.set_cookie(&sign_in)))
}

/// `POST /deconnexion`.
pub async fn sign_out(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Form(form): Form<SpaceForm>,
) -> Response {
    let (sign_in, session) = match form_session(&web, &headers, &form.csrf) {
        Ok(found) => found,
        Err(refusal) => return *refusal,
    };
    tracing::info!(person = %session.sub, "signed out");
    see_other("/", Some(Session::clear_cookie(&sign_in)))
}

/// `GET /connexion/oidc`: off to the provider.
pub async fn oidc_start(State(web): State<Arc<Web>>) -> Response {
    let (Some(sign_in), Some(oidc)) = (
        web.sign_in.as_ref(),
        web.sign_in.as_ref().and_then(|s| s.oidc.clone()),
    ) else {
        return sign_in_page(&web, StatusCode::NOT_FOUND, None);
    };
    match oidc.start(sign_in).await {
        Ok((to, cookie)) => see_other(&to, Some(cookie)),
        Err(error) => {
            tracing::warn!(%error, "the OpenID provider cannot be reached");
            let message = web.texts.account.provider_unavailable;
            sign_in_page(&web, StatusCode::SERVICE_UNAVAILABLE, Some(message))
        }
    }
}

/// The provider's answer.
#[derive(Debug, Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// `GET /connexion/retour`: back from the provider; the session of the person it
/// vouched for, acting for the first active member whose contact they are.
pub async fn oidc_callback(
    State(web): State<Arc<Web>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::extract::Query(callback): axum::extract::Query<Callback>,
) -> Response {
    let a = web.texts.account;
    let (Some(sign_in), Some(oidc)) = (
        web.sign_in.as_ref(),
        web.sign_in.as_ref().and_then(|s| s.oidc.clone()),
    ) else {
        return sign_in_page(&web, StatusCode::NOT_FOUND, None);
    };
    if !sign_in.limiter.allow(peer.ip()) {
        return sign_in_page(
            &web,
            StatusCode::TOO_MANY_REQUESTS,
            Some(a.too_many_attempts),
        );
    }
    if !callback.error.is_empty() {
        // The person declined, or the provider refused: say so, start again.
        return sign_in_page(&web, StatusCode::FORBIDDEN, Some(a.provider_refused));
    }
    let cookies = headers
        .get(axum::http::header::COOKIE)
        .and_then(|v| v.to_str().ok());
    let person = match oidc
        .finish(sign_in, cookies, &callback.code, &callback.state)
        .await
    {
        Ok(person) => person,
        Err(error) => {
            tracing::warn!(%error, "an OpenID sign-in failed");
            return sign_in_page(&web, StatusCode::FORBIDDEN, Some(a.provider_refused));
        }
    };
    let members = match &person.email {
        Some(email) => memberships(&web, sign_in, &person.id, email).await,
        None => Ok(Vec::new()),
    };
    let Ok(members) = members else {
        let message = a.provider_unavailable;
        return sign_in_page(&web, StatusCode::SERVICE_UNAVAILABLE, Some(message));
    };
    let session = Session::new(person.id.clone(), person.name, person.admin, members)
        .with_email(person.email.clone());
    tracing::info!(person = %person.id, admin = session.admin, members = session.members.len(), "signed in");
    let mut response = see_other("/espace", Some(session.set_cookie(sign_in)));
    // The flow's cookie is spent.
    if let Ok(forget) = crate::auth::oidc::flow_cookie(sign_in, "", 0).parse() {
        response.headers_mut().append(SET_COOKIE, forget);
    }
    response
}

/// The active members one of whose contact people has `email`.
async fn memberships(
    web: &Web,
    sign_in: &SignIn,
    person: &str,
    email: &str,
) -> Result<Vec<Membership>, tonic::Status> {
    let token = sign_in.api.lookup_token(person).unwrap_or_default();
    let request = crate::api::authed(
        mp::ListMembersRequest {
            page_size: 50,
            states: vec![mp::MemberState::Active as i32],
            contact_email: email.to_string(),
            ..Default::default()
        },
        &token,
    );
    let found = web.api.members().list_members(request).await?.into_inner();
    Ok(found
        .members
        .into_iter()
        .map(|m| Membership {
            id: m
                .name
                .strip_prefix("members/")
                .unwrap_or_default()
                .to_string(),
            name: m.display_name,
        })
        .collect())
}
