//! What the sharing service does, one use case per method: who may do it, the rules,
//! and the change written with its event in one transaction (then the relay is woken).

use fabrique_platform::auth::Caller;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal};
pub use fabrique_platform::page::Page;
use fabrique_platform::page::{self, Fingerprint};
use fabrique_platform::refusal::Shared;
use fabrique_platform::request;
use fabrique_platform::{Error, db};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{
    BookingRules, Claim, ClaimState, Location, Match, Milli, Need, NeedDraft, NeedState,
    Reservation, ReservationState, ReservationTransition, Resource, ResourceDraft, ResourcePatch,
    ResourceState, Slot, Usage, check_rules, free_intervals, match_score, member_name, place_name,
    resource_name, search_words,
};
use crate::events;
use crate::refusal::{Holding, Refusal};
use crate::store::{self, ReservationFilter, ResourceFilter};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;
/// Matching looks at this many candidate resources at most.
const MATCH_CANDIDATES: u64 = 2000;
const CONFLICT_RETRIES: usize = 5;

#[derive(Clone)]
pub struct Sharing {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

/// The member a caller acts for.
pub fn acting_member(caller: &Caller) -> Result<Uuid, Error> {
    caller.member_id.ok_or_else(|| Refusal::NotAMember.into())
}

impl Sharing {
    pub fn new(db: DatabaseConnection, outbox: OutboxSignal) -> Self {
        Self { db, outbox }
    }

    async fn commit(
        &self,
        txn: sea_orm::DatabaseTransaction,
        events: Vec<OutgoingEvent>,
    ) -> Result<(), Error> {
        outbox::enqueue(&txn, events).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(())
    }

    /// The member must be ACTIVE as the replica knows it.
    async fn ensure_active(&self, member: Uuid, role: &'static str) -> Result<(), Error> {
        let state = match fabrique_replicas::members::get(&self.db, member).await? {
            Some(m) if m.is_active() => return Ok(()),
            Some(m) => Some(m.state),
            None => None,
        };
        Err(Refusal::MemberNotActive {
            role,
            member: member_name(member),
            state,
        }
        .into())
    }

    /// A known place that is not closed, and its coordinates.
    async fn open_place(&self, place: Uuid, field: &str) -> Result<Location, Error> {
        match fabrique_replicas::places::get(&self.db, place).await? {
            Some(p) if !p.is_closed() => {
                Location::parse(p.latitude, p.longitude).map_err(|(_, invalid)| {
                    Error::internal(format!("place replica {place}: {invalid}"))
                })
            }
            Some(_) => Err(Refusal::PlaceClosed {
                field: field.to_string(),
                place: place_name(place),
            }
            .into()),
            None => Err(Refusal::PlaceUnknown {
                field: field.to_string(),
                place: place_name(place),
            }
            .into()),
        }
    }

    // -----------------------------------------------------------------------
    // Resources
    // -----------------------------------------------------------------------

