//! The handlers of applying — one application (`CreateApplication`, possibly only
//! checked) or a grouping for several members (`CreateGrouping`, `GetGrouping`,
//! `ApproveGrouping`) — beside the service's one `impl`.

use fabrique_api::projects as proto;
use fabrique_platform::Error;
use fabrique_platform::auth;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

use super::ProjectsGrpc;
use crate::domain::{ApplicationDraft, parse_grouping_name};
use crate::proto::{grouping_for, name_of, parse_grouping};

/// The programme and grouping ids of a `programmes/{id}/groupings/{id}` in `field`.
fn grouping_of(field: &str, value: &str) -> Result<(uuid::Uuid, uuid::Uuid), Error> {
    parse_grouping_name(value).map_err(|invalid| Error::invalid(field, invalid.0))
}

impl ProjectsGrpc {
    /// `CreateApplication`, or with `validate_only` its check alone.
    pub(super) async fn application_created(
        &self,
        request: Request<proto::CreateApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let programme = name_of("parent", "programmes", &r.parent)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let a = r
            .application
            .as_ref()
            .ok_or_else(|| Error::invalid("application", "is required"))?;
        let draft = ApplicationDraft::try_from(a)?;
        if r.validate_only {
            let checked = self
                .projects
                .check_application(&caller, programme, draft)
                .await?;
            // Not made: no name to read it back by, no time it was made.
            return Ok(Response::new(proto::Application {
                name: String::new(),
                create_time: None,
                ..proto::Application::from(&checked)
            }));
        }
        let application = self
            .projects
            .create_application(&caller, programme, draft, request_id)
            .await?;
        Ok(Response::new(proto::Application::from(&application)))
    }

    /// `CreateGrouping`.
    pub(super) async fn grouping_created(
        &self,
        request: Request<proto::CreateGroupingRequest>,
    ) -> Result<Response<proto::Grouping>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let programme = name_of("parent", "programmes", &r.parent)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = parse_grouping(r.grouping.as_ref())?;
        let (grouping, applications) = self
            .projects
            .create_grouping(&caller, programme, draft, request_id)
            .await?;
        Ok(Response::new(grouping_for(&grouping, &applications)))
    }

    /// `GetGrouping`.
    pub(super) async fn grouping_read(
        &self,
        request: Request<proto::GetGroupingRequest>,
    ) -> Result<Response<proto::Grouping>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = grouping_of("name", &request.get_ref().name)?;
        let (grouping, applications) = self.projects.get_grouping(&caller, programme, id).await?;
        Ok(Response::new(grouping_for(&grouping, &applications)))
    }

    /// `ApproveGrouping`.
    pub(super) async fn grouping_approved(
        &self,
        request: Request<proto::ApproveGroupingRequest>,
    ) -> Result<Response<proto::Grouping>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = grouping_of("name", &request.get_ref().name)?;
        let (grouping, applications) = self
            .projects
            .approve_grouping(&caller, programme, id)
            .await?;
        Ok(Response::new(grouping_for(&grouping, &applications)))
    }
}
