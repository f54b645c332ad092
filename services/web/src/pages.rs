//! The site's sections, one module each: handlers that call the API, turn its answers
//! into view models of ready-to-print French strings, and render a template. What every
//! page shares is here: the error pages and how a gRPC status becomes one.

pub mod account;
pub mod administration;
pub mod allies;
pub mod applications;
pub mod assets;
pub mod ballots;
pub mod booking;
pub mod claims;
pub mod dead_letters;
pub mod decisions;
pub mod emails;
pub mod forms;
pub mod history;
pub mod home;
pub mod instruction;
pub mod involvement;
pub mod joining;
pub mod map;
pub mod meetings;
pub mod nearby;
pub mod needing;
pub mod needs;
pub mod new_budget;
pub mod new_meeting;
pub mod new_process;
pub mod offers;
pub mod organising;
pub mod participant;
pub mod participation;
pub mod places;
pub mod process;
pub mod profile;
pub mod programmes;
pub mod projects;
pub mod proposals;
pub mod proposing;
pub mod purchases;
pub mod reservations;
pub mod resources;
pub mod teams;
pub mod workshops;

mod calendar;
mod common;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use fabrique_api::ProtoEnum;

use crate::texts::{FR, Texts};

/// A page that could not be rendered as asked: what the visitor sees instead.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: &'static Texts,
    title: &'static str,
    body: String,
}

/// A rendered template, or the error page when rendering fails (a bug: logged).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            error_page(
                &FR,
                StatusCode::INTERNAL_SERVER_ERROR,
                FR.unavailable_title,
                FR.unavailable_body.to_string(),
            )
        }
    }
}

pub(crate) fn error_page(
    t: &'static Texts,
    status: StatusCode,
    title: &'static str,
    body: String,
) -> Response {
    let page = ErrorPage { t, title, body };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, title).into_response(),
    }
}

/// The page of a gRPC status: 404 for NOT_FOUND, 400 for a bad request, 503 otherwise
/// (the service is down or failed; the details go to the log, not to the visitor).
pub fn from_status(t: &'static Texts, status: &tonic::Status) -> Response {
    match status.code() {
        tonic::Code::NotFound => error_page(
            t,
            StatusCode::NOT_FOUND,
            t.not_found_title,
            t.not_found_body.to_string(),
        ),
        tonic::Code::InvalidArgument => error_page(
            t,
            StatusCode::BAD_REQUEST,
            t.bad_request_title,
            status.message().to_string(),
        ),
        _ => {
            tracing::warn!(code = ?status.code(), message = status.message(), "an API call failed");
            error_page(
                t,
                StatusCode::SERVICE_UNAVAILABLE,
                t.unavailable_title,
                t.unavailable_body.to_string(),
            )
        }
    }
}

/// Any path the site does not have.
pub async fn not_found() -> Response {
    error_page(
        &FR,
        StatusCode::NOT_FOUND,
        FR.not_found_title,
        FR.not_found_body.to_string(),
    )
}

/// `path?key=value&…` with the non-empty `pairs`, each value percent-encoded (RFC 3986
/// unreserved characters kept): the links that keep a list's filters.
pub fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{key}={}", encode_query(value)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// An enum value in URLs: its proto name without the enum's prefix, in lower case
/// (`PLACE_KIND_FABLAB` → `fablab`).
pub fn enum_code<E: ProtoEnum>(value: E) -> String {
    value
        .as_str_name()
        .trim_start_matches(E::prefix())
        .to_lowercase()
}

/// The value [`enum_code`] wrote, never the unspecified one.
pub fn enum_of_code<E: ProtoEnum>(code: &str) -> Option<E> {
    E::from_str_name(&format!("{}{}", E::prefix(), code.to_uppercase()))
        .filter(|value| *value != E::default())
}

/// Every value but the unspecified one, in the proto's order.
pub fn enum_values<E: ProtoEnum>() -> impl Iterator<Item = E> {
    (1..).map_while(|value| E::try_from(value).ok())
}
