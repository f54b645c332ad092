//! The words of the organiser's tools, in French: opening steps, answering proposals,
//! deciding on hidden comments, recording verified residences.

use fabrique_api::participation::ProposalState;

/// The organiser's tools in one language.
#[derive(Debug)]
pub struct OrganisingTexts {
    /// The link to the new process form, and its title.
    pub new_process: &'static str,
    /// What the form does.
    pub new_process_intro: &'static str,
    /// The process's title field.
    pub title_label: &'static str,
    /// Its description field.
    pub description_label: &'static str,
    /// Its hint.
    pub description_hint: &'static str,
    /// The territory's field.
    pub territory_label: &'static str,
    /// Its hint.
    pub territory_hint: &'static str,
    /// The themes' field.
    pub themes_label: &'static str,
    /// Its hint.
    pub themes_hint: &'static str,
    /// The box that counts only verified residents.
    pub verified_only_label: &'static str,
    /// The support limit's field.
    pub limit_label: &'static str,
    /// The threshold's field.
    pub threshold_label: &'static str,
    /// The reports' field.
    pub reports_label: &'static str,
    /// The steps' heading.
    pub steps_legend: &'static str,
    /// Their hint.
    pub steps_hint: &'static str,
    /// One step's legend (`{}`: its number).
    pub step_legend: &'static str,
    /// A step's kind.
    pub kind_label: &'static str,
    /// A step's title.
    pub step_title_label: &'static str,
    /// Its first day.
    pub start_label: &'static str,
    /// Its last day.
    pub end_label: &'static str,
    /// What a step opens: proposals, supports, comments, votes.
    pub step_opens: [&'static str; 4],
    /// The button that creates the process.
    pub create_button: &'static str,
    /// The link to the meeting form, and its title.
    pub new_meeting: &'static str,
    /// The meeting's day.
    pub day_label: &'static str,
    /// Its start time.
    pub from_label: &'static str,
    /// Its end time.
    pub to_label: &'static str,
    /// Its place.
    pub place_label: &'static str,
    /// No place: online.
    pub no_place: &'static str,
    /// Its online address.
    pub online_label: &'static str,
    /// Its seats.
    pub seats_label: &'static str,
    /// The button that schedules it.
    pub schedule_button: &'static str,
    /// The link to the budget form, and its title.
    pub new_budget: &'static str,
    /// The envelope's field, in euros.
    pub envelope_label: &'static str,
    /// The minimum share's field, in per cent.
    pub minimum_label: &'static str,
    /// The button that opens the budget.
    pub open_budget_button: &'static str,
    /// The heading of adding an item.
    pub add_item_title: &'static str,
    /// The proposal to add.
    pub item_proposal_label: &'static str,
    /// Its cost, in euros.
    pub item_cost_label: &'static str,
    /// The button that adds it.
    pub add_item_button: &'static str,
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
    new_process: "Lancer une démarche participative",
    new_process_intro: "La démarche paraît aussitôt dans « Participation », au nom de votre \
                        structure. Ouvrez ensuite sa première étape depuis « Mes démarches \
                        participatives ».",
    title_label: "Titre (3 à 150 caractères)",
    description_label: "Présentation",
    description_hint: "Séparez les paragraphes par une ligne vide.",
    territory_label: "Territoire",
    territory_hint: "Codes INSEE des communes ou SIREN des intercommunalités concernées, \
                     séparés par des virgules.",
    themes_label: "Thèmes des propositions",
    themes_hint: "Un par ligne ; laissez vide pour n'en proposer aucun.",
    verified_only_label: "Ne compter les soutiens et les votes que des habitants dont nous \
                          avons vérifié la résidence",
    limit_label: "Soutiens par participant (0 : sans limite)",
    threshold_label: "Soutiens qui font étudier une proposition (0 : aucun seuil)",
    reports_label: "Signalements qui masquent un commentaire (0 : 3)",
    steps_legend: "Les étapes",
    steps_hint: "Dans l'ordre ; une étape sans titre est ignorée. Chaque étape commence \
                 après la fin de la précédente.",
    step_legend: "Étape {}",
    kind_label: "Type",
    step_title_label: "Titre de l'étape",
    start_label: "Premier jour",
    end_label: "Dernier jour",
    step_opens: [
        "On peut déposer des propositions",
        "On peut soutenir",
        "On peut commenter",
        "On peut voter",
    ],
    create_button: "Lancer la démarche",
    new_meeting: "Programmer une rencontre",
    day_label: "Jour",
    from_label: "De (heure de Paris)",
    to_label: "À",
    place_label: "Lieu de la carte",
    no_place: "Aucun : en ligne",
    online_label: "Ou adresse en ligne (https)",
    seats_label: "Places",
    schedule_button: "Programmer la rencontre",
    new_budget: "Ouvrir un budget participatif",
    envelope_label: "Enveloppe (en euros)",
    minimum_label: "Part de l'enveloppe qu'un bulletin doit atteindre (en %, 70 si vide)",
    open_budget_button: "Ouvrir le budget",
    add_item_title: "Ajouter un projet au budget",
    item_proposal_label: "Proposition",
    item_cost_label: "Coût (en euros)",
    add_item_button: "Ajouter le projet",
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
