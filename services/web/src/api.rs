//! The site's gRPC clients: one lazily connected channel to the services, the same
//! public API any client uses. A page calls anonymously what the public may see.

use fabrique_api::members::members_service_client::MembersServiceClient;
use fabrique_api::projects::projects_service_client::ProjectsServiceClient;
use fabrique_api::registry::registry_service_client::RegistryServiceClient;
use tonic::transport::{Channel, Endpoint};

/// An API URL the site cannot use.
#[derive(Debug)]
pub struct InvalidEndpoint(pub String);

impl std::fmt::Display for InvalidEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid API URL: {}", self.0)
    }
}

impl std::error::Error for InvalidEndpoint {}

/// The clients of the services the site reads.
#[derive(Clone)]
pub struct Api {
    channel: Channel,
}

impl Api {
    /// Clients of the services at `url`, connected on first use (and again after a
    /// failure), so that neither side has to start first.
    pub fn lazy(url: &str) -> Result<Self, InvalidEndpoint> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| InvalidEndpoint(format!("{url}: {e}")))?
            .connect_timeout(std::time::Duration::from_secs(2))
            .timeout(std::time::Duration::from_secs(10));
        Ok(Self {
            channel: endpoint.connect_lazy(),
        })
    }

    /// The members: the public directory of the allies.
    pub fn members(&self) -> MembersServiceClient<Channel> {
        MembersServiceClient::new(self.channel.clone())
    }

    /// The projects service: programmes and their envelopes.
    pub fn projects(&self) -> ProjectsServiceClient<Channel> {
        ProjectsServiceClient::new(self.channel.clone())
    }

    /// The registry: places, their kinds and capabilities.
    pub fn registry(&self) -> RegistryServiceClient<Channel> {
        RegistryServiceClient::new(self.channel.clone())
    }
}
