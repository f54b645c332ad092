//! The alliance's web site: French pages served over HTTP by `fabrique serve` (the `web`
//! service, part of `all`), rendered on the server from the services' public gRPC API —
//! the site is a client like any other and reads nothing else. Forms work without
//! JavaScript.
//!
//! Rooms: [`texts`] (every sentence, one language per value), [`fr`] (French dates,
//! amounts, numbers, Paris time), [`api`] (the gRPC clients), `pages` (one module per
//! section: handlers and their view models, and `pages::forms`, what every form goes
//! through: session, CSRF, request id, refusals in French), `security` (the headers every response
//! carries), and `templates/` (askama, checked at compile time, escaping by default).

#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub use fabrique_types::fr;
mod pages;
mod security;
pub mod texts;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::{get, post};

/// The web service's flags (`fabrique serve`).
#[derive(Debug, Clone, clap::Args)]
pub struct WebArgs {
    /// Address the web site listens on (HTTP).
    #[arg(long, env = "FABRIQUE_WEB_LISTEN", default_value = "127.0.0.1:8080")]
    pub web_listen: SocketAddr,
    /// The gRPC endpoint of the services the site calls (e.g. http://fabrique:50051).
    /// Default: this process's own gRPC address, when it runs the services too.
    #[arg(long, env = "FABRIQUE_WEB_API_URL")]
    pub web_api_url: Option<String>,
    /// The members service's gRPC endpoint, when each service has its own (e.g.
    /// http://members:50051). Default: the API URL.
    #[arg(long, env = "FABRIQUE_WEB_MEMBERS_URL")]
    pub web_members_url: Option<String>,
    /// The registry's gRPC endpoint (e.g. http://registry:50051). Default: the API URL.
    #[arg(long, env = "FABRIQUE_WEB_REGISTRY_URL")]
    pub web_registry_url: Option<String>,
    /// The projects service's gRPC endpoint (e.g. http://projects:50051). Default: the
    /// API URL.
    #[arg(long, env = "FABRIQUE_WEB_PROJECTS_URL")]
    pub web_projects_url: Option<String>,
    /// The sharing service's gRPC endpoint (e.g. http://sharing:50051). Default: the
    /// API URL.
    #[arg(long, env = "FABRIQUE_WEB_SHARING_URL")]
    pub web_sharing_url: Option<String>,
    /// The notify service's gRPC endpoint (e.g. http://notify:50051). Default: the API
    /// URL.
    #[arg(long, env = "FABRIQUE_WEB_NOTIFY_URL")]
    pub web_notify_url: Option<String>,
    /// The participation service's gRPC endpoint (e.g. http://participation:50051).
    /// Default: the API URL.
    #[arg(long, env = "FABRIQUE_WEB_PARTICIPATION_URL")]
    pub web_participation_url: Option<String>,
    /// The site's address as people reach it, for links and secure cookies (e.g.
    /// https://fabrique.example.org). Default: http:// and the listen address.
    #[arg(long, env = "FABRIQUE_WEB_PUBLIC_URL")]
    pub web_public_url: Option<String>,
    /// Signs session cookies and one-time links: 32 bytes or more. Default on the
    /// embedded default: derived from the services' secret.
    #[arg(long, env = "FABRIQUE_WEB_SESSION_KEY", hide_env_values = true)]
    pub web_session_key: Option<String>,
    /// A PEM private key (Ed25519, P-256 or RSA) the site signs its API tokens with,
    /// whose public half the services trust (FABRIQUE_JWT_PUBLIC_KEY). Default: the
    /// services' shared secret, when this process has it.
    #[arg(long, env = "FABRIQUE_WEB_SIGNING_KEY")]
    pub web_signing_key: Option<std::path::PathBuf>,
    /// The OpenID Connect provider people sign in with (its issuer URL); unset: one-time
    /// links (`fabrique login-link`).
    #[arg(long, env = "FABRIQUE_WEB_OIDC_ISSUER")]
    pub web_oidc_issuer: Option<String>,
    /// This site's client id at the provider.
    #[arg(long, env = "FABRIQUE_WEB_OIDC_CLIENT_ID", default_value = "fabrique")]
    pub web_oidc_client_id: String,
    /// The client secret (a confidential client); unset: a public client (PKCE only).
    #[arg(long, env = "FABRIQUE_WEB_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub web_oidc_client_secret: Option<String>,
    /// How the sign-in button names the provider.
    #[arg(
        long,
        env = "FABRIQUE_WEB_OIDC_NAME",
        default_value = "votre compte professionnel"
    )]
    pub web_oidc_name: String,
    /// E-mails of the alliance's admins, comma-separated.
    #[arg(long, env = "FABRIQUE_WEB_ADMINS", value_delimiter = ',')]
    pub web_admins: Vec<String>,
    /// A claim that makes an admin: `name=value` (e.g. `roles=fabrique-admin`).
    #[arg(long, env = "FABRIQUE_WEB_ADMIN_CLAIM")]
    pub web_admin_claim: Option<String>,
    /// The map's tiles, a URL template with {z}, {x}, {y} (and {s} for subdomains).
    /// OpenStreetMap's own tiles are for light use: a busy site should use its own
    /// server or a provider's (https://operations.osmfoundation.org/policies/tiles/).
    #[arg(
        long,
        env = "FABRIQUE_WEB_TILES_URL",
        default_value = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    )]
    pub web_tiles_url: String,
    /// Who the tiles' data comes from, shown on the map (their licence requires it).
    #[arg(
        long,
        env = "FABRIQUE_WEB_TILES_ATTRIBUTION",
        default_value = "© les contributeurs d’OpenStreetMap"
    )]
    pub web_tiles_attribution: String,
    /// Where the attribution links to.
    #[arg(
        long,
        env = "FABRIQUE_WEB_TILES_ATTRIBUTION_URL",
        default_value = "https://www.openstreetmap.org/copyright"
    )]
    pub web_tiles_attribution_url: String,
}

