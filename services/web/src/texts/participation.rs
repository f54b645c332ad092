//! The words of citizen participation, in French: processes and their steps, proposals,
//! supports, comments and their moderation, meetings, participatory budgets, and the
//! participant's pseudonym.

use fabrique_api::participation::{
    AttendanceState, BudgetState, CommentState, MeetingKind, ProposalState, StepKind,
};

use super::forms::Refused;

/// Citizen participation in one language.
#[derive(Debug)]
pub struct ParticipationTexts {
    /// The section, as the list's title.
    pub title: &'static str,
    /// The section in the navigation.
    pub nav: &'static str,
    /// What the list shows.
    pub intro: &'static str,
    /// No process yet.
    pub no_processes: &'static str,
    /// Before the organiser's name.
    pub organised_by: &'static str,
    /// The steps' heading.
    pub steps_title: &'static str,
    /// Beside the active step.
    pub active_step: &'static str,
    /// Before the active step's kind and title, in the list.
    pub active_step_now: &'static str,
    /// A process whose last step has ended (`{}`: its last day).
    pub ended: &'static str,
    /// Before the first step is activated.
    pub not_started: &'static str,
    /// Before what the active step opens.
    pub open_now: &'static str,
    /// The proposals' heading.
    pub proposals_title: &'static str,
    /// No proposal yet.
    pub no_proposals: &'static str,
    /// No proposal matches the filters.
    pub no_matching_proposals: &'static str,
    /// The order filter's label.
    pub order_label: &'static str,
    /// Most supported first.
    pub most_supported: &'static str,
    /// Newest first.
    pub newest: &'static str,
    /// The state filter's label.
    pub state_label: &'static str,
    /// The next page of proposals.
    pub next_proposals: &'static str,
    /// The link to the proposal form, and its title.
    pub propose_link: &'static str,
    /// What the proposal form asks.
    pub propose_intro: &'static str,
    /// The proposal's title field.
    pub proposal_title_label: &'static str,
    /// The proposal's text field.
    pub proposal_body_label: &'static str,
    /// Its hint.
    pub proposal_body_hint: &'static str,
    /// The theme field.
    pub theme_label: &'static str,
    /// No theme chosen.
    pub no_theme: &'static str,
    /// The place field of a proposal.
    pub place_label: &'static str,
    /// No place.
    pub no_place: &'static str,
    /// The button that publishes a proposal.
    pub propose_button: &'static str,
    /// The meetings' heading.
    pub meetings_title: &'static str,
    /// No meeting yet.
    pub no_meetings: &'static str,
    /// The budgets' heading.
    pub budgets_title: &'static str,
    /// The calendar's link.
    pub calendar_link: &'static str,
    /// The open data link of the proposals.
    pub proposals_csv_link: &'static str,
    /// The open data link of a budget's results.
    pub results_csv_link: &'static str,
    /// The open data section's heading.
    pub open_data_title: &'static str,
    /// Before the author's pseudonym.
    pub proposed_by: &'static str,
    /// The official answer's heading.
    pub answer_title: &'static str,
    /// The supports' heading.
    pub supports_title: &'static str,
    /// The button with which its author withdraws a proposal nobody supports yet.
    pub withdraw_button: &'static str,
    /// The button that supports.
    pub support_button: &'static str,
    /// The button that withdraws one's support.
    pub unsupport_button: &'static str,
    /// Said to one who supports it.
    pub you_support: &'static str,
    /// The comments' heading.
    pub comments_title: &'static str,
    /// No comment yet.
    pub no_comments: &'static str,
    /// The comment field.
    pub comment_label: &'static str,
    /// The button that posts a comment.
    pub comment_button: &'static str,
    /// The button that reports a comment.
    pub report_button: &'static str,
    /// In place of a hidden comment's text.
    pub comment_hidden: &'static str,
    /// In place of a removed comment's text.
    pub comment_removed: &'static str,
    /// Beside a comment of one's own that is hidden.
    pub your_comment_hidden: &'static str,
    /// Where a citizen who is not signed in reads how to take part.
    pub sign_in_to_take_part: &'static str,
    /// The sign-in link of that sentence.
    pub sign_in_link: &'static str,
    /// Said to a person signed in for a member only.
    pub officers_cannot_take_part: &'static str,
    /// The error page's title for one who is not a citizen.
    pub citizens_only_title: &'static str,
    /// Its text.
    pub citizens_only: &'static str,
    /// Before a meeting's time.
    pub meeting_when: &'static str,
    /// Before a meeting's place.
    pub meeting_where: &'static str,
    /// An online meeting's link.
    pub meeting_online: &'static str,
    /// The seats' heading.
    pub seats_title: &'static str,
    /// A cancelled meeting.
    pub meeting_cancelled: &'static str,
    /// The button that registers for a meeting.
    pub attend_button: &'static str,
    /// The button that gives up one's seat or place in line.
    pub unattend_button: &'static str,
    /// The minutes' heading.
    pub minutes_title: &'static str,
    /// Before the envelope.
    pub envelope: &'static str,
    /// The ballot's legend.
    pub ballot_legend: &'static str,
    /// The button that casts a ballot.
    pub vote_button: &'static str,
    /// Above one's ballot once cast.
    pub your_ballot: &'static str,
    /// The results' heading.
    pub results_title: &'static str,
    /// Beside a winner.
    pub selected: &'static str,
    /// The results' columns: rank, item, cost, votes, outcome.
    pub results_columns: [&'static str; 5],
    /// The link from a budget item to its proposal.
    pub see_proposal: &'static str,
}

impl ParticipationTexts {
    /// A step's kind.
    pub fn step_kind(&self, kind: StepKind) -> &'static str {
        match kind {
            StepKind::Information => "Information",
            StepKind::Proposals => "Propositions",
            StepKind::Deliberation => "Délibération",
            StepKind::Vote => "Vote",
            StepKind::Results => "Résultats",
            StepKind::Unspecified => "Étape",
        }
    }

