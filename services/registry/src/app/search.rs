//! Reading places: a filtered list in creation order, or around a point nearest first,
//! each a page at a time, with page tokens bound to the search they continue.

use fabrique_platform::Error;
use fabrique_platform::page::{self, Fingerprint};
use uuid::Uuid;

use super::Registry;
use crate::domain::{Near, Place};
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
        let cursor = if page_token.is_empty() {
            None
        } else {
            Some(page::decode(page_token, fingerprint)?)
        };
        match near {
            None => {
                self.list_by_id(visibility, &filter, cursor, page_size, fingerprint)
                    .await
            }
            Some(near) => {
                self.list_near(visibility, &filter, &near, cursor, page_size, fingerprint)
                    .await
            }
        }
    }

    /// In creation order; the cursor is the last place's id.
    async fn list_by_id(
        &self,
        visibility: &Visibility,
        filter: &ListFilter,
        cursor: Option<Vec<u8>>,
        page_size: u64,
        fingerprint: u64,
    ) -> Result<Page, Error> {
        let after = cursor
            .map(|c| Uuid::from_slice(&c).map_err(|_| bad_token()))
            .transpose()?;
        let places = store::list(&self.db, filter, visibility, after, page_size + 1).await?;
        let page = page::Page::of(places, page_size, fingerprint, |p: &Place| p.id.uuid());
        let (places, next_page_token) = (page.items, page.next_page_token);
        Ok(Page {
            places: places.into_iter().map(|p| (None, p)).collect(),
            next_page_token,
        })
    }

    /// Nearest first; the cursor is the last place's distance (8 bytes) then its id, as
    /// places at the same distance follow in id order.
    async fn list_near(
        &self,
        visibility: &Visibility,
        filter: &ListFilter,
        near: &Near,
        cursor: Option<Vec<u8>>,
        page_size: u64,
        fingerprint: u64,
    ) -> Result<Page, Error> {
        let after = cursor
            .map(|c| {
                let (distance, id) = c.split_at_checked(8).ok_or_else(bad_token)?;
                let distance = f64::from_le_bytes(distance.try_into().map_err(|_| bad_token())?);
                Ok::<_, Error>((distance, Uuid::from_slice(id).map_err(|_| bad_token())?))
            })
            .transpose()?;
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
                .map(|(distance, place)| {
                    let mut cursor = distance.to_le_bytes().to_vec();
                    cursor.extend_from_slice(place.id.uuid().as_bytes());
                    page::encode(fingerprint, &cursor)
                })
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

/// A token that decodes for this search but holds no cursor it could have made.
fn bad_token() -> Error {
    Error::invalid("page_token", "is not a page token returned by this method")
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
