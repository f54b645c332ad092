//! A commune's participatory budget over gRPC, on both stores: proposals turned into
//! items with a cost, ballots within the envelope and over its minimum share, one ballot
//! per participant however many are sent at once, the close racing late ballots (each
//! either counted or refused BUDGET_CLOSED), and the winners chosen by votes within the
//! envelope.

use std::collections::HashMap;

use fabrique_api::participation as proto;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::{Code, Status};

use crate::participation::{Participation, citizen, platform};
use crate::support::{Members, association, id_of, reason, refusal_fact, violated_fields};

const EURO: i64 = 100;

/// Proposals in March, the vote in April 2027.
fn budget_process(organiser: &str) -> proto::Process {
    use chrono::TimeZone;
    let day = |m: u32| {
        fabrique_platform::time::timestamp(
            chrono::Utc
                .with_ymd_and_hms(2027, m, 1, 0, 0, 0)
                .single()
                .expect("a date"),
        )
    };
    proto::Process {
        organiser: organiser.to_string(),
        title: "Budget participatif de Thiers 2027".into(),
        territory: vec!["63430".into()],
        steps: vec![
            proto::Step {
                kind: proto::StepKind::Proposals as i32,
                title: "Proposer".into(),
                start_time: Some(day(3)),
                end_time: Some(day(4)),
                proposals_open: true,
                ..Default::default()
            },
            proto::Step {
                kind: proto::StepKind::Vote as i32,
                title: "Voter".into(),
                start_time: Some(day(4)),
                end_time: Some(day(5)),
                votes_open: true,
                ..Default::default()
            },
        ],
        verified_only: true,
        ..Default::default()
    }
}

