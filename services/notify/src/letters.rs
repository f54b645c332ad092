//! What each event tells whom, in French: the [`Notice`]s of a reservation, a claim, an
//! application, a place or a member, written from what the event and the service's
//! replicas say. Every sentence of an e-mail is here; `render` lays them out.

use chrono::{DateTime, Timelike, Utc};
use fabrique_types::fr;
use uuid::Uuid;

use crate::domain::{Audience, Kind, Notice};

/// What every reservation e-mail says, read from its event and the replicas.
#[derive(Debug, Clone)]
pub struct ReservationFacts {
    /// The resource's title, if the resource's events reached the service.
    pub title: Option<String>,
    /// The borrower and its name, if known.
    pub borrower: (Uuid, Option<String>),
    /// The owner.
    pub owner: Uuid,
    /// The slot.
    pub start: DateTime<Utc>,
    /// Its end.
    pub end: DateTime<Utc>,
    /// Why it changed, if given.
    pub reason: String,
    /// The member that made the change; `None`: the platform or an admin.
    pub by: Option<Uuid>,
}

/// What happened to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationChange {
    /// A borrower asks for a slot.
    Requested,
    /// The owner confirmed it.
    Confirmed,
    /// The owner declined it.
    Declined,
    /// Someone (or the platform) cancelled it.
    Cancelled,
    /// The owner did not answer in time: both sides hear it.
    Expired,
}

const RESERVATIONS: &str = "/espace/reservations";
const SEE_RESERVATIONS: &str = "Voir mes réservations";

fn resource_title(title: &Option<String>) -> String {
    match title {
        Some(title) => format!("« {title} »"),
        None => "votre ressource".to_string(),
    }
}

fn someone(name: &Option<String>) -> String {
    name.clone()
        .unwrap_or_else(|| "Un membre de l’alliance".to_string())
}

/// `lundi 7 décembre 2026, de 14 h à 16 h` (Paris time); a slot over several days
/// gives both ends in full.
pub fn slot(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let (from, to) = (fr::in_paris(start), fr::in_paris(end));
    if from.date_naive() == to.date_naive() {
        format!(
            "{}, de {} à {}",
            fr::weekday_date(from.date_naive()),
            fr::clock(from.hour(), from.minute()),
            fr::clock(to.hour(), to.minute())
        )
    } else {
        format!("du {} au {}", fr::date_time(start), fr::date_time(end))
    }
}

/// Who learns what of a reservation's change: the owner of a request and of the
/// borrower's cancellation, the borrower of the owner's answer and of any cancellation
/// it did not make itself (by the owner, or by the platform when a member leaves, a
/// resource is withdrawn or a place closes); both of a request that expired unanswered.
/// Over 60 lines: one arm per change and side, so that every e-mail a reservation gives
/// reads in one place.
pub fn reservation(change: ReservationChange, f: &ReservationFacts) -> Vec<Notice> {
    let title = resource_title(&f.title);
    let notice = |audience, kind, subject: String, line: String| {
        reservation_notice(f, audience, kind, subject, line)
    };
    let to_owner = Audience::Member(f.owner);
    let to_borrower = Audience::Member(f.borrower.0);
    let borrower = someone(&f.borrower.1);
    match change {
        ReservationChange::Requested => vec![notice(
            to_owner,
            Kind::AsOwner,
            format!(
                "Demande de réservation : {}",
                f.title.as_deref().unwrap_or("votre ressource")
            ),
            format!(
                "{borrower} demande à réserver {title}. Le créneau lui est gardé en attendant \
                 votre réponse : confirmez ou déclinez la demande."
            ),
        )],
        ReservationChange::Confirmed => vec![notice(
            to_borrower,
            Kind::AsBorrower,
            "Réservation confirmée".to_string(),
            format!("Votre réservation de {title} est confirmée."),
        )],
        ReservationChange::Declined => vec![notice(
            to_borrower,
            Kind::AsBorrower,
            "Réservation déclinée".to_string(),
            format!("Votre demande de réservation de {title} a été déclinée."),
        )],
        // Only one side did not cancel: the owner when the borrower did, the borrower
        // otherwise.
        ReservationChange::Cancelled if f.by == Some(f.borrower.0) => vec![notice(
            to_owner,
            Kind::AsOwner,
            format!(
                "Réservation annulée : {}",
                f.title.as_deref().unwrap_or("votre ressource")
            ),
            format!("{borrower} a annulé sa réservation de {title} : le créneau est libre."),
        )],
        ReservationChange::Cancelled => {
            let by_owner = if f.by == Some(f.owner) {
                " par son propriétaire"
            } else {
                ""
            };
            vec![notice(
                to_borrower,
                Kind::AsBorrower,
                "Réservation annulée".to_string(),
                format!("Votre réservation de {title} a été annulée{by_owner}."),
            )]
        }
        ReservationChange::Expired => vec![
            notice(
                to_borrower,
                Kind::AsBorrower,
                "Demande de réservation expirée".to_string(),
                format!(
                    "Votre demande de réservation de {title} n’a pas reçu de réponse à temps : \
                     elle a expiré et le créneau est libéré. Vous pouvez la renouveler ou \
                     chercher une autre ressource."
                ),
            ),
            notice(
                to_owner,
                Kind::AsOwner,
                format!(
                    "Demande expirée : {}",
                    f.title.as_deref().unwrap_or("votre ressource")
                ),
                format!(
                    "La demande de {borrower} pour {title} est restée sans réponse : elle a \
                     expiré et le créneau est libéré."
                ),
            ),
        ],
    }
}

