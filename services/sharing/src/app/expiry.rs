//! Requests their owners did not answer in time expire: a REQUESTED reservation past its
//! `answer_by` frees its slot, a HELD claim past its own returns its quantity, each with
//! its event. Every replica sweeps; each request moves only from the state (and, for a
//! reservation, the version) it was read in, in the transaction that writes its event,
//! so whichever replica gets there first expires it, once.

use chrono::{DateTime, Utc};
use fabrique_platform::Error;
use sea_orm::TransactionTrait;

use super::Sharing;
use crate::domain::{ClaimState, ClaimTransition, ReservationTransition};
use crate::events;
use crate::store;

/// Requests read per sweep and kind; the next sweep takes the rest.
const SWEPT: u64 = 500;

/// The state reason of an expired request, and its event's.
const NOT_ANSWERED: &str = "not answered in time";

impl Sharing {
    /// Expires the requests whose deadline passed at `now` (up to [`SWEPT`] of each
    /// kind); how many this call expired — those another replica expired first are not
    /// counted, nor published twice.
    pub async fn expire_overdue(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let mut expired = 0;
        for current in store::overdue_requests(&self.db, now, SWEPT).await? {
            let Ok(next) = current.next(
                ReservationTransition::Expire,
                Some(NOT_ANSWERED.into()),
                now,
            ) else {
                continue;
            };
            let txn = self.db.begin().await?;
            if !store::update_reservation(&txn, &next, current.version).await? {
                txn.rollback().await?;
                continue;
            }
            let event = events::reservation(events::EXPIRED, &next, NOT_ANSWERED, None);
            self.commit(txn, vec![event]).await?;
            expired += 1;
        }
        for current in store::overdue_claims(&self.db, now, SWEPT).await? {
            let Ok(next) = current.next(ClaimTransition::Expire, now) else {
                continue;
            };
            let txn = self.db.begin().await?;
            if !store::set_claim_state(&txn, &next, ClaimState::Held).await? {
                txn.rollback().await?;
                continue;
            }
            store::return_stock(&txn, current.resource, current.quantity).await?;
            let remaining = store::remaining(&txn, current.resource).await?;
            let event = events::claim(events::CLAIM_EXPIRED, &next, remaining, None, NOT_ANSWERED);
            self.commit(txn, vec![event]).await?;
            expired += 1;
        }
        Ok(expired)
    }

    /// Sweeps every `every` until `stop` is cancelled; a failed sweep is logged and the
    /// next one tries again.
    pub async fn expire_until(
        self,
        every: std::time::Duration,
        stop: tokio_util::sync::CancellationToken,
    ) {
        loop {
            match self.expire_overdue(fabrique_platform::time::now()).await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "requests not answered in time expired"),
                Err(error) => tracing::warn!(%error, "expiring unanswered requests failed"),
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