impl WebArgs {
    /// Where each service the site reads answers: its own URL, else the API URL, else
    /// `own` (the process's own gRPC address, when it runs the services). Names the
    /// settings missing when neither gives one.
    pub fn endpoints(&self, own: Option<&str>) -> Result<api::Endpoints, String> {
        let fallback = self
            .web_api_url
            .as_deref()
            .filter(|url| !url.is_empty())
            .or(own);
        let mut missing = Vec::new();
        let mut pick = |specific: &Option<String>, variable: &'static str| match specific
            .as_deref()
            .filter(|url| !url.is_empty())
            .or(fallback)
        {
            Some(url) => url.to_string(),
            None => {
                missing.push(variable);
                String::new()
            }
        };
        let endpoints = api::Endpoints {
            members: pick(&self.web_members_url, "FABRIQUE_WEB_MEMBERS_URL"),
            registry: pick(&self.web_registry_url, "FABRIQUE_WEB_REGISTRY_URL"),
            projects: pick(&self.web_projects_url, "FABRIQUE_WEB_PROJECTS_URL"),
            sharing: pick(&self.web_sharing_url, "FABRIQUE_WEB_SHARING_URL"),
            notify: pick(&self.web_notify_url, "FABRIQUE_WEB_NOTIFY_URL"),
            participation: pick(
                &self.web_participation_url,
                "FABRIQUE_WEB_PARTICIPATION_URL",
            ),
        };
        if missing.is_empty() {
            Ok(endpoints)
        } else {
            Err(format!(
                "the web site without the gRPC services needs FABRIQUE_WEB_API_URL \
                 (--web-api-url), where the services answer, or one URL per service: {} \
                 missing",
                missing.join(", ")
            ))
        }
    }

    /// The site's public address: the configured one, else `http://` and the listen
    /// address (loopback for an unspecified one).
    pub fn public_url(&self) -> String {
        if let Some(url) = self.web_public_url.as_deref().filter(|u| !u.is_empty()) {
            return url.trim_end_matches('/').to_string();
        }
        let mut address = self.web_listen;
        if address.ip().is_unspecified() {
            address.set_ip([127, 0, 0, 1].into());
        }
        format!("http://{address}")
    }