/// A reservation's e-mail: its slot and reason, a link to the member's reservations.
fn reservation_notice(
    f: &ReservationFacts,
    audience: Audience,
    kind: Kind,
    subject: String,
    line: String,
) -> Notice {
    let mut facts = vec![("Créneau".to_string(), slot(f.start, f.end))];
    if !f.reason.is_empty() {
        facts.push(("Motif".to_string(), f.reason.clone()));
    }
    Notice {
        audience,
        kind,
        subject,
        lines: vec![line],
        facts,
        action: SEE_RESERVATIONS.to_string(),
        path: RESERVATIONS.to_string(),
    }
}

/// What every claim e-mail says.
#[derive(Debug, Clone)]
pub struct ClaimFacts {
    /// The resource's title, if known.
    pub title: Option<String>,
    /// The claimant and its name, if known.
    pub claimant: (Uuid, Option<String>),
    /// The owner.
    pub owner: Uuid,
    /// `2,5 t`: the quantity claimed with its unit.
    pub quantity: String,
    /// The member that made the change; `None`: the platform or an admin.
    pub by: Option<Uuid>,
}

/// What happened to a claim of materials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimChange {
    /// A member claimed a quantity, held for it.
    Made,
    /// The claimant, the owner or the platform cancelled it.
    Cancelled,
    /// It was not handed over by its deadline: the quantity is back in the stock.
    Expired,
}

/// A claim made tells the owner; a cancellation tells the side that did not make it; a
/// claim that expired tells both. Over 60 lines: one arm per change and side, so that
/// every e-mail a claim gives reads in one place.
pub fn claim(change: ClaimChange, f: &ClaimFacts) -> Vec<Notice> {
    let title = resource_title(&f.title);
    let claimant = someone(&f.claimant.1);
    let facts = vec![("Quantité".to_string(), f.quantity.clone())];
    let notice = |audience, kind, subject: String, line: String| Notice {
        audience,
        kind,
        subject,
        lines: vec![line],
        facts: facts.clone(),
        action: SEE_RESERVATIONS.to_string(),
        path: RESERVATIONS.to_string(),
    };
    let named = f.title.as_deref().unwrap_or("vos matériaux");
    if change == ClaimChange::Expired {
        return vec![
            notice(
                Audience::Member(f.claimant.0),
                Kind::AsBorrower,
                "Demande de matériaux expirée".to_string(),
                format!(
                    "Votre part de {title} n’a pas été remise avant son échéance : la \
                     demande a expiré et la quantité revient au stock. Vous pouvez la \
                     demander à nouveau."
                ),
            ),
            notice(
                Audience::Member(f.owner),
                Kind::AsOwner,
                format!("Demande de matériaux expirée : {named}"),
                format!(
                    "La part de {title} réservée à {claimant} n’a pas été remise avant son \
                     échéance : elle revient au stock."
                ),
            ),
        ];
    }
    if change == ClaimChange::Made {
        return vec![notice(
            Audience::Member(f.owner),
            Kind::AsOwner,
            format!("Matériaux demandés : {named}"),
            format!(
                "{claimant} a prélevé une part de {title}. La quantité lui est réservée : \
                 remettez-la, ou annulez la demande pour la rendre au stock."
            ),
        )];
    }
    if f.by == Some(f.claimant.0) {
        vec![notice(
            Audience::Member(f.owner),
            Kind::AsOwner,
            format!("Demande de matériaux annulée : {named}"),
            format!("{claimant} a annulé sa demande de {title} : la quantité revient au stock."),
        )]
    } else {
        vec![notice(
            Audience::Member(f.claimant.0),
            Kind::AsBorrower,
            "Demande de matériaux annulée".to_string(),
            format!("Votre demande de {title} a été annulée."),
        )]
    }
}

/// What happened to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationChange {
    /// The funder approved it.
    Approved,
    /// The funder rejected it (or the envelope or the limit did).
    Rejected,
    /// The aid was paid.
    Paid,
    /// An instructor sent it back to complete (what is asked stays on the site: the
    /// event does not carry it).
    ToComplete,
    /// The funder cancelled the award (the beneficiary gave up).
    Cancelled,
}

