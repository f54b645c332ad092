//! "Notre fiche" (`/espace/fiche`): what a member may change of itself — its name, its
//! territory, its website and its contact people (name, role, e-mail, title) — as
//! `UpdateMember` allows a member (its kind, SIREN and INSEE code are the admins'). The
//! contacts are rows of the form (two empty ones to add people, without JavaScript); the
//! etag read with the page makes a concurrent change a refusal, not a loss.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fabrique_api::members::{self as mp, ContactRole};

use super::forms::{self, Acting, FieldTexts, Problems};
use crate::Web;
use crate::pages::{enum_code, enum_of_code, enum_values};
use crate::texts::Texts;

/// Where the page is.
pub const PATH: &str = "/espace/fiche";
/// Empty contact rows offered beyond the member's people.
const EMPTY_ROWS: usize = 2;

/// One contact row, as typed.
#[derive(Debug, Clone, Default)]
pub struct ContactRow {
    full_name: String,
    role: String,
    email: String,
    title: String,
}

/// One option of a role `<select>`.
struct RoleChoice {
    value: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    t: &'static Texts,
    csrf: String,
    etag: String,
    display_name: String,
    territory: String,
    website: String,
    rows: Vec<ContactRow>,
    roles: Vec<RoleChoice>,
    done: bool,
    problems: Problems,
}

impl ProfilePage {
    fn field(&self, name: &str) -> &str {
        self.problems.field(name)
    }
}

/// How the form names the API's fields.
const MEMBER_FIELDS: &FieldTexts = &[
    (
        "member.display_name",
        "nom",
        "Donnez un nom de 1 à 200 caractères.",
    ),
    (
        "member.territory",
        "territoire",
        "Le territoire fait au plus 200 caractères.",
    ),
    (
        "member.website",
        "site",
        "Donnez une adresse qui commence par https:// ou http://.",
    ),
];

fn rows_of(member: &mp::Member) -> Vec<ContactRow> {
    member
        .contacts
        .iter()
        .map(|c| ContactRow {
            full_name: c.full_name.clone(),
            role: enum_code(ContactRole::try_from(c.role).unwrap_or_default()),
            email: c.email.clone(),
            title: c.title.clone(),
        })
        .chain(std::iter::repeat_with(ContactRow::default).take(EMPTY_ROWS))
        .collect()
}

fn page(
    t: &'static Texts,
    acting: &Acting,
    status: StatusCode,
    (display_name, territory, website, etag): (String, String, String, String),
    rows: Vec<ContactRow>,
    done: bool,
    problems: Problems,
) -> Response {
    forms::private(
        status,
        &ProfilePage {
            t,
            csrf: acting.session.csrf.clone(),
            etag,
            display_name,
            territory,
            website,
            rows,
            roles: enum_values::<ContactRole>()
                .map(|r| RoleChoice {
                    value: enum_code(r),
                    label: t.projects.role(&enum_code(r)),
                })
                .collect(),
            done,
            problems,
        },
    )
}

/// The contact rows a refusal names (`member.contacts[2].email`), numbered as the
/// form shows them, with the API's words.
fn refused_rows(status: &tonic::Status, kept: &[&ContactRow]) -> Vec<String> {
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let Some(bad) = details.bad_request() else {
        return Vec::new();
    };
    bad.field_violations
        .iter()
        .filter_map(|v| {
            let index: usize = v
                .field
                .strip_prefix("member.contacts[")?
                .split(']')
                .next()?
                .parse()
                .ok()?;
            let row = kept.get(index)?;
            Some(if row.full_name.is_empty() {
                format!("contact {} : {}", index + 1, v.description)
            } else {
                format!(
                    "contact {} ({}) : {}",
                    index + 1,
                    row.full_name,
                    v.description
                )
            })
        })
        .collect()
}

