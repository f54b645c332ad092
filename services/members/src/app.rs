//! What the members service does, one use case per method: each checks who may do it,
//! applies the domain rules, and writes the change and its event in one transaction
//! (then wakes the outbox relay). Shared by the gRPC layer and `fabrique seed`.

use std::sync::Arc;

use fabrique_platform::auth::Caller;
use fabrique_platform::batch::Loader;
use fabrique_platform::db::KeptConnections;
use fabrique_platform::outbox::{self, OutboxSignal};
use fabrique_platform::page::{self, Fingerprint};
use fabrique_platform::refusal::Shared;
use fabrique_platform::request;
use fabrique_platform::{Error, db};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{Member, MemberId, MemberState, Patch, Profile, Siren, Transition};
use crate::events;
use crate::refusal::Refusal;
use crate::store::{self, ListFilter};

/// Members per page when a list asks for no size.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a list may ask for; a larger one is refused, not cut.
pub const MAX_PAGE_SIZE: u32 = 500;

/// A page of members and the token of the next one (empty on the last page).
#[derive(Debug)]
pub struct Page {
    /// In creation order (ids are UUIDv7).
    pub members: Vec<Member>,
    /// Asks for the next page; empty on the last one.
    pub next_page_token: String,
}

/// The members use cases over the service's database. Cheap to clone: the gRPC
/// handlers and `fabrique seed` each hold one.
#[derive(Clone)]
pub struct Members {
    db: DatabaseConnection,
    /// `GetMember`'s and `CreateMember`'s single statements, the service's hottest.
    kept: Arc<KeptConnections>,
    outbox: OutboxSignal,
    /// Reads by id, coalesced under load (`GetMember` is the hottest call).
    by_id: Loader<Uuid, store::Row>,
}

/// Ids per coalesced read, and reads in flight at once (well under the pool's size).
const BATCH_READ_IDS: usize = 128;
const BATCH_READS: usize = 2;

/// How many times a lifecycle call without an etag re-reads after a concurrent change.
const CONFLICT_RETRIES: usize = 5;