    /// What a step opens, as a sentence part: `propositions, soutiens`.
    pub fn opens(&self, proposals: bool, supports: bool, comments: bool, votes: bool) -> String {
        let parts: Vec<&str> = [
            (proposals, "déposer des propositions"),
            (supports, "soutenir des propositions"),
            (comments, "commenter"),
            (votes, "voter"),
        ]
        .into_iter()
        .filter(|(open, _)| *open)
        .map(|(_, part)| part)
        .collect();
        if parts.is_empty() {
            "s'informer".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// A proposal's state.
    pub fn proposal_state(&self, state: ProposalState) -> &'static str {
        match state {
            ProposalState::Published => "Publiée",
            ProposalState::Evaluating => "À l'étude",
            ProposalState::Accepted => "Retenue",
            ProposalState::Rejected => "Non retenue",
            ProposalState::Withdrawn => "Retirée par son auteur",
            ProposalState::Unspecified => "",
        }
    }

    /// `12 soutiens`, with the threshold when there is one.
    pub fn supports(&self, count: i32, threshold: i32, reached: bool) -> String {
        let count_text = match count {
            0 => "Aucun soutien".to_string(),
            1 => "1 soutien".to_string(),
            n => format!("{} soutiens", crate::fr::integer(n.into())),
        };
        if threshold <= 0 {
            count_text
        } else if reached {
            format!("{count_text} : le seuil de {threshold} est atteint, l'organisateur l'étudie")
        } else {
            format!("{count_text} sur les {threshold} qui la feront étudier")
        }
    }

    /// How many proposals each participant may support.
    pub fn support_limit(&self, limit: i32) -> String {
        match limit {
            0 => String::new(),
            1 => "Chaque participant soutient une proposition au plus.".to_string(),
            n => format!("Chaque participant soutient {n} propositions au plus."),
        }
    }

    /// That supports and votes count only from verified participants.
    pub fn verified_only(&self) -> &'static str {
        "Seuls les participants dont l'organisateur a vérifié la résidence peuvent \
         soutenir et voter."
    }