    /// The OpenID provider as configured, if any.
    pub fn oidc(&self) -> Option<auth::oidc::OidcConfig> {
        let issuer = self.web_oidc_issuer.clone().filter(|i| !i.is_empty())?;
        Some(auth::oidc::OidcConfig {
            issuer,
            client_id: self.web_oidc_client_id.clone(),
            client_secret: self
                .web_oidc_client_secret
                .clone()
                .filter(|s| !s.is_empty()),
            name: self.web_oidc_name.clone(),
            admins: self
                .web_admins
                .iter()
                .map(|a| a.trim().to_lowercase())
                .filter(|a| !a.is_empty())
                .collect(),
            admin_claim: self
                .web_admin_claim
                .as_deref()
                .and_then(|c| c.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string())),
        })
    }

    /// The map's tiles as configured.
    pub fn tiles(&self) -> Tiles {
        Tiles {
            url: self.web_tiles_url.clone(),
            attribution: self.web_tiles_attribution.clone(),
            attribution_url: self.web_tiles_attribution_url.clone(),
        }
    }
}

/// The tile server the map draws on and the attribution it requires.
#[derive(Debug, Clone)]
pub struct Tiles {
    /// URL template with {z}, {x}, {y}.
    pub url: String,
    /// Shown on the map, linked to `attribution_url`.
    pub attribution: String,
    /// http(s) URL of the data's licence.
    pub attribution_url: String,
}

impl Default for Tiles {
    /// OpenStreetMap's.
    fn default() -> Self {
        Tiles {
            url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(),
            attribution: "© les contributeurs d’OpenStreetMap".into(),
            attribution_url: "https://www.openstreetmap.org/copyright".into(),
        }
    }
}

/// What the site needs to answer: the API's clients and the words to say.
#[derive(Clone)]
pub struct Web {
    api: api::Api,
    texts: &'static texts::Texts,
    tiles: Tiles,
    sign_in: Option<auth::SignIn>,
}

impl Web {
    /// The site in French, calling the services at `api_url` (`http://host:port`). The
    /// connection is made on the first call, so the site starts before the services.
    pub fn new(api_url: &str) -> Result<Self, api::InvalidEndpoint> {
        Self::with_endpoints(&api::Endpoints::all_at(api_url))
    }

    /// The site in French, calling each service at its own endpoint (a Service each on
    /// a cluster). Connected on the first call too.
    pub fn with_endpoints(endpoints: &api::Endpoints) -> Result<Self, api::InvalidEndpoint> {
        Ok(Self {
            api: api::Api::lazy_each(endpoints)?,
            texts: &texts::FR,
            tiles: Tiles::default(),
            sign_in: None,
        })
    }

    /// The same site where people sign in as `sign_in` says.
    pub fn with_sign_in(mut self, sign_in: auth::SignIn) -> Self {
        self.sign_in = Some(sign_in);
        self
    }

    /// The same site drawing its map on `tiles`.
    pub fn with_tiles(mut self, tiles: Tiles) -> Self {
        self.tiles = tiles;
        self
    }

