//! The words of offering resources: the form, "Mes ressources", and the sharing
//! service's refusals these meet, in French.

use super::forms::Refused;

/// Offering resources, in one language.
#[derive(Debug)]
pub struct OfferTexts {
    /// "Mes ressources": its title.
    pub mine_title: &'static str,
    /// What it lists.
    pub mine_intro: &'static str,
    /// The link to the form.
    pub offer_link: &'static str,
    /// No resource.
    pub none: &'static str,
    /// The form's title.
    pub new_title: &'static str,
    /// What the form does.
    pub new_intro: &'static str,
    /// The kind's label.
    pub kind_label: &'static str,
    /// The title's label.
    pub title_label: &'static str,
    /// The description's label.
    pub description_label: &'static str,
    /// The place's label.
    pub place_label: &'static str,
    /// No place.
    pub no_place: &'static str,
    /// The terms' legend.
    pub terms_legend: &'static str,
    /// Lent for free.
    pub free: &'static str,
    /// The borrower shares the costs.
    pub shared_costs: &'static str,
    /// The price's label.
    pub price_label: &'static str,
    /// The deposit's label.
    pub deposit_label: &'static str,
    /// The booking rules' legend.
    pub rules_legend: &'static str,
    /// What the rules apply to.
    pub rules_hint: &'static str,
    /// The turnaround's label.
    pub turnaround_label: &'static str,
    /// The longest reservation's label.
    pub duration_label: &'static str,
    /// The horizon's label.
    pub advance_label: &'static str,
    /// The answer window's label.
    pub answer_label: &'static str,
    /// The quantity's legend.
    pub quantity_legend: &'static str,
    /// What the quantity applies to.
    pub quantity_hint: &'static str,
    /// The quantity's label.
    pub quantity_label: &'static str,
    /// The unit's label.
    pub unit_label: &'static str,
    /// The commitments' label.
    pub labels_label: &'static str,
    /// What the commitments are.
    pub labels_hint: &'static str,
    /// The form's button.
    pub offer_button: &'static str,
    /// Columns.
    pub resource: &'static str,
    /// A column: the kind.
    pub kind: &'static str,
    /// A column: the state.
    pub state: &'static str,
    /// A column: what may be done.
    pub actions: &'static str,
    /// Withdrawing.
    pub withdraw: &'static str,
    /// Restoring.
    pub restore: &'static str,
    /// The reason's label.
    pub reason_label: &'static str,
    /// After withdrawing.
    pub withdrawn_done: &'static str,
    /// After restoring.
    pub restored_done: &'static str,
}

/// Offering in French.
pub const FR: OfferTexts = OfferTexts {
    mine_title: "Mes ressources",
    mine_intro: "Ce que votre structure prête, loue ou donne aux autres membres.",
    offer_link: "Proposer une ressource",
    none: "Votre structure ne propose encore aucune ressource.",
    new_title: "Proposer une ressource",
    new_intro: "Équipement, espace, véhicule ou savoir-faire se réservent par créneau ; un \
                matériau se demande en quantité ; une méthode se partage telle quelle.",
    kind_label: "Type de ressource",
    title_label: "Titre",
    description_label: "Description",
    place_label: "Lieu où la trouver (facultatif)",
    no_place: "Aucun",
    terms_legend: "Conditions",
    free: "Prêt gratuit",
    shared_costs: "Participation aux frais",
    price_label: "Prix par jour (€)",
    deposit_label: "Caution (€, facultatif)",
    rules_legend: "Règles de réservation",
    rules_hint: "Pour ce qui se réserve par créneau ; 0 ou vide : sans limite.",
    turnaround_label: "Battement entre deux réservations (minutes)",
    duration_label: "Durée maximale d'une réservation (heures)",
    advance_label: "Réservable jusqu'à (jours à l'avance)",
    answer_label: "Délai pour répondre aux demandes (heures ; 72 si vide) : passé ce délai, \
                   une demande sans réponse expire",
    quantity_legend: "Quantité",
    quantity_hint: "Pour un matériau seulement.",
    quantity_label: "Quantité offerte",
    unit_label: "Unité",
    labels_label: "Engagements (facultatif)",
    labels_hint: "Séparés par des virgules : réemploi, circuit court…",
    offer_button: "Proposer la ressource",
    resource: "Ressource",
    kind: "Type",
    state: "État",
    actions: "Actions",
    withdraw: "Retirer",
    restore: "Remettre à disposition",
    reason_label: "Motif",
    withdrawn_done: "La ressource est retirée : elle ne se réserve plus.",
    restored_done: "La ressource est de nouveau disponible.",
};

impl OfferTexts {
    /// A resource's state.
    pub fn state(&self, state: fabrique_api::sharing::ResourceState) -> &'static str {
        use fabrique_api::sharing::ResourceState as S;
        match state {
            S::Available => "Disponible",
            S::Withdrawn => "Retirée",
            S::Unavailable => "Indisponible (lieu fermé)",
            S::Unspecified => "",
        }
    }

    /// Why the sharing service refused an offer or a change of state, in French.
    pub fn refusal(&self, refused: &Refused) -> Option<String> {
        Some(match refused.reason.as_str() {
            "PLACE_CLOSED" => "Ce lieu est fermé : choisissez-en un autre.".into(),
            "PLACE_UNKNOWN" => "Ce lieu n'est pas (encore) connu du partage : choisissez-en \
                                un autre ou réessayez dans un instant."
                .into(),
            "RESOURCE_STATE" => "Cette ressource est déjà dans cet état : voici son état \
                                 actuel."
                .into(),
            "MEMBER_NOT_ACTIVE" => "Votre structure n'est pas (ou plus) membre active de \
                                    l'alliance : elle ne peut pas proposer de ressource."
                .into(),
            "NOT_A_MEMBER" => "Choisissez d'abord la structure que vous représentez.".into(),
            _ => return None,
        })
    }
}
