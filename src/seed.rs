//! `fabrique seed`: the example alliance of the source text — the Département du
//! Puy-de-Dôme (joined on 10 February 2021), Thiers Dore et Montagne and communes of its
//! Solaire Dôme group, Clermont-Ferrand, the Villes Pairs co-pilots (Loos-en-Gohelle,
//! ATEMIS), Aduhme, the Parc naturel régional Livradois-Forez, the Région, In Sun We
//! Trust, Busi. INSEE codes and SIRENs come from the open data in `seed/` (only real
//! numbers are used; others are left empty). Running it twice changes nothing: every
//! creation carries a request id derived from the member's name.
//!
//! It also opens Solaire Dôme (with the applications of Thiers Dore et Montagne's
//! group), Cocon 63 and the grouped gas and electricity purchases, and the Villes Pairs
//! roads workshop, the Département's citizen consultation "Quelle route pour demain ?"
//! with its conference (`seed/participation.rs`), and lists example places in the registry (Busi's incubator in Clermont-Ferrand,
//! a FabLab in Thiers, the Domaine des possibles at Ternant, a ressourcerie, a road
//! materials reuse platform, the Département's assembly hall, a tiers-lieu in
//! Loos-en-Gohelle). Their coordinates are
//! approximate (the commune's centre) and those marked "(exemple)" are illustrations.
//! Because no event has flowed yet, the seed writes the registry's member replica
//! itself, with the same versions the events will carry (so they change nothing).

mod participation;
mod sharing;
mod workshops;

use std::collections::HashMap;

use chrono::{NaiveDate, TimeZone, Utc};
use fabrique_members::app::Members;
use fabrique_members::domain::{
    Contact, ContactRole, DisplayName, InseeCode, Member, MemberKind, MemberState, Profile, Siren,
    Siret, Transition, Website,
};
use fabrique_platform::auth::{Caller, Role};
use fabrique_platform::config::DatabaseSettings;
use fabrique_platform::outbox::OutboxSignal;
use fabrique_platform::service::Service;
use fabrique_registry::domain::PlaceKind;
use uuid::Uuid;

const COLLECTIVITES: &str = include_str!("seed/puy-de-dome-collectivites.csv");

/// One row of the open-data file.
struct Collectivite<'a> {
    name: &'a str,
    insee_code: &'a str,
    siren: &'a str,
    epci_siren: &'a str,
}

fn collectivites() -> impl Iterator<Item = Collectivite<'static>> {
    COLLECTIVITES.lines().skip(1).filter_map(|line| {
        let fields: Vec<&str> = line.split(',').collect();
        (fields.len() >= 5).then(|| Collectivite {
            name: fields[1],
            insee_code: fields[2],
            siren: fields[3],
            epci_siren: fields[4],
        })
    })
}

fn find(name: &str) -> Option<Collectivite<'static>> {
    collectivites().find(|c| c.name == name)
}

struct Example {
    name: String,
    kind: MemberKind,
    siren: Option<String>,
    insee_code: Option<String>,
    /// A commune's EPCI.
    epci_siren: Option<String>,
    territory: Option<&'static str>,
    website: Option<&'static str>,
    contacts: Vec<(&'static str, ContactRole, &'static str)>,
    /// `None`: left PENDING, to show an application waiting for approval.
    joined: Option<(i32, u32, u32)>,
}

fn example(name: &str, kind: MemberKind) -> Example {
    Example {
        name: name.to_string(),
        kind,
        siren: None,
        insee_code: None,
        epci_siren: None,
        territory: None,
        website: None,
        contacts: Vec::new(),
        joined: Some((2021, 6, 1)),
    }
}

