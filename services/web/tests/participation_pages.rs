//! Citizen participation over real HTTP, against the real services: citizens (sessions
//! of people the OpenID provider vouched for, the sign-in itself being tested in a
//! browser by the binary's `sign_in` tests) choose a pseudonym when a first action asks
//! for one, propose, support, comment and report, register for a meeting and wait in
//! line, vote in a budget and erase their profile; the organiser answers, moderates,
//! verifies a participant and sees their tools; an officer signed in for a member may
//! not take part; the calendar links back to the site and the open data names nobody.

mod common;

use std::time::Duration;

use common::{full_platform as platform, hidden, joined_member, signed_site};
use fabrique_api::members::{ContactRole, MemberKind};
use fabrique_api::participation::{
    self as pa, participation_service_client::ParticipationServiceClient,
};
use fabrique_testkit::http::{Page, get, get_with_cookie, post_form};
use fabrique_testkit::{Backend, TestPlatform, authed, eventually};
use fabrique_web::auth::link::{self, LinkFor};
use fabrique_web::auth::{Session, SignIn};

const KEY: [u8; 32] = [27; 32];
const WAIT: Duration = Duration::from_secs(30);

/// A person signed in through the provider, as the site's cookie holds them.
struct Person {
    cookie: String,
    csrf: String,
}

impl Person {
    fn citizen(sign_in: &SignIn, sub: &str, name: &str) -> Self {
        let session = Session::new(format!("oidc:{sub}"), name.into(), false, Vec::new());
        let cookie = session.set_cookie(sign_in);
        Person {
            cookie: cookie.split(';').next().unwrap_or_default().to_string(),
            csrf: session.csrf,
        }
    }

    async fn officer(site: std::net::SocketAddr, sign_in: &SignIn, member: &str) -> Self {
        let id = member.trim_start_matches("members/").to_string();
        let link = link::sign(&sign_in.session_key, LinkFor::Member(id));
        let same_site = [("Sec-Fetch-Site", "same-origin")];
        let cookie = post_form(site, "/connexion/lien", &same_site, &[("jeton", &link)])
            .await
            .cookie()
            .expect("a session");
        let space = get_with_cookie(site, "/espace", &cookie).await;
        Person {
            csrf: hidden(&space.body, "csrf"),
            cookie,
        }
    }

    async fn get(&self, site: std::net::SocketAddr, path: &str) -> Page {
        get_with_cookie(site, path, &self.cookie).await
    }

