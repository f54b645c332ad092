//! The words of signing in and of the member's space.

/// Sign-in and the member's space, in one language.
#[derive(Debug)]
pub struct AccountTexts {
    /// The navigation's link to the member's space.
    pub space_link: &'static str,
    /// The sign-in page's title.
    pub sign_in_title: &'static str,
    /// The provider's button (`{}`: its name).
    pub sign_in_with: &'static str,
    /// The provider cannot be reached.
    pub provider_unavailable: &'static str,
    /// The provider refused, the person declined, or the answer did not check out.
    pub provider_refused: &'static str,
    /// How to sign in on the embedded default.
    pub sign_in_with_link: &'static str,
    /// When the site was started without sign-in.
    pub sign_in_unavailable: &'static str,
    /// A link's page: its title.
    pub link_title: &'static str,
    /// A link's page: what pressing the button does.
    pub link_intro: &'static str,
    /// A link's button for an admin.
    pub link_as_admin: &'static str,
    /// A link's button for a member (`{}`: its name).
    pub link_as_member: &'static str,
    /// A link past its time.
    pub link_expired: &'static str,
    /// A link used already.
    pub link_used: &'static str,
    /// A link that is not one.
    pub link_invalid: &'static str,
    /// Too many attempts.
    pub too_many_attempts: &'static str,
    /// A form whose secret does not match the session (or from another site).
    pub form_expired: &'static str,
    /// The member's space: its title.
    pub space_title: &'static str,
    /// Who is signed in (`{}`: the person's name).
    pub signed_in_as: &'static str,
    /// An admin's badge.
    pub admin_badge: &'static str,
    /// The member acted for.
    pub acting_for: &'static str,
    /// Acting for no member.
    pub acting_for_nobody: &'static str,
    /// The members one may act for: the chooser's label.
    pub choose_member: &'static str,
    /// The chooser's button.
    pub switch_member: &'static str,
    /// The member's contact people, as it sees them.
    pub contacts: &'static str,
    /// No contact person recorded.
    pub no_contacts: &'static str,
    /// The member's open needs: the heading.
    pub our_needs: &'static str,
    /// None open.
    pub no_needs: &'static str,
    /// The grouped purchases it is in: the heading.
    pub our_purchases: &'static str,
    /// None.
    pub no_purchases: &'static str,
    /// After a purchase it coordinates.
    pub coordinating: &'static str,
    /// After a purchase it takes part in.
    pub taking_part: &'static str,
    /// The workshops where it has a team: the heading.
    pub our_workshops: &'static str,
    /// None.
    pub no_workshops: &'static str,
    /// Where to find them.
    pub see_workshops: &'static str,
    /// The sign-out button.
    pub sign_out: &'static str,
    /// The link to the member's public page.
    pub public_page: &'static str,
    /// The audit's section, for admins.
    pub history_title: &'static str,
    /// The audit's table caption.
    pub history_caption: &'static str,
    /// No change recorded.
    pub history_empty: &'static str,
    /// The audit's columns.
    pub history_when: &'static str,
    /// The audit's columns.
    pub history_what: &'static str,
    /// The audit's columns.
    pub history_who: &'static str,
    /// A change by a person on the site (`{}`: their id).
    pub changed_by_person: &'static str,
    /// A change by an API client (`{}`: its token's subject).
    pub changed_by_client: &'static str,
    /// A change the platform made in reaction to another.
    pub changed_by_platform: &'static str,
}

impl AccountTexts {
    /// What an event says happened, from its subject (`fabrique.members.member.joined`).
    pub fn change_label(&self, subject: &str) -> Option<&'static str> {
        let what = subject.strip_prefix("fabrique.")?;
        Some(match what {
            "members.member.applied" => "Demande d'adhésion",
            "members.member.joined" => "Adhésion approuvée",
            "members.member.updated" => "Fiche modifiée",
            "members.member.suspended" => "Membre suspendu",
            "members.member.reinstated" => "Membre rétabli",
            "members.member.left" => "Départ de l'alliance",
            "registry.place.proposed" => "Lieu proposé",
            "registry.place.listed" => "Lieu publié",
            "registry.place.updated" => "Lieu modifié",
            "registry.place.suspended" => "Lieu suspendu",
            "registry.place.closed" => "Lieu fermé",
            "registry.place.review_needed" => "Lieu à revoir",
            "sharing.resource.offered" => "Ressource proposée",
            "sharing.resource.updated" => "Ressource modifiée",
            "sharing.resource.unavailable" => "Ressource indisponible",
            "sharing.resource.restored" => "Ressource de nouveau disponible",
            "sharing.resource.withdrawn" => "Ressource retirée",
            _ => return None,
        })
    }
}

/// In French.
pub const FR: AccountTexts = AccountTexts {
    space_link: "Espace membre",
    sign_in_title: "Se connecter",
    sign_in_with: "Se connecter avec {}",
    provider_unavailable: "Le service de connexion ne répond pas : réessayez dans quelques minutes.",
    provider_refused: "La connexion n'a pas abouti : recommencez depuis le bouton ci-dessous.",
    sign_in_with_link: "Sur une installation locale, `fabrique serve` affiche au démarrage un lien \
                        de connexion pour l'administrateur, et `fabrique login-link --member \
                        members/<id>` en donne un pour agir au nom d'un membre. Chaque lien ne \
                        sert qu'une fois, dans les 15 minutes.",
    sign_in_unavailable: "La connexion n'est pas configurée sur ce site : il est en lecture seule.",
    link_title: "Lien de connexion",
    link_intro: "Ce lien ne sert qu'une fois. Appuyez sur le bouton pour vous connecter.",
    link_as_admin: "Se connecter comme administrateur",
    link_as_member: "Se connecter au nom de {}",
    link_expired: "Ce lien a expiré : demandez-en un nouveau.",
    link_used: "Ce lien a déjà servi : demandez-en un nouveau.",
    link_invalid: "Ce lien n'est pas valable : vérifiez qu'il a été copié en entier.",
    too_many_attempts: "Trop de tentatives de connexion depuis votre adresse : réessayez dans une \
                        minute.",
    form_expired: "Ce formulaire a expiré ou ne vient pas de ce site : rechargez la page et \
                   recommencez.",
    space_title: "Espace membre",
    signed_in_as: "Connecté : {}",
    admin_badge: "administrateur de l'alliance",
    acting_for: "Vous agissez au nom de",
    acting_for_nobody: "Vous n'agissez au nom d'aucun membre.",
    choose_member: "Agir au nom de",
    switch_member: "Changer",
    contacts: "Personnes contacts",
    no_contacts: "Aucune personne contact n'est enregistrée.",
    our_needs: "Nos besoins",
    no_needs: "Aucun besoin publié.",
    our_purchases: "Nos achats groupés",
    no_purchases: "Votre structure ne participe à aucun achat groupé.",
    coordinating: "coordinatrice",
    taking_part: "participante",
    our_workshops: "Nos ateliers",
    no_workshops: "Votre structure n'a d'équipe dans aucun atelier.",
    see_workshops: "Voir les ateliers",
    sign_out: "Se déconnecter",
    public_page: "Voir la page publique",
    history_title: "Historique des modifications",
    history_caption: "Les 30 dernières modifications, de la plus récente à la plus ancienne \
                      (visible des administrateurs seulement)",
    history_empty: "Aucune modification enregistrée.",
    history_when: "Quand",
    history_what: "Quoi",
    history_who: "Qui",
    changed_by_person: "{} (sur le site)",
    changed_by_client: "client de l'API « {} »",
    changed_by_platform: "la plateforme, en conséquence d'un autre changement",
};