fn examples() -> Vec<Example> {
    let mut list = Vec::new();

    let mut departement = example("Département du Puy-de-Dôme", MemberKind::Departement);
    // Collectivities outside the open-data file: their SIRENs as the INSEE numbers them
    // (a commune's is 21 + its INSEE code + a sequence + the Luhn digit).
    departement.siren = Some("226300010".into());
    departement.insee_code = Some("63113".into());
    departement.territory = Some("Puy-de-Dôme");
    departement.website = Some("https://www.puy-de-dome.fr");
    departement.joined = Some((2021, 2, 10));
    departement.contacts = vec![
        (
            "Élu·e référent·e Villes Pairs (exemple)",
            ContactRole::ElectedOfficial,
            "Conseil départemental",
        ),
        (
            "Responsable achats (exemple)",
            ContactRole::ProcurementOfficer,
            "Direction de la commande publique",
        ),
        (
            "Technicien·ne transition écologique (exemple)",
            ContactRole::TransitionTechnician,
            "Mission transition",
        ),
        (
            "Technicien·ne des routes (exemple)",
            ContactRole::RoadsTechnician,
            "Direction des routes",
        ),
    ];
    list.push(departement);

    if let Some(tdm) = find("CC Thiers Dore et Montagne") {
        let mut epci = example("Thiers Dore et Montagne", MemberKind::Epci);
        epci.siren = Some(tdm.siren.into());
        // Its Villes Pairs team: an elected official and a roads technician.
        epci.contacts = vec![
            (
                "Vice-président·e voirie (exemple)",
                ContactRole::ElectedOfficial,
                "Conseil communautaire",
            ),
            (
                "Technicien·ne voirie (exemple)",
                ContactRole::RoadsTechnician,
                "Service voirie",
            ),
        ];
        epci.insee_code = find("Thiers").map(|c| c.insee_code.to_string());
        epci.territory = Some("Thiers Dore et Montagne");
        epci.joined = Some((2020, 9, 17));
        list.push(epci);
        // Communes of its Solaire Dôme group.
        for commune in collectivites()
            .filter(|c| c.epci_siren == tdm.siren && !c.insee_code.is_empty())
            .take(4)
        {
            let mut member = example(commune.name, MemberKind::Commune);
            member.siren = Some(commune.siren.into());
            member.insee_code = Some(commune.insee_code.into());
            member.epci_siren = Some(commune.epci_siren.into());
            member.territory = Some("Thiers Dore et Montagne");
            list.push(member);
        }
        // The EPCI's seat, which applies to Solaire Dôme on its own, not in the group.
        if let Some(thiers) = find("Thiers") {
            let mut commune = example("Thiers", MemberKind::Commune);
            commune.siren = Some(thiers.siren.into());
            commune.insee_code = Some(thiers.insee_code.into());
            commune.epci_siren = Some(thiers.epci_siren.into());
            commune.territory = Some("Thiers Dore et Montagne");
            list.push(commune);
        }
    }
    if let Some(clermont) = find("Clermont-Ferrand") {
        let mut commune = example("Clermont-Ferrand", MemberKind::Commune);
        commune.siren = Some(clermont.siren.into());
        commune.insee_code = Some(clermont.insee_code.into());
        commune.epci_siren = Some(clermont.epci_siren.into());
        commune.territory = Some("Clermont Auvergne Métropole");
        commune.joined = None;
        list.push(commune);
    }

    let mut loos = example("Loos-en-Gohelle", MemberKind::Commune);
    loos.siren = Some("216205286".into());
    loos.insee_code = Some("62528".into());
    loos.territory = Some("Pas-de-Calais");
    loos.joined = Some((2018, 1, 15));
    list.push(loos);

    let mut atemis = example("ATEMIS", MemberKind::ResearchLab);
    atemis.website = Some("https://www.atemis-lir.fr");
    atemis.joined = Some((2018, 1, 15));
    list.push(atemis);

    let mut aduhme = example("Aduhme", MemberKind::Association);
    aduhme.territory = Some("Puy-de-Dôme");
    aduhme.contacts = vec![(
        "Chargé·e de mission Solaire Dôme (exemple)",
        ContactRole::TransitionTechnician,
        "Agence locale des énergies et du climat",
    )];
    list.push(aduhme);

    let mut parc = example(
        "Parc naturel régional Livradois-Forez",
        MemberKind::PublicAgency,
    );
    parc.territory = Some("Livradois-Forez");
    list.push(parc);

    let mut region = example("Région Auvergne-Rhône-Alpes", MemberKind::Region);
    region.siren = Some("200053767".into());
    region.territory = Some("Auvergne-Rhône-Alpes");
    list.push(region);

    let mut insun = example("In Sun We Trust", MemberKind::Company);
    insun.contacts = vec![(
        "Représentant·e (exemple)",
        ContactRole::CompanyRepresentative,
        "Cadastre solaire",
    )];
    list.push(insun);

    let mut busi = example("Busi", MemberKind::EssEnterprise);
    busi.territory = Some("Clermont-Ferrand");
    list.push(busi);

    let mut fabrique = example(
        "Association pour la promotion de la Fabrique des transitions",
        MemberKind::Association,
    );
    fabrique.joined = Some((2019, 1, 1));
    list.push(fabrique);

    list
}

