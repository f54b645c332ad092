//! What the sharing service does, one use case per method: who may do it, the rules
//! (the domain's, each state change decided there), and the change written with its
//! event in one transaction (then the relay is woken).
//!
//! [`Sharing`] is one type whose methods are spread by aggregate: `resource`
//! (offer, update, withdraw and restore, availability), `reservation`, `claim`,
//! `need`, `matching`, and `expiry` (requests not answered in time). What they share — the caller's member, the replicas of
//! members and places, committing with events — is here.

mod claim;
mod expiry;
mod matching;
mod need;
mod reservation;
mod resource;

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal};
pub use fabrique_platform::page::Page;
use fabrique_replicas::places::Unavailable;
use fabrique_types::NamedEnum;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::domain::{Location, member_name, place_name};
use crate::refusal::Refusal;

/// The page size of a list call that gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a list call may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// How many times a change lost to a concurrent one (its row's version moved) is read
/// and tried again before the call gives up with CONCURRENT_CHANGE.
const CONFLICT_RETRIES: usize = 5;

/// The sharing service's use cases, over its database and its outbox.
#[derive(Clone)]
pub struct Sharing {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

/// The member a caller acts for.
pub fn acting_member(caller: &Caller) -> Result<Uuid, Error> {
    caller.member_id.ok_or_else(|| Refusal::NotAMember.into())
}

/// Enum values joined as a page token's fingerprint sees them: a token is only valid
/// for the same filter.
fn joined<E: NamedEnum>(values: &[E]) -> String {
    values
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The states a list for the public asks for: those of `asked` the public may see, or
/// every one of `public` when none is asked; `None` when all asked are hidden (the
/// answer is then empty, not an error: the filter is valid, it matches nothing shown).
fn public_states<S: Copy + PartialEq>(asked: &[S], public: &[S]) -> Option<Vec<S>> {
    if asked.is_empty() {
        return Some(public.to_vec());
    }
    let kept: Vec<S> = asked
        .iter()
        .copied()
        .filter(|s| public.contains(s))
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// A page with nothing in it and no next one.
fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        next_page_token: String::new(),
    }
}

impl Sharing {
    /// Who changed `request.resource`, newest first: the audit, for admins only.
    pub async fn list_changes(
        &self,
        caller: &fabrique_platform::auth::Caller,
        request: &fabrique_api::audit::ListChangesRequest,
    ) -> Result<fabrique_api::audit::ListChangesResponse, fabrique_platform::Error> {
        caller.require_admin("list a resource's changes")?;
        fabrique_platform::audit::list_changes(&self.db, request).await
    }

    /// The use cases over `db`; `outbox` wakes the relay after each commit.
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
        match fabrique_replicas::members::require_active(&self.db, member).await? {
            Ok(_) => Ok(()),
            Err(inactive) => Err(Refusal::MemberNotActive {
                role,
                member: member_name(member),
                state: inactive.state,
            }
            .into()),
        }
    }

    /// A known place that is not closed, and its coordinates.
    async fn open_place(&self, place: Uuid, field: &str) -> Result<Location, Error> {
        match fabrique_replicas::places::require_open(&self.db, place).await? {
            Ok(p) => Location::parse(p.latitude, p.longitude).map_err(|(_, invalid)| {
                Error::internal(format!("place replica {place}: {invalid}"))
            }),
            Err(Unavailable::Closed) => Err(Refusal::PlaceClosed {
                field: field.to_string(),
                place: place_name(place),
            }
            .into()),
            Err(Unavailable::Unknown) => Err(Refusal::PlaceUnknown {
                field: field.to_string(),
                place: place_name(place),
            }
            .into()),
        }
    }
}
