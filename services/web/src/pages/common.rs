//! What the sections' pages share: the public names of the members and places an item
//! names (looked up in the directory and the registry, as a visitor may), a text cut
//! into paragraphs, links, and how an item's id that the API refuses becomes a 404.

use std::collections::BTreeMap;

use fabrique_api::members as mp;
use fabrique_api::registry as rp;

use crate::Web;

/// A link of a page: where, and the words of it.
#[derive(Clone)]
pub struct Link {
    /// Where it goes (a path of the site, or an http(s) URL).
    pub href: String,
    /// What it says.
    pub text: String,
}

/// One option of a `<select>`: its value, its words, whether it is the one chosen.
pub struct Choice {
    /// What the form sends.
    pub value: String,
    /// What the person reads.
    pub label: String,
    /// Chosen (the value the page was asked with, or kept from a refused form).
    pub selected: bool,
}

/// The id part of a `{collection}/{id}` name.
pub fn id_of<'a>(name: &'a str, collection: &str) -> &'a str {
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(name)
}

/// The status of an item's page: an id the API finds malformed is a page that does not
/// exist, not a bad request.
pub fn item_status(status: tonic::Status) -> tonic::Status {
    if status.code() == tonic::Code::InvalidArgument {
        tonic::Status::not_found(status.message())
    } else {
        status
    }
}

/// `text`'s paragraphs (separated by a blank line), trimmed, none empty.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// The public names of `members` (`members/{id}`), looked up once each; a member the
/// public directory does not show keeps an empty name.
pub async fn member_names(
    web: &Web,
    members: Vec<String>,
) -> Result<BTreeMap<String, String>, tonic::Status> {
    let mut names = BTreeMap::new();
    for member in members {
        if member.is_empty() || names.contains_key(&member) {
            continue;
        }
        let found = web
            .api
            .members()
            .get_member(mp::GetMemberRequest {
                name: member.clone(),
            })
            .await;
        match found {
            Ok(found) => {
                names.insert(member, found.into_inner().display_name);
            }
            Err(status) if status.code() == tonic::Code::NotFound => {
                names.insert(member, String::new());
            }
            Err(status) => return Err(status),
        }
    }
    Ok(names)
}

/// A link to the member's page in the directory, or `None` when the directory does not
/// show it.
pub fn member_link(names: &BTreeMap<String, String>, member: &str) -> Option<Link> {
    names
        .get(member)
        .filter(|name| !name.is_empty())
        .map(|name| Link {
            href: format!("/allies/{}", id_of(member, "members")),
            text: name.clone(),
        })
}

/// A link to the listed place `place` (`places/{id}`), or `None` when there is no place
/// or the registry does not show it to the public.
pub async fn place_link(web: &Web, place: &str) -> Result<Option<Link>, tonic::Status> {
    if place.is_empty() {
        return Ok(None);
    }
    let found = web
        .api
        .registry()
        .get_place(rp::GetPlaceRequest {
            name: place.to_string(),
        })
        .await;
    match found {
        Ok(found) => Ok(Some(Link {
            href: format!("/lieux/{}", id_of(place, "places")),
            text: found.into_inner().display_name,
        })),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(status),
    }
}

/// A timestamp of the API as an instant.
pub fn instant(ts: &Option<prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    ts.as_ref()
        .and_then(|ts| chrono::DateTime::from_timestamp(ts.seconds, 0))
}

/// An instant as the API's timestamp (to the second).
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// A timestamp of the API as its day in Paris, `6 décembre 2026`.
pub fn paris_date(ts: &Option<prost_types::Timestamp>) -> Option<String> {
    instant(ts).map(|at| crate::fr::date(crate::fr::in_paris(at).date_naive()))
}

/// The `ErrorInfo.reason` of a refusal (`SLOT_TAKEN`), empty for other errors.
pub fn refusal_reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_their_ids_and_texts_their_paragraphs() {
        assert_eq!(id_of("members/abc", "members"), "abc");
        assert_eq!(id_of("groupPurchases/x1", "groupPurchases"), "x1");
        assert_eq!(id_of("abc", "members"), "abc");
        assert_eq!(paragraphs("Un.\n\n\n\n  Deux. \n\n"), ["Un.", "Deux."]);
        let mut names = BTreeMap::new();
        names.insert("members/a".to_string(), "Thiers".to_string());
        names.insert("members/b".to_string(), String::new());
        assert_eq!(
            member_link(&names, "members/a").map(|l| l.href),
            Some("/allies/a".to_string())
        );
        assert!(member_link(&names, "members/b").is_none());
        assert!(member_link(&names, "members/c").is_none());
    }
}
