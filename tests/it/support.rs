//! Helpers shared by the end-to-end tests.

use std::sync::Arc;

use fabrique_api::members::{self as proto, members_service_client::MembersServiceClient};
use fabrique_platform::service::Service;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub fn services() -> Vec<Arc<dyn Service>> {
    vec![Arc::new(fabrique_members::MembersService)]
}

/// Every service, as `fabrique serve` runs them: the binary's one list.
pub fn all_services() -> Vec<Arc<dyn Service>> {
    fabrique::services::all()
}

/// The real pairing for each store: PostgreSQL with NATS, SQLite with the in-process bus.
pub async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(services(), backend, bus).await
}

/// A members client calling with one token.
#[derive(Clone)]
pub struct Members {
    pub client: MembersServiceClient<Channel>,
    pub token: String,
}

impl Members {
    pub async fn connect(platform: &TestPlatform, token: String) -> Self {
        Self {
            client: MembersServiceClient::new(platform.channel().await),
            token,
        }
    }

    pub fn with_token(&self, token: String) -> Self {
        Self {
            client: self.client.clone(),
            token,
        }
    }

    pub async fn create(&self, member: proto::Member) -> Result<proto::Member, Status> {
        self.create_with_id(member, "").await
    }

    pub async fn create_with_id(
        &self,
        member: proto::Member,
        request_id: &str,
    ) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .create_member(authed(
                proto::CreateMemberRequest {
                    member: Some(member),
                    request_id: request_id.to_string(),
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn get(&self, name: &str) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .get_member(authed(
                proto::GetMemberRequest {
                    name: name.to_string(),
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn list(
        &self,
        request: proto::ListMembersRequest,
    ) -> Result<proto::ListMembersResponse, Status> {
        self.client
            .clone()
            .list_members(authed(request, &self.token))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Every member matching `request`'s filters, following page tokens.
    pub async fn list_all(&self, mut request: proto::ListMembersRequest) -> Vec<proto::Member> {
        let mut all = Vec::new();
        loop {
            let page = self.list(request.clone()).await.expect("list");
            all.extend(page.members);
            if page.next_page_token.is_empty() {
                return all;
            }
            request.page_token = page.next_page_token;
        }
    }

    pub async fn update(
        &self,
        member: proto::Member,
        paths: &[&str],
    ) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .update_member(authed(
                proto::UpdateMemberRequest {
                    member: Some(member),
                    update_mask: Some(prost_types::FieldMask {
                        paths: paths.iter().map(|p| p.to_string()).collect(),
                    }),
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn approve(&self, name: &str) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .approve_member(authed(
                proto::ApproveMemberRequest {
                    name: name.to_string(),
                    ..Default::default()
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn suspend(&self, name: &str, reason: &str) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .suspend_member(authed(
                proto::SuspendMemberRequest {
                    name: name.to_string(),
                    reason: reason.to_string(),
                    etag: String::new(),
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn reinstate(&self, name: &str) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .reinstate_member(authed(
                proto::ReinstateMemberRequest {
                    name: name.to_string(),
                    etag: String::new(),
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn leave(&self, name: &str, reason: &str) -> Result<proto::Member, Status> {
        self.client
            .clone()
            .leave_member(authed(
                proto::LeaveMemberRequest {
                    name: name.to_string(),
                    reason: reason.to_string(),
                    etag: String::new(),
                },
                &self.token,
            ))
            .await
            .map(tonic::Response::into_inner)
    }
}

pub fn association(name: &str) -> proto::Member {
    proto::Member {
        display_name: name.to_string(),
        kind: proto::MemberKind::Association as i32,
        ..Default::default()
    }
}

/// A commune from the Puy-de-Dôme open data (real INSEE code and SIREN).
pub fn commune(name: &str, insee_code: &str, siren: &str) -> proto::Member {
    proto::Member {
        display_name: name.to_string(),
        kind: proto::MemberKind::Commune as i32,
        insee_code: insee_code.to_string(),
        siren: siren.to_string(),
        territory: "Puy-de-Dôme".to_string(),
        contacts: vec![proto::Contact {
            full_name: "Élu référent (exemple)".into(),
            role: proto::ContactRole::ElectedOfficial as i32,
            email: "transition@example.org".into(),
            title: String::new(),
        }],
        ..Default::default()
    }
}

/// The `{id}` of `members/{id}`.
pub fn id_of(name: &str) -> String {
    name.trim_start_matches("members/").to_string()
}

/// The fields named by an INVALID_ARGUMENT's `BadRequest`.
pub fn violated_fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// The `ErrorInfo.metadata` value of `key` in an error, empty when absent.
pub fn refusal_fact(status: &Status, key: &str) -> String {
    status
        .get_error_details()
        .error_info()
        .and_then(|info| info.metadata.get(key).cloned())
        .unwrap_or_default()
}

/// The `ErrorInfo.reason` of an error.
pub fn reason(status: &Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}
