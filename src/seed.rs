//! `fabrique seed`: the example alliance of the source text — the Département du
//! Puy-de-Dôme (joined on 10 February 2021), Thiers Dore et Montagne and communes of its
//! Solaire Dôme group, Clermont-Ferrand, the Villes Pairs co-pilots (Loos-en-Gohelle,
//! ATEMIS), Aduhme, the Parc naturel régional Livradois-Forez, the Région, In Sun We
//! Trust, Busi. INSEE codes and SIRENs come from the open data in `seed/` (only real
//! numbers are used; others are left empty). Running it twice changes nothing: every
//! creation carries a request id derived from the member's name.

use chrono::{NaiveDate, TimeZone, Utc};
use fabrique_members::app::Members;
use fabrique_members::domain::{
    Contact, ContactRole, DisplayName, InseeCode, MemberKind, MemberState, Profile, Siren,
    Transition, Website,
};
use fabrique_platform::auth::{Caller, Role};
use fabrique_platform::config::DatabaseSettings;
use fabrique_platform::outbox::OutboxSignal;
use fabrique_platform::service::Service;
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
        territory: None,
        website: None,
        contacts: Vec::new(),
        joined: Some((2021, 6, 1)),
    }
}

fn examples() -> Vec<Example> {
    let mut list = Vec::new();

    let mut departement = example("Département du Puy-de-Dôme", MemberKind::Departement);
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
            member.territory = Some("Thiers Dore et Montagne");
            list.push(member);
        }
    }
    if let Some(clermont) = find("Clermont-Ferrand") {
        let mut commune = example("Clermont-Ferrand", MemberKind::Commune);
        commune.siren = Some(clermont.siren.into());
        commune.insee_code = Some(clermont.insee_code.into());
        commune.territory = Some("Clermont Auvergne Métropole");
        commune.joined = None;
        list.push(commune);
    }

    let mut loos = example("Loos-en-Gohelle", MemberKind::Commune);
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
    Ok(Profile {
        display_name: DisplayName::parse(&example.name).map_err(|e| parse("name", e))?,
        kind: example.kind,
        siren: example
            .siren
            .as_deref()
            .map(Siren::parse)
            .transpose()
            .map_err(|e| parse("siren", e))?,
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
    };
    let mut created = 0;
    for example in examples() {
        let member = members
            .create(&admin, profile(&example)?, Some(request_id(&example.name)))
            .await?;
        if let (Some((y, m, d)), MemberState::Pending) = (example.joined, member.state) {
            let joined = NaiveDate::from_ymd_opt(y, m, d)
                .and_then(|date| date.and_hms_opt(10, 0, 0))
                .map(|at| Utc.from_utc_datetime(&at));
            members
                .transition_at(&admin, member.id, Transition::Approve, None, None, joined)
                .await?;
        }
        created += 1;
        println!("{}  {}  {}", member.id.name(), example.kind, example.name);
    }
    println!("{created} members in the example alliance");
    Ok(())
}
