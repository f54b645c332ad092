//! Reading places: a filtered list in creation order, or around a point nearest first,
//! each a page at a time, with page tokens bound to the search they continue.

use fabrique_platform::Error;
use fabrique_platform::page::{self, Fingerprint};
use uuid::Uuid;

use super::Registry;
use crate::domain::map_grid::View;
use crate::domain::{Near, Place};
use crate::store::cells::{self, Cluster};
use crate::store::{self, ListFilter, Visibility};

/// A page of places (with their distance when searching around a point).
#[derive(Debug)]
pub struct Page {
    /// Each place with its distance from the center in km when searching around a
    /// point (nearest first), `None` otherwise (creation order).
    pub places: Vec<(Option<f64>, Place)>,
    /// Asks for the next page; empty on the last one.
    pub next_page_token: String,
}

impl Registry {
    /// The LISTED places matching `filter` in `view`, in clusters: added up from the
    /// counts when the view is coarse and the filter allows, else grouped from the
    /// places themselves (see `store::cells`).
    pub async fn clusters(&self, filter: &ListFilter, view: &View) -> Result<Vec<Cluster>, Error> {
        let clusters = if cells::countable(view, filter) {
            cells::counted(&self.db, view, filter.kinds.first().copied()).await?
        } else {
            cells::grouped(&self.db, view, filter).await?
        };
        Ok(clusters)
    }

    /// A page of the places matching `filter` that the caller may see: around `near`'s
    /// center nearest first when given, else in creation order. `page_token` (empty for
    /// the first page) only continues the same search.
    pub async fn list(
        &self,
        visibility: &Visibility,
        filter: ListFilter,
        near: Option<Near>,
        page_size: u64,
        page_token: &str,
    ) -> Result<Page, Error> {
        let fingerprint = fingerprint(&filter, near.as_ref());
        match near {
            None => {
                let after = page::decode_id(page_token, fingerprint)?;
                self.list_by_id(visibility, &filter, after, page_size, fingerprint)
                    .await
            }
            Some(near) => {
                let after = page::decode_near(page_token, fingerprint)?;
                self.list_near(visibility, &filter, &near, after, page_size, fingerprint)
                    .await
            }
        }
    }

    /// In creation order; the cursor is the last place's id.
    async fn list_by_id(
        &self,
        visibility: &Visibility,
        filter: &ListFilter,
        after: Option<Uuid>,
        page_size: u64,
        fingerprint: u64,
    ) -> Result<Page, Error> {
        let places = store::list(&self.db, filter, visibility, after, page_size + 1).await?;
        let page = page::Page::of(places, page_size, fingerprint, |p: &Place| p.id.uuid());
        let (places, next_page_token) = (page.items, page.next_page_token);
        Ok(Page {
            places: places.into_iter().map(|p| (None, p)).collect(),
            next_page_token,
        })
    }

    /// Nearest first; the cursor is the last place's distance then its id
    /// ([`page::encode_near`]).
    async fn list_near(
        &self,
        visibility: &Visibility,
        filter: &ListFilter,
        near: &Near,
        after: Option<(f64, Uuid)>,
        page_size: u64,
        fingerprint: u64,
    ) -> Result<Page, Error> {
        let mut places = store::nearest(
            &self.db,
            filter,
            visibility,
            &near.center,
            near.radius_km,
            after,
            page_size + 1,
        )
        .await?;
        let next_page_token = if places.len() as u64 > page_size {
            places.truncate(page_size as usize);
            places
                .last()
                .map(|(distance, place)| page::encode_near(fingerprint, *distance, place.id.uuid()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Page {
            places: places.into_iter().map(|(d, p)| (Some(d), p)).collect(),
            next_page_token,
        })
    }
}

/// What a page token is bound to: the method, its filters in any order and the circle
/// searched, so that a token is not used to continue another search.
fn fingerprint(filter: &ListFilter, near: Option<&Near>) -> u64 {
    let sorted = |mut items: Vec<&str>| {
        items.sort_unstable();
        items.dedup();
        items.join(",")
    };
    let mut fingerprint = Fingerprint::new("fabrique.registry.v1.RegistryService/ListPlaces")
        .with(sorted(filter.kinds.iter().map(|k| k.as_str()).collect()))
        .with(sorted(
            filter.capabilities.iter().map(|c| c.code()).collect(),
        ))
        .with(sorted(filter.states.iter().map(|s| s.as_str()).collect()))
        .with(filter.department.as_ref().map(|d| d.as_str()).unwrap_or(""))
        .with(filter.insee_code.as_ref().map(|c| c.as_str()).unwrap_or(""))
        .with(filter.query.as_deref().unwrap_or(""))
        .with(if filter.needs_review_only {
            "review"
        } else {
            ""
        })
        .with(filter.operator.map(|o| o.to_string()).unwrap_or_default());
    if let Some(near) = near {
        fingerprint = fingerprint
            .with(near.center.latitude().to_le_bytes())
            .with(near.center.longitude().to_le_bytes())
            .with(near.radius_km.to_le_bytes());
    }
    fingerprint.finish()
}
