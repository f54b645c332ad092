//! The gRPC edge of the members service: `fabrique.members.v1.MembersService`. Each
//! handler authenticates, converts the request (`crate::proto`, every invalid field
//! reported with its path), calls the use case and converts back. Nothing else happens
//! here.

use fabrique_api::members as proto;
use fabrique_api::members::members_service_server::MembersService;
use fabrique_platform::Error;
use fabrique_platform::auth;
use fabrique_platform::page;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Members};
use crate::domain::{MemberState, Transition};
use crate::proto::{
    member_for, member_to_proto, parse_filter, parse_joined_at, parse_name, parse_patch,
    parse_profile,
};

/// The `MembersService` server: the use cases behind the contract.
pub struct MembersGrpc {
    members: Members,
}

impl MembersGrpc {
    /// Serves `members` over gRPC.
    pub fn new(members: Members) -> Self {
        Self { members }
    }
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

#[tonic::async_trait]
impl MembersService for MembersGrpc {
    async fn list_changes(
        &self,
        request: Request<fabrique_api::audit::ListChangesRequest>,
    ) -> Result<Response<fabrique_api::audit::ListChangesResponse>, Status> {
        let caller = fabrique_platform::auth::caller(&request)?;
        Ok(Response::new(
            self.members
                .list_changes(&caller, request.get_ref())
                .await?,
        ))
    }

    async fn get_member(
        &self,
        request: Request<proto::GetMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::maybe_caller(&request);
        let id = parse_name("name", &request.get_ref().name)?;
        let member = self.members.get(id).await?;
        // The public sees the members that joined, and only what a directory shows.
        if caller.is_none() && member.state != MemberState::Active {
            return Err(Error::not_found(id.name()).into());
        }
        Ok(Response::new(member_for(&member, caller.as_ref())))
    }

    async fn list_members(
        &self,
        request: Request<proto::ListMembersRequest>,
    ) -> Result<Response<proto::ListMembersResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let request = request.get_ref();
        let page_size = page::page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let mut filter = parse_filter(request)?;
        if filter.contact_email.is_some() && !caller.as_ref().is_some_and(|c| c.is_admin()) {
            return Err(Status::permission_denied(
                "contact_email: only admins may find members by a contact's e-mail",
            ));
        }
        if caller.is_none() {
            // The public directory: active members only, whatever the filter asks.
            filter.states.retain(|s| *s == MemberState::Active);
            if filter.states.is_empty() && !request.states.is_empty() {
                return Ok(Response::new(proto::ListMembersResponse::default()));
            }
            filter.states = vec![MemberState::Active];
        }
        let page = self
            .members
            .list(filter, page_size, &request.page_token)
            .await?;
        Ok(Response::new(proto::ListMembersResponse {
            members: page
                .members
                .iter()
                .map(|m| member_for(m, caller.as_ref()))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_member(
        &self,
        request: Request<proto::CreateMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let member = request
            .member
            .as_ref()
            .ok_or_else(|| Error::invalid("member", "is required"))?;
        let request_id = request::request_id("request_id", &request.request_id)?;
        let profile = parse_profile(member)?;
        let created = self.members.create(&caller, profile, request_id).await?;
        Ok(Response::new(member_to_proto(&created, &caller)))
    }

    async fn update_member(
        &self,
        request: Request<proto::UpdateMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let member = request
            .member
            .as_ref()
            .ok_or_else(|| Error::invalid("member", "is required"))?;
        let id = parse_name("member.name", &member.name)?;
        let etag = request::etag("member.etag", &member.etag)?.ok_or_else(|| {
            Error::invalid(
                "member.etag",
                "is required: send the etag of the member you read",
            )
        })?;
        let patch = parse_patch(member, request.update_mask.as_ref())?;
        let updated = self.members.update(&caller, id, etag, patch).await?;
        Ok(Response::new(member_to_proto(&updated, &caller)))
    }

    async fn approve_member(
        &self,
        request: Request<proto::ApproveMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let joined_at = r.joined_at.as_ref().map(parse_joined_at).transpose()?;
        let member = self
            .members
            .transition_at(&caller, id, Transition::Approve, None, etag, joined_at)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn suspend_member(
        &self,
        request: Request<proto::SuspendMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, true)?;
        let etag = request::etag("etag", &r.etag)?;
        let member = self
            .members
            .transition(&caller, id, Transition::Suspend, reason, etag)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn reinstate_member(
        &self,
        request: Request<proto::ReinstateMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let member = self
            .members
            .transition(&caller, id, Transition::Reinstate, None, etag)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn leave_member(
        &self,
        request: Request<proto::LeaveMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, false)?;
        let etag = request::etag("etag", &r.etag)?;
        let member = self
            .members
            .transition(&caller, id, Transition::Leave, reason, etag)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }
}