fn profile(example: &Example) -> anyhow::Result<Profile> {
    let parse = |what: &str, e: fabrique_members::domain::Invalid| {
        anyhow::anyhow!("{}: {what} {e}", example.name)
    };
    let siren = example
        .siren
        .as_deref()
        .map(Siren::parse)
        .transpose()
        .map_err(|e| parse("siren", e))?;
    Ok(Profile {
        display_name: DisplayName::parse(&example.name).map_err(|e| parse("name", e))?,
        kind: example.kind,
        // An example head office: establishment 0001 and its check digit. The real
        // SIRETs are in INSEE's SIRENE register; the open-data file gives SIRENs only.
        siret: siren.as_ref().map(|siren| Siret::completing(siren, 1)),
        siren,
        epci_siren: example
            .epci_siren
            .as_deref()
            .map(Siren::parse)
            .transpose()
            .map_err(|e| parse("epci_siren", e))?,
        insee_code: example
            .insee_code
            .as_deref()
            .map(InseeCode::parse)
            .transpose()
            .map_err(|e| parse("insee_code", e))?,
        territory: example.territory.map(str::to_string),
        website: example
            .website
            .map(Website::parse)
            .transpose()
            .map_err(|e| parse("website", e))?,
        contacts: example
            .contacts
            .iter()
            .map(|(name, role, title)| Contact {
                full_name: name.to_string(),
                role: *role,
                email: None,
                title: Some(title.to_string()),
            })
            .collect(),
    })
}

/// A stable request id per example, so a second seed returns the first one's members.
fn request_id(name: &str) -> Uuid {
    let high = fabrique_platform::fnv1a64(format!("fabrique-seed:{name}").as_bytes());
    let low = fabrique_platform::fnv1a64(format!("{name}:fabrique-seed").as_bytes());
    // Version 8 (custom) UUID.
    uuid::Builder::from_custom_bytes({
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&high.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        bytes
    })
    .into_uuid()
}

struct ExamplePlace {
    name: &'static str,
    kinds: &'static [PlaceKind],
    capabilities: &'static [&'static str],
    locality: &'static str,
    postal_code: Option<&'static str>,
    insee_code: Option<&'static str>,
    latitude: f64,
    longitude: f64,
    opening_hours: Option<&'static str>,
    operator: Option<&'static str>,
    description: &'static str,
}

fn example_places() -> Vec<ExamplePlace> {
    vec![
        ExamplePlace {
            name: "Busi, incubateur d'entreprises de l'ESS",
            kinds: &[PlaceKind::Incubator, PlaceKind::EssPremises],
            capabilities: &["incubation_programme", "coworking", "meeting_room"],
            locality: "Clermont-Ferrand",
            postal_code: Some("63000"),
            insee_code: Some("63113"),
            latitude: 45.7772,
            longitude: 3.0870,
            opening_hours: Some("Mo-Fr 09:00-12:30,13:30-18:00"),
            operator: Some("Busi"),
            description: "Incubateur cité par la Fabrique des transitions (coordonnées approximatives).",
        },
        ExamplePlace {
            name: "FabLab de Thiers (exemple)",
            kinds: &[PlaceKind::Fablab],
            capabilities: &["3d_printing", "laser_cutting", "electronics", "woodworking"],
            locality: "Thiers",
            postal_code: Some("63300"),
            insee_code: Some("63430"),
            latitude: 45.8564,
            longitude: 3.5475,
            opening_hours: Some("We 14:00-19:00; Sa 10:00-17:00"),
            operator: Some("Thiers Dore et Montagne"),
            description: "Exemple de FabLab intercommunal.",
        },
        ExamplePlace {
            name: "Domaine des possibles",
            kinds: &[PlaceKind::ParticipatoryHousing],
            capabilities: &["shared_kitchen", "urban_agriculture"],
            locality: "Ternant",
            postal_code: None,
            insee_code: None,
            latitude: 45.806,
            longitude: 3.006,
            opening_hours: None,
            operator: None,
            description: "Habitat participatif cité par la Fabrique des transitions (coordonnées approximatives).",
        },
        ExamplePlace {
            name: "Ressourcerie du Livradois-Forez (exemple)",
            kinds: &[PlaceKind::Ressourcerie, PlaceKind::RepairWorkshop],
            capabilities: &["second_hand_shop", "appliance_repair"],
            locality: "Ambert",
            postal_code: Some("63600"),
            insee_code: Some("63003"),
            latitude: 45.5497,
            longitude: 3.7417,
            opening_hours: Some("Tu-Sa 09:00-12:00,14:00-18:00"),
            operator: Some("Parc naturel régional Livradois-Forez"),
            description: "Exemple de ressourcerie avec atelier de réparation.",
        },
        ExamplePlace {
            name: "Plateforme de réemploi des matériaux routiers (exemple)",
            kinds: &[PlaceKind::RecyclingWorkshop],
            capabilities: &["building_materials_reuse"],
            locality: "Clermont-Ferrand",
            postal_code: Some("63100"),
            insee_code: Some("63113"),
            latitude: 45.80,
            longitude: 3.12,
            opening_hours: Some("Mo-Fr 07:30-16:30"),
            operator: Some("Département du Puy-de-Dôme"),
            description: "Recyclage et réemploi des fraisats, bordures et graves (atelier Villes Pairs).",
        },
        ExamplePlace {
            name: "Salle des assemblées de l'Hôtel du Département (exemple)",
            kinds: &[PlaceKind::SharedSpace],
            capabilities: &["meeting_room", "event_space"],
            locality: "Clermont-Ferrand",
            postal_code: Some("63000"),
            insee_code: Some("63113"),
            latitude: 45.7749,
            longitude: 3.0862,
            opening_hours: Some("Mo-Fr 08:30-17:30"),
            operator: Some("Département du Puy-de-Dôme"),
            description: "Salle où se tient la conférence citoyenne « Quelle route pour demain ? ».",
        },
        ExamplePlace {
            name: "Tiers-lieu de Loos-en-Gohelle (exemple)",
            kinds: &[PlaceKind::TiersLieu],
            capabilities: &["meeting_room", "event_space", "training"],
            locality: "Loos-en-Gohelle",
            postal_code: Some("62750"),
            insee_code: Some("62528"),
            latitude: 50.4578,
            longitude: 2.7922,
            opening_hours: None,
            operator: Some("Loos-en-Gohelle"),
            description: "Exemple de tiers-lieu chez le co-pilote de l'atelier Villes Pairs.",
        },
    ]
}

