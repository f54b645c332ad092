//! Every text the site shows, in one place: the French ones today. Another language is
//! another value of [`Texts`]; templates and handlers never write a sentence themselves.

pub mod account;
pub mod administration;
pub mod applications;
pub mod bookings;
pub mod emails;
pub mod forms;
pub mod instruction;
pub mod needs;
pub mod offers;
pub mod organising;
pub mod participant;
pub mod participation;
pub mod profile;
pub mod projects;
pub mod sharing;

use fabrique_api::members::MemberKind;
use fabrique_api::registry::{DayOfWeek, PlaceKind};

/// The words of the site in one language.
#[derive(Debug)]
pub struct Texts {
    /// `lang` of the pages.
    pub lang: &'static str,
    /// The site's name, in the header and the titles.
    pub site_name: &'static str,
    /// What the alliance is, under the name.
    pub tagline: &'static str,
    /// The link that skips to the content, for keyboard and screen-reader users.
    pub skip_to_content: &'static str,
    /// The main navigation's label.
    pub nav_label: &'static str,
    /// The home page's heading.
    pub home_title: &'static str,
    /// The home page's introduction.
    pub home_intro: &'static str,
    /// The places' section, in the navigation and as its title.
    pub places_title: &'static str,
    /// What the places' page lists.
    pub places_intro: &'static str,
    /// The map's heading and its region's name.
    pub map_title: &'static str,
    /// In place of the map when JavaScript does not run.
    pub map_without_script: &'static str,
    /// How to use the map, under it.
    pub map_hint: &'static str,
    /// The link of a place's bubble on the map.
    pub map_open_place: &'static str,
    /// The map's status line for one place in view (`{n}`: the number).
    pub map_status_one: &'static str,
    /// The map's status line for several places in view (`{n}`: the number).
    pub map_status_many: &'static str,
    /// The filters' legend.
    pub filters: &'static str,
    /// The text search's label.
    pub search_label: &'static str,
    /// The kind filter's label.
    pub kind_label: &'static str,
    /// The capability filter's label.
    pub capability_label: &'static str,
    /// The département filter's label.
    pub department_label: &'static str,
    /// The département filter's hint.
    pub department_hint: &'static str,
    /// A filter left open.
    pub any: &'static str,
    /// The filter form's button.
    pub apply_filters: &'static str,
    /// When no place matches.
    pub no_places: &'static str,
    /// The link to the next page of a list.
    pub next_page: &'static str,
    /// The link back to the first page of a list.
    pub first_page: &'static str,
    /// A place's kinds.
    pub kinds: &'static str,
    /// What a place offers.
    pub capabilities: &'static str,
    /// A place's address.
    pub address: &'static str,
    /// A place's opening hours.
    pub opening_hours: &'static str,
    /// Opening hours nobody gave.
    pub hours_unknown: &'static str,
    /// A day without opening.
    pub closed_day: &'static str,
    /// The place is open at this minute.
    pub open_now: &'static str,
    /// The place is closed at this minute.
    pub closed_now: &'static str,
    /// The day column of the hours table.
    pub day: &'static str,
    /// The hours column of the hours table.
    pub hours: &'static str,
    /// A place's contact details.
    pub contact: &'static str,
    /// Its website.
    pub website: &'static str,
    /// Its e-mail address.
    pub email: &'static str,
    /// Its telephone.
    pub phone: &'static str,
    /// Its eco-labels.
    pub eco_labels: &'static str,
    /// The places around a place.
    pub nearby: &'static str,
    /// When no other place is near.
    pub nothing_nearby: &'static str,
    /// Where the list of places is, from a place's page.
    pub back_to_places: &'static str,
    /// The directory of the allies, in the navigation and as its title.
    pub allies_title: &'static str,
    /// What the directory lists.
    pub allies_intro: &'static str,
    /// The directory's filters' legend.
    pub allies_filters: &'static str,
    /// The member-kind filter's label.
    pub member_kind_label: &'static str,
    /// The directory's form button.
    pub show_allies: &'static str,
    /// When no ally matches.
    pub no_allies: &'static str,
    /// The next page of the directory.
    pub next_allies: &'static str,
    /// A member's territory.
    pub territory: &'static str,
    /// A member's SIREN.
    pub siren: &'static str,
    /// A member's head office SIRET.
    pub siret: &'static str,
    /// A member's INSEE code.
    pub insee_code: &'static str,
    /// When a member joined.
    pub member_since: &'static str,
    /// The places a member runs.
    pub places_run: &'static str,
    /// When it runs none that is listed.
    pub no_places_run: &'static str,
    /// The programmes a member funds.
    pub programmes_funded: &'static str,
    /// Where the directory is, from a member's page.
    pub back_to_allies: &'static str,
    /// The programmes' section, in the navigation and as its title.
    pub programmes_title: &'static str,
    /// What the programmes' page lists.
    pub programmes_intro: &'static str,
    /// When there is no programme.
    pub no_programmes: &'static str,
    /// Who funds a programme.
    pub funder: &'static str,
    /// A programme's rules.
    pub rules: &'static str,
    /// A place's page: the resources offered there.
    pub resources_here: &'static str,
    /// A programme's applications and awards: the section's heading.
    pub awards_title: &'static str,
    /// The link to a programme's awards as open data.
    pub awards_download: &'static str,
    /// A programme's envelope and how much of it is used.
    pub envelope: &'static str,
    /// The envelope's total.
    pub envelope_total: &'static str,
    /// Aid committed (approved applications), paid included.
    pub committed: &'static str,
    /// Aid paid.
    pub paid: &'static str,
    /// What may still be committed.
    pub remaining: &'static str,
    /// A programme taking applications.
    pub programme_open: &'static str,
    /// A programme that takes no more.
    pub programme_closed: &'static str,
    /// The envelope is spent: nothing more can be awarded.
    pub envelope_spent: &'static str,
    /// Where the list of programmes is, from a programme's page.
    pub back_to_programmes: &'static str,
    /// Shared resources and needs.
    pub sharing: &'static sharing::SharingTexts,
    /// Projects, grouped purchases and peer workshops.
    pub projects: &'static projects::ProjectsTexts,
    /// The title of a page that does not exist.
    pub not_found_title: &'static str,
    /// Its explanation.
    pub not_found_body: &'static str,
    /// The title of a page a service could not answer.
    pub unavailable_title: &'static str,
    /// Its explanation.
    pub unavailable_body: &'static str,
    /// The title of a request the site refuses (bad filter…).
    pub bad_request_title: &'static str,
    /// The footer's line.
    pub footer: &'static str,
    /// Signing in and the member's space.
    pub account: &'static account::AccountTexts,
    /// Applying to programmes and instructing applications.
    pub applications: &'static applications::ApplicationTexts,
    /// Instructing beyond the decision: completions, opinions, advances, cancellations,
    /// envelope changes.
    pub instruction: &'static instruction::InstructionTexts,
    /// Booking a slot and following one's reservations.
    pub bookings: &'static bookings::BookingTexts,
    /// Offering resources.
    pub offers: &'static offers::OfferTexts,
    /// The e-mail settings page.
    pub emails: &'static emails::EmailTexts,
    /// The administration page.
    pub administration: &'static administration::AdministrationTexts,
    /// A member's own record.
    pub profile: &'static profile::ProfileTexts,
    /// A member's needs.
    pub needs: &'static needs::NeedTexts,
    /// What every form says of a refusal.
    pub forms: &'static forms::FormTexts,
    /// Citizen participation.
    pub participation: &'static participation::ParticipationTexts,
    /// A participant's profile.
    pub participant: &'static participant::ParticipantTexts,
    /// The organiser's tools of citizen participation.
    pub organising: &'static organising::OrganisingTexts,
    /// Monday to Sunday.
    pub days: [&'static str; 7],
}

/// The site in French.
pub const FR: Texts = Texts {
    lang: "fr",
    site_name: "Fabrique des transitions",
    tagline: "L'alliance des territoires en transition : lieux, ressources partagées, projets",
    skip_to_content: "Aller au contenu",
    nav_label: "Navigation principale",
    home_title: "Bienvenue sur la Fabrique des transitions",
    home_intro: "Collectivités, associations, entreprises de l'économie sociale et solidaire, \
                 tiers-lieux et centres de formation partagent ici leurs lieux, leurs \
                 ressources et leurs projets.",
    places_title: "Lieux de la transition",
    places_intro: "Incubateurs, FabLabs, ressourceries, ateliers de réparation, tiers-lieux : \
                   les lieux où se fait la transition, ouverts à tous.",
    map_title: "Carte des lieux",
    map_without_script: "La carte a besoin de JavaScript. La liste ci-dessous présente les \
                         mêmes lieux.",
    map_hint: "Un cercle chiffré regroupe des lieux proches : activez-le pour zoomer. \
               Un point est un lieu : activez-le pour ouvrir sa fiche. Les touches fléchées \
               déplacent la carte, + et − zooment.",
    map_open_place: "Voir la fiche",
    map_status_one: "{n} lieu sur la carte",
    map_status_many: "{n} lieux sur la carte",
    filters: "Filtrer les lieux",
    search_label: "Rechercher",
    kind_label: "Type de lieu",
    capability_label: "Équipement ou savoir-faire",
    department_label: "Département",
    department_hint: "Numéro INSEE, par exemple 63 ou 2A",
    any: "Tous",
    apply_filters: "Afficher les lieux",
    no_places: "Aucun lieu ne correspond à ces critères.",
    next_page: "Lieux suivants",
    first_page: "Revenir au début de la liste",
    kinds: "Type",
    capabilities: "Équipements et savoir-faire",
    address: "Adresse",
    opening_hours: "Horaires d'ouverture",
    hours_unknown: "Horaires non renseignés.",
    closed_day: "fermé",
    open_now: "Ouvert en ce moment",
    closed_now: "Fermé en ce moment",
    day: "Jour",
    hours: "Horaires",
    contact: "Contact",
    website: "Site internet",
    email: "Courriel",
    phone: "Téléphone",
    eco_labels: "Engagements",
    nearby: "À proximité",
    nothing_nearby: "Aucun autre lieu à moins de 20 km.",
    back_to_places: "Tous les lieux",
    allies_title: "Annuaire des alliés",
    allies_intro: "Les membres de l'alliance : communes, intercommunalités, départements, \
                   régions, associations, entreprises de l'économie sociale et solidaire, \
                   laboratoires et centres de formation.",
    allies_filters: "Filtrer les alliés",
    member_kind_label: "Type de membre",
    show_allies: "Afficher les alliés",
    no_allies: "Aucun allié ne correspond à ces critères.",
    next_allies: "Alliés suivants",
    territory: "Territoire",
    siren: "SIREN",
    siret: "SIRET du siège",
    insee_code: "Code INSEE",
    member_since: "Membre depuis le",
    places_run: "Lieux gérés",
    no_places_run: "Aucun lieu référencé.",
    programmes_funded: "Programmes financés",
    back_to_allies: "Tous les alliés",
    programmes_title: "Programmes de financement",
    programmes_intro: "Les aides que des collectivités ouvrent aux membres de l'alliance, \
                       avec leur enveloppe : ce qui est engagé, versé et encore disponible.",
    no_programmes: "Aucun programme pour le moment.",
    funder: "Financeur",
    rules: "Règles",
    resources_here: "Ressources proposées ici",
    awards_title: "Demandes et aides attribuées",
    awards_download: "Télécharger les aides attribuées (CSV, format SCDL des subventions)",
    envelope: "Enveloppe",
    envelope_total: "Enveloppe totale",
    committed: "Engagé",
    paid: "dont versé",
    remaining: "Disponible",
    programme_open: "Ouvert aux demandes",
    programme_closed: "Clos",
    envelope_spent: "L'enveloppe est entièrement engagée : aucune nouvelle aide ne peut \
                     être accordée.",
    back_to_programmes: "Tous les programmes",
    sharing: &sharing::FR,
    projects: &projects::FR,
    not_found_title: "Page introuvable",
    not_found_body: "Cette page n'existe pas, ou plus. Le lieu a peut-être fermé.",
    unavailable_title: "Service momentanément indisponible",
    unavailable_body: "Le service qui détient ces informations ne répond pas. \
                       Réessayez dans quelques instants.",
    bad_request_title: "Demande incorrecte",
    footer: "Fabrique des transitions — plateforme de l'alliance, logiciel libre",
    account: &account::FR,
    applications: &applications::FR,
    instruction: &instruction::FR,
    bookings: &bookings::FR,
    forms: &forms::FR,
    offers: &offers::FR,
    emails: &emails::FR,
    administration: &administration::FR,
    profile: &profile::FR,
    needs: &needs::FR,
    participation: &participation::FR,
    organising: &organising::FR,
    participant: &participant::FR,
    days: [
        "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche",
    ],
};

impl Texts {
    /// What a kind of place is called.
    pub fn place_kind(&self, kind: PlaceKind) -> &'static str {
        match kind {
            PlaceKind::Unspecified => "Lieu",
            PlaceKind::Incubator => "Incubateur",
            PlaceKind::Fablab => "FabLab",
            PlaceKind::Makerspace => "Makerspace",
            PlaceKind::Ressourcerie => "Ressourcerie",
            PlaceKind::RepairWorkshop => "Atelier de réparation",
            PlaceKind::RecyclingWorkshop => "Atelier de recyclage",
            PlaceKind::TiersLieu => "Tiers-lieu",
            PlaceKind::SharedSpace => "Espace partagé",
            PlaceKind::TrainingCentre => "Centre de formation",
            PlaceKind::ResearchCentre => "Centre de recherche",
            PlaceKind::ParticipatoryHousing => "Habitat participatif",
            PlaceKind::EssPremises => "Local de l'ESS",
        }
    }

