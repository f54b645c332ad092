//! The handlers of peer workshops — the workshop and its teams, its co-pilots, its
//! sessions and attendance, its restitutions; kept beside the service's one `impl` so
//! that each file stays readable.

use fabrique_api::projects as proto;
use fabrique_platform::Error;
use fabrique_platform::auth;
use fabrique_platform::page;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

use super::ProjectsGrpc;
use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::{SessionDraft, WorkshopDraft, parse_workshop_child};
use crate::proto::{
    name_of, parse_co_pilots, parse_restitution, parse_team, team_report_for, workshop_for,
};

/// `workshops/{w}/{collection}/{id}` in the request's `field`, or INVALID_ARGUMENT.
fn child_of(field: &str, collection: &str, value: &str) -> Result<(uuid::Uuid, uuid::Uuid), Error> {
    parse_workshop_child(collection, value).map_err(|e| Error::invalid(field, e.to_string()))
}

impl ProjectsGrpc {
    /// `CreateWorkshop` (admins).
    pub(super) async fn workshop_created(
        &self,
        request: Request<proto::CreateWorkshopRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let w = r
            .workshop
            .as_ref()
            .ok_or_else(|| Error::invalid("workshop", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = WorkshopDraft::try_from(w)?;
        let workshop = self
            .projects
            .create_workshop(&caller, draft, request_id)
            .await?;
        Ok(Response::new(workshop_for(&workshop, Some(&caller))))
    }

    /// `GetWorkshop`: public — a workshop, its roles, teams, co-pilots and sessions
    /// (member names); an online session's address for its participants only.
    pub(super) async fn workshop_read(
        &self,
        request: Request<proto::GetWorkshopRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        let caller = auth::maybe_caller(&request);
        let id = name_of("name", "workshops", &request.get_ref().name)?;
        let workshop = self.projects.get_workshop(id).await?;
        Ok(Response::new(workshop_for(&workshop, caller.as_ref())))
    }

    /// `ListWorkshops`: public, as GetWorkshop.
    pub(super) async fn workshops_listed(
        &self,
        request: Request<proto::ListWorkshopsRequest>,
    ) -> Result<Response<proto::ListWorkshopsResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let page = self
            .projects
            .list_workshops(page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListWorkshopsResponse {
            workshops: page
                .items
                .iter()
                .map(|w| workshop_for(w, caller.as_ref()))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    /// `SetWorkshopTeam`: the caller's member forms its team.
    pub(super) async fn team_set(
        &self,
        request: Request<proto::SetWorkshopTeamRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "workshops", &r.name)?;
        let members = parse_team(&r.members)?;
        let workshop = self.projects.set_team(&caller, id, members).await?;
        Ok(Response::new(workshop_for(&workshop, Some(&caller))))
    }

    /// `ValidateTeam`: public; the public learns which roles a team lacks, not who holds
    /// the others.
    pub(super) async fn team_validated(
        &self,
        request: Request<proto::ValidateTeamRequest>,
    ) -> Result<Response<proto::ValidateTeamResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let id = name_of("name", "workshops", &r.name)?;
        let lead = name_of("lead", "members", &r.lead)?;
        let report = self.projects.validate_team(id, lead).await?;
        Ok(Response::new(team_report_for(report, caller.as_ref())))
    }

    /// `SetWorkshopCoPilots` (admins).
    pub(super) async fn co_pilots_set(
        &self,
        request: Request<proto::SetWorkshopCoPilotsRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "workshops", &r.name)?;
        let co_pilots = parse_co_pilots(&r.co_pilots)?;
        let workshop = self.projects.set_co_pilots(&caller, id, co_pilots).await?;
        Ok(Response::new(workshop_for(&workshop, Some(&caller))))
    }

    /// `ScheduleWorkshopSession` (co-pilots, admins).
    pub(super) async fn session_scheduled(
        &self,
        request: Request<proto::ScheduleWorkshopSessionRequest>,
    ) -> Result<Response<proto::WorkshopSession>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("parent", "workshops", &r.parent)?;
        let s = r
            .session
            .as_ref()
            .ok_or_else(|| Error::invalid("session", "is required"))?;
        let draft = SessionDraft::try_from(s)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let session = self
            .projects
            .schedule_session(&caller, id, draft, request_id)
            .await?;
        Ok(Response::new(proto::WorkshopSession::from(&session)))
    }

