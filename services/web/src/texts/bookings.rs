//! The words of booking a resource's slot and of following one's reservations: the form,
//! the owner's and the borrower's lists, and every refusal of the sharing service a
//! booking can meet, told in French.

use super::forms::Refused;
use crate::fr;

/// Booking and reservations, in one language.
#[derive(Debug)]
pub struct BookingTexts {
    /// The booking form's heading.
    pub book_title: &'static str,
    /// What booking does, under the heading.
    pub book_intro: &'static str,
    /// The day's label.
    pub day_label: &'static str,
    /// The start's label (Paris time).
    pub from_label: &'static str,
    /// The end's label.
    pub to_label: &'static str,
    /// The note's label.
    pub note_label: &'static str,
    /// What the note is for.
    pub note_hint: &'static str,
    /// The form's button.
    pub book_button: &'static str,
    /// In place of the form for a visitor.
    pub sign_in_to_book: &'static str,
    /// The sign-in link's text.
    pub sign_in_link: &'static str,
    /// In place of the form on one's own resource.
    pub own_resource: &'static str,
    /// The link to one's reservations.
    pub my_reservations_link: &'static str,
    /// A date or time that is not one.
    pub bad_day: &'static str,
    /// A time that is not one.
    pub bad_time: &'static str,
    /// An end before the start.
    pub end_before_start: &'static str,
    /// A note too long.
    pub note_too_long: &'static str,
    /// The free slots proposed after a refusal: their heading.
    pub next_free_title: &'static str,
    /// When no free slot of that length is near.
    pub no_free_slot_near: &'static str,
    /// The reservations page's title.
    pub reservations_title: &'static str,
    /// What a member's reservations page holds.
    pub reservations_intro: &'static str,
    /// Requests on the member's resources, to answer.
    pub to_answer: &'static str,
    /// Nothing to answer.
    pub nothing_to_answer: &'static str,
    /// The member's resources' other reservations.
    pub on_my_resources: &'static str,
    /// What the member booked.
    pub my_bookings: &'static str,
    /// Nothing booked.
    pub no_bookings: &'static str,
    /// A table's column: the resource.
    pub resource: &'static str,
    /// A table's column: the slot.
    pub slot: &'static str,
    /// A table's column: who booked.
    pub borrower: &'static str,
    /// A table's column: the state.
    pub state: &'static str,
    /// A table's column: what may be done.
    pub actions: &'static str,
    /// Confirming a request.
    pub confirm: &'static str,
    /// Declining a request.
    pub decline: &'static str,
    /// Cancelling a reservation.
    pub cancel: &'static str,
    /// The reason's label when declining or cancelling.
    pub reason_label: &'static str,
    /// After a request was sent.
    pub requested_done: &'static str,
    /// After a request was confirmed.
    pub confirmed_done: &'static str,
    /// After a request was declined.
    pub declined_done: &'static str,
    /// After a reservation was cancelled.
    pub cancelled_done: &'static str,
    /// The claim form's heading.
    pub claim_title: &'static str,
    /// What claiming does.
    pub claim_intro: &'static str,
    /// The quantity's label.
    pub quantity_label: &'static str,
    /// The "accept less" box.
    pub accept_less_label: &'static str,
    /// The claim form's button.
    pub claim_button: &'static str,
    /// In place of the claim form for a visitor.
    pub sign_in_to_claim: &'static str,
    /// In place of the claim form on one's own material.
    pub own_material: &'static str,
    /// In place of the claim form when nothing is left.
    pub nothing_left: &'static str,
    /// The member's claims.
    pub my_claims: &'static str,
    /// Claims of the member's materials.
    pub claims_on_mine: &'static str,
    /// No claim.
    pub no_claims: &'static str,
    /// A column: the quantity.
    pub quantity: &'static str,
    /// A column: who claimed.
    pub claimant: &'static str,
    /// Handing a claim over.
    pub collect: &'static str,
    /// Cancelling a claim.
    pub cancel_claim: &'static str,
    /// After claiming.
    pub claimed_done: &'static str,
    /// After handing over.
    pub collected_done: &'static str,
    /// After cancelling a claim.
    pub claim_cancelled_done: &'static str,
}

