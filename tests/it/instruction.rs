//! Solaire Dôme as the Aduhme instructs it for the Département, on both backends: the
//! operator asks an applicant to complete its application, gives its opinion and keeps
//! private notes the applicant never reads; the funder decides. And who may do what on
//! a programme's applications — anonymous, another member, the applicant, the operator,
//! the funder, a co-funder, an admin — for every subsidy call.

use fabrique_api::members as mp;
use fabrique_api::projects as proto;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::{Code, Status};

use crate::projects::{
    Projects, active_members, open_data_communes, platform, solaire_dome, with_kind,
};
use crate::subsidies::subjects;
use crate::support::{Members, id_of, reason};

/// The members of a programme with an operator, and a client for each role.
struct Roles {
    funder: Projects,
    operator: Projects,
    co_funder: Projects,
    applicant: Projects,
    other: Projects,
    admin: Projects,
    anonymous: Projects,
    programme: String,
    /// `members/{id}` of the co-funder.
    region: String,
}

async fn roles(platform: &TestPlatform) -> Roles {
    let members = Members::connect(platform, TestPlatform::admin_token()).await;
    let mut list = vec![
        with_kind(
            "Département du Puy-de-Dôme",
            mp::MemberKind::Departement,
            &[],
        ),
        with_kind("Région Auvergne-Rhône-Alpes", mp::MemberKind::Region, &[]),
        with_kind("Aduhme", mp::MemberKind::Association, &[]),
    ];
    list.extend(open_data_communes(2));
    let names = active_members(platform, &members, list).await;
    let client = |name: &str| Projects::connect(platform, TestPlatform::member_token(&id_of(name)));
    let funder = client(&names[0]).await;
    let programme = funder
        .programme(proto::Programme {
            operator: names[2].clone(),
            // No limit per commune: the table approves one commune's applications often.
            max_awards_per_member: 0,
            ..solaire_dome(&names[1])
        })
        .await
        .expect("a programme with its operator");
    assert_eq!(programme.operator, names[2]);
    Roles {
        operator: client(&names[2]).await,
        co_funder: client(&names[1]).await,
        applicant: client(&names[3]).await,
        other: client(&names[4]).await,
        admin: Projects::connect(platform, TestPlatform::admin_token()).await,
        anonymous: Projects::connect(platform, String::new()).await,
        funder,
        programme: programme.name,
        region: names[1].clone(),
    }
}

