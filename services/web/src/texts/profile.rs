//! The words of a member's own record ("Notre fiche"), in French.

/// "Notre fiche", in one language.
#[derive(Debug)]
pub struct ProfileTexts {
    /// Its title, and the link to it.
    pub title: &'static str,
    /// What it is for.
    pub intro: &'static str,
    /// The name's label.
    pub name_label: &'static str,
    /// The territory's label.
    pub territory_label: &'static str,
    /// The website's label.
    pub website_label: &'static str,
    /// The contacts' legend.
    pub contacts_legend: &'static str,
    /// What the contacts are for.
    pub contacts_hint: &'static str,
    /// A contact row's legend (`{}`: its number).
    pub contact_legend: &'static str,
    /// A contact's name.
    pub contact_name: &'static str,
    /// A contact's role.
    pub contact_role: &'static str,
    /// A contact's e-mail.
    pub contact_email: &'static str,
    /// A contact's title.
    pub contact_title: &'static str,
    /// The button.
    pub save: &'static str,
    /// After saving.
    pub saved: &'static str,
}

impl ProfileTexts {
    /// Contact rows the API refused, each with the API's words (in English).
    pub fn contact_problem(&self, rows: &[String]) -> String {
        format!(
            "Vérifiez ces contacts : {}. Chaque contact a un nom, et une adresse \
             électronique valable s'il en a une.",
            rows.join(" ; ")
        )
    }
}

/// In French.
pub const FR: ProfileTexts = ProfileTexts {
    title: "Notre fiche",
    intro: "Ce que votre structure dit d'elle-même dans l'annuaire, et les personnes que \
            l'alliance peut joindre. Son type, son SIREN et son code INSEE se changent \
            auprès des administrateurs.",
    name_label: "Nom",
    territory_label: "Territoire",
    website_label: "Site web",
    contacts_legend: "Contacts",
    contacts_hint: "Les adresses électroniques ne sont montrées qu'à votre structure et aux \
                    administrateurs. Une personne se connecte au nom de la structure avec \
                    l'adresse vérifiée par son compte : retirer son adresse lui retire \
                    l'accès à sa prochaine connexion. Laissez une ligne vide pour retirer \
                    un contact.",
    contact_legend: "Contact {}",
    contact_name: "Nom et prénom",
    contact_role: "Rôle",
    contact_email: "Adresse électronique",
    contact_title: "Fonction",
    save: "Enregistrer la fiche",
    saved: "La fiche est enregistrée.",
};