/// Booking in French.
pub const FR: BookingTexts = BookingTexts {
    book_title: "Réserver un créneau",
    book_intro: "Votre demande bloque le créneau aussitôt ; le propriétaire la confirme ou \
                 la refuse. Heures de Paris.",
    day_label: "Jour",
    from_label: "De",
    to_label: "À",
    note_label: "Message au propriétaire",
    note_hint: "Facultatif : l'usage prévu, qui viendra chercher, etc. 1 000 caractères au \
                plus.",
    book_button: "Demander ce créneau",
    sign_in_to_book: "Pour réserver au nom de votre structure,",
    sign_in_link: "connectez-vous",
    own_resource: "Cette ressource est proposée par le membre que vous représentez : les \
                   demandes de réservation vous attendent dans",
    my_reservations_link: "Mes réservations",
    bad_day: "Indiquez un jour (jj/mm/aaaa).",
    bad_time: "Indiquez une heure (hh:mm).",
    end_before_start: "La fin doit venir après le début.",
    note_too_long: "Le message fait au plus 1 000 caractères.",
    next_free_title: "Créneaux libres de même durée les plus proches",
    no_free_slot_near: "Aucun créneau de cette durée n'est libre dans les deux semaines \
                        suivantes.",
    reservations_title: "Mes réservations",
    reservations_intro: "Les demandes reçues sur les ressources de votre structure, et ce \
                         qu'elle a réservé chez les autres.",
    to_answer: "Demandes à traiter",
    nothing_to_answer: "Aucune demande n'attend votre réponse.",
    on_my_resources: "Réservations de vos ressources",
    my_bookings: "Ce que vous avez réservé",
    no_bookings: "Aucune réservation.",
    resource: "Ressource",
    slot: "Créneau",
    borrower: "Demandée par",
    state: "État",
    actions: "Actions",
    confirm: "Confirmer",
    decline: "Refuser",
    cancel: "Annuler la réservation",
    reason_label: "Motif (facultatif)",
    requested_done: "Votre demande est envoyée : le créneau vous est réservé en attendant la \
                     réponse du propriétaire.",
    confirmed_done: "La réservation est confirmée.",
    declined_done: "La demande est refusée : le créneau est de nouveau libre.",
    cancelled_done: "La réservation est annulée : le créneau est de nouveau libre.",
    claim_title: "Demander une quantité",
    claim_intro: "La quantité vous est mise de côté aussitôt ; le propriétaire vous la remet.",
    quantity_label: "Quantité",
    accept_less_label: "S'il en reste moins, prendre ce qui reste",
    claim_button: "Demander cette quantité",
    sign_in_to_claim: "Pour demander une quantité au nom de votre structure,",
    own_material: "Ce matériau est proposé par le membre que vous représentez : les demandes \
                   vous attendent dans",
    nothing_left: "Il n'en reste plus.",
    my_claims: "Matériaux que vous avez demandés",
    claims_on_mine: "Matériaux demandés chez vous",
    no_claims: "Aucune demande de matériau.",
    quantity: "Quantité",
    claimant: "Demandé par",
    collect: "Marquer comme remis",
    cancel_claim: "Annuler",
    claimed_done: "La quantité vous est mise de côté : le propriétaire vous la remettra.",
    collected_done: "Le matériau est marqué comme remis.",
    claim_cancelled_done: "La demande est annulée : la quantité retourne au stock.",
};

impl BookingTexts {
    /// `mardi 8 décembre 2026, 10 h – 12 h`, in Paris time (the end's day too when it
    /// is another).
    pub fn slot_of(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> String {
        use chrono::Timelike;
        let (from, to) = (fr::in_paris(start), fr::in_paris(end));
        let clock = |at: chrono::DateTime<chrono::FixedOffset>| fr::clock(at.hour(), at.minute());
        if from.date_naive() == to.date_naive() {
            format!(
                "{}, {} – {}",
                fr::weekday_date(from.date_naive()),
                clock(from),
                clock(to)
            )
        } else {
            format!(
                "du {} à {} au {} à {}",
                fr::weekday_date(from.date_naive()),
                clock(from),
                fr::weekday_date(to.date_naive()),
                clock(to)
            )
        }
    }

    /// A claim's state.
    pub fn claim_state(&self, state: fabrique_api::sharing::ClaimState) -> &'static str {
        use fabrique_api::sharing::ClaimState as S;
        match state {
            S::Held => "Mise de côté",
            S::Collected => "Remise",
            S::Cancelled => "Annulée",
            S::Expired => "Expirée (non remise à temps)",
            S::Unspecified => "",
        }
    }

