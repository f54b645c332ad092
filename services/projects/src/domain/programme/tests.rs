//! The lifecycles of programmes and applications walked through every state, and the
//! arithmetic of aid in cents.

use fabrique_platform::refusal::Refusal as _;

use super::*;

fn solaire_dome() -> Programme {
    Programme {
        id: Uuid::now_v7(),
        funder: Uuid::now_v7(),
        funder_siret: None,
        title: "Solaire Dôme".into(),
        description: None,
        envelope_cents: 50_000_000,
        aid_per_unit_cents: 500_000,
        unit_label: "installation de 9 kWc".into(),
        max_units_per_application: Some(1),
        eligible_kinds: vec!["commune".into(), "epci".into()],
        max_awards_per_member: Some(1),
        co_funders: vec![CoFunder {
            member: Uuid::now_v7(),
            share_basis_points: Some(2_500),
            cents_per_unit: None,
            note: Some("Région, via le PNR Livradois-Forez".into()),
        }],
        opens_at: None,
        closes_at: None,
        state: ProgrammeState::Open,
        committed_cents: 0,
        paid_cents: 0,
        created_by: "x".into(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

#[test]
fn the_breakdown_is_exact_in_cents() {
    let (aid, lines) = solaire_dome().breakdown(1).unwrap();
    assert_eq!(aid, 500_000);
    assert_eq!(
        lines.iter().map(|l| l.amount_cents).collect::<Vec<_>>(),
        [500_000, 125_000]
    );
    let (aid, lines) = solaire_dome().breakdown(3).unwrap();
    assert_eq!((aid, lines[1].amount_cents), (1_500_000, 375_000));
    let odd = CoFunder {
        member: Uuid::now_v7(),
        share_basis_points: Some(3_333),
        cents_per_unit: None,
        note: None,
    };
    assert_eq!(odd.per_unit(1), None, "a third of a cent is refused");
    assert_eq!(odd.per_unit(10_000), Some(3_333));
}

#[test]
fn a_programme_takes_applications_within_its_window_only() {
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let mut programme = solaire_dome();
    assert_eq!(programme.accepts(now), Ok(()));
    programme.opens_at = Some(now + day);
    let early = programme.accepts(now).unwrap_err();
    assert_eq!(
        early,
        Refusal::ProgrammeNotOpen {
            programme: programme.name(),
            why: NotOpen::OpensOn((now + day).date_naive()),
        }
    );
    programme.opens_at = None;
    programme.closes_at = Some(now - day);
    assert!(matches!(
        programme.accepts(now),
        Err(Refusal::ProgrammeNotOpen {
            why: NotOpen::ClosedOn(_),
            ..
        })
    ));
    programme.state = ProgrammeState::Closed;
    assert!(matches!(
        programme.accepts(now),
        Err(Refusal::ProgrammeNotOpen {
            why: NotOpen::Closed,
            ..
        })
    ));
}

#[test]
fn a_programme_admits_its_eligible_kinds_only() {
    let mut programme = solaire_dome();
    let applicant = Uuid::now_v7();
    assert_eq!(programme.admits(applicant, "epci"), Ok(()));
    let refusal = programme.admits(applicant, "association").unwrap_err();
    assert_eq!(refusal.code(), "INELIGIBLE");
    assert!(
        refusal.message().contains("commune, epci"),
        "{}",
        refusal.message()
    );
    programme.eligible_kinds.clear();
    assert_eq!(programme.admits(applicant, "association"), Ok(()));
}

#[test]
fn one_function_decides_a_programme_s_lifecycle() {
    use ProgrammeState::*;
    let transitions = [ProgrammeTransition::Close];
    let allowed = [(Open, ProgrammeTransition::Close, Closed)];
    let now = Utc::now();
    for from in ProgrammeState::ALL {
        for transition in transitions {
            let mut current = solaire_dome();
            current.state = *from;
            current.committed_cents = 1_000_000;
            let result = current.next(transition, now);
            match allowed
                .iter()
                .find(|(f, t, _)| f == from && *t == transition)
            {
                Some((_, _, to)) => {
                    let next = result.expect("allowed");
                    assert_eq!(next.state, *to);
                    assert_eq!(next.updated_at, now);
                    assert_eq!(next.committed_cents, current.committed_cents);
                }
                None => {
                    let refusal = result.expect_err("refused");
                    assert_eq!(
                        refusal.code(),
                        "PROGRAMME_CLOSED",
                        "{from:?} + {transition:?}"
                    );
                    assert!(refusal.message().contains(&current.name()));
                }
            }
        }
    }
}

#[test]
fn application_names() {
    let (p, a) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        parse_application_name(&application_name(p, a)).unwrap(),
        (p, a)
    );
    assert!(parse_application_name("programmes/x/applications/y").is_err());
}

#[test]
fn an_application_is_submitted_with_its_aid() {
    let programme = solaire_dome();
    let draft = ApplicationDraft {
        project: None,
        units: 1,
        purpose: "Centrale de 9 kWc".into(),
        beneficiary_siret: None,
    };
    let applicant = Uuid::now_v7();
    let application =
        Application::submit(&programme, applicant, draft.clone(), "x".into(), Utc::now())
            .expect("no overflow");
    assert_eq!(application.state, ApplicationState::Submitted);
    assert_eq!((application.aid_cents, application.version), (500_000, 1));
    assert_eq!(application.breakdown.len(), 2);
    let huge = ApplicationDraft {
        units: u32::MAX,
        ..draft
    };
    let mut costly = programme;
    costly.aid_per_unit_cents = i64::MAX / 2;
    assert_eq!(
        Application::submit(&costly, applicant, huge, "x".into(), Utc::now()),
        None
    );
}

/// Every state through every transition. Over 60 lines: one table walk, kept whole so
/// that the allowed moves and what each sets read side by side.
#[test]
fn one_function_decides_an_application_s_lifecycle() {
    use ApplicationState::*;
    let application = |state| Application {
        id: Uuid::now_v7(),
        programme: Uuid::now_v7(),
        applicant: Uuid::now_v7(),
        project: None,
        units: 1,
        purpose: "Centrale de 9 kWc".into(),
        beneficiary_siret: None,
        aid_cents: 500_000,
        breakdown: Vec::new(),
        state,
        state_reason: None,
        created_by: "x".into(),
        created_at: Utc::now(),
        decided_at: None,
        paid_at: None,
        version: 1,
    };
    let reason = || "le toit ne porte pas".to_string();
    let transitions = [
        ApplicationTransition::Approve,
        ApplicationTransition::Reject { reason: reason() },
        ApplicationTransition::Withdraw { reason: reason() },
        ApplicationTransition::Pay,
    ];
    let allowed = [
        (Submitted, 0, Approved),
        (Submitted, 1, Rejected),
        (Submitted, 2, Withdrawn),
        (Approved, 3, Paid),
    ];
    let now = Utc::now();
    for from in ApplicationState::ALL {
        for (t, transition) in transitions.iter().enumerate() {
            let current = application(*from);
            let result = current.next(transition, now);
            match allowed.iter().find(|(f, i, _)| f == from && *i == t) {
                Some((_, _, to)) => {
                    let next = result.expect("allowed");
                    assert_eq!(next.state, *to);
                    assert_eq!(next.version, 2);
                    assert_eq!(next.decided_at.is_some(), matches!(to, Approved | Rejected));
                    assert_eq!(next.paid_at.is_some(), *to == Paid);
                    assert_eq!(
                        next.state_reason.is_some(),
                        matches!(to, Rejected | Withdrawn)
                    );
                }
                None => {
                    let refusal = result.expect_err("refused");
                    let code = if *transition == ApplicationTransition::Pay {
                        "APPLICATION_NOT_APPROVED"
                    } else {
                        "APPLICATION_DECIDED"
                    };
                    assert_eq!(refusal.code(), code, "{from:?} + {transition:?}");
                    assert!(
                        refusal.message().contains(&from.as_str().to_uppercase()),
                        "{}",
                        refusal.message()
                    );
                }
            }
        }
    }
}
