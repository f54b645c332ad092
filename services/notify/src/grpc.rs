//! The gRPC edge of notify: `fabrique.notify.v1.NotifyService`. Each handler
//! authenticates, converts the request (`crate::proto`), calls the use case and
//! converts back.

use fabrique_api::notify as proto;
use fabrique_api::notify::notify_service_server::NotifyService;
use fabrique_platform::auth;
use fabrique_platform::page;
use tonic::{Request, Response, Status};

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Notify};
use crate::proto::{
    delivery_to_proto, parse_delivery_filter, parse_delivery_name, parse_settings_name,
    parse_update, settings_to_proto,
};

/// The `NotifyService` server.
pub struct NotifyGrpc {
    notify: Notify,
}

impl NotifyGrpc {
    /// Serves `notify` over gRPC.
    pub fn new(notify: Notify) -> Self {
        NotifyGrpc { notify }
    }
}

#[tonic::async_trait]
impl NotifyService for NotifyGrpc {
    async fn get_notification_settings(
        &self,
        request: Request<proto::GetNotificationSettingsRequest>,
    ) -> Result<Response<proto::NotificationSettings>, Status> {
        let caller = auth::caller(&request)?;
        let email = parse_settings_name("name", &request.get_ref().name)?;
        let settings = self.notify.get_settings(&caller, &email).await?;
        Ok(Response::new(settings_to_proto(&settings)))
    }

    async fn update_notification_settings(
        &self,
        request: Request<proto::UpdateNotificationSettingsRequest>,
    ) -> Result<Response<proto::NotificationSettings>, Status> {
        let caller = auth::caller(&request)?;
        let (email, disabled, etag) = parse_update(request.get_ref())?;
        let settings = self
            .notify
            .update_settings(&caller, &email, disabled, etag)
            .await?;
        Ok(Response::new(settings_to_proto(&settings)))
    }

    async fn list_deliveries(
        &self,
        request: Request<proto::ListDeliveriesRequest>,
    ) -> Result<Response<proto::ListDeliveriesResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let page_size = page::page_size(r.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let filter = parse_delivery_filter(r)?;
        let page = self
            .notify
            .list_deliveries(&caller, filter, page_size, &r.page_token)
            .await?;
        Ok(Response::new(proto::ListDeliveriesResponse {
            deliveries: page.items.iter().map(delivery_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn retry_delivery(
        &self,
        request: Request<proto::RetryDeliveryRequest>,
    ) -> Result<Response<proto::Delivery>, Status> {
        let caller = auth::caller(&request)?;
        let id = parse_delivery_name("name", &request.get_ref().name)?;
        let delivery = self.notify.retry_delivery(&caller, id).await?;
        Ok(Response::new(delivery_to_proto(&delivery)))
    }

    async fn list_changes(
        &self,
        request: Request<fabrique_api::audit::ListChangesRequest>,
    ) -> Result<Response<fabrique_api::audit::ListChangesResponse>, Status> {
        let caller = auth::caller(&request)?;
        Ok(Response::new(
            self.notify.list_changes(&caller, request.get_ref()).await?,
        ))
    }
}
