//! The use cases of a workshop as it runs: its co-pilots schedule and cancel sessions
//! and record who attended; the people expected at a session write what they produced
//! there (a restitution), read by the season's participants until a co-pilot publishes
//! it, then by anyone.

use std::collections::BTreeMap;

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::time::now;
use fabrique_replicas::places::Unavailable;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Projects, acting_member};
use crate::domain::{
    Expected, Restitution, RestitutionDraft, Session, SessionDraft, Venue, Workshop, name,
    restitution_name, session_name,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

/// Refused unless `caller` runs the workshop (or is an admin), saying what it tried.
fn require_runs(caller: &Caller, w: &Workshop, action: &str) -> Result<(), Error> {
    if caller.is_admin() || caller.member_id.is_some_and(|m| w.is_co_pilot(m)) {
        Ok(())
    } else {
        Err(Error::permission_denied(format!(
            "only the co-pilots of {} or an admin may {action}",
            w.name()
        )))
    }
}

impl Projects {
    /// Schedules a session of workshop `id` (its co-pilots or an admin). A retried call
    /// with the same `request_id` gets the session it scheduled.
    pub async fn schedule_session(
        &self,
        caller: &Caller,
        id: Uuid,
        draft: SessionDraft,
        request_id: Option<Uuid>,
    ) -> Result<Session, Error> {
        let workshop = self.get_workshop(id).await?;
        require_runs(caller, &workshop, "schedule its sessions")?;
        if let Some(request_id) = request_id
            && let Some(existing) = store::session_by_request(&self.db, request_id).await?
        {
            return self.session(id, existing).await;
        }
        if let Venue::Place(place) = draft.venue {
            self.listed_place(place).await?;
        }
        let expected_members = self.expected_at(&workshop, &draft.expected).await?;
        let session = Session {
            id: Uuid::now_v7(),
            workshop: id,
            title: draft.title,
            start: draft.start,
            end: draft.end,
            venue: draft.venue,
            expected: draft.expected,
            expected_members,
            attendees: Vec::new(),
            cancelled_at: None,
            created_at: now(),
        };
        let txn = self.db.begin().await?;
        store::insert_session(&txn, &session, request_id).await?;
        let event = events::session(events::SESSION_SCHEDULED, &workshop, &session);
        self.commit(txn, vec![event]).await?;
        Ok(session)
    }

    /// Cancels a session (its co-pilots or an admin); cancelling it again changes nothing.
    pub async fn cancel_session(
        &self,
        caller: &Caller,
        workshop: Uuid,
        id: Uuid,
    ) -> Result<Session, Error> {
        let w = self.get_workshop(workshop).await?;
        require_runs(caller, &w, "cancel its sessions")?;
        let session = self.session(workshop, id).await?;
        let txn = self.db.begin().await?;
        if store::cancel_session(&txn, id, now()).await? {
            let event = events::session(events::SESSION_CANCELLED, &w, &session);
            self.commit(txn, vec![event]).await?;
        } else {
            // Released before reading again: SQLite's one connection is this one.
            txn.rollback().await?;
        }
        self.session(workshop, id).await
    }

    /// Records who attended a session once it has begun (its co-pilots or an admin):
    /// members of the workshop's teams, replacing what was recorded.
    pub async fn record_attendance(
        &self,
        caller: &Caller,
        workshop: Uuid,
        id: Uuid,
        attendees: Vec<Uuid>,
    ) -> Result<Session, Error> {
        let w = self.get_workshop(workshop).await?;
        require_runs(caller, &w, "record attendance")?;
        let mut session = self.session(workshop, id).await?;
        if session.cancelled_at.is_some() {
            return Err(Refusal::SessionCancelled {
                session: session.name(),
            }
            .into());
        }
        if session.start > now() {
            return Err(Refusal::SessionNotStarted {
                session: session.name(),
                start: session.start,
            }
            .into());
        }
        let members = w.team_members();
        if let Some((i, _)) = attendees
            .iter()
            .enumerate()
            .find(|(_, m)| !members.contains(m))
        {
            return Err(Error::invalid(
                format!("attendees[{i}]"),
                format!("is in no team of {}", w.name()),
            ));
        }
        let txn = self.db.begin().await?;
        if !store::set_attendance(&txn, id, &attendees).await? {
            return Err(Refusal::SessionCancelled {
                session: session.name(),
            }
            .into());
        }
        session.attendees = attendees;
        let event = events::session(events::ATTENDANCE_RECORDED, &w, &session);
        self.commit(txn, vec![event]).await?;
        Ok(session)
    }

    /// Writes what a session produced, by a member expected there, a co-pilot or an
    /// admin; it speaks for the session's team or peer group ([`Workshop::producer`]).
    pub async fn create_restitution(
        &self,
        caller: &Caller,
        workshop: Uuid,
        draft: RestitutionDraft,
        request_id: Option<Uuid>,
    ) -> Result<Restitution, Error> {
        let w = self.get_workshop(workshop).await?;
        let session = w.session(draft.session).cloned().ok_or_else(|| {
            Error::invalid(
                "restitution.session",
                format!("is not a session of {}", w.name()),
            )
        })?;
        let allowed = caller.is_admin()
            || caller
                .member_id
                .is_some_and(|m| w.is_co_pilot(m) || session.expects(&w, m));
        if !allowed {
            return Err(Error::permission_denied(format!(
                "only the members expected at {}, its workshop's co-pilots or an admin may \
                 write its restitution",
                session.name()
            )));
        }
        // A restitution is a member's work: an admin acting for no member writes none.
        let author = acting_member(caller)?;
        if let Some(request_id) = request_id
            && let Some(existing) = store::restitution_by_request(&self.db, request_id).await?
        {
            return Ok(existing);
        }
        if session.cancelled_at.is_some() {
            return Err(Refusal::SessionCancelled {
                session: session.name(),
            }
            .into());
        }
        let (team, peer_group) = w.producer(&session, author);
        let restitution = Restitution {
            id: Uuid::now_v7(),
            workshop,
            session: session.id,
            title: draft.title,
            text: draft.text,
            links: draft.links,
            team,
            peer_group,
            author,
            published_at: None,
            created_at: now(),
        };
        let txn = self.db.begin().await?;
        store::insert_restitution(&txn, &restitution, request_id).await?;
        let event = events::restitution(events::RESTITUTION_ADDED, &w, &restitution);
        self.commit(txn, vec![event]).await?;
        Ok(restitution)
    }

    /// A restitution `caller` may read: published, or the caller takes part in the
    /// season (or is an admin); NOT_FOUND otherwise, as if there were none.
    pub async fn get_restitution(
        &self,
        caller: Option<&Caller>,
        workshop: Uuid,
        id: Uuid,
    ) -> Result<Restitution, Error> {
        let not_found = || Error::not_found(restitution_name(workshop, id));
        let restitution = store::get_restitution(&self.db, workshop, id)
            .await?
            .ok_or_else(not_found)?;
        if restitution.published_at.is_some() || self.takes_part(caller, workshop).await? {
            Ok(restitution)
        } else {
            Err(not_found())
        }
    }

    /// A page of a workshop's restitutions `caller` may read, oldest first.
    pub async fn list_restitutions(
        &self,
        caller: Option<&Caller>,
        workshop: Uuid,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Restitution>, Error> {
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListRestitutions")
            .with(workshop.as_bytes())
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let everything = self.takes_part(caller, workshop).await?;
        let items =
            store::list_restitutions(&self.db, workshop, everything, after, page_size + 1).await?;
        Ok(Page::of(
            items,
            page_size,
            fingerprint,
            |r: &Restitution| r.id,
        ))
    }

    /// Makes a restitution public (the workshop's co-pilots or an admin); publishing it
    /// again changes nothing.
    pub async fn publish_restitution(
        &self,
        caller: &Caller,
        workshop: Uuid,
        id: Uuid,
    ) -> Result<Restitution, Error> {
        let w = self.get_workshop(workshop).await?;
        require_runs(caller, &w, "publish its restitutions")?;
        let mut restitution = store::get_restitution(&self.db, workshop, id)
            .await?
            .ok_or_else(|| Error::not_found(restitution_name(workshop, id)))?;
        let txn = self.db.begin().await?;
        let at = now();
        if store::publish_restitution(&txn, id, at).await? {
            restitution.published_at = Some(at);
            let event = events::restitution(events::RESTITUTION_PUBLISHED, &w, &restitution);
            self.commit(txn, vec![event]).await?;
            Ok(restitution)
        } else {
            txn.rollback().await?;
            self.get_restitution(Some(caller), workshop, id).await
        }
    }

    /// Whether `caller` takes part in the workshop's season (its co-pilots and teams, and
    /// those of the season's other workshops) or is an admin.
    pub async fn takes_part(&self, caller: Option<&Caller>, workshop: Uuid) -> Result<bool, Error> {
        let Some(caller) = caller else {
            return Ok(false);
        };
        if caller.is_admin() {
            return Ok(true);
        }
        let Some(member) = caller.member_id else {
            return Ok(false);
        };
        let w = self.get_workshop(workshop).await?;
        let season = store::season_participants(&self.db, workshop, w.season.as_deref()).await?;
        Ok(season.contains(&member))
    }

    /// The session `id` of `workshop`, or NOT_FOUND.
    async fn session(&self, workshop: Uuid, id: Uuid) -> Result<Session, Error> {
        self.get_workshop(workshop)
            .await?
            .sessions
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Error::not_found(session_name(workshop, id)))
    }

    /// Whether a place may hold a session: known from place events, open and listed.
    async fn listed_place(&self, place: Uuid) -> Result<(), Error> {
        let named = name("places", place);
        match fabrique_replicas::places::require_open(&self.db, place).await? {
            Ok(p) if p.state == "listed" => Ok(()),
            Ok(p) => Err(Refusal::PlaceNotListed {
                place: named,
                state: p.state,
            }
            .into()),
            Err(Unavailable::Closed) => Err(Refusal::PlaceClosed { place: named }.into()),
            Err(Unavailable::Unknown) => Err(Refusal::PlaceUnknown { place: named }.into()),
        }
    }

    /// The members a session for `expected` expects as the teams stand; the contact
    /// roles of the teams' members come from the member replica (for a peer group).
    async fn expected_at(&self, w: &Workshop, expected: &Expected) -> Result<Vec<Uuid>, Error> {
        let mut roles = BTreeMap::new();
        if let Expected::PeerGroup(_) = expected {
            for member in w.team_members() {
                if let Some(m) = fabrique_replicas::members::get(&self.db, member).await? {
                    roles.insert(member, m.contact_roles);
                }
            }
        }
        let members = w.expected(expected, &roles).ok_or_else(|| {
            Error::invalid("session.team", format!("is not a team of {}", w.name()))
        })?;
        if members.is_empty() {
            return Err(Refusal::NobodyExpected {
                workshop: w.name(),
                peer_group: match expected {
                    Expected::PeerGroup(role) => Some(role.clone()),
                    _ => None,
                },
            }
            .into());
        }
        Ok(members)
    }
}
