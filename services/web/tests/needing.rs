//! A member's needs over real HTTP, against the real services: posting one (a bad
//! field told next to it, what was typed kept), its page showing the member the
//! resources that match, and closing it.

mod common;

use std::time::Duration;

use common::{full_platform as platform, hidden, joined_member, signed_site};
use fabrique_api::members::{ContactRole, MemberKind};
use fabrique_api::sharing::{self as sp, sharing_service_client::SharingServiceClient};
use fabrique_testkit::http::{Page, get, get_with_cookie, post_form};
use fabrique_testkit::{Backend, TestPlatform, authed, eventually};
use fabrique_web::auth::link::{self, LinkFor};

const KEY: [u8; 32] = [11; 32];
const WAIT: Duration = Duration::from_secs(30);

async fn a_member_posts_follows_and_closes_a_need(backend: Backend) {
    let platform = platform(backend).await;
    let (site, sign_in) = signed_site(&platform, &KEY).await;
    let admin = TestPlatform::admin_token();
    let (_, lender_token) = joined_member(
        &platform,
        &admin,
        "Ressourcerie de Thiers",
        MemberKind::Association,
        &[("Paul", ContactRole::Other, "paul@ressourcerie.test")],
    )
    .await;
    let (seeker, _) = joined_member(
        &platform,
        &admin,
        "Commune de Courpière",
        MemberKind::Association,
        &[("Léa", ContactRole::RoadsTechnician, "voirie@courpiere.test")],
    )
    .await;
    let sharing = SharingServiceClient::new(platform.channel().await);
    eventually("the sharing service to know the lender", WAIT, || {
        let mut sharing = sharing.clone();
        let request = sp::CreateResourceRequest {
            resource: Some(sp::Resource {
                kind: sp::ResourceKind::Vehicle as i32,
                title: "Remorque plateau".into(),
                description: "Une remorque pour les chantiers".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let token = lender_token.clone();
        async move { sharing.create_resource(authed(request, &token)).await.ok() }
    })
    .await;

    let id = seeker.trim_start_matches("members/").to_string();
    let link = link::sign(&sign_in.session_key, LinkFor::Member(id));
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let cookie = post_form(site, "/connexion/lien", &same_site, &[("jeton", &link)])
        .await
        .cookie()
        .expect("a session");
    let form = get_with_cookie(site, "/espace/besoins/nouveau", &cookie).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let (csrf, request_id) = (hidden(&form.body, "csrf"), hidden(&form.body, "demande"));
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let fields = |radius: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("demande", request_id.clone()),
            (
                "description",
                "Une remorque pour le chantier de la rue Pasteur".to_string(),
            ),
            ("type", String::new()),
            ("lieu", String::new()),
            ("rayon", radius.to_string()),
            ("quantite", String::new()),
            ("unite", "tonne".to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| async move {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post_form(site, "/espace/besoins/nouveau", &headers, &fields).await
    };

    let refused = post(fields("-3")).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .words()
            .contains("Indiquez une distance positive en kilomètres.")
    );
    assert!(
        refused.body.contains("rue Pasteur"),
        "what was typed is kept"
    );

    let posted: Page = eventually("the sharing service to know the seeker", WAIT, || {
        let fields = fields("");
        async move {
            let posted = post(fields).await;
            (posted.status == 303).then_some(posted)
        }
    })
    .await;
    let path = posted.header("location").expect("to the need").to_string();
    assert!(path.starts_with("/besoins/"), "{path}");

    let mine = get_with_cookie(site, &path, &cookie).await;
    let words = mine.words();
    assert!(words.contains("Ressources qui y répondent"), "{words}");
    assert!(words.contains("Remorque plateau"), "{words}");
    let public = get(site, &path).await;
    assert!(
        !public.words().contains("Votre besoin"),
        "only its member sees that"
    );

    let close = [("csrf", csrf.as_str())];
    let closed = post_form(site, &format!("{path}/clore"), &headers, &close).await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    assert_eq!(closed.header("location"), Some("/besoins?fait=clos"));
    let list = get(site, "/besoins?fait=clos").await;
    assert!(list.words().contains("Votre besoin est clos"));
    assert!(
        !list.words().contains("rue Pasteur"),
        "a closed need leaves the list"
    );
    assert_eq!(get(site, &path).await.status, 404);
}

#[tokio::test]
async fn a_member_posts_follows_and_closes_a_need_on_postgres() {
    a_member_posts_follows_and_closes_a_need(Backend::Postgres).await;
}

#[tokio::test]
async fn a_member_posts_follows_and_closes_a_need_on_sqlite() {
    a_member_posts_follows_and_closes_a_need(Backend::Sqlite).await;
}