    pub async fn get_resource(&self, id: Uuid) -> Result<Resource, Error> {
        store::get_resource(&self.db, id)
            .await?
            .map(|s| s.resource)
            .ok_or_else(|| Error::not_found(resource_name(id)))
    }

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
        let usage = draft.kind.usage();
        if usage == Usage::Claimed && draft.quantity.is_none() {
            return Err(Error::invalid(
                "resource.quantity",
                "is required for a material",
            ));
        }
        if usage != Usage::Claimed && draft.quantity.is_some() {
            return Err(Error::invalid("resource.quantity", "is only for materials"));
        }
        if usage != Usage::Booked && draft.rules.is_some_and(|r| r != BookingRules::default()) {
            return Err(Error::invalid(
                "resource.booking_rules",
                "apply to bookable kinds only",
            ));
        }
        let (location, from_place) = match (draft.location, draft.place) {
            (Some(location), place) => {
                if let Some(place) = place {
                    self.open_place(place, "resource.place").await?;
                }
                (Some(location), false)
            }
            (None, Some(place)) => (Some(self.open_place(place, "resource.place").await?), true),
            (None, None) => (None, false),
        };
        let now = fabrique_platform::time::now();
        let resource = Resource {
            id: Uuid::now_v7(),
            owner,
            kind: draft.kind,
            title: draft.title,
            description: draft.description,
            place: draft.place,
            location,
            conditions: draft.conditions,
            eco_labels: draft.eco_labels,
            state: ResourceState::Available,
            state_reason: None,
            rules: draft.rules.unwrap_or_default(),
            stock: draft.quantity.map(|(q, unit)| (q, q, unit)),
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
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

    fn require_owner(caller: &Caller, resource: &Resource, action: &str) -> Result<(), Error> {
        caller.require_admin_or_member(resource.owner, action)
    }

    pub async fn list_resources(
        &self,
        filter: ResourceFilter,
        near: Option<(Location, f64)>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<(Option<f64>, Resource)>, Error> {
        let mut fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListResources")
            .with(
                filter
                    .kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .with(
                filter
                    .states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .with(filter.owner.map(|o| o.to_string()).unwrap_or_default())
            .with(filter.place.map(|p| p.to_string()).unwrap_or_default())
            .with(filter.query.clone().unwrap_or_default());
        match near {
            None => {
                let fingerprint = fingerprint.finish();
                let after = page::decode_id(token, fingerprint)?;
                let items = store::list_resources(&self.db, &filter, after, page_size + 1).await?;
                let page = Page::of(items, page_size, fingerprint, |r: &Resource| r.id);
                Ok(Page {
                    items: page.items.into_iter().map(|r| (None, r)).collect(),
                    next_page_token: page.next_page_token,
                })
            }
            Some((center, radius)) => {
                fingerprint = fingerprint
                    .with(center.latitude().to_le_bytes())
                    .with(center.longitude().to_le_bytes())
                    .with(radius.to_le_bytes());
                let fingerprint = fingerprint.finish();
                let bad =
                    || Error::invalid("page_token", "is not a page token returned by this method");
                let after = if token.is_empty() {
                    None
                } else {
                    let cursor = page::decode(token, fingerprint)?;
                    let (d, id) = cursor.split_at_checked(8).ok_or_else(bad)?;
                    Some((
                        f64::from_le_bytes(d.try_into().map_err(|_| bad())?),
                        Uuid::from_slice(id).map_err(|_| bad())?,
                    ))
                };
                let mut found: Vec<(f64, Resource)> =
                    store::resources_within(&self.db, &filter, &center, radius)
                        .await?
                        .into_iter()
                        .filter(|(d, r)| {
                            after.is_none_or(|(ad, aid)| {
                                d.total_cmp(&ad).then(r.id.cmp(&aid)).is_gt()
                            })
                        })
                        .take(page_size as usize + 1)
                        .collect();
                let next_page_token = if found.len() as u64 > page_size {
                    found.truncate(page_size as usize);
                    found
                        .last()
                        .map(|(d, r)| {
                            let mut cursor = d.to_le_bytes().to_vec();
                            cursor.extend_from_slice(r.id.as_bytes());
                            page::encode(fingerprint, &cursor)
                        })
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                Ok(Page {
                    items: found.into_iter().map(|(d, r)| (Some(d), r)).collect(),
                    next_page_token,
                })
            }
        }
    }

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
        Self::require_owner(caller, &current, "change this resource")?;
        if current.version != etag {
            return Err(Error::stale_etag(&current.name()));
        }
        if patch.rules.is_some_and(|r| r != BookingRules::default())
            && current.kind.usage() != Usage::Booked
        {
            return Err(Error::invalid(
                "resource.booking_rules",
                "apply to bookable kinds only",
            ));
        }
        let mut next = current.clone();
        let mut from_place = stored.location_from_place;
        let mut changed = Vec::new();
        use fabrique_types::change::apply as set;
        set(&mut next.title, patch.title, "title", &mut changed);
        set(
            &mut next.description,
            patch.description,
            "description",
            &mut changed,
        );
        set(
            &mut next.conditions,
            patch.conditions,
            "conditions",
            &mut changed,
        );
        set(
            &mut next.eco_labels,
            patch.eco_labels,
            "eco_labels",
            &mut changed,
        );
        set(&mut next.rules, patch.rules, "booking_rules", &mut changed);
        if let Some(place) = patch.place
            && place != next.place
        {
            if let Some(place) = place {
                let location = self.open_place(place, "resource.place").await?;
                if from_place || next.location.is_none() {
                    next.location = Some(location);
                    from_place = true;
                }
            }
            next.place = place;
            changed.push("place".into());
        }
        if let Some(location) = patch.location
            && location != next.location
        {
            next.location = location;
            from_place = false;
            changed.push("location".into());
        }
        if changed.is_empty() {
            return Ok(current);
        }
        next.version += 1;
        next.updated_at = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::update_resource(&txn, &next, from_place, current.version).await? {
            txn.rollback().await?;
            return Err(Error::stale_etag(&current.name()));
        }
        let event = events::resource(events::UPDATED, &next, "", changed);
        self.commit(txn, vec![event]).await?;
        // The stock is not part of an update; read it back.
        self.get_resource(id).await
    }

    /// Withdraws (`to` WITHDRAWN) or restores (`to` AVAILABLE) a resource.
    pub async fn set_resource_state(
        &self,
        caller: &Caller,
        id: Uuid,
        to: ResourceState,
        reason: Option<String>,
        etag: Option<i64>,
    ) -> Result<Resource, Error> {
        for _ in 0..CONFLICT_RETRIES {
            let stored = store::get_resource(&self.db, id)
                .await?
                .ok_or_else(|| Error::not_found(resource_name(id)))?;
            let current = stored.resource;
            Self::require_owner(caller, &current, "withdraw or restore this resource")?;
            if etag.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&current.name()));
            }
            let allowed = match to {
                ResourceState::Withdrawn => current.state != ResourceState::Withdrawn,
                ResourceState::Available => current.state != ResourceState::Available,
                ResourceState::Unavailable => false,
            };
            if !allowed {
                return Err(Refusal::ResourceAlready {
                    resource: current.name(),
                    state: current.state.as_str(),
                }
                .into());
            }
            if to == ResourceState::Available {
                self.ensure_active(current.owner, "owner").await?;
                if let Some(place) = current.place {
                    self.open_place(place, "place").await?;
                }
            }
            let mut next = current.clone();
            next.state = to;
            next.state_reason = if to == ResourceState::Available {
                None
            } else {
                reason.clone()
            };
            next.version += 1;
            next.updated_at = fabrique_platform::time::now();
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
            let subject = if to == ResourceState::Available {
                events::RESTORED
            } else {
                events::WITHDRAWN
            };
            let event = events::resource(
                subject,
                &next,
                reason.as_deref().unwrap_or_default(),
                vec![],
            );
            self.commit(txn, vec![event]).await?;
            return self.get_resource(id).await;
        }
        Err(Shared::ConcurrentChange {
            resource: Some(resource_name(id)),
        }
        .into())
    }

    /// The free intervals of a bookable resource within `window`, from now on and
    /// within its booking horizon.
    pub async fn availability(&self, id: Uuid, window: Slot) -> Result<Vec<Slot>, Error> {
        let resource = self.get_resource(id).await?;
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

    // -----------------------------------------------------------------------
    // Reservations
    // -----------------------------------------------------------------------

    pub async fn create_reservation(
        &self,
        caller: &Caller,
        resource_id: Uuid,
        slot: Slot,
        note: Option<String>,
        request_id: Option<Uuid>,
    ) -> Result<Reservation, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::reservation_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let borrower = acting_member(caller)?;
        let resource = self.get_resource(resource_id).await?;
        if resource.owner == borrower {
            return Err(Refusal::OwnResource {
                resource: resource.name(),
            }
            .into());
        }
        if resource.kind.usage() != Usage::Booked {
            return Err(Refusal::NotBookable {
                resource: resource.name(),
                kind: resource.kind.as_str(),
            }
            .into());
        }
        if resource.state != ResourceState::Available {
            return Err(Refusal::ResourceNotAvailable {
                resource: resource.name(),
                state: resource.state.as_str(),
            }
            .into());
        }
        self.ensure_active(borrower, "borrower").await?;
        let now = fabrique_platform::time::now();
        check_rules(&slot, &resource.rules, now)?;
        let reservation = Reservation {
            id: Uuid::now_v7(),
            resource: resource.id,
            owner: resource.owner,
            borrower,
            slot,
            held_end: slot.end() + resource.rules.turnaround,
            note,
            state: ReservationState::Requested,
            state_reason: None,
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut attempts = 0;
        let txn = loop {
            attempts += 1;
            let txn = self.db.begin().await?;
            let error = match store::insert_reservation(&txn, &reservation, request_id).await {
                Ok(()) => break txn,
                Err(error) => error,
            };
            let _ = txn.rollback().await;
            if store::is_overlap(&error) {
                return Err(self.conflict(&resource, &reservation).await);
            }
            // A serialization failure or deadlock (inserts on one resource take turns,
            // but a transaction may still lose to another): run again, it finds the
            // other's row (SLOT_TAKEN) or none.
            if db::is_concurrency_conflict(&error) && attempts < 3 {
                continue;
            }
            if db::is_unique_violation(&error)
                && let Some(request_id) = request_id
                && let Some(existing) = store::reservation_by_request(&self.db, request_id).await?
            {
                return Ok(existing);
            }
            return Err(error.into());
        };
        self.commit(
            txn,
            vec![events::reservation(events::REQUESTED, &reservation, "")],
        )
        .await?;
        Ok(reservation)
    }

    /// The error of a refused overlap, naming the slot it conflicts with.
    async fn conflict(&self, resource: &Resource, wanted: &Reservation) -> Error {
        let turnaround = resource.rules.turnaround;
        let holding = store::holding_between(
            &self.db,
            resource.id,
            wanted.slot.start() - turnaround,
            wanted.held_end,
        )
        .await
        .ok()
        .and_then(|held| held.into_iter().next())
        .map(|other| Holding {
            reservation: other.name(),
            start: other.slot.start(),
            end: other.slot.end(),
        });
        Refusal::SlotTaken {
            resource: resource.name(),
            turnaround,
            holding,
        }
        .into()
    }

    /// A reservation the caller takes part in (else NOT_FOUND).
    pub async fn get_reservation(
        &self,
        caller: &Caller,
        resource: Uuid,
        id: Uuid,
    ) -> Result<Reservation, Error> {
        match store::get_reservation(&self.db, id).await? {
            Some(r)
                if r.resource == resource
                    && (caller.is_admin()
                        || caller.is_member(r.borrower)
                        || caller.is_member(r.owner)) =>
            {
                Ok(r)
            }
            _ => Err(Error::not_found(crate::domain::reservation_name(
                resource, id,
            ))),
        }
    }

    pub async fn list_reservations(
        &self,
        caller: &Caller,
        mut filter: ReservationFilter,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Reservation>, Error> {
        if !caller.is_admin() {
            filter.involving = Some(acting_member(caller)?);
        }
        let fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListReservations")
            .with(filter.resource.map(|r| r.to_string()).unwrap_or_default())
            .with(filter.borrower.map(|r| r.to_string()).unwrap_or_default())
            .with(filter.owner.map(|r| r.to_string()).unwrap_or_default())
            .with(
                filter
                    .states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_reservations(&self.db, &filter, after, page_size + 1).await?;
        Ok(Page::of(
            items,
            page_size,
            fingerprint,
            |r: &Reservation| r.id,
        ))
    }

    pub async fn transition_reservation(
        &self,
        caller: &Caller,
        resource: Uuid,
        id: Uuid,
        transition: ReservationTransition,
        reason: Option<String>,
        etag: Option<i64>,
    ) -> Result<Reservation, Error> {
        for _ in 0..CONFLICT_RETRIES {
            let current = self.get_reservation(caller, resource, id).await?;
            match transition {
                ReservationTransition::Cancel => {}
                _ => caller.require_admin_or_member(
                    current.owner,
                    "confirm, decline or complete a reservation",
                )?,
            }
            if etag.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&current.name()));
            }
            let now = fabrique_platform::time::now();
            let state = transition.apply(&current, now)?;
            let mut next = current.clone();
            next.state = state;
            next.state_reason = reason.clone();
            next.version += 1;
            next.updated_at = now;
            let txn = self.db.begin().await?;
            if !store::update_reservation(&txn, &next, current.version).await? {
                txn.rollback().await?;
                if etag.is_some() {
                    return Err(Error::stale_etag(&current.name()));
                }
                continue;
            }
            let subject = match transition {
                ReservationTransition::Confirm => events::CONFIRMED,
                ReservationTransition::Decline => events::DECLINED,
                ReservationTransition::Cancel => events::CANCELLED,
                ReservationTransition::Complete => events::COMPLETED,
            };
            let event = events::reservation(subject, &next, reason.as_deref().unwrap_or_default());
            self.commit(txn, vec![event]).await?;
            return Ok(next);
        }
        Err(Shared::ConcurrentChange {
            resource: Some(crate::domain::reservation_name(resource, id)),
        }
        .into())
    }

    // -----------------------------------------------------------------------
    // Claims
    // -----------------------------------------------------------------------

    pub async fn create_claim(
        &self,
        caller: &Caller,
        resource_id: Uuid,
        amount: Milli,
        accept_less: bool,
        request_id: Option<Uuid>,
    ) -> Result<Claim, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) =
                request::replay(store::claim_by_request(&self.db, request_id).await?, |e| {
                    caller.is_member(e.claimant)
                })?
        {
            return Ok(existing);
        }
        let claimant = acting_member(caller)?;
        let resource = self.get_resource(resource_id).await?;
        let Some((_, _, unit)) = resource.stock else {
            return Err(Refusal::NotAMaterial {
                resource: resource.name(),
                kind: resource.kind.as_str(),
            }
            .into());
        };
        if resource.owner == claimant {
            return Err(Refusal::OwnResource {
                resource: resource.name(),
            }
            .into());
        }
        if resource.state != ResourceState::Available {
            return Err(Refusal::ResourceNotAvailable {
                resource: resource.name(),
                state: resource.state.as_str(),
            }
            .into());
        }
        self.ensure_active(claimant, "claimant").await?;
        let mut wanted = amount;
        for _ in 0..CONFLICT_RETRIES {
            let txn = self.db.begin().await?;
            if store::take_stock(&txn, resource.id, wanted).await? {
                let now = fabrique_platform::time::now();
                let claim = Claim {
                    id: Uuid::now_v7(),
                    resource: resource.id,
                    owner: resource.owner,
                    claimant,
                    quantity: wanted,
                    unit,
                    state: ClaimState::Held,
                    created_at: now,
                    updated_at: now,
                };
                if let Err(error) =
                    store::insert_claim(&txn, &claim, &caller.subject, request_id).await
                {
                    let _ = txn.rollback().await;
                    if db::is_unique_violation(&error)
                        && let Some(request_id) = request_id
                        && let Some(existing) =
                            store::claim_by_request(&self.db, request_id).await?
                    {
                        return Ok(existing);
                    }
                    return Err(error.into());
                }
                let remaining = store::get_resource(&txn, resource.id)
                    .await?
                    .and_then(|s| s.resource.stock)
                    .map(|(_, remaining, _)| remaining);
                self.commit(
                    txn,
                    vec![events::claim(events::CLAIM_MADE, &claim, remaining)],
                )
                .await?;
                return Ok(claim);
            }
            txn.rollback().await?;
            let remaining = self
                .get_resource(resource.id)
                .await?
                .stock
                .map(|(_, remaining, _)| remaining)
                .unwrap_or(Milli::from_milli(0));
            if remaining.milli() == 0 || !accept_less {
                return Err(Refusal::NotEnoughLeft {
                    resource: resource.name(),
                    remaining: remaining.amount(),
                    asked: amount.amount(),
                    unit: unit.as_str(),
                }
                .into());
            }
            wanted = remaining.min(amount);
        }
        Err(Shared::ConcurrentChange {
            resource: Some(resource.name()),
        }
        .into())
    }

