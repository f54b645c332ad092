//! The domain's rules, one test per rule: steps, eligibility, withdrawal, answers,
//! pseudonyms and territories.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::refusal::RefusalCode;
use fabrique_platform::refusal::Refusal as _;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, day, 9, 0, 0)
        .single()
        .unwrap()
}

fn step(kind: StepKind, day: u32, opens: &[Action]) -> Step {
    Step {
        kind: kind.as_str().into(),
        title: format!("Étape {}", kind.as_str()),
        description: String::new(),
        start: at(day),
        end: at(day) + Duration::days(2),
        opens: opens.iter().map(|a| a.as_str().to_string()).collect(),
    }
}

fn process() -> Process {
    Process {
        id: Uuid::now_v7(),
        organiser: Uuid::now_v7(),
        title: "Quelle route pour demain ?".into(),
        description: String::new(),
        territory: vec!["63113".into()],
        steps: vec![
            step(StepKind::Information, 1, &[]),
            step(StepKind::Proposals, 4, &[Action::Propose, Action::Comment]),
            step(
                StepKind::Deliberation,
                7,
                &[Action::Support, Action::Comment],
            ),
        ],
        active_step: 0,
        verified_only: true,
        support_limit: 3,
        support_threshold: 2,
        themes: vec![],
        report_threshold: 3,
        created_by: "t".into(),
        created_at: at(1),
        updated_at: at(1),
        version: 1,
    }
}

fn proposal(state: ProposalState, supports: u32) -> Proposal {
    Proposal {
        id: Uuid::now_v7(),
        process: Uuid::now_v7(),
        author: Uuid::now_v7(),
        author_display_name: "Camille63".into(),
        title: "Une piste cyclable".into(),
        body: "Relier Aubière au centre par une piste protégée.".into(),
        theme: None,
        place: None,
        location: None,
        state,
        support_count: supports,
        answer: None,
        created_at: at(4),
        updated_at: at(4),
        version: 1,
    }
}

#[test]
fn only_the_active_step_opens_actions() {
    let mut p = process();
    let refused = p.require_open(Action::Propose).unwrap_err();
    assert_eq!(refused.code(), RefusalCode::StepClosed.as_str());
    assert!(
        refused.message().contains("no active step"),
        "{}",
        refused.message()
    );
    p = p.activate(2, at(4)).unwrap();
    assert_eq!(p.active().unwrap().kind, "proposals");
    assert!(p.require_open(Action::Propose).is_ok());
    assert!(p.require_open(Action::Support).is_err());
    p = p.activate(3, at(7)).unwrap();
    assert!(p.require_open(Action::Propose).is_err());
    assert!(p.require_open(Action::Support).is_ok());
    assert_eq!(p.version, 3);
    assert!(p.activate(0, at(7)).is_none());
    assert!(p.activate(4, at(7)).is_none());
}

#[test]
fn steps_follow_each_other() {
    let p = process();
    assert!(check_steps(&p.steps).is_ok());
    assert!(check_steps(&[]).is_err());
    let mut overlapping = p.steps.clone();
    overlapping[1].start = overlapping[0].start;
    assert_eq!(check_steps(&overlapping).unwrap_err().1, "start_time");
    let mut backwards = p.steps.clone();
    backwards[0].end = backwards[0].start;
    assert_eq!(check_steps(&backwards).unwrap_err().0, 0);
}

#[test]
fn only_verified_participants_support_where_asked() {
    let p = process();
    let mut person = Participant {
        id: Uuid::now_v7(),
        subject: "oidc|1".into(),
        display_name: "Camille63".into(),
        verified_by: vec![Uuid::now_v7()],
        created_at: at(1),
    };
    let refused = p.require_eligible(&person).unwrap_err();
    assert_eq!(refused.code(), "PARTICIPANT_NOT_VERIFIED");
    person.verified_by.push(p.organiser);
    assert!(p.require_eligible(&person).is_ok());
}

#[test]
fn a_proposal_is_withdrawn_while_published_and_unsupported() {
    assert_eq!(
        proposal(ProposalState::Published, 0)
            .withdraw(at(5))
            .unwrap()
            .state,
        ProposalState::Withdrawn
    );
    let supported = proposal(ProposalState::Published, 1).withdraw(at(5));
    assert_eq!(supported.unwrap_err().code(), "PROPOSAL_HAS_SUPPORTS");
    let evaluating = proposal(ProposalState::Evaluating, 0).withdraw(at(5));
    assert_eq!(evaluating.unwrap_err().code(), "PROPOSAL_STATE");
}

#[test]
fn answers_are_final_once_accepted_or_rejected() {
    let p = proposal(ProposalState::Published, 3);
    let studied = p.answer(ProposalState::Evaluating, None, at(8)).unwrap();
    assert_eq!(studied.state, ProposalState::Evaluating);
    assert!(studied.answer.is_none());
    let accepted = studied
        .answer(
            ProposalState::Accepted,
            Some("Inscrite au budget 2027.".into()),
            at(9),
        )
        .unwrap();
    assert_eq!(
        accepted.answer.as_ref().unwrap().text,
        "Inscrite au budget 2027."
    );
    let again = accepted.answer(ProposalState::Rejected, Some("Non.".into()), at(10));
    assert_eq!(again.unwrap_err().code(), "PROPOSAL_STATE");
    assert!(!p.threshold_reached(0));
    assert!(p.threshold_reached(3));
    assert!(!p.threshold_reached(4));
}

#[test]
fn pseudonyms_and_territories() {
    assert!(display_name("C").is_err());
    assert!(display_name("camille@example.org").is_err());
    assert_eq!(display_name("  Camille63 ").unwrap(), "Camille63");
    assert_eq!(territory_code("63113").unwrap(), "63113");
    assert_eq!(territory_code("246300701").unwrap(), "246300701");
    assert!(territory_code("6311").is_err());
    let (process, id) = parse_proposal_name(&proposal_name(Uuid::nil(), Uuid::max())).unwrap();
    assert_eq!((process, id), (Uuid::nil(), Uuid::max()));
    assert!(parse_proposal_name("processes/x/proposals/y").is_err());
}

#[test]
fn child_names_parse_into_their_ids_and_say_their_shape() {
    let (p, q, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        comment::parse_comment_name(&comment::comment_name(p, q, c)).unwrap(),
        (p, q, c)
    );
    assert_eq!(
        meeting::parse_meeting_name(&meeting::meeting_name(p, q)).unwrap(),
        (p, q)
    );
    assert_eq!(
        budget::parse_budget_name(&budget::budget_name(p, q)).unwrap(),
        (p, q)
    );
    let item = format!("{}/items/{c}", budget::budget_name(p, q));
    assert_eq!(
        budget::parse_item_name(&item).unwrap(),
        (budget::budget_name(p, q), c)
    );
    let wrong = meeting::parse_meeting_name(&proposal_name(p, q)).unwrap_err();
    assert_eq!(wrong.0, "must be processes/{id}/meetings/{id}");
    let wrong = comment::parse_comment_name(&format!("{}/comments/x", proposal_name(p, q)));
    assert_eq!(
        wrong.unwrap_err().0,
        "must be processes/{id}/proposals/{id}/comments/{id}"
    );
}
