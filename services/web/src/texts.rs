//! Every text the site shows, in one place: the French ones today. Another language is
//! another value of [`Texts`]; templates and handlers never write a sentence themselves.

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
    not_found_title: "Page introuvable",
    not_found_body: "Cette page n'existe pas, ou plus. Le lieu a peut-être fermé.",
    unavailable_title: "Service momentanément indisponible",
    unavailable_body: "Le service qui détient ces informations ne répond pas. \
                       Réessayez dans quelques instants.",
    bad_request_title: "Demande incorrecte",
    footer: "Fabrique des transitions — plateforme de l'alliance, logiciel libre",
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

    /// How many places a list shows: `1 lieu`, `12 lieux`.
    pub fn places_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} lieu"),
            n => format!("{} lieux", crate::fr::integer(n as i64)),
        }
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
        assert_eq!(FR.places_count(1), "1 lieu");
        assert_eq!(FR.places_count(1200), "1\u{202F}200 lieux");
    }
}
