//! "Notre fiche" over real HTTP, against the real members service: a person acting for
//! a member changes its territory and contact people; a bad e-mail is refused naming
//! the row, with what was typed kept; a stale page is refused, not overwritten.

mod common;

use common::{full_platform as platform, hidden, joined_member, signed_site};
use fabrique_api::members::{
    self as mp, ContactRole, MemberKind, members_service_client::MembersServiceClient,
};
use fabrique_testkit::http::{get_with_cookie, post_form};
use fabrique_testkit::{Backend, TestPlatform, authed};
use fabrique_web::auth::link::{self, LinkFor};

const KEY: [u8; 32] = [3; 32];

async fn a_member_keeps_its_record_up_to_date(backend: Backend) {
    let platform = platform(backend).await;
    let (site, sign_in) = signed_site(&platform, &KEY).await;
    let admin = TestPlatform::admin_token();
    let (member, token) = joined_member(
        &platform,
        &admin,
        "Ressourcerie du Livradois",
        MemberKind::Association,
        &[(
            "Anne Petit",
            ContactRole::TransitionTechnician,
            "anne@ressourcerie.test",
        )],
    )
    .await;
    let id = member.trim_start_matches("members/").to_string();
    let link = link::sign(&sign_in.session_key, LinkFor::Member(id));
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let cookie = post_form(site, "/connexion/lien", &same_site, &[("jeton", &link)])
        .await
        .cookie()
        .expect("a session");
    let page = get_with_cookie(site, "/espace/fiche", &cookie).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("value=\"anne@ressourcerie.test\""));
    assert_eq!(
        page.body.matches("name=\"contact-nom\"").count(),
        3,
        "one person, two empty rows"
    );
    let (csrf, etag) = (hidden(&page.body, "csrf"), hidden(&page.body, "etag"));
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let form = |email: &'static str, etag: String| {
        vec![
            ("csrf", csrf.clone()),
            ("etag", etag),
            ("nom", "Ressourcerie du Livradois".to_string()),
            ("territoire", "Livradois-Forez".to_string()),
            ("site", String::new()),
            ("contact-nom", "Anne Petit".to_string()),
            ("contact-role", "transition_technician".to_string()),
            ("contact-courriel", "anne@ressourcerie.test".to_string()),
            ("contact-fonction", "Directrice".to_string()),
            ("contact-nom", "Jean Roux".to_string()),
            ("contact-role", "elected_official".to_string()),
            ("contact-courriel", email.to_string()),
            ("contact-fonction", String::new()),
            ("contact-nom", String::new()),
            ("contact-role", "other".to_string()),
            ("contact-courriel", String::new()),
            ("contact-fonction", String::new()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| async move {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post_form(site, "/espace/fiche", &headers, &fields).await
    };

    // A bad address: refused naming the row, what was typed kept, nothing saved.
    let refused = send(form("pas-une-adresse", etag.clone())).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let words = refused.words();
    assert!(
        words.contains("Vérifiez ces contacts : contact 2 (Jean Roux)"),
        "{words}"
    );
    assert!(refused.body.contains("value=\"Livradois-Forez\""));
    assert!(refused.body.contains("value=\"pas-une-adresse\""));

    // Saved, then read back from the API.
    let saved = send(form("jean.roux@ressourcerie.test", etag.clone())).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let mut members = MembersServiceClient::new(platform.channel().await);
    let stored = members
        .get_member(authed(
            mp::GetMemberRequest {
                name: member.clone(),
            },
            &token,
        ))
        .await
        .expect("member")
        .into_inner();
    assert_eq!(stored.territory, "Livradois-Forez");
    let people: Vec<(&str, &str, i32)> = stored
        .contacts
        .iter()
        .map(|c| (c.full_name.as_str(), c.email.as_str(), c.role))
        .collect();
    assert_eq!(
        people,
        [
            (
                "Anne Petit",
                "anne@ressourcerie.test",
                ContactRole::TransitionTechnician as i32
            ),
            (
                "Jean Roux",
                "jean.roux@ressourcerie.test",
                ContactRole::ElectedOfficial as i32
            ),
        ]
    );
    let after = get_with_cookie(site, "/espace/fiche?fait=enregistree", &cookie).await;
    assert!(after.words().contains("La fiche est enregistrée."));

    // The page read before that save is stale: refused, not overwritten.
    let stale = send(form("jean@ailleurs.test", etag)).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(
        stale.words().contains("Cette fiche a changé"),
        "{}",
        stale.words()
    );
}

#[tokio::test]
async fn a_member_keeps_its_record_up_to_date_on_postgres() {
    a_member_keeps_its_record_up_to_date(Backend::Postgres).await;
}

#[tokio::test]
async fn a_member_keeps_its_record_up_to_date_on_sqlite() {
    a_member_keeps_its_record_up_to_date(Backend::Sqlite).await;
}
