//! The gRPC edge of the projects service: `fabrique.projects.v1.ProjectsService`. Each
//! handler authenticates, converts the request (`crate::proto`, every invalid field
//! reported with its path), calls the use case and converts back. Nothing else happens
//! here.

use fabrique_api::projects as proto;
use fabrique_api::projects::projects_service_server::ProjectsService;
use fabrique_platform::Error;
use fabrique_platform::auth;
use fabrique_platform::page;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

mod applying;
mod budget;
mod instruction;
mod purchase;
mod workshop;

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Projects};
use crate::domain::{
    ApplicationState, ProgrammeDraft, ProgrammeState, ProjectDraft, ProjectState, Theme,
};
use crate::proto::{
    application_of, enum_of, enums_of, name_of, optional_member_of, parse_project_patch,
    project_for,
};

/// The handlers of `ProjectsService`, over the use cases.
pub struct ProjectsGrpc {
    projects: Projects,
}

impl ProjectsGrpc {
    /// The handlers, calling `projects`.
    pub fn new(projects: Projects) -> Self {
        Self { projects }
    }
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

#[tonic::async_trait]
impl ProjectsService for ProjectsGrpc {
    async fn list_changes(
        &self,
        request: Request<fabrique_api::audit::ListChangesRequest>,
    ) -> Result<Response<fabrique_api::audit::ListChangesResponse>, Status> {
        let caller = fabrique_platform::auth::caller(&request)?;
        Ok(Response::new(
            self.projects
                .list_changes(&caller, request.get_ref())
                .await?,
        ))
    }

