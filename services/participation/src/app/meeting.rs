//! Meetings: the organiser schedules, cancels and publishes the minutes; participants
//! register (a seat, or the waiting list) and give up (their seat going to the first
//! waiting); everyone reads them and subscribes to their calendar.

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::{Error, db, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::Participation;
use crate::calendar;
use crate::domain::Process;
use crate::domain::meeting::{
    AttendanceState, Meeting, NewMeeting, Registration, Venue, meeting_name,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

impl Participation {
    /// The organiser (or an admin) schedules a meeting of its process, in a LISTED place
    /// or online.
    pub async fn create_meeting(
        &self,
        caller: &Caller,
        process: Uuid,
        new: NewMeeting,
        request_id: Option<Uuid>,
    ) -> Result<Meeting, Error> {
        let process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, "schedule this process's meetings")?;
        if let Some(request_id) = request_id
            && let Some(existing) = self.meeting_by_request(caller, request_id).await?
        {
            return Ok(existing);
        }
        let place_display_name = match &new.venue {
            Venue::Place(place) => Some(self.listed_place(*place).await?),
            Venue::Online(_) => None,
        };
        let now = fabrique_platform::time::now();
        let meeting = Meeting {
            id: Uuid::now_v7(),
            process: process.id,
            details: new,
            place_display_name,
            registered: 0,
            waiting: 0,
            cancelled_at: None,
            minutes: None,
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin().await?;
        if let Err(error) = store::meeting::insert(&txn, &meeting, request_id).await {
            let _ = txn.rollback().await;
            if db::violates(&error, &store::meeting::REQUEST_KEY)
                && let Some(request_id) = request_id
                && let Some(existing) = self.meeting_by_request(caller, request_id).await?
            {
                return Ok(existing);
            }
            return Err(error.into());
        }
        let event = events::meeting_changed(events::MEETING_SCHEDULED, &process, &meeting);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(meeting)
    }

    async fn meeting_by_request(
        &self,
        caller: &Caller,
        request_id: Uuid,
    ) -> Result<Option<Meeting>, Error> {
        request::replay(
            store::meeting::by_request(&self.db, request_id).await?,
            |meeting| meeting.created_by == caller.subject,
        )
    }

    /// A place meetings may be in: LISTED in the registry, as place events told; its
    /// name.
    async fn listed_place(&self, place: Uuid) -> Result<String, Error> {
        match fabrique_replicas::places::get(&self.db, place).await? {
            Some(known) if known.state == "listed" => Ok(known.display_name),
            known => Err(Refusal::PlaceNotListed {
                place: fabrique_types::resource::format_name("places", place),
                state: known.map(|k| k.state),
            }
            .into()),
        }
    }

    async fn meeting(&self, process: Uuid, id: Uuid) -> Result<Meeting, Error> {
        store::meeting::get(&self.db, process, id)
            .await?
            .ok_or_else(|| Error::not_found(meeting_name(process, id)))
    }

    /// The caller's registration to `meeting`, if they are a participant with one.
    async fn registration(
        &self,
        caller: Option<&Caller>,
        meeting: Uuid,
    ) -> Result<Option<Registration>, Error> {
        let Some(caller) = caller.filter(|c| c.is_citizen()) else {
            return Ok(None);
        };
        match store::participant_of(&self.db, &caller.subject).await? {
            Some(p) => store::meeting::registration_of(&self.db, meeting, p.id).await,
            None => Ok(None),
        }
    }

    /// One meeting, with the caller's registration: public.
    pub async fn get_meeting(
        &self,
        caller: Option<&Caller>,
        process: Uuid,
        id: Uuid,
    ) -> Result<(Meeting, Option<Registration>), Error> {
        let meeting = self.meeting(process, id).await?;
        let registration = self.registration(caller, id).await?;
        Ok((meeting, registration))
    }

    /// A process's meetings, soonest first (`skip` of them skipped): public.
    pub async fn list_meetings(
        &self,
        caller: Option<&Caller>,
        process: Uuid,
        skip: u64,
        limit: u64,
    ) -> Result<Vec<(Meeting, Option<Registration>)>, Error> {
        let process = self.process(process).await?;
        let meetings = store::meeting::list(&self.db, process.id, skip, limit).await?;
        let mut read = Vec::with_capacity(meetings.len());
        for meeting in meetings {
            let registration = self.registration(caller, meeting.id).await?;
            read.push((meeting, registration));
        }
        Ok(read)
    }

    /// The organiser cancels a meeting to come, or publishes the minutes of one that
    /// ended: `change` decides, the change is written with its event.
    async fn change_meeting(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
        action: &str,
        subject: &str,
        change: impl FnOnce(&Meeting) -> Result<Meeting, Refusal>,
    ) -> Result<Meeting, Error> {
        let process: Process = self.process(process).await?;
        caller.require_admin_or_member(process.organiser, action)?;
        let current = self.meeting(process.id, id).await?;
        let next = change(&current)?;
        let txn = self.db.begin().await?;
        if !store::meeting::update(&txn, &current, &next).await? {
            txn.rollback().await?;
            return Err(super::changed_meanwhile(&current.name(), false));
        }
        let event = events::meeting_changed(subject, &process, &next);
        outbox::enqueue(&txn, vec![event]).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(next)
    }

    /// The organiser cancels a meeting before it begins.
    pub async fn cancel_meeting(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
    ) -> Result<Meeting, Error> {
        let now = fabrique_platform::time::now();
        self.change_meeting(
            caller,
            process,
            id,
            "cancel this process's meetings",
            events::MEETING_CANCELLED,
            |m| m.cancel(now),
        )
        .await
    }

    /// The organiser publishes the minutes of a meeting that ended.
    pub async fn publish_minutes(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
        minutes: String,
    ) -> Result<Meeting, Error> {
        let now = fabrique_platform::time::now();
        self.change_meeting(
            caller,
            process,
            id,
            "publish this process's minutes",
            events::MINUTES_PUBLISHED,
            |m| m.publish_minutes(minutes, now),
        )
        .await
    }

    /// A participant registers: a seat while any is left, the waiting list otherwise.
    /// Registering again returns the registration they have.
    pub async fn register_for_meeting(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
    ) -> Result<Registration, Error> {
        let participant = self.participant(caller).await?;
        let meeting = self.meeting(process, id).await?;
        if let Some(existing) =
            store::meeting::registration_of(&self.db, id, participant.id).await?
        {
            return Ok(existing);
        }
        let now = fabrique_platform::time::now();
        meeting.require_open(now)?;
        let txn = self.db.begin().await?;
        match store::meeting::register(&txn, id, participant.id, now).await {
            Ok(_) => txn.commit().await?,
            Err(error) if db::violates(&error, &store::meeting::REGISTRATION_KEY) => {
                txn.rollback().await?;
            }
            Err(error) => {
                let _ = txn.rollback().await;
                return Err(error.into());
            }
        }
        store::meeting::registration_of(&self.db, id, participant.id)
            .await?
            .ok_or_else(|| Error::internal("a registration vanished"))
    }

    /// A participant gives up their seat (to the first waiting) or their place on the
    /// waiting list; without a registration, nothing changes.
    pub async fn cancel_registration(
        &self,
        caller: &Caller,
        process: Uuid,
        id: Uuid,
    ) -> Result<Registration, Error> {
        let participant = self.participant(caller).await?;
        let meeting = self.meeting(process, id).await?;
        meeting.require_open(fabrique_platform::time::now())?;
        let txn = self.db.begin().await?;
        store::meeting::cancel(&txn, id, participant.id).await?;
        txn.commit().await?;
        Ok(Registration {
            state: AttendanceState::Cancelled,
            waiting_position: 0,
        })
    }

    /// The process's meetings as an iCalendar file, linking to `site_url`'s pages.
    pub async fn export_calendar(
        &self,
        process: Uuid,
        site_url: Option<&str>,
    ) -> Result<String, Error> {
        let process = self.process(process).await?;
        let mut meetings = Vec::new();
        loop {
            let page =
                store::meeting::list(&self.db, process.id, meetings.len() as u64, 500).await?;
            let done = page.len() < 500;
            meetings.extend(page);
            if done {
                break;
            }
        }
        Ok(calendar::render(
            &process,
            &meetings,
            site_url,
            fabrique_platform::time::now(),
        ))
    }
}
