//! The use cases of peer workshops: an admin creates one and names its co-pilots, each
//! lead sets its team, anyone (without a token too) reads and lists them and checks which
//! required roles a team covers, from the contact roles the member replica knows. What
//! happens at its sessions is in `session.rs`.

use std::collections::BTreeMap;

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::time::now;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Projects, TeamReport, acting_member};
use crate::domain::{Workshop, WorkshopDraft, name, team_coverage};
use crate::events;
use crate::store;

impl Projects {
    /// Creates a workshop (an admin only). A retried call with the same `request_id`
    /// gets the workshop it created.
    pub async fn create_workshop(
        &self,
        caller: &Caller,
        draft: WorkshopDraft,
        request_id: Option<Uuid>,
    ) -> Result<Workshop, Error> {
        caller.require_admin("create a workshop")?;
        if let Some(request_id) = request_id
            && let Some(existing) = store::workshop_by_request(&self.db, request_id).await?
        {
            return Ok(existing);
        }
        for member in &draft.co_pilots {
            self.active_member(*member, "co-pilot").await?;
        }
        let workshop = Workshop {
            id: Uuid::now_v7(),
            theme: draft.theme,
            season: draft.season,
            required_roles: draft.required_roles,
            teams: BTreeMap::new(),
            created_at: now(),
            co_pilots: draft.co_pilots,
            sessions: Vec::new(),
        };
        let txn = self.db.begin().await?;
        store::insert_workshop(&txn, &workshop, request_id).await?;
        self.commit(
            txn,
            vec![events::workshop(events::WORKSHOP_CREATED, &workshop, None)],
        )
        .await?;
        Ok(workshop)
    }

    /// Names who runs a workshop (an admin only), each an active member.
    pub async fn set_co_pilots(
        &self,
        caller: &Caller,
        id: Uuid,
        co_pilots: Vec<Uuid>,
    ) -> Result<Workshop, Error> {
        caller.require_admin("name a workshop's co-pilots")?;
        let mut workshop = self.get_workshop(id).await?;
        for member in &co_pilots {
            self.active_member(*member, "co-pilot").await?;
        }
        let txn = self.db.begin().await?;
        store::set_co_pilots(&txn, id, &co_pilots).await?;
        workshop.co_pilots = co_pilots;
        let event = events::workshop(events::WORKSHOP_CO_PILOTS_SET, &workshop, None);
        self.commit(txn, vec![event]).await?;
        Ok(workshop)
    }

    /// The workshop with its teams, or NOT_FOUND.
    pub async fn get_workshop(&self, id: Uuid) -> Result<Workshop, Error> {
        store::get_workshop(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("workshops", id)))
    }

    /// A page of every workshop, oldest first; anyone may read them, as a workshop and
    /// its teams are.
    pub async fn list_workshops(
        &self,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Workshop>, Error> {
        let fingerprint =
            Fingerprint::new("fabrique.projects.v1.ProjectsService/ListWorkshops").finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_workshops(&self.db, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |w: &Workshop| w.id))
    }

    /// Sets the caller's member's team: itself, the lead, and `others`, every one active.
    pub async fn set_team(
        &self,
        caller: &Caller,
        id: Uuid,
        others: Vec<Uuid>,
    ) -> Result<Workshop, Error> {
        let lead = acting_member(caller)?;
        let workshop = self.get_workshop(id).await?;
        self.active_member(lead, "team lead").await?;
        let mut members = vec![lead];
        for other in others {
            if !members.contains(&other) {
                self.active_member(other, "team member").await?;
                members.push(other);
            }
        }
        let txn = self.db.begin().await?;
        store::set_team(&txn, id, lead, &members, now()).await?;
        self.commit(
            txn,
            vec![events::workshop(
                events::WORKSHOP_TEAM_SET,
                &workshop,
                Some(lead),
            )],
        )
        .await?;
        self.get_workshop(id).await
    }

    /// The required roles a lead's team covers and lacks, from its members' contact
    /// people as the member replica knows them.
    pub async fn validate_team(&self, id: Uuid, lead: Uuid) -> Result<TeamReport, Error> {
        let workshop = self.get_workshop(id).await?;
        let members = workshop
            .teams
            .get(&lead)
            .cloned()
            .unwrap_or_else(|| vec![lead]);
        let mut people = Vec::new();
        for member in members {
            let roles = fabrique_replicas::members::get(&self.db, member)
                .await?
                .map(|m| m.contact_roles)
                .unwrap_or_default();
            people.push((member, roles));
        }
        let (covered, missing) = team_coverage(&workshop.required_roles, &people);
        Ok(TeamReport { covered, missing })
    }
}
