//! The words of the administration page: memberships to decide, places to publish or
//! review, e-mails given up, in French.

use super::forms::Refused;

/// The administration page, in one language.
#[derive(Debug)]
pub struct AdministrationTexts {
    /// Its title, and the link to it.
    pub title: &'static str,
    /// What it is for.
    pub intro: &'static str,
    /// Only admins.
    pub admins_only: &'static str,
    /// Memberships to decide: the section's title.
    pub pending_title: &'static str,
    /// None waiting.
    pub pending_none: &'static str,
    /// The member column.
    pub member: &'static str,
    /// The kind column.
    pub kind: &'static str,
    /// The identifiers column (SIREN, INSEE).
    pub identifiers: &'static str,
    /// The contacts column.
    pub contacts: &'static str,
    /// The date column.
    pub since: &'static str,
    /// The actions column.
    pub actions: &'static str,
    /// Approve a membership.
    pub approve: &'static str,
    /// Refuse a membership (it leaves).
    pub refuse: &'static str,
    /// The reason field's label.
    pub reason_label: &'static str,
    /// Suspended members: the section's title.
    pub suspended_title: &'static str,
    /// None suspended.
    pub suspended_none: &'static str,
    /// Reinstate a member.
    pub reinstate: &'static str,
    /// Members that left: the section's title.
    pub left_title: &'static str,
    /// None left.
    pub left_none: &'static str,
    /// The reason column.
    pub reason: &'static str,
    /// Proposed places: the section's title.
    pub proposed_title: &'static str,
    /// What the section shows.
    pub proposed_intro: &'static str,
    /// None proposed.
    pub proposed_none: &'static str,
    /// The proposed place, beside its possible duplicates.
    pub proposed_place: &'static str,
    /// Above the possible duplicates.
    pub possible_duplicates: &'static str,
    /// No possible duplicate.
    pub no_duplicate: &'static str,
    /// Publish a proposed place.
    pub publish: &'static str,
    /// Close a proposed place (a duplicate, a mistake).
    pub close: &'static str,
    /// Places to review: the section's title.
    pub review_title: &'static str,
    /// None to review.
    pub review_none: &'static str,
    /// Mark a place reviewed.
    pub reviewed: &'static str,
    /// E-mails given up: the section's title.
    pub failed_title: &'static str,
    /// What the section says (`{n}`: how many).
    pub failed_count: &'static str,
    /// None given up.
    pub failed_none: &'static str,
    /// The recipient column.
    pub recipient: &'static str,
    /// The subject column.
    pub subject: &'static str,
    /// The error column.
    pub error: &'static str,
    /// Send again.
    pub retry: &'static str,
    /// The e-mail service does not answer.
    pub notify_unavailable: &'static str,
    /// Done, by action.
    pub done_approved: &'static str,
    /// Done: refused.
    pub done_refused: &'static str,
    /// Done: reinstated.
    pub done_reinstated: &'static str,
    /// Done: published.
    pub done_published: &'static str,
    /// Done: closed.
    pub done_closed: &'static str,
    /// Done: reviewed.
    pub done_reviewed: &'static str,
    /// Done: e-mail sent again.
    pub done_retried: &'static str,
    /// Dead letters: the section's title.
    pub dead_title: &'static str,
    /// What they are, and what to do.
    pub dead_intro: &'static str,
    /// None anywhere.
    pub dead_none: &'static str,
    /// A service that did not answer (`{}`: its name).
    pub dead_unavailable: &'static str,
    /// The event column.
    pub dead_event: &'static str,
    /// When it happened.
    pub dead_when: &'static str,
    /// The consumer column.
    pub dead_consumer: &'static str,
    /// The tries column.
    pub dead_deliveries: &'static str,
    /// Hand it back to its consumer.
    pub dead_replay: &'static str,
    /// Said once it went through.
    pub done_replayed: &'static str,
    /// Address, locality.
    pub address: &'static str,
    /// The operator column.
    pub operator: &'static str,
}

