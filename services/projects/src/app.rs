//! What the projects service does, one use case per method: who may do it, the rules,
//! and the change written with its events in one transaction (then the relay is woken).

use std::collections::BTreeMap;

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal};
pub use fabrique_platform::page::Page;
use fabrique_platform::page::{self, Fingerprint};
use fabrique_platform::request;
use fabrique_platform::time::now;
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{
    Application, ApplicationState, ApplicationTransition, Category, GroupPurchase,
    GroupPurchaseState, Programme, ProgrammeState, Project, ProjectState, Site, Theme, Workshop,
    member_name, name, team_coverage,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store::{self, Applied};

// The drafts are domain values (`crate::proto` builds them and must not depend on this
// module); re-exported because code outside the crate (the seed) names them here.
pub use crate::domain::{
    ApplicationDraft, GroupPurchaseDraft, ProgrammeDraft, ProjectDraft, ProjectPatch, TeamReport,
};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// The member a caller acts for.
pub fn acting_member(caller: &Caller) -> Result<Uuid, Error> {
    caller.member_id.ok_or_else(|| Refusal::NotAMember.into())
}

#[derive(Clone)]
pub struct Projects {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

impl Projects {
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

    async fn active_member(
        &self,
        member: Uuid,
        role: &'static str,
    ) -> Result<fabrique_replicas::members::ReplicaMember, Error> {
        match fabrique_replicas::members::get(&self.db, member).await? {
            Some(m) if m.is_active() => Ok(m),
            known => Err(Refusal::MemberNotActive {
                role,
                member: member_name(member),
                state: known.map(|m| m.state),
            }
            .into()),
        }
    }

    async fn open_place(&self, place: Uuid) -> Result<(), Error> {
        match fabrique_replicas::places::get(&self.db, place).await? {
            Some(p) if !p.is_closed() => Ok(()),
            Some(_) => Err(Refusal::PlaceClosed {
                place: name("places", place),
            }
            .into()),
            None => Err(Refusal::PlaceUnknown {
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

    // -----------------------------------------------------------------------
    // Projects
    // -----------------------------------------------------------------------

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
        let now = fabrique_platform::time::now();
        let project = Project {
            id: Uuid::now_v7(),
            title: draft.title,
            summary: draft.summary,
            themes: draft.themes,
            lead,
            participants: draft.participants,
            host_place: draft.host_place,
            milestones: draft.milestones,
            state: ProjectState::Proposed,
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin().await?;
        store::insert_project(&txn, &project, request_id).await?;
        self.commit(
            txn,
            vec![events::project(events::PROJECT_CREATED, &project, vec![])],
        )
        .await?;
        Ok(project)
    }

    pub async fn get_project(&self, id: Uuid) -> Result<Project, Error> {
        store::get_project(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("projects", id)))
    }

    pub async fn list_projects(
        &self,
        member: Option<Uuid>,
        states: Vec<ProjectState>,
        themes: Vec<Theme>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Project>, Error> {
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListProjects")
            .with(member.map(|m| m.to_string()).unwrap_or_default())
            .with(
                states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .with(
                themes
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items =
            store::list_projects(&self.db, member, &states, &themes, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |p: &Project| p.id))
    }

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
        let mut next = current.clone();
        let mut changed = Vec::new();
        use fabrique_types::change::apply as set;
        set(&mut next.title, patch.title, "title", &mut changed);
        set(&mut next.summary, patch.summary, "summary", &mut changed);
        set(&mut next.themes, patch.themes, "themes", &mut changed);
        set(
            &mut next.participants,
            patch.participants,
            "participants",
            &mut changed,
        );
        set(
            &mut next.host_place,
            patch.host_place,
            "host_place",
            &mut changed,
        );
        set(
            &mut next.milestones,
            patch.milestones,
            "milestones",
            &mut changed,
        );
        if changed.is_empty() {
            return Ok(current);
        }
        next.version += 1;
        next.updated_at = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::update_project(&txn, &next, current.version).await? {
            txn.rollback().await?;
            return Err(Error::stale_etag(&current.name()));
        }
        let event = events::project(events::PROJECT_UPDATED, &next, changed);
        self.commit(txn, vec![event]).await?;
        Ok(next)
    }

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
        if !current.state.can_become(to) {
            return Err(Refusal::ProjectState {
                project: current.name(),
                state: current.state.as_str(),
                to: to.as_str(),
            }
            .into());
        }
        let mut next = current.clone();
        next.state = to;
        next.version += 1;
        next.updated_at = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::update_project(&txn, &next, current.version).await? {
            txn.rollback().await?;
            return Err(Error::stale_etag(&current.name()));
        }
        let event = events::project(events::PROJECT_STATE_CHANGED, &next, vec!["state".into()]);
        self.commit(txn, vec![event]).await?;
        Ok(next)
    }

    // -----------------------------------------------------------------------
    // Programmes and applications
    // -----------------------------------------------------------------------

    pub async fn create_programme(
        &self,
        caller: &Caller,
        draft: ProgrammeDraft,
        request_id: Option<Uuid>,
    ) -> Result<Programme, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::programme_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let funder = Self::member_for(caller, draft.funder, "open a programme")?;
        self.active_member(funder, "funder").await?;
        for co in &draft.co_funders {
            self.active_member(co.member, "co-funder").await?;
        }
        let now = fabrique_platform::time::now();
        let programme = Programme {
            id: Uuid::now_v7(),
            funder,
            funder_siret: draft.funder_siret,
            title: draft.title,
            description: draft.description,
            envelope_cents: draft.envelope_cents,
            aid_per_unit_cents: draft.aid_per_unit_cents,
            unit_label: draft.unit_label,
            max_units_per_application: draft.max_units_per_application,
            eligible_kinds: draft.eligible_kinds,
            max_awards_per_member: draft.max_awards_per_member,
            co_funders: draft.co_funders,
            opens_at: draft.opens_at,
            closes_at: draft.closes_at,
            state: ProgrammeState::Open,
            committed_cents: 0,
            paid_cents: 0,
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
        };
        if programme.breakdown(1).is_none() {
            return Err(Error::invalid(
                "programme.co_funders",
                "each co-funder's share must give whole cents per unit",
            ));
        }
        let txn = self.db.begin().await?;
        store::insert_programme(&txn, &programme, request_id).await?;
        self.commit(
            txn,
            vec![events::programme(events::PROGRAMME_OPENED, &programme)],
        )
        .await?;
        Ok(programme)
    }

    pub async fn get_programme(&self, id: Uuid) -> Result<Programme, Error> {
        store::get_programme(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("programmes", id)))
    }

    pub async fn list_programmes(
        &self,
        states: Vec<ProgrammeState>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Programme>, Error> {
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListProgrammes")
            .with(
                states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_programmes(&self.db, &states, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |p: &Programme| {
            p.id
        }))
    }

    pub async fn close_programme(&self, caller: &Caller, id: Uuid) -> Result<Programme, Error> {
        let programme = self.get_programme(id).await?;
        caller.require_admin_or_member(programme.funder, "close this programme")?;
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::close_programme(&txn, id, now).await? {
            txn.rollback().await?;
            return Err(Refusal::ProgrammeClosed {
                programme: programme.name(),
            }
            .into());
        }
        let closed = store::get_programme(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(programme.name()))?;
        self.commit(
            txn,
            vec![events::programme(events::PROGRAMME_CLOSED, &closed)],
        )
        .await?;
        Ok(closed)
    }

    pub async fn create_application(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        draft: ApplicationDraft,
        request_id: Option<Uuid>,
    ) -> Result<Application, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::application_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let applicant = acting_member(caller)?;
        let programme = self.get_programme(programme_id).await?;
        // A funder deciding on its own application would award itself.
        if programme.funder == applicant {
            return Err(Error::permission_denied(format!(
                "{} funds {}: it may not apply to it",
                member_name(applicant),
                programme.name()
            )));
        }
        let now = fabrique_platform::time::now();
        programme.accepts(now)?;
        let member = self.active_member(applicant, "applicant").await?;
        if !programme.eligible_kinds.is_empty() && !programme.eligible_kinds.contains(&member.kind)
        {
            return Err(Refusal::Ineligible {
                applicant: member_name(applicant),
                kind: member.kind,
                programme: programme.name(),
                eligible: programme.eligible_kinds,
            }
            .into());
        }
        if let Some(max) = programme.max_units_per_application
            && draft.units > max
        {
            return Err(Error::invalid(
                "application.units",
                format!("at most {max} per application"),
            ));
        }
        if let Some(max) = programme.max_awards_per_member
            && store::awards_of(&self.db, programme.id, applicant).await? >= u64::from(max)
        {
            return Err(Refusal::AwardLimitReached {
                member: member_name(applicant),
                max,
                programme: programme.name(),
            }
            .into());
        }
        if let Some(project) = draft.project {
            self.get_project(project).await?;
        }
        let (aid_cents, breakdown) = programme
            .breakdown(draft.units)
            .ok_or_else(|| Error::invalid("application.units", "is too large"))?;
        let application = Application {
            id: Uuid::now_v7(),
            programme: programme.id,
            applicant,
            project: draft.project,
            units: draft.units,
            purpose: draft.purpose,
            beneficiary_siret: draft.beneficiary_siret,
            aid_cents,
            breakdown,
            state: ApplicationState::Submitted,
            state_reason: None,
            created_by: caller.subject.clone(),
            created_at: now,
            decided_at: None,
            paid_at: None,
            version: 1,
        };
        let txn = self.db.begin().await?;
        store::insert_application(&txn, &application, request_id).await?;
        let committed_cents = store::locked_committed(&txn, programme.id).await?;
        let event = events::application_moved(&application, committed_cents);
        self.commit(txn, vec![event]).await?;
        Ok(application)
    }

    /// An application its applicant, the programme's funder or an admin may see.
    pub async fn get_application(
        &self,
        caller: &Caller,
        programme: Uuid,
        id: Uuid,
    ) -> Result<(Application, Programme), Error> {
        let programme = self.get_programme(programme).await?;
        match store::get_application(&self.db, id).await? {
            Some(a)
                if a.programme == programme.id
                    && (caller.is_admin()
                        || caller.is_member(a.applicant)
                        || caller.is_member(programme.funder)) =>
            {
                Ok((a, programme))
            }
            _ => Err(Error::not_found(crate::domain::application_name(
                programme.id,
                id,
            ))),
        }
    }

    pub async fn list_applications(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        mut applicant: Option<Uuid>,
        states: Vec<ApplicationState>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Application>, Error> {
        let programme = self.get_programme(programme_id).await?;
        if !caller.is_admin() && !caller.is_member(programme.funder) {
            // Applicants see their own applications only.
            applicant = Some(acting_member(caller)?);
        }
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListApplications")
            .with(programme_id.to_string())
            .with(applicant.map(|a| a.to_string()).unwrap_or_default())
            .with(
                states
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_applications(
            &self.db,
            Some(programme_id),
            applicant,
            &states,
            after,
            Some(page_size + 1),
        )
        .await?;
        Ok(Page::of(
            items,
            page_size,
            fingerprint,
            |a: &Application| a.id,
        ))
    }

    /// Approves: commits the aid within the envelope and the member's limit, in one
    /// transaction; when either would be exceeded, the application is REJECTED with the
    /// reason and the call fails.
    pub async fn approve(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        caller.require_admin_or_member(programme.funder, "decide on applications")?;
        current.next(&ApplicationTransition::Approve, now())?;
        // Aid goes to a member in good standing only (the application waits otherwise).
        self.active_member(current.applicant, "applicant").await?;
        match self
            .move_application(&current, &programme, ApplicationTransition::Approve)
            .await?
        {
            Ok(approved) => Ok(approved),
            Err(
                refusal @ (Refusal::EnvelopeExhausted { .. } | Refusal::AwardLimitReached { .. }),
            ) => {
                // Refused for good: the application is rejected with the reason (unless
                // a concurrent call decided it first), and the call fails with it.
                let reason = refusal.stored_reason();
                self.move_application(
                    &current,
                    &programme,
                    ApplicationTransition::Reject { reason },
                )
                .await?
                .ok();
                Err(refusal.into())
            }
            Err(refusal) => Err(refusal.into()),
        }
    }

    pub async fn reject(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        reason: String,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        caller.require_admin_or_member(programme.funder, "decide on applications")?;
        Ok(self
            .move_application(
                &current,
                &programme,
                ApplicationTransition::Reject { reason },
            )
            .await??)
    }

    pub async fn withdraw(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        caller.require_admin_or_member(current.applicant, "withdraw this application")?;
        let reason = reason.unwrap_or_else(|| "withdrawn by the applicant".into());
        Ok(self
            .move_application(
                &current,
                &programme,
                ApplicationTransition::Withdraw { reason },
            )
            .await??)
    }

    pub async fn pay(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        caller.require_admin_or_member(programme.funder, "pay an application")?;
        Ok(self
            .move_application(&current, &programme, ApplicationTransition::Pay)
            .await??)
    }

    /// Moves `current` through `transition` in one transaction with its event: the
    /// domain decides the next state, the store moves the row (only from the state it
    /// was read in) and its money, and the event carries the programme's committed
    /// total as it is when the transaction commits. The outer error is a failure, the
    /// inner one the refusal.
    async fn move_application(
        &self,
        current: &Application,
        programme: &Programme,
        transition: ApplicationTransition,
    ) -> Result<Result<Application, Refusal>, Error> {
        let next = match current.next(&transition, now()) {
            Ok(next) => next,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let txn = self.db.begin().await?;
        let refusal =
            match store::apply_application(&txn, current, &next, programme.max_awards_per_member)
                .await?
            {
                Applied::Done { committed_cents } => {
                    let event = events::application_moved(&next, committed_cents);
                    self.commit(txn, vec![event]).await?;
                    return Ok(Ok(next));
                }
                Applied::Raced => transition.refused(current, true),
                Applied::EnvelopeExhausted => Refusal::EnvelopeExhausted {
                    programme: programme.name(),
                    aid_cents: current.aid_cents,
                    envelope_cents: programme.envelope_cents,
                },
                Applied::AwardLimitReached => Refusal::AwardLimitReached {
                    member: member_name(current.applicant),
                    max: programme.max_awards_per_member.unwrap_or_default(),
                    programme: programme.name(),
                },
            };
        txn.rollback().await?;
        Ok(Err(refusal))
    }

    /// The programme's awards (approved or paid) as SCDL "subventions" CSV.
    pub async fn export_awards(
        &self,
        caller: &Caller,
        programme_id: Uuid,
    ) -> Result<(Vec<u8>, usize), Error> {
        caller
            .member_id
            .or(caller.is_admin().then_some(Uuid::nil()))
            .ok_or_else(|| {
                Error::permission_denied("exporting awards needs an admin or a member token")
            })?;
        let programme = self.get_programme(programme_id).await?;
        let awards = store::list_applications(
            &self.db,
            Some(programme.id),
            None,
            &[ApplicationState::Approved, ApplicationState::Paid],
            None,
            None,
        )
        .await?;
        let funder = fabrique_replicas::members::get(&self.db, programme.funder).await?;
        let mut names: BTreeMap<Uuid, fabrique_replicas::members::ReplicaMember> = BTreeMap::new();
        for award in &awards {
            if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(award.applicant)
                && let Some(member) =
                    fabrique_replicas::members::get(&self.db, award.applicant).await?
            {
                slot.insert(member);
            }
        }
        let csv = crate::scdl::write(&programme, funder.as_ref(), &awards, &names)
            .map_err(Error::internal)?;
        Ok((csv, awards.len()))
    }

    // -----------------------------------------------------------------------
    // Grouped purchases
    // -----------------------------------------------------------------------

    pub async fn create_group_purchase(
        &self,
        caller: &Caller,
        draft: GroupPurchaseDraft,
        request_id: Option<Uuid>,
    ) -> Result<GroupPurchase, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::group_purchase_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let coordinator =
            Self::member_for(caller, draft.coordinator, "coordinate a grouped purchase")?;
        self.active_member(coordinator, "coordinator").await?;
        let now = fabrique_platform::time::now();
        if draft.deadline <= now {
            return Err(Error::invalid(
                "group_purchase.deadline",
                "must be in the future",
            ));
        }
        let purchase = GroupPurchase {
            id: Uuid::now_v7(),
            title: draft.title,
            coordinator,
            category: draft.category,
            unit: draft.unit,
            lots: draft.lots,
            deadline: draft.deadline,
            state: GroupPurchaseState::Open,
            supplier: None,
            participations: BTreeMap::new(),
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin().await?;
        store::insert_group_purchase(&txn, &purchase, request_id).await?;
        self.commit(
            txn,
            vec![events::group_purchase(
                events::PURCHASE_OPENED,
                &purchase,
                None,
                "",
            )],
        )
        .await?;
        Ok(purchase)
    }

    pub async fn get_group_purchase(&self, id: Uuid) -> Result<GroupPurchase, Error> {
        store::get_group_purchase(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("groupPurchases", id)))
    }

    pub async fn list_group_purchases(
        &self,
        states: Vec<GroupPurchaseState>,
        categories: Vec<Category>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<GroupPurchase>, Error> {
        let fingerprint =
            Fingerprint::new("fabrique.projects.v1.ProjectsService/ListGroupPurchases")
                .with(
                    states
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .with(
                    categories
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items =
            store::list_group_purchases(&self.db, &states, &categories, after, page_size + 1)
                .await?;
        Ok(Page::of(
            items,
            page_size,
            fingerprint,
            |g: &GroupPurchase| g.id,
        ))
    }

    pub async fn join_group_purchase(
        &self,
        caller: &Caller,
        id: Uuid,
        sites: Vec<Site>,
    ) -> Result<GroupPurchase, Error> {
        let member = acting_member(caller)?;
        let purchase = self.get_group_purchase(id).await?;
        let now = fabrique_platform::time::now();
        if purchase.state != GroupPurchaseState::Open {
            return Err(Refusal::PurchaseClosed {
                purchase: purchase.name(),
                state: purchase.state.as_str(),
            }
            .into());
        }
        if now >= purchase.deadline {
            return Err(Refusal::DeadlinePassed {
                purchase: purchase.name(),
                deadline: purchase.deadline,
            }
            .into());
        }
        self.active_member(member, "member").await?;
        let mut v = fabrique_platform::Violations::new();
        for (i, site) in sites.iter().enumerate() {
            if !purchase.lots.iter().any(|l| l.code == site.lot) {
                v.add(
                    format!("sites[{i}].lot"),
                    format!("{:?} is not a lot of {}", site.lot, purchase.name()),
                );
            }
        }
        v.into_result()?;
        let txn = self.db.begin().await?;
        store::set_participation(&txn, id, member, &sites, now).await?;
        let joined = store::get_group_purchase(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(purchase.name()))?;
        self.commit(
            txn,
            vec![events::group_purchase(
                events::PURCHASE_JOINED,
                &joined,
                Some(member),
                "",
            )],
        )
        .await?;
        Ok(joined)
    }

    pub async fn leave_group_purchase(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<GroupPurchase, Error> {
        let member = acting_member(caller)?;
        let purchase = self.get_group_purchase(id).await?;
        if purchase.state != GroupPurchaseState::Open {
            return Err(Refusal::PurchaseClosed {
                purchase: purchase.name(),
                state: purchase.state.as_str(),
            }
            .into());
        }
        self.leave_one(id, member, "left by the member")
            .await?
            .ok_or_else(|| {
                Refusal::NotJoined {
                    member: member_name(member),
                    purchase: purchase.name(),
                }
                .into()
            })
    }

    async fn leave_one(
        &self,
        id: Uuid,
        member: Uuid,
        reason: &str,
    ) -> Result<Option<GroupPurchase>, Error> {
        let txn = self.db.begin().await?;
        if !store::remove_participation(&txn, id, member).await? {
            txn.rollback().await?;
            return Ok(None);
        }
        let left = store::get_group_purchase(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(name("groupPurchases", id)))?;
        self.commit(
            txn,
            vec![events::group_purchase(
                events::PURCHASE_LEFT,
                &left,
                Some(member),
                reason,
            )],
        )
        .await?;
        Ok(Some(left))
    }

    /// OPEN → CLOSED, or CLOSED → AWARDED with a supplier (the coordinator or an admin).
    pub async fn advance_group_purchase(
        &self,
        caller: &Caller,
        id: Uuid,
        supplier: Option<String>,
    ) -> Result<GroupPurchase, Error> {
        let purchase = self.get_group_purchase(id).await?;
        caller.require_admin_or_member(purchase.coordinator, "close or award this purchase")?;
        let (from, to, subject) = match supplier {
            None => (
                GroupPurchaseState::Open,
                GroupPurchaseState::Closed,
                events::PURCHASE_CLOSED,
            ),
            Some(_) => (
                GroupPurchaseState::Closed,
                GroupPurchaseState::Awarded,
                events::PURCHASE_AWARDED,
            ),
        };
        let now = fabrique_platform::time::now();
        let txn = self.db.begin().await?;
        if !store::move_group_purchase(&txn, id, from, to, supplier.as_deref(), now).await? {
            txn.rollback().await?;
            return Err(Refusal::PurchaseState {
                purchase: purchase.name(),
                state: purchase.state.as_str(),
                expected: from.as_str(),
            }
            .into());
        }
        let next = store::get_group_purchase(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(purchase.name()))?;
        self.commit(txn, vec![events::group_purchase(subject, &next, None, "")])
            .await?;
        Ok(next)
    }

    // -----------------------------------------------------------------------
    // Workshops
    // -----------------------------------------------------------------------

    pub async fn create_workshop(
        &self,
        caller: &Caller,
        theme: String,
        season: Option<String>,
        roles: Vec<String>,
        request_id: Option<Uuid>,
    ) -> Result<Workshop, Error> {
        caller.require_admin("create a workshop")?;
        if let Some(request_id) = request_id
            && let Some(existing) = store::workshop_by_request(&self.db, request_id).await?
        {
            return Ok(existing);
        }
        let workshop = Workshop {
            id: Uuid::now_v7(),
            theme,
            season,
            required_roles: roles,
            teams: BTreeMap::new(),
            created_at: fabrique_platform::time::now(),
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

    pub async fn get_workshop(&self, id: Uuid) -> Result<Workshop, Error> {
        store::get_workshop(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("workshops", id)))
    }

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
        store::set_team(&txn, id, lead, &members, fabrique_platform::time::now()).await?;
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
