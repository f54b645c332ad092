//! The headers every response carries. The Content-Security-Policy allows no inline
//! script or style and nothing from another origin but the map's tiles (images only):
//! a string that escaped escaping still could not run. Pages may not be framed
//! (clickjacking), and the referrer never leaves the site.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::response::Response;

/// The policy of every page, images allowed from `tiles_origin` too (`https://tile.
/// openstreetmap.org`; empty: none).
pub fn content_security_policy(tiles_origin: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: {tiles_origin}; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    .replace("data: ;", "data:;")
}

/// Where the tiles of `url_template` come from, as a CSP source: its scheme, host and
/// port, a `{s}` subdomain placeholder becoming `*`. Empty when it names no host.
pub fn tiles_origin(url_template: &str) -> String {
    let Some((scheme, rest)) = url_template.split_once("://") else {
        return String::new();
    };
    let host = rest.split('/').next().unwrap_or_default();
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*');
    let host = host.replace("{s}", "*");
    if host.is_empty() || !host.chars().all(valid) || !matches!(scheme, "http" | "https") {
        return String::new();
    }
    format!("{scheme}://{host}")
}

/// Adds the security headers to `response`, with the site's policy.
pub async fn headers(State(policy): State<HeaderValue>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, policy);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiles_origin_is_their_scheme_and_host() {
        for (template, origin) in [
            (
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "https://tile.openstreetmap.org",
            ),
            (
                "https://{s}.tiles.example/{z}/{x}/{y}.png",
                "https://*.tiles.example",
            ),
            (
                "http://127.0.0.1:8081/tuiles/{z}/{x}/{y}.png",
                "http://127.0.0.1:8081",
            ),
            ("https://evil.example; script-src *", ""),
            ("javascript://x/", ""),
            ("/tuiles/{z}/{x}/{y}.png", ""),
        ] {
            assert_eq!(tiles_origin(template), origin, "{template}");
        }
        assert!(content_security_policy("").contains("img-src 'self' data:;"));
        assert!(
            content_security_policy("https://tile.openstreetmap.org")
                .contains("img-src 'self' data: https://tile.openstreetmap.org;")
        );
    }
}
