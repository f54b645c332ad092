//! The alliance's web site: French pages served over HTTP by `fabrique serve` (the `web`
//! service, part of `all`), rendered on the server from the services' public gRPC API —
//! the site is a client like any other and reads nothing else. Forms work without
//! JavaScript.
//!
//! Rooms: [`texts`] (every sentence, one language per value), [`fr`] (French dates,
//! amounts, numbers, Paris time), [`api`] (the gRPC clients), `pages` (one module per
//! section: handlers and their view models), `security` (the headers every response
//! carries), and `templates/` (askama, checked at compile time, escaping by default).

#![warn(missing_docs)]

pub mod api;
pub mod fr;
mod pages;
mod security;
pub mod texts;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::get;

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
        })
    }

    /// The same site drawing its map on `tiles`.
    pub fn with_tiles(mut self, tiles: Tiles) -> Self {
        self.tiles = tiles;
        self
    }

    /// Every page and asset, behind the security headers.
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
    axum::serve(listener, web.router())
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
        ])
        .endpoints(None);
        assert_eq!(
            each,
            Ok(api::Endpoints {
                members: "http://members:50051".into(),
                registry: "http://registry:50051".into(),
                projects: "http://projects:50051".into(),
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
    }

    #[test]
    fn a_service_without_a_url_is_named() {
        let none = args(&[]).endpoints(None).expect_err("no URL at all");
        assert!(none.contains("FABRIQUE_WEB_API_URL"), "{none}");
        let partial = args(&["--web-members-url", "http://members:50051"])
            .endpoints(None)
            .expect_err("two missing");
        assert!(
            partial.ends_with("FABRIQUE_WEB_REGISTRY_URL, FABRIQUE_WEB_PROJECTS_URL missing"),
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
        };
        assert!(Web::with_endpoints(&endpoints).is_ok());
        let invalid = api::Endpoints {
            registry: "not a url".into(),
            ..endpoints
        };
        assert!(Web::with_endpoints(&invalid).is_err());
    }
}
