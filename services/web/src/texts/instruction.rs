//! The words of instructing applications beyond the decision — asking the applicant to
//! complete, the operator's opinion, advances, cancellations, envelope changes — and of
//! the applicant's answer, in one language per value of [`InstructionTexts`]; French in
//! [`FR`].

/// The words of the instruction's forms and of what they did.
#[derive(Debug)]
pub struct InstructionTexts {
    /// The queue's intro for an operator, who instructs but does not decide.
    pub operator_intro: &'static str,
    /// Under a programme's title: the member instructs it for its funder.
    pub operated_for: &'static str,
    /// The list of applications sent back to their applicant.
    pub to_complete: &'static str,
    /// The state filter's choice for them.
    pub to_complete_filter: &'static str,
    /// The field of what the applicant must add.
    pub completion_label: &'static str,
    /// Its button.
    pub ask_completion: &'static str,
    /// What was asked, shown in a row.
    pub asked: &'static str,
    /// The applicant's answer, shown in a row.
    pub answered: &'static str,
    /// The opinion's recommendation field.
    pub recommendation_label: &'static str,
    /// Recommending to approve.
    pub favourable: &'static str,
    /// Recommending to reject.
    pub unfavourable: &'static str,
    /// The opinion's text field.
    pub opinion_label: &'static str,
    /// Its button.
    pub give_opinion: &'static str,
    /// The opinion shown in a row: "Avis favorable de l'instructeur : …".
    pub opinion_favourable: &'static str,
    /// Same, unfavourable.
    pub opinion_unfavourable: &'static str,
    /// What the funder paid of an award so far, in a row.
    pub already_paid: &'static str,
    /// The advance's amount field.
    pub advance_amount: &'static str,
    /// The payment's day field.
    pub paid_on: &'static str,
    /// The advance's button.
    pub record_advance: &'static str,
    /// Cancelling an award: its button.
    pub cancel: &'static str,
    /// The envelope form's heading.
    pub envelope_title: &'static str,
    /// Its amount field.
    pub envelope_amount: &'static str,
    /// Its deliberation reference field.
    pub deliberation_reference: &'static str,
    /// Its deliberation day field.
    pub deliberation_day: &'static str,
    /// Its button.
    pub change_envelope: &'static str,
    /// The envelope changes voted so far, one line each: "{day} : {from} → {to} ({ref})".
    pub envelope_history: &'static str,
    /// The applicant's form: its answer field.
    pub answer_label: &'static str,
    /// The applicant's form: the purpose as corrected.
    pub corrected_purpose: &'static str,
    /// The applicant's button.
    pub complete: &'static str,
    /// A required text left blank.
    pub text_required: &'static str,
    /// An amount that is not one.
    pub amount_invalid: &'static str,
    /// A day that is not one.
    pub day_invalid: &'static str,
    /// Done: sent back to the applicant.
    pub completion_asked_done: &'static str,
    /// Done: the opinion recorded.
    pub opinion_done: &'static str,
    /// Done: the advance recorded.
    pub advance_done: &'static str,
    /// Done: the award cancelled.
    pub cancelled_done: &'static str,
    /// Done: the envelope changed.
    pub envelope_done: &'static str,
    /// Done: the applicant completed its application.
    pub completed_done: &'static str,
}

/// Instruction in French.
pub const FR: InstructionTexts = InstructionTexts {
    operator_intro: "Les demandes des programmes que votre structure instruit pour leur \
                     financeur : demandez des compléments, donnez votre avis ; le financeur \
                     décide.",
    operated_for: "Vous instruisez ce programme pour son financeur.",
    to_complete: "À compléter par le demandeur",
    to_complete_filter: "À compléter",
    completion_label: "Compléments demandés",
    ask_completion: "Demander des compléments",
    asked: "Compléments demandés",
    answered: "Réponse du demandeur",
    recommendation_label: "Avis",
    favourable: "Favorable",
    unfavourable: "Défavorable",
    opinion_label: "Motivation de l'avis",
    give_opinion: "Enregistrer l'avis",
    opinion_favourable: "Avis favorable de l'instructeur",
    opinion_unfavourable: "Avis défavorable de l'instructeur",
    already_paid: "Déjà versé",
    advance_amount: "Montant de l'acompte (€)",
    paid_on: "Date du versement",
    record_advance: "Enregistrer l'acompte",
    cancel: "Annuler l'aide",
    envelope_title: "Modifier l'enveloppe",
    envelope_amount: "Nouvelle enveloppe (€)",
    deliberation_reference: "Référence de la délibération",
    deliberation_day: "Date de la délibération",
    change_envelope: "Enregistrer la délibération",
    envelope_history: "{day} : de {from} à {to} (délibération {reference})",
    answer_label: "Votre réponse",
    corrected_purpose: "Objet corrigé (facultatif)",
    complete: "Envoyer les compléments",
    text_required: "Ce champ est à remplir.",
    amount_invalid: "Indiquez un montant en euros, par exemple 1 500 ou 1 500,50.",
    day_invalid: "Indiquez une date qui n'est pas dans le futur.",
    completion_asked_done: "La demande est renvoyée au demandeur avec les compléments \
                            demandés.",
    opinion_done: "Votre avis est enregistré : le financeur le lira avant de décider.",
    advance_done: "L'acompte est enregistré ; l'aide reste à solder.",
    cancelled_done: "L'aide est annulée : son montant revient à l'enveloppe.",
    envelope_done: "L'enveloppe est modifiée ; la délibération est enregistrée.",
    completed_done: "Vos compléments sont envoyés : la demande est de nouveau à instruire.",
};

impl InstructionTexts {
    /// One envelope change, for the programme's history.
    pub fn envelope_change(&self, day: &str, from: &str, to: &str, reference: &str) -> String {
        self.envelope_history
            .replace("{day}", day)
            .replace("{from}", from)
            .replace("{to}", to)
            .replace("{reference}", reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_change_reads_as_a_sentence() {
        assert_eq!(
            FR.envelope_change(
                "6 décembre 2026",
                "500 000,00 €",
                "550 000,00 €",
                "DM2-2026-045"
            ),
            "6 décembre 2026 : de 500 000,00 € à 550 000,00 € (délibération DM2-2026-045)"
        );
    }
}
