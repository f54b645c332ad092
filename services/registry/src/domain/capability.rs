//! The controlled vocabulary of what a place can do. Extending it is adding a line here:
//! codes are stable (stored, sent in events), labels are for people.

/// (code, French label).
pub const VOCABULARY: &[(&str, &str)] = &[
    ("3d_printing", "Impression 3D"),
    ("laser_cutting", "Découpe laser"),
    ("cnc", "Fraisage numérique (CNC)"),
    ("electronics", "Électronique"),
    ("woodworking", "Travail du bois"),
    ("metalworking", "Travail du métal"),
    ("textile", "Textile et couture"),
    ("bicycle_repair", "Réparation de vélos"),
    ("appliance_repair", "Réparation d'appareils"),
    ("computer_repair", "Réparation informatique"),
    (
        "building_materials_reuse",
        "Réemploi de matériaux de construction",
    ),
    ("second_hand_shop", "Boutique de seconde main"),
    ("tool_library", "Prêt d'outils"),
    ("composting", "Compostage"),
    ("urban_agriculture", "Agriculture urbaine"),
    ("shared_kitchen", "Cuisine partagée"),
    ("coworking", "Coworking"),
    ("meeting_room", "Salle de réunion"),
    ("event_space", "Salle d'événements"),
    ("incubation_programme", "Programme d'incubation"),
    ("training", "Formation"),
    ("digital_mediation", "Médiation numérique"),
    ("research_lab", "Laboratoire de recherche"),
    ("accommodation", "Hébergement"),
];

/// A code of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Capability(&'static str);

impl Capability {
    /// The capability of a vocabulary code; an unknown code is refused, pointing to
    /// ListCapabilities.
    pub fn parse(code: &str) -> Result<Self, fabrique_types::Invalid> {
        VOCABULARY
            .iter()
            .find(|(c, _)| *c == code.trim())
            .map(|(c, _)| Self(c))
            .ok_or_else(|| {
                fabrique_types::Invalid::new(format!(
                    "unknown capability {code:?}; ListCapabilities gives the vocabulary"
                ))
            })
    }

    /// The stable code: what is stored, sent and filtered on.
    pub fn code(&self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_tag_safe() {
        let mut codes: Vec<_> = VOCABULARY.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), VOCABULARY.len());
        assert!(codes.iter().all(|c| {
            c.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        }));
        assert!(Capability::parse("laser_cutting").is_ok());
        assert!(Capability::parse("teleportation").is_err());
    }
}