    /// A claim the caller takes part in (else NOT_FOUND).
    async fn get_claim(&self, caller: &Caller, resource: Uuid, id: Uuid) -> Result<Claim, Error> {
        match store::get_claim(&self.db, id).await? {
            Some(c)
                if c.resource == resource
                    && (caller.is_admin()
                        || caller.is_member(c.claimant)
                        || caller.is_member(c.owner)) =>
            {
                Ok(c)
            }
            _ => Err(Error::not_found(crate::domain::claim_name(resource, id))),
        }
    }

    /// Collects (owner) or cancels (claimant or owner, the quantity returns) a claim.
    pub async fn finish_claim(
        &self,
        caller: &Caller,
        resource: Uuid,
        id: Uuid,
        to: ClaimState,
    ) -> Result<Claim, Error> {
        let claim = self.get_claim(caller, resource, id).await?;
        if to == ClaimState::Collected {
            caller.require_admin_or_member(claim.owner, "mark a claim collected")?;
        }
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::set_claim_state(&txn, id, ClaimState::Held, to, now).await? {
            txn.rollback().await?;
            return Err(Refusal::ClaimNotHeld {
                claim: claim.name(),
            }
            .into());
        }
        if to == ClaimState::Cancelled {
            store::return_stock(&txn, resource, claim.quantity).await?;
        }
        let remaining = store::get_resource(&txn, resource)
            .await?
            .and_then(|s| s.resource.stock)
            .map(|(_, remaining, _)| remaining);
        let mut finished = claim.clone();
        finished.state = to;
        finished.updated_at = now;
        let subject = if to == ClaimState::Collected {
            events::CLAIM_COLLECTED
        } else {
            events::CLAIM_CANCELLED
        };
        self.commit(txn, vec![events::claim(subject, &finished, remaining)])
            .await?;
        Ok(finished)
    }