impl Members {
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
        let kept = Arc::new(KeptConnections::new(db.clone()));
        let reader = kept.clone();
        let by_id = Loader::new(BATCH_READ_IDS, BATCH_READS, move |ids: Vec<Uuid>| {
            let db = reader.clone();
            async move { store::rows_by_id(&*db, &ids).await }
        });
        Self {
            db,
            kept,
            outbox,
            by_id,
        }
    }

    /// A member, whatever its state; NOT_FOUND when there is none. Every authenticated
    /// caller may read every member: who is in the alliance is not secret (contact
    /// e-mails are, and the conversion to the contract leaves them out).
    pub async fn get(&self, id: MemberId) -> Result<Member, Error> {
        let row = self.by_id.load(id.uuid()).await?;
        store::to_domain(row.ok_or_else(|| Error::not_found(id.name()))?)
    }

    /// A page of the members matching `filter`, in creation order. `page_token` (empty
    /// for the first page) only continues a list with the same filter.
    pub async fn list(
        &self,
        filter: ListFilter,
        page_size: u64,
        page_token: &str,
    ) -> Result<Page, Error> {
        let fingerprint = fingerprint(&filter);
        let after = page::decode_id(page_token, fingerprint)?;
        let members = store::list(&self.db, &filter, after, page_size + 1).await?;
        let page = page::Page::of(members, page_size, fingerprint, |m: &Member| m.id.uuid());
        Ok(Page {
            members: page.items,
            next_page_token: page.next_page_token,
        })
    }

    /// An ally applies: a PENDING member. Any authenticated caller may apply.
    pub async fn create(
        &self,
        caller: &Caller,
        profile: Profile,
        request_id: Option<Uuid>,
    ) -> Result<Member, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = self.created_by_request(caller, request_id).await?
        {
            return Ok(existing);
        }
        profile
            .check()
            .map_err(|(field, invalid)| Error::invalid(format!("member.{field}"), invalid.0))?;
        if let Some(siren) = &profile.siren {
            self.ensure_siren_free(siren, None).await?;
        }
        let now = fabrique_platform::time::now();
        let member = Member {
            id: MemberId::new(),
            profile,
            state: MemberState::Pending,
            state_reason: None,
            joined_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let inserted = store::insert(
            &*self.kept,
            &member,
            request_id,
            &caller.subject,
            events::with_contacts(events::applied(&member), &member, true),
        )
        .await;
        if let Err(error) = inserted {
            let on_request_id = db::violates(&error, &store::REQUEST_ID_KEY);
            let on_siren = db::violates(&error, &store::SIREN_KEY);
            // A concurrent copy of this request holds both its request id and its SIREN,
            // and the database names whichever key it checked first: look for the copy
            // before calling the SIREN taken.
            if (on_request_id || on_siren)
                && let Some(request_id) = request_id
                && let Some(existing) = self.created_by_request(caller, request_id).await?
            {
                return Ok(existing);
            }
            if on_siren && let Some(siren) = &member.profile.siren {
                self.ensure_siren_free(siren, None).await?;
            }
            return Err(error.into());
        }
        self.outbox.notify();
        tracing::info!(member = %member.id.name(), kind = %member.profile.kind, "member applied");
        Ok(member)
    }

    /// AIP-155: the member an earlier CreateMember with this `request_id` made, when
    /// this caller made it.
    async fn created_by_request(
        &self,
        caller: &Caller,
        request_id: Uuid,
    ) -> Result<Option<Member>, Error> {
        let existing = store::by_request_id(&self.db, request_id).await?;
        Ok(
            request::replay(existing, |(_, created_by)| *created_by == caller.subject)?
                .map(|(member, _)| member),
        )
    }

    /// A SIREN is one legal entity, so one current member: refused when another member
    /// than `except` holds it (one that left frees it).
    async fn ensure_siren_free(
        &self,
        siren: &Siren,
        except: Option<MemberId>,
    ) -> Result<(), Error> {
        match store::current_by_siren(&self.db, siren).await? {
            Some(holder) if Some(holder) != except => Err(Refusal::SirenTaken {
                siren: siren.as_str().to_string(),
                holder: holder.name(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Changes the patched fields if `etag_version` is still current. A member may
    /// change its own description; kind, SIREN, INSEE code and EPCI only an admin.
    pub async fn update(
        &self,
        caller: &Caller,
        id: MemberId,
        etag_version: i64,
        patch: Patch,
    ) -> Result<Member, Error> {
        caller.require_admin_or_member(id.uuid(), "update a member")?;
        if patch.touches_identity() && !caller.is_admin() {
            return Err(Error::permission_denied(
                "only an admin may change kind, siren, insee_code or epci_siren",
            ));
        }
        let current = self.get(id).await?;
        if current.state == MemberState::Left {
            return Err(Refusal::Left { member: id.name() }.into());
        }
        if current.version != etag_version {
            return Err(Error::stale_etag(&id.name()));
        }
        let mut updated = current.clone();
        let new_siren = patch.siren.clone().flatten();
        let changed = patch.apply(&mut updated.profile);
        if changed.is_empty() {
            return Ok(current);
        }
        updated
            .profile
            .check()
            .map_err(|(field, invalid)| Error::invalid(format!("member.{field}"), invalid.0))?;
        if let Some(siren) = new_siren.filter(|_| changed.iter().any(|f| f == "siren")) {
            self.ensure_siren_free(&siren, Some(id)).await?;
        }
        updated.version += 1;
        updated.updated_at = fabrique_platform::time::now();
        let contacts_changed = changed.iter().any(|f| f == "contacts");
        let event = events::updated(&updated, changed);
        self.save(
            &current,
            &updated,
            events::with_contacts(event, &updated, contacts_changed),
        )
        .await?
        .then_some(())
        .ok_or_else(|| Error::stale_etag(&id.name()))?;
        Ok(updated)
    }

    /// Approve, suspend, reinstate or leave. `etag_version`, when given, must be current.
    pub async fn transition(
        &self,
        caller: &Caller,
        id: MemberId,
        transition: Transition,
        reason: Option<String>,
        etag_version: Option<i64>,
    ) -> Result<Member, Error> {
        self.transition_at(caller, id, transition, reason, etag_version, None)
            .await
    }

    /// Like [`transition`](Self::transition); an approval may record an earlier
    /// `joined_at` (an ally that joined before it was registered here).
    pub async fn transition_at(
        &self,
        caller: &Caller,
        id: MemberId,
        transition: Transition,
        reason: Option<String>,
        etag_version: Option<i64>,
        joined_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Member, Error> {
        match transition {
            Transition::Leave => {
                caller.require_admin_or_member(id.uuid(), "make a member leave")?
            }
            Transition::Approve => caller.require_admin("approve a member")?,
            Transition::Suspend => caller.require_admin("suspend a member")?,
            Transition::Reinstate => caller.require_admin("reinstate a member")?,
        }
        for _ in 0..CONFLICT_RETRIES {
            let current = self.get(id).await?;
            if etag_version.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&id.name()));
            }
            let state = current.next_state(transition)?;
            let mut next = current.clone();
            next.state = state;
            next.version += 1;
            next.updated_at = fabrique_platform::time::now();
            next.state_reason = match transition {
                Transition::Suspend | Transition::Leave => reason.clone(),
                Transition::Approve | Transition::Reinstate => None,
            };
            if transition == Transition::Approve && next.joined_at.is_none() {
                next.joined_at = Some(joined_at.unwrap_or(next.updated_at));
            }
            let event = events::transitioned(&next, transition, reason.as_deref());
            let events = events::with_contacts(event, &next, false);
            if self.save(&current, &next, events).await? {
                tracing::info!(member = %id.name(), state = %next.state, "member lifecycle");
                return Ok(next);
            }
            if etag_version.is_some() {
                return Err(Error::stale_etag(&id.name()));
            }
        }
        Err(Shared::ConcurrentChange {
            resource: Some(id.name()),
        }
        .into())
    }

    /// Writes `next` over `current` with its event, unless `current` is no longer the
    /// stored version (then `false`).
    async fn save(
        &self,
        current: &Member,
        next: &Member,
        events: Vec<fabrique_platform::event::OutgoingEvent>,
    ) -> Result<bool, Error> {
        let txn = self.db.begin().await?;
        if !store::update_versioned(&txn, next, current.version).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        outbox::enqueue(&txn, events).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(true)
    }
}

/// What a page token is bound to: the method and its filters, in any order, so that a
/// token is not used to continue another list.
fn fingerprint(filter: &ListFilter) -> u64 {
    let mut fingerprint = Fingerprint::new("fabrique.members.v1.MembersService/ListMembers");
    let mut kinds: Vec<_> = filter.kinds.iter().map(|k| k.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    fingerprint = fingerprint.with(kinds.join(","));
    let mut states: Vec<_> = filter.states.iter().map(|s| s.as_str()).collect();
    states.sort_unstable();
    states.dedup();
    fingerprint
        .with(states.join(","))
        .with(filter.department.as_ref().map(|d| d.as_str()).unwrap_or(""))
        .with(filter.query.as_deref().unwrap_or(""))
        .with(filter.contact_email.as_deref().unwrap_or(""))
        .finish()
}
