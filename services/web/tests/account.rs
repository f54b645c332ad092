//! Signing in to the site over real HTTP, against a real members service: one-time
//! links that work once (opening one uses nothing; pressing its button does), the
//! member's space showing what the API shows that member (its contacts: the site's
//! token acts for it), forms that need their CSRF secret and this site, sign-in
//! attempts limited per address, and a site without keys that stays read-only.

mod common;

use common::{full_platform as platform, site_with};
use fabrique_api::members as mp;
use fabrique_testkit::http::{get, get_with_cookie, post_form};
use fabrique_testkit::{Backend, TestPlatform, authed};
use fabrique_web::auth::link::{self, LinkFor};
use fabrique_web::auth::{ApiSigner, SignIn};

const KEY: [u8; 32] = [42; 32];

/// The site with sign-in, signing its API tokens with the platform's secret.
async fn site(platform: &TestPlatform) -> (std::net::SocketAddr, SignIn) {
    let api = ApiSigner::hs256(fabrique_testkit::secret().to_string(), None, None);
    let sign_in = SignIn::new("http://127.0.0.1", KEY.to_vec(), api);
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr))
        .expect("a valid API URL")
        .with_sign_in(sign_in.clone());
    (site_with(web).await, sign_in)
}

/// An active member with a contact person, as an admin records it.
async fn member_with_contact(platform: &TestPlatform) -> mp::Member {
    let admin = TestPlatform::admin_token();
    let mut members =
        mp::members_service_client::MembersServiceClient::new(platform.channel().await);
    let created = members
        .create_member(authed(
            mp::CreateMemberRequest {
                member: Some(mp::Member {
                    display_name: "Commune de Thiers".into(),
                    kind: mp::MemberKind::Association as i32,
                    contacts: vec![mp::Contact {
                        full_name: "Marie Martin".into(),
                        role: mp::ContactRole::TransitionTechnician as i32,
                        email: "marie.martin@thiers.example.fr".into(),
                        title: String::new(),
                    }],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("create")
        .into_inner();
    members
        .approve_member(authed(
            mp::ApproveMemberRequest {
                name: created.name.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("approve")
        .into_inner()
}

/// The session's CSRF secret, as the space's forms carry it.
fn csrf_of(page: &str) -> String {
    let start = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with its secret")
        + 19;
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn a_one_time_link_works_once_then_never(backend: Backend) {
    let platform = platform(backend).await;
    let (site, sign_in) = site(&platform).await;
    let member = member_with_contact(&platform).await;
    let id = member.name.strip_prefix("members/").expect("members/{id}");
    let token = link::sign(&sign_in.session_key, LinkFor::Member(id.to_string()));

    // Opening the link (a mail scanner would) uses nothing: twice the same button.
    for _ in 0..2 {
        let page = get(site, &format!("/connexion/lien/{token}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.words()
                .contains("Se connecter au nom de Commune de Thiers")
        );
        assert_eq!(page.header("cache-control"), Some("no-store"));
    }
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let signed_in = post_form(site, "/connexion/lien", &same_site, &[("jeton", &token)]).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), Some("/espace"));
    let set_cookie = signed_in.header("set-cookie").expect("a session");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    let cookie = signed_in.cookie().expect("a cookie");

    // The space shows the member as the API shows it to the member itself: its
    // contact's e-mail, which the public directory never gives.
    let space = get_with_cookie(site, "/espace", &cookie).await;
    assert_eq!(space.status, 200, "{}", space.body);
    assert!(
        space
            .words()
            .contains("Vous agissez au nom de Commune de Thiers")
    );
    assert!(
        space.body.contains("marie.martin@thiers.example.fr"),
        "{}",
        space.body
    );
    assert_eq!(space.header("cache-control"), Some("no-store"));
    let public = get(site, &format!("/allies/{id}")).await;
    assert!(
        !public.body.contains("marie.martin@"),
        "the public page hides it"
    );

    // Then never again.
    let again = post_form(site, "/connexion/lien", &same_site, &[("jeton", &token)]).await;
    assert_eq!(again.status, 410);
    assert!(
        again.words().contains("Ce lien a déjà servi"),
        "{}",
        again.body
    );
    assert!(again.header("set-cookie").is_none());
    let page = get(site, &format!("/connexion/lien/{token}")).await;
    assert_eq!(page.status, 410);

    // Another site's key, or a tampered link: not a link.
    let forged = link::sign(&[1; 32], LinkFor::Admin);
    let refused = post_form(site, "/connexion/lien", &same_site, &[("jeton", &forged)]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.words().contains("Ce lien n'est pas valable"));

    // An admin's link: the space says so, and acts for no member.
    let admin = link::sign(&sign_in.session_key, LinkFor::Admin);
    let admin = post_form(site, "/connexion/lien", &same_site, &[("jeton", &admin)]).await;
    let admin_space = get_with_cookie(site, "/espace", &admin.cookie().expect("a cookie")).await;
    assert!(admin_space.words().contains("administrateur de l'alliance"));
    assert!(
        admin_space
            .words()
            .contains("Vous n'agissez au nom d'aucun membre")
    );

    // Only an admin sees who changed the member: the audit under its page.
    let admin_cookie = admin.cookie().expect("a cookie");
    let audited = get_with_cookie(site, &format!("/allies/{id}"), &admin_cookie).await;
    let words = audited.words();
    assert!(words.contains("Historique des modifications"), "{words}");
    assert!(words.contains("Adhésion approuvée"), "{words}");
    assert!(words.contains("Demande d'adhésion"), "{words}");
    assert!(words.contains("client de l'API « admin »"), "{words}");
    assert_eq!(audited.header("cache-control"), Some("private, no-store"));
    for (who, page) in [
        ("the public", get(site, &format!("/allies/{id}")).await),
        (
            "the member",
            get_with_cookie(site, &format!("/allies/{id}"), &cookie).await,
        ),
    ] {
        assert!(
            !page.words().contains("Historique des modifications"),
            "{who}"
        );
        assert_eq!(page.header("cache-control"), None, "{who}");
    }
}

#[tokio::test]
async fn a_one_time_link_works_once_then_never_on_postgres() {
    a_one_time_link_works_once_then_never(Backend::Postgres).await;
}

#[tokio::test]
async fn a_one_time_link_works_once_then_never_on_sqlite() {
    a_one_time_link_works_once_then_never(Backend::Sqlite).await;
}

/// Signing out is a form: without the session's secret, or from another site, it is
/// refused in French; with both, the session ends.
#[tokio::test]
async fn forms_need_their_secret_and_this_site() {
    let platform = platform(Backend::Sqlite).await;
    let (site, sign_in) = site(&platform).await;
    let token = link::sign(&sign_in.session_key, LinkFor::Admin);
    let signed_in = post_form(site, "/connexion/lien", &[], &[("jeton", &token)]).await;
    let cookie = signed_in.cookie().expect("a cookie");
    let csrf = csrf_of(&get_with_cookie(site, "/espace", &cookie).await.body);

    for (headers, secret, why) in [
        (vec![("Cookie", cookie.as_str())], "", "no secret"),
        (vec![("Cookie", cookie.as_str())], "autre", "another secret"),
        (
            vec![
                ("Cookie", cookie.as_str()),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            csrf.as_str(),
            "another site",
        ),
        (
            vec![
                ("Cookie", cookie.as_str()),
                ("Origin", "https://ailleurs.example"),
            ],
            csrf.as_str(),
            "another origin",
        ),
    ] {
        let refused = post_form(site, "/deconnexion", &headers, &[("csrf", secret)]).await;
        assert_eq!(refused.status, 403, "{why}");
        assert!(refused.words().contains("Ce formulaire a expiré"), "{why}");
    }
    let still = get_with_cookie(site, "/espace", &cookie).await;
    assert_eq!(still.status, 200, "still signed in");

    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let out = post_form(site, "/deconnexion", &headers, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    let gone = get(site, "/espace").await;
    assert_eq!(gone.status, 303);
    assert_eq!(gone.header("location"), Some("/connexion"));
}

/// Guessing links is slow: ten attempts a minute per address, then a French 429.
#[tokio::test]
async fn sign_in_attempts_are_limited_per_address() {
    let platform = platform(Backend::Sqlite).await;
    let (site, sign_in) = site(&platform).await;
    for attempt in 0..10 {
        let page = post_form(site, "/connexion/lien", &[], &[("jeton", "devine")]).await;
        assert_eq!(page.status, 400, "attempt {attempt}");
    }
    let good = link::sign(&sign_in.session_key, LinkFor::Admin);
    let limited = post_form(site, "/connexion/lien", &[], &[("jeton", &good)]).await;
    assert_eq!(limited.status, 429);
    assert!(limited.words().contains("Trop de tentatives"));
    assert!(limited.header("set-cookie").is_none());
}

/// Without keys the site signs nobody in: it says so.
#[tokio::test]
async fn a_site_without_keys_is_read_only() {
    let platform = platform(Backend::Sqlite).await;
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr)).expect("valid");
    let site = site_with(web).await;
    let space = get(site, "/espace").await;
    assert_eq!(space.status, 303);
    let page = get(site, "/connexion").await;
    assert!(page.words().contains("La connexion n'est pas configurée"));
    let token = link::sign(&KEY, LinkFor::Admin);
    assert_eq!(
        get(site, &format!("/connexion/lien/{token}")).await.status,
        404
    );
}