    pub async fn list_claims(
        &self,
        caller: &Caller,
        resource: Option<Uuid>,
        claimant: Option<Uuid>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Claim>, Error> {
        let involving = if caller.is_admin() {
            None
        } else {
            Some(acting_member(caller)?)
        };
        let fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListClaims")
            .with(resource.map(|r| r.to_string()).unwrap_or_default())
            .with(claimant.map(|r| r.to_string()).unwrap_or_default())
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_claims(
            &self.db,
            resource,
            claimant,
            involving,
            after,
            page_size + 1,
        )
        .await?;
        Ok(Page::of(items, page_size, fingerprint, |c: &Claim| c.id))
    }

    // -----------------------------------------------------------------------
    // Needs and matching
    // -----------------------------------------------------------------------

    pub async fn create_need(
        &self,
        caller: &Caller,
        draft: NeedDraft,
        request_id: Option<Uuid>,
    ) -> Result<Need, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) =
                request::replay(store::need_by_request(&self.db, request_id).await?, |e| {
                    caller.is_member(e.member)
                })?
        {
            return Ok(existing);
        }
        let member = acting_member(caller)?;
        self.ensure_active(member, "member").await?;
        let location = match (draft.location, draft.place) {
            (Some(location), _) => Some(location),
            (None, Some(place)) => Some(self.open_place(place, "need.place").await?),
            (None, None) => None,
        };
        let now = fabrique_platform::time::now();
        let need = Need {
            id: Uuid::now_v7(),
            member,
            kind: draft.kind,
            description: draft.description,
            place: draft.place,
            location,
            radius_km: draft.radius_km,
            slot: draft.slot,
            quantity: draft.quantity,
            state: NeedState::Open,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin().await?;
        store::insert_need(&txn, &need, &caller.subject, request_id).await?;
        self.commit(txn, vec![events::need(events::NEED_POSTED, &need)])
            .await?;
        Ok(need)
    }

