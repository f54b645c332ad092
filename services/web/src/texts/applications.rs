//! The words of applying to a programme and of instructing applications: the form and
//! its computed aid, the applicant's list, the funder's queue, and every refusal of
//! the projects service these meet, told in French.

use super::forms::Refused;
use crate::fr;

/// Applying and instructing, in one language.
#[derive(Debug)]
pub struct ApplicationTexts {
    /// The form's heading.
    pub apply_title: &'static str,
    /// What applying does.
    pub apply_intro: &'static str,
    /// The units' label (`{}`: what a unit is).
    pub units_label: &'static str,
    /// The purpose's label.
    pub purpose_label: &'static str,
    /// What the purpose is for.
    pub purpose_hint: &'static str,
    /// The project's label.
    pub project_label: &'static str,
    /// No project chosen.
    pub no_project: &'static str,
    /// The SIRET's label.
    pub siret_label: &'static str,
    /// What the SIRET is for.
    pub siret_hint: &'static str,
    /// The button that computes the aid.
    pub compute_button: &'static str,
    /// The button that submits.
    pub submit_button: &'static str,
    /// Above the computed aid.
    pub computed_title: &'static str,
    /// Under the computed aid.
    pub computed_hint: &'static str,
    /// In place of the form for a visitor.
    pub sign_in_to_apply: &'static str,
    /// The sign-in link's text.
    pub sign_in_link: &'static str,
    /// In place of the form for the funder.
    pub funder_instructs: &'static str,
    /// In place of the form when the programme is not open.
    pub not_open: &'static str,
    /// The applicant's page: its title.
    pub mine_title: &'static str,
    /// What it lists.
    pub mine_intro: &'static str,
    /// No application.
    pub no_applications: &'static str,
    /// The funder's page: its title.
    pub instruction_title: &'static str,
    /// What it lists.
    pub instruction_intro: &'static str,
    /// The member funds no programme.
    pub funds_nothing: &'static str,
    /// Applications to decide on.
    pub to_decide: &'static str,
    /// Approved, to pay.
    pub to_pay: &'static str,
    /// Nothing there.
    pub nothing_here: &'static str,
    /// The queue's filters: their legend.
    pub filters: &'static str,
    /// Every programme the member funds.
    pub all_programmes: &'static str,
    /// The state filter's label.
    pub state_filter: &'static str,
    /// The state filter's default: what waits for the funder.
    pub waiting: &'static str,
    /// Paid applications, when filtered on them.
    pub paid: &'static str,
    /// Rejected or withdrawn, when filtered on them.
    pub rejected_or_withdrawn: &'static str,
    /// The search field's label.
    pub search_label: &'static str,
    /// The filters' button.
    pub apply_filters: &'static str,
    /// No application matches the filters.
    pub no_match: &'static str,
    /// A column: who applied.
    pub applicant: &'static str,
    /// A column: the units.
    pub units: &'static str,
    /// A column: the purpose.
    pub purpose: &'static str,
    /// A column: the aid.
    pub aid: &'static str,
    /// A column: the state.
    pub state: &'static str,
    /// A column: the programme.
    pub programme: &'static str,
    /// A column: what may be done.
    pub actions: &'static str,
    /// Approving.
    pub approve: &'static str,
    /// Rejecting.
    pub reject: &'static str,
    /// The reason's label when rejecting or withdrawing.
    pub reason_label: &'static str,
    /// Recording a payment.
    pub pay: &'static str,
    /// Withdrawing one's application.
    pub withdraw: &'static str,
    /// A rejection needs its reason.
    pub reason_required: &'static str,
    /// After submitting.
    pub submitted_done: &'static str,
    /// After approving.
    pub approved_done: &'static str,
    /// After rejecting.
    pub rejected_done: &'static str,
    /// After recording a payment.
    pub paid_done: &'static str,
    /// After withdrawing.
    pub withdrawn_done: &'static str,
    /// The reason of an application rejected because the envelope was spent.
    pub rejected_envelope_spent: &'static str,
    /// The reason of an application rejected because its applicant had its awards.
    pub rejected_award_limit: &'static str,
    /// The reason of an application withdrawn because its applicant left.
    pub withdrawn_member_left: &'static str,
}