fn place_description(
    place: &ExamplePlace,
    members: &HashMap<String, Member>,
) -> anyhow::Result<fabrique_registry::domain::Description> {
    use fabrique_registry::domain as d;
    let bad =
        |what: &str, e: fabrique_types::Invalid| anyhow::anyhow!("{}: {what} {e}", place.name);
    Ok(d::Description {
        display_name: place.name.to_string(),
        kinds: place.kinds.iter().copied().collect(),
        description: Some(place.description.to_string()),
        address: d::Address {
            street: None,
            postal_code: place
                .postal_code
                .map(d::PostalCode::parse)
                .transpose()
                .map_err(|e| bad("postal code", e))?,
            locality: Some(place.locality.to_string()),
        },
        insee_code: place
            .insee_code
            .map(d::InseeCode::parse)
            .transpose()
            .map_err(|e| bad("INSEE code", e))?,
        location: d::Location::parse(place.latitude, place.longitude)
            .map_err(|(_, e)| bad("location", e))?,
        capabilities: place
            .capabilities
            .iter()
            .map(|c| d::Capability::parse(c))
            .collect::<Result<_, _>>()
            .map_err(|e| bad("capability", e))?,
        opening_hours: place
            .opening_hours
            .map(d::OpeningHours::parse)
            .transpose()
            .map_err(|e| bad("hours", e))?,
        website: None,
        contact_email: None,
        phone: None,
        operator: place
            .operator
            .and_then(|name| members.get(name))
            .map(|m| m.id.uuid()),
        eco_labels: Vec::new(),
        siret: None,
    })
}

/// The replica row the member's events would give.
/// The caller acting for the seeded member `name`.
fn acting(members: &HashMap<String, Member>, name: &str) -> anyhow::Result<Caller> {
    let id = members
        .get(name)
        .map(|m| m.id.uuid())
        .ok_or_else(|| anyhow::anyhow!("seed member {name} missing"))?;
    Ok(Caller {
        subject: id.to_string(),
        member_id: Some(id),
        roles: vec![Role::Member],
        person: None,
    })
}

fn replica_member(member: &Member) -> fabrique_replicas::members::ReplicaMember {
    fabrique_replicas::members::ReplicaMember {
        id: member.id.uuid(),
        display_name: member.profile.display_name.as_str().to_string(),
        kind: member.profile.kind.as_str().to_string(),
        siren: member
            .profile
            .siren
            .as_ref()
            .map(|s| s.as_str().to_string()),
        siret: member
            .profile
            .siret
            .as_ref()
            .map(|s| s.as_str().to_string()),
        insee_code: member
            .profile
            .insee_code
            .as_ref()
            .map(|c| c.as_str().to_string()),
        epci_siren: member
            .profile
            .epci_siren
            .as_ref()
            .map(|s| s.as_str().to_string()),
        state: member.state.as_str().to_string(),
        contact_roles: member
            .profile
            .contacts
            .iter()
            .map(|c| c.role.as_str().to_string())
            .collect(),
        version: member.version,
    }
}

