//! Signing in to the site through a real OpenID provider (node-oidc-provider, started by
//! the test), in Chromium, over a seeded `fabrique serve`: an officer whose e-mail is a
//! contact of a member lands in the member's space acting for it; a person the
//! provider names an admin (by a claim) is one; a person whose e-mail the provider did
//! not verify acts for nobody. The sign-in and space pages pass axe-core.

use fabrique_api::members as mp;
use fabrique_testkit::browser::Browser;
use fabrique_testkit::oidc::{Account, OidcProvider};
use fabrique_testkit::{authed, free_port};

use crate::seeded_site::{SeededSite, arrived, link_or_button, shown_text};

pub const CLIENT_ID: &str = "fabrique-site";

pub fn account(login: &str, email: &str, verified: bool, roles: &[&str]) -> Account {
    Account {
        login: login.into(),
        email: email.into(),
        email_verified: verified,
        name: format!("{login} (test)"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// Signs in on `site` in a fresh browser as `login` at the provider; returns the
/// browser on the page the site lands on.
pub async fn sign_in_as(site: &SeededSite, login: &str) -> Browser {
    let browser = Browser::start().await;
    browser.goto(&site.url("/connexion")).await;
    let violations = browser.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "/connexion: {violations:?}");
    let button = browser.find("main a.button").await;
    assert_eq!(
        browser.text(&button).await,
        "Se connecter avec le compte de l'alliance"
    );
    browser.click(&button).await;
    // The provider's own login and consent pages.
    browser
        .type_into(&browser.find("input[name='login']").await, login)
        .await;
    browser
        .type_into(&browser.find("input[name='password']").await, "peu importe")
        .await;
    browser
        .click(
            &browser
                .find("input[name='prompt'][value='login'] ~ button")
                .await,
        )
        .await;
    browser
        .click(
            &browser
                .find("input[name='prompt'][value='consent'] ~ button")
                .await,
        )
        .await;
    browser.find("main h1").await;
    browser
}

#[tokio::test]
async fn an_officer_signs_in_through_the_openid_provider_and_sees_their_member() {
    let address = format!("127.0.0.1:{}", free_port());
    // Made at run time: a secret written in the repository would be a published one.
    let client_secret = uuid::Uuid::new_v4().simple().to_string();
    let provider = OidcProvider::start(
        CLIENT_ID,
        &client_secret,
        &format!("http://{address}/connexion/retour"),
        &[
            account("marie", "Marie.Martin@thiers.example.fr", true, &[]),
            account("chef", "chef@alliance.example", true, &["fabrique-admin"]),
            account("inconnu", "marie.martin@thiers.example.fr", false, &[]),
        ],
    )
    .await;
    let site = SeededSite::launch(
        &[
            ("FABRIQUE_WEB_OIDC_ISSUER", provider.issuer.as_str()),
            ("FABRIQUE_WEB_OIDC_CLIENT_ID", CLIENT_ID),
            ("FABRIQUE_WEB_OIDC_CLIENT_SECRET", client_secret.as_str()),
            ("FABRIQUE_WEB_OIDC_NAME", "le compte de l'alliance"),
            ("FABRIQUE_WEB_ADMIN_CLAIM", "roles=fabrique-admin"),
        ],
        Some(address),
    )
    .await;
    // With a provider, `serve` prints no link: people sign in with it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!site.terminal().contains("/connexion/lien/"));

    // Marie is a contact of the seeded Thiers Dore et Montagne.
    let admin = site.admin_token().await;
    let channel = tonic::transport::Channel::from_shared(site.grpc.clone())
        .expect("a URI")
        .connect()
        .await
        .expect("the API");
    let mut members = mp::members_service_client::MembersServiceClient::new(channel);
    let tdm = members
        .list_members(authed(
            mp::ListMembersRequest {
                query: "Thiers Dore".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("list")
        .into_inner()
        .members
        .into_iter()
        .next()
        .expect("the seed's Thiers Dore et Montagne");
    let mut with_marie = tdm.clone();
    with_marie.contacts.push(mp::Contact {
        full_name: "Marie Martin".into(),
        role: mp::ContactRole::TransitionTechnician as i32,
        email: "marie.martin@thiers.example.fr".into(),
        title: "Chargée de mission transition".into(),
    });
    members
        .update_member(authed(
            mp::UpdateMemberRequest {
                member: Some(with_marie),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["contacts".into()],
                }),
            },
            &admin,
        ))
        .await
        .expect("a contact for Marie");

    let marie = sign_in_as(&site, "marie").await;
    assert!(
        marie.url().await.ends_with("/espace"),
        "{}",
        marie.url().await
    );
    let space = shown_text(&marie, "main").await;
    assert!(space.contains("Connecté : marie (test)"), "{space}");
    assert!(
        space.contains(&format!("Vous agissez au nom de {}", tdm.display_name)),
        "{space}"
    );
    assert!(space.contains("Chargée de mission transition"), "{space}");
    assert!(!space.contains("administrateur de l'alliance"), "{space}");
    let violations = marie.serious_accessibility_violations().await;
    assert!(violations.is_empty(), "/espace: {violations:?}");
    marie
        .click(&link_or_button(&marie, "Se déconnecter").await)
        .await;
    arrived(&marie, "/").await;
    marie.goto(&site.url("/espace")).await;
    assert!(marie.url().await.ends_with("/connexion"), "signed out");
    marie.quit().await;

    let chief = sign_in_as(&site, "chef").await;
    let space = shown_text(&chief, "main").await;
    assert!(space.contains("administrateur de l'alliance"), "{space}");
    assert!(
        space.contains("Vous n'agissez au nom d'aucun membre"),
        "{space}"
    );
    chief.quit().await;

    // The same address, not verified by the provider: nobody to act for.
    let stranger = sign_in_as(&site, "inconnu").await;
    let space = shown_text(&stranger, "main").await;
    assert!(
        space.contains("Vous n'agissez au nom d'aucun membre"),
        "{space}"
    );
    stranger.quit().await;
}