    /// A comment's state, for its author and the organiser.
    pub fn comment_state(&self, state: CommentState) -> &'static str {
        match state {
            CommentState::Hidden => "masqué en attendant la décision de l'organisateur",
            CommentState::Removed => "retiré par l'organisateur",
            _ => "",
        }
    }

    /// `signalé 3 fois`.
    pub fn reports(&self, count: i32) -> String {
        match count {
            0 => String::new(),
            1 => "signalé 1 fois".to_string(),
            n => format!("signalé {n} fois"),
        }
    }

    /// A meeting's kind.
    pub fn meeting_kind(&self, kind: MeetingKind) -> &'static str {
        match kind {
            MeetingKind::CitizenConference => "Conférence citoyenne",
            _ => "Réunion publique",
        }
    }

    /// `12 places sur 40 prises, 3 personnes en liste d'attente`.
    pub fn seats(&self, seats: i32, registered: i32, waiting: i32) -> String {
        let taken = if registered <= 1 { "prise" } else { "prises" };
        let mut text = format!(
            "{registered} place{} sur {seats} {taken}",
            plural(registered)
        );
        if waiting > 0 {
            text.push_str(&format!(
                ", {waiting} personne{} en liste d'attente",
                plural(waiting)
            ));
        }
        text
    }

    /// One's registration.
    pub fn attendance(&self, state: AttendanceState, position: i32) -> String {
        match state {
            AttendanceState::Registered => "Vous êtes inscrit : une place vous attend.".into(),
            AttendanceState::Waiting => format!(
                "Vous êtes en liste d'attente, n° {position} : vous aurez la place du \
                 prochain qui se désiste."
            ),
            _ => String::new(),
        }
    }

    /// A budget's state.
    pub fn budget_state(&self, state: BudgetState) -> &'static str {
        match state {
            BudgetState::Open => "Vote ouvert",
            BudgetState::Closed => "Vote clos : résultats",
            BudgetState::Unspecified => "",
        }
    }

    /// What a ballot must cost.
    pub fn ballot_rule(&self, envelope_cents: i64, minimum_cents: i64) -> String {
        format!(
            "Choisissez les projets que vous voulez voir financés : leur total doit rester \
             dans l'enveloppe de {} et atteindre au moins {}.",
            crate::fr::euros(envelope_cents),
            crate::fr::euros(minimum_cents)
        )
    }

    /// `12 bulletins`.
    pub fn ballots(&self, count: i32) -> String {
        match count {
            0 => "Aucun bulletin pour l'instant".to_string(),
            1 => "1 bulletin".to_string(),
            n => format!("{} bulletins", crate::fr::integer(n.into())),
        }
    }

    /// `12 voix`.
    pub fn votes(&self, count: i32) -> String {
        format!("{count} voix")
    }

    /// What the winners cost.
    pub fn selected_total(&self, selected_cents: i64, envelope_cents: i64) -> String {
        format!(
            "Projets retenus : {} sur une enveloppe de {}.",
            crate::fr::euros(selected_cents),
            crate::fr::euros(envelope_cents)
        )
    }

    /// `3 propositions`.
    pub fn proposals_count(&self, count: usize) -> String {
        match count {
            0 => "aucune proposition".into(),
            1 => "1 proposition".into(),
            n => format!("{n} propositions"),
        }
    }

    /// A refusal of the participation service, in French; `None` for a code that is
    /// not one of its own.
    pub fn refusal(&self, refused: &Refused) -> Option<String> {
        let fact = |key: &str| refused.facts.get(key).cloned().unwrap_or_default();
        let euros = |key: &str| {
            fact(key)
                .parse::<i64>()
                .map(crate::fr::euros)
                .unwrap_or_default()
        };
        Some(match refused.reason.as_str() {
            "STEP_CLOSED" => "L'étape en cours de cette démarche ne permet pas cela.".into(),
            "PARTICIPANT_NOT_VERIFIED" => "Cette démarche ne compte que les participants dont \
                l'organisateur a vérifié la résidence : présentez votre numéro de participant \
                à la mairie."
                .into(),
            "SUPPORT_LIMIT_REACHED" => format!(
                "Vous soutenez déjà {} propositions de cette démarche, le maximum : retirez \
                 un soutien pour en donner un autre.",
                fact("limit")
            ),
            "PROPOSAL_STATE" => "L'état de cette proposition ne le permet plus.".into(),
            "PROPOSAL_HAS_SUPPORTS" => {
                "Des participants la soutiennent déjà : elle ne peut plus être retirée.".into()
            }
            "MEETING_CANCELLED" => "Cette rencontre est annulée.".into(),
            "MEETING_STARTED" => {
                "Cette rencontre a commencé : les inscriptions sont closes.".into()
            }
            "COMMENT_RATE_LIMITED" => {
                let until = chrono::DateTime::parse_from_rfc3339(&fact("retry_after"))
                    .map(|at| {
                        use chrono::Timelike as _;
                        let at = crate::fr::in_paris(at.with_timezone(&chrono::Utc));
                        format!(" (jusqu'à {})", crate::fr::clock(at.hour(), at.minute()))
                    })
                    .unwrap_or_default();
                format!(
                    "Vous avez beaucoup commenté ces dernières minutes : attendez un peu \
                     avant d'écrire à nouveau{until}."
                )
            }
            "COMMENT_STATE" => "Ce commentaire ne peut plus recevoir cette action.".into(),
            "BUDGET_CLOSED" => "Le vote de ce budget est clos.".into(),
            "ALREADY_VOTED" => "Vous avez déjà voté pour ce budget.".into(),
            "BALLOT_OVER_ENVELOPE" => format!(
                "Votre choix coûte {}, plus que l'enveloppe de {} : retirez un projet.",
                euros("total_cents"),
                euros("envelope_cents")
            ),
            "BALLOT_UNDER_MINIMUM" => format!(
                "Votre choix coûte {}, moins que les {} à atteindre : ajoutez un projet.",
                euros("total_cents"),
                euros("minimum_cents")
            ),
            "ORGANISER_NOT_ACTIVE" => "Le membre organisateur n'est pas actif.".into(),
            "PLACE_NOT_LISTED" => "Ce lieu n'est pas publié sur la carte des lieux : \
                choisissez-en un autre, ou une adresse en ligne."
                .into(),
            _ => return None,
        })
    }
}