/// Applying and instructing in French.
pub const FR: ApplicationTexts = ApplicationTexts {
    apply_title: "Déposer une demande",
    apply_intro: "Calculez d'abord l'aide : elle s'affiche avec la part de chaque financeur \
                  avant que vous ne déposiez la demande.",
    units_label: "Nombre d'unités ({})",
    purpose_label: "Objet de la demande",
    purpose_hint: "Ce que l'aide finance, tel qu'il figurera dans les données publiques des \
                   aides (500 caractères au plus).",
    project_label: "Projet concerné (facultatif)",
    no_project: "Aucun",
    siret_label: "SIRET du bénéficiaire (facultatif)",
    siret_hint: "14 chiffres ; à défaut, le SIREN de votre structure est publié.",
    compute_button: "Calculer l'aide",
    submit_button: "Déposer la demande",
    computed_title: "Aide calculée",
    computed_hint: "Vérifiez le montant, puis déposez la demande : le financeur l'instruira.",
    sign_in_to_apply: "Pour déposer une demande au nom de votre structure,",
    sign_in_link: "connectez-vous",
    funder_instructs: "Vous financez ce programme : les demandes vous attendent dans",
    not_open: "Ce programme ne reçoit pas de demandes en ce moment.",
    mine_title: "Mes demandes d'aide",
    mine_intro: "Les demandes déposées par votre structure, et où elles en sont.",
    no_applications: "Aucune demande pour l'instant.",
    instruction_title: "Instruction des demandes",
    instruction_intro: "Les demandes reçues par les programmes que votre structure finance ou \
                        instruit : demandez des compléments, donnez votre avis ; le financeur \
                        accorde, rejette avec un motif, enregistre les versements.",
    funds_nothing: "Votre structure ne finance ni n'instruit aucun programme.",
    to_decide: "À instruire",
    to_pay: "Accordées, à payer",
    nothing_here: "Aucune demande.",
    filters: "Filtrer les demandes",
    all_programmes: "Tous les programmes",
    state_filter: "État",
    waiting: "À traiter (à instruire, à compléter, à payer)",
    paid: "Payées",
    rejected_or_withdrawn: "Rejetées, retirées ou annulées",
    search_label: "Demandeur ou objet",
    apply_filters: "Filtrer",
    no_match: "Aucun programme ne correspond à ces filtres.",
    applicant: "Demandeur",
    units: "Unités",
    purpose: "Objet",
    aid: "Aide",
    state: "État",
    programme: "Programme",
    actions: "Actions",
    approve: "Accorder",
    reject: "Rejeter",
    reason_label: "Motif",
    pay: "Enregistrer le paiement",
    withdraw: "Retirer la demande",
    reason_required: "Indiquez le motif du rejet : le demandeur le lira.",
    submitted_done: "Votre demande est déposée : le financeur va l'instruire.",
    approved_done: "L'aide est accordée : elle est engagée sur l'enveloppe.",
    rejected_done: "La demande est rejetée ; le demandeur lira le motif.",
    paid_done: "Le paiement est enregistré.",
    withdrawn_done: "Votre demande est retirée.",
    rejected_envelope_spent: "l'enveloppe du programme était épuisée quand la demande a été \
                              instruite",
    rejected_award_limit: "le demandeur avait déjà reçu le nombre maximal d'aides de ce \
                           programme",
    withdrawn_member_left: "le demandeur a quitté l'alliance",
};

impl ApplicationTexts {
    /// The computed aid in one line: `Département du Puy-de-Dôme 5 000,00 € + Région
    /// Auvergne-Rhône-Alpes 1 250,00 €`, each funder named from `names`.
    pub fn breakdown(&self, lines: &[(String, i64)]) -> String {
        lines
            .iter()
            .map(|(name, cents)| format!("{name} {}", fr::euros(*cents)))
            .collect::<Vec<_>>()
            .join(" + ")
    }

    /// The reason an application was rejected or withdrawn, in French when the service
    /// wrote it (a refusal's code leads it); as typed when a person wrote it.
    pub fn reason(&self, stored: &str) -> String {
        let code = stored.split(':').next().unwrap_or_default();
        match code {
            "ENVELOPE_EXHAUSTED" => self.rejected_envelope_spent.to_string(),
            "AWARD_LIMIT_REACHED" => self.rejected_award_limit.to_string(),
            _ if stored.starts_with("members/") && stored.ends_with(" left the alliance") => {
                self.withdrawn_member_left.to_string()
            }
            "withdrawn by the applicant" => "retirée par le demandeur".to_string(),
            _ => stored.to_string(),
        }
    }

