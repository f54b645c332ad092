//! The sharing pages over real HTTP, reading real members, registry and sharing services
//! through their public gRPC API: what a visitor sees of the resources and needs, in
//! French — conditions, booking rules, the free slots of the coming weeks — and what it
//! must never see (a withdrawn resource and why, a closed need, who booked a slot). On
//! PostgreSQL + NATS and on SQLite + the in-process bus.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{draft, full_platform, joined_member, paris_hour, place, site, timestamp};
use fabrique_api::members::MemberKind;
use fabrique_api::registry::{self as rp, registry_service_client::RegistryServiceClient};
use fabrique_api::sharing::{self as sp, sharing_service_client::SharingServiceClient};
use fabrique_testkit::http::get;
use fabrique_testkit::{Backend, authed, eventually, token};
use tonic::transport::Channel;

/// `resource` offered by the bearer of `token`, once the sharing service knows its
/// member and place (it learns them from events).
async fn offer(
    sharing: &SharingServiceClient<Channel>,
    token: &str,
    resource: sp::Resource,
) -> String {
    eventually(
        "the sharing service to know the member and the place",
        Duration::from_secs(30),
        || {
            let (mut sharing, resource) = (sharing.clone(), resource.clone());
            async move {
                sharing
                    .create_resource(authed(
                        sp::CreateResourceRequest {
                            resource: Some(resource),
                            request_id: String::new(),
                        },
                        token,
                    ))
                    .await
                    .ok()
                    .map(|r| r.into_inner().name)
            }
        },
    )
    .await
}

fn id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

