//! The use cases of programmes and their applications: opening and closing a programme
//! and changing its envelope, applying to it, the funder's decisions, payments (the
//! co-funders' too) and cancellations, each through `Projects::move_application`, where
//! the envelope and the limit per legal entity are held. What programmes report is in
//! `report.rs`.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::request;
use fabrique_platform::time::now;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Projects, acting_member, joined};
use crate::domain::{
    Application, ApplicationDraft, ApplicationState, ApplicationTransition, Payment, PaymentKind,
    Programme, ProgrammeDraft, ProgrammeState, ProgrammeTransition, Whereabouts, application_name,
    legal_entity, member_name, name,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store::{self, Applied};

// ---------------------------------------------------------------------------
// Programmes
// ---------------------------------------------------------------------------

impl Projects {
    /// Opens a programme funded by the caller's member (or, for an admin, the one given);
    /// the funder and every co-funder must be active, and each co-funder's share must
    /// come to whole cents per unit.
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
        if let Some(operator) = draft.operator {
            if operator == funder {
                return Err(Error::invalid(
                    "programme.operator",
                    "must be another member than the funder (leave it empty)",
                ));
            }
            self.active_member(operator, "operator").await?;
        }
        let programme = Programme::open(draft, funder, caller.subject.clone(), now());
        if programme
            .co_funders
            .iter()
            .any(|co| co.per_unit(programme.aid_per_unit_cents).is_none())
        {
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

    /// The programme, or NOT_FOUND.
    pub async fn get_programme(&self, id: Uuid) -> Result<Programme, Error> {
        store::get_programme(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("programmes", id)))
    }

    /// A page of the programmes in one of `states` (any when empty).
    pub async fn list_programmes(
        &self,
        states: Vec<ProgrammeState>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Programme>, Error> {
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListProgrammes")
            .with(joined(states.iter().map(|s| s.as_str())))
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_programmes(&self.db, &states, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |p: &Programme| {
            p.id
        }))
    }

    /// Closes the programme (its funder or an admin): no more applications; those
    /// submitted are still decided and paid.
    pub async fn close_programme(&self, caller: &Caller, id: Uuid) -> Result<Programme, Error> {
        let programme = self.get_programme(id).await?;
        caller.require_admin_or_member(programme.funder, "close this programme")?;
        let transition = ProgrammeTransition::Close;
        let next = programme.next(transition, now())?;
        let txn = self.db.begin().await?;
        if !store::move_programme(&txn, &next, transition.from()).await? {
            txn.rollback().await?;
            return Err(transition.refused(&programme).into());
        }
        // Read back in the transaction: the event carries the committed total as it is.
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

    /// Changes the envelope as the funder's deliberation `reference` of `decided_on`
    /// voted it (the funder or an admin), never below what is committed.
    pub async fn change_envelope(
        &self,
        caller: &Caller,
        id: Uuid,
        envelope_cents: i64,
        reference: String,
        decided_on: chrono::NaiveDate,
    ) -> Result<Programme, Error> {
        let programme = self.get_programme(id).await?;
        caller.require_admin_or_member(programme.funder, "change this programme's envelope")?;
        let next = programme.change_envelope(envelope_cents, reference, decided_on, now())?;
        let txn = self.db.begin().await?;
        if !store::change_envelope(&txn, &programme, &next).await? {
            txn.rollback().await?;
            // Approvals may have committed more since it was read: say so if they did.
            let fresh = self.get_programme(id).await?;
            return Err(match fresh.committed_cents > envelope_cents {
                true => Refusal::EnvelopeBelowCommitted {
                    programme: fresh.name(),
                    envelope_cents,
                    committed_cents: fresh.committed_cents,
                }
                .into(),
                false => fabrique_platform::refusal::Shared::ConcurrentChange {
                    resource: Some(fresh.name()),
                }
                .into(),
            });
        }
        let changed = store::get_programme(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(programme.name()))?;
        self.commit(
            txn,
            vec![events::programme(
                events::PROGRAMME_ENVELOPE_CHANGED,
                &changed,
            )],
        )
        .await?;
        Ok(changed)
    }
}

// ---------------------------------------------------------------------------
// Applications
// ---------------------------------------------------------------------------

/// Why the store did not move `current` to `next` by `transition`: a concurrent call
/// first, or the envelope or the limit per legal entity.
pub(super) fn refusal_of(
    applied: Applied,
    programme: &Programme,
    current: &Application,
    next: &Application,
    transition: &ApplicationTransition,
) -> Refusal {
    match applied {
        Applied::EnvelopeExhausted => Refusal::EnvelopeExhausted {
            programme: programme.name(),
            aid_cents: current.aid_cents,
            envelope_cents: programme.envelope_cents,
        },
        Applied::AwardLimitReached => Refusal::AwardLimitReached {
            member: member_name(current.applicant),
            legal_entity: next.legal_entity.clone().unwrap_or_default(),
            max: programme.max_awards_per_member.unwrap_or_default(),
            programme: programme.name(),
        },
        Applied::Raced | Applied::Done { .. } => transition.refused(current, true),
    }
}

impl Projects {
    /// Submits the caller's member's application to a programme, once `admit`
    /// lets it in; its aid and breakdown are fixed now, and its event carries the
    /// programme's committed total.
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
        let application = self.check_application(caller, programme_id, draft).await?;
        let txn = self.db.begin().await?;
        store::insert_application(&txn, &application, request_id).await?;
        let committed_cents = store::locked_committed(&txn, programme_id).await?;
        let event = events::application(&application, committed_cents);
        self.commit(txn, vec![event]).await?;
        Ok(application)
    }

    /// The application `draft` would make, checked as a submission is (the same errors
    /// and refusals), with its aid and breakdown; written nowhere.
    pub async fn check_application(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        draft: ApplicationDraft,
    ) -> Result<Application, Error> {
        let applicant = acting_member(caller)?;
        let programme = self.get_programme(programme_id).await?;
        let now = now();
        let place = self.admit(&programme, applicant, &draft, now).await?;
        Application::submit(
            &programme,
            applicant,
            &place,
            draft,
            caller.subject.clone(),
            now,
        )
        .ok_or_else(|| Error::invalid("application.units", "is too large"))
    }

    /// Whether `applicant` may apply to `programme` with `draft` at `now`. The order of
    /// the checks is the contract's: not its own funder, the programme open, an active
    /// member of an eligible kind, the units within the limit, an award still possible,
    /// the project known. Admitted, where the applicant is, for its co-funders.
    pub(super) async fn admit(
        &self,
        programme: &Programme,
        applicant: Uuid,
        draft: &ApplicationDraft,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Whereabouts, Error> {
        // A funder deciding on its own application would award itself; an operator
        // would instruct its own.
        if programme.instructed_by(applicant) {
            return Err(Error::permission_denied(format!(
                "{} funds or instructs {}: it may not apply to it",
                member_name(applicant),
                programme.name()
            )));
        }
        programme.accepts(now)?;
        let member = self.active_member(applicant, "applicant").await?;
        programme.admits(applicant, &member.kind)?;
        if let Some(max) = programme.max_units_per_application
            && draft.units > max
        {
            return Err(Error::invalid(
                "application.units",
                format!("at most {max} per application"),
            ));
        }
        let entity = legal_entity(applicant, member.siren.as_deref());
        if let Some(max) = programme.max_awards_per_member
            && store::awards_of(&self.db, programme.id, &entity).await? >= u64::from(max)
        {
            return Err(Refusal::AwardLimitReached {
                member: member_name(applicant),
                legal_entity: entity,
                max,
                programme: programme.name(),
            }
            .into());
        }
        if let Some(project) = draft.project {
            self.get_project(project).await?;
        }
        Ok(Whereabouts {
            siren: member.siren,
            insee_code: member.insee_code,
            epci_siren: member.epci_siren,
        })
    }

    /// An application its applicant (or the grouping's filer), a funder or co-funder of
    /// it, the programme's operator, or an admin may see, whole: what the caller reads of it is [`Projects::shown_to`] it.
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
                    && (caller.is_member(a.applicant)
                        || a.filer.is_some_and(|filer| caller.is_member(filer))
                        || a.breakdown.iter().any(|line| caller.is_member(line.funder))
                        || Self::instructs(caller, &programme)) =>
            {
                Ok((a, programme))
            }
            _ => Err(Error::not_found(application_name(programme.id, id))),
        }
    }

    /// A page of a programme's applications: all of them for its funder or an admin, the
    /// caller's own for anyone else.
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
        if !Self::instructs(caller, &programme) {
            // Applicants see their own applications only, without the instruction.
            applicant = Some(acting_member(caller)?);
        }
        let fingerprint = Fingerprint::new("fabrique.projects.v1.ProjectsService/ListApplications")
            .with(programme_id.to_string())
            .with(applicant.map(|a| a.to_string()).unwrap_or_default())
            .with(joined(states.iter().map(|s| s.as_str())))
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
        .await?
        .into_iter()
        .map(|a| Self::shown_to(caller, &programme, a))
        .collect();
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
        // Aid goes to a member in good standing only (the application waits otherwise);
        // the award counts against its legal entity as the register gives it now.
        let applicant = self.active_member(current.applicant, "applicant").await?;
        let approve = ApplicationTransition::Approve {
            legal_entity: legal_entity(applicant.id, applicant.siren.as_deref()),
        };
        current.next(&approve, now())?;
        match self.move_application(&current, &programme, approve).await? {
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

    /// Rejects a submitted application (the funder or an admin), with its reason.
    pub async fn reject(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        reason: String,
    ) -> Result<Application, Error> {
        let reject = ApplicationTransition::Reject { reason };
        self.funder_moves(caller, programme_id, id, "decide on applications", reject)
            .await
    }

    /// Moves an application by `transition` for its programme's funder (or an admin),
    /// the only ones who may `action`.
    async fn funder_moves(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        action: &str,
        transition: ApplicationTransition,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        caller.require_admin_or_member(programme.funder, action)?;
        Ok(self
            .move_application(&current, &programme, transition)
            .await??)
    }

    /// Withdraws a submitted application (its applicant or an admin).
    pub async fn withdraw(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<Application, Error> {
        let (current, programme) = self.get_application(caller, programme_id, id).await?;
        // Its applicant, or the member that filed it in a grouping.
        if !current.filer.is_some_and(|filer| caller.is_member(filer)) {
            caller.require_admin_or_member(current.applicant, "withdraw this application")?;
        }
        let reason = reason.unwrap_or_else(|| "withdrawn by the applicant".into());
        let withdrawn = self
            .move_application(
                &current,
                &programme,
                ApplicationTransition::Withdraw { reason },
            )
            .await??;
        Ok(Self::shown_to(caller, &programme, withdrawn))
    }

    /// Pays what remains of an approved award today, as its balance (the funder or an
    /// admin).
    pub async fn pay(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
    ) -> Result<Application, Error> {
        let now = now();
        let (current, _) = self.get_application(caller, programme_id, id).await?;
        let balance = Payment {
            co_funder: None,
            kind: PaymentKind::Balance,
            amount_cents: current.unpaid_cents(),
            paid_on: now.date_naive(),
            recorded_at: now,
        };
        self.record_payment(caller, programme_id, id, balance).await
    }

    /// Records a payment of an approved award, an advance or the balance (the funder or
    /// an admin); never more than what remains to pay. A co-funder's payment of its
    /// part is recorded by that co-funder or an admin.
    pub async fn record_payment(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        payment: Payment,
    ) -> Result<Application, Error> {
        if let Some(co_funder) = payment.co_funder {
            let (current, programme) = self.get_application(caller, programme_id, id).await?;
            caller.require_admin_or_member(co_funder, "pay a co-funder's part")?;
            let pay = ApplicationTransition::Pay(payment);
            let paid = self.move_application(&current, &programme, pay).await??;
            return Ok(Self::shown_to(caller, &programme, paid));
        }
        let pay = ApplicationTransition::Pay(payment);
        self.funder_moves(caller, programme_id, id, "pay an application", pay)
            .await
    }

    /// Cancels an approved award of which nothing was paid (the funder or an admin): its
    /// aid returns to the envelope and it no longer counts against the limit.
    pub async fn cancel_award(
        &self,
        caller: &Caller,
        programme_id: Uuid,
        id: Uuid,
        reason: String,
    ) -> Result<Application, Error> {
        let cancel = ApplicationTransition::Cancel { reason };
        self.funder_moves(caller, programme_id, id, "cancel an award", cancel)
            .await
    }

    /// Moves `current` through `transition` in one transaction with its event: the
    /// domain decides the next state, the store moves the row (only from the state it
    /// was read in) and its money, and the event carries the programme's committed
    /// total as it is when the transaction commits. The outer error is a failure, the
    /// inner one the refusal.
    pub(super) async fn move_application(
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
                    let event = events::application_after(&transition, &next, committed_cents);
                    self.commit(txn, vec![event]).await?;
                    return Ok(Ok(next));
                }
                other => refusal_of(other, programme, current, &next, &transition),
            };
        txn.rollback().await?;
        Ok(Err(refusal))
    }
}
