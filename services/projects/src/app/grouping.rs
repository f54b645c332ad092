//! Groupings: a member files one application on behalf of several (an EPCI for its
//! communes); each application is admitted as if its member had applied itself, and
//! the funder may approve them all at once — all or none, within the envelope and each
//! member's limit.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::request;
use fabrique_platform::time::now;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Projects, acting_member};
use crate::domain::{
    Application, ApplicationDraft, ApplicationTransition, Grouping, GroupingDraft, Programme,
    legal_entity, member_name,
};
use crate::events;
use crate::store::{self, Applied};

impl Projects {
    /// Files the caller's member's grouping: one SUBMITTED application per member of
    /// `draft`, each admitted as its own, all in one transaction with their events.
    pub async fn create_grouping(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        draft: GroupingDraft,
        request_id: Option<Uuid>,
    ) -> Result<(Grouping, Vec<Application>), Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::grouping_by_request(&self.db, request_id).await?,
                |g| g.created_by == caller.subject,
            )?
        {
            let applications = store::applications_of(&self.db, existing.id).await?;
            return Ok((existing, applications));
        }
        let filer = acting_member(caller)?;
        self.active_member(filer, "filer").await?;
        let programme = self.get_programme(programme_id).await?;
        if programme.instructed_by(filer) {
            return Err(Error::permission_denied(format!(
                "{} funds or instructs {}: it may not file for others",
                member_name(filer),
                programme.name()
            )));
        }
        let now = now();
        let grouping = Grouping {
            id: Uuid::now_v7(),
            programme: programme.id,
            filer,
            purpose: draft.purpose.clone(),
            units_per_member: draft.units_per_member,
            members: draft.members.clone(),
            created_by: caller.subject.clone(),
            created_at: now,
        };
        let applications = self
            .grouped_applications(&programme, &grouping, &draft.installations, caller)
            .await?;
        let txn = self.db.begin().await?;
        store::insert_grouping(&txn, &grouping, request_id).await?;
        for application in &applications {
            store::insert_application(&txn, application, None).await?;
        }
        let committed_cents = store::locked_committed(&txn, programme.id).await?;
        let events = applications
            .iter()
            .map(|a| events::application(a, committed_cents))
            .collect();
        self.commit(txn, events).await?;
        Ok((grouping, applications))
    }

    /// One application per member of `grouping`, each admitted as if its member had
    /// applied itself (the first refused refuses the whole filing), with the
    /// installation given for it, if any.
    async fn grouped_applications(
        &self,
        programme: &Programme,
        grouping: &Grouping,
        installations: &[crate::domain::Installation],
        caller: &Caller,
    ) -> Result<Vec<Application>, Error> {
        let mut applications = Vec::new();
        for (i, member) in grouping.members.iter().enumerate() {
            let one = ApplicationDraft {
                project: None,
                units: grouping.units_per_member,
                purpose: grouping.purpose.clone(),
                beneficiary_siret: None,
                installation: installations.get(i).cloned(),
            };
            let place = self
                .admit(programme, *member, &one, grouping.created_at)
                .await?;
            let mut application = Application::submit(
                programme,
                *member,
                &place,
                one,
                caller.subject.clone(),
                grouping.created_at,
            )
            .ok_or_else(|| Error::invalid("grouping.units_per_member", "is too large"))?;
            application.grouping = Some(grouping.id);
            application.filer = Some(grouping.filer);
            applications.push(application);
        }
        Ok(applications)
    }

    /// The grouping and its applications, for its filer, the programme's instructors or
    /// an admin (the instruction left out for the filer).
    pub async fn get_grouping(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
    ) -> Result<(Grouping, Vec<Application>), Error> {
        let programme = self.get_programme(programme_id).await?;
        let grouping = match store::get_grouping(&self.db, id).await? {
            Some(g)
                if g.programme == programme.id
                    && (caller.is_member(g.filer) || Self::instructs(caller, &programme)) =>
            {
                g
            }
            _ => {
                return Err(Error::not_found(crate::domain::grouping_name(
                    programme_id,
                    id,
                )));
            }
        };
        let applications = store::applications_of(&self.db, id)
            .await?
            .into_iter()
            .map(|a| Self::shown_to(caller, &programme, a))
            .collect();
        Ok((grouping, applications))
    }

    /// Approves every submitted application of the grouping in one transaction (the
    /// funder or an admin), or none: the refusal of the first that cannot be approved.
    pub async fn approve_grouping(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
    ) -> Result<(Grouping, Vec<Application>), Error> {
        let programme = self.get_programme(programme_id).await?;
        caller.require_admin_or_member(programme.funder, "decide on applications")?;
        let (grouping, applications) = self.get_grouping(caller, programme_id, id).await?;
        let mut moves = Vec::new();
        for current in &applications {
            if current.state != crate::domain::ApplicationState::Submitted {
                continue;
            }
            let applicant = self.active_member(current.applicant, "applicant").await?;
            let approve = ApplicationTransition::Approve {
                legal_entity: legal_entity(applicant.id, applicant.siren.as_deref()),
            };
            let next = current.next(&approve, now())?;
            moves.push((current.clone(), next, approve));
        }
        if moves.is_empty() {
            // Every application decided already: say so on the first.
            let first = applications
                .first()
                .ok_or_else(|| Error::not_found(grouping.name()))?;
            return Err(ApplicationTransition::Approve {
                legal_entity: String::new(),
            }
            .refused(first, false)
            .into());
        }
        self.approve_all(&programme, moves).await?;
        self.get_grouping(caller, programme_id, id).await
    }

    /// Writes every approval in one transaction with its events, or rolls back on the
    /// first refused.
    async fn approve_all(
        &self,
        programme: &Programme,
        moves: Vec<(Application, Application, ApplicationTransition)>,
    ) -> Result<(), Error> {
        let txn = self.db.begin().await?;
        let mut events = Vec::new();
        for (current, next, approve) in &moves {
            let max = programme.max_awards_per_member;
            let refusal = match store::apply_application(&txn, current, next, max).await? {
                Applied::Done { committed_cents } => {
                    events.push(events::application_after(approve, next, committed_cents));
                    continue;
                }
                other => super::programme::refusal_of(other, programme, current, next, approve),
            };
            txn.rollback().await?;
            return Err(refusal.into());
        }
        self.commit(txn, events).await
    }
}
