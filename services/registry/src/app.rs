//! What the registry does, one use case per method: who may do it, the domain rules, and
//! the change written with its event in one transaction (then the relay is woken).
//! Shared by the gRPC layer, `fabrique import places` and `fabrique seed`.
//!
//! [`Registry`] and what its use cases share are here; the use cases, by concern:
//! `search` (reading places), `editing` (proposing and changing a place's description),
//! `moderation` (its lifecycle and review flag) and `import` (open-data files).

mod editing;
mod import;
mod moderation;
mod search;

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{Place, PlaceId, member_name};
use crate::refusal::Refusal;
use crate::store::{self, Visibility};

pub use search::Page;

/// Places per page when a list asks for no size.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a list may ask for; a larger one is refused, not cut.
pub const MAX_PAGE_SIZE: u32 = 500;

/// How many times a change without an etag re-reads after a concurrent one.
const CONFLICT_RETRIES: usize = 5;

/// The registry's use cases over its database. Cheap to clone: the gRPC handlers,
/// `fabrique import places` and `fabrique seed` each hold one.
#[derive(Clone)]
pub struct Registry {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

/// The visibility of a caller (`None`: anonymous).
pub fn visibility(caller: Option<&Caller>) -> Visibility {
    match caller {
        None => Visibility::Public,
        Some(caller) if caller.is_admin() => Visibility::Admin,
        Some(caller) => Visibility::Caller {
            member: caller.member_id,
            subject: caller.subject.clone(),
        },
    }
}

impl Registry {
    /// Who changed `request.resource`, newest first: the audit, for admins only.
    pub async fn list_changes(
        &self,
        caller: &fabrique_platform::auth::Caller,
        request: &fabrique_api::audit::ListChangesRequest,
    ) -> Result<fabrique_api::audit::ListChangesResponse, fabrique_platform::Error> {
        caller.require_admin("list a resource's changes")?;
        fabrique_platform::audit::list_changes(&self.db, request).await
    }

    /// The use cases over `db`; `outbox` wakes the relay after each commit with events.
    pub fn new(db: DatabaseConnection, outbox: OutboxSignal) -> Self {
        Self { db, outbox }
    }

    /// A place the caller may see; others are NOT_FOUND (their existence is not told).
    pub async fn get(&self, visibility: &Visibility, id: PlaceId) -> Result<Place, Error> {
        match store::get(&self.db, id).await? {
            Some(place) if visibility.can_see(&place) => Ok(place),
            _ => Err(Error::not_found(id.name())),
        }
    }

    /// The operator must be an active member, as the registry's replica knows it.
    async fn ensure_active_operator(&self, operator: Uuid, field: &str) -> Result<(), Error> {
        match fabrique_replicas::members::require_active(&self.db, operator).await? {
            Ok(_) => Ok(()),
            Err(inactive) => Err(Refusal::OperatorNotActive {
                field: field.to_string(),
                operator: member_name(operator),
                state: inactive.state,
            }
            .into()),
        }
    }

    /// The operator member or an admin may change a place; only an admin changes who
    /// operates it.
    fn require_editor(caller: &Caller, place: &Place, action: &str) -> Result<(), Error> {
        match place.description.operator {
            _ if caller.is_admin() => Ok(()),
            Some(operator) => caller.require_admin_or_member(operator, action),
            None => caller.require_admin(action),
        }
    }

    /// Writes `next` over `current` with its events, unless `current` is no longer the
    /// stored version (then `false`).
    async fn save(
        &self,
        current: &Place,
        next: &Place,
        events: Vec<OutgoingEvent>,
    ) -> Result<bool, Error> {
        let txn = self.db.begin().await?;
        if !store::update_versioned(&txn, current, next).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        outbox::enqueue(&txn, events).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(true)
    }
}
