//! The site's own static files, embedded in the binary, and its health answer.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

/// The one stylesheet (no inline style: the Content-Security-Policy forbids it).
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/site.css"),
    )
}

/// For probes: the site answers (the services have their own health).
pub async fn healthz() -> &'static str {
    "ok"
}