    /// What a kind of member is called.
    pub fn member_kind(&self, kind: MemberKind) -> &'static str {
        match kind {
            MemberKind::Unspecified => "Membre",
            MemberKind::Commune => "Commune",
            MemberKind::Epci => "Intercommunalité",
            MemberKind::Departement => "Département",
            MemberKind::Region => "Région",
            MemberKind::Association => "Association",
            MemberKind::EssEnterprise => "Entreprise de l'ESS",
            MemberKind::Company => "Entreprise",
            MemberKind::ResearchLab => "Laboratoire de recherche",
            MemberKind::TrainingCentre => "Centre de formation",
            MemberKind::PublicAgency => "Établissement public",
            MemberKind::CitizenCollective => "Collectif citoyen",
        }
    }

    /// How many allies a list shows: `1 allié`, `12 alliés`.
    pub fn allies_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} allié"),
            n => format!("{} alliés", crate::fr::integer(n as i64)),
        }
    }

    /// The name of a day of the week.
    pub fn day_name(&self, day: DayOfWeek) -> &'static str {
        match day {
            DayOfWeek::Monday | DayOfWeek::Unspecified => self.days[0],
            DayOfWeek::Tuesday => self.days[1],
            DayOfWeek::Wednesday => self.days[2],
            DayOfWeek::Thursday => self.days[3],
            DayOfWeek::Friday => self.days[4],
            DayOfWeek::Saturday => self.days[5],
            DayOfWeek::Sunday => self.days[6],
        }
    }

    /// A programme's aid per unit: `5 000,00 € par installation photovoltaïque`.
    pub fn aid_per_unit(&self, cents: i64, unit: &str) -> String {
        if unit.is_empty() {
            format!("{} par unité", crate::fr::euros(cents))
        } else {
            format!("{} par {unit}", crate::fr::euros(cents))
        }
    }

    /// The most units one application may ask for.
    pub fn max_units(&self, units: i32) -> String {
        match units {
            1 => "Une unité par demande au plus.".to_string(),
            n => format!("{n} unités par demande au plus."),
        }
    }

    /// The most awards one member may receive.
    pub fn max_awards(&self, awards: i32) -> String {
        match awards {
            1 => "Une aide par membre au plus.".to_string(),
            n => format!("{n} aides par membre au plus."),
        }
    }

    /// Who may apply, from the member kinds' codes (`commune`, `epci`…).
    pub fn eligible(&self, kinds: &[String]) -> String {
        if kinds.is_empty() {
            return "Ouvert à tous les membres.".to_string();
        }
        let names: Vec<&str> = kinds.iter().map(|k| self.member_kind_plural(k)).collect();
        format!("Réservé aux {}.", join_french(&names))
    }

    /// A member kind's code in the plural, for the rules (`commune` → `communes`).
    pub fn member_kind_plural(&self, code: &str) -> &'static str {
        match code {
            "commune" => "communes",
            "epci" => "intercommunalités",
            "departement" => "départements",
            "region" => "régions",
            "association" => "associations",
            "ess_enterprise" => "entreprises de l'ESS",
            "company" => "entreprises",
            "research_lab" => "laboratoires de recherche",
            "training_centre" => "centres de formation",
            "public_agency" => "établissements publics",
            "citizen_collective" => "collectifs citoyens",
            _ => "autres membres",
        }
    }

    /// A co-funder's part of each aid: `25 % de l'aide` or `1 250,00 € par unité`.
    pub fn co_funding(&self, share_basis_points: i32, cents_per_unit: i64) -> String {
        if share_basis_points > 0 {
            format!(
                "{}{}% de l'aide",
                crate::fr::decimal(f64::from(share_basis_points) / 100.0, 0),
                crate::fr::BEFORE_UNIT
            )
        } else {
            format!("{} par unité", crate::fr::euros(cents_per_unit))
        }
    }

    /// A cluster's marker, for screen readers: `12 lieux ici, zoomer`.
    pub fn map_cluster_label(&self, count: i32) -> String {
        format!("{} ici, zoomer", self.places_count(count.max(0) as usize))
    }

    /// A programme's counts: `12 demandes, dont 5 aides attribuées`.
    pub fn applications_and_awards(&self, applications: i32, awards: i32) -> String {
        let plural = |n: i32, one: &str, many: &str| {
            if n <= 1 {
                format!("{n} {one}")
            } else {
                format!("{} {many}", crate::fr::integer(i64::from(n)))
            }
        };
        match applications {
            0 => "Aucune demande pour l'instant.".to_string(),
            _ => format!(
                "{}, dont {}.",
                plural(applications, "demande", "demandes"),
                plural(awards, "aide attribuée", "aides attribuées")
            ),
        }
    }

    /// How many places a list shows: `1 lieu`, `12 lieux`.
    pub fn places_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} lieu"),
            n => format!("{} lieux", crate::fr::integer(n as i64)),
        }
    }
}

