//! The words every form shares: what the API refused, told in French.

/// The `ErrorInfo` of a refusal: its code and its facts.
pub struct Refused {
    /// `SLOT_TAKEN`.
    pub reason: String,
    /// `ErrorInfo.metadata`.
    pub facts: std::collections::HashMap<String, String>,
}

/// The forms' common sentences, in one language.
#[derive(Debug)]
pub struct FormTexts {
    /// Above a form whose fields were refused, each told next to it.
    pub check_fields: &'static str,
    /// The caller may not do this (a stale page, another member's thing).
    pub not_allowed: &'static str,
    /// It changed since the page was shown (a stale etag, a concurrent change).
    pub changed_meanwhile: &'static str,
    /// A request id met again from another person.
    pub sent_twice: &'static str,
    /// The field marking a required field, for those who cannot see the asterisk.
    pub required: &'static str,
    /// A required field left empty.
    pub missing: &'static str,
    /// The list of what was done, above a page a form led to.
    pub done_label: &'static str,
}

impl FormTexts {
    /// Fields the form does not show were refused: the API's own words, field by field.
    pub fn refused_fields(&self, fields: &[String]) -> String {
        if fields.is_empty() {
            self.check_fields.to_string()
        } else {
            format!(
                "La plateforme a refusé ces valeurs (en anglais) : {}.",
                fields.join(" ; ")
            )
        }
    }

    /// A refusal the form did not expect: the API's message, in English.
    pub fn refused(&self, message: &str) -> String {
        format!("La plateforme a refusé cette demande (en anglais) : « {message} ».")
    }
}

/// The forms in French.
pub const FR: FormTexts = FormTexts {
    check_fields: "Certaines valeurs ne conviennent pas : corrigez les champs signalés \
                   ci-dessous.",
    not_allowed: "Vous ne pouvez pas faire cela pour le membre que vous représentez.",
    changed_meanwhile: "Cette fiche a changé depuis que la page s'est affichée : voici son \
                        état actuel. Recommencez si c'est toujours utile.",
    sent_twice: "Ce formulaire a déjà été envoyé par une autre personne : rechargez la page.",
    required: "obligatoire",
    missing: "Ce champ est obligatoire.",
    done_label: "C'est fait",
};