    async fn post(&self, site: std::net::SocketAddr, path: &str, fields: &[(&str, &str)]) -> Page {
        let headers = [
            ("Cookie", self.cookie.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ];
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        post_form(site, path, &headers, &all).await
    }
}

/// A process of `organiser` whose one open step takes proposals, supports, comments and
/// votes; one report hides a comment. Created once the service knows the organiser.
async fn open_process(platform: &TestPlatform, organiser: &str, token: &str) -> pa::Process {
    let now = chrono::Utc::now();
    let at = |days: i64| {
        Some(fabrique_platform::time::timestamp(
            now + chrono::Duration::days(days),
        ))
    };
    let process = pa::Process {
        organiser: organiser.to_string(),
        title: "Quelle route pour demain ?".into(),
        description: "Les routes de demain.\n\nProposez, soutenez, votez.".into(),
        territory: vec!["63430".into()],
        steps: vec![
            pa::Step {
                kind: pa::StepKind::Proposals as i32,
                title: "Proposer et voter".into(),
                start_time: at(-1),
                end_time: at(30),
                proposals_open: true,
                supports_open: true,
                comments_open: true,
                votes_open: true,
                ..Default::default()
            },
            pa::Step {
                kind: pa::StepKind::Results as i32,
                title: "Résultats".into(),
                start_time: at(31),
                end_time: at(60),
                ..Default::default()
            },
        ],
        support_limit: 2,
        support_threshold: 2,
        report_threshold: 1,
        themes: vec!["Mobilités".into()],
        ..Default::default()
    };
    let client = ParticipationServiceClient::new(platform.channel().await);
    let request_id = uuid::Uuid::new_v4().to_string();
    let created = eventually("the service to know the organiser", WAIT, || {
        let mut client = client.clone();
        let request = pa::CreateProcessRequest {
            process: Some(process.clone()),
            request_id: request_id.clone(),
        };
        let token = token.to_string();
        async move { client.create_process(authed(request, &token)).await.ok() }
    })
    .await
    .into_inner();
    let mut client = client.clone();
    client
        .activate_step(authed(
            pa::ActivateStepRequest {
                name: created.name.clone(),
                step: 1,
                etag: String::new(),
            },
            token,
        ))
        .await
        .expect("the first step")
        .into_inner()
}

/// Over 60 lines: one person's path after another through the pages, each step
/// depending on the one before.
async fn citizens_take_part_and_the_organiser_answers(backend: Backend) {
    let platform = platform(backend).await;
    let (site, sign_in) = signed_site(&platform, &KEY).await;
    let admin = TestPlatform::admin_token();
    let (organiser, organiser_token) = joined_member(
        &platform,
        &admin,
        "Département du Puy-de-Dôme",
        MemberKind::Association,
        &[("Anne", ContactRole::Other, "routes@departement.test")],
    )
    .await;
    let process = open_process(&platform, &organiser, &organiser_token).await;
    let base = format!(
        "/participation/{}",
        process.name.trim_start_matches("processes/")
    );

    let list = get(site, "/participation").await;
    assert_eq!(list.status, 200);
    assert!(
        list.words().contains("Quelle route pour demain ?"),
        "{}",
        list.words()
    );
    let public = get(site, &base).await;
    assert!(
        public.words().contains("Se connecter pour participer"),
        "{}",
        public.words()
    );
    assert!(!public.words().contains("Déposer une proposition"));

    // A first proposal asks for a pseudonym, then comes back to the form.
    let camille = Person::citizen(&sign_in, "camille", "Camille Martin");
    let form = camille.get(site, &format!("{base}/proposer")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let request_id = hidden(&form.body, "demande");
    let proposal_fields = |title: &'static str| {
        vec![
            ("demande", request_id.clone()),
            ("titre", title.to_string()),
            (
                "texte",
                "Une bande protégée sur les accotements entre Thiers et Peschadoires.".to_string(),
            ),
            ("theme", "Mobilités".to_string()),
        ]
    };
    let propose = |fields: Vec<(&'static str, String)>| {
        let camille = &camille;
        let path = format!("{base}/proposer");
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            camille.post(site, &path, &fields).await
        }
    };
    let unregistered = propose(proposal_fields("Des bandes cyclables")).await;
    assert_eq!(unregistered.status, 303, "{}", unregistered.body);
    let to_profile = unregistered.header("location").expect("to the profile");
    assert!(
        to_profile.starts_with("/participation/profil?retour=%2Fparticipation%2F"),
        "{to_profile}"
    );
    let profile = camille.get(site, to_profile).await;
    assert!(profile.words().contains("Choisissez le pseudonyme"));
    let back = hidden(&profile.body, "retour");
    assert_eq!(back, format!("{base}/proposer"));
    let bad = camille
        .post(
            site,
            "/participation/profil",
            &[
                ("action", "inscrire"),
                ("pseudonyme", "camille@example.org"),
                ("retour", &back),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.words().contains("pas une adresse électronique"),
        "{}",
        bad.words()
    );
    let registered = camille
        .post(
            site,
            "/participation/profil",
            &[
                ("action", "inscrire"),
                ("pseudonyme", "Camille63"),
                ("retour", &back),
            ],
        )
        .await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    assert_eq!(registered.header("location"), Some(back.as_str()));

    let short = propose(proposal_fields("Vélo")).await;
    assert_eq!(short.status, 422, "{}", short.body);
    assert!(
        short
            .words()
            .contains("Donnez un titre de 5 à 150 caractères.")
    );
    assert!(
        short.words().contains("Thiers et Peschadoires"),
        "what was typed is kept"
    );
    let proposed = propose(proposal_fields("Des bandes cyclables protégées")).await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    let proposal = proposed.header("location").expect("its page").to_string();
    assert!(
        proposal.starts_with(&format!("{base}/propositions/")),
        "{proposal}"
    );
    let page = get(site, &proposal).await;
    assert!(
        page.words().contains("Proposée par Camille63"),
        "{}",
        page.words()
    );
    assert!(
        page.words()
            .contains("Aucun soutien sur les 2 qui la feront étudier")
    );

    // Dominique supports it and reports Camille's comment; one report hides it.
    let dominique = Person::citizen(&sign_in, "dominique", "Dominique");
    let registered = dominique
        .post(
            site,
            "/participation/profil",
            &[("action", "inscrire"), ("pseudonyme", "Dodo")],
        )
        .await;
    assert_eq!(registered.header("location"), Some("/participation/profil"));
    let supported = dominique
        .post(site, &proposal, &[("action", "soutenir")])
        .await;
    assert_eq!(supported.status, 303, "{}", supported.body);
    assert_eq!(
        supported.header("location"),
        Some(format!("{proposal}#soutiens").as_str())
    );
    let seen = dominique.get(site, &proposal).await;
    assert!(seen.words().contains("Vous soutenez cette proposition."));
    assert!(
        seen.words().contains("1 soutien sur les 2"),
        "{}",
        seen.words()
    );
    assert!(seen.body.contains("value=\"retirer-soutien\""));
    let again = camille
        .post(
            site,
            &proposal,
            &[("action", "commenter"), ("commentaire", "x")],
        )
        .await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(
        again
            .words()
            .contains("Écrivez entre 2 et 2 000 caractères.")
    );
    let commented = camille
        .post(
            site,
            &proposal,
            &[
                ("action", "commenter"),
                ("commentaire", "Et un éclairage solaire ?"),
            ],
        )
        .await;
    assert_eq!(commented.status, 303, "{}", commented.body);
    let seen = dominique.get(site, &proposal).await;
    assert!(seen.words().contains("Et un éclairage solaire ?"));
    let comment = hidden(&seen.body, "comment");
    assert!(
        comment.starts_with(&format!("{}/comments/", proposal_name(&proposal))),
        "{comment}"
    );
    let reported = dominique
        .post(
            site,
            &proposal,
            &[("action", "signaler"), ("comment", &comment)],
        )
        .await;
    assert_eq!(reported.status, 303, "{}", reported.body);
    let public = get(site, &proposal).await;
    assert!(!public.words().contains("éclairage solaire"), "hidden");
    assert!(
        public
            .words()
            .contains("masqué après plusieurs signalements")
    );
    let own = camille.get(site, &proposal).await;
    assert!(
        own.words().contains("éclairage solaire"),
        "its author still reads it"
    );
    assert!(
        own.words().contains("masqué en attendant la décision"),
        "{}",
        own.words()
    );

    // The organiser restores it, then answers.
    let anne = Person::officer(site, &sign_in, &organiser).await;
    let tools = anne.get(site, "/espace/participation").await;
    assert_eq!(tools.status, 200, "{}", tools.body);
    assert!(
        tools.words().contains("Et un éclairage solaire ?"),
        "in the queue"
    );
    assert!(
        tools
            .words()
            .contains("Des bandes cyclables protégées — Publiée")
    );
    let as_organiser = anne.get(site, &proposal).await;
    assert!(
        as_organiser
            .words()
            .contains("Commentaires masqués à examiner")
    );
    let restored = anne
        .post(
            site,
            &proposal,
            &[("action", "restaurer"), ("comment", &comment)],
        )
        .await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert!(
        get(site, &proposal)
            .await
            .words()
            .contains("Et un éclairage solaire ?")
    );
    // Five comments in ten minutes at most: the sixth is refused, saying until when.
    for n in 2..=5 {
        let text = format!("Précision numéro {n}");
        let posted = camille
            .post(
                site,
                &proposal,
                &[("action", "commenter"), ("commentaire", &text)],
            )
            .await;
        assert_eq!(posted.status, 303, "{}", posted.body);
    }
    let flooded = camille
        .post(
            site,
            &proposal,
            &[("action", "commenter"), ("commentaire", "Encore une")],
        )
        .await;
    assert_eq!(flooded.status, 409, "{}", flooded.body);
    assert!(
        flooded
            .words()
            .contains("Vous avez beaucoup commenté ces dernières minutes"),
        "{}",
        flooded.words()
    );
    assert!(flooded.words().contains("(jusqu'à "), "{}", flooded.words());
    assert!(
        flooded.body.contains("Encore une"),
        "what was typed is kept"
    );

    let etag = hidden(&anne.get(site, &proposal).await.body, "etag");
    let unanswered = anne
        .post(
            site,
            &proposal,
            &[
                ("action", "repondre"),
                ("decision", "accepted"),
                ("reponse", ""),
                ("etag", &etag),
            ],
        )
        .await;
    assert_eq!(unanswered.status, 422, "{}", unanswered.body);
    assert!(
        unanswered
            .words()
            .contains("elle est obligatoire pour retenir")
    );
    let answered = anne
        .post(
            site,
            &proposal,
            &[
                ("action", "repondre"),
                ("decision", "accepted"),
                ("reponse", "Le Département l'inscrit au plan vélo 2027."),
                ("etag", &etag),
            ],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    let page = get(site, &proposal).await;
    assert!(page.words().contains("La réponse de l'organisateur"));
    assert!(page.words().contains("plan vélo 2027"));
    assert!(page.words().contains("Retenue"));

    // The process's page filters its proposals.
    let accepted = get(site, &format!("{base}?etat=accepted")).await;
    assert!(accepted.words().contains("Des bandes cyclables protégées"));
    let none = get(site, &format!("{base}?etat=rejected&theme=Mobilit%C3%A9s")).await;
    assert!(
        none.words()
            .contains("Aucune proposition ne répond à ces critères."),
        "{}",
        none.words()
    );
    let stale = get(site, &format!("{base}?page=pas-un-jeton")).await;
    assert_eq!(
        stale.header("location"),
        Some(base.as_str()),
        "the first page"
    );

    // An officer signed in for a member does not take part.
    let refused = anne.post(site, &proposal, &[("action", "soutenir")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.words().contains("Réservé aux habitants connectés"));

    // Its author withdraws a proposal nobody supports.
    // The same form sent again makes nothing new; another one does.
    let twice = propose(proposal_fields("Des bandes cyclables protégées")).await;
    assert_eq!(twice.header("location"), Some(proposal.as_str()));
    let mut fields = proposal_fields("Des arceaux à vélos aux arrêts de car");
    fields[0].1 = uuid::Uuid::new_v4().to_string();
    let second = propose(fields).await;
    assert_eq!(second.status, 303, "{}", second.body);
    let second = second.header("location").expect("its page").to_string();
    assert!(
        camille
            .get(site, &second)
            .await
            .body
            .contains("value=\"retirer-proposition\"")
    );
    assert!(
        !dominique
            .get(site, &second)
            .await
            .body
            .contains("retirer-proposition")
    );
    let withdrawn = camille
        .post(site, &second, &[("action", "retirer-proposition")])
        .await;
    assert_eq!(withdrawn.status, 303, "{}", withdrawn.body);
    assert!(
        get(site, &second)
            .await
            .words()
            .contains("Retirée par son auteur")
    );

    meeting_and_budget(
        &platform,
        site,
        (&camille, &dominique, &anne),
        &process,
        &organiser_token,
        &proposal,
    )
    .await;

    // The organiser verifies Camille's residence from her number.
    let profile = camille.get(site, "/participation/profil").await;
    let number = profile
        .body
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the participant number")
        .to_string();
    let unknown = anne
        .post(
            site,
            "/espace/participation",
            &[("action", "verifier"), ("numero", "inconnu")],
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let verified = anne
        .post(
            site,
            "/espace/participation",
            &[("action", "verifier"), ("numero", &number)],
        )
        .await;
    assert_eq!(
        verified.header("location"),
        Some("/espace/participation?fait=verifie")
    );
    let profile = camille.get(site, "/participation/profil").await;
    assert!(
        profile
            .words()
            .contains("Résidence vérifiée par : Département du Puy-de-Dôme"),
        "{}",
        profile.words()
    );

    // Open data names nobody; the calendar links back to the meeting's page.
    let csv = get(site, &format!("{base}/propositions.csv")).await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.body.contains("Des bandes cyclables protégées"));
    assert!(!csv.body.contains("Camille63") && !csv.body.contains("Dodo"));
    let ics = get(site, &format!("{base}/rencontres.ics")).await;
    assert_eq!(
        ics.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let unfolded = ics.body.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!("URL:http://127.0.0.1{base}/rencontres/")),
        "{unfolded}"
    );

    // Erasing keeps the proposal, signed by nobody.
    let unconfirmed = camille
        .post(site, "/participation/profil", &[("action", "effacer")])
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    let erased = camille
        .post(
            site,
            "/participation/profil",
            &[("action", "effacer"), ("confirmer", "oui")],
        )
        .await;
    assert_eq!(
        erased.header("location"),
        Some("/participation/profil?fait=efface")
    );
    let after = camille.get(site, "/participation/profil?fait=efface").await;
    assert!(
        after
            .words()
            .contains("Votre profil de participant est supprimé.")
    );
    assert!(after.words().contains("Choisissez le pseudonyme"));
    let page = get(site, &proposal).await;
    assert!(
        page.words().contains("Proposée par [compte supprimé]"),
        "{}",
        page.words()
    );
}

/// `processes/{p}/proposals/{id}` of a proposal's page.
fn proposal_name(path: &str) -> String {
    let parts: Vec<&str> = path
        .trim_start_matches("/participation/")
        .split('/')
        .collect();
    format!("processes/{}/proposals/{}", parts[0], parts[2])
}

/// A meeting of one seat and a budget of 100 € with the proposal at 80 €: Camille
/// takes the seat, Dominique waits first in line and gets it when Camille gives it up;
/// a ballot under the minimum is refused in French, a good one is shown back.
async fn meeting_and_budget(
    platform: &TestPlatform,
    site: std::net::SocketAddr,
    (camille, dominique, anne): (&Person, &Person, &Person),
    process: &pa::Process,
    organiser: &str,
    proposal: &str,
) {
    let mut client = ParticipationServiceClient::new(platform.channel().await);
    let start = chrono::Utc::now() + chrono::Duration::days(10);
    let meeting = client
        .create_meeting(authed(
            pa::CreateMeetingRequest {
                parent: process.name.clone(),
                meeting: Some(pa::Meeting {
                    kind: pa::MeetingKind::CitizenConference as i32,
                    title: "Conférence citoyenne".into(),
                    start_time: Some(fabrique_platform::time::timestamp(start)),
                    end_time: Some(fabrique_platform::time::timestamp(
                        start + chrono::Duration::hours(3),
                    )),
                    online_url: "https://visio.example.org/route".into(),
                    seats: 1,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            organiser,
        ))
        .await
        .expect("a meeting")
        .into_inner();
    let page = format!(
        "/participation/{}",
        meeting
            .name
            .trim_start_matches("processes/")
            .replace("/meetings/", "/rencontres/")
    );
    let seated = camille.post(site, &page, &[("action", "inscrire")]).await;
    assert_eq!(seated.status, 303, "{}", seated.body);
    assert!(
        camille
            .get(site, &page)
            .await
            .words()
            .contains("Vous êtes inscrit")
    );
    dominique.post(site, &page, &[("action", "inscrire")]).await;
    let waiting = dominique.get(site, &page).await;
    assert!(
        waiting.words().contains("liste d'attente, n° 1"),
        "{}",
        waiting.words()
    );
    assert!(
        waiting
            .words()
            .contains("1 place sur 1 prise, 1 personne en liste d'attente")
    );
    camille.post(site, &page, &[("action", "annuler")]).await;
    assert!(
        dominique
            .get(site, &page)
            .await
            .words()
            .contains("Vous êtes inscrit")
    );
    assert!(
        !camille
            .get(site, &page)
            .await
            .body
            .contains("annuler-rencontre")
    );
    let cancelled = anne
        .post(site, &page, &[("action", "annuler-rencontre")])
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    let after = dominique.get(site, &page).await;
    assert!(after.words().contains("Cette rencontre est annulée."));
    assert!(
        !after.body.contains("value=\"inscrire\""),
        "no more registrations"
    );

    // A meeting that took place: the organiser publishes its minutes.
    let held = client
        .create_meeting(authed(
            pa::CreateMeetingRequest {
                parent: process.name.clone(),
                meeting: Some(pa::Meeting {
                    kind: pa::MeetingKind::Meeting as i32,
                    title: "Réunion publique de lancement".into(),
                    start_time: Some(fabrique_platform::time::timestamp(
                        chrono::Utc::now() - chrono::Duration::days(2),
                    )),
                    end_time: Some(fabrique_platform::time::timestamp(
                        chrono::Utc::now() - chrono::Duration::days(2) + chrono::Duration::hours(2),
                    )),
                    online_url: "https://visio.example.org/lancement".into(),
                    seats: 50,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            organiser,
        ))
        .await
        .expect("a past meeting")
        .into_inner();
    let held = format!(
        "/participation/{}",
        held.name
            .trim_start_matches("processes/")
            .replace("/meetings/", "/rencontres/")
    );
    let empty = anne
        .post(
            site,
            &held,
            &[("action", "compte-rendu"), ("compte_rendu", "")],
        )
        .await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.words().contains("Écrivez le compte rendu"));
    let minutes = "Quarante habitants présents.\n\nTrois priorités : vélo, fauchage, réemploi.";
    let published = anne
        .post(
            site,
            &held,
            &[("action", "compte-rendu"), ("compte_rendu", minutes)],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.body);
    let read = get(site, &held).await;
    assert!(
        read.words()
            .contains("Trois priorités : vélo, fauchage, réemploi.")
    );
    assert!(!read.body.contains("value=\"inscrire\""), "it took place");

    let budget = client
        .create_budget(authed(
            pa::CreateBudgetRequest {
                parent: process.name.clone(),
                budget: Some(pa::Budget {
                    title: "Budget des routes".into(),
                    envelope_cents: 10_000,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            organiser,
        ))
        .await
        .expect("a budget")
        .into_inner();
    let budget = client
        .add_budget_item(authed(
            pa::AddBudgetItemRequest {
                budget: budget.name.clone(),
                proposal: proposal_name(proposal),
                cost_cents: 8_000,
            },
            organiser,
        ))
        .await
        .expect("an item")
        .into_inner();
    let page = format!(
        "/participation/{}",
        budget.name.trim_start_matches("processes/")
    );
    let item = budget.items[0].name.clone();
    let empty = camille.post(site, &page, &[]).await;
    assert_eq!(empty.status, 409, "{}", empty.body);
    assert!(
        empty
            .words()
            .contains("Votre choix coûte 0,00 €, moins que les 70,00 € à atteindre"),
        "{}",
        empty.words()
    );
    let voted = camille.post(site, &page, &[("projet", &item)]).await;
    assert_eq!(voted.status, 303, "{}", voted.body);
    let shown = camille.get(site, &page).await;
    assert!(
        shown
            .words()
            .contains("Votre bulletin est enregistré : 80,00 €"),
        "{}",
        shown.words()
    );
    assert!(get(site, &page).await.words().contains("1 bulletin"));

    // The organiser closes the vote: the results, ranked, with their CSV.
    assert!(
        !camille
            .get(site, &page)
            .await
            .body
            .contains("value=\"clore\"")
    );
    let closed = anne.post(site, &page, &[("action", "clore")]).await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let results = get(site, &page).await;
    let words = results.words();
    assert!(
        words.contains("Projets retenus : 80,00 € sur une enveloppe de 100,00 €."),
        "{words}"
    );
    assert!(
        words.contains("1 voix") && words.contains("retenu"),
        "{words}"
    );
    let late = dominique.post(site, &page, &[("projet", &item)]).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late.words().contains("Le vote de ce budget est clos."));
    let csv = get(site, &format!("{page}/resultats.csv")).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(
        csv.body.contains("Des bandes cyclables protégées"),
        "{}",
        csv.body
    );
}

#[tokio::test]
async fn citizens_take_part_and_the_organiser_answers_on_postgres() {
    citizens_take_part_and_the_organiser_answers(Backend::Postgres).await;
}

#[tokio::test]
async fn citizens_take_part_and_the_organiser_answers_on_sqlite() {
    citizens_take_part_and_the_organiser_answers(Backend::Sqlite).await;
}

/// The value of the first `<option selected>`-less option of select `name`: its first
/// option's value.
fn first_option(page: &str, name: &str) -> String {
    let select = page
        .split(&format!("name=\"{name}\""))
        .nth(1)
        .expect("the select");
    let marker = "<option value=\"";
    let start = select.find(marker).expect("an option") + marker.len();
    select[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Over 60 lines: the organiser's three forms one after the other, each refused once
/// then accepted, the next depending on what the last made.
async fn an_organiser_launches_a_process_and_schedules_what_it_needs(backend: Backend) {
    let platform = platform(backend).await;
    let (site, sign_in) = signed_site(&platform, &KEY).await;
    let admin = TestPlatform::admin_token();
    let (thiers, _) = joined_member(
        &platform,
        &admin,
        "Commune de Thiers",
        MemberKind::Association,
        &[("Paul", ContactRole::Other, "democratie@thiers.test")],
    )
    .await;
    let (other, _) = joined_member(
        &platform,
        &admin,
        "Ressourcerie",
        MemberKind::Association,
        &[("Zoé", ContactRole::Other, "zoe@ressourcerie.test")],
    )
    .await;
    let paul = Person::officer(site, &sign_in, &thiers).await;
    let tools = paul.get(site, "/espace/participation").await;
    assert!(
        tools
            .words()
            .contains("Votre structure n'organise aucune démarche")
    );
    let form = paul.get(site, "/espace/participation/nouvelle").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let request_id = hidden(&form.body, "demande");

    let refused = paul
        .post(
            site,
            "/espace/participation/nouvelle",
            &[
                ("demande", &request_id),
                ("titre", "Ok"),
                ("territoire", "63430, xyz"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let words = refused.words();
    assert!(
        words.contains("Donnez un titre de 3 à 150 caractères."),
        "{words}"
    );
    assert!(words.contains("Indiquez des codes INSEE"), "{words}");
    assert!(words.contains("Remplissez au moins une étape"), "{words}");
    assert!(
        refused.body.contains("value=\"63430, xyz\""),
        "what was typed is kept"
    );
    let fields = [
        ("demande", request_id.as_str()),
        ("titre", "Budget participatif 2027"),
        (
            "description",
            "Proposez, puis votez.\n\nLes projets retenus sont réalisés en 2027.",
        ),
        ("territoire", "63430"),
        ("themes", "Nature en ville\nMobilités"),
        ("limite", "3"),
        ("etape1_type", "proposals"),
        ("etape1_titre", "Proposer et voter"),
        ("etape1_debut", "2027-01-04"),
        ("etape1_fin", "2027-01-31"),
        ("etape1_propositions", "oui"),
        ("etape1_votes", "oui"),
        ("etape2_type", "results"),
        ("etape2_titre", "Résultats"),
        ("etape2_debut", "2027-02-01"),
        ("etape2_fin", "2027-02-28"),
    ];
    let launched = eventually("the service to know the organiser", WAIT, || {
        let paul = &paul;
        async move {
            let sent = paul
                .post(site, "/espace/participation/nouvelle", &fields)
                .await;
            (sent.status == 303).then_some(sent)
        }
    })
    .await;
    let process = launched.header("location").expect("its page").to_string();
    let page = paul.get(site, &process).await;
    let words = page.words();
    assert!(words.contains("Budget participatif 2027"), "{words}");
    assert!(
        words.contains("Propositions — Proposer et voter"),
        "{words}"
    );
    assert!(
        words.contains("du 4 janvier 2027 au 31 janvier 2027"),
        "{words}"
    );
    assert!(words.contains("Chaque participant soutient 3 propositions au plus."));
    assert!(words.contains("Programmer une rencontre") && words.contains("Ouvrir un budget"));
    let zoe = Person::officer(site, &sign_in, &other).await;
    let not_theirs = zoe
        .get(site, &format!("{process}/rencontres/nouvelle"))
        .await;
    assert_eq!(not_theirs.header("location"), Some("/espace/participation"));
    assert!(
        !get(site, &process)
            .await
            .words()
            .contains("Programmer une rencontre")
    );

    // A meeting: an end before the start is refused, then scheduled online.
    let form = paul
        .get(site, &format!("{process}/rencontres/nouvelle"))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    let request_id = hidden(&form.body, "demande");
    let meeting = |end: &'static str| {
        let request_id = request_id.clone();
        let path = format!("{process}/rencontres/nouvelle");
        let paul = &paul;
        async move {
            let fields = [
                ("demande", request_id.as_str()),
                ("type", "meeting"),
                ("titre", "Réunion publique"),
                ("jour", "2027-01-15"),
                ("debut", "18:00"),
                ("fin", end),
                ("lieu", ""),
                ("en_ligne", "https://visio.thiers.example/budget"),
                ("places", "30"),
            ];
            paul.post(site, &path, &fields).await
        }
    };
    let backwards = meeting("17:00").await;
    assert_eq!(backwards.status, 422, "{}", backwards.body);
    assert!(
        backwards
            .words()
            .contains("Indiquez une heure de fin après le début")
    );
    let scheduled = meeting("20:00").await;
    assert_eq!(scheduled.status, 303, "{}", scheduled.body);
    let page = get(site, scheduled.header("location").expect("its page")).await;
    assert!(
        page.words()
            .contains("vendredi 15 janvier 2027, de 18 h à 20 h"),
        "{}",
        page.words()
    );

    // A budget, then an item from a citizen's proposal.
    let refused = paul
        .post(
            site,
            &format!("{process}/budgets/nouveau"),
            &[("titre", "Budget 2027"), ("enveloppe", "beaucoup")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .words()
            .contains("Indiquez un montant positif en euros")
    );
    let opened = paul
        .post(
            site,
            &format!("{process}/budgets/nouveau"),
            &[
                ("titre", "Budget 2027"),
                ("enveloppe", "5 000"),
                ("minimum", "50 %"),
            ],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let budget = opened.header("location").expect("its page").to_string();
    assert!(
        get(site, &budget)
            .await
            .words()
            .contains("au moins 2 500,00 €"),
        "the minimum share"
    );
    let tools = paul.get(site, "/espace/participation").await;
    let etag = hidden(&tools.body, "etag");
    let name = hidden(&tools.body, "demarche");
    let activated = paul
        .post(
            site,
            "/espace/participation",
            &[
                ("action", "activer"),
                ("demarche", &name),
                ("etape", "1"),
                ("etag", &etag),
            ],
        )
        .await;
    assert_eq!(activated.status, 303, "{}", activated.body);
    let camille = Person::citizen(&sign_in, "camille-budget", "Camille");
    camille
        .post(
            site,
            "/participation/profil",
            &[("action", "inscrire"), ("pseudonyme", "Camille")],
        )
        .await;
    let form = camille.get(site, &format!("{process}/proposer")).await;
    let proposed = camille
        .post(
            site,
            &format!("{process}/proposer"),
            &[
                ("demande", &hidden(&form.body, "demande")),
                ("titre", "Un verger partagé"),
                (
                    "texte",
                    "Des arbres fruitiers au parc de la mairie, cueillette libre.",
                ),
                ("theme", "Nature en ville"),
            ],
        )
        .await;
    assert_eq!(proposed.status, 303, "{}", proposed.body);
    let page = paul.get(site, &budget).await;
    let proposal = first_option(&page.body, "proposition");
    let too_dear = paul
        .post(
            site,
            &budget,
            &[
                ("action", "ajouter"),
                ("proposition", &proposal),
                ("cout", "6 000"),
            ],
        )
        .await;
    assert_eq!(too_dear.status, 422, "{}", too_dear.body);
    assert!(too_dear.words().contains("dans la limite de l'enveloppe"));
    let added = paul
        .post(
            site,
            &budget,
            &[
                ("action", "ajouter"),
                ("proposition", &proposal),
                ("cout", "4 000"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = get(site, &budget).await;
    assert!(
        page.words().contains("Un verger partagé</a> — 4 000,00 €"),
        "{}",
        page.words()
    );
}

#[tokio::test]
async fn an_organiser_launches_a_process_and_schedules_what_it_needs_on_postgres() {
    an_organiser_launches_a_process_and_schedules_what_it_needs(Backend::Postgres).await;
}

#[tokio::test]
async fn an_organiser_launches_a_process_and_schedules_what_it_needs_on_sqlite() {
    an_organiser_launches_a_process_and_schedules_what_it_needs(Backend::Sqlite).await;
}