    pub async fn get_need(&self, id: Uuid) -> Result<Need, Error> {
        store::get_need(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(crate::domain::need_name(id)))
    }

    pub async fn list_needs(
        &self,
        member: Option<Uuid>,
        states: Vec<NeedState>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Need>, Error> {
        let fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListNeeds")
            .with(member.map(|m| m.to_string()).unwrap_or_default())
            .with(
                states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_needs(&self.db, member, &states, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |n: &Need| n.id))
    }

    pub async fn close_need(&self, caller: &Caller, id: Uuid) -> Result<Need, Error> {
        let need = self.get_need(id).await?;
        caller.require_admin_or_member(need.member, "close this need")?;
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::close_need(&txn, id, now).await? {
            txn.rollback().await?;
            return Err(Refusal::NeedClosed { need: need.name() }.into());
        }
        let mut closed = need;
        closed.state = NeedState::Closed;
        closed.updated_at = now;
        self.commit(txn, vec![events::need(events::NEED_CLOSED, &closed)])
            .await?;
        Ok(closed)
    }

    /// Available resources that fit `need`, best first (see [`match_score`]).
    pub async fn matches(&self, need_id: Uuid, limit: usize) -> Result<Vec<Match>, Error> {
        let need = self.get_need(need_id).await?;
        let words = search_words(&need.description);
        let filter = ResourceFilter {
            kinds: need.kind.into_iter().collect(),
            not_owner: Some(need.member),
            ..Default::default()
        };
        let mut matches = Vec::new();
        for resource in store::all_resources(&self.db, &filter, MATCH_CANDIDATES).await? {
            let resource_words = search_words(&format!(
                "{} {}",
                resource.title,
                resource.description.clone().unwrap_or_default()
            ));
            let matched: Vec<String> = words.intersection(&resource_words).cloned().collect();
            if !words.is_empty() && matched.is_empty() {
                continue;
            }
            let distance = need
                .location
                .zip(resource.location)
                .map(|(a, b)| a.distance_km(&b));
            if let (Some(radius), Some(distance)) = (need.radius_km, distance)
                && distance > radius
            {
                continue;
            }
            let available = match resource.kind.usage() {
                Usage::Booked => match need.slot {
                    Some(slot) => {
                        let turnaround = resource.rules.turnaround;
                        store::holding_between(
                            &self.db,
                            resource.id,
                            slot.start() - turnaround,
                            slot.end() + turnaround,
                        )
                        .await?
                        .is_empty()
                    }
                    None => true,
                },
                Usage::Claimed => match (resource.stock, need.quantity) {
                    (Some((_, remaining, unit)), Some((wanted, wanted_unit)))
                        if unit == wanted_unit =>
                    {
                        remaining >= wanted
                    }
                    (Some((_, remaining, _)), _) => remaining.milli() > 0,
                    (None, _) => false,
                },
                Usage::Shared => true,
            };
            matches.push(Match {
                score: match_score(available, distance, matched.len()),
                distance_km: distance,
                available,
                matched_words: matched,
                resource,
            });
        }
        matches.sort_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then(a.resource.id.cmp(&b.resource.id))
        });
        matches.truncate(limit);
        Ok(matches)
    }
}