impl AdministrationTexts {
    /// The refusals the page's actions meet.
    pub fn refusal(&self, refused: &Refused) -> Option<String> {
        Some(match refused.reason.as_str() {
            "MEMBER_NOT_PENDING" => "Cette adhésion a déjà été traitée.".into(),
            "MEMBER_NOT_SUSPENDED" => "Ce membre n'est plus suspendu.".into(),
            "MEMBER_ALREADY_LEFT" => "Ce membre a déjà quitté l'alliance.".into(),
            "PLACE_NOT_PROPOSED" => "Ce lieu a déjà été traité.".into(),
            "PLACE_CLOSED" => "Ce lieu est fermé.".into(),
            "OPERATOR_NOT_ACTIVE" => "Le membre qui anime ce lieu n'est pas actif : \
                                      approuvez d'abord son adhésion."
                .into(),
            "DELIVERY_NOT_FAILED" => "Ce courriel est déjà reparti.".into(),
            "DEAD_LETTER_STILL_FAILING" => "Le service ne peut toujours pas traiter cet \
                                            événement : il reste dans la liste. Réglez \
                                            d'abord la cause indiquée."
                .into(),
            _ => return None,
        })
    }

    /// A service's name as the page gives it.
    pub fn service_label(&self, service: &str) -> &'static str {
        match service {
            "members" => "Membres",
            "registry" => "Lieux",
            "sharing" => "Partage",
            "projects" => "Projets",
            "notify" => "Courriels",
            "participation" => "Participation",
            _ => "Service",
        }
    }

    /// `Projets : 1 événement en échec`, `… : 3 événements en échec`.
    pub fn dead_count(&self, service: &str, n: i64) -> String {
        let events = if n > 1 { "événements" } else { "événement" };
        format!("{service} : {} {events} en échec", crate::fr::integer(n))
    }
}

/// In French.
pub const FR: AdministrationTexts = AdministrationTexts {
    title: "Administration",
    intro: "Ce qui attend une décision des administrateurs de l'alliance.",
    admins_only: "Cette page est réservée aux administrateurs de l'alliance.",
    pending_title: "Adhésions à valider",
    pending_none: "Aucune adhésion n'attend de décision.",
    member: "Membre",
    kind: "Type",
    identifiers: "SIREN, code INSEE",
    contacts: "Contacts",
    since: "Demandée le",
    actions: "Décision",
    approve: "Approuver",
    refuse: "Refuser",
    reason_label: "Motif",
    suspended_title: "Membres suspendus",
    suspended_none: "Aucun membre n'est suspendu.",
    reinstate: "Rétablir",
    left_title: "Membres partis",
    left_none: "Aucun membre n'a quitté l'alliance.",
    reason: "Motif",
    proposed_title: "Lieux proposés",
    proposed_intro: "Chaque lieu proposé figure à côté des lieux proches au nom \
                     semblable : publiez-le, ou fermez-le s'il fait doublon.",
    proposed_none: "Aucun lieu n'attend d'être publié.",
    proposed_place: "Lieu proposé",
    possible_duplicates: "Doublons possibles",
    no_duplicate: "Aucun lieu proche au nom semblable.",
    publish: "Publier",
    close: "Fermer",
    review_title: "Lieux à revoir",
    review_none: "Aucun lieu n'est à revoir.",
    reviewed: "Marquer comme revu",
    failed_title: "Courriels en échec",
    failed_count: "{n} courriel(s) n'ont pas pu partir après toutes leurs tentatives.",
    failed_none: "Aucun courriel en échec.",
    recipient: "Destinataire",
    subject: "Objet",
    error: "Dernière réponse du serveur",
    retry: "Renvoyer",
    notify_unavailable: "Le service des courriels ne répond pas : les courriels en échec \
                         ne peuvent pas être affichés.",
    done_approved: "L'adhésion est approuvée.",
    done_refused: "L'adhésion est refusée.",
    done_reinstated: "Le membre est rétabli.",
    done_published: "Le lieu est publié.",
    done_closed: "Le lieu est fermé.",
    done_reviewed: "Le lieu est marqué comme revu.",
    done_retried: "Le courriel repart.",
    dead_title: "Événements en échec",
    dead_intro: "Les événements qu'un service n'a pas pu prendre en compte, même après \
                 plusieurs tentatives (une donnée inattendue, une panne). Une fois la \
                 cause réglée, « Traiter à nouveau » les lui confie de nouveau ; s'il \
                 échoue encore, l'événement reste ici.",
    dead_none: "Aucun événement en échec.",
    dead_unavailable: "{} : le service n'a pas répondu, ses événements en échec ne \
                       peuvent pas être lus pour le moment.",
    dead_event: "Événement",
    dead_when: "Survenu le",
    dead_consumer: "Consommateur",
    dead_deliveries: "Tentatives",
    dead_replay: "Traiter à nouveau",
    done_replayed: "L'événement est traité.",
    address: "Adresse",
    operator: "Animé par",
};
