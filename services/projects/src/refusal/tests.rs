//! Every refusal built once: its code listed, its resource named, its message and facts.

use super::*;

#[test]
fn the_platform_s_codes_are_listed() {
    let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
    fabrique_platform::refusal::assert_lists_shared(&codes);
}

/// One of each refusal (and of each case its message distinguishes). Over 60 lines:
/// it is that list.
fn one_of_each() -> Vec<Refusal> {
    let day = NaiveDate::from_ymd_opt(2027, 3, 1).expect("a date");
    vec![
        Refusal::NotAMember,
        Refusal::MemberNotActive {
            role: "applicant",
            member: "members/1".into(),
            state: Some("suspended".into()),
        },
        Refusal::MemberNotActive {
            role: "lead",
            member: "members/1".into(),
            state: None,
        },
        Refusal::PlaceClosed {
            place: "places/1".into(),
        },
        Refusal::PlaceUnknown {
            place: "places/1".into(),
        },
        Refusal::ProjectState {
            project: "projects/1".into(),
            state: "completed",
            to: "active",
        },
        Refusal::ProgrammeClosed {
            programme: "programmes/1".into(),
        },
        Refusal::ProgrammeNotOpen {
            programme: "programmes/1".into(),
            why: NotOpen::Closed,
        },
        Refusal::ProgrammeNotOpen {
            programme: "programmes/1".into(),
            why: NotOpen::OpensOn(day),
        },
        Refusal::ProgrammeNotOpen {
            programme: "programmes/1".into(),
            why: NotOpen::ClosedOn(day),
        },
        Refusal::Ineligible {
            applicant: "members/1".into(),
            kind: "association".into(),
            programme: "programmes/1".into(),
            eligible: vec!["commune".into(), "epci".into()],
        },
        Refusal::AwardLimitReached {
            member: "members/1".into(),
            legal_entity: "siren:216304303".into(),
            max: 1,
            programme: "programmes/1".into(),
        },
        Refusal::ApplicationDecided {
            application: "programmes/1/applications/2".into(),
            state: Some("approved"),
            action: "withdrawn",
        },
        Refusal::ApplicationDecided {
            application: "programmes/1/applications/2".into(),
            state: None,
            action: "approved",
        },
        Refusal::EnvelopeExhausted {
            programme: "programmes/1".into(),
            aid_cents: 500_000,
            envelope_cents: 50_000_000,
        },
        Refusal::ApplicationNotApproved {
            application: "programmes/1/applications/2".into(),
            state: Some("submitted"),
            action: "paid",
        },
        Refusal::ApplicationNotApproved {
            application: "programmes/1/applications/2".into(),
            state: None,
            action: "cancelled",
        },
        Refusal::EnvelopeBelowCommitted {
            programme: "programmes/1".into(),
            envelope_cents: 100_000,
            committed_cents: 500_000,
        },
        Refusal::AwardHasPayments {
            application: "programmes/1/applications/2".into(),
            paid_cents: 150_000,
        },
        Refusal::PaymentExceedsAward {
            application: "programmes/1/applications/2".into(),
            kind: "advance",
            amount_cents: 500_000,
            unpaid_cents: 500_000,
        },
        Refusal::NotCoFunded {
            application: "programmes/1/applications/2".into(),
            co_funder: "members/3".into(),
        },
        Refusal::PurchaseClosed {
            purchase: "groupPurchases/1".into(),
            state: "closed",
        },
        Refusal::DeadlinePassed {
            purchase: "groupPurchases/1".into(),
            deadline: DateTime::from_timestamp(1_800_000_000, 0).expect("a time"),
        },
        Refusal::NotJoined {
            member: "members/1".into(),
            purchase: "groupPurchases/1".into(),
        },
        Refusal::PurchaseState {
            purchase: "groupPurchases/1".into(),
            state: "open",
            expected: "closed",
        },
        Refusal::SessionCancelled {
            session: "workshops/1/sessions/2".into(),
        },
        Refusal::SessionNotStarted {
            session: "workshops/1/sessions/2".into(),
            start: DateTime::from_timestamp(1_800_000_000, 0).expect("a time"),
        },
        Refusal::NobodyExpected {
            workshop: "workshops/1".into(),
            peer_group: Some("roads_technician".into()),
        },
        Refusal::NobodyExpected {
            workshop: "workshops/1".into(),
            peer_group: None,
        },
        Refusal::PlaceNotListed {
            place: "places/1".into(),
            state: "proposed".into(),
        },
    ]
}

#[test]
fn each_refusal_sends_a_listed_code_and_names_its_resource() {
    for refusal in one_of_each() {
        assert!(
            RefusalCode::ALL
                .iter()
                .any(|c| c.as_str() == refusal.code()),
            "{refusal:?}"
        );
        let message = refusal.message();
        assert!(
            refusal == Refusal::NotAMember || message.contains("s/1"),
            "{message}"
        );
    }
}

#[test]
fn every_listed_code_is_sent_by_a_refusal() {
    let sent: Vec<&str> = one_of_each().iter().map(|r| r.code()).collect();
    for code in RefusalCode::ALL {
        let shared = fabrique_platform::refusal::Shared::CODES.contains(&code.as_str());
        assert!(
            shared || sent.contains(&code.as_str()),
            "{code:?} is listed but no refusal sends it"
        );
    }
}

#[test]
fn an_exhausted_envelope_gives_the_amounts_and_is_stored_with_its_code() {
    let refusal = Refusal::EnvelopeExhausted {
        programme: "programmes/1".into(),
        aid_cents: 500_000,
        envelope_cents: 50_000_000,
    };
    assert_eq!(
        refusal.stored_reason(),
        "ENVELOPE_EXHAUSTED: the envelope of programmes/1 is exhausted: \
         5000.00 € would exceed 500000.00 €"
    );
}

#[test]
fn a_decided_application_says_its_state_or_that_it_was_decided_meanwhile() {
    let decided = |state| Refusal::ApplicationDecided {
        application: "programmes/1/applications/2".into(),
        state,
        action: "withdrawn",
    };
    assert_eq!(
        decided(Some("paid")).message(),
        "programmes/1/applications/2 is PAID: it cannot be withdrawn in that state"
    );
    assert!(decided(None).message().contains("was decided meanwhile"),);
}

#[test]
fn euros_have_two_decimals() {
    assert_eq!(euros(500_000), "5000.00");
    assert_eq!(euros(5), "0.05");
    assert_eq!(euros(-125), "-1.25");
}
