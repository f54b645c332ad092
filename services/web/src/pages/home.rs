//! The home page: what the alliance is and where to go.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::Web;
use crate::texts::Texts;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    t: &'static Texts,
    title: &'static str,
}

/// `GET /`.
pub async fn show(State(web): State<Arc<Web>>) -> Response {
    super::render(&Home {
        t: web.texts,
        title: web.texts.home_title,
    })
}
