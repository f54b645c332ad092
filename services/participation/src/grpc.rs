//! The gRPC edge of participation: `fabrique.participation.v1.ParticipationService`.
//! Each handler authenticates, converts the request (`crate::proto`, every invalid field
//! reported with its path), calls the use case and converts back; the budgets' handlers
//! in `budget`, the meetings' list in `meeting`.

use fabrique_api::participation as proto;
use fabrique_api::participation::participation_service_server::ParticipationService;
use fabrique_platform::auth;
use fabrique_platform::{page, request};
use tonic::{Request, Response, Status};

mod budget;
mod meeting;

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Participation, ProposalView};
use crate::proto::{
    comment_to_proto, meeting_to_proto, parse_answer_state, parse_decision, parse_display_name,
    parse_id, parse_new_meeting, parse_new_process, parse_new_proposal, parse_proposal,
    parse_states, participant_to_proto, process_to_proto, proposal_to_proto, registration_to_proto,
};
use crate::store::{ProcessFilter, proposal::Filter};

/// The `ParticipationService` server: the use cases behind the contract.
pub struct ParticipationGrpc {
    participation: Participation,
}

impl ParticipationGrpc {
    /// Serves `participation` over gRPC.
    pub fn new(participation: Participation) -> Self {
        Self { participation }
    }
}

/// `processes/{p}/proposals/{q}/comments/{id}` in `field`.
fn parse_comment(field: &str, name: &str) -> Result<(uuid::Uuid, uuid::Uuid, uuid::Uuid), Status> {
    crate::domain::comment::parse_comment_name(name.trim())
        .map_err(|invalid| fabrique_platform::Error::invalid(field, invalid.0).into())
}

/// `processes/{p}/meetings/{id}` in `field`.
fn parse_meeting(field: &str, name: &str) -> Result<(uuid::Uuid, uuid::Uuid), Status> {
    crate::domain::meeting::parse_meeting_name(name.trim())
        .map_err(|invalid| fabrique_platform::Error::invalid(field, invalid.0).into())
}

fn proposal_response(view: ProposalView) -> Response<proto::Proposal> {
    Response::new(proposal_to_proto(&view.proposal, view.threshold, view.seen))
}

#[tonic::async_trait]
impl ParticipationService for ParticipationGrpc {
    async fn list_changes(
        &self,
        request: Request<fabrique_api::audit::ListChangesRequest>,
    ) -> Result<Response<fabrique_api::audit::ListChangesResponse>, Status> {
        let caller = auth::caller(&request)?;
        Ok(Response::new(
            self.participation
                .list_changes(&caller, request.get_ref())
                .await?,
        ))
    }

    async fn register_participant(
        &self,
        request: Request<proto::RegisterParticipantRequest>,
    ) -> Result<Response<proto::Participant>, Status> {
        let caller = auth::caller(&request)?;
        let display_name = parse_display_name(&request.get_ref().display_name)?;
        let participant = self.participation.register(&caller, display_name).await?;
        Ok(Response::new(participant_to_proto(&participant)))
    }

    async fn get_participant(
        &self,
        request: Request<proto::GetParticipantRequest>,
    ) -> Result<Response<proto::Participant>, Status> {
        let caller = auth::caller(&request)?;
        let name = request.get_ref().name.trim();
        let id = match name {
            "participants/me" => None,
            name => Some(parse_id("name", "participants", name)?),
        };
        let participant = self.participation.get_participant(&caller, id).await?;
        Ok(Response::new(participant_to_proto(&participant)))
    }