/// The applicant learns the funder's decision, a request to complete, a cancellation
/// and the payment.
pub fn application(
    change: ApplicationChange,
    applicant: Uuid,
    programme: Option<&str>,
    aid_cents: i64,
    reason: &str,
) -> Vec<Notice> {
    let programme = programme
        .map(|p| format!("au programme « {p} »"))
        .unwrap_or_else(|| "d’aide".to_string());
    let mut facts = vec![("Aide".to_string(), fr::euros(aid_cents))];
    if !reason.is_empty() {
        facts.push(("Motif".to_string(), reason.to_string()));
    }
    let (subject, line) = match change {
        ApplicationChange::Approved => (
            "Demande d’aide acceptée",
            format!("Votre demande {programme} est acceptée : l’aide vous est attribuée."),
        ),
        ApplicationChange::Rejected => (
            "Demande d’aide refusée",
            format!("Votre demande {programme} n’a pas été retenue."),
        ),
        ApplicationChange::Paid => (
            "Aide versée",
            format!("L’aide de votre demande {programme} a été versée."),
        ),
        ApplicationChange::ToComplete => (
            "Demande d’aide à compléter",
            format!(
                "L’instructeur de votre demande {programme} vous demande de la compléter : \
                 lisez ce qui est demandé et répondez depuis vos demandes."
            ),
        ),
        ApplicationChange::Cancelled => (
            "Aide annulée",
            format!(
                "L’aide attribuée à votre demande {programme} est annulée : son montant \
                 revient au programme."
            ),
        ),
    };
    vec![Notice {
        audience: Audience::Member(applicant),
        kind: Kind::Applications,
        subject: subject.to_string(),
        lines: vec![line],
        facts,
        action: "Voir mes demandes".to_string(),
        path: "/espace/demandes".to_string(),
    }]
}

/// A place's operator learns that the place needs review (its operator was suspended
/// or left, or a moderator asked).
pub fn place_review(operator: Uuid, place: Uuid, name: &str, reason: &str) -> Vec<Notice> {
    let mut facts = Vec::new();
    if !reason.is_empty() {
        facts.push(("Motif".to_string(), reason.to_string()));
    }
    vec![Notice {
        audience: Audience::Member(operator),
        kind: Kind::Places,
        subject: format!("Lieu à revoir : {name}"),
        lines: vec![format!(
            "La fiche du lieu « {name} » est à revoir : vérifiez qu’elle est toujours juste."
        )],
        facts,
        action: "Voir le lieu".to_string(),
        path: format!("/lieux/{place}"),
    }]
}

/// The admins learn that an ally applied to join.
pub fn member_applied(member: Uuid, name: &str, kind: &str) -> Vec<Notice> {
    vec![Notice {
        audience: Audience::Admins,
        kind: Kind::Memberships,
        subject: format!("Nouvelle adhésion : {name}"),
        lines: vec![format!(
            "« {name} » demande à rejoindre l’alliance. Son adhésion attend votre validation."
        )],
        facts: vec![("Type".to_string(), kind.to_string())],
        action: "Voir les adhésions à valider".to_string(),
        path: format!("/espace/administration#members/{member}"),
    }]
}

/// The label of each kind, as the settings page and the e-mails' footer say it.
pub fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::AsOwner => "Les demandes et annulations sur vos ressources",
        Kind::AsBorrower => "Les réponses à vos réservations et demandes de matériaux",
        Kind::Applications => "Les décisions et paiements de vos demandes d’aide",
        Kind::Places => "Les lieux que vous animez, quand ils sont à revoir",
        Kind::Memberships => "Les nouvelles adhésions à valider (administrateurs)",
        Kind::Workshops => "Les séances des ateliers où vous êtes attendus",
    }
}

/// What a workshop session's e-mail says.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    /// `workshops/{id}`'s id: the e-mail links to its page.
    pub workshop: Uuid,
    /// The workshop's theme.
    pub theme: String,
    /// The session's title.
    pub title: String,
    /// When it begins and ends.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// Held online (the address is on the workshop's page, for its participants).
    pub online: bool,
    /// The members expected.
    pub expected: Vec<Uuid>,
}

/// A session scheduled, or cancelled, tells each member expected there.
pub fn session(scheduled: bool, f: &SessionFacts) -> Vec<Notice> {
    let (subject, line) = if scheduled {
        (
            format!("Séance de l’atelier : {}", f.title),
            format!(
                "L’atelier « {} » vous attend à sa séance « {} ».",
                f.theme, f.title
            ),
        )
    } else {
        (
            format!("Séance annulée : {}", f.title),
            format!(
                "La séance « {} » de l’atelier « {} » est annulée.",
                f.title, f.theme
            ),
        )
    };
    let mut facts = vec![("Quand".to_string(), slot(f.start, f.end))];
    if scheduled {
        let place = if f.online {
            "En ligne : le lien est sur la page de l’atelier, une fois connecté"
        } else {
            "Sur place : l’adresse est sur la page de l’atelier"
        };
        facts.push(("Où".to_string(), place.to_string()));
    }
    f.expected
        .iter()
        .map(|member| Notice {
            audience: Audience::Member(*member),
            kind: Kind::Workshops,
            subject: subject.clone(),
            lines: vec![line.clone()],
            facts: facts.clone(),
            action: "Voir l’atelier".to_string(),
            path: format!("/ateliers/{}", f.workshop),
        })
        .collect()
}

#[cfg(test)]
mod tests;
