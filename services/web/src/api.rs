//! The site's gRPC clients: a lazily connected channel to each service it reads, the
//! same public API any client uses. A page calls anonymously what the public may see.

use fabrique_api::members::members_service_client::MembersServiceClient;
use fabrique_api::notify::notify_service_client::NotifyServiceClient;
use fabrique_api::operations::dead_letter_service_client::DeadLetterServiceClient;
use fabrique_api::participation::participation_service_client::ParticipationServiceClient;
use fabrique_api::projects::projects_service_client::ProjectsServiceClient;
use fabrique_api::registry::registry_service_client::RegistryServiceClient;
use fabrique_api::sharing::sharing_service_client::SharingServiceClient;
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

/// Where each service the site reads answers (`http://host:port`): one process running
/// them all, or a Service each on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The members service.
    pub members: String,
    /// The registry.
    pub registry: String,
    /// The projects service.
    pub projects: String,
    /// The sharing service.
    pub sharing: String,
    /// The notify service (people's choice of e-mails).
    pub notify: String,
    /// The participation service (processes, proposals, meetings, budgets).
    pub participation: String,
}

impl Endpoints {
    /// Every service at `url`.
    pub fn all_at(url: &str) -> Self {
        Self {
            members: url.to_string(),
            registry: url.to_string(),
            projects: url.to_string(),
            sharing: url.to_string(),
            notify: url.to_string(),
            participation: url.to_string(),
        }
    }
}

/// The clients of the services the site reads.
#[derive(Clone)]
pub struct Api {
    members: Channel,
    registry: Channel,
    projects: Channel,
    sharing: Channel,
    notify: Channel,
    participation: Channel,
}

impl Api {
    /// Clients of the services at `url`, connected on first use (and again after a
    /// failure), so that neither side has to start first.
    pub fn lazy(url: &str) -> Result<Self, InvalidEndpoint> {
        Self::lazy_each(&Endpoints::all_at(url))
    }

    /// Clients of each service at its own endpoint, connected on first use; services
    /// at the same URL share one channel.
    pub fn lazy_each(endpoints: &Endpoints) -> Result<Self, InvalidEndpoint> {
        let mut channels: Vec<(String, Channel)> = Vec::new();
        let mut channel = |url: &str| -> Result<Channel, InvalidEndpoint> {
            if let Some((_, known)) = channels.iter().find(|(u, _)| u == url) {
                return Ok(known.clone());
            }
            let made = lazy_channel(url)?;
            channels.push((url.to_string(), made.clone()));
            Ok(made)
        };
        Ok(Self {
            members: channel(&endpoints.members)?,
            registry: channel(&endpoints.registry)?,
            projects: channel(&endpoints.projects)?,
            sharing: channel(&endpoints.sharing)?,
            notify: channel(&endpoints.notify)?,
            participation: channel(&endpoints.participation)?,
        })
    }

    /// The members: the public directory of the allies.
    pub fn members(&self) -> MembersServiceClient<Channel> {
        MembersServiceClient::new(self.members.clone())
    }

    /// The projects service: programmes and their envelopes, projects, grouped
    /// purchases, workshops.
    pub fn projects(&self) -> ProjectsServiceClient<Channel> {
        ProjectsServiceClient::new(self.projects.clone())
    }

    /// The sharing service: resources, their free slots, and needs.
    pub fn sharing(&self) -> SharingServiceClient<Channel> {
        SharingServiceClient::new(self.sharing.clone())
    }

    /// The notify service: which e-mails each address receives.
    pub fn notify(&self) -> NotifyServiceClient<Channel> {
        NotifyServiceClient::new(self.notify.clone())
    }

    /// The participation service: citizens' processes, proposals, meetings and budgets.
    pub fn participation(&self) -> ParticipationServiceClient<Channel> {
        ParticipationServiceClient::new(self.participation.clone())
    }

    /// Each service's dead letters, asked of the process that runs it: the service's
    /// name and its client.
    pub fn dead_letters(&self) -> [(&'static str, DeadLetterServiceClient<Channel>); 6] {
        [
            ("members", &self.members),
            ("registry", &self.registry),
            ("sharing", &self.sharing),
            ("projects", &self.projects),
            ("participation", &self.participation),
            ("notify", &self.notify),
        ]
        .map(|(service, channel)| (service, DeadLetterServiceClient::new(channel.clone())))
    }

    /// The registry: places, their kinds and capabilities.
    pub fn registry(&self) -> RegistryServiceClient<Channel> {
        RegistryServiceClient::new(self.registry.clone())
    }
}

fn lazy_channel(url: &str) -> Result<Channel, InvalidEndpoint> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .map_err(|e| InvalidEndpoint(format!("{url}: {e}")))?
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(std::time::Duration::from_secs(10));
    Ok(endpoint.connect_lazy())
}

/// `message` with `authorization: Bearer <token>`, for a call made for a signed-in
/// person (a token the site signed: see `auth::api_token`).
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
