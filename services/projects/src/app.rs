//! What the projects service does, one use case per method of [`Projects`]: who may do
//! it, the rules (the domain decides every transition, the use case applies it), and the
//! change written with its events in one transaction (then the relay is woken).
//!
//! One file per aggregate — `project`, `programme` (programmes and their
//! applications), `group_purchase`, `workshop` — each adding its use cases to
//! [`Projects`]; what they share (the commit, the replica checks, who acts) is here.

mod group_purchase;
mod grouping;
mod instruction;
mod programme;
mod project;
mod report;
mod session;
mod workshop;

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal};
pub use fabrique_platform::page::Page;
use fabrique_replicas::places::Unavailable;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

// The drafts are domain values (`crate::proto` builds them and must not depend on this
// module); re-exported because code outside the crate (the seed) names them here.
pub use crate::domain::{
    ApplicationDraft, GroupPurchaseDraft, ProgrammeDraft, ProjectDraft, ProjectPatch, TeamReport,
};
use crate::domain::{member_name, name};
use crate::refusal::Refusal;

/// The page size of a list call that asks for none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a list call may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The member a caller acts for.
pub fn acting_member(caller: &Caller) -> Result<Uuid, Error> {
    caller.member_id.ok_or_else(|| Refusal::NotAMember.into())
}

/// The projects service's use cases, over its database and the outbox relay they wake.
#[derive(Clone)]
pub struct Projects {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

impl Projects {
    /// Who changed `request.resource`, newest first: the audit, for admins only.
    pub async fn list_changes(
        &self,
        caller: &fabrique_platform::auth::Caller,
        request: &fabrique_api::audit::ListChangesRequest,
    ) -> Result<fabrique_api::audit::ListChangesResponse, fabrique_platform::Error> {
        caller.require_admin("list a resource's changes")?;
        fabrique_platform::audit::list_changes(&self.db, request).await
    }

    /// The use cases on `db`; each commit wakes the relay through `outbox`.
    pub fn new(db: DatabaseConnection, outbox: OutboxSignal) -> Self {
        Self { db, outbox }
    }

    /// Enqueues `events` in `txn`, commits both, then wakes the relay: an event leaves only
    /// with the change it tells of.
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

    /// The member, if it is active as the replica knows it; else why not, naming it by
    /// `role` (lead, funder, applicant…).
    async fn active_member(
        &self,
        member: Uuid,
        role: &'static str,
    ) -> Result<fabrique_replicas::members::ReplicaMember, Error> {
        fabrique_replicas::members::require_active(&self.db, member)
            .await?
            .map_err(|inactive| {
                Refusal::MemberNotActive {
                    role,
                    member: member_name(member),
                    state: inactive.state,
                }
                .into()
            })
    }

    /// Whether a place may host a project: known from place events and not closed.
    async fn open_place(&self, place: Uuid) -> Result<(), Error> {
        match fabrique_replicas::places::require_open(&self.db, place).await? {
            Ok(_) => Ok(()),
            Err(Unavailable::Closed) => Err(Refusal::PlaceClosed {
                place: name("places", place),
            }
            .into()),
            Err(Unavailable::Unknown) => Err(Refusal::PlaceUnknown {
                place: name("places", place),
            }
            .into()),
        }
    }

    /// A member given by an admin, or the caller's own.
    fn member_for(caller: &Caller, given: Option<Uuid>, what: &str) -> Result<Uuid, Error> {
        match given {
            Some(member) if caller.is_admin() || caller.member_id == Some(member) => Ok(member),
            Some(_) => Err(Error::permission_denied(format!(
                "only an admin may {what} for another member"
            ))),
            None => acting_member(caller),
        }
    }
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

/// Enum values as one part of a page token's fingerprint: a token is valid only for the
/// filters it was made with.
fn joined<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values.into_iter().collect::<Vec<_>>().join(",")
}