    /// Why the sharing service refused a claim, in French (`unit`: the material's, as
    /// written after a number).
    pub fn claim_refusal(&self, refused: &Refused, unit: &str) -> Option<String> {
        let remaining = refused
            .facts
            .get("remaining")
            .and_then(|r| r.parse::<f64>().ok())
            .unwrap_or(0.0);
        match refused.reason.as_str() {
            "NOT_ENOUGH_LEFT" if remaining > 0.0 => Some(format!(
                "Il n'en reste que {}{}{unit} : demandez moins, ou cochez « S'il en reste \
                 moins, prendre ce qui reste ».",
                fr::number(remaining, 3),
                fr::BEFORE_UNIT
            )),
            "NOT_ENOUGH_LEFT" => Some("Il n'en reste plus.".into()),
            "CLAIM_NOT_HELD" => {
                Some("Cette demande a déjà été remise ou annulée : voici son état actuel.".into())
            }
            "NOT_A_MATERIAL" => Some("Cette ressource ne se demande pas en quantité.".into()),
            _ => self.refusal(refused),
        }
    }

    /// A reservation's state.
    pub fn state(&self, state: fabrique_api::sharing::ReservationState) -> &'static str {
        use fabrique_api::sharing::ReservationState as S;
        match state {
            S::Requested => "Demandée",
            S::Confirmed => "Confirmée",
            S::Declined => "Refusée",
            S::Cancelled => "Annulée",
            S::Completed => "Terminée",
            S::Expired => "Expirée (sans réponse à temps)",
            S::Unspecified => "",
        }
    }

    /// Why the sharing service refused a booking or a reservation's change, in French;
    /// `None` for a code a booking does not meet.
    /// Over 60 lines: one arm per refusal, so that every sentence a booking may be told
    /// is read in one place.
    pub fn refusal(&self, refused: &Refused) -> Option<String> {
        let fact = |key: &str| refused.facts.get(key).cloned().unwrap_or_default();
        let time = |key: &str| {
            chrono::DateTime::parse_from_rfc3339(&fact(key))
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        Some(match refused.reason.as_str() {
            "SLOT_TAKEN" => {
                let turnaround: i64 = fact("turnaround_minutes").parse().unwrap_or(0);
                let after = if turnaround > 0 {
                    format!(
                        " (plus {} de battement après chaque réservation)",
                        fr::duration_minutes(turnaround)
                    )
                } else {
                    String::new()
                };
                match (time("holding_start_time"), time("holding_end_time")) {
                    (Some(start), Some(end)) => format!(
                        "Ce créneau n'est plus libre : il chevauche une réservation le {}{after}.",
                        self.slot_of(start, end)
                    ),
                    _ => format!("Ce créneau n'est plus libre{after}."),
                }
            }
            "SLOT_IN_THE_PAST" => "Ce créneau commence dans le passé.".into(),
            "SLOT_TOO_LONG" => format!(
                "Cette ressource se réserve pour {} au plus.",
                fr::duration_minutes(fact("max_duration_hours").parse::<i64>().unwrap_or(0) * 60)
            ),
            "SLOT_TOO_FAR_AHEAD" => format!(
                "Cette ressource se réserve au plus {} jours à l'avance.",
                fact("max_advance_days")
            ),
            "OWN_RESOURCE" => {
                "Cette ressource est celle de votre structure : elle ne se réserve pas.".into()
            }
            "RESOURCE_NOT_AVAILABLE" => {
                "Cette ressource n'est plus disponible : son propriétaire l'a retirée ou son \
                 lieu est fermé."
                    .into()
            }
            "NOT_BOOKABLE" => "Cette ressource ne se réserve pas par créneau.".into(),
            "MEMBER_NOT_ACTIVE" => {
                "Votre structure n'est pas (ou plus) membre active de l'alliance : elle ne \
                 peut pas réserver."
                    .into()
            }
            "NOT_A_MEMBER" => "Choisissez d'abord la structure que vous représentez.".into(),
            "RESERVATION_NOT_REQUESTED" => {
                "Cette demande a déjà reçu une réponse : voici son état actuel.".into()
            }
            "RESERVATION_OVER" => {
                "Cette réservation est passée : elle ne peut plus être annulée.".into()
            }
            "RESERVATION_CLOSED" => {
                "Cette réservation est déjà refusée, annulée ou terminée.".into()
            }
            _ => return None,
        })
    }
}