async fn a_visitor_finds_resources_their_free_slots_and_needs(backend: Backend) {
    let platform = full_platform(backend).await;
    let admin = token("admin", &["admin"]);
    let (thiers, thiers_token) = joined_member(
        &platform,
        &admin,
        "Commune de Thiers",
        MemberKind::Commune,
        &[],
    )
    .await;
    let (_, ambert_token) = joined_member(
        &platform,
        &admin,
        "Communauté de communes Ambert Livradois Forez",
        MemberKind::Epci,
        &[],
    )
    .await;
    let mut registry = RegistryServiceClient::new(platform.channel().await);
    let fablab = rp::Place {
        address: Some(rp::PostalAddress {
            street: "1 rue de la Coutellerie".into(),
            postal_code: "63300".into(),
            locality: "Thiers".into(),
        }),
        insee_code: "63430".into(),
        ..draft("FabLab de Thiers", rp::PlaceKind::Fablab, 45.8563, 3.5477)
    };
    let fablab = place(&mut registry, &admin, fablab, true).await;
    let sharing = SharingServiceClient::new(platform.channel().await);
    let chipper = offer(
        &sharing,
        &thiers_token,
        sp::Resource {
            kind: sp::ResourceKind::Equipment as i32,
            title: "Broyeur de végétaux".into(),
            description: "Broyeur thermique, branches jusqu'à 8 cm.\n\n<b>Avec sa remorque</b>"
                .into(),
            place: format!("places/{fablab}"),
            conditions: Some(sp::Conditions {
                mode: sp::CostMode::CostShared as i32,
                price_cents_per_day: 2_500,
                deposit_cents: 15_000,
            }),
            booking_rules: Some(sp::BookingRules {
                turnaround_minutes: 30,
                max_duration_hours: 8,
                max_advance_days: 60,
                answer_within_hours: 0,
            }),
            eco_labels: vec!["réemploi".into()],
            ..Default::default()
        },
    )
    .await;
    let asphalt = offer(
        &sharing,
        &thiers_token,
        sp::Resource {
            kind: sp::ResourceKind::Material as i32,
            title: "Enrobés rabotés".into(),
            quantity: Some(sp::Quantity {
                amount: 40.0,
                unit: sp::QuantityUnit::Tonne as i32,
            }),
            ..Default::default()
        },
    )
    .await;
    let truck = offer(
        &sharing,
        &thiers_token,
        sp::Resource {
            kind: sp::ResourceKind::Vehicle as i32,
            title: "Camion benne".into(),
            ..Default::default()
        },
    )
    .await;
    let mut client = sharing.clone();
    client
        .withdraw_resource(authed(
            sp::WithdrawResourceRequest {
                name: truck.clone(),
                reason: "Embrayage à changer".into(),
                etag: String::new(),
            },
            &thiers_token,
        ))
        .await
        .expect("withdraw");
    // Ambert books the chipper tomorrow from 10:00 to 12:00, Paris time.
    let tomorrow = fabrique_web::fr::in_paris(Utc::now()).date_naive() + chrono::Duration::days(1);
    eventually(
        "the sharing service to know Ambert",
        Duration::from_secs(30),
        || {
            let (mut client, chipper, token) =
                (sharing.clone(), chipper.clone(), ambert_token.clone());
            async move {
                client
                    .create_reservation(authed(
                        sp::CreateReservationRequest {
                            parent: chipper,
                            reservation: Some(sp::Reservation {
                                start_time: timestamp(paris_hour(tomorrow, 10)),
                                end_time: timestamp(paris_hour(tomorrow, 12)),
                                note: "Pour l'élagage du bourg".into(),
                                ..Default::default()
                            }),
                            request_id: String::new(),
                        },
                        &token,
                    ))
                    .await
                    .ok()
            }
        },
    )
    .await;
    let need = |description: &str| sp::CreateNeedRequest {
        need: Some(sp::Need {
            description: description.into(),
            kind: sp::ResourceKind::Equipment as i32,
            place: format!("places/{fablab}"),
            radius_km: 20.0,
            start_time: timestamp(paris_hour(tomorrow + chrono::Duration::days(7), 9)),
            end_time: timestamp(paris_hour(tomorrow + chrono::Duration::days(7), 12)),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let open_need = client
        .create_need(authed(
            need("Une nacelle pour l'éclairage public"),
            &thiers_token,
        ))
        .await
        .expect("need")
        .into_inner()
        .name;
    let closed_need = client
        .create_need(authed(need("Des barrières de chantier"), &thiers_token))
        .await
        .expect("need")
        .into_inner()
        .name;
    client
        .close_need(authed(
            sp::CloseNeedRequest {
                name: closed_need.clone(),
            },
            &thiers_token,
        ))
        .await
        .expect("close need");
    let site = site(&format!("http://{}", platform.addr)).await;

    // The list: what is offered, never what was withdrawn.
    let list = get(site, "/ressources").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let text = list.text();
    assert!(text.contains(&format!(
        "href=\"/ressources/{}\">Broyeur de végétaux</a>",
        id(&chipper)
    )));
    assert!(text.contains("Enrobés rabotés"));
    assert!(text.contains("2 ressources"), "{text}");
    assert!(
        !text.contains("Camion benne"),
        "a withdrawn resource is listed"
    );
    assert!(text.contains("Proposée par Commune de Thiers"));
    assert!(text.contains("Participation aux frais : 25,00 € par jour"));
    assert!(text.contains("Prêt gratuit"));
    // The place filter offers the listed places, by name and locality.
    assert!(text.contains(&format!(
        "<option value=\"{fablab}\">FabLab de Thiers (Thiers)</option>"
    )));
    for (query, only, not) in [
        ("/ressources?type=material", "Enrobés rabotés", "Broyeur"),
        ("/ressources?q=broyeur", "Broyeur de végétaux", "Enrobés"),
        (
            &format!("/ressources?lieu={fablab}&rayon=5") as &str,
            "Broyeur de végétaux",
            "Enrobés",
        ),
    ] {
        let page = get(site, query).await;
        assert_eq!(page.status, 200, "{query}");
        let text = page.text();
        assert!(
            text.contains("1 ressource") && text.contains(only),
            "{query}:\n{text}"
        );
        assert!(!text.contains(not), "{query} kept {not}");
    }
    // Near a commune: by its name (case and accents aside) or its INSEE code, counted
    // from its listed places; the field suggests the communes of the listed places.
    assert!(
        text.contains("<option value=\"Thiers\"></option>"),
        "{text}"
    );
    for query in [
        "/ressources?commune=THIERS&rayon=5",
        "/ressources?commune=63430&rayon=5",
    ] {
        let page = get(site, query).await;
        assert_eq!(page.status, 200, "{query}");
        let text = page.text();
        assert!(
            text.contains("1 ressource")
                && text.contains("Broyeur de végétaux")
                && !text.contains("Enrobés"),
            "{query}:\n{text}"
        );
        assert!(text.contains("À moins de 5 km de Thiers"), "{text}");
    }
    // A commune with no listed place cannot be searched around: the page says so and
    // lists everything rather than nothing.
    let elsewhere = get(site, "/ressources?commune=Ambert&rayon=5")
        .await
        .words();
    assert!(
        elsewhere.contains(
            "Aucun lieu n'est référencé dans la commune « Ambert » : la liste ci-dessous"
        ) && elsewhere.contains("2 ressources"),
        "{elsewhere}"
    );
    assert!(
        elsewhere.contains("id=\"commune\" name=\"commune\" value=\"Ambert\""),
        "{elsewhere}"
    );
    let chosen = get(
        site,
        &format!("/ressources?lieu={fablab}&rayon=5&type=equipment"),
    )
    .await;
    assert!(
        chosen
            .body
            .contains(&format!("<option value=\"{fablab}\" selected>"))
    );
    assert!(
        chosen
            .body
            .contains("<option value=\"equipment\" selected>Équipement</option>")
    );
    assert!(
        chosen
            .text()
            .contains("<option value=\"5\" selected>5 km</option>")
    );

    // A bookable resource's page: owner, place, conditions, rules, and its free slots
    // around tomorrow's booking (with its 30 minutes of turnaround), never the booking.
    let page = get(site, &format!("/ressources/{}", id(&chipper))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(text.contains("<h1>Broyeur de végétaux</h1>"));
    assert!(text.contains(&format!(
        "<a href=\"/allies/{}\">Commune de Thiers</a>",
        id(&thiers)
    )));
    assert!(text.contains(&format!("<a href=\"/lieux/{fablab}\">FabLab de Thiers</a>")));
    assert!(text.contains("<dd>150,00 €</dd>"), "{text}");
    assert!(text.contains("30 min libres entre deux réservations."));
    assert!(text.contains("8 h au plus par réservation."));
    assert!(text.contains("Réservable jusqu&#39;à 60 jours à l&#39;avance."));
    let day = fabrique_web::fr::weekday_date(tomorrow);
    let row = format!("<th scope=\"row\">{day}</th><td>0 h – 9 h 30, 12 h 30 – 24 h</td>");
    assert!(text.contains(&row), "no {row} in:\n{text}");
    let after = fabrique_web::fr::weekday_date(tomorrow + chrono::Duration::days(1));
    assert!(text.contains(&format!(
        "<th scope=\"row\">{after}</th><td>toute la journée</td>"
    )));
    assert!(text.contains("<caption>Semaine du "));
    assert!(!text.contains("10 h – 12 h"));
    for private in ["Ambert", "élagage"] {
        assert!(!text.contains(private), "the booking shows: {private}");
    }
    assert!(text.contains("&lt;b&gt;Avec sa remorque") || text.contains("&#60;b&#62;Avec"));
    assert!(
        !page.body.contains("<b>"),
        "markup from a description reached the page"
    );

    // A material: what is left, no calendar.
    let page = get(site, &format!("/ressources/{}", id(&asphalt))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    assert!(text.contains("Reste 40 t sur 40 t"), "{text}");
    assert!(!text.contains("Disponibilités"));

    // Withdrawn, unknown, malformed: a French 404, and the reason is nowhere.
    for path in [
        format!("/ressources/{}", id(&truck)),
        "/ressources/0190a000-0000-7000-8000-000000000000".to_string(),
        "/ressources/pas-un-identifiant".to_string(),
        format!("/besoins/{}", id(&closed_need)),
        "/besoins/0190a000-0000-7000-8000-000000000000".to_string(),
    ] {
        let page = get(site, &path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("Page introuvable"), "{path}");
        assert!(!page.body.contains("Embrayage"), "{path}");
    }

    // Needs: the open one, in French, never the closed one.
    let needs = get(site, "/besoins").await;
    assert_eq!(needs.status, 200, "{}", needs.body);
    let text = needs.text();
    assert!(
        text.contains(&format!(
            "href=\"/besoins/{}\">Une nacelle pour l&#39;éclairage public</a>",
            id(&open_need)
        )),
        "{text}"
    );
    assert!(text.contains("1 besoin"));
    assert!(text.contains("Recherché par Commune de Thiers"));
    assert!(!text.contains("barrières"), "a closed need is listed");
    let page = get(site, &format!("/besoins/{}", id(&open_need))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let text = page.text();
    let week_later = fabrique_web::fr::weekday_date(tomorrow + chrono::Duration::days(7));
    assert!(
        text.contains(&format!("Le {week_later}, de 9 h à 12 h")),
        "{text}"
    );
    assert!(text.contains("<dd>20 km</dd>"));
    assert!(text.contains(&format!("<a href=\"/lieux/{fablab}\">FabLab de Thiers</a>")));

    // The place's page lists what is offered there.
    let place_page = get(site, &format!("/lieux/{fablab}")).await.text();
    assert!(
        place_page.contains("Ressources proposées ici"),
        "{place_page}"
    );
    assert!(place_page.contains("Broyeur de végétaux"), "{place_page}");

    // The ally's page lists what it offers, not what it withdrew.
    let ally = get(site, &format!("/allies/{}", id(&thiers))).await;
    assert_eq!(ally.status, 200, "{}", ally.body);
    let text = ally.text();
    assert!(text.contains("Ressources partagées"));
    assert!(text.contains(&format!(
        "href=\"/ressources/{}\">Broyeur de végétaux</a>",
        id(&chipper)
    )));
    assert!(!text.contains("Camion benne"));
}

#[tokio::test]
async fn a_visitor_finds_resources_their_free_slots_and_needs_on_postgres() {
    a_visitor_finds_resources_their_free_slots_and_needs(Backend::Postgres).await;
}

#[tokio::test]
async fn a_visitor_finds_resources_their_free_slots_and_needs_on_sqlite() {
    a_visitor_finds_resources_their_free_slots_and_needs(Backend::Sqlite).await;
}