    /// Every page and asset, behind the security headers.
    ///
    /// Over 60 lines: one route a line or three, so that the site's whole map is read in
    /// one place.
    pub fn router(self) -> Router {
        let policy = security::content_security_policy(&security::tiles_origin(&self.tiles.url));
        // `tiles_origin` keeps only characters a header may hold; the fallback is stricter.
        let policy = HeaderValue::from_str(&policy)
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        let web = Arc::new(self);
        Router::new()
            .route("/", get(pages::home::show))
            .route("/lieux", get(pages::places::list))
            .route("/lieux/carte.json", get(pages::map::data))
            .route("/lieux/{id}", get(pages::places::show))
            .route("/allies", get(pages::allies::list))
            .route("/allies/{id}", get(pages::allies::show))
            .route("/programmes", get(pages::programmes::list))
            .route("/programmes/{id}", get(pages::programmes::show))
            .route(
                "/programmes/{id}/demander",
                post(pages::applications::apply),
            )
            .route(
                "/programmes/{id}/aides.csv",
                get(pages::programmes::awards_csv),
            )
            .route("/ressources", get(pages::resources::list))
            .route("/ressources/{id}", get(pages::resources::show))
            .route("/ressources/{id}/reserver", post(pages::booking::reserve))
            .route("/ressources/{id}/prelever", post(pages::claims::claim))
            .route("/besoins", get(pages::needs::list))
            .route("/besoins/{id}", get(pages::needs::show))
            .route("/besoins/{id}/clore", post(pages::needing::close))
            .route(
                pages::needing::NEW_PATH,
                get(pages::needing::new).post(pages::needing::create),
            )
            .route("/projets", get(pages::projects::list))
            .route("/projets/{id}", get(pages::projects::show))
            .route("/achats-groupes", get(pages::purchases::list))
            .route("/achats-groupes/{id}", get(pages::purchases::show))
            .route(
                "/achats-groupes/{id}/resultat.csv",
                get(pages::purchases::outcome_csv),
            )
            .route(
                "/achats-groupes/{id}/participer",
                post(pages::joining::take_part),
            )
            .route(
                "/achats-groupes/{id}/coordonner",
                post(pages::joining::coordinate),
            )
            .route("/ateliers", get(pages::workshops::list))
            .route("/ateliers/{id}", get(pages::workshops::show))
            .route("/ateliers/{id}/equipe", post(pages::teams::set))
            .route("/participation", get(pages::participation::list))
            .route(
                pages::participation::PROFILE_PATH,
                get(pages::participant::show).post(pages::participant::act),
            )
            .route("/participation/{id}", get(pages::process::show))
            .route(
                "/participation/{id}/rencontres.ics",
                get(pages::participation::calendar),
            )
            .route(
                "/participation/{id}/propositions.csv",
                get(pages::participation::proposals_csv),
            )
            .route(
                "/participation/{id}/proposer",
                get(pages::proposing::new).post(pages::proposing::create),
            )
            .route(
                "/participation/{id}/propositions/{proposal}",
                get(pages::proposals::show).post(pages::proposals::act),
            )
            .route(
                "/participation/{id}/rencontres/nouvelle",
                get(pages::new_meeting::new).post(pages::new_meeting::create),
            )
            .route(
                "/participation/{id}/rencontres/{meeting}",
                get(pages::meetings::show).post(pages::meetings::act),
            )
            .route(
                "/participation/{id}/budgets/nouveau",
                get(pages::new_budget::new).post(pages::new_budget::create),
            )
            .route(
                "/participation/{id}/budgets/{budget}",
                get(pages::ballots::show).post(pages::ballots::act),
            )
            .route(
                "/participation/{id}/budgets/{budget}/resultats.csv",
                get(pages::participation::results_csv),
            )
            .route(
                pages::new_process::PATH,
                get(pages::new_process::new).post(pages::new_process::create),
            )
            .route(
                pages::organising::PATH,
                get(pages::organising::show).post(pages::organising::act),
            )
            .route("/connexion", get(pages::account::sign_in))
            .route("/connexion/lien", post(pages::account::use_link))
            .route("/connexion/oidc", get(pages::account::oidc_start))
            .route("/connexion/retour", get(pages::account::oidc_callback))
            .route("/connexion/lien/{token}", get(pages::account::link))
            .route("/espace", get(pages::account::space))
            .route("/espace/membre", post(pages::account::choose_member))
            .route(
                "/espace/ressources",
                get(pages::offers::mine).post(pages::offers::act),
            )
            .route(
                "/espace/ressources/nouvelle",
                get(pages::offers::new).post(pages::offers::create),
            )
            .route(
                "/espace/demandes",
                get(pages::applications::mine).post(pages::decisions::act),
            )
            .route(
                "/espace/instruction",
                get(pages::instruction::instruction).post(pages::decisions::act),
            )
            .route(
                "/espace/instruction/enveloppe",
                post(pages::decisions::change_envelope),
            )
            .route(
                "/espace/reservations",
                get(pages::reservations::mine).post(pages::reservations::act),
            )
            .route(
                pages::administration::PATH,
                get(pages::administration::show).post(pages::administration::act),
            )
            .route(
                pages::profile::PATH,
                get(pages::profile::show).post(pages::profile::save),
            )
            .route(
                pages::emails::PATH,
                get(pages::emails::show).post(pages::emails::save),
            )
            .route("/deconnexion", post(pages::account::sign_out))
            .route("/static/{*path}", get(pages::assets::file))
            .route("/healthz", get(pages::assets::healthz))
            .fallback(pages::not_found)
            .with_state(web)
            .layer(axum::middleware::map_response_with_state(
                policy,
                security::headers,
            ))
    }
}