/// Lists the example places; the replica rows their events will give, for the services
/// seeded next.
async fn seed_places(
    database: &DatabaseSettings,
    admin: &Caller,
    members: &HashMap<String, Member>,
) -> anyhow::Result<Vec<fabrique_replicas::places::ReplicaPlace>> {
    let service = fabrique_registry::RegistryServiceModule;
    let db = fabrique_platform::db::connect(database, service.name()).await?;
    service.migrate(&db).await?;
    for member in members.values() {
        fabrique_replicas::members::upsert(&db, &replica_member(member)).await?;
    }
    let registry = fabrique_registry::app::Registry::new(db, OutboxSignal::new());
    let mut listed = Vec::new();
    for example in example_places() {
        let mut place = registry
            .create(
                admin,
                place_description(&example, members)?,
                Some(request_id(example.name)),
            )
            .await?;
        if place.state == fabrique_registry::domain::PlaceState::Proposed {
            place = registry
                .transition(
                    admin,
                    place.id,
                    fabrique_registry::domain::Transition::Approve,
                    None,
                    None,
                )
                .await?;
        }
        println!("{}  {}", place.id.name(), example.name);
        listed.push(fabrique_replicas::places::ReplicaPlace {
            id: place.id.uuid(),
            display_name: example.name.to_string(),
            insee_code: example.insee_code.map(str::to_string),
            latitude: example.latitude,
            longitude: example.longitude,
            state: place.state.as_str().to_string(),
            operator: example
                .operator
                .and_then(|name| members.get(name))
                .map(|m| m.id.uuid()),
            version: place.version,
        });
    }
    Ok(listed)
}

