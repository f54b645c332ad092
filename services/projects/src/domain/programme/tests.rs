//! The lifecycles of programmes and applications walked through every state, and the
//! arithmetic of aid in cents.

use fabrique_platform::refusal::Refusal as _;

use super::*;

fn solaire_dome() -> Programme {
    Programme {
        id: Uuid::now_v7(),
        funder: Uuid::now_v7(),
        operator: Some(Uuid::now_v7()),
        yield_kwh_per_kwp: Some(1_200),
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
            insee_codes: Vec::new(),
            epci_sirens: Vec::new(),
        }],
        opens_at: None,
        closes_at: None,
        state: ProgrammeState::Open,
        committed_cents: 0,
        paid_cents: 0,
        created_by: "x".into(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        envelope_changes: Vec::new(),
    }
}

#[test]
fn the_breakdown_is_exact_in_cents() {
    let (aid, lines) = solaire_dome()
        .breakdown(1, &Whereabouts::default())
        .unwrap();
    assert_eq!(aid, 500_000);
    assert_eq!(
        lines.iter().map(|l| l.amount_cents).collect::<Vec<_>>(),
        [500_000, 125_000]
    );
    let (aid, lines) = solaire_dome()
        .breakdown(3, &Whereabouts::default())
        .unwrap();
    assert_eq!((aid, lines[1].amount_cents), (1_500_000, 375_000));
    let odd = CoFunder {
        member: Uuid::now_v7(),
        share_basis_points: Some(3_333),
        cents_per_unit: None,
        note: None,
        insee_codes: Vec::new(),
        epci_sirens: Vec::new(),
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
        installation: None,
    };
    let applicant = Uuid::now_v7();
    let application = Application::submit(
        &programme,
        applicant,
        &Whereabouts::default(),
        draft.clone(),
        "x".into(),
        Utc::now(),
    )
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
        Application::submit(
            &costly,
            applicant,
            &Whereabouts::default(),
            huge,
            "x".into(),
            Utc::now()
        ),
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
        legal_entity: None,
        payments: Vec::new(),
        completion_request: None,
        completion_answer: None,
        instruction: Instruction::default(),
        installation: None,
        grouping: None,
        filer: None,
        version: 1,
    };
    let reason = || "le toit ne porte pas".to_string();
    let transitions = [
        ApplicationTransition::Approve {
            legal_entity: "siren:216304303".into(),
        },
        ApplicationTransition::Reject { reason: reason() },
        ApplicationTransition::Withdraw { reason: reason() },
        ApplicationTransition::Cancel { reason: reason() },
        ApplicationTransition::Pay(payment(PaymentKind::Advance, 150_000)),
        ApplicationTransition::Pay(payment(PaymentKind::Balance, 500_000)),
        ApplicationTransition::RequestCompletion {
            message: "Joindre le devis".into(),
        },
        ApplicationTransition::Complete {
            answer: "Devis joint".into(),
            purpose: None,
        },
        ApplicationTransition::Opinion {
            recommendation: Recommendation::Approve,
            opinion: "Toiture saine".into(),
            instructor: None,
        },
        ApplicationTransition::Note(Note {
            author: None,
            text: "Appeler la mairie".into(),
            at: Utc::now(),
        }),
    ];
    let mut allowed = vec![
        (Submitted, 0, Approved),
        (Submitted, 1, Rejected),
        (ToComplete, 1, Rejected),
        (Submitted, 2, Withdrawn),
        (ToComplete, 2, Withdrawn),
        (Approved, 3, Cancelled),
        (Approved, 4, Approved),
        (Approved, 5, Paid),
        (Submitted, 6, ToComplete),
        (ToComplete, 7, Submitted),
        (Submitted, 8, Submitted),
        (ToComplete, 8, ToComplete),
    ];
    // A note may be written whatever the state, which it leaves.
    allowed.extend(ApplicationState::ALL.iter().map(|s| (*s, 9, *s)));
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
                    if t >= 6 {
                        let instructed = [
                            next.completion_request.is_some(),
                            next.completion_answer.is_some(),
                            next.instruction.opinion.is_some(),
                            next.instruction.notes.len() == 1,
                        ];
                        assert!(instructed[t - 6], "{from:?} + {transition:?}");
                        continue;
                    }
                    assert_eq!(next.decided_at.is_some(), t < 2);
                    assert_eq!(next.legal_entity.is_some(), t == 0);
                    assert_eq!(next.paid_at.is_some(), *to == Paid);
                    assert_eq!(next.payments.len(), usize::from(t == 4 || t == 5));
                    assert_eq!(
                        next.state_reason.is_some(),
                        matches!(to, Rejected | Withdrawn | Cancelled)
                    );
                }
                None => {
                    let refusal = result.expect_err("refused");
                    let code = if (3..=5).contains(&t) {
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

fn payment(kind: PaymentKind, amount_cents: i64) -> Payment {
    Payment {
        co_funder: None,
        kind,
        amount_cents,
        paid_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a day"),
        recorded_at: Utc::now(),
    }
}

fn approved_award() -> Application {
    let draft = ApplicationDraft {
        project: None,
        units: 1,
        purpose: "Centrale de 9 kWc".into(),
        beneficiary_siret: None,
        installation: None,
    };
    let submitted = Application::submit(
        &solaire_dome(),
        Uuid::now_v7(),
        &Whereabouts::default(),
        draft,
        "x".into(),
        Utc::now(),
    )
    .expect("no overflow");
    let approve = ApplicationTransition::Approve {
        legal_entity: "siren:216304303".into(),
    };
    let approved = submitted.next(&approve, Utc::now()).expect("approved");
    assert_eq!(submitted.committed_change(&approved), 500_000);
    approved
}

#[test]
fn an_award_is_paid_by_an_advance_then_a_balance_never_beyond_it() {
    let award = approved_award();
    let pay = |a: &Application, kind, cents| {
        a.next(
            &ApplicationTransition::Pay(payment(kind, cents)),
            Utc::now(),
        )
    };
    let whole_advance = pay(&award, PaymentKind::Advance, 500_000).unwrap_err();
    assert_eq!(whole_advance.code(), "PAYMENT_EXCEEDS_AWARD");
    assert!(
        whole_advance.message().contains("5000.00 €"),
        "{}",
        whole_advance.message()
    );
    let advanced = pay(&award, PaymentKind::Advance, 150_000).expect("an advance");
    assert_eq!(
        (
            advanced.state,
            advanced.paid_cents(),
            advanced.unpaid_cents()
        ),
        (ApplicationState::Approved, 150_000, 350_000)
    );
    assert_eq!(award.committed_change(&advanced), 0);
    let too_much = pay(&advanced, PaymentKind::Balance, 350_001).unwrap_err();
    assert_eq!(too_much.code(), "PAYMENT_EXCEEDS_AWARD");
    // The work cost less: the balance pays 3,000 € and 500 € go back to the envelope.
    let paid = pay(&advanced, PaymentKind::Balance, 300_000).expect("the balance");
    assert_eq!(
        (paid.state, paid.paid_cents()),
        (ApplicationState::Paid, 450_000)
    );
    assert!(paid.paid_at.is_some());
    assert_eq!(advanced.committed_change(&paid), -50_000);
}

#[test]
fn only_an_award_without_payments_is_cancelled_and_its_aid_returns() {
    let award = approved_award();
    let cancel = ApplicationTransition::Cancel {
        reason: "la commune renonce".into(),
    };
    let cancelled = award.next(&cancel, Utc::now()).expect("cancelled");
    assert_eq!(cancelled.state, ApplicationState::Cancelled);
    assert_eq!(award.committed_change(&cancelled), -500_000);
    let advanced = award
        .next(
            &ApplicationTransition::Pay(payment(PaymentKind::Advance, 100_000)),
            Utc::now(),
        )
        .expect("an advance");
    let refused = advanced.next(&cancel, Utc::now()).unwrap_err();
    assert_eq!(refused.code(), "AWARD_HAS_PAYMENTS");
}

#[test]
fn an_envelope_changes_by_deliberation_never_below_what_is_committed() {
    let mut programme = solaire_dome();
    programme.committed_cents = 30_000_000;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 16).expect("a day");
    let topped = programme
        .change_envelope(60_000_000, "DM2-2026-045".into(), day, Utc::now())
        .expect("a top-up");
    assert_eq!(topped.envelope_cents, 60_000_000);
    assert_eq!(topped.envelope_changes.len(), 1);
    assert_eq!(topped.envelope_changes[0].previous_cents, 50_000_000);
    let refused = topped
        .change_envelope(29_999_999, "DM3".into(), day, Utc::now())
        .unwrap_err();
    assert_eq!(refused.code(), "ENVELOPE_BELOW_COMMITTED");
    let reduced = topped
        .change_envelope(30_000_000, "DM3".into(), day, Utc::now())
        .expect("down to what is committed");
    assert_eq!(reduced.envelope_changes.len(), 2);
    assert_eq!(reduced.remaining_cents(), 0);
}

/// Over 60 lines: the co-funder's whole part, from the breakdown to its balance, in
/// one walk so that each total reads after the move that makes it.
#[test]
fn a_co_funder_pays_its_part_in_its_territory_only() {
    let mut programme = solaire_dome();
    programme.co_funders[0].insee_codes = vec!["63430".into()];
    let region = programme.co_funders[0].member;
    let thiers = Whereabouts {
        insee_code: Some("63430".into()),
        ..Whereabouts::default()
    };
    let (_, lines) = programme.breakdown(1, &Whereabouts::default()).unwrap();
    assert_eq!(lines.len(), 1, "outside: the funder alone");
    let draft = ApplicationDraft {
        project: None,
        units: 1,
        purpose: "Centrale".into(),
        beneficiary_siret: None,
        installation: None,
    };
    let submitted = Application::submit(
        &programme,
        Uuid::now_v7(),
        &thiers,
        draft,
        "x".into(),
        Utc::now(),
    )
    .unwrap();
    let approve = ApplicationTransition::Approve {
        legal_entity: "siren:216304303".into(),
    };
    let approved = submitted.next(&approve, Utc::now()).unwrap();
    assert_eq!(
        submitted.co_committed_changes(&approved),
        vec![(region, 125_000)]
    );
    let part = |kind, amount_cents| {
        ApplicationTransition::Pay(Payment {
            co_funder: Some(region),
            ..payment(kind, amount_cents)
        })
    };
    let advanced = approved
        .next(&part(PaymentKind::Advance, 25_000), Utc::now())
        .unwrap();
    assert_eq!(advanced.state, ApplicationState::Approved);
    assert_eq!(
        (advanced.paid_cents(), advanced.co_unpaid_cents(region)),
        (0, 100_000)
    );
    let settled = advanced
        .next(&part(PaymentKind::Balance, 90_000), Utc::now())
        .unwrap();
    assert_eq!(
        advanced.co_committed_changes(&settled),
        vec![(region, -10_000)],
        "the balance gives back what it leaves unpaid"
    );
    assert_eq!(
        settled
            .next(&part(PaymentKind::Balance, 1), Utc::now())
            .unwrap_err()
            .code(),
        "PAYMENT_EXCEEDS_AWARD"
    );
    let stranger = ApplicationTransition::Pay(Payment {
        co_funder: Some(Uuid::now_v7()),
        ..payment(PaymentKind::Advance, 1)
    });
    assert_eq!(
        approved.next(&stranger, Utc::now()).unwrap_err().code(),
        "NOT_CO_FUNDED"
    );
}
