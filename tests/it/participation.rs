//! Citizen participation over gRPC, on PostgreSQL with NATS and on SQLite with the
//! in-process bus: a Département's consultation run step by step (participants under a
//! pseudonym, verified by the organiser; proposals, answers, supports, each refusal where
//! it happens, and one event per change), and the support invariants under real
//! concurrency — no participant beyond the process's limit, exact counts, the threshold
//! announced once — with the supports spread over two server instances on PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use fabrique_api::participation::{
    self as proto, participation_service_client::ParticipationServiceClient,
};
use fabrique_api::projects::{
    self as projects_proto, projects_service_client::ProjectsServiceClient,
};
use fabrique_platform::bus::{ConsumerSpec, Headers, MSG_ID_HEADER, OutgoingMessage};
use fabrique_platform::service::Service;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, authed};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::support::{Members, association, id_of, reason, refusal_fact, violated_fields};

fn services() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(fabrique_members::MembersService),
        Arc::new(fabrique_registry::RegistryServiceModule),
        Arc::new(fabrique_projects::ProjectsServiceModule),
        Arc::new(fabrique_participation::ParticipationServiceModule),
    ]
}

pub(crate) async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn(services(), backend, bus).await
}

/// A participation client calling with one token.
#[derive(Clone)]
pub(crate) struct Participation {
    pub(crate) client: ParticipationServiceClient<Channel>,
    pub(crate) token: String,
}

/// A citizen's token: `sub` is their id at the OpenID provider.
pub(crate) fn citizen(sub: &str) -> String {
    fabrique_testkit::token(sub, &["citizen"])
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(fabrique_platform::time::timestamp(t))
}

/// Information, proposals, deliberation (supports), then results: a month each from
/// the start of 2027.
pub(crate) fn consultation(organiser: &str, limit: i32, threshold: i32) -> proto::Process {
    use chrono::TimeZone;
    let month = |m: u32| {
        chrono::Utc
            .with_ymd_and_hms(2027, m, 1, 0, 0, 0)
            .single()
            .expect("a date")
    };
    let step = |kind: proto::StepKind, title: &str, m: u32| proto::Step {
        kind: kind as i32,
        title: title.into(),
        start_time: ts(month(m)),
        end_time: ts(month(m + 1)),
        ..Default::default()
    };
    proto::Process {
        organiser: organiser.to_string(),
        title: "Quelle route pour demain ?".into(),
        description: "Les routes départementales de demain : usages, matériaux, sécurité.".into(),
        territory: vec!["63113".into(), "246300701".into()],
        steps: vec![
            step(proto::StepKind::Information, "S'informer", 1),
            proto::Step {
                proposals_open: true,
                comments_open: true,
                ..step(proto::StepKind::Proposals, "Proposer", 2)
            },
            proto::Step {
                supports_open: true,
                comments_open: true,
                ..step(proto::StepKind::Deliberation, "Soutenir", 3)
            },
            step(proto::StepKind::Results, "Résultats", 4),
        ],
        verified_only: true,
        support_limit: limit,
        support_threshold: threshold,
        themes: vec!["Mobilités".into(), "Matériaux".into()],
        ..Default::default()
    }
}

impl Participation {
    pub(crate) async fn connect(platform: &TestPlatform, token: String) -> Self {
        Self {
            client: ParticipationServiceClient::new(platform.channel().await),
            token,
        }
    }

    fn c(&self) -> ParticipationServiceClient<Channel> {
        self.client.clone()
    }

    pub(crate) async fn register(&self, pseudonym: &str) -> Result<proto::Participant, Status> {
        let request = proto::RegisterParticipantRequest {
            display_name: pseudonym.into(),
        };
        Ok(self
            .c()
            .register_participant(authed(request, &self.token))
            .await?
            .into_inner())
    }

    pub(crate) async fn verify(
        &self,
        participant: &str,
        organiser: &str,
    ) -> Result<proto::Participant, Status> {
        let request = proto::VerifyParticipantRequest {
            participant: participant.into(),
            organiser: organiser.into(),
        };
        Ok(self
            .c()
            .verify_participant(authed(request, &self.token))
            .await?
            .into_inner())
    }

    /// Creates the process once participation knows the organiser from its events
    /// (retrying with the same request id until then).
    pub(crate) async fn create_process(&self, process: proto::Process) -> proto::Process {
        let request_id = uuid::Uuid::now_v7().to_string();
        fabrique_testkit::eventually(
            "participation to know the organiser",
            Duration::from_secs(60),
            || {
                let (this, process, request_id) =
                    (self.clone(), process.clone(), request_id.clone());
                async move {
                    let request = proto::CreateProcessRequest {
                        process: Some(process),
                        request_id,
                    };
                    match this.c().create_process(authed(request, &this.token)).await {
                        Ok(created) => Some(created.into_inner()),
                        Err(status) if reason(&status) == "ORGANISER_NOT_ACTIVE" => None,
                        Err(status) => panic!("create process: {status:?}"),
                    }
                }
            },
        )
        .await
    }