/// What the page says after saving.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// `GET /espace/fiche`.
pub async fn show(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let acting = match forms::page_for_member(&web, &headers) {
        Ok(acting) => acting,
        Err(answer) => return *answer,
    };
    let t = web.texts;
    let request = acting.authed(mp::GetMemberRequest {
        name: acting.member.clone(),
    });
    let member = match web.api.members().get_member(request).await {
        Ok(member) => member.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let rows = rows_of(&member);
    let fields = (
        member.display_name,
        member.territory,
        member.website,
        member.etag,
    );
    let done = done.fait == "enregistree";
    page(
        t,
        &acting,
        StatusCode::OK,
        fields,
        rows,
        done,
        Problems::none(),
    )
}

/// The contact rows of a submitted form, in order: each `contact-nom` starts one.
fn typed_rows(pairs: &[(String, String)]) -> Vec<ContactRow> {
    let mut rows: Vec<ContactRow> = Vec::new();
    for (key, typed) in pairs {
        let typed = typed.trim().to_string();
        if key == "contact-nom" {
            rows.push(ContactRow {
                full_name: typed,
                ..Default::default()
            });
            continue;
        }
        let Some(row) = rows.last_mut() else {
            continue;
        };
        match key.as_str() {
            "contact-role" => row.role = typed,
            "contact-courriel" => row.email = typed,
            "contact-fonction" => row.title = typed,
            _ => {}
        }
    }
    rows
}

impl ContactRow {
    /// A row left empty: no contact (how a person is removed).
    fn is_blank(&self) -> bool {
        self.full_name.is_empty() && self.email.is_empty() && self.title.is_empty()
    }

    /// The contact the row describes; an unknown role is "other".
    fn to_proto(&self) -> mp::Contact {
        mp::Contact {
            full_name: self.full_name.clone(),
            role: enum_of_code::<ContactRole>(&self.role).unwrap_or(ContactRole::Other) as i32,
            email: self.email.clone(),
            title: self.title.clone(),
        }
    }
}

/// `POST /espace/fiche`: the member's name, territory, website and contact people.
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
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let acting = match forms::submitted_for_member(&web, &headers, &value("csrf")) {
        Ok(acting) => acting,
        Err(refusal) => return *refusal,
    };
    let rows = typed_rows(&pairs);
    let kept: Vec<&ContactRow> = rows.iter().filter(|r| !r.is_blank()).collect();
    let fields = (
        value("nom"),
        value("territoire"),
        value("site"),
        value("etag"),
    );
    let request = acting.authed(mp::UpdateMemberRequest {
        member: Some(mp::Member {
            name: acting.member.clone(),
            display_name: fields.0.clone(),
            territory: fields.1.clone(),
            website: fields.2.clone(),
            contacts: kept.iter().map(|r| r.to_proto()).collect(),
            etag: fields.3.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: ["display_name", "territory", "website", "contacts"]
                .map(String::from)
                .to_vec(),
        }),
    });
    match web.api.members().update_member(request).await {
        Ok(_) => forms::see_other(&format!("{PATH}?fait=enregistree"), None),
        Err(status) => refused(t, &acting, status, fields, rows),
    }
}

/// The form again after a refusal: what was typed, and why, a refused contact row named.
fn refused(
    t: &'static Texts,
    acting: &Acting,
    status: tonic::Status,
    fields: (String, String, String, String),
    rows: Vec<ContactRow>,
) -> Response {
    let kept: Vec<&ContactRow> = rows.iter().filter(|r| !r.is_blank()).collect();
    let contact_rows = refused_rows(&status, &kept);
    let mut problems = match forms::refused(t, status, MEMBER_FIELDS, |_| None) {
        Ok(problems) => problems,
        Err(page) => return *page,
    };
    // A refused contact row is a field of the form, however the API words it.
    let status = if contact_rows.is_empty() {
        problems.status()
    } else {
        problems.general = Some(t.profile.contact_problem(&contact_rows));
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let rows = rows
        .into_iter()
        .chain(std::iter::repeat_with(ContactRow::default).take(EMPTY_ROWS))
        .collect();
    page(t, acting, status, fields, rows, false, problems)
}