/// Solaire Dôme (July 2020: €500,000, €5,000 per 9 kWc installation on a public roof,
/// one per collectivity, communes and EPCI, completed by 25 % from the Région through
/// the Parc Livradois-Forez) instructed by the Aduhme, with Thiers Dore et Montagne's
/// grouping;
/// Cocon 63 and the grouped gas and electricity purchases; the Villes Pairs roads
/// workshop. Deadlines are set from today, so that the examples stay open.
async fn seed_projects(
    database: &DatabaseSettings,
    admin: &Caller,
    members: &HashMap<String, Member>,
    places: &[fabrique_replicas::places::ReplicaPlace],
) -> anyhow::Result<()> {
    use fabrique_projects::app::{GroupPurchaseDraft, ProgrammeDraft, Projects};
    use fabrique_projects::domain::{Category, CoFunder, Lot, Site, SiteCategory};

    let service = fabrique_projects::ProjectsServiceModule;
    let db = fabrique_platform::db::connect(database, service.name()).await?;
    service.migrate(&db).await?;
    for member in members.values() {
        fabrique_replicas::members::upsert(&db, &replica_member(member)).await?;
    }
    for place in places {
        fabrique_replicas::places::upsert(&db, place).await?;
    }
    let id = |name: &str| {
        members
            .get(name)
            .map(|m| m.id.uuid())
            .ok_or_else(|| anyhow::anyhow!("seed member {name} missing"))
    };
    let acting = |name: &str| acting(members, name);
    let projects = Projects::new(db, OutboxSignal::new());

    let programme = projects
        .create_programme(
            admin,
            ProgrammeDraft {
                funder: Some(id("Département du Puy-de-Dôme")?),
                // "Portée par l'Aduhme": the energy agency instructs, the Département decides.
                operator: Some(id("Aduhme")?),
                // PVGIS's order of magnitude for a south-facing roof in the Puy-de-Dôme.
                yield_kwh_per_kwp: Some(1_200),
                funder_siret: None,
                title: "Solaire Dôme".into(),
                description: Some(
                    "Aide départementale forfaitaire aux centrales photovoltaïques de 9 kWc (60 m²) en toiture des \
                     bâtiments publics, portée par l'Aduhme; enveloppe votée en juillet 2020."
                        .into(),
                ),
                envelope_cents: 50_000_000,
                aid_per_unit_cents: 500_000,
                unit_label: "installation photovoltaïque de 9 kWc (60 m²)".into(),
                max_units_per_application: Some(1),
                eligible_kinds: vec!["commune".into(), "epci".into()],
                max_awards_per_member: Some(1),
                co_funders: vec![CoFunder {
                    member: id("Région Auvergne-Rhône-Alpes")?,
                    share_basis_points: Some(2_500),
                    cents_per_unit: None,
                    note: Some("via le Parc naturel régional Livradois-Forez".into()),
                    // The park's communes. The example gives them as its two main
                    // EPCIs, whose communes are in the park's perimeter or its gates;
                    // the charter's list (164 communes over three Départements) would
                    // be given as INSEE codes.
                    insee_codes: Vec::new(),
                    epci_sirens: [
                        "CC Thiers Dore et Montagne",
                        "CC Ambert Livradois Forez",
                    ]
                    .into_iter()
                    .filter_map(find)
                    .map(|epci| epci.siren.to_string())
                    .collect(),
                }],
                opens_at: NaiveDate::from_ymd_opt(2020, 7, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| Utc.from_utc_datetime(&t)),
                closes_at: None,
            },
            Some(request_id("programme:Solaire Dôme")),
        )
        .await?;
    println!("{}  Solaire Dôme", programme.name());
    let group: Vec<&Member> = members
        .values()
        .filter(|m| {
            m.profile.territory.as_deref() == Some("Thiers Dore et Montagne")
                && m.profile.display_name.as_str() != "Thiers"
                && m.state == MemberState::Active
        })
        .collect();
    let communes: Vec<Uuid> = group
        .iter()
        .filter(|m| m.profile.kind == MemberKind::Commune)
        .map(|m| m.id.uuid())
        .collect();
    seed_solaire_dome_grouping(
        &projects,
        admin,
        &programme,
        communes,
        &acting("Thiers Dore et Montagne")?,
        &acting("Aduhme")?,
    )
    .await?;

    let deadline = Utc::now() + chrono::Duration::days(90);
    let lot = |code: &str, title: &str| Lot {
        code: code.into(),
        title: title.into(),
        site_category: None,
    };
    let purchases = [
        (
            "Cocon 63 : isolation des combles des collectivités",
            Category::Insulation,
            "m²",
            vec![lot("combles", "Combles perdus")],
        ),
        (
            "Achat groupé de gaz",
            Category::Gas,
            "MWh",
            vec![
                lot("petits-sites", "Sites de moins de 300 MWh/an"),
                lot("grands-sites", "Sites de 300 MWh/an et plus"),
            ],
        ),
        (
            "Achat groupé d'électricité",
            Category::Electricity,
            "MWh",
            vec![
                lot("c5", "Sites de moins de 36 kVA"),
                lot("c4", "Sites de plus de 36 kVA"),
                // Split per site category: street lighting has its own tariff.
                Lot {
                    site_category: Some(SiteCategory::StreetLighting),
                    ..lot("eclairage", "Éclairage public")
                },
            ],
        ),
    ];
    for (title, category, unit, lots) in purchases {
        let purchase = projects
            .create_group_purchase(
                admin,
                GroupPurchaseDraft {
                    coordinator: Some(id("Département du Puy-de-Dôme")?),
                    title: title.into(),
                    category,
                    unit: unit.into(),
                    lots,
                    deadline,
                },
                Some(request_id(&format!("purchase:{title}"))),
            )
            .await?;
        if category == Category::Gas {
            for (i, member) in group.iter().enumerate() {
                let sites = vec![Site {
                    name: "Mairie et école (exemple)".into(),
                    lot: "petits-sites".into(),
                    volume_milli: 40_000 + 5_000 * i as i64,
                }];
                projects
                    .join_group_purchase(
                        &acting(member.profile.display_name.as_str())?,
                        purchase.id,
                        sites,
                    )
                    .await?;
            }
        }
        if category == Category::Insulation {
            seed_cocon_63_award(&projects, admin, &purchase, &group, &acting).await?;
        }
        println!("{}  {title}", purchase.name());
    }

    workshops::seed(&projects, admin, members, places).await?;
    seed_example_projects(&projects, members, places).await
}