    pub(crate) async fn activate(
        &self,
        process: &str,
        step: i32,
    ) -> Result<proto::Process, Status> {
        let request = proto::ActivateStepRequest {
            name: process.into(),
            step,
            etag: String::new(),
        };
        Ok(self
            .c()
            .activate_step(authed(request, &self.token))
            .await?
            .into_inner())
    }

    pub(crate) async fn propose(
        &self,
        process: &str,
        title: &str,
        theme: &str,
    ) -> Result<proto::Proposal, Status> {
        let request = proto::CreateProposalRequest {
            parent: process.into(),
            proposal: Some(proto::Proposal {
                title: title.into(),
                body: format!("{title} : ce que nous proposons, et pourquoi."),
                theme: theme.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        Ok(self
            .c()
            .create_proposal(authed(request, &self.token))
            .await?
            .into_inner())
    }

    pub(crate) async fn support(&self, proposal: &str) -> Result<proto::Proposal, Status> {
        let request = proto::SupportProposalRequest {
            name: proposal.into(),
        };
        Ok(self
            .c()
            .support_proposal(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn unsupport(&self, proposal: &str) -> Result<proto::Proposal, Status> {
        let request = proto::WithdrawSupportRequest {
            name: proposal.into(),
        };
        Ok(self
            .c()
            .withdraw_support(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn withdraw(&self, proposal: &str) -> Result<proto::Proposal, Status> {
        let request = proto::WithdrawProposalRequest {
            name: proposal.into(),
        };
        Ok(self
            .c()
            .withdraw_proposal(authed(request, &self.token))
            .await?
            .into_inner())
    }

    pub(crate) async fn answer(
        &self,
        proposal: &str,
        state: proto::ProposalState,
        text: &str,
    ) -> Result<proto::Proposal, Status> {
        let request = proto::AnswerProposalRequest {
            name: proposal.into(),
            state: state as i32,
            answer: text.into(),
            etag: String::new(),
        };
        Ok(self
            .c()
            .answer_proposal(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn get(&self, proposal: &str) -> proto::Proposal {
        let request = proto::GetProposalRequest {
            name: proposal.into(),
        };
        let request = if self.token.is_empty() {
            tonic::Request::new(request)
        } else {
            authed(request, &self.token)
        };
        self.c()
            .get_proposal(request)
            .await
            .expect("get proposal")
            .into_inner()
    }

    async fn list(&self, process: &str, order: proto::ProposalOrder) -> Vec<proto::Proposal> {
        let request = proto::ListProposalsRequest {
            parent: process.into(),
            order: order as i32,
            page_size: 2,
            ..Default::default()
        };
        let mut request = request;
        let mut all = Vec::new();
        loop {
            let page = self
                .c()
                .list_proposals(authed(request.clone(), &self.token))
                .await
                .expect("list proposals")
                .into_inner();
            all.extend(page.proposals);
            if page.next_page_token.is_empty() {
                return all;
            }
            request.page_token = page.next_page_token;
        }
    }
}

fn refused(result: Result<proto::Proposal, Status>, code: &str) -> Status {
    let status = result.expect_err(code);
    assert_eq!(reason(&status), code, "{status:?}");
    status
}

/// An active member: the organiser.
async fn organiser(platform: &TestPlatform, name: &str) -> String {
    let members = Members::connect(platform, TestPlatform::admin_token()).await;
    let created = members.create(association(name)).await.expect("member");
    members.approve(&created.name).await.expect("approve").name
}

/// The participation verbs published for this platform, waiting for `count`, then
/// checking no more come.
async fn participation_verbs(platform: &TestPlatform, count: usize) -> Vec<String> {
    let mut events = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("participation"),
            durable_name: format!("test-{}", uuid::Uuid::new_v4().simple()),
            filter_subjects: vec![format!("{}fabrique.participation.>", platform.prefix)],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let mut seen = Vec::new();
    let mut wait = Duration::from_secs(20);
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(wait, events.next()).await {
        let subject = delivery.subject.trim_start_matches(&platform.prefix);
        seen.push(
            subject
                .trim_start_matches("fabrique.participation.")
                .to_string(),
        );
        delivery.acker.ack().await.expect("ack");
        if seen.len() >= count {
            wait = Duration::from_secs(2);
        }
    }
    seen.sort();
    seen
}

/// Over 60 lines: a consultation told in order, each refusal where it would happen.
async fn a_consultation_runs_its_steps(backend: Backend) {
    let platform = platform(backend).await;
    let departement = organiser(&platform, "Département du Puy-de-Dôme (exemple)").await;
    let other = organiser(&platform, "Autre association (exemple)").await;
    let organiser_token = TestPlatform::member_token(&id_of(&departement));
    let org = Participation::connect(&platform, organiser_token.clone()).await;
    let stranger =
        Participation::connect(&platform, TestPlatform::member_token(&id_of(&other))).await;

    // Steps must follow each other, each field named.
    let mut bad = consultation(&departement, 2, 2);
    bad.steps[2].start_time = bad.steps[0].start_time;
    bad.territory.push("6311".into());
    let status = org
        .c()
        .create_process(authed(
            proto::CreateProcessRequest {
                process: Some(bad),
                request_id: String::new(),
            },
            &organiser_token,
        ))
        .await
        .expect_err("overlapping steps");
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        ["process.steps[2].start_time", "process.territory[2]"]
    );
    // Another member does not organise for the Département.
    let status = stranger
        .c()
        .create_process(authed(
            proto::CreateProcessRequest {
                process: Some(consultation(&departement, 2, 2)),
                request_id: String::new(),
            },
            &stranger.token,
        ))
        .await
        .expect_err("not its organiser");
    assert_eq!(status.code(), Code::PermissionDenied);
    let process = org.create_process(consultation(&departement, 2, 2)).await;
    assert_eq!(process.active_step, 0);
    assert_eq!(process.steps.len(), 4);
    assert!(process.steps[1].proposals_open && !process.steps[1].supports_open);

    // Participants: citizens under a pseudonym; members are not participants.
    let camille = Participation::connect(&platform, citizen("oidc|camille")).await;
    let dominique = Participation::connect(&platform, citizen("oidc|dominique")).await;
    let eli = Participation::connect(&platform, citizen("oidc|eli")).await;
    let status = org.register("Département").await.expect_err("a member");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = camille
        .register("camille@example.org")
        .await
        .expect_err("an e-mail");
    assert_eq!(violated_fields(&status), ["display_name"]);
    let status = camille
        .propose(&process.name, "Avant de s'inscrire", "")
        .await
        .expect_err("not registered");
    assert_eq!(reason(&status), "NOT_A_PARTICIPANT");
    let camille_p = camille.register("Camille63").await.expect("register");
    assert_eq!(
        camille.register("Autre nom").await.expect("again").name,
        camille_p.name
    );
    let dominique_p = dominique.register("Dominique").await.expect("register");
    eli.register("Éli").await.expect("register");

    // Nothing opens before a step is active; then only what the active step opens.
    let status = refused(
        camille.propose(&process.name, "Trop tôt pour ça", "").await,
        "STEP_CLOSED",
    );
    assert_eq!(refusal_fact(&status, "action"), "propose");
    assert_eq!(
        stranger
            .activate(&process.name, 2)
            .await
            .expect_err("not its organiser")
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        org.activate(&process.name, 5)
            .await
            .expect_err("no such step")
            .code(),
        Code::InvalidArgument
    );
    let active = org
        .activate(&process.name, 2)
        .await
        .expect("proposals open");
    assert_eq!(active.active_step, 2);
    let status = camille
        .propose(&process.name, "Un thème inconnu", "Climat")
        .await
        .expect_err("theme");
    assert_eq!(violated_fields(&status), ["proposal.theme"]);
    let cycle = camille
        .propose(&process.name, "Une voie cyclable protégée", "Mobilités")
        .await
        .expect("propose");
    assert_eq!(cycle.state, proto::ProposalState::Published as i32);
    assert_eq!(cycle.author_display_name, "Camille63");
    assert!(cycle.authored_by_caller);
    let gravel = dominique
        .propose(&process.name, "Des enrobés recyclés", "Matériaux")
        .await
        .expect("propose");
    let verges = dominique
        .propose(&process.name, "Fauchage tardif des bas-côtés", "")
        .await
        .expect("propose");
    let draft = eli
        .propose(&process.name, "Une idée à retirer", "")
        .await
        .expect("propose");
    let status = refused(camille.support(&gravel.name).await, "STEP_CLOSED");
    assert_eq!(refusal_fact(&status, "action"), "support");

    // Supports: verified participants only, once each, within the limit of 2.
    org.activate(&process.name, 3).await.expect("supports open");
    refused(
        camille
            .propose(&process.name, "Trop tard pour ça", "")
            .await,
        "STEP_CLOSED",
    );
    refused(
        camille.support(&gravel.name).await,
        "PARTICIPANT_NOT_VERIFIED",
    );
    assert_eq!(
        stranger
            .verify(&camille_p.name, &departement)
            .await
            .expect_err("another member")
            .code(),
        Code::PermissionDenied
    );
    let verified = org
        .verify(&camille_p.name, &departement)
        .await
        .expect("verify");
    assert_eq!(verified.verified_by, vec![departement.clone()]);
    org.verify(&dominique_p.name, &departement)
        .await
        .expect("verify");
    let supported = camille.support(&gravel.name).await.expect("support");
    assert_eq!(
        (supported.support_count, supported.supported_by_caller),
        (1, true)
    );
    assert!(!supported.threshold_reached);
    let again = camille.support(&gravel.name).await.expect("once only");
    assert_eq!(again.support_count, 1);
    let reached = dominique.support(&gravel.name).await.expect("support");
    assert_eq!(reached.support_count, 2);
    assert!(reached.threshold_reached);
    camille.support(&cycle.name).await.expect("second support");
    let status = refused(camille.support(&verges.name).await, "SUPPORT_LIMIT_REACHED");
    assert_eq!(refusal_fact(&status, "limit"), "2");
    let back = camille.unsupport(&cycle.name).await.expect("take back");
    assert_eq!((back.support_count, back.supported_by_caller), (0, false));
    camille
        .support(&verges.name)
        .await
        .expect("within the limit again");
    assert_eq!(camille.get(&verges.name).await.support_count, 1);

    // Withdrawing: its author, while nobody supports it.
    refused(
        dominique.withdraw(&gravel.name).await,
        "PROPOSAL_HAS_SUPPORTS",
    );
    assert_eq!(
        camille
            .withdraw(&draft.name)
            .await
            .expect_err("not its author")
            .code(),
        Code::PermissionDenied
    );
    let withdrawn = eli.withdraw(&draft.name).await.expect("withdraw");
    assert_eq!(withdrawn.state, proto::ProposalState::Withdrawn as i32);
    refused(eli.withdraw(&draft.name).await, "PROPOSAL_STATE");

    // The organiser's official answer.
    assert_eq!(
        stranger
            .answer(&gravel.name, proto::ProposalState::Accepted, "Oui.")
            .await
            .expect_err("not its organiser")
            .code(),
        Code::PermissionDenied
    );
    let status = org
        .answer(&gravel.name, proto::ProposalState::Accepted, "")
        .await
        .expect_err("no text");
    assert_eq!(violated_fields(&status), ["answer"]);
    org.answer(&gravel.name, proto::ProposalState::Evaluating, "")
        .await
        .expect("under study");
    let accepted = org
        .answer(
            &gravel.name,
            proto::ProposalState::Accepted,
            "Retenue : un chantier d'essai sur la RD 2089 en 2027.",
        )
        .await
        .expect("accept");
    assert_eq!(accepted.state, proto::ProposalState::Accepted as i32);
    assert_eq!(accepted.support_count, 2);
    let answer = accepted.answer.expect("answer");
    assert!(answer.text.contains("RD 2089") && answer.answer_time.is_some());
    refused(camille.unsupport(&gravel.name).await, "PROPOSAL_STATE");
    refused(
        org.answer(
            &gravel.name,
            proto::ProposalState::Rejected,
            "Finalement non.",
        )
        .await,
        "PROPOSAL_STATE",
    );
    org.answer(
        &cycle.name,
        proto::ProposalState::Rejected,
        "Hors du champ départemental.",
    )
    .await
    .expect("reject");

    // The accepted proposal became the Département's project, once, linking back, even
    // when its event comes again under another id.
    let project = project_from(&platform, &organiser_token, &gravel.name).await;
    assert_eq!(project.title, "Des enrobés recyclés");
    assert_eq!(project.lead, departement);
    assert_eq!(project.state, projects_proto::ProjectState::Proposed as i32);
    assert!(project.summary.contains("RD 2089"), "{}", project.summary);
    replay_accepted(&platform).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        projects_from(&platform, &organiser_token, &gravel.name)
            .await
            .len(),
        1,
        "one project per accepted proposal"
    );

    // Reading, by anyone: withdrawn proposals aside, most supported first.
    let public = Participation::connect(&platform, String::new()).await;
    let request = proto::GetProposalRequest {
        name: gravel.name.clone(),
    };
    let read = public
        .c()
        .get_proposal(request)
        .await
        .expect("public")
        .into_inner();
    assert!(!read.authored_by_caller && !read.supported_by_caller);
    let ranked: Vec<String> = camille
        .list(&process.name, proto::ProposalOrder::MostSupported)
        .await
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(ranked[0], gravel.name);
    assert_eq!(ranked[1], verges.name);
    assert_eq!(ranked.len(), 3);
    let newest = camille
        .list(&process.name, proto::ProposalOrder::Newest)
        .await;
    assert_eq!(
        newest.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        [verges.name.clone(), gravel.name.clone(), cycle.name.clone()]
    );
    assert!(newest.iter().any(|p| p.supported_by_caller));

    // One event per change: the process and two step moves; four proposals; one
    // threshold; one withdrawal; three answers — and the acceptance this test replayed.
    let mut expected = vec![
        "process.created",
        "process.step_activated",
        "process.step_activated",
        "proposal.threshold_reached",
        "proposal.withdrawn",
        "proposal.evaluating",
        "proposal.accepted",
        "proposal.accepted",
        "proposal.rejected",
    ];
    expected.extend(["proposal.published"; 4]);
    expected.sort();
    assert_eq!(
        participation_verbs(&platform, expected.len()).await,
        expected
    );
}

/// The projects led by the token's member that come from `proposal`.
async fn projects_from(
    platform: &TestPlatform,
    token: &str,
    proposal: &str,
) -> Vec<projects_proto::Project> {
    let mut client = ProjectsServiceClient::new(platform.channel().await);
    client
        .list_projects(authed(
            projects_proto::ListProjectsRequest {
                page_size: 100,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("projects")
        .into_inner()
        .projects
        .into_iter()
        .filter(|p| p.origin_proposal == proposal)
        .collect()
}

/// The project made from `proposal`, once the projects service got its event.
async fn project_from(
    platform: &TestPlatform,
    token: &str,
    proposal: &str,
) -> projects_proto::Project {
    fabrique_testkit::eventually(
        "the project made from the proposal",
        Duration::from_secs(30),
        || async { projects_from(platform, token, proposal).await.pop() },
    )
    .await
}

/// Publishes the `accepted` event again, under a new message id.
async fn replay_accepted(platform: &TestPlatform) {
    let mut accepted = platform
        .bus
        .subscribe(&ConsumerSpec {
            stream: platform.stream("participation"),
            durable_name: format!("test-{}", uuid::Uuid::new_v4().simple()),
            filter_subjects: vec![format!(
                "{}fabrique.participation.proposal.accepted",
                platform.prefix
            )],
            ack_wait: Duration::from_secs(30),
        })
        .await
        .expect("subscribe");
    let event = tokio::time::timeout(Duration::from_secs(10), accepted.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("ok");
    let mut headers = Headers::new();
    for (name, value) in event.headers.iter() {
        headers.insert(name.to_string(), value);
    }
    headers.insert(MSG_ID_HEADER, "replayed-accepted");
    platform
        .bus
        .publish(OutgoingMessage {
            subject: event.subject.clone(),
            headers,
            payload: event.payload.clone(),
        })
        .await
        .expect("sent")
        .await
        .expect("stored");
}

/// Each of `count` verified participants, registered on `client`'s platform.
async fn verified_participants(
    platforms: &[&TestPlatform],
    org: &Participation,
    organiser: &str,
    count: usize,
) -> Vec<Participation> {
    let mut people = Vec::new();
    for i in 0..count {
        let platform = platforms[i % platforms.len()];
        let person =
            Participation::connect(platform, citizen(&format!("oidc|{}", uuid::Uuid::now_v7())))
                .await;
        let registered = person
            .register(&format!("Habitant {i}"))
            .await
            .expect("register");
        org.verify(&registered.name, organiser)
            .await
            .expect("verify");
        people.push(person);
    }
    people
}

/// Over 60 lines: three races, each followed by what the database holds.
async fn supports_hold_their_limits_under_concurrency(backend: Backend) {
    let platform = platform(backend).await;
    // On PostgreSQL the supports are spread over two instances, as over two pods.
    let second = match backend {
        Backend::Postgres => Some(platform.another_instance(services()).await),
        Backend::Sqlite => None,
    };
    let platforms: Vec<&TestPlatform> = std::iter::once(&platform).chain(second.as_ref()).collect();
    let departement = organiser(&platform, "Département (exemple)").await;
    let org =
        Participation::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let process = org.create_process(consultation(&departement, 3, 20)).await;
    org.activate(&process.name, 2).await.expect("proposals");
    let author = Participation::connect(&platform, citizen("oidc|author")).await;
    author.register("Auteur").await.expect("register");
    let mut proposals = Vec::new();
    for i in 0..10 {
        let proposal = author
            .propose(&process.name, &format!("Proposition numéro {i}"), "")
            .await
            .expect("propose");
        proposals.push(proposal.name);
    }
    org.activate(&process.name, 3).await.expect("supports");

    // One participant, ten supports at once, a limit of three: three pass.
    let eager = verified_participants(&platforms, &org, &departement, 2).await;
    let calls: Vec<_> = proposals
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (client, name) = (eager[i % 2].clone(), name.clone());
            // Both clients carry the same token: one person on two pods.
            let client = Participation {
                token: eager[0].token.clone(),
                ..client
            };
            tokio::spawn(async move { client.support(&name).await })
        })
        .collect();
    let mut passed = 0;
    for call in calls {
        match call.await.expect("task") {
            Ok(_) => passed += 1,
            Err(status) => assert_eq!(reason(&status), "SUPPORT_LIMIT_REACHED", "{status:?}"),
        }
    }
    assert_eq!(passed, 3);
    let counts: Vec<i32> = futures::future::join_all(proposals.iter().map(|p| author.get(p)))
        .await
        .iter()
        .map(|p| p.support_count)
        .collect();
    assert_eq!(counts.iter().sum::<i32>(), 3, "{counts:?}");

    // Twenty participants supporting one proposal at once, each twice: twenty, and
    // the threshold of twenty announced once.
    let crowd = verified_participants(&platforms, &org, &departement, 20).await;
    let target = proposals[9].clone();
    let calls: Vec<_> = crowd
        .iter()
        .chain(crowd.iter())
        .map(|person| {
            let (person, target) = (person.clone(), target.clone());
            tokio::spawn(async move { person.support(&target).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("support");
    }
    let after = author.get(&target).await;
    assert_eq!(after.support_count, 20 + counts[9]);
    assert!(after.threshold_reached);

    // Supports and withdrawals racing: the count is what the rows say.
    let calls: Vec<_> = crowd
        .iter()
        .enumerate()
        .map(|(i, person)| {
            let (person, target) = (person.clone(), target.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    person.unsupport(&target).await
                } else {
                    person.support(&target).await
                }
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("support or withdraw");
    }
    assert_eq!(author.get(&target).await.support_count, 10 + counts[9]);
    let verbs = participation_verbs(&platform, 0).await;
    assert_eq!(
        verbs
            .iter()
            .filter(|v| *v == "proposal.threshold_reached")
            .count(),
        1,
        "{verbs:?}"
    );
}

impl Participation {
    async fn comment(&self, proposal: &str, body: &str) -> Result<proto::Comment, Status> {
        let request = proto::CreateCommentRequest {
            parent: proposal.into(),
            body: body.into(),
        };
        Ok(self
            .c()
            .create_comment(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn report(&self, comment: &str) -> Result<proto::Comment, Status> {
        let request = proto::ReportCommentRequest {
            name: comment.into(),
        };
        Ok(self
            .c()
            .report_comment(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn moderate(
        &self,
        comment: &str,
        decision: proto::ModerationDecision,
    ) -> Result<proto::Comment, Status> {
        let request = proto::ModerateCommentRequest {
            name: comment.into(),
            decision: decision as i32,
        };
        Ok(self
            .c()
            .moderate_comment(authed(request, &self.token))
            .await?
            .into_inner())
    }

    async fn comments(&self, proposal: &str, pending: bool) -> Result<Vec<proto::Comment>, Status> {
        let request = proto::ListCommentsRequest {
            parent: proposal.into(),
            pending_review: pending,
            ..Default::default()
        };
        let request = if self.token.is_empty() {
            tonic::Request::new(request)
        } else {
            authed(request, &self.token)
        };
        Ok(self.c().list_comments(request).await?.into_inner().comments)
    }
}

fn comment_refused(result: Result<proto::Comment, Status>, code: &str) -> Status {
    let status = result.expect_err(code);
    assert_eq!(reason(&status), code, "{status:?}");
    status
}

/// Over 60 lines: comments told in order, each moderation rule where it applies.
async fn comments_are_moderated(backend: Backend) {
    let platform = platform(backend).await;
    let departement = organiser(&platform, "Département (exemple)").await;
    let org =
        Participation::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let mut process = consultation(&departement, 0, 0);
    process.report_threshold = 2;
    let process = org.create_process(process).await;
    assert_eq!(process.report_threshold, 2);
    let people: Vec<Participation> = futures::future::join_all(
        ["oidc|auteur", "oidc|a", "oidc|b", "oidc|c"]
            .iter()
            .map(|sub| Participation::connect(&platform, citizen(sub))),
    )
    .await;
    for (person, pseudonym) in people.iter().zip(["Auteur", "Ana", "Basile", "Chloé"]) {
        person.register(pseudonym).await.expect("register");
    }
    let (author, a, b, c) = (&people[0], &people[1], &people[2], &people[3]);
    org.activate(&process.name, 2)
        .await
        .expect("proposals and comments");
    let proposal = author
        .propose(&process.name, "Des arbres le long des routes", "")
        .await
        .expect("propose");

    // Within the rate limit, then refused saying when to come back.
    let mut written = Vec::new();
    for i in 0..5 {
        written.push(
            a.comment(&proposal.name, &format!("Avis numéro {i}"))
                .await
                .expect("comment"),
        );
    }
    let status = comment_refused(
        a.comment(&proposal.name, "Un de trop").await,
        "COMMENT_RATE_LIMITED",
    );
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(!refusal_fact(&status, "retry_after").is_empty());
    assert_eq!(
        violated_fields(&b.comment(&proposal.name, " ").await.expect_err("empty")),
        ["body"]
    );

    // Two reports hide it; the public no longer reads it, its author and the organiser do.
    let target = written[0].name.clone();
    comment_refused(a.report(&target).await, "COMMENT_STATE");
    let once = b.report(&target).await.expect("report");
    assert_eq!(
        (once.state, once.report_count),
        (proto::CommentState::Visible as i32, 0)
    );
    b.report(&target).await.expect("twice counts once");
    let read =
        |list: Vec<proto::Comment>| list.into_iter().find(|x| x.name == target).expect("listed");
    assert_eq!(
        read(
            org.comments(&proposal.name, false)
                .await
                .expect("organiser")
        )
        .report_count,
        1
    );
    let hidden = c.report(&target).await.expect("report");
    assert_eq!(hidden.state, proto::CommentState::Hidden as i32);
    let public = Participation::connect(&platform, String::new()).await;
    let seen = read(
        public
            .comments(&proposal.name, false)
            .await
            .expect("public"),
    );
    assert!(seen.body.is_empty() && seen.state == proto::CommentState::Hidden as i32);
    assert_eq!(
        read(a.comments(&proposal.name, false).await.expect("author")).body,
        "Avis numéro 0"
    );
    let queue = org.comments(&proposal.name, true).await.expect("queue");
    assert_eq!(
        queue.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        [target.as_str()]
    );
    assert_eq!(queue[0].body, "Avis numéro 0");
    assert_eq!(
        b.comments(&proposal.name, true)
            .await
            .expect_err("not the organiser")
            .code(),
        Code::PermissionDenied
    );

    // Restored, reports no longer hide it; removed, it stays removed.
    assert_eq!(
        b.moderate(&target, proto::ModerationDecision::Restore)
            .await
            .expect_err("a citizen")
            .code(),
        Code::PermissionDenied
    );
    let restored = org
        .moderate(&target, proto::ModerationDecision::Restore)
        .await
        .expect("restore");
    assert_eq!(
        (restored.state, restored.reviewed),
        (proto::CommentState::Visible as i32, true)
    );
    author.report(&target).await.expect("reported after review");
    assert_eq!(
        read(
            public
                .comments(&proposal.name, false)
                .await
                .expect("public")
        )
        .state,
        proto::CommentState::Visible as i32
    );
    let removed = org
        .moderate(&written[1].name, proto::ModerationDecision::Remove)
        .await
        .expect("remove");
    assert_eq!(removed.state, proto::CommentState::Removed as i32);
    comment_refused(b.report(&written[1].name).await, "COMMENT_STATE");
    comment_refused(
        org.moderate(&written[1].name, proto::ModerationDecision::Restore)
            .await,
        "COMMENT_STATE",
    );

    // Reports racing: hidden once.
    let raced = written[2].name.clone();
    let calls: Vec<_> = [b, c, author]
        .into_iter()
        .map(|person| {
            let (person, raced) = (person.clone(), raced.clone());
            tokio::spawn(async move { person.report(&raced).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("report");
    }
    let verbs = participation_verbs(&platform, 0).await;
    let count = |verb: &str| verbs.iter().filter(|v| *v == verb).count();
    assert_eq!(count("comment.published"), 5);
    assert_eq!(count("comment.hidden"), 2, "{verbs:?}");
    assert_eq!(
        (count("comment.restored"), count("comment.removed")),
        (1, 1)
    );
}

/// The records of a CSV file, header first.
fn records(csv: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv)
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Over 60 lines: the open data, then two erasures and what stays of them.
async fn open_data_and_erasure(backend: Backend) {
    let platform = platform(backend).await;
    let departement = organiser(&platform, "Département (exemple)").await;
    let org =
        Participation::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let mut process = consultation(&departement, 0, 0);
    process.steps[1].supports_open = true;
    process.verified_only = false;
    let process = org.create_process(process).await;
    org.activate(&process.name, 2)
        .await
        .expect("proposals and supports");
    let camille = Participation::connect(&platform, citizen("oidc|camille-erase")).await;
    let dominique = Participation::connect(&platform, citizen("oidc|dominique-erase")).await;
    let first = camille.register("Camille63").await.expect("register");
    dominique.register("Dominique").await.expect("register");
    let proposal = camille
        .propose(&process.name, "Des arbres le long des routes", "Mobilités")
        .await
        .expect("propose");
    dominique.support(&proposal.name).await.expect("support");
    camille
        .comment(&proposal.name, "Et des haies aussi.")
        .await
        .expect("comment");
    org.answer(
        &proposal.name,
        proto::ProposalState::Accepted,
        "Retenue, plantations en 2027.",
    )
    .await
    .expect("accept");
    let withdrawn = dominique
        .propose(&process.name, "Une idée retirée ensuite", "")
        .await
        .expect("propose");
    dominique.withdraw(&withdrawn.name).await.expect("withdraw");

    // Open data: the answered proposal, no withdrawn one, nobody's pseudonym.
    let public = Participation::connect(&platform, String::new()).await;
    let export = public
        .c()
        .export_proposals(proto::ExportProposalsRequest {
            parent: process.name.clone(),
        })
        .await
        .expect("public export")
        .into_inner();
    assert_eq!(export.rows, 1);
    let rows = records(&export.csv);
    assert_eq!(rows[0], fabrique_participation::opendata::PROPOSAL_COLUMNS);
    let row: std::collections::HashMap<&str, &str> = rows[0]
        .iter()
        .map(String::as_str)
        .zip(rows[1].iter().map(String::as_str))
        .collect();
    assert_eq!(row["identifiant"], proposal.name);
    assert_eq!((row["etat"], row["soutiens"]), ("accepted", "1"));
    assert_eq!(row["reponse"], "Retenue, plantations en 2027.");
    let text = String::from_utf8(export.csv.clone()).expect("UTF-8");
    assert!(
        !text.contains("Camille63") && !text.contains("Dominique"),
        "{text}"
    );

    // Camille erases her account: her proposal and comment stay, anonymous; signing in
    // again makes a new participant.
    let erased = camille
        .c()
        .erase_participant(authed(
            proto::EraseParticipantRequest {
                name: "participants/me".into(),
            },
            &camille.token,
        ))
        .await
        .expect("erase")
        .into_inner();
    assert_eq!(erased.name, first.name);
    let read = public
        .c()
        .get_proposal(proto::GetProposalRequest {
            name: proposal.name.clone(),
        })
        .await
        .expect("still there")
        .into_inner();
    assert_eq!(read.author_display_name, "[compte supprimé]");
    assert_eq!(read.support_count, 1);
    let comments = public
        .comments(&proposal.name, false)
        .await
        .expect("comments");
    assert_eq!(comments[0].author_display_name, "[compte supprimé]");
    // Nor do the events the stream keeps name her, before or after.
    let subjects = fabrique_platform::bus::Subjects::new(platform.prefix.clone());
    let stream = subjects.service_stream("participation");
    let events = platform
        .bus
        .stored(
            &stream.name,
            &subjects.full("fabrique.participation.>"),
            10_000,
        )
        .await
        .expect("the participation stream");
    assert!(
        events
            .iter()
            .any(|e| e.subject.ends_with("proposal.accepted")),
        "the stream was read"
    );
    for event in &events {
        let payload = String::from_utf8_lossy(&event.payload);
        assert!(
            !payload.contains("Camille63") && !payload.contains("Dominique"),
            "{}: {payload}",
            event.subject
        );
    }
    let status = camille
        .c()
        .get_participant(authed(
            proto::GetParticipantRequest {
                name: "participants/me".into(),
            },
            &camille.token,
        ))
        .await
        .expect_err("erased");
    assert_eq!(reason(&status), "NOT_A_PARTICIPANT");
    let again = camille.register("Camille").await.expect("register again");
    assert_ne!(again.name, first.name);
    assert!(!camille.get(&proposal.name).await.authored_by_caller);
    let admin = Participation::connect(&platform, TestPlatform::admin_token()).await;
    let old = admin
        .c()
        .get_participant(authed(
            proto::GetParticipantRequest {
                name: first.name.clone(),
            },
            &admin.token,
        ))
        .await
        .expect("admin reads")
        .into_inner();
    assert_eq!(old.display_name, "[compte supprimé]");

    // Dominique's support stays counted once he erased his account; another's
    // participant cannot be erased by a citizen.
    let status = camille
        .c()
        .erase_participant(authed(
            proto::EraseParticipantRequest {
                name: first.name.clone(),
            },
            &camille.token,
        ))
        .await
        .expect_err("not hers any more");
    assert_eq!(status.code(), Code::NotFound);
    dominique
        .c()
        .erase_participant(authed(
            proto::EraseParticipantRequest {
                name: "participants/me".into(),
            },
            &dominique.token,
        ))
        .await
        .expect("erase");
    assert_eq!(public.get(&proposal.name).await.support_count, 1);
}

macro_rules! on_both_stores {
    ($($test:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Postgres).await; })+
        }
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(fabrique_testkit::Backend::Sqlite).await; })+
        }
    };
}

on_both_stores!(
    a_consultation_runs_its_steps,
    comments_are_moderated,
    open_data_and_erasure,
    supports_hold_their_limits_under_concurrency,
);
