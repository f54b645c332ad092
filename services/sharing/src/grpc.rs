//! The gRPC edge of the sharing service: `fabrique.sharing.v1.SharingService`. Each
//! handler authenticates, converts the request (`crate::proto`, every invalid field
//! reported with its path), calls the use case and converts back. Nothing else happens
//! here.

use fabrique_api::sharing as proto;
use fabrique_api::sharing::sharing_service_server::SharingService;
use fabrique_platform::Error;
use fabrique_platform::auth::{self, Caller};
use fabrique_platform::page;
use fabrique_platform::request::{self, optional};
use tonic::{Request, Response, Status};

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Sharing};
use crate::domain::{
    ClaimTransition, NeedDraft, ReservationFilter, ReservationTransition, ResourceDraft,
    ResourceTransition, parse_child_name, parse_member_name, parse_need_name, parse_resource_name,
};
use crate::proto::{
    parse_availability_window, parse_claim_request, parse_name, parse_needs_filter, parse_parent,
    parse_reservation, parse_resource_filter, parse_resource_patch, resource_for,
    resource_to_proto,
};

/// The gRPC service, over the use cases.
pub struct SharingGrpc {
    sharing: Sharing,
}

impl SharingGrpc {
    /// The handlers of `sharing`'s use cases.
    pub fn new(sharing: Sharing) -> Self {
        Self { sharing }
    }
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

impl SharingGrpc {
    /// The four reservation lifecycle calls differ only in their transition and reason.
    async fn reservation_step(
        &self,
        caller: &Caller,
        name: &str,
        transition: ReservationTransition,
        reason: Option<String>,
        etag: &str,
    ) -> Result<Response<proto::Reservation>, Status> {
        let (resource, id) = parse_name("name", name, |n| parse_child_name(n, "reservations"))?;
        let etag = request::etag("etag", etag)?;
        let reservation = self
            .sharing
            .transition_reservation(caller, resource, id, transition, reason, etag)
            .await?;
        Ok(Response::new((&reservation).into()))
    }
}

#[tonic::async_trait]
impl SharingService for SharingGrpc {
    async fn list_changes(
        &self,
        request: Request<fabrique_api::audit::ListChangesRequest>,
    ) -> Result<Response<fabrique_api::audit::ListChangesResponse>, Status> {
        let caller = fabrique_platform::auth::caller(&request)?;
        Ok(Response::new(
            self.sharing
                .list_changes(&caller, request.get_ref())
                .await?,
        ))
    }

    async fn get_resource(
        &self,
        request: Request<proto::GetResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        // Public: the public reads AVAILABLE resources.
        let caller = auth::maybe_caller(&request);
        let id = parse_name("name", &request.get_ref().name, parse_resource_name)?;
        let resource = self.sharing.read_resource(caller.as_ref(), id).await?;
        Ok(Response::new(resource_for(
            &resource,
            None,
            caller.as_ref(),
        )))
    }

