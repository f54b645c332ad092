//! The words of the sharing sections — "Ressources partagées" (a resource's conditions,
//! booking rules and free slots) and "Besoins" — in one language per value of
//! [`SharingTexts`]; French in [`FR`].

use fabrique_api::sharing::{QuantityUnit, ResourceKind};

use crate::fr;

/// The words of the resources' and needs' pages.
#[derive(Debug)]
pub struct SharingTexts {
    /// The resources' section, in the navigation and as its title.
    pub resources_title: &'static str,
    /// What the resources' page lists.
    pub resources_intro: &'static str,
    /// The resources' filters' legend.
    pub resources_filters: &'static str,
    /// The resource-kind filter's label.
    pub kind_label: &'static str,
    /// The place filter's label.
    pub near_place_label: &'static str,
    /// The "near a commune" field.
    pub near_commune_label: &'static str,
    /// What that field accepts, and where distances are counted from.
    pub near_commune_hint: &'static str,
    /// The radius filter's label.
    pub radius_label: &'static str,
    /// The resources' form button.
    pub show_resources: &'static str,
    /// When no resource matches.
    pub no_resources: &'static str,
    /// The next page of resources.
    pub next_resources: &'static str,
    /// Who offers a resource.
    pub offered_by: &'static str,
    /// Where a resource is.
    pub place: &'static str,
    /// A resource's conditions.
    pub conditions: &'static str,
    /// A resource lent for nothing.
    pub free_of_charge: &'static str,
    /// The deposit asked.
    pub deposit: &'static str,
    /// A bookable resource's rules.
    pub booking_rules: &'static str,
    /// A bookable resource without rules.
    pub no_booking_rules: &'static str,
    /// The calendar's heading.
    pub availability: &'static str,
    /// Under the calendar's heading.
    pub availability_hint: &'static str,
    /// The calendar's day column.
    pub day: &'static str,
    /// The calendar's free slots column.
    pub free_slots: &'static str,
    /// A day without a free slot.
    pub no_free_slot: &'static str,
    /// A day free from midnight to midnight.
    pub whole_day: &'static str,
    /// A week's table caption, before its first day's date.
    pub week_of: &'static str,
    /// A material's quantity.
    pub quantity: &'static str,
    /// Where the resources are, from a resource's page.
    pub back_to_resources: &'static str,
    /// The needs' section, in the navigation and as its title.
    pub needs_title: &'static str,
    /// What the needs' page lists.
    pub needs_intro: &'static str,
    /// When no need is posted.
    pub no_needs: &'static str,
    /// The next page of needs.
    pub next_needs: &'static str,
    /// Who looks for it.
    pub sought_by: &'static str,
    /// What kind of resource a need takes.
    pub wanted_kind: &'static str,
    /// A need that takes any kind.
    pub any_kind: &'static str,
    /// When it is wanted.
    pub when: &'static str,
    /// How far from its place.
    pub radius: &'static str,
    /// When it was posted.
    pub posted_on: &'static str,
    /// Where the needs are, from a need's page.
    pub back_to_needs: &'static str,
}

/// The sharing sections in French.
pub const FR: SharingTexts = SharingTexts {
    resources_title: "Ressources partagées",
    resources_intro: "Équipements, espaces, véhicules, savoir-faire, matériaux de réemploi et \
                      méthodes que les membres de l'alliance se prêtent et se donnent.",
    resources_filters: "Filtrer les ressources",
    kind_label: "Type de ressource",
    near_place_label: "Près du lieu",
    near_commune_label: "Ou près de la commune",
    near_commune_hint: "Son nom ou son code INSEE ; la distance est comptée depuis le centre \
                        des lieux référencés dans la commune.",
    radius_label: "Dans un rayon de",
    show_resources: "Afficher les ressources",
    no_resources: "Aucune ressource ne correspond à ces critères.",
    next_resources: "Ressources suivantes",
    offered_by: "Proposée par",
    place: "Lieu",
    conditions: "Conditions",
    free_of_charge: "Prêt gratuit",
    deposit: "Caution",
    booking_rules: "Règles de réservation",
    no_booking_rules: "Aucune règle particulière.",
    availability: "Disponibilités",
    availability_hint: "Les créneaux libres des semaines à venir, à l'heure de Paris. \
                        Un créneau déjà demandé ou réservé n'y figure pas.",
    day: "Jour",
    free_slots: "Créneaux libres",
    no_free_slot: "aucun créneau libre",
    whole_day: "toute la journée",
    week_of: "Semaine du",
    quantity: "Quantité",
    back_to_resources: "Toutes les ressources",
    needs_title: "Besoins",
    needs_intro: "Ce que les membres de l'alliance recherchent : un équipement, un espace, \
                  des matériaux, un savoir-faire.",
    no_needs: "Aucun besoin publié pour le moment.",
    next_needs: "Besoins suivants",
    sought_by: "Recherché par",
    wanted_kind: "Type de ressource",
    any_kind: "Tout type de ressource",
    when: "Quand",
    radius: "Rayon",
    posted_on: "Publié le",
    back_to_needs: "Tous les besoins",
};

