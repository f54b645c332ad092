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
    /// The gRPC endpoint of the services the site calls (e.g. http://registry:50051).
    /// Default: this process's own gRPC address, when it runs the services too.
    #[arg(long, env = "FABRIQUE_WEB_API_URL")]
    pub web_api_url: Option<String>,
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
        Ok(Self {
            api: api::Api::lazy(api_url)?,
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
