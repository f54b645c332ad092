//! "Besoins": what allies are looking for, and a need's page — who seeks it, what kind,
//! where and how far, when, how much. Reads the sharing service's public calls
//! (`ListNeeds`, `GetNeed`: OPEN needs), the public directory and the registry, without
//! a token.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fabrique_api::sharing::{self as sp, QuantityUnit, ResourceKind};
use serde::Deserialize;

use super::common::{
    self, Link, id_of, item_status, member_link, member_names, paragraphs, paris_date,
};
use crate::texts::Texts;
use crate::{Web, fr};

/// Needs per page of the list.
const PAGE_SIZE: i32 = 30;
/// The longest title a need's description gives, in characters.
const TITLE_CHARS: usize = 80;

/// The list's page token.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    page: String,
    /// `clos` after a need was closed.
    #[serde(default)]
    fait: String,
}

/// A need in the list.
struct NeedCard {
    href: String,
    title: String,
    kind: &'static str,
    member: String,
    posted: String,
}

#[derive(Template)]
#[template(path = "needs.html")]
struct NeedsPage {
    t: &'static Texts,
    title: &'static str,
    needs: Vec<NeedCard>,
    count: String,
    next: Option<String>,
    paged: bool,
    /// After its member closed a need.
    closed: bool,
}

/// A title for a need: its description's first line, cut at a word before
/// [`TITLE_CHARS`] characters (with `…`).
pub(super) fn title_of(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= TITLE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(TITLE_CHARS).collect();
    let words = cut.rsplit_once(' ').map(|(head, _)| head).unwrap_or(&cut);
    format!("{}…", words.trim_end_matches([',', ';', ':', ' ']))
}

fn kind_of(t: &Texts, need: &sp::Need) -> &'static str {
    match ResourceKind::try_from(need.kind) {
        Ok(ResourceKind::Unspecified) | Err(_) => t.sharing.any_kind,
        Ok(kind) => t.sharing.resource_kind(kind),
    }
}

/// `GET /besoins`.
pub async fn list(State(web): State<Arc<Web>>, Query(paging): Query<Paging>) -> Response {
    let t = web.texts;
    let response = match web
        .api
        .sharing()
        .list_needs(sp::ListNeedsRequest {
            page_size: PAGE_SIZE,
            page_token: paging.page.clone(),
            ..Default::default()
        })
        .await
    {
        Ok(response) => response.into_inner(),
        Err(status) => return super::from_status(t, &status),
    };
    let members: Vec<String> = response.needs.iter().map(|n| n.member.clone()).collect();
    let names = match member_names(&web, members).await {
        Ok(names) => names,
        Err(status) => return super::from_status(t, &status),
    };
    let needs: Vec<NeedCard> = response
        .needs
        .iter()
        .map(|n| NeedCard {
            href: format!("/besoins/{}", id_of(&n.name, "needs")),
            title: title_of(&n.description),
            kind: kind_of(t, n),
            member: names.get(&n.member).cloned().unwrap_or_default(),
            posted: paris_date(&n.create_time).unwrap_or_default(),
        })
        .collect();
    let next = (!response.next_page_token.is_empty())
        .then(|| super::href("/besoins", &[("page", response.next_page_token.as_str())]));
    super::render(&NeedsPage {
        t,
        title: t.sharing.needs_title,
        count: t.sharing.needs_count(needs.len()),
        needs,
        next,
        paged: !paging.page.is_empty(),
        closed: paging.fait == "clos",
    })
}

#[derive(Template)]
#[template(path = "need.html")]
struct NeedPage {
    t: &'static Texts,
    title: String,
    description: Vec<String>,
    member: Option<Link>,
    facts: Vec<(&'static str, String)>,
    place: Option<Link>,
    /// For the member that posted it: what matches it, and its closing form.
    yours: Option<Yours>,
}

/// What the member that posted a need sees on its page.
struct Yours {
    csrf: String,
    close: String,
    matches: Vec<super::needing::MatchRow>,
}

/// `GET /besoins/{id}`: the need, then who posted it and its place at once; for the
/// member that posted it, the resources that match it and its closing form.
pub async fn show(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let t = web.texts;
    let need = match web
        .api
        .sharing()
        .get_need(sp::GetNeedRequest {
            name: format!("needs/{id}"),
        })
        .await
    {
        Ok(need) => need.into_inner(),
        Err(status) => return super::from_status(t, &item_status(status)),
    };
    let (names, place) = match tokio::try_join!(
        member_names(&web, vec![need.member.clone()]),
        common::place_link(&web, &need.place),
    ) {
        Ok(found) => found,
        Err(status) => return super::from_status(t, &status),
    };
    let acting = super::forms::acting_of(&web, &headers).filter(|a| a.member == need.member);
    let Some(acting) = acting else {
        return super::render(&need_page(t, need, &names, place, None));
    };
    let yours = match super::needing::matches(&web, &acting, &need.name).await {
        Ok(matches) => Yours {
            csrf: acting.session.csrf.clone(),
            close: format!("/besoins/{id}/clore"),
            matches,
        },
        Err(status) => return super::from_status(t, &status),
    };
    super::forms::private(
        axum::http::StatusCode::OK,
        &need_page(t, need, &names, place, Some(yours)),
    )
}

/// When a need is wanted, in a sentence.
fn when(t: &Texts, need: &sp::Need) -> Option<String> {
    let start = fr::in_paris(common::instant(&need.start_time)?);
    let end = fr::in_paris(common::instant(&need.end_time)?);
    let moment = |at: chrono::DateTime<chrono::FixedOffset>| {
        use chrono::Timelike;
        (
            fr::weekday_date(at.date_naive()),
            fr::clock(at.hour(), at.minute()),
        )
    };
    let same_day = start.date_naive() == end.date_naive();
    Some(
        t.sharing
            .wanted_between(moment(start), moment(end), same_day),
    )
}

fn need_page(
    t: &'static Texts,
    need: sp::Need,
    names: &BTreeMap<String, String>,
    place: Option<Link>,
    yours: Option<Yours>,
) -> NeedPage {
    let mut facts = vec![(t.sharing.wanted_kind, kind_of(t, &need).to_string())];
    if place.is_some() && need.radius_km > 0.0 {
        facts.push((t.sharing.radius, t.sharing.within_km(need.radius_km)));
    }
    if let Some(when) = when(t, &need) {
        facts.push((t.sharing.when, when));
    }
    if let Some(quantity) = need.quantity.filter(|q| q.amount > 0.0) {
        let unit = QuantityUnit::try_from(quantity.unit).unwrap_or_default();
        facts.push((
            t.sharing.quantity,
            t.sharing.quantity_of(quantity.amount, unit),
        ));
    }
    if let Some(posted) = paris_date(&need.create_time) {
        facts.push((t.sharing.posted_on, posted));
    }
    NeedPage {
        t,
        title: title_of(&need.description),
        description: paragraphs(&need.description),
        member: member_link(names, &need.member),
        facts,
        place,
        yours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_need_is_titled_by_its_first_words() {
        assert_eq!(title_of("Une nacelle\nPour l'éclairage"), "Une nacelle");
        let long = "Une nacelle élévatrice de douze mètres pour remplacer les luminaires \
                    de la rue principale, deux jours en mars";
        let title = title_of(long);
        assert!(title.ends_with('…'), "{title}");
        assert!(title.chars().count() <= TITLE_CHARS + 1, "{title}");
        assert!(long.starts_with(title.trim_end_matches('…')));
    }
}