/// `a`, `a et b`, `a, b et c`.
fn join_french(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} et {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind has its French name: a kind added to the proto without one fails here
    /// (the match above stops compiling first; this checks none is left empty).
    #[test]
    fn every_place_kind_is_named() {
        for value in 0..=i32::MAX {
            let Ok(kind) = PlaceKind::try_from(value) else {
                break;
            };
            assert!(!FR.place_kind(kind).is_empty(), "{kind:?}");
        }
        for value in 0..=i32::MAX {
            let Ok(kind) = MemberKind::try_from(value) else {
                break;
            };
            assert!(!FR.member_kind(kind).is_empty(), "{kind:?}");
        }
        assert_eq!(FR.allies_count(2), "2 alliés");
        assert_eq!(FR.places_count(1), "1 lieu");
        assert_eq!(FR.places_count(1200), "1\u{202F}200 lieux");
        assert_eq!(FR.map_cluster_label(12), "12 lieux ici, zoomer");
        assert_eq!(
            FR.applications_and_awards(1200, 1),
            "1\u{202F}200 demandes, dont 1 aide attribuée."
        );
        assert_eq!(
            FR.applications_and_awards(0, 0),
            "Aucune demande pour l'instant."
        );
    }

    #[test]
    fn a_programme_s_rules_read_as_french_sentences() {
        assert_eq!(
            FR.aid_per_unit(500_000, "installation photovoltaïque de 9 kWc"),
            "5\u{202F}000,00\u{A0}€ par installation photovoltaïque de 9 kWc"
        );
        assert_eq!(FR.max_awards(1), "Une aide par membre au plus.");
        assert_eq!(FR.max_units(3), "3 unités par demande au plus.");
        assert_eq!(
            FR.eligible(&["commune".into(), "epci".into()]),
            "Réservé aux communes et intercommunalités."
        );
        assert_eq!(
            FR.eligible(&["commune".into(), "epci".into(), "association".into()]),
            "Réservé aux communes, intercommunalités et associations."
        );
        assert_eq!(FR.eligible(&[]), "Ouvert à tous les membres.");
        assert_eq!(FR.co_funding(2500, 0), "25\u{A0}% de l'aide");
        assert_eq!(
            FR.co_funding(0, 125_000),
            "1\u{202F}250,00\u{A0}€ par unité"
        );
    }
}