/// Serves the site on `listener` until `shutdown` completes; requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    web: Web,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address limits sign-in attempts (`auth::limit`).
    let app = web
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        web: WebArgs,
    }

    fn args(flags: &[&str]) -> WebArgs {
        Cli::try_parse_from(std::iter::once("web").chain(flags.iter().copied()))
            .expect("valid flags")
            .web
    }

    #[test]
    fn each_service_s_url_defaults_to_the_api_url_then_to_the_process_s_own() {
        let own = args(&[]).endpoints(Some("http://127.0.0.1:50051"));
        assert_eq!(own, Ok(api::Endpoints::all_at("http://127.0.0.1:50051")));
        let one = args(&["--web-api-url", "http://fabrique:50051"]).endpoints(Some("http://own"));
        assert_eq!(one, Ok(api::Endpoints::all_at("http://fabrique:50051")));
        let each = args(&[
            "--web-members-url",
            "http://members:50051",
            "--web-registry-url",
            "http://registry:50051",
            "--web-projects-url",
            "http://projects:50051",
            "--web-sharing-url",
            "http://sharing:50051",
            "--web-notify-url",
            "http://notify:50051",
            "--web-participation-url",
            "http://participation:50051",
        ])
        .endpoints(None);
        assert_eq!(
            each,
            Ok(api::Endpoints {
                members: "http://members:50051".into(),
                registry: "http://registry:50051".into(),
                projects: "http://projects:50051".into(),
                sharing: "http://sharing:50051".into(),
                notify: "http://notify:50051".into(),
                participation: "http://participation:50051".into(),
            })
        );
        let mixed = args(&[
            "--web-api-url",
            "http://fabrique:50051",
            "--web-registry-url",
            "http://registry:50051",
        ])
        .endpoints(None)
        .expect("the API URL for the others");
        assert_eq!(mixed.registry, "http://registry:50051");
        assert_eq!(mixed.members, "http://fabrique:50051");
        assert_eq!(mixed.projects, "http://fabrique:50051");
        assert_eq!(mixed.sharing, "http://fabrique:50051");
    }

    #[test]
    fn a_service_without_a_url_is_named() {
        let none = args(&[]).endpoints(None).expect_err("no URL at all");
        assert!(none.contains("FABRIQUE_WEB_API_URL"), "{none}");
        let partial = args(&["--web-members-url", "http://members:50051"])
            .endpoints(None)
            .expect_err("five missing");
        assert!(
            partial.ends_with(
                "FABRIQUE_WEB_REGISTRY_URL, FABRIQUE_WEB_PROJECTS_URL, FABRIQUE_WEB_SHARING_URL, \
                 FABRIQUE_WEB_NOTIFY_URL, FABRIQUE_WEB_PARTICIPATION_URL missing"
            ),
            "{partial}"
        );
        let empty = args(&["--web-api-url", ""]).endpoints(None);
        assert!(empty.is_err(), "an empty URL is no URL");
    }

    #[tokio::test]
    async fn the_site_takes_separate_endpoints_and_refuses_an_invalid_one() {
        let endpoints = api::Endpoints {
            members: "http://members:50051".into(),
            registry: "http://registry:50051".into(),
            projects: "http://members:50051".into(),
            sharing: "http://members:50051".into(),
            notify: "http://members:50051".into(),
            participation: "http://members:50051".into(),
        };
        assert!(Web::with_endpoints(&endpoints).is_ok());
        let invalid = api::Endpoints {
            registry: "not a url".into(),
            ..endpoints
        };
        assert!(Web::with_endpoints(&invalid).is_err());
    }
}