    async fn list_resources(
        &self,
        request: Request<proto::ListResourcesRequest>,
    ) -> Result<Response<proto::ListResourcesResponse>, Status> {
        // Public, as GetResource.
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let (filter, near) = parse_resource_filter(r)?;
        let page = self
            .sharing
            .list_resources(caller.as_ref(), filter, near, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListResourcesResponse {
            resources: page
                .items
                .iter()
                .map(|(d, r)| resource_for(r, *d, caller.as_ref()))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_resource(
        &self,
        request: Request<proto::CreateResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let resource = r
            .resource
            .as_ref()
            .ok_or_else(|| Error::invalid("resource", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = ResourceDraft::try_from(resource)?;
        let created = self
            .sharing
            .create_resource(&caller, draft, request_id)
            .await?;
        Ok(Response::new(resource_to_proto(&created, None)))
    }

    async fn update_resource(
        &self,
        request: Request<proto::UpdateResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let resource = r
            .resource
            .as_ref()
            .ok_or_else(|| Error::invalid("resource", "is required"))?;
        let id = parse_name("resource.name", &resource.name, parse_resource_name)?;
        let etag = request::etag("resource.etag", &resource.etag)?.ok_or_else(|| {
            Error::invalid(
                "resource.etag",
                "is required: send the etag of the resource you read",
            )
        })?;
        let patch = parse_resource_patch(resource, r.update_mask.as_ref())?;
        let updated = self
            .sharing
            .update_resource(&caller, id, etag, patch)
            .await?;
        Ok(Response::new(resource_to_proto(&updated, None)))
    }

    async fn withdraw_resource(
        &self,
        request: Request<proto::WithdrawResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name, parse_resource_name)?;
        let reason = request::reason("reason", &r.reason, false)?;
        let etag = request::etag("etag", &r.etag)?;
        let resource = self
            .sharing
            .transition_resource(&caller, id, ResourceTransition::Withdraw { reason }, etag)
            .await?;
        Ok(Response::new(resource_to_proto(&resource, None)))
    }

    async fn restore_resource(
        &self,
        request: Request<proto::RestoreResourceRequest>,
    ) -> Result<Response<proto::Resource>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name, parse_resource_name)?;
        let etag = request::etag("etag", &r.etag)?;
        let resource = self
            .sharing
            .transition_resource(&caller, id, ResourceTransition::Restore, etag)
            .await?;
        Ok(Response::new(resource_to_proto(&resource, None)))
    }

    async fn get_availability(
        &self,
        request: Request<proto::GetAvailabilityRequest>,
    ) -> Result<Response<proto::GetAvailabilityResponse>, Status> {
        // Public, as GetResource: free intervals only, never who holds the rest.
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let id = parse_name("name", &r.name, parse_resource_name)?;
        let window = parse_availability_window(r)?;
        let free = self
            .sharing
            .availability(caller.as_ref(), id, window)
            .await?;
        Ok(Response::new(proto::GetAvailabilityResponse {
            free: free.iter().map(Into::into).collect(),
        }))
    }

    async fn create_reservation(
        &self,
        request: Request<proto::CreateReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let resource = parse_name("parent", &r.parent, parse_resource_name)?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let reservation = r
            .reservation
            .as_ref()
            .ok_or_else(|| Error::invalid("reservation", "is required"))?;
        let (slot, note) = parse_reservation(reservation)?;
        let created = self
            .sharing
            .create_reservation(&caller, resource, slot, note, request_id)
            .await?;
        Ok(Response::new((&created).into()))
    }

    async fn get_reservation(
        &self,
        request: Request<proto::GetReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let (resource, id) = parse_name("name", &request.get_ref().name, |n| {
            parse_child_name(n, "reservations")
        })?;
        let reservation = self.sharing.get_reservation(&caller, resource, id).await?;
        Ok(Response::new((&reservation).into()))
    }

    async fn list_reservations(
        &self,
        request: Request<proto::ListReservationsRequest>,
    ) -> Result<Response<proto::ListReservationsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let filter = ReservationFilter::try_from(r)?;
        let page = self
            .sharing
            .list_reservations(&caller, filter, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListReservationsResponse {
            reservations: page.items.iter().map(Into::into).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn confirm_reservation(
        &self,
        request: Request<proto::ConfirmReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Confirm,
            None,
            &r.etag,
        )
        .await
    }

    async fn decline_reservation(
        &self,
        request: Request<proto::DeclineReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, false)?;
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Decline,
            reason,
            &r.etag,
        )
        .await
    }

    async fn cancel_reservation(
        &self,
        request: Request<proto::CancelReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, false)?;
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Cancel,
            reason,
            &r.etag,
        )
        .await
    }

