//! The words of a participant's profile, in French: the pseudonym, the participant
//! number a town hall verifies, erasure.

/// A participant's profile in one language.
#[derive(Debug)]
pub struct ParticipantTexts {
    /// The participant page's title.
    pub participant_title: &'static str,
    /// What the pseudonym form says.
    pub pseudonym_intro: &'static str,
    /// The pseudonym field.
    pub pseudonym_label: &'static str,
    /// Its hint.
    pub pseudonym_hint: &'static str,
    /// The button that registers.
    pub register_button: &'static str,
    /// Before one's pseudonym.
    pub your_pseudonym: &'static str,
    /// Before one's participant number.
    pub your_number: &'static str,
    /// What the number is for.
    pub number_hint: &'static str,
    /// Nobody verified one's residence.
    pub not_verified: &'static str,
    /// Before the organisers that verified one's residence.
    pub verified_by: &'static str,
    /// The erasure's heading.
    pub erase_title: &'static str,
    /// What erasing does.
    pub erase_intro: &'static str,
    /// The box to check.
    pub erase_confirm: &'static str,
    /// The button.
    pub erase_button: &'static str,
    /// Said after erasing.
    pub erased: &'static str,
    /// The link to one's participant page, from one's space.
    pub participant_link: &'static str,
}

/// In French.
pub const FR: ParticipantTexts = ParticipantTexts {
    participant_title: "Mon profil de participant",
    pseudonym_intro: "Choisissez le pseudonyme sous lequel vos propositions et commentaires \
                      paraîtront. Votre nom et votre adresse électronique ne sont jamais \
                      montrés.",
    pseudonym_label: "Pseudonyme",
    pseudonym_hint: "2 à 40 caractères, pas une adresse électronique.",
    register_button: "Participer sous ce pseudonyme",
    your_pseudonym: "Votre pseudonyme",
    your_number: "Votre numéro de participant",
    number_hint: "Donnez-le à votre mairie avec un justificatif de domicile : elle pourra \
                  vérifier votre résidence, ce que certaines démarches demandent pour \
                  soutenir et voter.",
    not_verified: "Aucune collectivité n'a encore vérifié votre résidence.",
    verified_by: "Résidence vérifiée par",
    erase_title: "Supprimer mon profil",
    erase_intro: "Votre pseudonyme et vos vérifications sont effacés. Vos propositions et \
                  commentaires restent, signés « [compte supprimé] » ; vos soutiens et vos \
                  votes restent comptés.",
    erase_confirm: "Je comprends : mon profil de participant sera supprimé",
    erase_button: "Supprimer mon profil",
    erased: "Votre profil de participant est supprimé.",
    participant_link: "Mon profil de participant (participation citoyenne)",
};
