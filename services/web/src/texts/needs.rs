//! The words of posting, following and closing a need, in French.

/// A member's needs, in one language.
#[derive(Debug)]
pub struct NeedTexts {
    /// The link to the form, and its title.
    pub post_link: &'static str,
    /// What the form does.
    pub post_intro: &'static str,
    /// What is sought.
    pub description_label: &'static str,
    /// The kind's label.
    pub kind_label: &'static str,
    /// Any kind.
    pub any_kind: &'static str,
    /// The place's label.
    pub place_label: &'static str,
    /// No place.
    pub no_place: &'static str,
    /// The radius's label.
    pub radius_label: &'static str,
    /// The quantity's legend.
    pub quantity_legend: &'static str,
    /// The quantity's label.
    pub quantity_label: &'static str,
    /// The unit's label.
    pub unit_label: &'static str,
    /// The button.
    pub post_button: &'static str,
    /// On its page, for the member that posted it: the section's title.
    pub yours_title: &'static str,
    /// Above the matching resources.
    pub matches_title: &'static str,
    /// None matches.
    pub no_match: &'static str,
    /// Close it.
    pub close_button: &'static str,
    /// After closing.
    pub closed_done: &'static str,
}

impl NeedTexts {
    /// Whether a matching resource is free at the wanted time, or has enough left.
    pub fn match_available(&self, available: bool) -> &'static str {
        if available {
            "disponible"
        } else {
            "pas disponible au moment voulu"
        }
    }
}

/// In French.
pub const FR: NeedTexts = NeedTexts {
    post_link: "Publier un besoin",
    post_intro: "Dites ce que votre structure cherche : les membres qui le proposent le \
                 verront, et la page du besoin vous montrera les ressources qui y \
                 répondent.",
    description_label: "Ce que vous cherchez",
    kind_label: "Type de ressource",
    any_kind: "Peu importe",
    place_label: "Près de",
    no_place: "Peu importe",
    radius_label: "Dans un rayon de (km)",
    quantity_legend: "Pour des matériaux",
    quantity_label: "Quantité",
    unit_label: "Unité",
    post_button: "Publier le besoin",
    yours_title: "Votre besoin",
    matches_title: "Ressources qui y répondent",
    no_match: "Aucune ressource proposée ne répond encore à ce besoin.",
    close_button: "Clore ce besoin",
    closed_done: "Votre besoin est clos : il n'apparaît plus dans la liste.",
};
