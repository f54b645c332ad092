//! Reservations: asking for a slot (the database refuses an overlap, and the refusal
//! names the reservation in the way), reading and listing them as borrower, owner or
//! admin, and moving them through their lifecycle.

use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::refusal::Shared;
use fabrique_platform::{Error, db, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{CONFLICT_RETRIES, Sharing, acting_member, joined};
use crate::domain::{
    Reservation, ReservationFilter, ReservationTransition, Resource, Slot, reservation_name,
};
use crate::events;
use crate::refusal::{Holding, Refusal};
use crate::store;

/// How many times an insert that lost a serialization failure or a deadlock is tried.
const INSERT_ATTEMPTS: usize = 3;

impl Sharing {
    /// Asks for `slot` of a bookable resource for the caller's member, REQUESTED. A
    /// create retried with the same `request_id` by the same subject returns what the
    /// first made.
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
        resource.bookable_by(borrower)?;
        self.ensure_active(borrower, "borrower").await?;
        let now = fabrique_platform::time::now();
        let reservation =
            Reservation::request(&resource, borrower, slot, note, caller.subject.clone(), now)?;
        self.insert_reservation(&resource, reservation, request_id)
            .await
    }

    /// Writes a new reservation and its event. The exclusion constraint decides between
    /// overlapping requests (SLOT_TAKEN for the loser), and a unique `request_id`
    /// between two copies of one retried request (the second gets the first's, even
    /// when the slot's constraint is the one it met).
    async fn insert_reservation(
        &self,
        resource: &Resource,
        reservation: Reservation,
        request_id: Option<Uuid>,
    ) -> Result<Reservation, Error> {
        let mut attempts = 0;
        let txn = loop {
            attempts += 1;
            let txn = self.db.begin().await?;
            let error = match store::insert_reservation(&txn, &reservation, request_id).await {
                Ok(()) => break txn,
                Err(error) => error,
            };
            let _ = txn.rollback().await;
            // The same request sent twice at once (a double click, a client's retry
            // racing its first try): the copy that lost meets the winner's row, by its
            // slot before its request id on PostgreSQL. Either way it answers what the
            // first made.
            let twin = store::is_overlap(&error)
                || db::violates(&error, &store::RESERVATION_REQUEST_ID_KEY);
            if twin
                && let Some(request_id) = request_id
                && let Some(existing) = request::replay(
                    store::reservation_by_request(&self.db, request_id).await?,
                    |e| e.created_by == reservation.created_by,
                )?
            {
                return Ok(existing);
            }
            if store::is_overlap(&error) {
                return Err(self.conflict(resource, &reservation).await);
            }
            // A serialization failure or deadlock (inserts on one resource take turns,
            // but a transaction may still lose to another): run again, it finds the
            // other's row (SLOT_TAKEN) or none.
            if db::is_concurrency_conflict(&error) && attempts < INSERT_ATTEMPTS {
                continue;
            }
            return Err(error.into());
        };
        self.commit(
            txn,
            vec![events::reservation(
                events::REQUESTED,
                &reservation,
                "",
                Some(reservation.borrower),
            )],
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
            _ => Err(Error::not_found(reservation_name(resource, id))),
        }
    }

    /// A page of reservations matching `filter`; a caller other than an admin sees only
    /// those its member borrows or owns.
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
            .with(joined(&filter.states))
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

    /// Confirms, declines, cancels or completes a reservation, as the domain allows:
    /// the borrower may only cancel. Without `etag`, a concurrent change is read again
    /// and the transition retried.
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
            if transition.owner_only() {
                caller.require_admin_or_member(
                    current.owner,
                    "confirm, decline or complete a reservation",
                )?;
            }
            if etag.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&current.name()));
            }
            let next = current.next(transition, reason.clone(), fabrique_platform::time::now())?;
            let txn = self.db.begin().await?;
            if !store::update_reservation(&txn, &next, current.version).await? {
                txn.rollback().await?;
                if etag.is_some() {
                    return Err(Error::stale_etag(&current.name()));
                }
                continue;
            }
            let subject = events::reservation_subject(transition);
            let event = events::reservation(
                subject,
                &next,
                reason.as_deref().unwrap_or_default(),
                events::made_by(caller),
            );
            self.commit(txn, vec![event]).await?;
            return Ok(next);
        }
        Err(Shared::ConcurrentChange {
            resource: Some(reservation_name(resource, id)),
        }
        .into())
    }
}