impl Participation {
    async fn add_item(
        &self,
        budget: &str,
        proposal: &str,
        euros: i64,
    ) -> Result<proto::Budget, Status> {
        let request = proto::AddBudgetItemRequest {
            budget: budget.into(),
            proposal: proposal.into(),
            cost_cents: euros * EURO,
        };
        Ok(self
            .client
            .clone()
            .add_budget_item(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn vote(&self, budget: &str, items: &[&str]) -> Result<proto::Ballot, Status> {
        let request = proto::CastBallotRequest {
            budget: budget.into(),
            items: items.iter().map(|i| i.to_string()).collect(),
        };
        Ok(self
            .client
            .clone()
            .cast_ballot(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn close(&self, budget: &str) -> Result<proto::Budget, Status> {
        let request = proto::CloseBudgetRequest {
            name: budget.into(),
        };
        Ok(self
            .client
            .clone()
            .close_budget(authed(request, &self.token))
            .await?
            .into_inner())
    }
}

/// `count` participants the organiser verified.
async fn voters(
    platform: &TestPlatform,
    org: &Participation,
    organiser: &str,
    count: usize,
) -> Vec<Participation> {
    let mut people = Vec::new();
    for i in 0..count {
        let person =
            Participation::connect(platform, citizen(&format!("oidc|{}", uuid::Uuid::now_v7())))
                .await;
        let registered = person
            .register(&format!("Votant {i}"))
            .await
            .expect("register");
        org.verify(&registered.name, organiser)
            .await
            .expect("verify");
        people.push(person);
    }
    people
}

/// Over 60 lines: the budget told in order, then its two races and the count.
async fn a_commune_s_budget_is_voted_and_counted(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let created = members
        .create(association("Commune de Thiers (exemple)"))
        .await
        .expect("member");
    let thiers = members.approve(&created.name).await.expect("approve").name;
    let org = Participation::connect(&platform, TestPlatform::member_token(&id_of(&thiers))).await;
    let process = org.create_process(budget_process(&thiers)).await;
    org.activate(&process.name, 1).await.expect("proposals");
    let author = Participation::connect(&platform, citizen("oidc|autrice")).await;
    author.register("Autrice").await.expect("register");
    let mut proposals = Vec::new();
    for title in [
        "Un jardin partagé au Moutier",
        "Des bancs rue de la Coutellerie",
        "Une boîte à livres",
        "Un composteur collectif",
        "Une idée retirée ensuite",
    ] {
        proposals.push(
            author
                .propose(&process.name, title, "")
                .await
                .expect("propose")
                .name,
        );
    }
    let withdraw = proto::WithdrawProposalRequest {
        name: proposals[4].clone(),
    };
    author
        .client
        .clone()
        .withdraw_proposal(authed(withdraw, &author.token))
        .await
        .expect("withdrawn");

    let request = proto::CreateBudgetRequest {
        parent: process.name.clone(),
        budget: Some(proto::Budget {
            title: "Budget 2027".into(),
            envelope_cents: 10_000 * EURO,
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let budget = org
        .client
        .clone()
        .create_budget(authed(request, &org.token))
        .await
        .expect("budget")
        .into_inner();
    assert_eq!(budget.minimum_basis_points, 7_000, "Decidim's default");
    let b = budget.name.clone();
    for (proposal, euros) in proposals.iter().zip([6_000, 5_000, 3_000, 1_500]) {
        org.add_item(&b, proposal, euros).await.expect("item");
    }
    assert_eq!(
        violated_fields(
            &org.add_item(&b, &proposals[4], 100)
                .await
                .expect_err("withdrawn")
        ),
        ["proposal"]
    );
    assert_eq!(
        violated_fields(
            &org.add_item(&b, &proposals[0], 100)
                .await
                .expect_err("twice")
        ),
        ["proposal"]
    );
    let budget = org
        .add_item(&b, &proposals[3], 20_000)
        .await
        .expect_err("over the envelope");
    assert_eq!(violated_fields(&budget), ["cost_cents"]);
    let items: Vec<String> = org
        .client
        .clone()
        .get_budget(proto::GetBudgetRequest { name: b.clone() })
        .await
        .expect("public")
        .into_inner()
        .items
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(items.len(), 4);
    let (big, mid, small, tiny) = (
        items[0].as_str(),
        items[1].as_str(),
        items[2].as_str(),
        items[3].as_str(),
    );

    // Votes open with their step, to verified participants, within the envelope and
    // over 70 % of it.
    let people = voters(&platform, &org, &thiers, 12).await;
    let status = people[0]
        .vote(&b, &[big, small])
        .await
        .expect_err("not yet");
    assert_eq!(
        (reason(&status), refusal_fact(&status, "action")),
        ("STEP_CLOSED".into(), "vote".into())
    );
    org.activate(&process.name, 2).await.expect("vote");
    assert_eq!(
        reason(
            &author
                .vote(&b, &[big, small])
                .await
                .expect_err("unverified")
        ),
        "PARTICIPANT_NOT_VERIFIED"
    );
    let over = people[0].vote(&b, &[big, mid]).await.expect_err("over");
    assert_eq!(
        (reason(&over), refusal_fact(&over, "envelope_cents")),
        ("BALLOT_OVER_ENVELOPE".into(), "1000000".into())
    );
    let under = people[0].vote(&b, &[mid, tiny]).await.expect_err("under");
    assert_eq!(
        (reason(&under), refusal_fact(&under, "minimum_cents")),
        ("BALLOT_UNDER_MINIMUM".into(), "700000".into())
    );
    assert_eq!(
        violated_fields(&people[0].vote(&b, &[big, big]).await.expect_err("twice")),
        ["items[1]"]
    );

    // Each of twelve sends two ballots at once: one each is cast.
    let choices: [&[&str]; 3] = [&[big, small], &[mid, small, tiny], &[big, tiny]];
    let calls: Vec<_> = people
        .iter()
        .enumerate()
        .flat_map(|(i, person)| {
            [i, i + 1].map(|c| {
                let (person, b) = (person.clone(), b.clone());
                let items: Vec<String> = choices[c % 3].iter().map(|s| s.to_string()).collect();
                tokio::spawn(async move {
                    let items: Vec<&str> = items.iter().map(String::as_str).collect();
                    (i, person.vote(&b, &items).await)
                })
            })
        })
        .collect();
    let mut cast: HashMap<usize, Vec<String>> = HashMap::new();
    for call in calls {
        match call.await.expect("task") {
            (i, Ok(ballot)) => assert!(
                cast.insert(i, ballot.items).is_none(),
                "participant {i} voted twice"
            ),
            (_, Err(status)) => {
                assert_eq!(
                    (status.code(), reason(&status).as_str()),
                    (Code::AlreadyExists, "ALREADY_VOTED")
                )
            }
        }
    }
    assert_eq!(cast.len(), 12);
    let mine = people[0]
        .client
        .clone()
        .get_ballot(authed(
            proto::GetBallotRequest { budget: b.clone() },
            &people[0].token,
        ))
        .await
        .expect("own ballot")
        .into_inner();
    let mut expected = cast[&0].clone();
    let mut read = mine.items.clone();
    expected.sort();
    read.sort();
    assert_eq!(read, expected);

    // Late ballots racing the close: each counted by it, or refused.
    let late = voters(&platform, &org, &thiers, 8).await;
    let calls: Vec<_> = late
        .iter()
        .map(|person| {
            let (person, b, items) = (
                person.clone(),
                b.clone(),
                [mid.to_string(), small.to_string(), tiny.to_string()],
            );
            tokio::spawn(async move { person.vote(&b, &[&items[0], &items[1], &items[2]]).await })
        })
        .collect();
    let closed = org.close(&b).await.expect("closed");
    let mut late_cast = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(_) => late_cast += 1,
            Err(status) => assert_eq!(reason(&status), "BUDGET_CLOSED", "{status:?}"),
        }
    }
    assert_eq!(closed.state, proto::BudgetState::Closed as i32);
    assert_eq!(closed.ballot_count, 12 + late_cast);
    let mut counted: HashMap<String, i32> = HashMap::new();
    for items in cast.values() {
        for item in items {
            *counted.entry(item.clone()).or_default() += 1;
        }
    }
    for item in [mid, small, tiny] {
        *counted.entry(item.to_string()).or_default() += late_cast;
    }
    for item in &closed.items {
        assert_eq!(
            item.votes,
            counted.get(&item.name).copied().unwrap_or(0),
            "{}",
            item.title
        );
    }
    // Winners by votes, within the envelope.
    let mut ranked = closed.items.clone();
    ranked.sort_by_key(|i| i.rank);
    assert!(
        ranked.windows(2).all(|w| w[0].votes >= w[1].votes),
        "{ranked:?}"
    );
    let selected: i64 = ranked
        .iter()
        .filter(|i| i.selected)
        .map(|i| i.cost_cents)
        .sum();
    assert_eq!(selected, closed.selected_cents);
    assert!(selected <= 10_000 * EURO && ranked[0].selected);
    let mut spent = 0;
    for item in &ranked {
        // An item left out is one that no longer fitted.
        if !item.selected {
            assert!(
                spent + item.cost_cents > 10_000 * EURO || item.votes == 0,
                "{item:?}"
            );
        } else {
            spent += item.cost_cents;
        }
    }
    // The results as open data, a row per item.
    let export = org
        .client
        .clone()
        .export_budget_results(proto::ExportBudgetResultsRequest { name: b.clone() })
        .await
        .expect("public results")
        .into_inner();
    assert_eq!(export.rows, 4);
    let mut reader = csv::Reader::from_reader(export.csv.as_slice());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        fabrique_participation::opendata::BUDGET_COLUMNS
    );
    for record in reader.records() {
        let record = record.expect("a row");
        let item = closed
            .items
            .iter()
            .find(|i| i.name == record[0])
            .expect("an item");
        assert_eq!(record[5], item.votes.to_string());
        assert_eq!(record[7], item.selected.to_string());
    }
    assert_eq!(
        reason(&org.close(&b).await.expect_err("again")),
        "BUDGET_CLOSED"
    );
    assert_eq!(
        reason(&late[0].vote(&b, &[big, small]).await.expect_err("closed")),
        "BUDGET_CLOSED"
    );
}

mod postgres {
    #[tokio::test]
    async fn a_commune_s_budget_is_voted_and_counted() {
        super::a_commune_s_budget_is_voted_and_counted(fabrique_testkit::Backend::Postgres).await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn a_commune_s_budget_is_voted_and_counted() {
        super::a_commune_s_budget_is_voted_and_counted(fabrique_testkit::Backend::Sqlite).await;
    }
}
