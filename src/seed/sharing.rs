//! What the example allies share: the Thiers FabLab's laser cutter, the meeting room of
//! the Loos-en-Gohelle tiers-lieu, reusable road materials at the Département's reuse
//! platform, Thiers Dore et Montagne's shared van; a reservation of the laser cutter
//! (confirmed) and a claim of materials. Slots are set from today, so that they stay
//! ahead; every creation carries a request id, so that the seed runs again unchanged.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use fabrique_members::domain::Member;
use fabrique_platform::config::DatabaseSettings;
use fabrique_platform::outbox::OutboxSignal;
use fabrique_platform::service::Service;
use fabrique_replicas::places::ReplicaPlace;
use fabrique_sharing::domain::{
    BookingRules, Conditions, Milli, QuantityUnit, ReservationState, ReservationTransition,
    ResourceDraft, ResourceKind, Slot,
};

use super::{acting, replica_member, request_id};

/// One example resource: its owner, kind, title, description, place and rules.
struct Shared {
    owner: &'static str,
    kind: ResourceKind,
    title: &'static str,
    description: &'static str,
    place: Option<&'static str>,
    rules: Option<BookingRules>,
    tonnes: Option<i64>,
}

fn shared() -> Vec<Shared> {
    vec![
        Shared {
            owner: "Thiers Dore et Montagne",
            kind: ResourceKind::Equipment,
            title: "Découpeuse laser du FabLab",
            description: "Découpe et gravure (bois, carton, acrylique), 100 W, plateau \
                          de 90 × 60 cm ; prise en main avec le fabmanager.",
            place: Some("FabLab de Thiers (exemple)"),
            rules: Some(BookingRules {
                turnaround: Duration::minutes(30),
                max_duration: Some(Duration::hours(4)),
                max_advance: Some(Duration::days(60)),
                answer_within: Some(Duration::hours(48)),
            }),
            tonnes: None,
        },
        Shared {
            owner: "Loos-en-Gohelle",
            kind: ResourceKind::Space,
            title: "Salle de réunion du tiers-lieu",
            description: "Vingt places, vidéoprojecteur, accessible de plain-pied.",
            place: Some("Tiers-lieu de Loos-en-Gohelle (exemple)"),
            rules: Some(BookingRules {
                max_duration: Some(Duration::hours(8)),
                ..BookingRules::default()
            }),
            tonnes: None,
        },
        Shared {
            owner: "Département du Puy-de-Dôme",
            kind: ResourceKind::Material,
            title: "Fraisats d'enrobés de réemploi",
            description: "Agrégats d'enrobés issus du rabotage des routes départementales, \
                          criblés 0/20, pour couches de forme et chemins.",
            place: Some("Plateforme de réemploi des matériaux routiers (exemple)"),
            rules: None,
            tonnes: Some(120),
        },
        Shared {
            owner: "Thiers Dore et Montagne",
            kind: ResourceKind::Vehicle,
            title: "Fourgon partagé",
            description: "Fourgon de 12 m³, permis B, prêté aux communes et associations \
                          du territoire.",
            place: None,
            rules: Some(BookingRules {
                max_duration: Some(Duration::hours(48)),
                ..BookingRules::default()
            }),
            tonnes: None,
        },
    ]
}

/// Offers the example resources, then a confirmed reservation of the laser cutter by
/// Loos-en-Gohelle and a claim of 8 t of materials by Thiers Dore et Montagne.
pub async fn seed(
    database: &DatabaseSettings,
    members: &HashMap<String, Member>,
    places: &[ReplicaPlace],
) -> anyhow::Result<()> {
    let service = fabrique_sharing::SharingServiceModule;
    let db = fabrique_platform::db::connect(database, service.name()).await?;
    service.migrate(&db).await?;
    for member in members.values() {
        fabrique_replicas::members::upsert(&db, &replica_member(member)).await?;
    }
    for place in places {
        fabrique_replicas::places::upsert(&db, place).await?;
    }
    let sharing = fabrique_sharing::app::Sharing::new(db, OutboxSignal::new());
    let acting = |name: &str| acting(members, name);
    let place_id = |name: &str| places.iter().find(|p| p.display_name == name).map(|p| p.id);
    let mut offered = HashMap::new();
    for example in shared() {
        let draft = ResourceDraft {
            owner: None,
            kind: example.kind,
            title: example.title.into(),
            description: Some(example.description.into()),
            place: example.place.and_then(place_id),
            location: None,
            conditions: Conditions::free(),
            eco_labels: Vec::new(),
            rules: example.rules,
            quantity: example
                .tonnes
                .map(|t| (Milli::from_milli(t * 1_000), QuantityUnit::Tonne)),
        };
        let resource = sharing
            .create_resource(
                &acting(example.owner)?,
                draft,
                Some(request_id(&format!("resource:{}", example.title))),
            )
            .await?;
        println!("{}  {}", resource.name(), example.title);
        offered.insert(example.title, resource.id);
    }
    let laser = offered["Découpeuse laser du FabLab"];
    // In three weeks, from 14 h to 17 h in Paris.
    let day = (Utc::now() + Duration::days(21)).date_naive();
    let two_pm = chrono::NaiveTime::from_hms_opt(14, 0, 0).unwrap_or_default();
    let start = fabrique_types::fr::paris_local(day, two_pm)
        .ok_or_else(|| anyhow::anyhow!("14 h exists every day in Paris"))?;
    let slot = Slot::new(start, start + Duration::hours(3))?;
    let loos = acting("Loos-en-Gohelle")?;
    let reservation = sharing
        .create_reservation(
            &loos,
            laser,
            slot,
            Some("Atelier Villes Pairs : panneaux de signalétique du tiers-lieu".into()),
            Some(request_id("reservation:laser:Loos-en-Gohelle")),
        )
        .await?;
    if reservation.state == ReservationState::Requested {
        sharing
            .transition_reservation(
                &acting("Thiers Dore et Montagne")?,
                laser,
                reservation.id,
                ReservationTransition::Confirm,
                None,
                None,
            )
            .await?;
    }
    println!("{}  réservation de la découpeuse laser", reservation.name());
    let claim = sharing
        .create_claim(
            &acting("Thiers Dore et Montagne")?,
            offered["Fraisats d'enrobés de réemploi"],
            Milli::from_milli(8_000),
            false,
            Some(request_id("claim:fraisats:Thiers Dore et Montagne")),
        )
        .await?;
    println!("{}  8 t de fraisats demandées", claim.name());
    Ok(())
}