impl SharingTexts {
    /// What a kind of resource is called.
    pub fn resource_kind(&self, kind: ResourceKind) -> &'static str {
        match kind {
            ResourceKind::Unspecified => "Ressource",
            ResourceKind::Equipment => "Équipement",
            ResourceKind::Space => "Espace",
            ResourceKind::Vehicle => "Véhicule",
            ResourceKind::Expertise => "Savoir-faire",
            ResourceKind::Material => "Matériaux de réemploi",
            ResourceKind::Method => "Méthode ou document",
        }
    }

    /// How many resources a list shows: `1 ressource`, `12 ressources`.
    pub fn resources_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} ressource"),
            n => format!("{} ressources", fr::integer(n as i64)),
        }
    }

    /// How many needs a list shows: `1 besoin`, `12 besoins`.
    pub fn needs_count(&self, count: usize) -> String {
        match count {
            0 | 1 => format!("{count} besoin"),
            n => format!("{} besoins", fr::integer(n as i64)),
        }
    }

    /// What the borrower pays per day: `Participation aux frais : 25,00 € par jour`.
    pub fn price_per_day(&self, cents: i64) -> String {
        format!("Participation aux frais : {} par jour", fr::euros(cents))
    }

    /// The free time kept after each reservation.
    pub fn turnaround(&self, minutes: i32) -> String {
        format!(
            "{} libres entre deux réservations.",
            fr::duration_minutes(i64::from(minutes))
        )
    }

    /// The longest reservation.
    pub fn max_duration(&self, hours: i32) -> String {
        format!("{hours}{}h au plus par réservation.", fr::BEFORE_UNIT)
    }

    /// How far ahead one may book.
    pub fn max_advance(&self, days: i32) -> String {
        match days {
            1 => "Réservable un jour à l'avance au plus.".to_string(),
            n => format!("Réservable jusqu'à {n} jours à l'avance."),
        }
    }

    /// A quantity with its unit: `12,5 t`, `3 unités`.
    pub fn quantity_of(&self, amount: f64, unit: QuantityUnit) -> String {
        let number = fr::number(amount, 3);
        let unit = match unit {
            QuantityUnit::Tonne => "t",
            QuantityUnit::CubicMetre => "m³",
            QuantityUnit::SquareMetre => "m²",
            QuantityUnit::Unit | QuantityUnit::Unspecified if amount <= 1.0 => "unité",
            QuantityUnit::Unit | QuantityUnit::Unspecified => "unités",
        };
        format!("{number}{}{unit}", fr::BEFORE_UNIT)
    }

    /// What is left of a material: `Reste 12,5 t sur 40 t`.
    pub fn remaining(&self, remaining: &str, offered: &str) -> String {
        format!("Reste {remaining} sur {offered}")
    }

    /// Why a commune typed in the "near" filter did not narrow the list.
    pub fn unknown_commune(&self, commune: &str) -> String {
        format!(
            "Aucun lieu n'est référencé dans la commune « {commune} » : la liste \
             ci-dessous n'est pas limitée à ses environs. Choisissez un lieu proche ou une \
             commune voisine."
        )
    }

    /// The list narrowed around a commune.
    pub fn around_commune(&self, commune: &str, km: f64) -> String {
        format!("À moins de {} de {commune}", self.within_km(km))
    }

    /// A radius: `20 km`.
    pub fn within_km(&self, km: f64) -> String {
        format!("{}{}km", fr::number(km, 1), fr::BEFORE_UNIT)
    }

    /// A calendar's free slot: `9 h – 12 h`.
    pub fn slot(&self, from: &str, to: &str) -> String {
        format!("{from} – {to}")
    }

    /// When a need is wanted: `Le lundi 7 décembre 2026, de 9 h à 12 h`, or from one
    /// day to another.
    pub fn wanted_between(
        &self,
        start: (String, String),
        end: (String, String),
        same_day: bool,
    ) -> String {
        if same_day {
            format!("Le {}, de {} à {}", start.0, start.1, end.1)
        } else {
            format!("Du {}, {} au {}, {}", start.0, start.1, end.0, end.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_kind_is_named_and_rules_read_as_sentences() {
        for value in 0..=i32::MAX {
            let Ok(kind) = ResourceKind::try_from(value) else {
                break;
            };
            assert!(!FR.resource_kind(kind).is_empty(), "{kind:?}");
        }
        let plain = |text: String| text.replace(['\u{A0}', '\u{202F}'], " ");
        assert_eq!(
            plain(FR.turnaround(30)),
            "30 min libres entre deux réservations."
        );
        assert_eq!(
            plain(FR.turnaround(120)),
            "2 h libres entre deux réservations."
        );
        assert_eq!(plain(FR.max_duration(8)), "8 h au plus par réservation.");
        assert_eq!(
            FR.max_advance(60),
            "Réservable jusqu'à 60 jours à l'avance."
        );
        assert_eq!(
            plain(FR.price_per_day(2500)),
            "Participation aux frais : 25,00 € par jour"
        );
        assert_eq!(plain(FR.quantity_of(12.5, QuantityUnit::Tonne)), "12,5 t");
        assert_eq!(plain(FR.quantity_of(1.0, QuantityUnit::Unit)), "1 unité");
        assert_eq!(
            plain(FR.quantity_of(1250.0, QuantityUnit::CubicMetre)),
            "1 250 m³"
        );
        assert_eq!(FR.resources_count(2), "2 ressources");
        assert_eq!(FR.needs_count(1), "1 besoin");
    }
}
