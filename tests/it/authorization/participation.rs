//! Authorization of citizen participation: every RPC of `ParticipationService` called
//! by each kind of caller it distinguishes — nobody, the tokens that must be refused, a
//! member that does not organise the process, the organiser, a verified participant, a
//! participant the organiser has not verified, an admin — each expecting the code its
//! row says. Calls that change something act on a resource made for that one call.

use fabrique_api::participation::{
    self as pp, participation_service_client::ParticipationServiceClient,
};
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::Code;
use tonic::transport::Channel;

use super::{Checked, FP, NF, OK, PD, U, declared_refusals, encoded, refused_tokens, valid};
use crate::participation::consultation;

/// What each caller gets.
#[derive(Debug, Clone, Copy)]
pub(super) struct Who {
    anonymous: Code,
    /// An active member that does not organise the process.
    member: Code,
    organiser: Code,
    verified: Code,
    unverified: Code,
    admin: Code,
}

const fn who(
    anonymous: Code,
    member: Code,
    organiser: Code,
    verified: Code,
    unverified: Code,
    admin: Code,
) -> Who {
    Who {
        anonymous,
        member,
        organiser,
        verified,
        unverified,
        admin,
    }
}

/// Public reads.
const PUBLIC: Who = who(OK, OK, OK, OK, OK, OK);
/// The organiser and admins.
const ORGANISER: Who = who(U, PD, OK, PD, PD, OK);
/// Any registered citizen; members and admins are not participants.
const CITIZEN: Who = who(U, PD, PD, OK, OK, PD);

