//! The use cases of projects: proposing one, reading and listing them (the public sees
//! those under way or done), updating their fields (by the lead, with the etag it read)
//! and moving them through their lifecycle.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::request;
use fabrique_platform::time::now;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Projects, joined, public_states};
use crate::domain::{Project, ProjectDraft, ProjectPatch, ProjectState, Theme, name};
use crate::events;
use crate::store;

/// The states in which the public (no token) sees a project: under way, or done. A
/// proposed project is an idea among allies, an abandoned one their business.
pub const PUBLIC_PROJECT_STATES: [ProjectState; 2] =
    [ProjectState::Active, ProjectState::Completed];

impl Projects {
    /// Proposes a project led by the caller's member (or, for an admin, the one given):
    /// the lead must be active and the host place open. A retried call with the same
    /// `request_id` gets the project it created.
    pub async fn create_project(
        &self,
        caller: &Caller,
        draft: ProjectDraft,
        request_id: Option<Uuid>,
    ) -> Result<Project, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::project_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let lead = Self::member_for(caller, draft.lead, "lead a project")?;
        self.active_member(lead, "lead").await?;
        if let Some(place) = draft.host_place {
            self.open_place(place).await?;
        }
        let project = Project::propose(draft, lead, caller.subject.clone(), now());
        let txn = self.db.begin().await?;
        store::insert_project(&txn, &project, request_id).await?;
        self.commit(
            txn,
            vec![events::project(events::PROJECT_CREATED, &project, vec![])],
        )
        .await?;
        Ok(project)
    }

    /// The project, or NOT_FOUND.
    pub async fn get_project(&self, id: Uuid) -> Result<Project, Error> {
        store::get_project(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("projects", id)))
    }

    /// The project as `caller` may read it: whoever is signed in reads any; the public
    /// (`None`) only those under way or done — a proposed or abandoned one is NOT_FOUND,
    /// its existence not told.
    pub async fn read_project(&self, caller: Option<&Caller>, id: Uuid) -> Result<Project, Error> {
        let project = self.get_project(id).await?;
        if caller.is_none() && !PUBLIC_PROJECT_STATES.contains(&project.state) {
            return Err(Error::not_found(name("projects", id)));
        }
        Ok(project)
    }

    /// A page of the projects `member` takes part in (any when `None`), in one of
    /// `states` and with every one of `themes`; the public (`caller` `None`) gets those
    /// of [`PUBLIC_PROJECT_STATES`] only, whatever `states` asks.
    pub async fn list_projects(
        &self,
        caller: Option<&Caller>,
        member: Option<Uuid>,
        states: Vec<ProjectState>,
        themes: Vec<Theme>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Project>, Error> {
        let states = match caller {
            Some(_) => states,
            None => match public_states(&states, &PUBLIC_PROJECT_STATES) {
                Some(states) => states,
                None => {
                    return Ok(Page {
                        items: Vec::new(),
                        next_page_token: String::new(),
                    });
                }
            },
        };
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListProjects")
            .with(member.map(|m| m.to_string()).unwrap_or_default())
            .with(joined(states.iter().map(|s| s.as_str())))
            .with(joined(themes.iter().map(|t| t.as_str())))
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items =
            store::list_projects(&self.db, member, &states, &themes, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |p: &Project| p.id))
    }

    /// Changes the fields of `patch` (by the lead or an admin, from version `etag`); a
    /// patch that changes nothing returns the project as it is, without an event.
    pub async fn update_project(
        &self,
        caller: &Caller,
        id: Uuid,
        etag: i64,
        patch: ProjectPatch,
    ) -> Result<Project, Error> {
        let current = self.get_project(id).await?;
        caller.require_admin_or_member(current.lead, "change this project")?;
        if current.version != etag {
            return Err(Error::stale_etag(&current.name()));
        }
        if let Some(Some(place)) = patch.host_place {
            self.open_place(place).await?;
        }
        let Some((next, changed)) = current.patched(patch, now()) else {
            return Ok(current);
        };
        let event = events::project(events::PROJECT_UPDATED, &next, changed);
        self.write_project(&current, next, event).await
    }

    /// Moves the project to `to` (by the lead or an admin), as its lifecycle allows; with
    /// an `etag`, only from that version.
    pub async fn change_project_state(
        &self,
        caller: &Caller,
        id: Uuid,
        to: ProjectState,
        etag: Option<i64>,
    ) -> Result<Project, Error> {
        let current = self.get_project(id).await?;
        caller.require_admin_or_member(current.lead, "change this project's state")?;
        if etag.is_some_and(|v| v != current.version) {
            return Err(Error::stale_etag(&current.name()));
        }
        let next = current.next(to, now())?;
        let event = events::project(events::PROJECT_STATE_CHANGED, &next, vec!["state".into()]);
        self.write_project(&current, next, event).await
    }

    /// Writes `next` over `current` with its event, unless a concurrent change came
    /// first (a stale etag).
    async fn write_project(
        &self,
        current: &Project,
        next: Project,
        event: fabrique_platform::event::OutgoingEvent,
    ) -> Result<Project, Error> {
        let txn = self.db.begin().await?;
        if !store::update_project(&txn, &next, current.version).await? {
            txn.rollback().await?;
            return Err(Error::stale_etag(&current.name()));
        }
        self.commit(txn, vec![event]).await?;
        Ok(next)
    }
}