    async fn complete_reservation(
        &self,
        request: Request<proto::CompleteReservationRequest>,
    ) -> Result<Response<proto::Reservation>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.reservation_step(
            &caller,
            &r.name,
            ReservationTransition::Complete,
            None,
            &r.etag,
        )
        .await
    }

    async fn create_claim(
        &self,
        request: Request<proto::CreateClaimRequest>,
    ) -> Result<Response<proto::Claim>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let (resource, amount, request_id) = parse_claim_request(r)?;
        let claim = self
            .sharing
            .create_claim(&caller, resource, amount, r.accept_less, request_id)
            .await?;
        Ok(Response::new((&claim).into()))
    }

    async fn list_claims(
        &self,
        request: Request<proto::ListClaimsRequest>,
    ) -> Result<Response<proto::ListClaimsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let resource = parse_parent("parent", &r.parent)?;
        let claimant = parse_name("claimant", &r.claimant, |c| optional(c, parse_member_name))?;
        let page = self
            .sharing
            .list_claims(&caller, resource, claimant, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListClaimsResponse {
            claims: page.items.iter().map(Into::into).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn collect_claim(
        &self,
        request: Request<proto::CollectClaimRequest>,
    ) -> Result<Response<proto::Claim>, Status> {
        let caller = auth::caller(&request)?;
        let (resource, id) = parse_name("name", &request.get_ref().name, |n| {
            parse_child_name(n, "claims")
        })?;
        let claim = self
            .sharing
            .finish_claim(&caller, resource, id, ClaimTransition::Collect)
            .await?;
        Ok(Response::new((&claim).into()))
    }

    async fn cancel_claim(
        &self,
        request: Request<proto::CancelClaimRequest>,
    ) -> Result<Response<proto::Claim>, Status> {
        let caller = auth::caller(&request)?;
        let (resource, id) = parse_name("name", &request.get_ref().name, |n| {
            parse_child_name(n, "claims")
        })?;
        let claim = self
            .sharing
            .finish_claim(&caller, resource, id, ClaimTransition::Cancel)
            .await?;
        Ok(Response::new((&claim).into()))
    }

    async fn create_need(
        &self,
        request: Request<proto::CreateNeedRequest>,
    ) -> Result<Response<proto::Need>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let need = r
            .need
            .as_ref()
            .ok_or_else(|| Error::invalid("need", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = NeedDraft::try_from(need)?;
        let created = self.sharing.create_need(&caller, draft, request_id).await?;
        Ok(Response::new((&created).into()))
    }

    async fn get_need(
        &self,
        request: Request<proto::GetNeedRequest>,
    ) -> Result<Response<proto::Need>, Status> {
        // Public: the public reads OPEN needs.
        let caller = auth::maybe_caller(&request);
        let id = parse_name("name", &request.get_ref().name, parse_need_name)?;
        let need = self.sharing.read_need(caller.as_ref(), id).await?;
        Ok(Response::new((&need).into()))
    }

    async fn list_needs(
        &self,
        request: Request<proto::ListNeedsRequest>,
    ) -> Result<Response<proto::ListNeedsResponse>, Status> {
        // Public, as GetNeed.
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let (member, states) = parse_needs_filter(r)?;
        let page = self
            .sharing
            .list_needs(caller.as_ref(), member, states, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListNeedsResponse {
            needs: page.items.iter().map(Into::into).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn close_need(
        &self,
        request: Request<proto::CloseNeedRequest>,
    ) -> Result<Response<proto::Need>, Status> {
        let caller = auth::caller(&request)?;
        let id = parse_name("name", &request.get_ref().name, parse_need_name)?;
        let need = self.sharing.close_need(&caller, id).await?;
        Ok(Response::new((&need).into()))
    }

    async fn list_matches(
        &self,
        request: Request<proto::ListMatchesRequest>,
    ) -> Result<Response<proto::ListMatchesResponse>, Status> {
        auth::caller(&request)?;
        let r = request.get_ref();
        let need = parse_name("need", &r.need, parse_need_name)?;
        let limit = page::page_size(r.page_size, 20, 100)? as usize;
        let matches = self.sharing.matches(need, limit).await?;
        Ok(Response::new(proto::ListMatchesResponse {
            matches: matches.iter().map(Into::into).collect(),
        }))
    }
}