    async fn verify_participant(
        &self,
        request: Request<proto::VerifyParticipantRequest>,
    ) -> Result<Response<proto::Participant>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let participant = parse_id("participant", "participants", &r.participant)?;
        let organiser = parse_id("organiser", "members", &r.organiser)?;
        let participant = self
            .participation
            .verify(&caller, participant, organiser)
            .await?;
        Ok(Response::new(participant_to_proto(&participant)))
    }

    async fn create_process(
        &self,
        request: Request<proto::CreateProcessRequest>,
    ) -> Result<Response<proto::Process>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let new = parse_new_process(r.process.as_ref())?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let process = self
            .participation
            .create_process(&caller, new, request_id)
            .await?;
        Ok(Response::new(process_to_proto(&process)))
    }

    async fn get_process(
        &self,
        request: Request<proto::GetProcessRequest>,
    ) -> Result<Response<proto::Process>, Status> {
        let id = parse_id("name", "processes", &request.get_ref().name)?;
        let process = self.participation.get_process(id).await?;
        Ok(Response::new(process_to_proto(&process)))
    }

    async fn list_processes(
        &self,
        request: Request<proto::ListProcessesRequest>,
    ) -> Result<Response<proto::ListProcessesResponse>, Status> {
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let organiser = request::optional(&r.organiser, |name| {
            fabrique_types::resource::parse_name("members", name.trim())
        })
        .map_err(|invalid| fabrique_platform::Error::invalid("organiser", invalid.0))?;
        let territory = request::optional(&r.territory, crate::domain::territory_code)
            .map_err(|invalid| fabrique_platform::Error::invalid("territory", invalid.0))?;
        let page = self
            .participation
            .list_processes(
                ProcessFilter {
                    organiser,
                    territory,
                },
                page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(proto::ListProcessesResponse {
            processes: page.items.iter().map(process_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn activate_step(
        &self,
        request: Request<proto::ActivateStepRequest>,
    ) -> Result<Response<proto::Process>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_id("name", "processes", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let step = u32::try_from(r.step)
            .map_err(|_| fabrique_platform::Error::invalid("step", "must not be negative"))?;
        let process = self
            .participation
            .activate_step(&caller, id, step, etag)
            .await?;
        Ok(Response::new(process_to_proto(&process)))
    }

    async fn create_proposal(
        &self,
        request: Request<proto::CreateProposalRequest>,
    ) -> Result<Response<proto::Proposal>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let process = parse_id("parent", "processes", &r.parent)?;
        let new = parse_new_proposal(r.proposal.as_ref())?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let view = self
            .participation
            .create_proposal(&caller, process, new, request_id)
            .await?;
        Ok(proposal_response(view))
    }

    async fn get_proposal(
        &self,
        request: Request<proto::GetProposalRequest>,
    ) -> Result<Response<proto::Proposal>, Status> {
        let caller = auth::maybe_caller(&request);
        let (process, id) = parse_proposal("name", &request.get_ref().name)?;
        let view = self
            .participation
            .get_proposal(caller.as_ref(), process, id)
            .await?;
        Ok(proposal_response(view))
    }

    async fn list_proposals(
        &self,
        request: Request<proto::ListProposalsRequest>,
    ) -> Result<Response<proto::ListProposalsResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let process = parse_id("parent", "processes", &r.parent)?;
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let filter = Filter {
            states: parse_states(&r.states)?,
            theme: fabrique_types::optional_text(&r.theme, 60)
                .map_err(|invalid| fabrique_platform::Error::invalid("theme", invalid.0))?,
        };
        let most_supported = match proto::ProposalOrder::try_from(r.order) {
            Ok(proto::ProposalOrder::MostSupported) => true,
            Ok(_) => false,
            Err(_) => {
                return Err(fabrique_platform::Error::invalid(
                    "order",
                    format!("unknown value {}", r.order),
                )
                .into());
            }
        };
        let page = self
            .participation
            .list_proposals(
                caller.as_ref(),
                process,
                filter,
                most_supported,
                page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(proto::ListProposalsResponse {
            proposals: page
                .items
                .into_iter()
                .map(|v| proposal_to_proto(&v.proposal, v.threshold, v.seen))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn withdraw_proposal(
        &self,
        request: Request<proto::WithdrawProposalRequest>,
    ) -> Result<Response<proto::Proposal>, Status> {
        let caller = auth::caller(&request)?;
        let (process, id) = parse_proposal("name", &request.get_ref().name)?;
        let view = self
            .participation
            .withdraw_proposal(&caller, process, id)
            .await?;
        Ok(proposal_response(view))
    }

    async fn answer_proposal(
        &self,
        request: Request<proto::AnswerProposalRequest>,
    ) -> Result<Response<proto::Proposal>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (process, id) = parse_proposal("name", &r.name)?;
        let state = parse_answer_state(r.state)?;
        let text = fabrique_types::text::optional_multiline(&r.answer, 5000)
            .map_err(|invalid| fabrique_platform::Error::invalid("answer", invalid.0))?;
        let etag = request::etag("etag", &r.etag)?;
        let view = self
            .participation
            .answer_proposal(&caller, process, id, state, text, etag)
            .await?;
        Ok(proposal_response(view))
    }

    async fn support_proposal(
        &self,
        request: Request<proto::SupportProposalRequest>,
    ) -> Result<Response<proto::Proposal>, Status> {
        let caller = auth::caller(&request)?;
        let (process, id) = parse_proposal("name", &request.get_ref().name)?;
        let view = self.participation.support(&caller, process, id).await?;
        Ok(proposal_response(view))
    }

    async fn withdraw_support(
        &self,
        request: Request<proto::WithdrawSupportRequest>,
    ) -> Result<Response<proto::Proposal>, Status> {
        let caller = auth::caller(&request)?;
        let (process, id) = parse_proposal("name", &request.get_ref().name)?;
        let view = self
            .participation
            .withdraw_support(&caller, process, id)
            .await?;
        Ok(proposal_response(view))
    }

    async fn create_meeting(
        &self,
        request: Request<proto::CreateMeetingRequest>,
    ) -> Result<Response<proto::Meeting>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let process = parse_id("parent", "processes", &r.parent)?;
        let new = parse_new_meeting(r.meeting.as_ref())?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let meeting = self
            .participation
            .create_meeting(&caller, process, new, request_id)
            .await?;
        Ok(Response::new(meeting_to_proto(&meeting, None)))
    }

    async fn get_meeting(
        &self,
        request: Request<proto::GetMeetingRequest>,
    ) -> Result<Response<proto::Meeting>, Status> {
        let caller = auth::maybe_caller(&request);
        let (process, id) = parse_meeting("name", &request.get_ref().name)?;
        let (meeting, registration) = self
            .participation
            .get_meeting(caller.as_ref(), process, id)
            .await?;
        Ok(Response::new(meeting_to_proto(
            &meeting,
            registration.as_ref(),
        )))
    }

    async fn list_meetings(
        &self,
        request: Request<proto::ListMeetingsRequest>,
    ) -> Result<Response<proto::ListMeetingsResponse>, Status> {
        meeting::list(&self.participation, request).await
    }

    async fn cancel_meeting(
        &self,
        request: Request<proto::CancelMeetingRequest>,
    ) -> Result<Response<proto::Meeting>, Status> {
        let caller = auth::caller(&request)?;
        let (process, id) = parse_meeting("name", &request.get_ref().name)?;
        let meeting = self
            .participation
            .cancel_meeting(&caller, process, id)
            .await?;
        Ok(Response::new(meeting_to_proto(&meeting, None)))
    }

    async fn register_for_meeting(
        &self,
        request: Request<proto::RegisterForMeetingRequest>,
    ) -> Result<Response<proto::Registration>, Status> {
        let caller = auth::caller(&request)?;
        let name = request.get_ref().name.trim().to_string();
        let (process, id) = parse_meeting("name", &name)?;
        let registration = self
            .participation
            .register_for_meeting(&caller, process, id)
            .await?;
        Ok(Response::new(registration_to_proto(&name, &registration)))
    }

    async fn cancel_registration(
        &self,
        request: Request<proto::CancelRegistrationRequest>,
    ) -> Result<Response<proto::Registration>, Status> {
        let caller = auth::caller(&request)?;
        let name = request.get_ref().name.trim().to_string();
        let (process, id) = parse_meeting("name", &name)?;
        let registration = self
            .participation
            .cancel_registration(&caller, process, id)
            .await?;
        Ok(Response::new(registration_to_proto(&name, &registration)))
    }

    async fn publish_minutes(
        &self,
        request: Request<proto::PublishMinutesRequest>,
    ) -> Result<Response<proto::Meeting>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (process, id) = parse_meeting("name", &r.name)?;
        let minutes = crate::domain::text_between(&r.minutes, 1, 50_000)
            .map_err(|invalid| fabrique_platform::Error::invalid("minutes", invalid.0))?;
        let meeting = self
            .participation
            .publish_minutes(&caller, process, id, minutes)
            .await?;
        Ok(Response::new(meeting_to_proto(&meeting, None)))
    }

    async fn export_calendar(
        &self,
        request: Request<proto::ExportCalendarRequest>,
    ) -> Result<Response<proto::ExportCalendarResponse>, Status> {
        let r = request.get_ref();
        let process = parse_id("parent", "processes", &r.parent)?;
        let site_url = request::optional(&r.site_url, |url| {
            fabrique_types::Website::parse(url).map(|w| w.as_str().to_string())
        })
        .map_err(|invalid| fabrique_platform::Error::invalid("site_url", invalid.0))?;
        let ics = self
            .participation
            .export_calendar(process, site_url.as_deref())
            .await?;
        Ok(Response::new(proto::ExportCalendarResponse {
            content_type: crate::calendar::CONTENT_TYPE.into(),
            ics: ics.into_bytes(),
        }))
    }

    async fn create_comment(
        &self,
        request: Request<proto::CreateCommentRequest>,
    ) -> Result<Response<proto::Comment>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (process, proposal) = parse_proposal("parent", &r.parent)?;
        let body = crate::domain::text_between(&r.body, 2, 2000)
            .map_err(|invalid| fabrique_platform::Error::invalid("body", invalid.0))?;
        let (comment, reader) = self
            .participation
            .create_comment(&caller, process, proposal, body)
            .await?;
        Ok(Response::new(comment_to_proto(&comment, reader)))
    }

    async fn list_comments(
        &self,
        request: Request<proto::ListCommentsRequest>,
    ) -> Result<Response<proto::ListCommentsResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let (process, proposal) = parse_proposal("parent", &r.parent)?;
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let page = self
            .participation
            .list_comments(
                caller.as_ref(),
                process,
                proposal,
                r.pending_review,
                page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(proto::ListCommentsResponse {
            comments: page
                .items
                .iter()
                .map(|(c, reader)| comment_to_proto(c, *reader))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn report_comment(
        &self,
        request: Request<proto::ReportCommentRequest>,
    ) -> Result<Response<proto::Comment>, Status> {
        let caller = auth::caller(&request)?;
        let ids = parse_comment("name", &request.get_ref().name)?;
        let (comment, reader) = self.participation.report_comment(&caller, ids).await?;
        Ok(Response::new(comment_to_proto(&comment, reader)))
    }

    async fn moderate_comment(
        &self,
        request: Request<proto::ModerateCommentRequest>,
    ) -> Result<Response<proto::Comment>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let ids = parse_comment("name", &r.name)?;
        let decision = parse_decision(r.decision)?;
        let (comment, reader) = self
            .participation
            .moderate_comment(&caller, ids, decision)
            .await?;
        Ok(Response::new(comment_to_proto(&comment, reader)))
    }

    async fn create_budget(
        &self,
        request: Request<proto::CreateBudgetRequest>,
    ) -> Result<Response<proto::Budget>, Status> {
        budget::create(&self.participation, request).await
    }

    async fn get_budget(
        &self,
        request: Request<proto::GetBudgetRequest>,
    ) -> Result<Response<proto::Budget>, Status> {
        budget::get(&self.participation, request).await
    }

    async fn list_budgets(
        &self,
        request: Request<proto::ListBudgetsRequest>,
    ) -> Result<Response<proto::ListBudgetsResponse>, Status> {
        budget::list(&self.participation, request).await
    }

    async fn add_budget_item(
        &self,
        request: Request<proto::AddBudgetItemRequest>,
    ) -> Result<Response<proto::Budget>, Status> {
        budget::add_item(&self.participation, request).await
    }

    async fn cast_ballot(
        &self,
        request: Request<proto::CastBallotRequest>,
    ) -> Result<Response<proto::Ballot>, Status> {
        budget::cast(&self.participation, request).await
    }

    async fn get_ballot(
        &self,
        request: Request<proto::GetBallotRequest>,
    ) -> Result<Response<proto::Ballot>, Status> {
        budget::ballot(&self.participation, request).await
    }

    async fn close_budget(
        &self,
        request: Request<proto::CloseBudgetRequest>,
    ) -> Result<Response<proto::Budget>, Status> {
        budget::close(&self.participation, request).await
    }

    async fn export_proposals(
        &self,
        request: Request<proto::ExportProposalsRequest>,
    ) -> Result<Response<proto::ExportResponse>, Status> {
        let process = parse_id("parent", "processes", &request.get_ref().parent)?;
        let (csv, rows) = self.participation.export_proposals(process).await?;
        Ok(Response::new(proto::ExportResponse {
            csv,
            rows: rows as i32,
        }))
    }

    async fn export_budget_results(
        &self,
        request: Request<proto::ExportBudgetResultsRequest>,
    ) -> Result<Response<proto::ExportResponse>, Status> {
        budget::export(&self.participation, request).await
    }

    async fn erase_participant(
        &self,
        request: Request<proto::EraseParticipantRequest>,
    ) -> Result<Response<proto::EraseParticipantResponse>, Status> {
        let caller = auth::caller(&request)?;
        let id = match request.get_ref().name.trim() {
            "participants/me" => None,
            name => Some(parse_id("name", "participants", name)?),
        };
        let erased = self.participation.erase(&caller, id).await?;
        Ok(Response::new(proto::EraseParticipantResponse {
            name: crate::domain::participant_name(erased.id),
        }))
    }
}
