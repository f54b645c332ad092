//! Creating a process (its organiser or an admin) and making one of its steps the
//! active one, each announced by its event; reading processes (public).

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::page::{self, Page};
use fabrique_platform::{Error, db, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::Participation;
use crate::domain::{NewProcess, Process, process_name};
use crate::events;
use crate::store::{self, ProcessFilter};

impl Participation {
    /// The organiser (an active member), or an admin, creates a process with its steps;
    /// none is active yet.
    pub async fn create_process(
        &self,
        caller: &Caller,
        new: NewProcess,
        request_id: Option<Uuid>,
    ) -> Result<Process, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = self.process_by_request(caller, request_id).await?
        {
            return Ok(existing);
        }
        caller.require_admin_or_member(new.organiser, "organise a process for this member")?;
        self.ensure_active_organiser(new.organiser, "process.organiser")
            .await?;
        let now = fabrique_platform::time::now();
        let process = Process {
            id: Uuid::now_v7(),
            organiser: new.organiser,
            title: new.title,
            description: new.description,
            territory: new.territory,
            steps: new.steps,
            active_step: 0,
            verified_only: new.verified_only,
            support_limit: new.support_limit,
            support_threshold: new.support_threshold,
            themes: new.themes,
            report_threshold: match new.report_threshold {
                0 => crate::domain::comment::DEFAULT_REPORT_THRESHOLD,
                n => n,
            },
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin().await?;
        if let Err(error) = store::insert_process(&txn, &process, request_id).await {
            let _ = txn.rollback().await;
            if db::violates(&error, &store::PROCESS_REQUEST_KEY)
                && let Some(request_id) = request_id
                && let Some(existing) = self.process_by_request(caller, request_id).await?
            {
                return Ok(existing);
            }
            return Err(error.into());
        }
        outbox::enqueue(
            &txn,
            vec![events::process_changed(events::PROCESS_CREATED, &process)],
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(process = %process_name(process.id), "process created");
        Ok(process)
    }

    async fn process_by_request(
        &self,
        caller: &Caller,
        request_id: Uuid,
    ) -> Result<Option<Process>, Error> {
        request::replay(
            store::process_by_request(&self.db, request_id).await?,
            |process| process.created_by == caller.subject,
        )
    }

    /// One process: public.
    pub async fn get_process(&self, id: Uuid) -> Result<Process, Error> {
        self.process(id).await
    }

    /// Processes, newest first: public.
    pub async fn list_processes(
        &self,
        filter: ProcessFilter,
        page_size: u64,
        page_token: &str,
    ) -> Result<Page<Process>, Error> {
        let fingerprint = page::Fingerprint::new("ListProcesses")
            .with(filter.organiser.map(|o| o.to_string()).unwrap_or_default())
            .with(filter.territory.clone().unwrap_or_default())
            .finish();
        let after = page::decode_id(page_token, fingerprint)?;
        let processes = store::processes(&self.db, &filter, after, page_size + 1).await?;
        Ok(Page::of(processes, page_size, fingerprint, |p| p.id))
    }

    /// The organiser or an admin makes step `number` the active one (the one before is
    /// not any more). Activating the active step again changes nothing.
    pub async fn activate_step(
        &self,
        caller: &Caller,
        id: Uuid,
        number: u32,
        etag: Option<i64>,
    ) -> Result<Process, Error> {
        let current = self.process(id).await?;
        caller.require_admin_or_member(current.organiser, "move this process's steps")?;
        if etag.is_some_and(|version| version != current.version) {
            return Err(Error::stale_etag(&process_name(id)));
        }
        let now = fabrique_platform::time::now();
        let Some(next) = current.activate(number, now) else {
            return Err(Error::invalid(
                "step",
                format!(
                    "must be a step of the process, 1 to {}",
                    current.steps.len()
                ),
            ));
        };
        if current.active_step == number {
            return Ok(current);
        }
        let txn = self.db.begin().await?;
        if !store::update_process(&txn, &current, &next).await? {
            txn.rollback().await?;
            return Err(super::changed_meanwhile(&process_name(id), etag.is_some()));
        }
        outbox::enqueue(
            &txn,
            vec![events::process_changed(events::STEP_ACTIVATED, &next)],
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(next)
    }
}