/// Cocon 63, as it ran: the group's communes put in their schools' attics, the
/// Département closes the purchase and awards it at 19.50 € HT per m² where the
/// reference was 31 € (example prices): each commune sees what it saves. Each step only
/// if not done, so that the seed runs again.
async fn seed_cocon_63_award(
    projects: &fabrique_projects::app::Projects,
    admin: &Caller,
    purchase: &fabrique_projects::domain::GroupPurchase,
    group: &[&Member],
    acting: &dyn Fn(&str) -> anyhow::Result<Caller>,
) -> anyhow::Result<()> {
    use fabrique_projects::domain::{GroupPurchaseState, GroupPurchaseTransition, LotPrice, Site};
    let mut state = purchase.state;
    if state == GroupPurchaseState::Open {
        for (i, member) in group.iter().enumerate() {
            let sites = vec![Site {
                name: "Combles de l'école (exemple)".into(),
                lot: "combles".into(),
                volume_milli: (180 + 20 * i as i64) * 1_000,
            }];
            projects
                .join_group_purchase(
                    &acting(member.profile.display_name.as_str())?,
                    purchase.id,
                    sites,
                )
                .await?;
        }
        state = projects
            .advance_group_purchase(admin, purchase.id, GroupPurchaseTransition::Close)
            .await?
            .state;
    }
    if state == GroupPurchaseState::Closed {
        let award = GroupPurchaseTransition::Award {
            supplier: "Isolation Auvergne (exemple)".into(),
            siret: None,
            prices: vec![LotPrice {
                lot: "combles".into(),
                price_cents: 1_950,
                reference_cents: 3_100,
            }],
        };
        projects
            .advance_group_purchase(admin, purchase.id, award)
            .await?;
    }
    Ok(())
}