fn plural(count: i32) -> &'static str {
    if count > 1 { "s" } else { "" }
}

/// In French.
pub const FR: ParticipationTexts = ParticipationTexts {
    title: "Participation citoyenne",
    nav: "Participation",
    intro: "Les consultations, conférences citoyennes et budgets participatifs des \
            collectivités de l'alliance : proposez, soutenez, débattez, votez.",
    no_processes: "Aucune démarche participative n'est ouverte pour l'instant.",
    organised_by: "Organisée par",
    steps_title: "Les étapes",
    active_step: "en cours",
    active_step_now: "Étape en cours",
    ended: "Démarche terminée le {}",
    not_started: "La démarche n'a pas encore commencé.",
    open_now: "En ce moment, vous pouvez",
    proposals_title: "Les propositions",
    no_proposals: "Aucune proposition pour l'instant.",
    no_matching_proposals: "Aucune proposition ne répond à ces critères.",
    order_label: "Ordre",
    most_supported: "Les plus soutenues d'abord",
    newest: "Les plus récentes d'abord",
    state_label: "État",
    next_proposals: "Propositions suivantes",
    propose_link: "Déposer une proposition",
    propose_intro: "Votre proposition sera publiée sous votre pseudonyme : les autres \
                    participants pourront la soutenir et la commenter, et l'organisateur y \
                    répondra.",
    proposal_title_label: "Titre (5 à 150 caractères)",
    proposal_body_label: "Votre proposition",
    proposal_body_hint: "15 caractères au moins : ce que vous proposez, où, pour qui.",
    theme_label: "Thème",
    no_theme: "Sans thème",
    place_label: "Où (un lieu de la carte, si elle en concerne un)",
    no_place: "Aucun lieu en particulier",
    propose_button: "Publier la proposition",
    meetings_title: "Les rencontres",
    no_meetings: "Aucune rencontre n'est prévue.",
    budgets_title: "Les budgets participatifs",
    calendar_link: "Ajouter les rencontres à mon agenda (iCalendar)",
    proposals_csv_link: "Télécharger les propositions et les réponses (tableur CSV)",
    results_csv_link: "Télécharger les résultats (tableur CSV)",
    open_data_title: "Données ouvertes",
    proposed_by: "Proposée par",
    answer_title: "La réponse de l'organisateur",
    supports_title: "Soutiens",
    withdraw_button: "Retirer ma proposition",
    support_button: "Soutenir cette proposition",
    unsupport_button: "Retirer mon soutien",
    you_support: "Vous soutenez cette proposition.",
    comments_title: "Commentaires",
    no_comments: "Aucun commentaire pour l'instant.",
    comment_label: "Votre commentaire (2 à 2 000 caractères)",
    comment_button: "Publier le commentaire",
    report_button: "Signaler ce commentaire",
    comment_hidden: "Ce commentaire est masqué après plusieurs signalements, en attendant la \
                     décision de l'organisateur.",
    comment_removed: "Ce commentaire a été retiré par l'organisateur.",
    your_comment_hidden: "Votre commentaire est masqué pour les autres",
    sign_in_to_take_part: "Pour proposer, soutenir, commenter, vous inscrire ou voter, \
                           connectez-vous : vous participerez sous un pseudonyme.",
    sign_in_link: "Se connecter pour participer",
    officers_cannot_take_part: "Vous êtes connecté au nom d'un membre de l'alliance : la \
                                participation citoyenne se fait avec un compte personnel, \
                                auprès du fournisseur d'identité.",
    citizens_only_title: "Réservé aux habitants connectés",
    citizens_only: "Pour participer, connectez-vous avec votre compte personnel auprès du \
                    fournisseur d'identité : une connexion par lien au nom d'un membre ne \
                    permet pas de participer.",
    meeting_when: "Quand",
    meeting_where: "Où",
    meeting_online: "En ligne",
    seats_title: "Inscriptions",
    meeting_cancelled: "Cette rencontre est annulée.",
    attend_button: "M'inscrire",
    unattend_button: "Annuler mon inscription",
    minutes_title: "Le compte rendu",
    envelope: "Enveloppe",
    ballot_legend: "Votre bulletin",
    vote_button: "Voter",
    your_ballot: "Votre bulletin est enregistré",
    results_title: "Résultats",
    selected: "retenu",
    results_columns: ["Rang", "Projet", "Coût", "Voix", "Issue"],
    see_proposal: "voir la proposition",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_refusals_read_as_french_sentences() {
        assert_eq!(FR.supports(0, 0, false), "Aucun soutien");
        assert_eq!(
            FR.supports(12, 20, false),
            "12 soutiens sur les 20 qui la feront étudier"
        );
        assert!(
            FR.supports(20, 20, true)
                .contains("le seuil de 20 est atteint")
        );
        assert_eq!(FR.seats(40, 1, 0), "1 place sur 40 prise");
        assert_eq!(
            FR.seats(3, 3, 2),
            "3 places sur 3 prises, 2 personnes en liste d'attente"
        );
        assert_eq!(
            FR.opens(true, true, false, false),
            "déposer des propositions, soutenir des propositions"
        );
        let refused = |reason: &str, facts: &[(&str, &str)]| Refused {
            reason: reason.into(),
            facts: facts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        assert_eq!(
            FR.refusal(&refused(
                "BALLOT_OVER_ENVELOPE",
                &[("total_cents", "2500000"), ("envelope_cents", "2000000")]
            ))
            .as_deref(),
            Some(
                "Votre choix coûte 25\u{202f}000,00\u{a0}€, plus que l'enveloppe de \
                 20\u{202f}000,00\u{a0}€ : retirez un projet."
            )
        );
        assert!(
            FR.refusal(&refused("SUPPORT_LIMIT_REACHED", &[("limit", "3")]))
                .is_some_and(|s| s.contains("déjà 3 propositions"))
        );
        assert_eq!(FR.refusal(&refused("SLOT_TAKEN", &[])), None);
        assert_eq!(
            FR.refusal(&refused(
                "COMMENT_RATE_LIMITED",
                &[("retry_after", "2026-12-08T13:32:10Z")]
            ))
            .as_deref(),
            Some(
                "Vous avez beaucoup commenté ces dernières minutes : attendez un peu avant \
                 d'écrire à nouveau (jusqu'à 14\u{a0}h\u{a0}32)."
            )
        );
    }
}