    /// An application's state.
    pub fn state(&self, state: fabrique_api::projects::ApplicationState) -> &'static str {
        use fabrique_api::projects::ApplicationState as S;
        match state {
            S::Submitted => "Déposée",
            S::Approved => "Accordée",
            S::Rejected => "Rejetée",
            S::Paid => "Payée",
            S::Withdrawn => "Retirée",
            S::Cancelled => "Annulée",
            S::ToComplete => "À compléter",
            S::Unspecified => "",
        }
    }

    /// Why the projects service refused an application or a decision, in French;
    /// `None` for a code these forms do not meet.
    pub fn refusal(&self, refused: &Refused) -> Option<String> {
        let cents = |key: &str| {
            refused
                .facts
                .get(key)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        Some(match refused.reason.as_str() {
            "ENVELOPE_EXHAUSTED" => format!(
                "L'enveloppe du programme ne suffit plus : cette aide de {} la dépasserait \
                 (enveloppe totale : {}). La demande est rejetée avec ce motif.",
                fr::euros(cents("aid_cents")),
                fr::euros(cents("envelope_cents"))
            ),
            "AWARD_LIMIT_REACHED" => format!(
                "Cette structure a déjà reçu le nombre maximal d'aides de ce programme ({}), \
                 compté par numéro SIREN : une collectivité qui a rejoint l'alliance à \
                 nouveau reste la même.",
                cents("max_awards_per_member")
            ),
            "ENVELOPE_BELOW_COMMITTED" => format!(
                "L'enveloppe ne peut pas descendre à {} : {} sont déjà engagés.",
                fr::euros(cents("envelope_cents")),
                fr::euros(cents("committed_cents"))
            ),
            "AWARD_HAS_PAYMENTS" => {
                "Un versement a déjà été fait : cette aide ne peut plus être annulée ici.".into()
            }
            "PAYMENT_EXCEEDS_AWARD" => format!(
                "Ce versement de {} dépasse le reste à payer ({}) ; un acompte doit laisser \
                 un solde.",
                fr::euros(cents("amount_cents")),
                fr::euros(cents("unpaid_cents"))
            ),
            "NOT_CO_FUNDED" => "Ce cofinanceur ne paie pas de part de cette aide : le \
                                 demandeur est hors de son territoire."
                .into(),
            "APPLICATION_DECIDED" => {
                "Cette demande a déjà été traitée entre-temps : voici son état actuel.".into()
            }
            "APPLICATION_NOT_APPROVED" => {
                "Seule une demande accordée peut être payée ou annulée.".into()
            }
            "PROGRAMME_NOT_OPEN" | "PROGRAMME_CLOSED" => {
                "Ce programme ne reçoit pas de demandes en ce moment.".into()
            }
            "INELIGIBLE" => "Votre structure n'est pas d'un type éligible à ce programme.".into(),
            "MEMBER_NOT_ACTIVE" => {
                "La structure concernée n'est pas (ou plus) membre active de l'alliance.".into()
            }
            "NOT_A_MEMBER" => "Choisissez d'abord la structure que vous représentez.".into(),
            "PROJECT_STATE" => "Ce projet n'est pas en cours : choisissez-en un autre.".into(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: String) -> String {
        text.replace(['\u{202F}', '\u{A0}'], " ")
    }

    #[test]
    fn the_aid_and_the_refusals_read_in_french() {
        let lines = [
            ("Département du Puy-de-Dôme".to_string(), 500_000),
            ("Région Auvergne-Rhône-Alpes".to_string(), 125_000),
        ];
        assert_eq!(
            plain(FR.breakdown(&lines)),
            "Département du Puy-de-Dôme 5 000,00 € + Région Auvergne-Rhône-Alpes 1 250,00 €"
        );
        let refused = Refused {
            reason: "ENVELOPE_EXHAUSTED".into(),
            facts: [
                ("aid_cents".to_string(), "500000".to_string()),
                ("envelope_cents".to_string(), "50000000".to_string()),
            ]
            .into(),
        };
        assert_eq!(
            plain(FR.refusal(&refused).expect("known")),
            "L'enveloppe du programme ne suffit plus : cette aide de 5 000,00 € la dépasserait \
             (enveloppe totale : 500 000,00 €). La demande est rejetée avec ce motif."
        );
        let unknown = Refused {
            reason: "PURCHASE_CLOSED".into(),
            facts: Default::default(),
        };
        assert_eq!(FR.refusal(&unknown), None);
        for (stored, shown) in [
            (
                "ENVELOPE_EXHAUSTED: the envelope of programmes/1 is exhausted: …",
                FR.rejected_envelope_spent,
            ),
            ("members/0190 left the alliance", FR.withdrawn_member_left),
            ("Dossier incomplet", "Dossier incomplet"),
        ] {
            assert_eq!(FR.reason(stored), shown);
        }
    }
}
