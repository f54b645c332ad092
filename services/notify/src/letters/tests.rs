//! Each letter: who is told, what it says.

use super::*;
use chrono::TimeZone;

fn facts(by: Option<Uuid>) -> (ReservationFacts, Uuid, Uuid) {
    let (borrower, owner) = (Uuid::now_v7(), Uuid::now_v7());
    let facts = ReservationFacts {
        title: Some("Découpeuse laser".into()),
        borrower: (borrower, Some("Ville de Thiers".into())),
        owner,
        start: Utc.with_ymd_and_hms(2026, 12, 8, 13, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 12, 8, 15, 30, 0).unwrap(),
        reason: String::new(),
        by,
    };
    (facts, borrower, owner)
}

#[test]
fn a_request_goes_to_the_owner_with_the_slot_in_paris_time() {
    let (facts, _, owner) = facts(None);
    let notices = reservation(ReservationChange::Requested, &facts);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].audience, Audience::Member(owner));
    assert_eq!(
        notices[0].subject,
        "Demande de réservation : Découpeuse laser"
    );
    assert!(
        notices[0].lines[0].starts_with("Ville de Thiers demande à réserver « Découpeuse laser »")
    );
    assert_eq!(
        notices[0].facts[0].1,
        "mardi 8 décembre 2026, de 14\u{a0}h à 16\u{a0}h\u{a0}30"
    );
}

#[test]
fn an_expired_request_tells_both_sides() {
    let (facts, borrower, owner) = facts(None);
    let notices = reservation(ReservationChange::Expired, &facts);
    let audiences: Vec<_> = notices.iter().map(|n| n.audience.clone()).collect();
    assert_eq!(
        audiences,
        vec![Audience::Member(borrower), Audience::Member(owner)]
    );
    assert_eq!(notices[0].subject, "Demande de réservation expirée");
}

#[test]
fn a_session_tells_each_member_expected_when_and_where() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let start = Utc.with_ymd_and_hms(2027, 1, 21, 13, 0, 0).unwrap();
    let facts = SessionFacts {
        workshop: Uuid::now_v7(),
        theme: "Quelle route pour demain ?".into(),
        title: "Techniciens des routes".into(),
        start,
        end: start + chrono::Duration::hours(2),
        online: true,
        expected: vec![a, b],
    };
    let notices = session(true, &facts);
    let audiences: Vec<_> = notices.iter().map(|n| n.audience.clone()).collect();
    assert_eq!(audiences, vec![Audience::Member(a), Audience::Member(b)]);
    assert_eq!(
        notices[0].subject,
        "Séance de l’atelier : Techniciens des routes"
    );
    assert_eq!(
        notices[0].facts[0].1,
        "jeudi 21 janvier 2027, de 14\u{a0}h à 16\u{a0}h"
    );
    assert!(notices[0].facts[1].1.starts_with("En ligne"));
    assert_eq!(notices[0].path, format!("/ateliers/{}", facts.workshop));
    let cancelled = session(false, &facts);
    assert_eq!(
        cancelled[1].subject,
        "Séance annulée : Techniciens des routes"
    );
    assert_eq!(
        cancelled[1].facts.len(),
        1,
        "no place for a cancelled session"
    );
}

#[test]
fn an_expired_claim_tells_both_sides_the_quantity_is_back() {
    let (claimant, owner) = (Uuid::now_v7(), Uuid::now_v7());
    let facts = ClaimFacts {
        title: Some("Fraisats d'enrobés".into()),
        claimant: (claimant, Some("Thiers Dore et Montagne".into())),
        owner,
        quantity: "8\u{a0}t".into(),
        by: None,
    };
    let notices = claim(ClaimChange::Expired, &facts);
    let audiences: Vec<_> = notices.iter().map(|n| n.audience.clone()).collect();
    assert_eq!(
        audiences,
        vec![Audience::Member(claimant), Audience::Member(owner)]
    );
    assert_eq!(notices[0].subject, "Demande de matériaux expirée");
    assert!(notices[1].lines[0].contains("réservée à Thiers Dore et Montagne"));
    assert_eq!(
        notices[1].facts,
        vec![("Quantité".to_string(), "8\u{a0}t".to_string())]
    );
}

#[test]
fn a_cancellation_tells_the_side_that_did_not_make_it() {
    let (mut f, borrower, owner) = facts(None);
    f.by = Some(borrower);
    let by_borrower = reservation(ReservationChange::Cancelled, &f);
    assert_eq!(by_borrower.len(), 1);
    assert_eq!(by_borrower[0].audience, Audience::Member(owner));
    f.by = Some(owner);
    let by_owner = reservation(ReservationChange::Cancelled, &f);
    assert_eq!(by_owner.len(), 1);
    assert_eq!(by_owner[0].audience, Audience::Member(borrower));
    assert!(by_owner[0].lines[0].contains("par son propriétaire"));
    f.by = None;
    let by_platform = reservation(ReservationChange::Cancelled, &f);
    assert_eq!(by_platform.len(), 1);
    assert_eq!(by_platform[0].audience, Audience::Member(borrower));
}

#[test]
fn a_cancelled_award_says_why() {
    let notices = application(
        ApplicationChange::Cancelled,
        Uuid::now_v7(),
        Some("Solaire Dôme"),
        500_000,
        "La commune renonce.",
    );
    assert_eq!(notices[0].subject, "Aide annulée");
    assert_eq!(
        notices[0].facts[1],
        ("Motif".to_string(), "La commune renonce.".to_string())
    );
}

#[test]
fn amounts_are_written_the_french_way() {
    let notices = application(
        ApplicationChange::Paid,
        Uuid::now_v7(),
        Some("Solaire Dôme"),
        500_000,
        "",
    );
    assert_eq!(notices[0].facts[0].1, "5\u{202f}000,00\u{a0}€");
    assert!(notices[0].lines[0].contains("au programme « Solaire Dôme »"));
}
