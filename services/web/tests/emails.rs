//! "Courriels reçus" over real HTTP, against the real members and notify services: a
//! person acting for a member sees each contact address of the member and chooses, per
//! address, the kinds of e-mail it receives; the notify service then holds exactly that.
//! An address that is not the member's is not theirs to set; the form needs its secret.

mod common;

use common::{full_platform as platform, joined_member, site_with};
use fabrique_api::members::{ContactRole, MemberKind};
use fabrique_api::notify::{
    self as np, NotificationKind, notify_service_client::NotifyServiceClient,
};
use fabrique_testkit::http::{Page, get_with_cookie, post_form};
use fabrique_testkit::{Backend, TestPlatform, authed, eventually};
use fabrique_web::auth::link::{self, LinkFor};
use fabrique_web::auth::{ApiSigner, SignIn};

const KEY: [u8; 32] = [7; 32];

async fn site(platform: &TestPlatform) -> (std::net::SocketAddr, SignIn) {
    let api = ApiSigner::hs256(fabrique_testkit::secret().to_string(), None, None);
    let sign_in = SignIn::new("http://127.0.0.1", KEY.to_vec(), api);
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr))
        .expect("a valid API URL")
        .with_sign_in(sign_in.clone());
    (site_with(web).await, sign_in)
}

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The value of the hidden `etag` of `address`'s form.
fn etag_of(page: &str, address: &str) -> String {
    let form = page
        .split("<form")
        .find(|form| form.contains(&format!("value=\"{address}\"")))
        .expect("the address's form");
    let start = form.find("name=\"etag\" value=\"").expect("an etag field") + 19;
    form[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn checked(page: &str, address: &str) -> Vec<String> {
    let form = page
        .split("<form")
        .find(|form| form.contains(&format!("value=\"{address}\"")))
        .expect("the address's form");
    form.split("<input type=\"checkbox\"")
        .skip(1)
        .filter(|input| {
            input
                .split('>')
                .next()
                .unwrap_or_default()
                .contains(" checked")
        })
        .filter_map(|input| input.split("value=\"").nth(1))
        .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
        .collect()
}

async fn people_choose_the_e_mails_each_address_receives(backend: Backend) {
    let platform = platform(backend).await;
    let (site, sign_in) = site(&platform).await;
    let admin = TestPlatform::admin_token();
    let (member, token) = joined_member(
        &platform,
        &admin,
        "FabLab de Thiers",
        MemberKind::Association,
        &[
            (
                "Marie Martin",
                ContactRole::TransitionTechnician,
                "Marie.Martin@fablab.test",
            ),
            ("Jean Roux", ContactRole::Other, "jean.roux@fablab.test"),
        ],
    )
    .await;
    let id = member.strip_prefix("members/").expect("members/{id}");
    let link = link::sign(&sign_in.session_key, LinkFor::Member(id.to_string()));
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let signed_in = post_form(site, "/connexion/lien", &same_site, &[("jeton", &link)]).await;
    let cookie = signed_in.cookie().expect("a session");

    // Both addresses, in lower case, once the notify service knows them; every kind a
    // member may receive is on, the admins' one is not offered.
    let page: Page = eventually(
        "notify to know the contacts",
        std::time::Duration::from_secs(30),
        || {
            let cookie = cookie.clone();
            async move {
                let page = get_with_cookie(site, "/espace/courriels", &cookie).await;
                (page.status == 200 && !page.words().contains("pas encore connue")).then_some(page)
            }
        },
    )
    .await;
    let words = page.words();
    assert!(
        words.contains("Adresse marie.martin@fablab.test"),
        "{words}"
    );
    assert!(words.contains("Adresse jean.roux@fablab.test"), "{words}");
    assert!(!words.contains("adhésions à valider"), "{words}");
    let all = [
        "as_owner",
        "as_borrower",
        "applications",
        "places",
        "workshops",
    ];
    assert_eq!(checked(&page.body, "marie.martin@fablab.test"), all);

    // Marie keeps only the answers to the member's bookings.
    let csrf = csrf_of(&page.body);
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let fields = [
        ("csrf", csrf.as_str()),
        ("adresse", "marie.martin@fablab.test"),
        ("etag", ""),
        ("recoit", "as_borrower"),
    ];
    let saved = post_form(site, "/espace/courriels", &headers, &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = get_with_cookie(site, "/espace/courriels?fait=enregistre", &cookie).await;
    assert!(after.words().contains("Vos choix sont enregistrés."));
    assert_eq!(
        checked(&after.body, "marie.martin@fablab.test"),
        ["as_borrower"]
    );
    assert_eq!(checked(&after.body, "jean.roux@fablab.test"), all);
    let mut notify = NotifyServiceClient::new(platform.channel().await);
    let held = notify
        .get_notification_settings(authed(
            np::GetNotificationSettingsRequest {
                name: "notificationSettings/marie.martin@fablab.test".into(),
            },
            &token,
        ))
        .await
        .expect("settings")
        .into_inner();
    let off = [
        NotificationKind::AsOwner,
        NotificationKind::Applications,
        NotificationKind::Places,
        NotificationKind::Workshops,
    ];
    assert_eq!(held.disabled_kinds, off.map(|k| k as i32));

    // The form sent again with the etag it was shown: changed meanwhile, said so.
    let stale = [
        ("csrf", csrf.as_str()),
        ("adresse", "marie.martin@fablab.test"),
        ("etag", ""),
        ("recoit", "places"),
    ];
    let stale_etag = etag_of(&after.body, "marie.martin@fablab.test");
    assert!(!stale_etag.is_empty());
    let mut with_old = stale.to_vec();
    with_old[2] = ("etag", "\"v1\"");
    let changed = post_form(site, "/espace/courriels", &headers, &with_old).await;
    let resent = post_form(site, "/espace/courriels", &headers, &with_old).await;
    assert_eq!(
        changed.status, 303,
        "the etag of the first save: {}",
        changed.body
    );
    assert_eq!(resent.status, 409, "{}", resent.body);
    assert!(
        resent.words().contains("modifiés entre-temps"),
        "{}",
        resent.words()
    );

    // Not the member's address, or no secret: refused, nothing changed.
    let other = [
        ("csrf", csrf.as_str()),
        ("adresse", "quelqu.un@ailleurs.test"),
        ("recoit", "places"),
    ];
    assert_eq!(
        post_form(site, "/espace/courriels", &headers, &other)
            .await
            .status,
        404
    );
    let no_secret = [("adresse", "jean.roux@fablab.test")];
    assert_eq!(
        post_form(site, "/espace/courriels", &headers, &no_secret)
            .await
            .status,
        403
    );
    let jean = get_with_cookie(site, "/espace/courriels", &cookie).await;
    assert_eq!(checked(&jean.body, "jean.roux@fablab.test"), all);
}

#[tokio::test]
async fn people_choose_the_e_mails_each_address_receives_on_postgres() {
    people_choose_the_e_mails_each_address_receives(Backend::Postgres).await;
}

#[tokio::test]
async fn people_choose_the_e_mails_each_address_receives_on_sqlite() {
    people_choose_the_e_mails_each_address_receives(Backend::Sqlite).await;
}
