//! The gRPC edge of the registry: `fabrique.registry.v1.RegistryService`. Each handler
//! authenticates, converts the request (`crate::proto`, every invalid field reported
//! with its path), calls the use case and converts back.

use fabrique_api::registry as proto;
use fabrique_api::registry::registry_service_server::RegistryService;
use fabrique_platform::Error;
use fabrique_platform::auth::{self, Caller};
use fabrique_platform::page;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

use crate::app::{self, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Registry};
use crate::domain::Transition;
use crate::proto::{
    ImportRequest, capabilities, cluster_to_proto, parse_clusters, parse_list, parse_name,
    parse_new_place, parse_patch, place_to_proto,
};

/// The `RegistryService` server: the use cases behind the contract.
pub struct RegistryGrpc {
    registry: Registry,
}

impl RegistryGrpc {
    /// Serves `registry` over gRPC.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

impl RegistryGrpc {
    /// The four moderation calls differ only in their transition and reason.
    async fn moderate(
        &self,
        caller: &Caller,
        name: &str,
        transition: Transition,
        reason: Option<String>,
        etag: &str,
    ) -> Result<Response<proto::Place>, Status> {
        let id = parse_name("name", name)?;
        let etag = request::etag("etag", etag)?;
        let place = self
            .registry
            .transition(caller, id, transition, reason, etag)
            .await?;
        Ok(Response::new(place_to_proto(&place, None)))
    }
}

#[tonic::async_trait]
impl RegistryService for RegistryGrpc {
    async fn list_changes(
        &self,
        request: Request<fabrique_api::audit::ListChangesRequest>,
    ) -> Result<Response<fabrique_api::audit::ListChangesResponse>, Status> {
        let caller = fabrique_platform::auth::caller(&request)?;
        Ok(Response::new(
            self.registry
                .list_changes(&caller, request.get_ref())
                .await?,
        ))
    }

    async fn get_place(
        &self,
        request: Request<proto::GetPlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let visibility = app::visibility(auth::maybe_caller(&request).as_ref());
        let id = parse_name("name", &request.get_ref().name)?;
        let place = self.registry.get(&visibility, id).await?;
        Ok(Response::new(place_to_proto(&place, None)))
    }

    async fn list_places(
        &self,
        request: Request<proto::ListPlacesRequest>,
    ) -> Result<Response<proto::ListPlacesResponse>, Status> {
        let visibility = app::visibility(auth::maybe_caller(&request).as_ref());
        let request = request.get_ref();
        let page_size = page::page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let (filter, near) = parse_list(request)?;
        let page = self
            .registry
            .list(&visibility, filter, near, page_size, &request.page_token)
            .await?;
        Ok(Response::new(proto::ListPlacesResponse {
            places: page
                .places
                .iter()
                .map(|(distance, place)| place_to_proto(place, *distance))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_place_clusters(
        &self,
        request: Request<proto::ListPlaceClustersRequest>,
    ) -> Result<Response<proto::ListPlaceClustersResponse>, Status> {
        let (filter, view) = parse_clusters(request.get_ref())?;
        let clusters = self.registry.clusters(&filter, &view).await?;
        Ok(Response::new(proto::ListPlaceClustersResponse {
            place_count: clusters
                .iter()
                .map(|c| c.count)
                .sum::<i64>()
                .try_into()
                .unwrap_or(i32::MAX),
            clusters: clusters.iter().map(cluster_to_proto).collect(),
        }))
    }

    async fn create_place(
        &self,
        request: Request<proto::CreatePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let place = request
            .place
            .as_ref()
            .ok_or_else(|| Error::invalid("place", "is required"))?;
        let request_id = request::request_id("request_id", &request.request_id)?;
        let description = parse_new_place(place)?;
        let created = self
            .registry
            .create(&caller, description, request_id)
            .await?;
        Ok(Response::new(place_to_proto(&created, None)))
    }

    async fn update_place(
        &self,
        request: Request<proto::UpdatePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let place = request
            .place
            .as_ref()
            .ok_or_else(|| Error::invalid("place", "is required"))?;
        let id = parse_name("place.name", &place.name)?;
        let etag = request::etag("place.etag", &place.etag)?.ok_or_else(|| {
            Error::invalid(
                "place.etag",
                "is required: send the etag of the place you read",
            )
        })?;
        let patch = parse_patch(place, request.update_mask.as_ref())?;
        let updated = self.registry.update(&caller, id, etag, patch).await?;
        Ok(Response::new(place_to_proto(&updated, None)))
    }

    async fn approve_place(
        &self,
        request: Request<proto::ApprovePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.moderate(&caller, &r.name, Transition::Approve, None, &r.etag)
            .await
    }

    async fn suspend_place(
        &self,
        request: Request<proto::SuspendPlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, true)?;
        self.moderate(&caller, &r.name, Transition::Suspend, reason, &r.etag)
            .await
    }

    async fn reinstate_place(
        &self,
        request: Request<proto::ReinstatePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        self.moderate(&caller, &r.name, Transition::Reinstate, None, &r.etag)
            .await
    }

    async fn close_place(
        &self,
        request: Request<proto::ClosePlaceRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let reason = request::reason("reason", &r.reason, false)?;
        self.moderate(&caller, &r.name, Transition::Close, reason, &r.etag)
            .await
    }

    async fn mark_place_reviewed(
        &self,
        request: Request<proto::MarkPlaceReviewedRequest>,
    ) -> Result<Response<proto::Place>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let place = self.registry.mark_reviewed(&caller, id, etag).await?;
        Ok(Response::new(place_to_proto(&place, None)))
    }

    async fn import_places(
        &self,
        request: Request<proto::ImportPlacesRequest>,
    ) -> Result<Response<proto::ImportPlacesResponse>, Status> {
        let caller = auth::caller(&request)?;
        caller.require_admin("import places")?;
        let import = ImportRequest::try_from(request.get_ref())?;
        let report = self
            .registry
            .import(
                &caller,
                &import.source,
                import.rows,
                import.operator,
                |_, _| {},
            )
            .await?;
        Ok(Response::new(report.into()))
    }

    async fn list_capabilities(
        &self,
        _request: Request<proto::ListCapabilitiesRequest>,
    ) -> Result<Response<proto::ListCapabilitiesResponse>, Status> {
        Ok(Response::new(capabilities()))
    }
}