impl Projects {
    async fn request_completion(
        &self,
        name: &str,
        message: &str,
    ) -> Result<proto::Application, Status> {
        let request = proto::RequestCompletionRequest {
            name: name.to_string(),
            message: message.to_string(),
        };
        let mut client = self.client.clone();
        client
            .request_completion(self.authed(request))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn complete(
        &self,
        name: &str,
        answer: &str,
        purpose: &str,
    ) -> Result<proto::Application, Status> {
        let request = proto::CompleteApplicationRequest {
            name: name.to_string(),
            answer: answer.to_string(),
            purpose: purpose.to_string(),
        };
        let mut client = self.client.clone();
        client
            .complete_application(self.authed(request))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn opinion(&self, name: &str, opinion: &str) -> Result<proto::Application, Status> {
        let request = proto::RecordOpinionRequest {
            name: name.to_string(),
            recommendation: proto::Recommendation::Approve as i32,
            opinion: opinion.to_string(),
        };
        let mut client = self.client.clone();
        client
            .record_opinion(self.authed(request))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn note(&self, name: &str, text: &str) -> Result<proto::Application, Status> {
        let request = proto::AddInstructionNoteRequest {
            name: name.to_string(),
            text: text.to_string(),
        };
        let mut client = self.client.clone();
        client
            .add_instruction_note(self.authed(request))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn list(&self, programme: &str) -> Result<Vec<proto::Application>, Status> {
        let request = proto::ListApplicationsRequest {
            parent: programme.to_string(),
            page_size: 100,
            ..Default::default()
        };
        let mut client = self.client.clone();
        let page = client.list_applications(self.authed(request)).await?;
        Ok(page.into_inner().applications)
    }

    async fn reject(&self, name: &str) -> Result<proto::Application, Status> {
        let request = proto::RejectApplicationRequest {
            name: name.to_string(),
            reason: "hors périmètre".into(),
        };
        let mut client = self.client.clone();
        client
            .reject_application(self.authed(request))
            .await
            .map(tonic::Response::into_inner)
    }

    /// `message` with this client's token; none for the anonymous client.
    fn authed<T>(&self, message: T) -> tonic::Request<T> {
        if self.token.is_empty() {
            tonic::Request::new(message)
        } else {
            authed(message, &self.token)
        }
    }
}

/// Over 60 lines: one application through its instruction, each step checked with what
/// each party then reads, and the events it gave.
async fn the_operator_instructs_and_the_funder_decides(backend: Backend) {
    let platform = platform(backend).await;
    let r = roles(&platform).await;
    let a = r
        .applicant
        .apply(&r.programme, "Centrale sur l'école")
        .await
        .expect("apply");

    let sent_back = r
        .operator
        .request_completion(&a.name, "Joindre l'étude de structure de la toiture.")
        .await
        .expect("the operator asks to complete");
    assert_eq!(sent_back.state, proto::ApplicationState::ToComplete as i32);
    let refused = r.funder.approve(&a.name).await.unwrap_err();
    assert_eq!(
        reason(&refused),
        "APPLICATION_DECIDED",
        "not while it is to complete"
    );
    let seen = r.applicant.application(&a.name).await.expect("read");
    assert_eq!(
        seen.completion_request,
        "Joindre l'étude de structure de la toiture."
    );

    let completed = r
        .applicant
        .complete(
            &a.name,
            "Étude jointe.",
            "Centrale de 9 kWc sur l'école Jules-Ferry",
        )
        .await
        .expect("completed");
    assert_eq!(completed.state, proto::ApplicationState::Submitted as i32);
    assert_eq!(
        completed.purpose,
        "Centrale de 9 kWc sur l'école Jules-Ferry"
    );

    r.operator
        .opinion(&a.name, "Toiture saine, production estimée conforme.")
        .await
        .expect("opinion");
    r.funder
        .note(&a.name, "Vu avec l'élu le 3 décembre.")
        .await
        .expect("a funder's note");
    let as_funder = r.funder.application(&a.name).await.expect("read");
    let instruction = as_funder
        .instruction
        .expect("the funder reads the instruction");
    assert_eq!(
        instruction.recommendation,
        proto::Recommendation::Approve as i32
    );
    assert_eq!(
        instruction.opinion,
        "Toiture saine, production estimée conforme."
    );
    assert_eq!(instruction.notes.len(), 1);
    let as_operator = r
        .operator
        .list(&r.programme)
        .await
        .expect("the operator lists them all");
    assert_eq!(as_operator.len(), 1);
    assert!(
        as_operator[0]
            .instruction
            .as_ref()
            .is_some_and(|i| !i.opinion.is_empty())
    );
    // The applicant never reads the instruction, by any call.
    let own = r.applicant.application(&a.name).await.expect("read");
    assert_eq!(
        own.instruction.unwrap_or_default(),
        proto::Instruction::default()
    );
    for listed in r.applicant.list(&r.programme).await.expect("list") {
        assert_eq!(
            listed.instruction.unwrap_or_default(),
            proto::Instruction::default()
        );
    }

    let denied = r.operator.approve(&a.name).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "the funder decides");
    let applying = r
        .operator
        .apply(&r.programme, "Pour nous")
        .await
        .unwrap_err();
    assert_eq!(
        applying.code(),
        Code::PermissionDenied,
        "an operator does not apply"
    );
    r.funder.approve(&a.name).await.expect("approved");

    let mut seen = subjects(&platform, "application", 6).await;
    seen.sort();
    let expected = [
        "approved",
        "completed",
        "completion_requested",
        "instructed",
        "instructed",
        "submitted",
    ];
    assert_eq!(seen, expected.map(|s| format!("application.{s}")));
}

/// Who may call each subsidy RPC on an application of the applicant, by role. `OK`
/// calls get a fresh application each, in the state the call starts from.
#[derive(Clone, Copy, Debug)]
enum Call {
    Get,
    List,
    RequestCompletion,
    Complete,
    Opinion,
    Note,
    Approve,
    Reject,
    /// A payment of the co-funder's part of an award.
    PayPart,
}

const U: Code = Code::Unauthenticated;
const OK: Code = Code::Ok;
const PD: Code = Code::PermissionDenied;
const NF: Code = Code::NotFound;

/// Anonymous, another member, the applicant, the operator, the funder, a co-funder,
/// an admin.
const TABLE: &[(Call, [Code; 7])] = &[
    // A co-funder reads the applications it pays a part of; it does not instruct them.
    (Call::Get, [U, NF, OK, OK, OK, OK, OK]),
    // Anyone a member lists its own (none for the others); instructors list all.
    (Call::List, [U, OK, OK, OK, OK, OK, OK]),
    (Call::RequestCompletion, [U, NF, PD, OK, OK, PD, OK]),
    (Call::Complete, [U, NF, OK, PD, PD, PD, OK]),
    // The operator gives the opinion; the funder decides.
    (Call::Opinion, [U, NF, PD, OK, PD, PD, OK]),
    (Call::Note, [U, NF, PD, OK, OK, PD, OK]),
    (Call::Approve, [U, NF, PD, PD, OK, PD, OK]),
    (Call::Reject, [U, NF, PD, PD, OK, PD, OK]),
    // The co-funder (or an admin) records the payments of its own part only.
    (Call::PayPart, [U, NF, PD, PD, PD, OK, OK]),
];

async fn code_of(r: &Roles, call: Call, caller: &Projects) -> Code {
    let a = r
        .applicant
        .apply(&r.programme, "Centrale")
        .await
        .expect("apply");
    if matches!(call, Call::PayPart) {
        r.funder.approve(&a.name).await.expect("approved");
    }
    if matches!(call, Call::Complete) {
        r.operator
            .request_completion(&a.name, "Le devis")
            .await
            .expect("to complete");
    }
    let result = match call {
        Call::Get => caller.application(&a.name).await.map(drop),
        Call::List => caller.list(&r.programme).await.map(drop),
        Call::RequestCompletion => caller
            .request_completion(&a.name, "Le devis")
            .await
            .map(drop),
        Call::Complete => caller
            .complete(&a.name, "Voici le devis", "")
            .await
            .map(drop),
        Call::Opinion => caller.opinion(&a.name, "Favorable").await.map(drop),
        Call::Note => caller.note(&a.name, "À revoir").await.map(drop),
        Call::Approve => caller.approve(&a.name).await.map(drop),
        Call::Reject => caller.reject(&a.name).await.map(drop),
        Call::PayPart => caller
            .pay_part(&a.name, proto::PaymentKind::Advance, 10_000, &r.region)
            .await
            .map(drop),
    };
    result.err().map_or(Code::Ok, |status| status.code())
}

async fn each_party_may_do_what_its_role_allows(backend: Backend) {
    let platform = platform(backend).await;
    let r = roles(&platform).await;
    let callers = [
        &r.anonymous,
        &r.other,
        &r.applicant,
        &r.operator,
        &r.funder,
        &r.co_funder,
        &r.admin,
    ];
    let names = [
        "anonymous",
        "other member",
        "applicant",
        "operator",
        "funder",
        "co-funder",
        "admin",
    ];
    let mut wrong = Vec::new();
    for (call, expected) in TABLE {
        for ((caller, name), want) in callers.iter().zip(names).zip(expected) {
            let got = code_of(&r, *call, caller).await;
            if got != *want {
                wrong.push(format!("{call:?} by {name}: {got:?}, expected {want:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

mod postgres {
    #[tokio::test]
    async fn the_operator_instructs_and_the_funder_decides() {
        super::the_operator_instructs_and_the_funder_decides(fabrique_testkit::Backend::Postgres)
            .await;
    }

    #[tokio::test]
    async fn each_party_may_do_what_its_role_allows() {
        super::each_party_may_do_what_its_role_allows(fabrique_testkit::Backend::Postgres).await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn the_operator_instructs_and_the_funder_decides() {
        super::the_operator_instructs_and_the_funder_decides(fabrique_testkit::Backend::Sqlite)
            .await;
    }

    #[tokio::test]
    async fn each_party_may_do_what_its_role_allows() {
        super::each_party_may_do_what_its_role_allows(fabrique_testkit::Backend::Sqlite).await;
    }
}