    /// `CancelWorkshopSession` (co-pilots, admins).
    pub(super) async fn session_cancelled(
        &self,
        request: Request<proto::CancelWorkshopSessionRequest>,
    ) -> Result<Response<proto::WorkshopSession>, Status> {
        let caller = auth::caller(&request)?;
        let (workshop, id) = child_of("name", "sessions", &request.get_ref().name)?;
        let session = self.projects.cancel_session(&caller, workshop, id).await?;
        Ok(Response::new(proto::WorkshopSession::from(&session)))
    }

    /// `RecordAttendance` (co-pilots, admins).
    pub(super) async fn attendance_recorded(
        &self,
        request: Request<proto::RecordAttendanceRequest>,
    ) -> Result<Response<proto::WorkshopSession>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (workshop, id) = child_of("name", "sessions", &r.name)?;
        let mut v = fabrique_platform::Violations::new();
        let mut attendees = Vec::new();
        for (i, member) in r.attendees.iter().enumerate() {
            if let Some(m) = v.check(
                &format!("attendees[{i}]"),
                crate::domain::parse("members", member),
            ) && !attendees.contains(&m)
            {
                attendees.push(m);
            }
        }
        v.into_result()?;
        let session = self
            .projects
            .record_attendance(&caller, workshop, id, attendees)
            .await?;
        Ok(Response::new(proto::WorkshopSession::from(&session)))
    }

    /// `CreateRestitution` (the members expected at the session, co-pilots, admins).
    pub(super) async fn restitution_created(
        &self,
        request: Request<proto::CreateRestitutionRequest>,
    ) -> Result<Response<proto::Restitution>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let workshop = name_of("parent", "workshops", &r.parent)?;
        let given = r
            .restitution
            .as_ref()
            .ok_or_else(|| Error::invalid("restitution", "is required"))?;
        let draft = parse_restitution(workshop, given)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let restitution = self
            .projects
            .create_restitution(&caller, workshop, draft, request_id)
            .await?;
        Ok(Response::new(proto::Restitution::from(&restitution)))
    }

    /// `GetRestitution`: published to anyone, else to the season's participants.
    pub(super) async fn restitution_read(
        &self,
        request: Request<proto::GetRestitutionRequest>,
    ) -> Result<Response<proto::Restitution>, Status> {
        let caller = auth::maybe_caller(&request);
        let (workshop, id) = child_of("name", "restitutions", &request.get_ref().name)?;
        let restitution = self
            .projects
            .get_restitution(caller.as_ref(), workshop, id)
            .await?;
        Ok(Response::new(proto::Restitution::from(&restitution)))
    }

    /// `ListRestitutions`: those the caller may read, oldest first.
    pub(super) async fn restitutions_listed(
        &self,
        request: Request<proto::ListRestitutionsRequest>,
    ) -> Result<Response<proto::ListRestitutionsResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let workshop = name_of("parent", "workshops", &r.parent)?;
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let page = self
            .projects
            .list_restitutions(caller.as_ref(), workshop, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListRestitutionsResponse {
            restitutions: page.items.iter().map(proto::Restitution::from).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    /// `PublishRestitution` (co-pilots, admins).
    pub(super) async fn restitution_published(
        &self,
        request: Request<proto::PublishRestitutionRequest>,
    ) -> Result<Response<proto::Restitution>, Status> {
        let caller = auth::caller(&request)?;
        let (workshop, id) = child_of("name", "restitutions", &request.get_ref().name)?;
        let restitution = self
            .projects
            .publish_restitution(&caller, workshop, id)
            .await?;
        Ok(Response::new(proto::Restitution::from(&restitution)))
    }
}
