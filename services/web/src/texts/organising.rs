//! The words of the organiser's tools, in French: opening steps, answering proposals,
//! deciding on hidden comments, recording verified residences.

use fabrique_api::participation::ProposalState;

/// The organiser's tools in one language.
#[derive(Debug)]
pub struct OrganisingTexts {
    /// The minutes' field.
    pub minutes_label: &'static str,
    /// Its hint.
    pub minutes_hint: &'static str,
    /// The button that publishes them.
    pub minutes_button: &'static str,
    /// The heading of cancelling a meeting.
    pub cancel_meeting_title: &'static str,
    /// What cancelling does.
    pub cancel_meeting_intro: &'static str,
    /// The button.
    pub cancel_meeting_button: &'static str,
    /// The heading of closing a budget's vote.
    pub close_budget_title: &'static str,
    /// What closing does.
    pub close_budget_intro: &'static str,
    /// The button.
    pub close_budget_button: &'static str,
    /// The moderation page's title (the organiser's space).
    pub organising_title: &'static str,
    /// What it is for.
    pub organising_intro: &'static str,
    /// The member organises nothing.
    pub organises_nothing: &'static str,
    /// The button that activates a step.
    pub activate_button: &'static str,
    /// The queue's heading.
    pub queue_title: &'static str,
    /// The queue is empty.
    pub queue_empty: &'static str,
    /// The button that makes a hidden comment visible again.
    pub restore_button: &'static str,
    /// The button that removes a comment for good.
    pub remove_button: &'static str,
    /// The heading of proposals waiting for an answer.
    pub to_answer_title: &'static str,
    /// None waits.
    pub none_to_answer: &'static str,
    /// The answer form's heading, on a proposal's page.
    pub answer_form_title: &'static str,
    /// The decision's label.
    pub decision_label: &'static str,
    /// The answer's label.
    pub answer_label: &'static str,
    /// Its hint.
    pub answer_hint: &'static str,
    /// The button.
    pub answer_button: &'static str,
    /// The verification's heading.
    pub verify_title: &'static str,
    /// What verifying means.
    pub verify_intro: &'static str,
    /// The participant number's field.
    pub verify_label: &'static str,
    /// The button.
    pub verify_button: &'static str,
    /// Said after a verification.
    pub verified_done: &'static str,
    /// The link from a process's page to its organiser's tools.
    pub organiser_tools: &'static str,
}

impl OrganisingTexts {
    /// The decisions an organiser may answer with.
    pub fn decision(&self, state: ProposalState) -> &'static str {
        match state {
            ProposalState::Evaluating => "La mettre à l'étude",
            ProposalState::Accepted => "La retenir (elle devient un projet de l'alliance)",
            ProposalState::Rejected => "Ne pas la retenir",
            _ => "",
        }
    }
}

/// In French.
pub const FR: OrganisingTexts = OrganisingTexts {
    minutes_label: "Compte rendu",
    minutes_hint: "Publié sur cette page ; séparez les paragraphes par une ligne vide.",
    minutes_button: "Publier le compte rendu",
    cancel_meeting_title: "Annuler la rencontre",
    cancel_meeting_intro: "Les inscrits la verront annulée sur cette page et dans leur \
                           agenda ; on ne peut plus s'y inscrire.",
    cancel_meeting_button: "Annuler la rencontre",
    close_budget_title: "Clore le vote",
    close_budget_intro: "Les bulletins sont comptés : les projets sont classés par voix et \
                         retenus dans cet ordre tant que l'enveloppe le permet. Plus aucun \
                         bulletin n'est accepté ensuite.",
    close_budget_button: "Clore le vote et publier les résultats",
    organising_title: "Mes démarches participatives",
    organising_intro: "Les démarches que votre structure organise : ouvrez les étapes, \
                       vérifiez la résidence des participants, répondez aux propositions et \
                       décidez des commentaires signalés.",
    organises_nothing: "Votre structure n'organise aucune démarche participative.",
    activate_button: "Ouvrir cette étape",
    queue_title: "Commentaires masqués à examiner",
    queue_empty: "Aucun commentaire n'attend votre décision.",
    restore_button: "Rendre visible",
    remove_button: "Retirer définitivement",
    to_answer_title: "Propositions qui attendent votre réponse",
    none_to_answer: "Aucune proposition n'attend de réponse.",
    answer_form_title: "Répondre à la proposition",
    decision_label: "Décision",
    answer_label: "Réponse officielle",
    answer_hint: "Obligatoire pour retenir ou non la proposition ; elle sera publiée.",
    answer_button: "Publier la réponse",
    verify_title: "Vérifier la résidence d'un participant",
    verify_intro: "Quand un habitant vous présente son numéro de participant et un \
                   justificatif de domicile, enregistrez-le ici.",
    verify_label: "Numéro de participant",
    verify_button: "Enregistrer la vérification",
    verified_done: "La résidence de ce participant est enregistrée comme vérifiée.",
    organiser_tools: "Outils de l'organisateur",
};
