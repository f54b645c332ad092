//! The handlers of grouped purchases — opening, reading, joining and leaving, closing,
//! awarding, and the export of what an awarded one obtained; kept beside the service's
//! one `impl` so that each file stays readable.

use fabrique_api::projects as proto;
use fabrique_platform::Error;
use fabrique_platform::auth;
use fabrique_platform::page;
use fabrique_platform::request;
use tonic::{Request, Response, Status};

use super::ProjectsGrpc;
use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::domain::{Category, GroupPurchaseDraft, GroupPurchaseState, GroupPurchaseTransition};
use crate::proto::{enums_of, group_purchase_for, name_of, parse_award, parse_sites};

impl ProjectsGrpc {
    /// `CreateGroupPurchase` (the coordinator or an admin).
    pub(super) async fn purchase_created(
        &self,
        request: Request<proto::CreateGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let g = r
            .group_purchase
            .as_ref()
            .ok_or_else(|| Error::invalid("group_purchase", "is required"))?;
        let request_id = request::request_id("request_id", &r.request_id)?;
        let draft = GroupPurchaseDraft::try_from(g)?;
        let purchase = self
            .projects
            .create_group_purchase(&caller, draft, request_id)
            .await?;
        Ok(Response::new(proto::GroupPurchase::from(&purchase)))
    }

    /// `GetGroupPurchase`.
    pub(super) async fn purchase_read(
        &self,
        request: Request<proto::GetGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        // Public: the public reads every purchase, each participation without its sites.
        let caller = auth::maybe_caller(&request);
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        let purchase = self.projects.get_group_purchase(id).await?;
        Ok(Response::new(group_purchase_for(
            &purchase,
            caller.as_ref(),
        )))
    }

    /// `ListGroupPurchases`.
    pub(super) async fn purchases_listed(
        &self,
        request: Request<proto::ListGroupPurchasesRequest>,
    ) -> Result<Response<proto::ListGroupPurchasesResponse>, Status> {
        // Public, as GetGroupPurchase.
        let caller = auth::maybe_caller(&request);
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let states = enums_of::<GroupPurchaseState>("states", &r.states)?;
        let categories = enums_of::<Category>("categories", &r.categories)?;
        let page = self
            .projects
            .list_group_purchases(states, categories, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListGroupPurchasesResponse {
            group_purchases: page
                .items
                .iter()
                .map(|g| group_purchase_for(g, caller.as_ref()))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    /// `JoinGroupPurchase`: the caller's member puts in its sites.
    pub(super) async fn purchase_joined(
        &self,
        request: Request<proto::JoinGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "groupPurchases", &r.name)?;
        let sites = parse_sites(&r.sites)?;
        Ok(Response::new(proto::GroupPurchase::from(
            &self
                .projects
                .join_group_purchase(&caller, id, sites)
                .await?,
        )))
    }

    /// `LeaveGroupPurchase`.
    pub(super) async fn purchase_left(
        &self,
        request: Request<proto::LeaveGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        Ok(Response::new(proto::GroupPurchase::from(
            &self.projects.leave_group_purchase(&caller, id).await?,
        )))
    }

    /// `CloseGroupPurchase` (the coordinator or an admin).
    pub(super) async fn purchase_closed(
        &self,
        request: Request<proto::CloseGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        Ok(Response::new(proto::GroupPurchase::from(
            &self
                .projects
                .advance_group_purchase(&caller, id, GroupPurchaseTransition::Close)
                .await?,
        )))
    }

    /// `AwardGroupPurchase` (the coordinator or an admin).
    pub(super) async fn purchase_awarded(
        &self,
        request: Request<proto::AwardGroupPurchaseRequest>,
    ) -> Result<Response<proto::GroupPurchase>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = name_of("name", "groupPurchases", &r.name)?;
        let award = parse_award(r)?;
        Ok(Response::new(proto::GroupPurchase::from(
            &self
                .projects
                .advance_group_purchase(&caller, id, award)
                .await?,
        )))
    }

    /// `ExportGroupPurchase`: public; with a token, each participant's rows too.
    pub(super) async fn purchase_exported(
        &self,
        request: Request<proto::ExportGroupPurchaseRequest>,
    ) -> Result<Response<proto::ExportGroupPurchaseResponse>, Status> {
        let caller = auth::maybe_caller(&request);
        let id = name_of("name", "groupPurchases", &request.get_ref().name)?;
        let outcome = self
            .projects
            .export_group_purchase(caller.as_ref(), id)
            .await?;
        Ok(Response::new(proto::ExportGroupPurchaseResponse {
            csv: outcome.csv,
            rows: i32::try_from(outcome.rows).unwrap_or(i32::MAX),
        }))
    }
}
