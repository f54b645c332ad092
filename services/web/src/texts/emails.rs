//! The words of the page where people choose the e-mails they receive, in French.

use fabrique_api::notify::NotificationKind;

/// The e-mail settings page, in one language.
#[derive(Debug)]
pub struct EmailTexts {
    /// Its title, and the link to it from the member's space.
    pub title: &'static str,
    /// What it is for.
    pub intro: &'static str,
    /// Above an address's form (`{address}`).
    pub address_heading: &'static str,
    /// Beside the signed-in person's own address.
    pub yours: &'static str,
    /// The kinds' legend.
    pub kinds_legend: &'static str,
    /// The button.
    pub save: &'static str,
    /// After saving.
    pub saved: &'static str,
    /// No address to show.
    pub no_address: &'static str,
    /// An address the e-mail service does not know yet as a contact of the member.
    pub not_known_yet: &'static str,
    /// The settings changed meanwhile.
    pub changed_meanwhile: &'static str,
}

impl EmailTexts {
    /// What a kind of e-mail says, as a checkbox's label.
    pub fn kind(&self, kind: NotificationKind) -> &'static str {
        match kind {
            NotificationKind::AsOwner => {
                "Les demandes de réservation et de matériaux sur nos ressources, et leurs annulations"
            }
            NotificationKind::AsBorrower => {
                "Les réponses à nos réservations et demandes de matériaux, et leurs annulations"
            }
            NotificationKind::Applications => {
                "Les décisions et les paiements de nos demandes d’aide"
            }
            NotificationKind::Places => "Les lieux que nous animons, quand leur fiche est à revoir",
            NotificationKind::Memberships => "Les nouvelles adhésions à valider (administrateurs)",
            NotificationKind::Workshops => "Les séances des ateliers où nous sommes attendus",
            NotificationKind::Unspecified => "",
        }
    }
}

/// In French.
pub const FR: EmailTexts = EmailTexts {
    title: "Courriels reçus",
    intro: "Fabrique écrit aux contacts de votre organisation quand quelque chose les \
            attend : une demande sur une ressource, une réponse, une décision sur une \
            demande d’aide, un lieu à revoir, une séance d’atelier. Choisissez, pour \
            chaque adresse, ce qu’elle reçoit.",
    address_heading: "Adresse {address}",
    yours: "(la vôtre)",
    kinds_legend: "Cette adresse reçoit :",
    save: "Enregistrer",
    saved: "Vos choix sont enregistrés.",
    no_address: "Aucune adresse électronique n’est connue pour vous ou pour les contacts de \
                 votre organisation. Ajoutez-en une aux contacts du membre pour recevoir les \
                 courriels.",
    not_known_yet: "Cette adresse n’est pas encore connue du service des courriels : \
                    réessayez dans un instant.",
    changed_meanwhile: "Ces choix ont été modifiés entre-temps : voici les derniers \
                        enregistrés, faites à nouveau les vôtres.",
};
