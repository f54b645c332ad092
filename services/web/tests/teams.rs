//! Forming a Villes Pairs team on a workshop's page, over real HTTP against the real
//! members and projects services: the lead sees the other members with their people's
//! roles, previews what a choice leaves uncovered without saving it, then saves the team,
//! which the page then shows complete.

mod common;

use std::time::Duration;

use common::{full_platform as platform, joined_member, site_with};
use fabrique_api::members::{ContactRole, MemberKind};
use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_testkit::http::{Page, get_with_cookie, post_form};
use fabrique_testkit::{Backend, TestPlatform, authed, eventually};
use fabrique_web::auth::link::{self, LinkFor};
use fabrique_web::auth::{ApiSigner, SignIn};

const KEY: [u8; 32] = [5; 32];

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The team form's part of a page, its tags out.
fn form_text(page: &Page) -> String {
    let body = page.words();
    let form = body
        .split("id=\"equipe-formee\"")
        .nth(1)
        .unwrap_or_default();
    let mut text = String::new();
    let mut in_tag = false;
    for c in form.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn a_lead_forms_its_team_seeing_the_missing_roles(backend: Backend) {
    let platform = platform(backend).await;
    let api = ApiSigner::hs256(fabrique_testkit::secret().to_string(), None, None);
    let sign_in = SignIn::new("http://127.0.0.1", KEY.to_vec(), api);
    let web = fabrique_web::Web::new(&format!("http://{}", platform.addr))
        .expect("a valid API URL")
        .with_sign_in(sign_in.clone());
    let site = site_with(web).await;
    let admin = TestPlatform::admin_token();
    let (thiers, _) = joined_member(
        &platform,
        &admin,
        "Commune de Thiers",
        MemberKind::Commune,
        &[
            ("Maire", ContactRole::ElectedOfficial, "maire@thiers.test"),
            (
                "Technicienne",
                ContactRole::TransitionTechnician,
                "transition@thiers.test",
            ),
        ],
    )
    .await;
    let (roads, _) = joined_member(
        &platform,
        &admin,
        "Communauté de communes Thiers Dore et Montagne",
        MemberKind::Association,
        &[("Voirie", ContactRole::RoadsTechnician, "voirie@tdm.test")],
    )
    .await;
    let (company, _) = joined_member(
        &platform,
        &admin,
        "Entreprise de travaux publics",
        MemberKind::Association,
        &[
            (
                "Acheteuse",
                ContactRole::ProcurementOfficer,
                "achats@tp.test",
            ),
            (
                "Gérant",
                ContactRole::CompanyRepresentative,
                "gerant@tp.test",
            ),
        ],
    )
    .await;
    let mut projects = ProjectsServiceClient::new(platform.channel().await);
    let request = pp::CreateWorkshopRequest {
        workshop: Some(pp::Workshop {
            theme: "Quelle route pour demain ?".into(),
            season: "Saison 3".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let workshop = projects
        .create_workshop(authed(request, &admin))
        .await
        .expect("workshop")
        .into_inner()
        .name;
    let path = format!("/ateliers/{}", workshop.trim_start_matches("workshops/"));

    let id = thiers.trim_start_matches("members/").to_string();
    let link = link::sign(&sign_in.session_key, LinkFor::Member(id));
    let same_site = [("Sec-Fetch-Site", "same-origin")];
    let cookie = post_form(site, "/connexion/lien", &same_site, &[("jeton", &link)])
        .await
        .cookie()
        .expect("a session");
    let page = get_with_cookie(site, &path, &cookie).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form = form_text(&page);
    assert!(
        form.starts_with("Former l'équipe de Commune de Thiers"),
        "{form}"
    );
    assert!(
        form.contains("Communauté de communes Thiers Dore et Montagne — Technicien ou technicienne de la voirie"),
        "{form}"
    );
    assert!(
        !form.contains("Commune de Thiers —"),
        "the lead is not its own candidate: {form}"
    );

    // A preview with the roads technicians: two roles still missing, nothing saved.
    let csrf = csrf_of(&page.body);
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    let preview = [
        ("csrf", csrf.as_str()),
        ("action", "apercu"),
        ("membre", roads.as_str()),
    ];
    let previewed = post_form(site, &format!("{path}/equipe"), &headers, &preview).await;
    assert_eq!(previewed.status, 200, "{}", previewed.body);
    let form = form_text(&previewed);
    assert!(
        form.contains(
            "Avec ces structures, il manquerait : Responsable de la commande publique \
             Représentant ou représentante d'une entreprise"
        ),
        "{form}"
    );
    let get = pp::GetWorkshopRequest {
        name: workshop.clone(),
    };
    let unsaved = projects
        .get_workshop(get.clone())
        .await
        .expect("workshop")
        .into_inner();
    assert!(unsaved.teams.is_empty(), "a preview saves nothing");

    // Saved with both: the page shows the team complete (once the projects service
    // knows every member's people).
    let save = [
        ("csrf", csrf.as_str()),
        ("action", "enregistrer"),
        ("membre", roads.as_str()),
        ("membre", company.as_str()),
    ];
    let saved: Page = eventually("the team to be saved", Duration::from_secs(30), || {
        let path = path.clone();
        async move {
            let saved = post_form(site, &format!("{path}/equipe"), &headers, &save).await;
            (saved.status == 303).then_some(saved)
        }
    })
    .await;
    assert_eq!(
        saved.header("location"),
        Some(format!("{path}#equipe-formee").as_str())
    );
    let shown = get_with_cookie(site, &path, &cookie).await;
    let words = shown.words();
    assert!(words.contains("Équipe de Commune de Thiers"), "{words}");
    assert!(
        words.contains("Équipe complète : tous les rôles demandés sont tenus."),
        "{words}"
    );
    for member in [&roads, &company] {
        assert!(
            shown.body.contains(&format!("value=\"{member}\" checked")),
            "{member} is checked as saved"
        );
    }
}

#[tokio::test]
async fn a_lead_forms_its_team_seeing_the_missing_roles_on_postgres() {
    a_lead_forms_its_team_seeing_the_missing_roles(Backend::Postgres).await;
}

#[tokio::test]
async fn a_lead_forms_its_team_seeing_the_missing_roles_on_sqlite() {
    a_lead_forms_its_team_seeing_the_missing_roles(Backend::Sqlite).await;
}
