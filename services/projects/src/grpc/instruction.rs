//! The handlers of an application's instruction — `RequestCompletion`,
//! `CompleteApplication`, `RecordOpinion`, `AddInstructionNote` — and of the reads
//! whose answer depends on who instructs (`GetApplication`) or that only export
//! (`ExportAwards`), beside the service's one `impl`.

use fabrique_api::projects as proto;
use fabrique_platform::auth;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

use super::ProjectsGrpc;
use crate::app::Projects;
use crate::domain::{Recommendation, bounded_text};
use crate::proto::{application_of, enum_of, name_of};

/// A required text of 1 to `max` characters (line breaks kept) given in `field`.
fn text(field: &str, value: &str, max: usize) -> Result<String, Status> {
    fabrique_types::text::optional_multiline(value, max)
        .map_err(|invalid| fabrique_platform::Error::invalid(field, invalid.0))?
        .ok_or_else(|| fabrique_platform::Error::invalid(field, "is required").into())
}

impl ProjectsGrpc {
    /// `GetApplication`: the instruction left out for whoever does not instruct.
    pub(super) async fn application_read(
        &self,
        request: Request<proto::GetApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let (programme, id) = application_of("name", &request.get_ref().name)?;
        let (application, programme) = self
            .projects
            .get_application(&caller, programme, id)
            .await?;
        let shown = Projects::shown_to(&caller, &programme, application);
        Ok(Response::new(proto::Application::from(&shown)))
    }

    /// `ExportAwards`: public, awards are public data a public funder must publish.
    pub(super) async fn awards_exported(
        &self,
        request: Request<proto::ExportAwardsRequest>,
    ) -> Result<Response<proto::ExportAwardsResponse>, Status> {
        let id = name_of("name", "programmes", &request.get_ref().name)?;
        let export = self.projects.export_awards(id).await?;
        Ok(Response::new(proto::ExportAwardsResponse {
            csv: export.csv,
            rows: i32::try_from(export.rows).unwrap_or(i32::MAX),
            warnings: export.warnings,
        }))
    }

    /// `RequestCompletion`.
    pub(super) async fn completion_requested(
        &self,
        request: Request<proto::RequestCompletionRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let message = text("message", &r.message, 2000)?;
        let a = self
            .projects
            .request_completion(&caller, programme, id, message)
            .await?;
        Ok(Response::new(proto::Application::from(&a)))
    }

    /// `CompleteApplication`.
    pub(super) async fn application_completed(
        &self,
        request: Request<proto::CompleteApplicationRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let answer = text("answer", &r.answer, 2000)?;
        let purpose = request::optional(&r.purpose, |p| bounded_text(p, 1, 500))
            .map_err(|invalid| fabrique_platform::Error::invalid("purpose", invalid.0))?;
        let a = self
            .projects
            .complete(&caller, programme, id, answer, purpose)
            .await?;
        Ok(Response::new(proto::Application::from(&a)))
    }

    /// `RecordOpinion`.
    pub(super) async fn opinion_recorded(
        &self,
        request: Request<proto::RecordOpinionRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let recommendation: Recommendation = enum_of("recommendation", r.recommendation)?;
        let opinion = text("opinion", &r.opinion, 5000)?;
        let a = self
            .projects
            .record_opinion(&caller, programme, id, recommendation, opinion)
            .await?;
        Ok(Response::new(proto::Application::from(&a)))
    }

    /// `AddInstructionNote`.
    pub(super) async fn note_added(
        &self,
        request: Request<proto::AddInstructionNoteRequest>,
    ) -> Result<Response<proto::Application>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (programme, id) = application_of("name", &r.name)?;
        let text = text("text", &r.text, 5000)?;
        let a = self.projects.add_note(&caller, programme, id, text).await?;
        Ok(Response::new(proto::Application::from(&a)))
    }
}