/// The roads workshop's project (reusing road materials, led by the Département with
/// the Villes Pairs co-pilots) and the Domaine des possibles' participatory housing.
async fn seed_example_projects(
    projects: &fabrique_projects::app::Projects,
    members: &HashMap<String, Member>,
    places: &[fabrique_replicas::places::ReplicaPlace],
) -> anyhow::Result<()> {
    use fabrique_projects::domain::{Participant, ProjectDraft, Theme};
    let id = |name: &str| {
        members
            .get(name)
            .map(|m| m.id.uuid())
            .ok_or_else(|| anyhow::anyhow!("seed member {name} missing"))
    };
    let place = |name: &str| places.iter().find(|p| p.display_name == name).map(|p| p.id);
    let examples = [
        (
            "Département du Puy-de-Dôme",
            "Quelle route pour demain ? Réemployer les matériaux routiers",
            "Projet de l'atelier Villes Pairs, saison 3 : réemploi des fraisats et \
             bordures, clauses d'achat public, sobriété de la construction des routes.",
            vec![Theme::CircularEconomy, Theme::Mobility],
            vec![
                ("Loos-en-Gohelle", "co-pilote de la saison Villes Pairs"),
                ("ATEMIS", "co-pilote : économie de la fonctionnalité"),
                ("Thiers Dore et Montagne", "territoire d'expérimentation"),
            ],
            place("Plateforme de réemploi des matériaux routiers (exemple)"),
        ),
        (
            "Association pour la promotion de la Fabrique des transitions",
            "Habitat participatif du Domaine des possibles",
            "Exemple : un habitat partagé à Ternant — logements, cuisine commune, \
             jardin nourricier — porté avec ses habitants.",
            vec![Theme::Housing, Theme::Food],
            vec![("Busi", "accompagnement de la coopérative d'habitants")],
            place("Domaine des possibles"),
        ),
    ];
    for (lead, title, summary, themes, participants, host) in examples {
        let lead_id = id(lead)?;
        let caller = Caller {
            subject: lead_id.to_string(),
            member_id: Some(lead_id),
            roles: vec![Role::Member],
            person: None,
        };
        let draft = ProjectDraft {
            lead: None,
            title: title.into(),
            summary: Some(summary.into()),
            themes: themes.into_iter().collect(),
            participants: participants
                .into_iter()
                .map(|(member, role)| {
                    Ok(Participant {
                        member: id(member)?,
                        role: role.into(),
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            host_place: host,
            milestones: Vec::new(),
        };
        let project = projects
            .create_project(
                &caller,
                draft,
                Some(request_id(&format!("project:{title}"))),
            )
            .await?;
        println!("{}  {title}", project.name());
    }
    Ok(())
}

/// Thiers Dore et Montagne files Solaire Dôme for its communes; the Aduhme gives its
/// opinion; the Département approves the grouping, pays the first award in an advance
/// and a balance, the second at once, and cancels the third (the commune gives up:
/// its 5,000 € return). Each step only if not done, so that the seed runs again.
async fn seed_solaire_dome_grouping(
    projects: &fabrique_projects::app::Projects,
    admin: &Caller,
    programme: &fabrique_projects::domain::Programme,
    communes: Vec<Uuid>,
    epci: &Caller,
    aduhme: &Caller,
) -> anyhow::Result<()> {
    use fabrique_projects::domain::{
        ApplicationState, GroupingDraft, Installation, Payment, PaymentKind, Recommendation,
    };
    // Each commune's school roof: 9 kWc on 60 m², as the programme's unit.
    let installations = communes
        .iter()
        .map(|_| Installation {
            peak_watts: 9_000,
            area_dm2: Some(6_000),
            building: Some("École communale".into()),
        })
        .collect();
    let (grouping, applications) = projects
        .create_grouping(
            epci,
            programme.id,
            GroupingDraft {
                purpose: "Groupement Solaire Dôme de Thiers Dore et Montagne : centrale \
                          photovoltaïque de 9 kWc (60 m²) en toiture de l'école"
                    .into(),
                units_per_member: 1,
                members: communes,
                installations,
            },
            Some(request_id("grouping:Solaire Dôme:Thiers Dore et Montagne")),
        )
        .await?;
    for a in applications
        .iter()
        .filter(|a| a.state == ApplicationState::Submitted && a.instruction.opinion.is_none())
    {
        let opinion = "Toiture saine, orientation sud ; production estimée conforme au cahier \
                       des charges Solaire Dôme.";
        projects
            .record_opinion(
                aduhme,
                programme.id,
                a.id,
                Recommendation::Approve,
                opinion.into(),
            )
            .await?;
    }
    if applications
        .iter()
        .any(|a| a.state == ApplicationState::Submitted)
    {
        projects
            .approve_grouping(admin, programme.id, grouping.id)
            .await?;
    }
    let (_, awards) = projects
        .get_grouping(admin, programme.id, grouping.id)
        .await?;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let unpaid = |i: usize| {
        awards
            .get(i)
            .filter(|a| a.state == ApplicationState::Approved && a.payments.is_empty())
    };
    if let Some(first) = unpaid(0) {
        for (kind, cents, paid_on) in [
            (PaymentKind::Advance, 150_000, day(2021, 3, 15)),
            (PaymentKind::Balance, 350_000, day(2021, 10, 4)),
        ] {
            let payment = Payment {
                co_funder: None,
                kind,
                amount_cents: cents,
                paid_on,
                recorded_at: Utc::now(),
            };
            projects
                .record_payment(admin, programme.id, first.id, payment)
                .await?;
        }
    }
    if let Some(second) = unpaid(1) {
        projects.pay(admin, programme.id, second.id).await?;
    }
    // The Région pays its part of the first award once, through the park.
    if let (Some(first), Some(region)) = (awards.first(), programme.co_funders.first())
        && first.paid_by(Some(region.member)) == 0
        && first.part_of(region.member).is_some()
    {
        let part = Payment {
            co_funder: Some(region.member),
            kind: PaymentKind::Balance,
            amount_cents: first.part_of(region.member).unwrap_or_default(),
            paid_on: day(2021, 12, 6),
            recorded_at: Utc::now(),
        };
        projects
            .record_payment(admin, programme.id, first.id, part)
            .await?;
    }
    if let Some(third) = unpaid(2) {
        let reason = "La commune renonce : la charpente de l'école doit d'abord être reprise.";
        projects
            .cancel_award(admin, programme.id, third.id, reason.into())
            .await?;
    }
    println!("{}  groupement Thiers Dore et Montagne", grouping.name());
    Ok(())
}

pub async fn run(database: &DatabaseSettings) -> anyhow::Result<()> {
    let service = fabrique_members::MembersService;
    let db = fabrique_platform::db::connect(database, service.name()).await?;
    service.migrate(&db).await?;
    // No relay runs here: the events wait in the outbox until `fabrique serve` starts.
    let members = Members::new(db, OutboxSignal::new());
    let admin = Caller {
        subject: "fabrique-seed".into(),
        member_id: None,
        roles: vec![Role::Admin],
        person: None,
    };
    let mut seeded = HashMap::new();
    for example in examples() {
        let mut member = members
            .create(&admin, profile(&example)?, Some(request_id(&example.name)))
            .await?;
        if let (Some((y, m, d)), MemberState::Pending) = (example.joined, member.state) {
            let joined = NaiveDate::from_ymd_opt(y, m, d)
                .and_then(|date| date.and_hms_opt(10, 0, 0))
                .map(|at| Utc.from_utc_datetime(&at));
            member = members
                .transition_at(&admin, member.id, Transition::Approve, None, None, joined)
                .await?;
        }
        println!("{}  {}  {}", member.id.name(), example.kind, example.name);
        seeded.insert(example.name.clone(), member);
    }
    println!("{} members in the example alliance", seeded.len());
    let places = seed_places(database, &admin, &seeded).await?;
    seed_projects(database, &admin, &seeded, &places).await?;
    sharing::seed(database, &seeded, &places).await?;
    participation::seed(database, &seeded, &places).await?;
    Ok(())
}
