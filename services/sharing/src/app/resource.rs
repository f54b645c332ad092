//! Resources: offering one, reading and listing them (by id, or nearest first around a
//! point; the public sees AVAILABLE ones), updating, withdrawing and restoring, and the
//! free slots of a bookable one.

use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::refusal::Shared;
use fabrique_platform::{Error, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{CONFLICT_RETRIES, Sharing, acting_member, empty_page, joined, public_states};
use crate::domain::{
    Location, Patched, Resource, ResourceDraft, ResourceFilter, ResourcePatch, ResourceState,
    ResourceTransition, Slot, Usage, free_intervals, resource_name,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

/// Only the owner (or an admin) changes a resource.
fn require_owner(caller: &Caller, resource: &Resource, action: &str) -> Result<(), Error> {
    caller.require_admin_or_member(resource.owner, action)
}

impl Sharing {
    /// The resource `id`, whatever its state.
    pub async fn get_resource(&self, id: Uuid) -> Result<Resource, Error> {
        store::get_resource(&self.db, id)
            .await?
            .map(|s| s.resource)
            .ok_or_else(|| Error::not_found(resource_name(id)))
    }

    /// The resource `id` as `caller` may read it: whoever is signed in reads any; the
    /// public (`None`) only an AVAILABLE one — a withdrawn or unavailable resource is
    /// NOT_FOUND, its existence not told.
    pub async fn read_resource(
        &self,
        caller: Option<&Caller>,
        id: Uuid,
    ) -> Result<Resource, Error> {
        let resource = self.get_resource(id).await?;
        if caller.is_none() && resource.state != ResourceState::Available {
            return Err(Error::not_found(resource_name(id)));
        }
        Ok(resource)
    }

    /// Offers a resource for the caller's member, or for `draft.owner` when an admin
    /// (or that member) asks. A create retried with the same `request_id` by the same
    /// subject returns what the first made.
    pub async fn create_resource(
        &self,
        caller: &Caller,
        draft: ResourceDraft,
        request_id: Option<Uuid>,
    ) -> Result<Resource, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::resource_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let owner = match draft.owner {
            Some(owner) if caller.is_admin() || caller.member_id == Some(owner) => owner,
            Some(_) => {
                return Err(Error::permission_denied(
                    "only an admin may offer a resource for another member",
                ));
            }
            None => acting_member(caller)?,
        };
        self.ensure_active(owner, "owner").await?;
        draft
            .check_usage()
            .map_err(|(field, invalid)| Error::invalid(format!("resource.{field}"), invalid.0))?;
        let (location, from_place) = self.located(draft.location, draft.place).await?;
        let now = fabrique_platform::time::now();
        let resource = Resource::offer(owner, draft, location, caller.subject.clone(), now);
        let txn = self.db.begin().await?;
        if let Err(error) = store::insert_resource(&txn, &resource, from_place, request_id).await {
            let _ = txn.rollback().await;
            return Err(error.into());
        }
        self.commit(
            txn,
            vec![events::resource(events::OFFERED, &resource, "", vec![])],
        )
        .await?;
        Ok(resource)
    }

    /// Where a new resource is, and whether that came from its place: the location
    /// given wins, but a place given with it must still be open.
    async fn located(
        &self,
        location: Option<Location>,
        place: Option<Uuid>,
    ) -> Result<(Option<Location>, bool), Error> {
        Ok(match (location, place) {
            (Some(location), place) => {
                if let Some(place) = place {
                    self.open_place(place, "resource.place").await?;
                }
                (Some(location), false)
            }
            (None, Some(place)) => (Some(self.open_place(place, "resource.place").await?), true),
            (None, None) => (None, false),
        })
    }

    /// A page of resources matching `filter`: by id, or nearest first within `near`
    /// (centre, radius in km) with each one's distance. The public (`caller` `None`)
    /// gets AVAILABLE resources only, whatever the filter's states.
    pub async fn list_resources(
        &self,
        caller: Option<&Caller>,
        mut filter: ResourceFilter,
        near: Option<(Location, f64)>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<(Option<f64>, Resource)>, Error> {
        if caller.is_none() {
            match public_states(&filter.states, &[ResourceState::Available]) {
                Some(states) => filter.states = states,
                None => return Ok(empty_page()),
            }
        }
        let fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListResources")
            .with(joined(&filter.kinds))
            .with(joined(&filter.states))
            .with(filter.owner.map(|o| o.to_string()).unwrap_or_default())
            .with(filter.place.map(|p| p.to_string()).unwrap_or_default())
            .with(filter.query.clone().unwrap_or_default());
        let Some((center, radius)) = near else {
            let fingerprint = fingerprint.finish();
            let after = page::decode_id(token, fingerprint)?;
            let items = store::list_resources(&self.db, &filter, after, page_size + 1).await?;
            let page = Page::of(items, page_size, fingerprint, |r: &Resource| r.id);
            return Ok(Page {
                items: page.items.into_iter().map(|r| (None, r)).collect(),
                next_page_token: page.next_page_token,
            });
        };
        let fingerprint = fingerprint
            .with(center.latitude().to_le_bytes())
            .with(center.longitude().to_le_bytes())
            .with(radius.to_le_bytes())
            .finish();
        let after = page::decode_near(token, fingerprint)?;
        let mut found: Vec<(f64, Resource)> =
            store::resources_within(&self.db, &filter, &center, radius)
                .await?
                .into_iter()
                .filter(|(d, r)| {
                    after.is_none_or(|(ad, aid)| d.total_cmp(&ad).then(r.id.cmp(&aid)).is_gt())
                })
                .take(page_size as usize + 1)
                .collect();
        let mut next_page_token = String::new();
        if found.len() as u64 > page_size {
            found.truncate(page_size as usize);
            if let Some((d, r)) = found.last() {
                next_page_token = page::encode_near(fingerprint, *d, r.id);
            }
        }
        Ok(Page {
            items: found.into_iter().map(|(d, r)| (Some(d), r)).collect(),
            next_page_token,
        })
    }

    /// Changes the fields `patch` names, if the resource is still at version `etag`.
    /// Nothing changed: the resource as it is, no event.
    pub async fn update_resource(
        &self,
        caller: &Caller,
        id: Uuid,
        etag: i64,
        patch: ResourcePatch,
    ) -> Result<Resource, Error> {
        let stored = store::get_resource(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(resource_name(id)))?;
        let current = stored.resource;
        require_owner(caller, &current, "change this resource")?;
        if current.version != etag {
            return Err(Error::stale_etag(&current.name()));
        }
        if patch.rules.is_some_and(|r| !current.kind.takes_rules(&r)) {
            return Err(Error::invalid(
                "resource.booking_rules",
                "apply to bookable kinds only",
            ));
        }
        let place_location = match patch.place {
            Some(Some(place)) if Some(place) != current.place => {
                Some(self.open_place(place, "resource.place").await?)
            }
            _ => None,
        };
        let now = fabrique_platform::time::now();
        let Some(Patched {
            resource: next,
            location_from_place,
            changed,
        }) = patch.apply(&current, stored.location_from_place, place_location, now)
        else {
            return Ok(current);
        };
        let txn = self.db.begin().await?;
        if !store::update_resource(&txn, &next, location_from_place, current.version).await? {
            txn.rollback().await?;
            return Err(Error::stale_etag(&current.name()));
        }
        let event = events::resource(events::UPDATED, &next, "", changed);
        self.commit(txn, vec![event]).await?;
        // The stock is not part of an update; read it back.
        self.get_resource(id).await
    }

    /// Withdraws or restores a resource (the domain decides whether its state allows
    /// it); restoring needs its owner still active and its place still open. Without
    /// `etag`, a concurrent change is read again and the transition retried.
    pub async fn transition_resource(
        &self,
        caller: &Caller,
        id: Uuid,
        transition: ResourceTransition,
        etag: Option<i64>,
    ) -> Result<Resource, Error> {
        for _ in 0..CONFLICT_RETRIES {
            let stored = store::get_resource(&self.db, id)
                .await?
                .ok_or_else(|| Error::not_found(resource_name(id)))?;
            let current = &stored.resource;
            require_owner(caller, current, "withdraw or restore this resource")?;
            if etag.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&current.name()));
            }
            let next = current.next(&transition, fabrique_platform::time::now())?;
            if next.state == ResourceState::Available {
                self.ensure_active(current.owner, "owner").await?;
                if let Some(place) = current.place {
                    self.open_place(place, "place").await?;
                }
            }
            let txn = self.db.begin().await?;
            if !store::update_resource(&txn, &next, stored.location_from_place, current.version)
                .await?
            {
                txn.rollback().await?;
                if etag.is_some() {
                    return Err(Error::stale_etag(&current.name()));
                }
                continue;
            }
            let reason = next.state_reason.as_deref().unwrap_or_default();
            let mut published = vec![events::resource(
                events::resource_subject(&transition),
                &next,
                reason,
                vec![],
            )];
            if next.state == ResourceState::Withdrawn {
                // Its bookings still to come end with it, each saying why.
                let now = fabrique_platform::time::now();
                let why = withdrawal_reason(&next.name(), reason);
                let Some(ended) = events::end_bookings(&txn, id, &why, now).await? else {
                    txn.rollback().await?;
                    continue;
                };
                published.extend(ended);
            }
            self.commit(txn, published).await?;
            return self.get_resource(id).await;
        }
        Err(Shared::ConcurrentChange {
            resource: Some(resource_name(id)),
        }
        .into())
    }

    /// The free intervals of a bookable resource within `window`, from now on and
    /// within its booking horizon: free time only, never who holds the rest. The public
    /// (`caller` `None`) asks about the resources it may read.
    pub async fn availability(
        &self,
        caller: Option<&Caller>,
        id: Uuid,
        window: Slot,
    ) -> Result<Vec<Slot>, Error> {
        let resource = self.read_resource(caller, id).await?;
        if resource.kind.usage() != Usage::Booked {
            return Err(Refusal::NotBookable {
                resource: resource.name(),
                kind: resource.kind.as_str(),
            }
            .into());
        }
        if resource.state != ResourceState::Available {
            return Ok(Vec::new());
        }
        let now = fabrique_platform::time::now();
        let start = window.start().max(now);
        let end = match resource.rules.max_advance {
            Some(advance) => window.end().min(now + advance),
            None => window.end(),
        };
        let Ok(window) = Slot::new(start, end) else {
            return Ok(Vec::new());
        };
        let turnaround = resource.rules.turnaround;
        let held = store::holding_between(
            &self.db,
            id,
            window.start() - turnaround,
            window.end() + turnaround,
        )
        .await?;
        let held: Vec<_> = held.iter().map(|r| (r.slot.start(), r.held_end)).collect();
        Ok(free_intervals(window, &held, turnaround))
    }
}

/// Why a withdrawal ends a resource's bookings: its owner withdrew it, with the reason
/// it gave, if any.
fn withdrawal_reason(resource: &str, said: &str) -> String {
    match said {
        "" => format!("{resource} was withdrawn by its owner"),
        said => format!("{resource} was withdrawn by its owner: {said}"),
    }
}