/// Every RPC of participation, who may call it. Targets are the organiser's process
/// and the verified participant's proposals and record.
pub(super) const TABLE: &[(&str, Who)] = &[
    (
        "fabrique.participation.v1.ParticipationService/ListChanges",
        who(U, PD, PD, PD, PD, OK),
    ),
    (
        "fabrique.participation.v1.ParticipationService/RegisterParticipant",
        CITIZEN,
    ),
    // The verified participant's record: themselves and admins; others are told it does
    // not exist.
    (
        "fabrique.participation.v1.ParticipationService/GetParticipant",
        who(U, NF, NF, OK, NF, OK),
    ),
    (
        "fabrique.participation.v1.ParticipationService/VerifyParticipant",
        ORGANISER,
    ),
    (
        "fabrique.participation.v1.ParticipationService/CreateProcess",
        ORGANISER,
    ),
    (
        "fabrique.participation.v1.ParticipationService/GetProcess",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ListProcesses",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ActivateStep",
        ORGANISER,
    ),
    (
        "fabrique.participation.v1.ParticipationService/CreateProposal",
        CITIZEN,
    ),
    (
        "fabrique.participation.v1.ParticipationService/GetProposal",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ListProposals",
        PUBLIC,
    ),
    // Its author only (the verified participant wrote it).
    (
        "fabrique.participation.v1.ParticipationService/WithdrawProposal",
        who(U, PD, PD, OK, PD, PD),
    ),
    (
        "fabrique.participation.v1.ParticipationService/AnswerProposal",
        ORGANISER,
    ),
    // The process counts verified participants only.
    (
        "fabrique.participation.v1.ParticipationService/SupportProposal",
        who(U, PD, PD, OK, FP, PD),
    ),
    // Not supporting it, the unverified participant's withdrawal changes nothing.
    (
        "fabrique.participation.v1.ParticipationService/WithdrawSupport",
        CITIZEN,
    ),
    // Comments: any participant comments and reports others' comments (a fresh
    // comment of a third participant); the organiser moderates; everyone reads.
    (
        "fabrique.participation.v1.ParticipationService/CreateComment",
        CITIZEN,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ListComments",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ReportComment",
        CITIZEN,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ModerateComment",
        ORGANISER,
    ),
    // Budgets: the organiser opens, fills and closes; verified participants vote (the
    // fixture's step opens votes); everyone reads; a ballot is its voter's.
    (
        "fabrique.participation.v1.ParticipationService/CreateBudget",
        ORGANISER,
    ),
    // Open data: public. Erasing: oneself as participants/me (see the participation
    // tests); another's record, admins only — the others are told it does not exist.
    (
        "fabrique.participation.v1.ParticipationService/ExportProposals",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ExportBudgetResults",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/EraseParticipant",
        who(U, NF, NF, NF, NF, OK),
    ),
    (
        "fabrique.participation.v1.ParticipationService/GetBudget",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ListBudgets",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/AddBudgetItem",
        ORGANISER,
    ),
    (
        "fabrique.participation.v1.ParticipationService/CastBallot",
        who(U, PD, PD, OK, FP, PD),
    ),
    // The verified participant's ballot; the unverified one has none.
    (
        "fabrique.participation.v1.ParticipationService/GetBallot",
        who(U, PD, PD, OK, NF, PD),
    ),
    (
        "fabrique.participation.v1.ParticipationService/CloseBudget",
        ORGANISER,
    ),
    // Meetings: the organiser schedules, cancels and writes the minutes; any
    // participant registers (verification is asked for supports and votes only);
    // everyone reads them and their calendar.
    (
        "fabrique.participation.v1.ParticipationService/CreateMeeting",
        ORGANISER,
    ),
    (
        "fabrique.participation.v1.ParticipationService/GetMeeting",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/ListMeetings",
        PUBLIC,
    ),
    (
        "fabrique.participation.v1.ParticipationService/CancelMeeting",
        ORGANISER,
    ),
    (
        "fabrique.participation.v1.ParticipationService/RegisterForMeeting",
        CITIZEN,
    ),
    (
        "fabrique.participation.v1.ParticipationService/CancelRegistration",
        CITIZEN,
    ),
    // Authorized, then refused: the meeting has not ended.
    (
        "fabrique.participation.v1.ParticipationService/PublishMinutes",
        who(U, PD, FP, PD, PD, FP),
    ),
    (
        "fabrique.participation.v1.ParticipationService/ExportCalendar",
        PUBLIC,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Refused,
    Member,
    Organiser,
    Verified,
    Unverified,
    Admin,
}

struct Fixture {
    channel: Channel,
    admin: String,
    organiser: String,
    organiser_token: String,
    member_token: String,
    verified_token: String,
    unverified_token: String,
    verified: String,
    process: String,
}

impl Fixture {
    fn client(&self) -> ParticipationServiceClient<Channel> {
        ParticipationServiceClient::new(self.channel.clone())
    }

    async fn new(platform: &TestPlatform) -> Self {
        let channel = platform.channel().await;
        let admin = valid("admin", &["admin"]);
        let members = crate::support::Members::connect(platform, admin.clone()).await;
        let mut active = Vec::new();
        for name in ["Département (exemple)", "Association voisine (exemple)"] {
            let created = members
                .create(crate::support::association(name))
                .await
                .expect("member");
            active.push(members.approve(&created.name).await.expect("approve").name);
        }
        let organiser = active[0].clone();
        let organiser_token = valid(&crate::support::id_of(&organiser), &["member"]);
        let member_token = valid(&crate::support::id_of(&active[1]), &["member"]);
        let org = crate::participation::Participation {
            client: ParticipationServiceClient::new(channel.clone()),
            token: organiser_token.clone(),
        };
        // One step opening proposals and supports, active.
        let mut process = consultation(&organiser, 0, 0);
        process.steps.truncate(1);
        process.steps[0].proposals_open = true;
        process.steps[0].supports_open = true;
        process.steps[0].comments_open = true;
        process.steps[0].votes_open = true;
        let process = org.create_process(process).await.name;
        org.activate(&process, 1).await.expect("active");
        let verified_token = valid("oidc|verified", &["citizen"]);
        let unverified_token = valid("oidc|unverified", &["citizen"]);
        let mut names = Vec::new();
        for (token, pseudonym) in [
            (&verified_token, "Vérifiée"),
            (&unverified_token, "Pas encore"),
        ] {
            let person = crate::participation::Participation {
                client: ParticipationServiceClient::new(channel.clone()),
                token: token.clone(),
            };
            names.push(person.register(pseudonym).await.expect("register").name);
        }
        org.verify(&names[0], &organiser).await.expect("verify");
        Self {
            channel,
            admin,
            organiser,
            organiser_token,
            member_token,
            verified_token,
            unverified_token,
            verified: names[0].clone(),
            process,
        }
    }

    fn token(&self, caller: Caller) -> Option<String> {
        match caller {
            Caller::Anonymous | Caller::Refused => None,
            Caller::Member => Some(self.member_token.clone()),
            Caller::Organiser => Some(self.organiser_token.clone()),
            Caller::Verified => Some(self.verified_token.clone()),
            Caller::Unverified => Some(self.unverified_token.clone()),
            Caller::Admin => Some(self.admin.clone()),
        }
    }

    /// A fresh online meeting of the process, for one call to act on.
    async fn meeting(&self) -> String {
        self.client()
            .create_meeting(authed(
                pp::CreateMeetingRequest {
                    parent: self.process.clone(),
                    meeting: Some(online_meeting()),
                    request_id: String::new(),
                },
                &self.organiser_token,
            ))
            .await
            .expect("meeting")
            .into_inner()
            .name
    }

    /// A fresh comment of a newcomer on a fresh proposal, for one call to act on.
    async fn comment(&self) -> String {
        let proposal = self.proposal().await;
        let (_, token) = self.newcomer_with_token().await;
        self.client()
            .create_comment(authed(
                pp::CreateCommentRequest {
                    parent: proposal,
                    body: "Un avis à signaler.".into(),
                },
                &token,
            ))
            .await
            .expect("comment")
            .into_inner()
            .name
    }

    /// A fresh OPEN budget of the process with one item of the whole envelope, for one
    /// call to act on: its name and the item's.
    async fn budget(&self) -> (String, String) {
        let budget = self
            .client()
            .create_budget(authed(
                pp::CreateBudgetRequest {
                    parent: self.process.clone(),
                    budget: Some(budget_draft()),
                    request_id: String::new(),
                },
                &self.organiser_token,
            ))
            .await
            .expect("budget")
            .into_inner();
        let filled = self
            .client()
            .add_budget_item(authed(
                pp::AddBudgetItemRequest {
                    budget: budget.name.clone(),
                    proposal: self.proposal().await,
                    cost_cents: budget.envelope_cents,
                },
                &self.organiser_token,
            ))
            .await
            .expect("item")
            .into_inner();
        (budget.name, filled.items[0].name.clone())
    }

    /// A participant registered for one call to act on.
    async fn newcomer(&self) -> String {
        self.newcomer_with_token().await.0
    }

    /// A participant registered for one call to act on, and their token.
    async fn newcomer_with_token(&self) -> (String, String) {
        let token = valid(&format!("oidc|{}", uuid::Uuid::now_v7()), &["citizen"]);
        let name = self
            .client()
            .register_participant(authed(
                pp::RegisterParticipantRequest {
                    display_name: "Nouvelle venue".into(),
                },
                &token,
            ))
            .await
            .expect("register")
            .into_inner()
            .name;
        (name, token)
    }

    /// A fresh proposal of the verified participant, for one call to act on.
    async fn proposal(&self) -> String {
        self.client()
            .create_proposal(authed(
                pp::CreateProposalRequest {
                    parent: self.process.clone(),
                    proposal: Some(pp::Proposal {
                        title: "Un arrêt de car couvert".into(),
                        body: "Un abri au carrefour pour attendre le car scolaire.".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.verified_token,
            ))
            .await
            .expect("proposal")
            .into_inner()
            .name
    }

    /// Over 60 lines: one request per RPC, in the table's order.
    async fn request(&self, method: &str) -> bytes::Bytes {
        let rpc = method.rsplit('/').next().unwrap_or(method);
        match rpc {
            "ListChanges" => encoded(fabrique_api::audit::ListChangesRequest {
                resource: self.process.clone(),
                ..Default::default()
            }),
            "RegisterParticipant" => encoded(pp::RegisterParticipantRequest {
                display_name: "Nouveau nom".into(),
            }),
            "GetParticipant" => encoded(pp::GetParticipantRequest {
                name: self.verified.clone(),
            }),
            // A participant of its own: verifying the unverified one would change the
            // SupportProposal row.
            "VerifyParticipant" => encoded(pp::VerifyParticipantRequest {
                participant: self.newcomer().await,
                organiser: self.organiser.clone(),
            }),
            "CreateProcess" => encoded(pp::CreateProcessRequest {
                process: Some(consultation(&self.organiser, 0, 0)),
                request_id: String::new(),
            }),
            "GetProcess" => encoded(pp::GetProcessRequest {
                name: self.process.clone(),
            }),
            "ListProcesses" => encoded(pp::ListProcessesRequest::default()),
            "ActivateStep" => encoded(pp::ActivateStepRequest {
                name: self.process.clone(),
                step: 1,
                etag: String::new(),
            }),
            "CreateProposal" => encoded(pp::CreateProposalRequest {
                parent: self.process.clone(),
                proposal: Some(pp::Proposal {
                    title: "Des bancs au bord de la voie verte".into(),
                    body: "Pour s'arrêter en chemin, tous les deux kilomètres.".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            }),
            "GetProposal" => encoded(pp::GetProposalRequest {
                name: self.proposal().await,
            }),
            "ListProposals" => encoded(pp::ListProposalsRequest {
                parent: self.process.clone(),
                ..Default::default()
            }),
            "WithdrawProposal" => encoded(pp::WithdrawProposalRequest {
                name: self.proposal().await,
            }),
            "AnswerProposal" => encoded(pp::AnswerProposalRequest {
                name: self.proposal().await,
                state: pp::ProposalState::Evaluating as i32,
                ..Default::default()
            }),
            "SupportProposal" => encoded(pp::SupportProposalRequest {
                name: self.proposal().await,
            }),
            "WithdrawSupport" => encoded(pp::WithdrawSupportRequest {
                name: self.proposal().await,
            }),
            "CreateComment" => encoded(pp::CreateCommentRequest {
                parent: self.proposal().await,
                body: "Bonne idée, à condition de l'éclairer.".into(),
            }),
            "ListComments" => encoded(pp::ListCommentsRequest {
                parent: self.proposal().await,
                ..Default::default()
            }),
            "ReportComment" => encoded(pp::ReportCommentRequest {
                name: self.comment().await,
            }),
            "ModerateComment" => encoded(pp::ModerateCommentRequest {
                name: self.comment().await,
                decision: pp::ModerationDecision::Remove as i32,
            }),
            "CreateBudget" => encoded(pp::CreateBudgetRequest {
                parent: self.process.clone(),
                budget: Some(budget_draft()),
                request_id: String::new(),
            }),
            "GetBudget" => encoded(pp::GetBudgetRequest {
                name: self.budget().await.0,
            }),
            "ExportProposals" => encoded(pp::ExportProposalsRequest {
                parent: self.process.clone(),
            }),
            "ExportBudgetResults" => encoded(pp::ExportBudgetResultsRequest {
                name: self.budget().await.0,
            }),
            "EraseParticipant" => encoded(pp::EraseParticipantRequest {
                name: self.newcomer().await,
            }),
            "ListBudgets" => encoded(pp::ListBudgetsRequest {
                parent: self.process.clone(),
            }),
            "AddBudgetItem" => encoded(pp::AddBudgetItemRequest {
                budget: self.budget().await.0,
                proposal: self.proposal().await,
                cost_cents: 10_000,
            }),
            "CastBallot" => {
                let (budget, item) = self.budget().await;
                encoded(pp::CastBallotRequest {
                    budget,
                    items: vec![item],
                })
            }
            "GetBallot" => {
                // A budget the verified participant voted in.
                let (budget, item) = self.budget().await;
                self.client()
                    .cast_ballot(authed(
                        pp::CastBallotRequest {
                            budget: budget.clone(),
                            items: vec![item],
                        },
                        &self.verified_token,
                    ))
                    .await
                    .expect("ballot");
                encoded(pp::GetBallotRequest { budget })
            }
            "CloseBudget" => encoded(pp::CloseBudgetRequest {
                name: self.budget().await.0,
            }),
            "CreateMeeting" => encoded(pp::CreateMeetingRequest {
                parent: self.process.clone(),
                meeting: Some(online_meeting()),
                request_id: String::new(),
            }),
            "GetMeeting" => encoded(pp::GetMeetingRequest {
                name: self.meeting().await,
            }),
            "ListMeetings" => encoded(pp::ListMeetingsRequest {
                parent: self.process.clone(),
                ..Default::default()
            }),
            "CancelMeeting" => encoded(pp::CancelMeetingRequest {
                name: self.meeting().await,
            }),
            "RegisterForMeeting" => encoded(pp::RegisterForMeetingRequest {
                name: self.meeting().await,
            }),
            "CancelRegistration" => encoded(pp::CancelRegistrationRequest {
                name: self.meeting().await,
            }),
            "PublishMinutes" => encoded(pp::PublishMinutesRequest {
                name: self.meeting().await,
                minutes: "Ce qui s'est dit.".into(),
            }),
            "ExportCalendar" => encoded(pp::ExportCalendarRequest {
                parent: self.process.clone(),
                site_url: String::new(),
            }),
            _ => panic!("{method} has a row in TABLE but no request"),
        }
    }
}

#[tokio::test]
async fn participation_answers_each_kind_of_caller() {
    let platform = super::platform(Backend::Postgres).await;
    let fx = Fixture::new(&platform).await;
    let refusals = declared_refusals();
    let mut checked = Checked::new(&fx.channel, &refusals);
    for (method, who) in TABLE {
        let mut callers: Vec<(String, Caller, Option<String>, Code)> = refused_tokens()
            .into_iter()
            .map(|(what, token)| (format!("a token {what}"), Caller::Refused, Some(token), U))
            .collect();
        for (label, caller, expected) in [
            ("no token", Caller::Anonymous, who.anonymous),
            (
                "a member that does not organise it",
                Caller::Member,
                who.member,
            ),
            ("the organiser", Caller::Organiser, who.organiser),
            ("a verified participant", Caller::Verified, who.verified),
            (
                "an unverified participant",
                Caller::Unverified,
                who.unverified,
            ),
            ("an admin", Caller::Admin, who.admin),
        ] {
            callers.push((label.to_string(), caller, fx.token(caller), expected));
        }
        for (label, _, token, expected) in callers {
            let body = fx.request(method).await;
            checked
                .call((method, &label), body, token.as_deref(), expected)
                .await;
        }
    }
    checked.assert_as_the_table_says();
}

/// An online meeting in a week, twenty seats.
fn online_meeting() -> pp::Meeting {
    let start = chrono::Utc::now() + chrono::Duration::days(7);
    pp::Meeting {
        kind: pp::MeetingKind::Meeting as i32,
        title: "Réunion publique".into(),
        start_time: Some(fabrique_platform::time::timestamp(start)),
        end_time: Some(fabrique_platform::time::timestamp(
            start + chrono::Duration::hours(2),
        )),
        online_url: "https://visio.example.org/reunion".into(),
        seats: 20,
        ..Default::default()
    }
}

/// A budget of 5,000 €.
fn budget_draft() -> pp::Budget {
    pp::Budget {
        title: "Budget participatif".into(),
        envelope_cents: 500_000,
        ..Default::default()
    }
}