    async fn create_project(
        &self,
        request: Request<proto::CreateProjectRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let p = r
            .project
            .as_ref()
            .ok_or_else(|| Error::invalid("project", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = ProjectDraft::try_from(p)?;
        let project = self
            .projects
            .create_project(&caller, draft, request_id)
            .await?;
        Ok(Response::new(proto::Project::from(&project)))
    }

    async fn get_project(
        &self,
        request: Request<proto::GetProjectRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        // Public: the public reads projects under way or done.
        let caller = auth::maybe_caller(&request);
        let id = name_of("name", "projects", &request.get_ref().name)?;
        let project = self.projects.read_project(caller.as_ref(), id).await?;
        Ok(Response::new(project_for(&project, caller.as_ref())))
    }

    async fn list_projects(
        &self,
        request: Request<proto::ListProjectsRequest>,
    ) -> Result<Response<proto::ListProjectsResponse>, Status> {
        // Public, as GetProject.
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let member = optional_member_of("member", &r.member)?;
        let states = enums_of::<ProjectState>("states", &r.states)?;
        let themes = enums_of::<Theme>("themes", &r.themes)?;
        let page = self
            .projects
            .list_projects(
                caller.as_ref(),
                member,
                states,
                themes,
                page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(proto::ListProjectsResponse {
            projects: page
                .items
                .iter()
                .map(|p| project_for(p, caller.as_ref()))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_project(
        &self,
        request: Request<proto::UpdateProjectRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let p = r
            .project
            .as_ref()
            .ok_or_else(|| Error::invalid("project", "is required"))?;
        let id = name_of("project.name", "projects", &p.name)?;
        let etag = request::etag("project.etag", &p.etag)?.ok_or_else(|| {
            Error::invalid(
                "project.etag",
                "is required: send the etag of the project you read",
            )
        })?;
        let patch = parse_project_patch(p, r.update_mask.as_ref())?;
        let project = self
            .projects
            .update_project(&caller, id, etag, patch)
            .await?;
        Ok(Response::new(proto::Project::from(&project)))
    }

    async fn change_project_state(
        &self,
        request: Request<proto::ChangeProjectStateRequest>,
    ) -> Result<Response<proto::Project>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "projects", &r.name)?;
        let to = enum_of::<ProjectState>("state", r.state)?;
        let etag = request::etag("etag", &r.etag)?;
        let project = self
            .projects
            .change_project_state(&caller, id, to, etag)
            .await?;
        Ok(Response::new(proto::Project::from(&project)))
    }

    async fn create_programme(
        &self,
        request: Request<proto::CreateProgrammeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let p = r
            .programme
            .as_ref()
            .ok_or_else(|| Error::invalid("programme", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = ProgrammeDraft::try_from(p)?;
        let programme = self
            .projects
            .create_programme(&caller, draft, request_id)
            .await?;
        Ok(Response::new(proto::Programme::from(&programme)))
    }

    async fn get_programme(
        &self,
        request: Request<proto::GetProgrammeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        // Public: no caller needed.
        let id = name_of("name", "programmes", &request.get_ref().name)?;
        let mut programme = proto::Programme::from(&self.projects.get_programme(id).await?);
        self.count_applications(std::slice::from_mut(&mut programme))
            .await?;
        Ok(Response::new(programme))
    }

    async fn list_programmes(
        &self,
        request: Request<proto::ListProgrammesRequest>,
    ) -> Result<Response<proto::ListProgrammesResponse>, Status> {
        // Public: no caller needed.
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let states = enums_of::<ProgrammeState>("states", &r.states)?;
        let page = self
            .projects
            .list_programmes(states, page_size, &r.page_token)
            .await?;
        let mut programmes: Vec<proto::Programme> =
            page.items.iter().map(proto::Programme::from).collect();
        self.count_applications(&mut programmes).await?;
        Ok(Response::new(proto::ListProgrammesResponse {
            programmes,
            next_page_token: page.next_page_token,
        }))
    }

    async fn close_programme(
        &self,
        request: Request<proto::CloseProgrammeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "programmes", &request.get_ref().name)?;
        Ok(Response::new(proto::Programme::from(
            &self.projects.close_programme(&caller, id).await?,
        )))
    }

    async fn create_application(
        &self,
        request: Request<proto::CreateApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.application_created(request).await
    }

    async fn create_grouping(
        &self,
        request: Request<proto::CreateGroupingRequest>,
    ) -> Result<Response<proto::Grouping>, Status> {
        self.grouping_created(request).await
    }

    async fn get_grouping(
        &self,
        request: Request<proto::GetGroupingRequest>,
    ) -> Result<Response<proto::Grouping>, Status> {
        self.grouping_read(request).await
    }

    async fn approve_grouping(
        &self,
        request: Request<proto::ApproveGroupingRequest>,
    ) -> Result<Response<proto::Grouping>, Status> {
        self.grouping_approved(request).await
    }

    async fn get_application(
        &self,
        request: Request<proto::GetApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.application_read(request).await
    }

    async fn list_applications(
        &self,
        request: Request<proto::ListApplicationsRequest>,
    ) -> Result<Response<proto::ListApplicationsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let programme = name_of("parent", "programmes", &r.parent)?;
        let applicant = optional_member_of("applicant", &r.applicant)?;
        let states = enums_of::<ApplicationState>("states", &r.states)?;
        let page = self
            .projects
            .list_applications(
                &caller,
                programme,
                applicant,
                states,
                page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(proto::ListApplicationsResponse {
            applications: page.items.iter().map(proto::Application::from).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn approve_application(
        &self,
        request: Request<proto::ApproveApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = application_of("name", &request.get_ref().name)?;
        Ok(Response::new(proto::Application::from(
            &self.projects.approve(&caller, programme, id).await?,
        )))
    }

    async fn reject_application(
        &self,
        request: Request<proto::RejectApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, true)?.unwrap_or_default();
        Ok(Response::new(proto::Application::from(
            &self.projects.reject(&caller, programme, id, reason).await?,
        )))
    }

    async fn withdraw_application(
        &self,
        request: Request<proto::WithdrawApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, false)?;
        Ok(Response::new(proto::Application::from(
            &self
                .projects
                .withdraw(&caller, programme, id, reason)
                .await?,
        )))
    }

    async fn change_envelope(
        &self,
        request: Request<proto::ChangeEnvelopeRequest>,
    ) -> Result<Response<proto::Programme>, Status> {
        self.envelope_changed(request).await
    }

    async fn record_payment(
        &self,
        request: Request<proto::RecordPaymentRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.payment_recorded(request).await
    }

    async fn cancel_award(
        &self,
        request: Request<proto::CancelAwardRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.award_cancelled(request).await
    }

    async fn pay_application(
        &self,
        request: Request<proto::PayApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = application_of("name", &request.get_ref().name)?;
        Ok(Response::new(proto::Application::from(
            &self.projects.pay(&caller, programme, id).await?,
        )))
    }

    async fn export_awards(
        &self,
        request: Request<proto::ExportAwardsRequest>,
    ) -> Result<Response<proto::ExportAwardsResponse>, Status> {
        self.awards_exported(request).await
    }

    async fn request_completion(
        &self,
        request: Request<proto::RequestCompletionRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.completion_requested(request).await
    }

    async fn complete_application(
        &self,
        request: Request<proto::CompleteApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.application_completed(request).await
    }

    async fn record_opinion(
        &self,
        request: Request<proto::RecordOpinionRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.opinion_recorded(request).await
    }

    async fn add_instruction_note(
        &self,
        request: Request<proto::AddInstructionNoteRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        self.note_added(request).await
    }

    async fn create_group_purchase(
        &self,
        request: Request<proto::CreateGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        self.purchase_created(request).await
    }

    async fn get_group_purchase(
        &self,
        request: Request<proto::GetGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        self.purchase_read(request).await
    }

    async fn list_group_purchases(
        &self,
        request: Request<proto::ListGroupPurchasesRequest>,
    ) -> Result<Response<proto::ListGroupPurchasesResponse>, Status> {
        self.purchases_listed(request).await
    }

    async fn join_group_purchase(
        &self,
        request: Request<proto::JoinGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        self.purchase_joined(request).await
    }

    async fn leave_group_purchase(
        &self,
        request: Request<proto::LeaveGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        self.purchase_left(request).await
    }

    async fn close_group_purchase(
        &self,
        request: Request<proto::CloseGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        self.purchase_closed(request).await
    }

    async fn award_group_purchase(
        &self,
        request: Request<proto::AwardGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        self.purchase_awarded(request).await
    }

    async fn export_group_purchase(
        &self,
        request: Request<proto::ExportGroupPurchaseRequest>,
    ) -> Result<Response<proto::ExportGroupPurchaseResponse>, Status> {
        self.purchase_exported(request).await
    }

    async fn create_workshop(
        &self,
        request: Request<proto::CreateWorkshopRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        self.workshop_created(request).await
    }

    async fn get_workshop(
        &self,
        request: Request<proto::GetWorkshopRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        self.workshop_read(request).await
    }

    async fn list_workshops(
        &self,
        request: Request<proto::ListWorkshopsRequest>,
    ) -> Result<Response<proto::ListWorkshopsResponse>, Status> {
        self.workshops_listed(request).await
    }

    async fn set_workshop_team(
        &self,
        request: Request<proto::SetWorkshopTeamRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        self.team_set(request).await
    }

    async fn validate_team(
        &self,
        request: Request<proto::ValidateTeamRequest>,
    ) -> Result<Response<proto::ValidateTeamResponse>, Status> {
        self.team_validated(request).await
    }

    async fn set_workshop_co_pilots(
        &self,
        request: Request<proto::SetWorkshopCoPilotsRequest>,
    ) -> Result<Response<proto::Workshop>, Status> {
        self.co_pilots_set(request).await
    }

    async fn schedule_workshop_session(
        &self,
        request: Request<proto::ScheduleWorkshopSessionRequest>,
    ) -> Result<Response<proto::WorkshopSession>, Status> {
        self.session_scheduled(request).await
    }

    async fn cancel_workshop_session(
        &self,
        request: Request<proto::CancelWorkshopSessionRequest>,
    ) -> Result<Response<proto::WorkshopSession>, Status> {
        self.session_cancelled(request).await
    }

    async fn record_attendance(
        &self,
        request: Request<proto::RecordAttendanceRequest>,
    ) -> Result<Response<proto::WorkshopSession>, Status> {
        self.attendance_recorded(request).await
    }

    async fn create_restitution(
        &self,
        request: Request<proto::CreateRestitutionRequest>,
    ) -> Result<Response<proto::Restitution>, Status> {
        self.restitution_created(request).await
    }

    async fn get_restitution(
        &self,
        request: Request<proto::GetRestitutionRequest>,
    ) -> Result<Response<proto::Restitution>, Status> {
        self.restitution_read(request).await
    }

    async fn list_restitutions(
        &self,
        request: Request<proto::ListRestitutionsRequest>,
    ) -> Result<Response<proto::ListRestitutionsResponse>, Status> {
        self.restitutions_listed(request).await
    }

    async fn publish_restitution(
        &self,
        request: Request<proto::PublishRestitutionRequest>,
    ) -> Result<Response<proto::Restitution>, Status> {
        self.restitution_published(request).await
    }
}
