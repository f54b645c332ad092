//! Authorization, everywhere: every RPC of every service, called by every kind of caller.
//!
//! Each RPC has a row in [`TABLE`] saying who may call it and building a request on
//! resources of member A. The test calls it with no token, with tokens that must be
//! refused (expired, not yet valid, signed with another secret, another audience or
//! issuer, `alg: none`), with member B's token, with A's and with an admin's, and checks
//! the code each gets. A row is required for every method of the descriptor set: an RPC
//! added without one fails the test.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use bytes::{Buf, BufMut, Bytes};
use fabrique_api::members::{self as mp, members_service_client::MembersServiceClient};
use fabrique_api::notify::{self as np, notify_service_client::NotifyServiceClient};
use fabrique_api::projects::{self as pp, projects_service_client::ProjectsServiceClient};
use fabrique_api::registry::{self as rp, registry_service_client::RegistryServiceClient};
use fabrique_api::sharing::{self as sp, sharing_service_client::SharingServiceClient};
use fabrique_platform::auth;
use fabrique_platform::config::Secret;
use fabrique_testkit::authed;
use fabrique_testkit::{Backend, BusChoice, TestPlatform, secret};
use prost::Message;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

mod participation;

const ISSUER: &str = "https://sso.fabrique.test";
const AUDIENCE: &str = "fabrique";

/// Passes message bytes through: the table encodes each request with prost, and the
/// test reads only the status.
#[derive(Debug, Clone, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Calls `/package.Service/Method` with an encoded request; `Ok` carries the response
/// bytes.
async fn call(
    channel: &Channel,
    method: &str,
    body: Bytes,
    token: Option<&str>,
) -> Result<Bytes, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(body);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii token"),
        );
    }
    let path = http::uri::PathAndQuery::try_from(format!("/{method}")).expect("a path");
    grpc.unary(request, path, RawCodec)
        .await
        .map(tonic::Response::into_inner)
}

/// Every method the API declares, as `package.Service/Method`.
fn declared_methods() -> BTreeSet<String> {
    let set = prost_types::FileDescriptorSet::decode(fabrique_api::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut methods = BTreeSet::new();
    for file in set.file {
        let package = file.package().to_string();
        if !package.starts_with("fabrique.") {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                methods.insert(format!("{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    methods
}

/// Each package's refusal codes: the values of its `enum Refusal` without `REFUSAL_`.
fn declared_refusals() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let set = prost_types::FileDescriptorSet::decode(fabrique_api::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut refusals = std::collections::BTreeMap::new();
    for file in set.file {
        for refusal in file.enum_type.iter().filter(|e| e.name() == "Refusal") {
            let codes: &mut BTreeSet<String> =
                refusals.entry(file.package().to_string()).or_default();
            codes.extend(refusal.value.iter().filter_map(|v| {
                v.name()
                    .strip_prefix("REFUSAL_")
                    .filter(|code| *code != "UNSPECIFIED")
                    .map(str::to_string)
            }));
        }
    }
    refusals
}

/// A refusal's `ErrorInfo.reason` that its service's proto does not list.
fn unlisted_reason(
    refusals: &std::collections::BTreeMap<String, BTreeSet<String>>,
    method: &str,
    status: &tonic::Status,
) -> Option<String> {
    use tonic_types::StatusExt;
    if !matches!(
        status.code(),
        Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists
    ) {
        return None;
    }
    let reason = status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default();
    let package = method
        .rsplit_once('.')
        .map_or(method, |(package, _)| package);
    let listed = refusals
        .get(package)
        .is_some_and(|codes| codes.contains(&reason));
    (!listed).then_some(reason)
}

/// One call of a table: `method` with `body` and `token`, by `label`. Records in
/// `failures` an answer other than `expected`, and a refusal its proto does not list.
pub(super) struct Checked<'a> {
    channel: &'a Channel,
    refusals: &'a std::collections::BTreeMap<String, BTreeSet<String>>,
    failures: Vec<String>,
    count: usize,
}

impl<'a> Checked<'a> {
    pub(super) fn new(
        channel: &'a Channel,
        refusals: &'a std::collections::BTreeMap<String, BTreeSet<String>>,
    ) -> Self {
        Checked {
            channel,
            refusals,
            failures: Vec::new(),
            count: 0,
        }
    }

    /// Calls `method` as `label` and checks its answer.
    pub(super) async fn call(
        &mut self,
        (method, label): (&str, &str),
        body: Bytes,
        token: Option<&str>,
        expected: Code,
    ) {
        let (code, message) = match call(self.channel, method, body, token).await {
            Ok(_) => (Code::Ok, String::new()),
            Err(status) => {
                if let Some(reason) = unlisted_reason(self.refusals, method, &status) {
                    self.failures.push(format!(
                        "{method} by {label}: refused with {reason:?}, which its proto's \
                         enum Refusal does not list"
                    ));
                }
                (status.code(), status.message().to_string())
            }
        };
        self.count += 1;
        if code != expected {
            self.failures.push(format!(
                "{method} by {label}: expected {expected:?}, got {code:?} {message}"
            ));
        }
    }

    /// Fails the test with every call the table did not foresee.
    pub(super) fn assert_as_the_table_says(self) {
        assert!(
            self.failures.is_empty(),
            "{} of {} calls were not answered as the table says:\n{}",
            self.failures.len(),
            self.count,
            self.failures.join("\n")
        );
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token for the platform under test: HS256, its issuer and audience, one hour.
fn valid(sub: &str, roles: &[&str]) -> String {
    signed(sub, roles, |_| {})
}

fn signed(sub: &str, roles: &[&str], edit: impl FnOnce(&mut auth::Claims)) -> String {
    let mut claims = auth::claims(sub, roles, chrono::Duration::hours(1));
    claims.iss = Some(ISSUER.into());
    claims.aud = Some(AUDIENCE.into());
    edit(&mut claims);
    auth::mint(&Secret::new(secret()), &claims).expect("token")
}

/// Tokens of an admin that must all be refused, with what is wrong with each.
fn refused_tokens() -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now().timestamp();
    let mut forged = auth::claims("admin", &["admin"], chrono::Duration::hours(1));
    forged.iss = Some(ISSUER.into());
    forged.aud = Some(AUDIENCE.into());
    let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let none_claims = b64(serde_json::to_string(&forged).expect("claims").as_bytes());
    vec![
        (
            "expired",
            signed("admin", &["admin"], |c| c.exp = now - 300),
        ),
        (
            "not yet valid",
            signed("admin", &["admin"], |c| c.nbf = Some(now + 3600)),
        ),
        (
            "signed with another secret",
            auth::mint(
                &Secret::new("another-secret-another-secret-01234567"),
                &forged,
            )
            .expect("token"),
        ),
        (
            "for another audience",
            signed("admin", &["admin"], |c| c.aud = Some("another-app".into())),
        ),
        (
            "without audience",
            signed("admin", &["admin"], |c| c.aud = None),
        ),
        (
            "from another issuer",
            signed("admin", &["admin"], |c| {
                c.iss = Some("https://evil.test".into())
            }),
        ),
        ("alg none", format!("{none_header}.{none_claims}.")),
        ("garbage", "garbage".to_string()),
    ]
}

// ------------------------------------------------------------------ expectations

/// What each caller gets. Tokens that must be refused always get UNAUTHENTICATED.
#[derive(Debug, Clone, Copy)]
struct Expect {
    /// No token at all.
    anonymous: Code,
    /// Member B, acting on member A's resources.
    other: Code,
    /// Member A, on its own resources.
    owner: Code,
    admin: Code,
}

const U: Code = Code::Unauthenticated;
const OK: Code = Code::Ok;
const PD: Code = Code::PermissionDenied;
const NF: Code = Code::NotFound;
/// Allowed past authorization, refused by a business rule (e.g. an admin is no member).
const FP: Code = Code::FailedPrecondition;

const fn expect(anonymous: Code, other: Code, owner: Code, admin: Code) -> Expect {
    Expect {
        anonymous,
        other,
        owner,
        admin,
    }
}

/// Any authenticated caller.
const ANY: Expect = expect(U, OK, OK, OK);
/// The owner and admins; another member is refused.
const OWNER: Expect = expect(U, PD, OK, OK);
/// Admins only.
const ADMIN: Expect = expect(U, PD, PD, OK);
/// Open to everyone, even without a token.
const PUBLIC: Expect = expect(OK, OK, OK, OK);

/// Every RPC, who may call it. Targets are member A's (see [`request`]).
const TABLE: &[(&str, Expect)] = &[
    // Members: the directory is public (active members, public fields: see the
    // private-data tests); a member edits and leaves itself; admins decide membership.
    ("fabrique.members.v1.MembersService/GetMember", PUBLIC),
    ("fabrique.members.v1.MembersService/ListMembers", PUBLIC),
    // Each service's audit of who changed a resource: admins only.
    ("fabrique.members.v1.MembersService/ListChanges", ADMIN),
    ("fabrique.registry.v1.RegistryService/ListChanges", ADMIN),
    ("fabrique.sharing.v1.SharingService/ListChanges", ADMIN),
    ("fabrique.projects.v1.ProjectsService/ListChanges", ADMIN),
    ("fabrique.notify.v1.NotifyService/ListChanges", ADMIN),
    // Notify: an address's settings are its member's (another member is told they do
    // not exist, so addresses cannot be probed); what was sent is for admins.
    (
        "fabrique.notify.v1.NotifyService/GetNotificationSettings",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.notify.v1.NotifyService/UpdateNotificationSettings",
        expect(U, NF, OK, OK),
    ),
    ("fabrique.notify.v1.NotifyService/ListDeliveries", ADMIN),
    // Dead letters are the operators': admins only (the fixture has none to replay).
    (
        "fabrique.operations.v1.DeadLetterService/ListDeadLetters",
        ADMIN,
    ),
    (
        "fabrique.operations.v1.DeadLetterService/ReplayDeadLetter",
        expect(U, PD, PD, NF),
    ),
    // Admins retry a given-up e-mail (the fixture has none: NOT_FOUND).
    (
        "fabrique.notify.v1.NotifyService/RetryDelivery",
        expect(U, PD, PD, NF),
    ),
    ("fabrique.members.v1.MembersService/CreateMember", ANY),
    ("fabrique.members.v1.MembersService/UpdateMember", OWNER),
    ("fabrique.members.v1.MembersService/ApproveMember", ADMIN),
    ("fabrique.members.v1.MembersService/SuspendMember", ADMIN),
    ("fabrique.members.v1.MembersService/ReinstateMember", ADMIN),
    ("fabrique.members.v1.MembersService/LeaveMember", OWNER),
    // Registry: listed places are public; the operator edits and closes; admins moderate.
    ("fabrique.registry.v1.RegistryService/GetPlace", PUBLIC),
    ("fabrique.registry.v1.RegistryService/ListPlaces", PUBLIC),
    (
        "fabrique.registry.v1.RegistryService/ListPlaceClusters",
        PUBLIC,
    ),
    ("fabrique.registry.v1.RegistryService/CreatePlace", OWNER),
    ("fabrique.registry.v1.RegistryService/UpdatePlace", OWNER),
    // A proposed place is invisible to other members.
    (
        "fabrique.registry.v1.RegistryService/ApprovePlace",
        expect(U, NF, PD, OK),
    ),
    ("fabrique.registry.v1.RegistryService/SuspendPlace", ADMIN),
    // A suspended place is invisible to other members.
    (
        "fabrique.registry.v1.RegistryService/ReinstatePlace",
        expect(U, NF, PD, OK),
    ),
    ("fabrique.registry.v1.RegistryService/ClosePlace", OWNER),
    (
        "fabrique.registry.v1.RegistryService/MarkPlaceReviewed",
        ADMIN,
    ),
    ("fabrique.registry.v1.RegistryService/ImportPlaces", ADMIN),
    (
        "fabrique.registry.v1.RegistryService/ListCapabilities",
        PUBLIC,
    ),
    // Sharing: offers and needs are public (available resources, their free slots, open
    // needs: see the private-data tests); the owner manages them; reservations and
    // claims are seen by their two parties only.
    ("fabrique.sharing.v1.SharingService/GetResource", PUBLIC),
    ("fabrique.sharing.v1.SharingService/ListResources", PUBLIC),
    ("fabrique.sharing.v1.SharingService/CreateResource", OWNER),
    ("fabrique.sharing.v1.SharingService/UpdateResource", OWNER),
    ("fabrique.sharing.v1.SharingService/WithdrawResource", OWNER),
    ("fabrique.sharing.v1.SharingService/RestoreResource", OWNER),
    ("fabrique.sharing.v1.SharingService/GetAvailability", PUBLIC),
    // B borrows A's resource; A may not book its own; an admin is no member.
    (
        "fabrique.sharing.v1.SharingService/CreateReservation",
        expect(U, OK, FP, FP),
    ),
    (
        "fabrique.sharing.v1.SharingService/GetReservation",
        expect(U, NF, OK, OK),
    ),
    ("fabrique.sharing.v1.SharingService/ListReservations", ANY),
    (
        "fabrique.sharing.v1.SharingService/ConfirmReservation",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.sharing.v1.SharingService/DeclineReservation",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.sharing.v1.SharingService/CancelReservation",
        expect(U, NF, OK, OK),
    ),
    // Authorized, then refused because the reservation has not started.
    (
        "fabrique.sharing.v1.SharingService/CompleteReservation",
        expect(U, NF, FP, FP),
    ),
    (
        "fabrique.sharing.v1.SharingService/CreateClaim",
        expect(U, OK, FP, FP),
    ),
    ("fabrique.sharing.v1.SharingService/ListClaims", ANY),
    (
        "fabrique.sharing.v1.SharingService/CollectClaim",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.sharing.v1.SharingService/CancelClaim",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.sharing.v1.SharingService/CreateNeed",
        expect(U, OK, OK, FP),
    ),
    ("fabrique.sharing.v1.SharingService/GetNeed", PUBLIC),
    ("fabrique.sharing.v1.SharingService/ListNeeds", PUBLIC),
    ("fabrique.sharing.v1.SharingService/CloseNeed", OWNER),
    ("fabrique.sharing.v1.SharingService/ListMatches", ANY),
    // Projects: programmes (a public funder publishes its rules and envelope), projects
    // under way or done, grouped purchases and workshops are public (see the
    // private-data tests for what the public does not get); the lead, funder or
    // coordinator manages; applications are seen by the applicant and the funder; a
    // funder may not apply to its own.
    ("fabrique.projects.v1.ProjectsService/CreateProject", OWNER),
    ("fabrique.projects.v1.ProjectsService/GetProject", PUBLIC),
    ("fabrique.projects.v1.ProjectsService/ListProjects", PUBLIC),
    ("fabrique.projects.v1.ProjectsService/UpdateProject", OWNER),
    (
        "fabrique.projects.v1.ProjectsService/ChangeProjectState",
        OWNER,
    ),
    (
        "fabrique.projects.v1.ProjectsService/CreateProgramme",
        OWNER,
    ),
    ("fabrique.projects.v1.ProjectsService/GetProgramme", PUBLIC),
    (
        "fabrique.projects.v1.ProjectsService/ListProgrammes",
        PUBLIC,
    ),
    ("fabrique.projects.v1.ProjectsService/CloseProgramme", OWNER),
    ("fabrique.projects.v1.ProjectsService/ChangeEnvelope", OWNER),
    (
        "fabrique.projects.v1.ProjectsService/CreateApplication",
        expect(U, OK, PD, FP),
    ),
    (
        "fabrique.projects.v1.ProjectsService/GetApplication",
        expect(U, NF, OK, OK),
    ),
    ("fabrique.projects.v1.ProjectsService/ListApplications", ANY),
    (
        "fabrique.projects.v1.ProjectsService/ApproveApplication",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/RejectApplication",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/WithdrawApplication",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/PayApplication",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/RecordPayment",
        expect(U, NF, OK, OK),
    ),
    // Instruction: the funder (A's programme has no operator) or an admin; the
    // applicant completes (A applies to C's programme). tests/it/instruction.rs walks
    // every role of a programme with an operator.
    (
        "fabrique.projects.v1.ProjectsService/RequestCompletion",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/CompleteApplication",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/RecordOpinion",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/AddInstructionNote",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/CancelAward",
        expect(U, NF, OK, OK),
    ),
    // Any member files a grouping (an admin acts for none); its filer and the
    // programme's instructors read it; the funder approves it.
    (
        "fabrique.projects.v1.ProjectsService/CreateGrouping",
        expect(U, OK, OK, FP),
    ),
    (
        "fabrique.projects.v1.ProjectsService/GetGrouping",
        expect(U, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/ApproveGrouping",
        expect(U, PD, OK, OK),
    ),
    // Awards are public data (funders must publish them).
    ("fabrique.projects.v1.ProjectsService/ExportAwards", PUBLIC),
    (
        "fabrique.projects.v1.ProjectsService/CreateGroupPurchase",
        OWNER,
    ),
    (
        "fabrique.projects.v1.ProjectsService/GetGroupPurchase",
        PUBLIC,
    ),
    (
        "fabrique.projects.v1.ProjectsService/ListGroupPurchases",
        PUBLIC,
    ),
    // Each member joins or leaves for itself; an admin is no member.
    (
        "fabrique.projects.v1.ProjectsService/JoinGroupPurchase",
        expect(U, OK, OK, FP),
    ),
    (
        "fabrique.projects.v1.ProjectsService/LeaveGroupPurchase",
        expect(U, OK, OK, FP),
    ),
    (
        "fabrique.projects.v1.ProjectsService/CloseGroupPurchase",
        OWNER,
    ),
    (
        "fabrique.projects.v1.ProjectsService/AwardGroupPurchase",
        OWNER,
    ),
    // Public (the public reads the lots, allies the participations too); A's purchase is
    // still OPEN, so every caller is let through and refused it has no outcome yet.
    (
        "fabrique.projects.v1.ProjectsService/ExportGroupPurchase",
        expect(FP, FP, FP, FP),
    ),
    ("fabrique.projects.v1.ProjectsService/CreateWorkshop", ADMIN),
    ("fabrique.projects.v1.ProjectsService/GetWorkshop", PUBLIC),
    ("fabrique.projects.v1.ProjectsService/ListWorkshops", PUBLIC),
    (
        "fabrique.projects.v1.ProjectsService/SetWorkshopTeam",
        expect(U, OK, OK, FP),
    ),
    ("fabrique.projects.v1.ProjectsService/ValidateTeam", PUBLIC),
    // A workshop's co-pilots (A runs the season's workshop) run its sessions; the members
    // expected write restitutions, which the season's participants read until published
    // (B takes part in no workshop of that season: NOT_FOUND, as for the public). A
    // restitution is a member's work: an admin acting for none writes none.
    (
        "fabrique.projects.v1.ProjectsService/SetWorkshopCoPilots",
        ADMIN,
    ),
    (
        "fabrique.projects.v1.ProjectsService/ScheduleWorkshopSession",
        OWNER,
    ),
    (
        "fabrique.projects.v1.ProjectsService/CancelWorkshopSession",
        OWNER,
    ),
    (
        "fabrique.projects.v1.ProjectsService/RecordAttendance",
        OWNER,
    ),
    (
        "fabrique.projects.v1.ProjectsService/CreateRestitution",
        expect(U, PD, OK, FP),
    ),
    (
        "fabrique.projects.v1.ProjectsService/GetRestitution",
        expect(NF, NF, OK, OK),
    ),
    (
        "fabrique.projects.v1.ProjectsService/ListRestitutions",
        PUBLIC,
    ),
    (
        "fabrique.projects.v1.ProjectsService/PublishRestitution",
        OWNER,
    ),
];

// ------------------------------------------------------------------ the fixture

/// Every service on `backend` with its real bus (NATS with PostgreSQL, the in-process
/// bus with SQLite), accepting the tokens of [`valid`].
async fn platform(backend: Backend) -> TestPlatform {
    let bus = match backend {
        Backend::Postgres => BusChoice::SharedNats,
        Backend::Sqlite => BusChoice::InProcess,
    };
    TestPlatform::spawn_with(crate::support::all_services(), backend, bus, |settings| {
        settings.auth.issuer = Some(ISSUER.into());
        settings.auth.audience = Some(AUDIENCE.into());
    })
    .await
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Refused,
    Other,
    Owner,
    Admin,
}

/// Members A (the owner of every target), B (another member) and C (a third party:
/// borrower, claimant or applicant on A's resources), and long-lived resources of A.
struct Fixture {
    channel: Channel,
    admin: String,
    a: String,
    a_token: String,
    b: String,
    b_token: String,
    c: String,
    c_token: String,
    place: String,
    resource: String,
    need: String,
    project: String,
    programme: String,
    application: String,
    reservation: String,
    group_purchase: String,
    workshop: String,
    /// A workshop of its own season that A co-pilots and has a team in.
    season_workshop: String,
    /// A session of it for every team, begun an hour ago.
    session: String,
    /// A session of it to come, to cancel.
    cancellable: String,
    /// A's restitution of `session`, never published.
    restitution: String,
    /// Another, to publish.
    to_publish: String,
    /// The notification settings of A's contact person's address.
    settings: String,
}

fn id_of(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

/// A two-hour slot starting at 08:00 UTC, `days` ahead.
fn slot(days: i64) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    use chrono::{Datelike, TimeZone};
    let day = chrono::Utc::now() + chrono::Duration::days(days);
    let start = chrono::Utc
        .with_ymd_and_hms(day.year(), day.month(), day.day(), 8, 0, 0)
        .single()
        .expect("a time");
    (start, start + chrono::Duration::hours(2))
}

/// A two-hour online session for every team of a workshop, starting at `start`.
fn workshop_session(title: &str, start: chrono::DateTime<chrono::Utc>) -> pp::WorkshopSession {
    pp::WorkshopSession {
        title: title.to_string(),
        start_time: ts(start),
        end_time: ts(start + chrono::Duration::hours(2)),
        online_url: "https://visio.example.org/atelier".into(),
        ..Default::default()
    }
}

fn encoded<M: Message>(message: M) -> Bytes {
    Bytes::from(message.encode_to_vec())
}

impl Fixture {
    fn members(&self) -> MembersServiceClient<Channel> {
        MembersServiceClient::new(self.channel.clone())
    }
    fn registry(&self) -> RegistryServiceClient<Channel> {
        RegistryServiceClient::new(self.channel.clone())
    }
    fn sharing(&self) -> SharingServiceClient<Channel> {
        SharingServiceClient::new(self.channel.clone())
    }
    fn projects(&self) -> ProjectsServiceClient<Channel> {
        ProjectsServiceClient::new(self.channel.clone())
    }

    async fn new(platform: &TestPlatform) -> Self {
        let channel = platform.channel().await;
        let admin = valid("admin", &["admin"]);
        let mut fx = Self {
            channel,
            admin,
            a: String::new(),
            a_token: String::new(),
            b: String::new(),
            b_token: String::new(),
            c: String::new(),
            c_token: String::new(),
            place: String::new(),
            resource: String::new(),
            need: String::new(),
            project: String::new(),
            programme: String::new(),
            application: String::new(),
            reservation: String::new(),
            group_purchase: String::new(),
            workshop: String::new(),
            season_workshop: String::new(),
            session: String::new(),
            cancellable: String::new(),
            restitution: String::new(),
            to_publish: String::new(),
            settings: "notificationSettings/maire@thiers.test".into(),
        };
        let (a, a_token) = fx.active_member("Commune de Thiers").await;
        let (b, b_token) = fx
            .active_member("Communauté de communes Ambert Livradois Forez")
            .await;
        let (c, c_token) = fx.active_member("Ressourcerie du Pays d'Issoire").await;
        (fx.a, fx.a_token, fx.b, fx.b_token, fx.c, fx.c_token) =
            (a, a_token, b, b_token, c, c_token);
        for token in [fx.a_token.clone(), fx.b_token.clone(), fx.c_token.clone()] {
            fx.wait_known(&token).await;
        }
        fx.give_contact(&fx.a.clone(), "Maire de Thiers", "maire@thiers.test")
            .await;
        fx.wait_notify_knows_a().await;
        fx.place = fx.place_in(rp::PlaceState::Listed).await;
        fx.resource = fx.resource_of_a(false).await.name;
        fx.need = fx.need_of_a().await;
        // Under way: a proposed project is not public.
        fx.project = fx.active_project_of_a().await;
        fx.programme = fx.programme_of(&fx.a.clone()).await;
        fx.application = fx
            .application_to(&fx.programme.clone(), &fx.c_token.clone())
            .await;
        fx.reservation = fx.reservation_on(&fx.resource.clone()).await;
        fx.group_purchase = fx.group_purchase_of_a().await;
        fx.workshop = fx
            .projects()
            .create_workshop(authed(
                pp::CreateWorkshopRequest {
                    workshop: Some(pp::Workshop {
                        theme: "Entretien de la voirie".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &fx.admin,
            ))
            .await
            .expect("workshop")
            .into_inner()
            .name;
        fx.season_of_a().await;
        fx
    }

    /// A's workshop of a season of its own, with A's team, two sessions and two
    /// restitutions (see [`Fixture::season_workshop`]).
    async fn season_of_a(&mut self) {
        let mut projects = self.projects();
        self.season_workshop = projects
            .create_workshop(authed(
                pp::CreateWorkshopRequest {
                    workshop: Some(pp::Workshop {
                        theme: "Réemploi des matériaux routiers".into(),
                        season: format!("Saison d'essai {}", uuid::Uuid::now_v7()),
                        co_pilots: vec![self.a.clone()],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("season's workshop")
            .into_inner()
            .name;
        projects
            .set_workshop_team(authed(
                pp::SetWorkshopTeamRequest {
                    name: self.season_workshop.clone(),
                    members: Vec::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("A's team");
        let now = chrono::Utc::now();
        let schedule = |title: &str, start: chrono::DateTime<chrono::Utc>| {
            let request = authed(
                pp::ScheduleWorkshopSessionRequest {
                    parent: self.season_workshop.clone(),
                    session: Some(workshop_session(title, start)),
                    request_id: String::new(),
                },
                &self.a_token,
            );
            let mut projects = projects.clone();
            async move {
                projects
                    .schedule_workshop_session(request)
                    .await
                    .expect("session")
                    .into_inner()
                    .name
            }
        };
        self.session = schedule("Visite", now - chrono::Duration::hours(1)).await;
        self.cancellable = schedule("À annuler", now + chrono::Duration::days(3)).await;
        self.restitution = self.restitution_of_a("Gardée pour la saison").await;
        self.to_publish = self.restitution_of_a("À publier").await;
    }

    async fn restitution_of_a(&self, title: &str) -> String {
        self.projects()
            .create_restitution(authed(
                pp::CreateRestitutionRequest {
                    parent: self.season_workshop.clone(),
                    restitution: Some(pp::Restitution {
                        session: self.session.clone(),
                        title: title.into(),
                        text: "Ce que la séance a produit.".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("restitution")
            .into_inner()
            .name
    }

    fn token(&self, caller: Caller) -> Option<String> {
        match caller {
            Caller::Anonymous | Caller::Refused => None,
            Caller::Other => Some(self.b_token.clone()),
            Caller::Owner => Some(self.a_token.clone()),
            Caller::Admin => Some(self.admin.clone()),
        }
    }

    async fn pending_member(&self, name: &str) -> String {
        self.members()
            .create_member(authed(
                mp::CreateMemberRequest {
                    member: Some(mp::Member {
                        display_name: name.to_string(),
                        kind: mp::MemberKind::Association as i32,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("create member")
            .into_inner()
            .name
    }

    async fn active_member(&self, name: &str) -> (String, String) {
        let member = self.pending_member(name).await;
        self.members()
            .approve_member(authed(
                mp::ApproveMemberRequest {
                    name: member.clone(),
                    ..Default::default()
                },
                &self.admin,
            ))
            .await
            .expect("approve");
        let token = valid(id_of(&member), &["member"]);
        (member, token)
    }

    /// Until the notify service knows A's contact person (from the members' private
    /// stream).
    async fn wait_notify_knows_a(&self) {
        let client = NotifyServiceClient::new(self.channel.clone());
        fabrique_testkit::eventually(
            "notify to know A's contacts",
            Duration::from_secs(30),
            || {
                let (mut client, token) = (client.clone(), self.a_token.clone());
                let request = np::GetNotificationSettingsRequest {
                    name: self.settings.clone(),
                };
                async move {
                    client
                        .get_notification_settings(authed(request, &token))
                        .await
                        .ok()
                }
            },
        )
        .await;
    }

    /// Until the registry, sharing and projects services know the member as active.
    async fn wait_known(&self, token: &str) {
        let request_id = uuid::Uuid::new_v4().to_string();
        fabrique_testkit::eventually(
            "the services to know the member",
            Duration::from_secs(30),
            || {
                let (sharing, projects, token, request_id) = (
                    self.sharing(),
                    self.projects(),
                    token.to_string(),
                    request_id.clone(),
                );
                async move {
                    let need = sharing
                        .clone()
                        .create_need(authed(
                            sp::CreateNeedRequest {
                                need: Some(sp::Need {
                                    description: "Une remorque".into(),
                                    ..Default::default()
                                }),
                                request_id: request_id.clone(),
                            },
                            &token,
                        ))
                        .await;
                    let project = projects
                        .clone()
                        .create_project(authed(
                            pp::CreateProjectRequest {
                                project: Some(pp::Project {
                                    title: "Présence".into(),
                                    ..Default::default()
                                }),
                                request_id: request_id.clone(),
                            },
                            &token,
                        ))
                        .await;
                    (need.is_ok() && project.is_ok()).then_some(())
                }
            },
        )
        .await;
        // The registry learns members from the same events; it knows them by now, or
        // soon: a place the member operates is the proof.
        let request_id = uuid::Uuid::new_v4().to_string();
        let operator = format!("members/{}", self.subject_of(token));
        fabrique_testkit::eventually(
            "the registry to know the member",
            Duration::from_secs(30),
            || {
                let (registry, token, request_id, operator) = (
                    self.registry(),
                    token.to_string(),
                    request_id.clone(),
                    operator.clone(),
                );
                async move {
                    registry
                        .clone()
                        .create_place(authed(
                            rp::CreatePlaceRequest {
                                place: Some(place_draft(&operator)),
                                request_id,
                            },
                            &token,
                        ))
                        .await
                        .ok()
                        .map(|_| ())
                }
            },
        )
        .await;
    }

    fn subject_of(&self, token: &str) -> String {
        let claims = token.split('.').nth(1).expect("claims");
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .expect("base64");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        value["sub"].as_str().expect("sub").to_string()
    }

    /// A place operated by A, in `state`.
    async fn place_in(&self, state: rp::PlaceState) -> String {
        let mut registry = self.registry();
        let place = registry
            .create_place(authed(
                rp::CreatePlaceRequest {
                    place: Some(place_draft(&self.a)),
                    request_id: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("create place")
            .into_inner();
        if state == rp::PlaceState::Proposed {
            return place.name;
        }
        registry
            .approve_place(authed(
                rp::ApprovePlaceRequest {
                    name: place.name.clone(),
                    etag: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("approve place");
        if state == rp::PlaceState::Suspended {
            registry
                .suspend_place(authed(
                    rp::SuspendPlaceRequest {
                        name: place.name.clone(),
                        reason: "travaux".into(),
                        etag: String::new(),
                    },
                    &self.admin,
                ))
                .await
                .expect("suspend place");
        }
        place.name
    }

    async fn place(&self, name: &str) -> rp::Place {
        self.registry()
            .get_place(authed(
                rp::GetPlaceRequest { name: name.into() },
                &self.admin,
            ))
            .await
            .expect("get place")
            .into_inner()
    }

    /// An equipment (or a material) A lends.
    async fn resource_of_a(&self, material: bool) -> sp::Resource {
        let resource = if material {
            sp::Resource {
                kind: sp::ResourceKind::Material as i32,
                title: "Enrobés rabotés".into(),
                quantity: Some(sp::Quantity {
                    amount: 40.0,
                    unit: sp::QuantityUnit::Tonne as i32,
                }),
                ..Default::default()
            }
        } else {
            sp::Resource {
                kind: sp::ResourceKind::Equipment as i32,
                title: "Broyeur de végétaux".into(),
                ..Default::default()
            }
        };
        self.sharing()
            .create_resource(authed(
                sp::CreateResourceRequest {
                    resource: Some(resource),
                    request_id: String::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("create resource")
            .into_inner()
    }

    async fn need_of_a(&self) -> String {
        self.sharing()
            .create_need(authed(
                sp::CreateNeedRequest {
                    need: Some(sp::Need {
                        description: "Une nacelle pour l'éclairage public".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("create need")
            .into_inner()
            .name
    }

    /// C books `resource` (A's) at a slot of its own.
    async fn reservation_on(&self, resource: &str) -> String {
        let (start, end) = slot(2);
        self.sharing()
            .create_reservation(authed(
                sp::CreateReservationRequest {
                    parent: resource.to_string(),
                    reservation: Some(sp::Reservation {
                        start_time: ts(start),
                        end_time: ts(end),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.c_token,
            ))
            .await
            .expect("create reservation")
            .into_inner()
            .name
    }

    /// C claims two tonnes of a fresh material of A.
    async fn claim(&self) -> String {
        let material = self.resource_of_a(true).await;
        self.sharing()
            .create_claim(authed(
                sp::CreateClaimRequest {
                    parent: material.name,
                    amount: 2.0,
                    accept_less: false,
                    request_id: String::new(),
                },
                &self.c_token,
            ))
            .await
            .expect("create claim")
            .into_inner()
            .name
    }

    async fn project_of_a(&self) -> pp::Project {
        self.projects()
            .create_project(authed(
                pp::CreateProjectRequest {
                    project: Some(pp::Project {
                        title: "Rénovation de l'éclairage public".into(),
                        themes: vec![pp::Theme::Energy as i32],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("create project")
            .into_inner()
    }

    /// A project of A's, ACTIVE.
    async fn active_project_of_a(&self) -> String {
        let name = self.project_of_a().await.name;
        self.projects()
            .change_project_state(authed(
                pp::ChangeProjectStateRequest {
                    name: name.clone(),
                    state: pp::ProjectState::Active as i32,
                    etag: String::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("start the project");
        name
    }

    /// An open programme funded by `funder` (created by an admin).
    async fn programme_of(&self, funder: &str) -> String {
        self.projects()
            .create_programme(authed(
                pp::CreateProgrammeRequest {
                    programme: Some(programme_draft(funder)),
                    request_id: String::new(),
                },
                &self.admin,
            ))
            .await
            .expect("create programme")
            .into_inner()
            .name
    }

    /// An approved application of C to A's programme: an award of A's.
    async fn award_of_a(&self) -> String {
        let name = self
            .application_to(&self.programme_of(&self.a).await, &self.c_token)
            .await;
        self.projects()
            .approve_application(authed(
                pp::ApproveApplicationRequest { name: name.clone() },
                &self.admin,
            ))
            .await
            .expect("approve application");
        name
    }

    async fn grouping_on(&self, programme: &str, token: &str, members: &[&String]) -> String {
        self.projects()
            .create_grouping(authed(
                pp::CreateGroupingRequest {
                    parent: programme.to_string(),
                    grouping: Some(grouping_draft(members)),
                    request_id: String::new(),
                },
                token,
            ))
            .await
            .expect("create grouping")
            .into_inner()
            .name
    }

    async fn application_to(&self, programme: &str, token: &str) -> String {
        self.projects()
            .create_application(authed(
                pp::CreateApplicationRequest {
                    parent: programme.to_string(),
                    application: Some(pp::Application {
                        units: 1,
                        purpose: "Toiture de l'école".into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                    validate_only: false,
                },
                token,
            ))
            .await
            .expect("create application")
            .into_inner()
            .name
    }

    async fn group_purchase_of_a(&self) -> String {
        self.projects()
            .create_group_purchase(authed(
                pp::CreateGroupPurchaseRequest {
                    group_purchase: Some(group_purchase_draft("")),
                    request_id: String::new(),
                },
                &self.a_token,
            ))
            .await
            .expect("create group purchase")
            .into_inner()
            .name
    }

    async fn join(&self, purchase: &str, token: &str) {
        self.projects()
            .join_group_purchase(authed(
                pp::JoinGroupPurchaseRequest {
                    name: purchase.to_string(),
                    sites: vec![site()],
                },
                token,
            ))
            .await
            .expect("join");
    }

    /// `members/{id}` of the member `token` acts for.
    fn member_of(&self, token: &str) -> String {
        format!("members/{}", self.subject_of(token))
    }

    /// Gives `member` one contact person, with an e-mail address.
    async fn give_contact(&self, member: &str, full_name: &str, email: &str) {
        let current = self
            .members()
            .get_member(authed(
                mp::GetMemberRequest {
                    name: member.to_string(),
                },
                &self.admin,
            ))
            .await
            .expect("get member")
            .into_inner();
        self.members()
            .update_member(authed(
                mp::UpdateMemberRequest {
                    member: Some(mp::Member {
                        name: member.to_string(),
                        etag: current.etag,
                        contacts: vec![mp::Contact {
                            full_name: full_name.to_string(),
                            role: mp::ContactRole::ElectedOfficial as i32,
                            email: email.to_string(),
                            title: "Maire".into(),
                        }],
                        ..Default::default()
                    }),
                    update_mask: mask(&["contacts"]),
                },
                &self.admin,
            ))
            .await
            .expect("set contacts");
    }

    /// The member of `token` books `resource` `days` ahead.
    async fn book(&self, resource: &str, days: i64, token: &str) -> String {
        let (start, end) = slot(days);
        self.sharing()
            .create_reservation(authed(
                sp::CreateReservationRequest {
                    parent: resource.to_string(),
                    reservation: Some(sp::Reservation {
                        start_time: ts(start),
                        end_time: ts(end),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                token,
            ))
            .await
            .expect("create reservation")
            .into_inner()
            .name
    }

    /// The member of `token` claims one tonne of `material`.
    async fn claim_of(&self, material: &str, token: &str) -> String {
        self.sharing()
            .create_claim(authed(
                sp::CreateClaimRequest {
                    parent: material.to_string(),
                    amount: 1.0,
                    accept_less: false,
                    request_id: String::new(),
                },
                token,
            ))
            .await
            .expect("create claim")
            .into_inner()
            .name
    }
}

fn place_draft(operator: &str) -> rp::Place {
    rp::Place {
        display_name: format!("Atelier {}", uuid::Uuid::new_v4().simple()),
        kinds: vec![rp::PlaceKind::RepairWorkshop as i32],
        operator: operator.to_string(),
        location: Some(rp::Location {
            latitude: 45.8563,
            longitude: 3.5477,
        }),
        ..Default::default()
    }
}

fn grouping_draft(members: &[&String]) -> pp::Grouping {
    pp::Grouping {
        purpose: "Groupement : centrales sur les écoles".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        units_per_member: 1,
        ..Default::default()
    }
}

fn programme_draft(funder: &str) -> pp::Programme {
    pp::Programme {
        title: "Solaire Dôme".into(),
        funder: funder.to_string(),
        envelope_cents: 50_000_000,
        aid_per_unit_cents: 500_000,
        unit_label: "installation".into(),
        ..Default::default()
    }
}

fn group_purchase_draft(coordinator: &str) -> pp::GroupPurchase {
    pp::GroupPurchase {
        title: "Achat groupé de gaz 2027".into(),
        coordinator: coordinator.to_string(),
        category: pp::GroupPurchaseCategory::Gas as i32,
        unit: "MWh".into(),
        lots: vec![pp::Lot {
            code: "lot1".into(),
            title: "Bâtiments communaux".into(),
            total_volume: 0.0,
            site_category: 0,
        }],
        deadline: ts(chrono::Utc::now() + chrono::Duration::days(30)),
        ..Default::default()
    }
}

fn site() -> pp::Site {
    pp::Site {
        name: "Mairie".into(),
        lot: "lot1".into(),
        volume: 120.0,
    }
}

// ------------------------------------------------------------------ the requests

/// The request of `method` on A's resources (fresh ones where a call changes them, so
/// that every caller meets the same state), and, when the owner is not A, the token of
/// the member that owns the target.
async fn request(fx: &Fixture, method: &str, caller: Caller) -> (Bytes, Option<String>) {
    let (service, rpc) = method.split_once('/').expect("package.Service/Method");
    let short = service.rsplit('.').next().unwrap_or(service);
    let body = match (short, rpc) {
        // ---------------------------------------------------------------- members
        ("MembersService", "GetMember") => encoded(mp::GetMemberRequest { name: fx.a.clone() }),
        ("MembersService", "ListMembers") => encoded(mp::ListMembersRequest::default()),
        // ---------------------------------------------------------------- notify
        ("NotifyService", "GetNotificationSettings") => {
            encoded(np::GetNotificationSettingsRequest {
                name: fx.settings.clone(),
            })
        }
        ("NotifyService", "UpdateNotificationSettings") => {
            encoded(np::UpdateNotificationSettingsRequest {
                settings: Some(np::NotificationSettings {
                    name: fx.settings.clone(),
                    disabled_kinds: vec![np::NotificationKind::Places as i32],
                    ..Default::default()
                }),
            })
        }
        ("NotifyService", "ListDeliveries") => encoded(np::ListDeliveriesRequest::default()),
        ("DeadLetterService", "ListDeadLetters") => {
            encoded(fabrique_api::operations::ListDeadLettersRequest {
                service: "members".into(),
                page_size: 0,
            })
        }
        ("DeadLetterService", "ReplayDeadLetter") => {
            encoded(fabrique_api::operations::ReplayDeadLetterRequest {
                name: "deadLetters/members/999999".into(),
            })
        }
        ("NotifyService", "RetryDelivery") => encoded(np::RetryDeliveryRequest {
            name: format!("deliveries/{}", uuid::Uuid::now_v7()),
        }),
        (_, "ListChanges") => encoded(fabrique_api::audit::ListChangesRequest {
            resource: match short {
                "MembersService" => fx.a.clone(),
                "RegistryService" => fx.place.clone(),
                "SharingService" => fx.resource.clone(),
                "NotifyService" => fx.settings.clone(),
                _ => fx.programme.clone(),
            },
            ..Default::default()
        }),
        ("MembersService", "CreateMember") => encoded(mp::CreateMemberRequest {
            member: Some(mp::Member {
                display_name: "Régie de quartier".into(),
                kind: mp::MemberKind::Association as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        }),
        ("MembersService", "UpdateMember") => {
            let current = fx
                .members()
                .get_member(authed(mp::GetMemberRequest { name: fx.a.clone() }, &fx.admin))
                .await
                .expect("get member")
                .into_inner();
            encoded(mp::UpdateMemberRequest {
                member: Some(mp::Member {
                    name: fx.a.clone(),
                    etag: current.etag,
                    website: "https://www.ville-thiers.fr".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["website"]),
            })
        }
        ("MembersService", "ApproveMember") => encoded(mp::ApproveMemberRequest {
            name: fx.pending_member("Maison de l'habitat").await,
            ..Default::default()
        }),
        ("MembersService", "SuspendMember") => encoded(mp::SuspendMemberRequest {
            name: fx.active_member("Coopérative d'énergie").await.0,
            reason: "cotisation impayée".into(),
            etag: String::new(),
        }),
        ("MembersService", "ReinstateMember") => {
            let (name, _) = fx.active_member("Garage solidaire").await;
            fx.members()
                .suspend_member(authed(
                    mp::SuspendMemberRequest {
                        name: name.clone(),
                        reason: "cotisation impayée".into(),
                        etag: String::new(),
                    },
                    &fx.admin,
                ))
                .await
                .expect("suspend");
            encoded(mp::ReinstateMemberRequest {
                name,
                etag: String::new(),
            })
        }
        ("MembersService", "LeaveMember") => {
            // A member that leaves is gone: each caller gets its own.
            let (name, token) = fx.active_member("Association sur le départ").await;
            let body = encoded(mp::LeaveMemberRequest {
                name,
                reason: String::new(),
                etag: String::new(),
            });
            return (body, Some(token));
        }
        // ---------------------------------------------------------------- registry
        ("RegistryService", "GetPlace") => encoded(rp::GetPlaceRequest { name: fx.place.clone() }),
        ("RegistryService", "ListPlaces") => encoded(rp::ListPlacesRequest::default()),
        ("RegistryService", "ListPlaceClusters") => encoded(rp::ListPlaceClustersRequest {
            bounds: Some(rp::Bounds { south: 45.0, west: 3.0, north: 46.0, east: 4.0 }),
            zoom: 6,
            ..Default::default()
        }),
        ("RegistryService", "CreatePlace") => encoded(rp::CreatePlaceRequest {
            place: Some(place_draft(&fx.a)),
            request_id: String::new(),
        }),
        ("RegistryService", "UpdatePlace") => {
            let place = fx.place(&fx.place_in(rp::PlaceState::Listed).await).await;
            encoded(rp::UpdatePlaceRequest {
                place: Some(rp::Place {
                    name: place.name,
                    etag: place.etag,
                    description: "Ouvert le samedi".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            })
        }
        ("RegistryService", "ApprovePlace") => encoded(rp::ApprovePlaceRequest {
            name: fx.place_in(rp::PlaceState::Proposed).await,
            etag: String::new(),
        }),
        ("RegistryService", "SuspendPlace") => encoded(rp::SuspendPlaceRequest {
            name: fx.place_in(rp::PlaceState::Listed).await,
            reason: "travaux".into(),
            etag: String::new(),
        }),
        ("RegistryService", "ReinstatePlace") => encoded(rp::ReinstatePlaceRequest {
            name: fx.place_in(rp::PlaceState::Suspended).await,
            etag: String::new(),
        }),
        ("RegistryService", "ClosePlace") => encoded(rp::ClosePlaceRequest {
            name: fx.place_in(rp::PlaceState::Listed).await,
            reason: String::new(),
            etag: String::new(),
        }),
        ("RegistryService", "MarkPlaceReviewed") => encoded(rp::MarkPlaceReviewedRequest {
            name: fx.place.clone(),
            etag: String::new(),
        }),
        ("RegistryService", "ImportPlaces") => encoded(rp::ImportPlacesRequest {
            source: "authz-test".into(),
            csv: format!(
                "id,nom,adresse,code_postal,commune,code_insee,latitude,longitude,typologie\n\
                 {},Recyclerie de Thiers,1 rue Conchette,63300,Thiers,63430,45.8563,3.5477,Ressourcerie\n",
                uuid::Uuid::new_v4().simple()
            )
            .into_bytes(),
            operator: String::new(),
        }),
        ("RegistryService", "ListCapabilities") => encoded(rp::ListCapabilitiesRequest {}),
        // ---------------------------------------------------------------- sharing
        ("SharingService", "GetResource") => {
            encoded(sp::GetResourceRequest { name: fx.resource.clone() })
        }
        ("SharingService", "ListResources") => encoded(sp::ListResourcesRequest::default()),
        ("SharingService", "CreateResource") => encoded(sp::CreateResourceRequest {
            resource: Some(sp::Resource {
                owner: fx.a.clone(),
                kind: sp::ResourceKind::Vehicle as i32,
                title: "Camion benne".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        }),
        ("SharingService", "UpdateResource") => {
            let resource = fx.resource_of_a(false).await;
            encoded(sp::UpdateResourceRequest {
                resource: Some(sp::Resource {
                    name: resource.name,
                    etag: resource.etag,
                    description: "Révisé en 2026".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            })
        }
        ("SharingService", "WithdrawResource") => encoded(sp::WithdrawResourceRequest {
            name: fx.resource_of_a(false).await.name,
            reason: String::new(),
            etag: String::new(),
        }),
        ("SharingService", "RestoreResource") => {
            let name = fx.resource_of_a(false).await.name;
            fx.sharing()
                .withdraw_resource(authed(
                    sp::WithdrawResourceRequest {
                        name: name.clone(),
                        reason: "en panne".into(),
                        etag: String::new(),
                    },
                    &fx.a_token,
                ))
                .await
                .expect("withdraw");
            encoded(sp::RestoreResourceRequest {
                name,
                etag: String::new(),
            })
        }
        ("SharingService", "GetAvailability") => {
            let (start, end) = slot(1);
            encoded(sp::GetAvailabilityRequest {
                name: fx.resource.clone(),
                start_time: ts(start),
                end_time: ts(end + chrono::Duration::days(7)),
            })
        }
        ("SharingService", "CreateReservation") => {
            let (start, end) = slot(3);
            encoded(sp::CreateReservationRequest {
                parent: fx.resource_of_a(false).await.name,
                reservation: Some(sp::Reservation {
                    start_time: ts(start),
                    end_time: ts(end),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
        }
        ("SharingService", "GetReservation") => {
            encoded(sp::GetReservationRequest { name: fx.reservation.clone() })
        }
        ("SharingService", "ListReservations") => encoded(sp::ListReservationsRequest::default()),
        ("SharingService", "ConfirmReservation") => encoded(sp::ConfirmReservationRequest {
            name: fx.reservation_on(&fx.resource_of_a(false).await.name).await,
            etag: String::new(),
        }),
        ("SharingService", "DeclineReservation") => encoded(sp::DeclineReservationRequest {
            name: fx.reservation_on(&fx.resource_of_a(false).await.name).await,
            reason: String::new(),
            etag: String::new(),
        }),
        ("SharingService", "CancelReservation") => encoded(sp::CancelReservationRequest {
            name: fx.reservation_on(&fx.resource_of_a(false).await.name).await,
            reason: String::new(),
            etag: String::new(),
        }),
        ("SharingService", "CompleteReservation") => encoded(sp::CompleteReservationRequest {
            name: fx.reservation_on(&fx.resource_of_a(false).await.name).await,
            etag: String::new(),
        }),
        ("SharingService", "CreateClaim") => encoded(sp::CreateClaimRequest {
            parent: fx.resource_of_a(true).await.name,
            amount: 1.5,
            accept_less: false,
            request_id: String::new(),
        }),
        ("SharingService", "ListClaims") => encoded(sp::ListClaimsRequest::default()),
        ("SharingService", "CollectClaim") => {
            encoded(sp::CollectClaimRequest { name: fx.claim().await })
        }
        ("SharingService", "CancelClaim") => encoded(sp::CancelClaimRequest { name: fx.claim().await }),
        ("SharingService", "CreateNeed") => encoded(sp::CreateNeedRequest {
            need: Some(sp::Need {
                description: "Des barrières de chantier".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        }),
        ("SharingService", "GetNeed") => encoded(sp::GetNeedRequest { name: fx.need.clone() }),
        ("SharingService", "ListNeeds") => encoded(sp::ListNeedsRequest::default()),
        ("SharingService", "CloseNeed") => encoded(sp::CloseNeedRequest { name: fx.need_of_a().await }),
        ("SharingService", "ListMatches") => encoded(sp::ListMatchesRequest {
            need: fx.need.clone(),
            page_size: 0,
        }),
        // ---------------------------------------------------------------- projects
        ("ProjectsService", "CreateProject") => encoded(pp::CreateProjectRequest {
            project: Some(pp::Project {
                title: "Jardins partagés".into(),
                lead: fx.a.clone(),
                ..Default::default()
            }),
            request_id: String::new(),
        }),
        ("ProjectsService", "GetProject") => encoded(pp::GetProjectRequest { name: fx.project.clone() }),
        ("ProjectsService", "ListProjects") => encoded(pp::ListProjectsRequest::default()),
        ("ProjectsService", "UpdateProject") => {
            let project = fx.project_of_a().await;
            encoded(pp::UpdateProjectRequest {
                project: Some(pp::Project {
                    name: project.name,
                    etag: project.etag,
                    summary: "Remplacer 1 200 points lumineux par des LED".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["summary"]),
            })
        }
        ("ProjectsService", "ChangeProjectState") => encoded(pp::ChangeProjectStateRequest {
            name: fx.project_of_a().await.name,
            state: pp::ProjectState::Active as i32,
            etag: String::new(),
        }),
        ("ProjectsService", "CreateProgramme") => encoded(pp::CreateProgrammeRequest {
            programme: Some(programme_draft(&fx.a)),
            request_id: String::new(),
        }),
        ("ProjectsService", "GetProgramme") => {
            encoded(pp::GetProgrammeRequest { name: fx.programme.clone() })
        }
        ("ProjectsService", "ListProgrammes") => encoded(pp::ListProgrammesRequest::default()),
        ("ProjectsService", "CloseProgramme") => encoded(pp::CloseProgrammeRequest {
            name: fx.programme_of(&fx.a).await,
        }),
        ("ProjectsService", "ChangeEnvelope") => encoded(pp::ChangeEnvelopeRequest {
            name: fx.programme_of(&fx.a).await,
            envelope_cents: 60_000_000,
            deliberation_reference: "DM2-2026-045".into(),
            deliberation_time: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
        }),
        ("ProjectsService", "CreateApplication") => encoded(pp::CreateApplicationRequest {
            parent: fx.programme_of(&fx.a).await,
            application: Some(pp::Application {
                units: 1,
                purpose: "Toiture de la salle des fêtes".into(),
                ..Default::default()
            }),
            request_id: String::new(),
            validate_only: false,
        }),
        ("ProjectsService", "GetApplication") => {
            encoded(pp::GetApplicationRequest { name: fx.application.clone() })
        }
        ("ProjectsService", "ListApplications") => encoded(pp::ListApplicationsRequest {
            parent: fx.programme.clone(),
            ..Default::default()
        }),
        ("ProjectsService", "ApproveApplication") => encoded(pp::ApproveApplicationRequest {
            name: fx.application_to(&fx.programme_of(&fx.a).await, &fx.c_token).await,
        }),
        ("ProjectsService", "RejectApplication") => encoded(pp::RejectApplicationRequest {
            name: fx.application_to(&fx.programme_of(&fx.a).await, &fx.c_token).await,
            reason: "hors périmètre".into(),
        }),
        ("ProjectsService", "RequestCompletion") => encoded(pp::RequestCompletionRequest {
            name: fx.application_to(&fx.programme_of(&fx.a).await, &fx.c_token).await,
            message: "Joindre le devis".into(),
        }),
        ("ProjectsService", "CompleteApplication") => {
            let name = fx.application_to(&fx.programme_of(&fx.c).await, &fx.a_token).await;
            fx.projects()
                .request_completion(authed(
                    pp::RequestCompletionRequest {
                        name: name.clone(),
                        message: "Joindre le devis".into(),
                    },
                    &fx.c_token,
                ))
                .await
                .expect("sent back to complete");
            encoded(pp::CompleteApplicationRequest {
                name,
                answer: "Devis joint".into(),
                purpose: String::new(),
            })
        }
        ("ProjectsService", "RecordOpinion") => encoded(pp::RecordOpinionRequest {
            name: fx.application_to(&fx.programme_of(&fx.a).await, &fx.c_token).await,
            recommendation: pp::Recommendation::Approve as i32,
            opinion: "Favorable".into(),
        }),
        ("ProjectsService", "AddInstructionNote") => encoded(pp::AddInstructionNoteRequest {
            name: fx.application_to(&fx.programme_of(&fx.a).await, &fx.c_token).await,
            text: "À revoir".into(),
        }),
        ("ProjectsService", "WithdrawApplication") => {
            // The owner here is the applicant: A applies to C's programme.
            encoded(pp::WithdrawApplicationRequest {
                name: fx.application_to(&fx.programme_of(&fx.c).await, &fx.a_token).await,
                reason: String::new(),
            })
        }
        ("ProjectsService", "PayApplication") => {
            let name = fx.award_of_a().await;
            encoded(pp::PayApplicationRequest { name })
        }
        ("ProjectsService", "RecordPayment") => {
            let name = fx.award_of_a().await;
            encoded(pp::RecordPaymentRequest {
                name,
                payment: Some(pp::Payment {
                    kind: pp::PaymentKind::Advance as i32,
                    amount_cents: 100_000,
                    pay_time: Some(prost_types::Timestamp {
                        seconds: 1_790_000_000,
                        nanos: 0,
                    }),
                    record_time: None,
                    co_funder: String::new(),
                }),
            })
        }
        ("ProjectsService", "CancelAward") => {
            let name = fx.award_of_a().await;
            encoded(pp::CancelAwardRequest {
                name,
                reason: "la commune renonce".into(),
            })
        }
        ("ProjectsService", "CreateGrouping") => encoded(pp::CreateGroupingRequest {
            parent: fx.programme_of(&fx.c).await,
            grouping: Some(grouping_draft(&[&fx.a, &fx.b])),
            request_id: String::new(),
        }),
        ("ProjectsService", "GetGrouping") => {
            let programme = fx.programme_of(&fx.c).await;
            encoded(pp::GetGroupingRequest {
                name: fx.grouping_on(&programme, &fx.a_token, &[&fx.a, &fx.b]).await,
            })
        }
        ("ProjectsService", "ApproveGrouping") => {
            let programme = fx.programme_of(&fx.a).await;
            encoded(pp::ApproveGroupingRequest {
                name: fx.grouping_on(&programme, &fx.c_token, &[&fx.b, &fx.c]).await,
            })
        }
        ("ProjectsService", "ExportAwards") => {
            encoded(pp::ExportAwardsRequest { name: fx.programme.clone() })
        }
        ("ProjectsService", "CreateGroupPurchase") => encoded(pp::CreateGroupPurchaseRequest {
            group_purchase: Some(group_purchase_draft(&fx.a)),
            request_id: String::new(),
        }),
        ("ProjectsService", "GetGroupPurchase") => {
            encoded(pp::GetGroupPurchaseRequest { name: fx.group_purchase.clone() })
        }
        ("ProjectsService", "ListGroupPurchases") => encoded(pp::ListGroupPurchasesRequest::default()),
        ("ProjectsService", "JoinGroupPurchase") => encoded(pp::JoinGroupPurchaseRequest {
            name: fx.group_purchase.clone(),
            sites: vec![site()],
        }),
        ("ProjectsService", "LeaveGroupPurchase") => {
            let purchase = fx.group_purchase_of_a().await;
            // A member leaves what it joined: the caller joins first.
            if let Some(token) = fx.token(caller).filter(|_| caller != Caller::Admin) {
                fx.join(&purchase, &token).await;
            }
            encoded(pp::LeaveGroupPurchaseRequest { name: purchase })
        }
        ("ProjectsService", "CloseGroupPurchase") => encoded(pp::CloseGroupPurchaseRequest {
            name: fx.group_purchase_of_a().await,
        }),
        ("ProjectsService", "AwardGroupPurchase") => {
            let name = fx.group_purchase_of_a().await;
            fx.projects()
                .close_group_purchase(authed(
                    pp::CloseGroupPurchaseRequest { name: name.clone() },
                    &fx.a_token,
                ))
                .await
                .expect("close purchase");
            encoded(pp::AwardGroupPurchaseRequest {
                name,
                supplier: "Enercoop".into(),
                supplier_siret: String::new(),
                prices: vec![
                    pp::LotPrice {
                        lot: "lot1".into(),
                        price_cents: 9_000,
                        reference_cents: 11_000,
                        saving_cents: 0,
                    },
                ],
            })
        }
        ("ProjectsService", "ExportGroupPurchase") => {
            encoded(pp::ExportGroupPurchaseRequest {
                name: fx.group_purchase.clone(),
            })
        }
        ("ProjectsService", "CreateWorkshop") => encoded(pp::CreateWorkshopRequest {
            workshop: Some(pp::Workshop {
                theme: "Commande publique responsable".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        }),
        ("ProjectsService", "GetWorkshop") => encoded(pp::GetWorkshopRequest { name: fx.workshop.clone() }),
        ("ProjectsService", "ListWorkshops") => encoded(pp::ListWorkshopsRequest::default()),
        ("ProjectsService", "SetWorkshopTeam") => encoded(pp::SetWorkshopTeamRequest {
            name: fx.workshop.clone(),
            members: Vec::new(),
        }),
        ("ProjectsService", "ValidateTeam") => encoded(pp::ValidateTeamRequest {
            name: fx.workshop.clone(),
            lead: fx.a.clone(),
        }),
        ("ProjectsService", "SetWorkshopCoPilots") => encoded(pp::SetWorkshopCoPilotsRequest {
            name: fx.season_workshop.clone(),
            co_pilots: vec![fx.a.clone()],
        }),
        ("ProjectsService", "ScheduleWorkshopSession") => {
            encoded(pp::ScheduleWorkshopSessionRequest {
                parent: fx.season_workshop.clone(),
                session: Some(workshop_session(
                    "Séance",
                    chrono::Utc::now() + chrono::Duration::days(5),
                )),
                request_id: String::new(),
            })
        }
        ("ProjectsService", "CancelWorkshopSession") => {
            encoded(pp::CancelWorkshopSessionRequest {
                name: fx.cancellable.clone(),
            })
        }
        ("ProjectsService", "RecordAttendance") => encoded(pp::RecordAttendanceRequest {
            name: fx.session.clone(),
            attendees: vec![fx.a.clone()],
        }),
        ("ProjectsService", "CreateRestitution") => encoded(pp::CreateRestitutionRequest {
            parent: fx.season_workshop.clone(),
            restitution: Some(pp::Restitution {
                session: fx.session.clone(),
                title: "Une de plus".into(),
                text: "Ce que la séance a produit.".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        }),
        ("ProjectsService", "GetRestitution") => encoded(pp::GetRestitutionRequest {
            name: fx.restitution.clone(),
        }),
        ("ProjectsService", "ListRestitutions") => encoded(pp::ListRestitutionsRequest {
            parent: fx.season_workshop.clone(),
            ..Default::default()
        }),
        ("ProjectsService", "PublishRestitution") => encoded(pp::PublishRestitutionRequest {
            name: fx.to_publish.clone(),
        }),
        _ => panic!("{method} has a row in TABLE but no request in request()"),
    };
    (body, None)
}

// ------------------------------------------------------------------ the test

#[tokio::test]
async fn every_rpc_refuses_whoever_may_not_call_it() {
    // Every RPC has a row, and every row is an RPC.
    let declared = declared_methods();
    // Participation's rows tell more callers apart (organiser, verified and unverified
    // participants): they have a table and a test of their own.
    let table: BTreeSet<String> = TABLE
        .iter()
        .map(|(m, _)| m.to_string())
        .chain(participation::TABLE.iter().map(|(m, _)| m.to_string()))
        .collect();
    let missing: Vec<_> = declared.difference(&table).collect();
    let unknown: Vec<_> = table.difference(&declared).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "RPCs without a row in TABLE: {missing:?}; rows for no RPC: {unknown:?}"
    );
    assert_eq!(
        table.len(),
        TABLE.len() + participation::TABLE.len(),
        "a method has two rows"
    );
    // And the API's services are the binary's: a service in `services::all()` whose
    // proto the API lacks (or the reverse) would escape the table.
    let api_services: BTreeSet<&str> = declared
        .iter()
        .filter_map(|m| m.split_once('/').map(|(service, _)| service))
        .collect();
    // Besides the services, every process serves the dead letters of the ones it runs.
    let served: BTreeSet<&str> = fabrique::services::all()
        .iter()
        .map(|s| s.grpc_name())
        .chain(["fabrique.operations.v1.DeadLetterService"])
        .collect();
    assert_eq!(
        api_services, served,
        "the API's services are not the binary's"
    );

    let platform = platform(Backend::Postgres).await;
    let fx = Fixture::new(&platform).await;
    let refused = refused_tokens();
    let refusals = declared_refusals();
    let mut checked = Checked::new(&fx.channel, &refusals);
    for (method, expect) in TABLE {
        let mut callers: Vec<(String, Caller, Option<String>, Code)> = refused
            .iter()
            .map(|(what, token)| {
                (
                    format!("a token {what}"),
                    Caller::Refused,
                    Some(token.clone()),
                    U,
                )
            })
            .collect();
        callers.push(("no token".into(), Caller::Anonymous, None, expect.anonymous));
        callers.push((
            "another member".into(),
            Caller::Other,
            fx.token(Caller::Other),
            expect.other,
        ));
        callers.push((
            "the owner".into(),
            Caller::Owner,
            fx.token(Caller::Owner),
            expect.owner,
        ));
        callers.push((
            "an admin".into(),
            Caller::Admin,
            fx.token(Caller::Admin),
            expect.admin,
        ));
        for (label, caller, token, expected) in callers {
            let (body, owner_token) = request(&fx, method, caller).await;
            let token = match caller {
                Caller::Owner => owner_token.or(token),
                _ => token,
            };
            checked
                .call((method, &label), body, token.as_deref(), expected)
                .await;
        }
    }
    checked.assert_as_the_table_says();
}

// ------------------------------------------------------------------ private data
//
// The table above checks who may call; these tests check what comes back: a call that
// may be made must still not return another member's private data. What is private,
// RPC by RPC (every Get* and List* of the API):
//
// - members, GetMember / ListMembers: a public directory of ACTIVE members without
//   their contact people, state reason or etag; with a token, contact people's names
//   and roles are shared (peer-workshop teams are formed from them); their e-mails are
//   personal data, for admins and the member itself (README).
// - registry, GetPlace / ListPlaces / ListPlaceClusters / ListCapabilities: public, like the open-data
//   files places come from (a place's e-mail and phone are its public contact details);
//   a place that is not LISTED (proposed, suspended, closed) is seen only by its
//   operator, whoever proposed it, and admins.
// - sharing, GetResource / ListResources / GetAvailability: offers are there to be
//   found — by the public too, AVAILABLE ones only, without the reason of a state
//   change or the etag; a withdrawn or unavailable resource is the owner's and the
//   allies' business. ListMatches: allies. GetAvailability gives free intervals only,
//   never who holds the others. GetNeed / ListNeeds: a need is posted so that it is
//   answered; the public sees OPEN ones. GetReservation / ListReservations /
//   ListClaims: between the borrower or claimant and the owner (and admins) — whom a
//   member borrows from, when, with what note, is nobody else's.
// - projects, GetProgramme / ListProgrammes (amounts are the programme's totals):
//   public. GetProject / ListProjects: allies see every project; the public those under
//   way or done (ACTIVE, COMPLETED), without etag — a proposed project is an idea among
//   allies. GetWorkshop / ListWorkshops (member names and role codes only; contact
//   e-mails never leave the members service, whose events omit them): public.
//   ValidateTeam: allies learn which members' people hold each role; the public only
//   whether the team is complete and which roles it lacks. GetApplication /
//   ListApplications: the applicant, the funder and admins. There is no draft state —
//   an application is SUBMITTED when created — so what must stay private is any
//   application not decided yet, and any application of another member; ExportAwards
//   publishes decisions (approved, paid) only, as public funders must, to anyone (the
//   site offers the file to download); GetProgramme counts applications and awards,
//   never whose.
// - GetGroupPurchase / ListGroupPurchases return every participation with its sites
//   and volumes to any ally. Left shared on purpose: a grouped purchase is a joint
//   procurement whose members and estimated volumes per delivery point go into the
//   tender, and participants size their own commitment on the totals and on who is in.
//   The public gets the lots with their totals and who takes part, never the sites.
//
// `the_public_sees_only_what_is_offered_or_under_way` checks the public side of the
// sharing and projects reads.

/// A request with `token`, or without one.
fn as_caller<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    match token {
        Some(token) => authed(message, token),
        None => tonic::Request::new(message),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The names among `items` (name, the member taking part) that `only` takes part in
/// — every one when `None` — and the others.
fn split(items: &[(String, String)], only: Option<&str>) -> (Vec<String>, Vec<String>) {
    let (shown, hidden): (Vec<_>, Vec<_>) = items
        .iter()
        .partition(|(_, party)| only.is_none_or(|member| member == party));
    let names = |items: Vec<&(String, String)>| items.into_iter().map(|(n, _)| n.clone()).collect();
    (names(shown), names(hidden))
}

/// What `who` got from several queries of one list: none of `hidden` in any of them,
/// and each of `shown` in the first, unfiltered one — so that an empty answer fails.
fn assert_sees(who: &str, results: &[(String, Vec<String>)], shown: &[String], hidden: &[String]) {
    for (query, names) in results {
        let leaked: Vec<_> = names.iter().filter(|n| hidden.contains(n)).collect();
        assert!(leaked.is_empty(), "{who} got {leaked:?} from {query}");
    }
    let (query, first) = results.first().expect("at least one query");
    for name in shown {
        assert!(
            first.contains(name),
            "{who} did not get {name}, which it may see, from {query}: {first:?}"
        );
    }
}

/// `member`'s one contact person is there, with its e-mail only when `shown`; hidden,
/// the address is nowhere in the message (not moved to another field either).
fn assert_contact(context: &str, member: &mp::Member, email: &str, shown: bool) {
    assert_eq!(
        member.contacts.len(),
        1,
        "{context}: the contact person is listed"
    );
    let contact = &member.contacts[0];
    assert!(
        !contact.full_name.is_empty(),
        "{context}: its name is shared"
    );
    if shown {
        assert_eq!(contact.email, email, "{context}: the e-mail is shown");
    } else {
        assert_eq!(contact.email, "", "{context}: the e-mail is hidden");
        assert!(
            !contains(&member.encode_to_vec(), email.as_bytes()),
            "{context}: the e-mail is elsewhere in the message"
        );
    }
}

async fn contact_emails_reach_only_admins_and_the_member_itself(backend: Backend) {
    let platform = platform(backend).await;
    let fx = Fixture::new(&platform).await;
    let b = fx.member_of(&fx.b_token);
    let a_email = "maire@ville-thiers.fr";
    let b_email = "president@ambert-livradois-forez.fr";
    fx.give_contact(&fx.a, "Stéphane Rodier", a_email).await;
    fx.give_contact(&b, "Daniel Fayet", b_email).await;

    // Without a token: the public directory, active members with no contact person
    // at all (names included), no state reason, nothing a pending member would show.
    let get = fx
        .members()
        .get_member(mp::GetMemberRequest { name: fx.a.clone() })
        .await
        .expect("GetMember without a token: the public directory")
        .into_inner();
    assert_eq!(get.display_name, "Commune de Thiers");
    assert!(
        get.contacts.is_empty(),
        "contacts shown to the public: {get:?}"
    );
    assert!(get.etag.is_empty() && get.state_reason.is_empty());
    let pending = fx.pending_member("Maison de l'habitat en attente").await;
    let hidden = fx
        .members()
        .get_member(mp::GetMemberRequest {
            name: pending.clone(),
        })
        .await;
    assert_eq!(
        hidden.err().map(|s| s.code()),
        Some(NF),
        "a pending member is not in the public directory"
    );
    for query in [
        mp::ListMembersRequest::default(),
        mp::ListMembersRequest {
            states: vec![mp::MemberState::Pending as i32],
            ..Default::default()
        },
    ] {
        let listed = fx
            .members()
            .list_members(mp::ListMembersRequest {
                page_size: 500,
                ..query.clone()
            })
            .await
            .expect("ListMembers without a token: the public directory")
            .into_inner()
            .members;
        assert!(
            listed
                .iter()
                .all(|m| m.contacts.is_empty() && m.state == mp::MemberState::Active as i32),
            "{query:?}: the public sees contacts or members not active"
        );
        assert!(!listed.iter().any(|m| m.name == pending), "{query:?}");
    }

    // Who, with what token, sees A's e-mail, sees B's, sees every member's.
    let callers = [
        ("member B", fx.b_token.clone(), false, true, false),
        ("member A", fx.a_token.clone(), true, false, false),
        ("an admin", fx.admin.clone(), true, true, true),
    ];
    // The first, unfiltered, lists both A and B.
    let queries = [
        mp::ListMembersRequest::default(),
        mp::ListMembersRequest {
            states: vec![mp::MemberState::Active as i32],
            ..Default::default()
        },
        mp::ListMembersRequest {
            query: "thiers".into(),
            ..Default::default()
        },
        mp::ListMembersRequest {
            query: "ambert".into(),
            ..Default::default()
        },
    ];
    for (who, token, sees_a, sees_b, sees_all) in callers {
        for (member, email, shown) in [(&fx.a, a_email, sees_a), (&b, b_email, sees_b)] {
            let got = fx
                .members()
                .get_member(authed(
                    mp::GetMemberRequest {
                        name: member.clone(),
                    },
                    &token,
                ))
                .await
                .expect("get member")
                .into_inner();
            assert_contact(&format!("GetMember({member}) by {who}"), &got, email, shown);
        }
        for (i, query) in queries.iter().enumerate() {
            let page = fx
                .members()
                .list_members(authed(
                    mp::ListMembersRequest {
                        page_size: 500,
                        ..query.clone()
                    },
                    &token,
                ))
                .await
                .expect("list members")
                .into_inner();
            assert!(page.next_page_token.is_empty(), "the members fit one page");
            let context = format!("ListMembers {query:?} by {who}");
            for (member, email, shown) in [(&fx.a, a_email, sees_a), (&b, b_email, sees_b)] {
                match page.members.iter().find(|m| &m.name == member) {
                    Some(listed) => {
                        assert_contact(&format!("{context}, {member}"), listed, email, shown)
                    }
                    None => assert!(i > 0, "{context}: {member} is missing"),
                }
            }
            if !sees_all {
                let own = fx.member_of(&token);
                for other in page.members.iter().filter(|m| m.name != own) {
                    assert!(
                        other.contacts.iter().all(|c| c.email.is_empty()),
                        "{context}: an e-mail of {}",
                        other.name
                    );
                }
            }
        }
    }
}

async fn reservations_and_claims_reach_only_their_two_parties(backend: Backend) {
    let platform = platform(backend).await;
    let fx = Fixture::new(&platform).await;
    let b = fx.member_of(&fx.b_token);
    // C books A's equipment (the fixture's booking) and B books it another day; both
    // claim A's material: B is a third party to C's, and C to B's.
    let bookings = [
        (fx.reservation.clone(), fx.c.clone()),
        (fx.book(&fx.resource, 4, &fx.b_token).await, b.clone()),
    ];
    let material = fx.resource_of_a(true).await.name;
    let claims = [
        (fx.claim_of(&material, &fx.c_token).await, fx.c.clone()),
        (fx.claim_of(&material, &fx.b_token).await, b.clone()),
    ];
    let booking_queries: Vec<_> = [
        sp::ListReservationsRequest::default(),
        sp::ListReservationsRequest {
            parent: "resources/-".into(),
            ..Default::default()
        },
        sp::ListReservationsRequest {
            parent: fx.resource.clone(),
            ..Default::default()
        },
        sp::ListReservationsRequest {
            borrower: fx.c.clone(),
            ..Default::default()
        },
        sp::ListReservationsRequest {
            borrower: b.clone(),
            ..Default::default()
        },
        sp::ListReservationsRequest {
            owner: fx.a.clone(),
            ..Default::default()
        },
        sp::ListReservationsRequest {
            states: vec![sp::ReservationState::Requested as i32],
            ..Default::default()
        },
    ]
    .into_iter()
    .map(|q| sp::ListReservationsRequest {
        page_size: 500,
        ..q
    })
    .collect();
    let claim_queries: Vec<_> = [
        sp::ListClaimsRequest::default(),
        sp::ListClaimsRequest {
            parent: material.clone(),
            ..Default::default()
        },
        sp::ListClaimsRequest {
            claimant: fx.c.clone(),
            ..Default::default()
        },
        sp::ListClaimsRequest {
            claimant: b.clone(),
            ..Default::default()
        },
    ]
    .into_iter()
    .map(|q| sp::ListClaimsRequest {
        page_size: 500,
        ..q
    })
    .collect();

    for query in &booking_queries {
        let got = fx.sharing().list_reservations(query.clone()).await;
        assert_eq!(
            got.err().map(|s| s.code()),
            Some(U),
            "ListReservations {query:?} without a token"
        );
    }
    for (name, _) in &bookings {
        let got = fx
            .sharing()
            .get_reservation(sp::GetReservationRequest { name: name.clone() })
            .await;
        assert_eq!(
            got.err().map(|s| s.code()),
            Some(U),
            "GetReservation without a token"
        );
    }
    for query in &claim_queries {
        let got = fx.sharing().list_claims(query.clone()).await;
        assert_eq!(
            got.err().map(|s| s.code()),
            Some(U),
            "ListClaims {query:?} without a token"
        );
    }

    // Who, with what token, and the member whose own items only it may see (B and C
    // own no resource: they are parties to their own bookings and claims only).
    let callers = [
        ("member B", fx.b_token.clone(), Some(b.clone())),
        ("member C", fx.c_token.clone(), Some(fx.c.clone())),
        ("member A, the owner", fx.a_token.clone(), None),
        ("an admin", fx.admin.clone(), None),
    ];
    for (who, token, only) in &callers {
        let (shown, hidden) = split(&bookings, only.as_deref());
        let mut results = Vec::new();
        for query in &booking_queries {
            let page = fx
                .sharing()
                .list_reservations(authed(query.clone(), token))
                .await
                .unwrap_or_else(|s| panic!("ListReservations {query:?} by {who}: {s}"))
                .into_inner();
            assert!(page.next_page_token.is_empty(), "the bookings fit one page");
            if let Some(me) = only {
                for r in &page.reservations {
                    assert_eq!(
                        &r.borrower, me,
                        "{who} got {} of another borrower from {query:?}",
                        r.name
                    );
                }
            }
            let names = page.reservations.into_iter().map(|r| r.name).collect();
            results.push((format!("ListReservations {query:?}"), names));
        }
        assert_sees(who, &results, &shown, &hidden);
        for (name, _) in &bookings {
            let got = fx
                .sharing()
                .get_reservation(authed(
                    sp::GetReservationRequest { name: name.clone() },
                    token,
                ))
                .await;
            if shown.contains(name) {
                assert_eq!(&got.expect("get reservation").into_inner().name, name);
            } else {
                assert_eq!(
                    got.err().map(|s| s.code()),
                    Some(NF),
                    "GetReservation({name}) by {who}"
                );
            }
        }

        let (shown, hidden) = split(&claims, only.as_deref());
        let mut results = Vec::new();
        for query in &claim_queries {
            let page = fx
                .sharing()
                .list_claims(authed(query.clone(), token))
                .await
                .unwrap_or_else(|s| panic!("ListClaims {query:?} by {who}: {s}"))
                .into_inner();
            assert!(page.next_page_token.is_empty(), "the claims fit one page");
            if let Some(me) = only {
                for c in &page.claims {
                    assert_eq!(
                        &c.claimant, me,
                        "{who} got {} of another claimant from {query:?}",
                        c.name
                    );
                }
            }
            let names = page.claims.into_iter().map(|c| c.name).collect();
            results.push((format!("ListClaims {query:?}"), names));
        }
        assert_sees(who, &results, &shown, &hidden);
    }
}

async fn applications_reach_only_the_applicant_and_the_funder(backend: Backend) {
    let platform = platform(backend).await;
    let fx = Fixture::new(&platform).await;
    let b = fx.member_of(&fx.b_token);
    // A funds the programme; C (the fixture's application) and B apply to it.
    let applications = [
        (fx.application.clone(), fx.c.clone()),
        (
            fx.application_to(&fx.programme, &fx.b_token).await,
            b.clone(),
        ),
    ];
    let queries: Vec<_> = [
        pp::ListApplicationsRequest::default(),
        pp::ListApplicationsRequest {
            applicant: fx.c.clone(),
            ..Default::default()
        },
        pp::ListApplicationsRequest {
            applicant: b.clone(),
            ..Default::default()
        },
        pp::ListApplicationsRequest {
            states: vec![pp::ApplicationState::Submitted as i32],
            ..Default::default()
        },
    ]
    .into_iter()
    .map(|q| pp::ListApplicationsRequest {
        parent: fx.programme.clone(),
        page_size: 500,
        ..q
    })
    .collect();

    for query in &queries {
        let got = fx.projects().list_applications(query.clone()).await;
        assert_eq!(
            got.err().map(|s| s.code()),
            Some(U),
            "ListApplications {query:?} without a token"
        );
    }
    for (name, _) in &applications {
        let got = fx
            .projects()
            .get_application(pp::GetApplicationRequest { name: name.clone() })
            .await;
        assert_eq!(
            got.err().map(|s| s.code()),
            Some(U),
            "GetApplication without a token"
        );
    }

    let callers = [
        ("member B", fx.b_token.clone(), Some(b.clone())),
        ("member C", fx.c_token.clone(), Some(fx.c.clone())),
        ("member A, the funder", fx.a_token.clone(), None),
        ("an admin", fx.admin.clone(), None),
    ];
    for (who, token, only) in &callers {
        let (shown, hidden) = split(&applications, only.as_deref());
        let mut results = Vec::new();
        for query in &queries {
            let page = fx
                .projects()
                .list_applications(authed(query.clone(), token))
                .await
                .unwrap_or_else(|s| panic!("ListApplications {query:?} by {who}: {s}"))
                .into_inner();
            assert!(
                page.next_page_token.is_empty(),
                "the applications fit one page"
            );
            if let Some(me) = only {
                for a in &page.applications {
                    assert_eq!(
                        &a.applicant, me,
                        "{who} got {} of another applicant from {query:?}",
                        a.name
                    );
                }
            }
            let names = page.applications.into_iter().map(|a| a.name).collect();
            results.push((format!("ListApplications {query:?}"), names));
        }
        assert_sees(who, &results, &shown, &hidden);
        for (name, _) in &applications {
            let got = fx
                .projects()
                .get_application(authed(
                    pp::GetApplicationRequest { name: name.clone() },
                    token,
                ))
                .await;
            if shown.contains(name) {
                assert_eq!(&got.expect("get application").into_inner().name, name);
            } else {
                assert_eq!(
                    got.err().map(|s| s.code()),
                    Some(NF),
                    "GetApplication({name}) by {who}"
                );
            }
        }
    }

    // The public export holds decisions only: nothing while both are undecided, then
    // C's once A approves it — and still not B's.
    let export = || async {
        let got = fx
            .projects()
            .export_awards(authed(
                pp::ExportAwardsRequest {
                    name: fx.programme.clone(),
                },
                &fx.b_token,
            ))
            .await
            .expect("export awards")
            .into_inner();
        (got.rows, got.csv)
    };
    let (c_application, b_application) = (&applications[0].0, &applications[1].0);
    let (rows, csv) = export().await;
    assert_eq!(rows, 0, "no award yet");
    for name in [c_application, b_application] {
        assert!(
            !contains(&csv, name.as_bytes()),
            "{name} exported undecided"
        );
    }
    fx.projects()
        .approve_application(authed(
            pp::ApproveApplicationRequest {
                name: c_application.clone(),
            },
            &fx.a_token,
        ))
        .await
        .expect("approve");
    let (rows, csv) = export().await;
    assert_eq!(rows, 1, "C's award");
    assert!(
        contains(&csv, c_application.as_bytes()),
        "C's award is public"
    );
    assert!(
        !contains(&csv, b_application.as_bytes()),
        "B's is still undecided"
    );
}

async fn unlisted_places_reach_only_their_operator_and_admins(backend: Backend) {
    let platform = platform(backend).await;
    let fx = Fixture::new(&platform).await;
    let b = fx.member_of(&fx.b_token);
    // All of A's: a listed place everyone sees, a proposed and a suspended one.
    let places = [
        (fx.place.clone(), "listed"),
        (fx.place_in(rp::PlaceState::Proposed).await, "unlisted"),
        (fx.place_in(rp::PlaceState::Suspended).await, "unlisted"),
    ];
    let proposed_name = fx.place(&places[1].0).await.display_name;
    let every_state = vec![
        rp::PlaceState::Proposed as i32,
        rp::PlaceState::Listed as i32,
        rp::PlaceState::Suspended as i32,
        rp::PlaceState::Closed as i32,
    ];
    let queries: Vec<_> = [
        rp::ListPlacesRequest {
            states: every_state.clone(),
            ..Default::default()
        },
        rp::ListPlacesRequest::default(),
        rp::ListPlacesRequest {
            states: every_state.clone(),
            operator: fx.a.clone(),
            ..Default::default()
        },
        rp::ListPlacesRequest {
            states: every_state.clone(),
            query: proposed_name,
            ..Default::default()
        },
        rp::ListPlacesRequest {
            states: every_state.clone(),
            near: Some(rp::Near {
                location: Some(rp::Location {
                    latitude: 45.8563,
                    longitude: 3.5477,
                }),
                radius_km: 5.0,
            }),
            ..Default::default()
        },
    ]
    .into_iter()
    .map(|q| rp::ListPlacesRequest {
        page_size: 500,
        ..q
    })
    .collect();

    // Who, with what token, whether it sees A's unlisted places, and the member whose
    // own proposals it sees besides listed places.
    let callers = [
        ("no token", None, false, None),
        ("member B", Some(fx.b_token.clone()), false, Some(b.clone())),
        (
            "member A, the operator",
            Some(fx.a_token.clone()),
            true,
            None,
        ),
        ("an admin", Some(fx.admin.clone()), true, None),
    ];
    for (who, token, sees_unlisted, own) in &callers {
        let (shown, hidden): (Vec<_>, Vec<_>) = places
            .iter()
            .partition(|(_, kind)| *sees_unlisted || *kind == "listed");
        let shown: Vec<String> = shown.into_iter().map(|(n, _)| n.clone()).collect();
        let hidden: Vec<String> = hidden.into_iter().map(|(n, _)| n.clone()).collect();
        let mut results = Vec::new();
        for query in &queries {
            let page = fx
                .registry()
                .list_places(as_caller(query.clone(), token.as_deref()))
                .await
                .unwrap_or_else(|s| panic!("ListPlaces {query:?} by {who}: {s}"))
                .into_inner();
            assert!(page.next_page_token.is_empty(), "the places fit one page");
            if !sees_unlisted {
                for p in &page.places {
                    assert!(
                        p.state == rp::PlaceState::Listed as i32
                            || own.as_ref().is_some_and(|me| &p.operator == me),
                        "{who} got {} in state {} from {query:?}",
                        p.name,
                        p.state
                    );
                }
            }
            let names = page.places.into_iter().map(|p| p.name).collect();
            results.push((format!("ListPlaces {query:?}"), names));
        }
        assert_sees(who, &results, &shown, &hidden);
        for (name, _) in &places {
            let got = fx
                .registry()
                .get_place(as_caller(
                    rp::GetPlaceRequest { name: name.clone() },
                    token.as_deref(),
                ))
                .await;
            if shown.contains(name) {
                assert_eq!(&got.expect("get place").into_inner().name, name);
            } else {
                assert_eq!(
                    got.err().map(|s| s.code()),
                    Some(NF),
                    "GetPlace({name}) by {who}"
                );
            }
        }
    }
}

/// What each public read of the sharing and projects services gives a caller without a
/// token: what is offered and open, under way or done, without notes, etags, sites or
/// who holds a role; and that a token still gets what it got before.
///
/// Over 60 lines: one scenario, the public side of eleven reads, each beside what a
/// member still sees.
async fn the_public_sees_only_what_is_offered_or_under_way(backend: Backend) {
    let platform = platform(backend).await;
    let fx = Fixture::new(&platform).await;
    let note = "Note interne : moteur à réviser";
    let withdrawn = fx.resource_of_a(false).await.name;
    fx.sharing()
        .withdraw_resource(authed(
            sp::WithdrawResourceRequest {
                name: withdrawn.clone(),
                reason: note.into(),
                etag: String::new(),
            },
            &fx.a_token,
        ))
        .await
        .expect("withdraw");
    public_resources(&fx, &withdrawn, note).await;
    public_needs(&fx).await;
    public_projects(&fx).await;
    public_purchases_and_teams(&fx).await;
}

/// Resources and their free slots: AVAILABLE ones, without the state's reason or the
/// etag; a withdrawn one is NOT_FOUND to the public and as it was to a member.
async fn public_resources(fx: &Fixture, withdrawn: &str, note: &str) {
    let shown = fx
        .sharing()
        .get_resource(sp::GetResourceRequest {
            name: fx.resource.clone(),
        })
        .await
        .expect("GetResource without a token")
        .into_inner();
    assert!(
        shown.etag.is_empty() && shown.state_reason.is_empty(),
        "{shown:?}"
    );
    let (start, end) = slot(1);
    let window = |name: &str| sp::GetAvailabilityRequest {
        name: name.to_string(),
        start_time: ts(start),
        end_time: ts(end + chrono::Duration::days(7)),
    };
    let hidden = fx
        .sharing()
        .get_resource(sp::GetResourceRequest {
            name: withdrawn.to_string(),
        })
        .await;
    assert_eq!(
        hidden.err().map(|s| s.code()),
        Some(NF),
        "a withdrawn resource"
    );
    let hidden = fx.sharing().get_availability(window(withdrawn)).await;
    assert_eq!(hidden.err().map(|s| s.code()), Some(NF), "its free slots");
    // The free slots of the booked equipment: free time only, never the booking (C's,
    // two days ahead) nor who made it.
    let free = fx
        .sharing()
        .get_availability(window(&fx.resource))
        .await
        .expect("GetAvailability without a token")
        .into_inner();
    let (booked_start, booked_end) = slot(2);
    for interval in &free.free {
        let (s, e) = (
            interval
                .start_time
                .as_ref()
                .map(|t| t.seconds)
                .unwrap_or_default(),
            interval
                .end_time
                .as_ref()
                .map(|t| t.seconds)
                .unwrap_or_default(),
        );
        assert!(
            e <= booked_start.timestamp() || s >= booked_end.timestamp(),
            "a free interval overlaps the booking: {interval:?}"
        );
    }
    assert!(!free.free.is_empty());
    assert!(!contains(&free.encode_to_vec(), fx.c.as_bytes()));
    let every_state = vec![
        sp::ResourceState::Available as i32,
        sp::ResourceState::Withdrawn as i32,
        sp::ResourceState::Unavailable as i32,
    ];
    let queries = [
        sp::ListResourcesRequest::default(),
        sp::ListResourcesRequest {
            states: every_state.clone(),
            ..Default::default()
        },
        sp::ListResourcesRequest {
            states: vec![sp::ResourceState::Withdrawn as i32],
            ..Default::default()
        },
        sp::ListResourcesRequest {
            owner: fx.a.clone(),
            states: every_state,
            ..Default::default()
        },
        sp::ListResourcesRequest {
            query: "broyeur".into(),
            ..Default::default()
        },
    ];
    let mut results = Vec::new();
    for query in &queries {
        let page = fx
            .sharing()
            .list_resources(sp::ListResourcesRequest {
                page_size: 500,
                ..query.clone()
            })
            .await
            .unwrap_or_else(|s| panic!("ListResources {query:?} without a token: {s}"))
            .into_inner();
        for r in &page.resources {
            assert!(
                r.state == sp::ResourceState::Available as i32
                    && r.etag.is_empty()
                    && r.state_reason.is_empty(),
                "{query:?}: the public got {r:?}"
            );
        }
        let names = page.resources.into_iter().map(|r| r.name).collect();
        results.push((format!("ListResources {query:?}"), names));
    }
    assert_sees(
        "no token",
        &results,
        std::slice::from_ref(&fx.resource),
        &[withdrawn.to_string()],
    );
    // A member sees what it saw: the withdrawn resource, its reason, its etag.
    let seen = fx
        .sharing()
        .get_resource(authed(
            sp::GetResourceRequest {
                name: withdrawn.to_string(),
            },
            &fx.b_token,
        ))
        .await
        .expect("GetResource by B")
        .into_inner();
    assert_eq!(seen.state_reason, note);
    assert!(!seen.etag.is_empty());
    let listed = fx
        .sharing()
        .list_resources(authed(queries[2].clone(), &fx.b_token))
        .await
        .expect("ListResources by B")
        .into_inner();
    assert!(listed.resources.iter().any(|r| r.name == withdrawn));
}

/// Needs: OPEN ones; a closed one is NOT_FOUND to the public, listed to members.
async fn public_needs(fx: &Fixture) {
    let closed = fx.need_of_a().await;
    fx.sharing()
        .close_need(authed(
            sp::CloseNeedRequest {
                name: closed.clone(),
            },
            &fx.a_token,
        ))
        .await
        .expect("close need");
    let open = fx
        .sharing()
        .get_need(sp::GetNeedRequest {
            name: fx.need.clone(),
        })
        .await;
    assert!(open.is_ok(), "an open need is public: {open:?}");
    let hidden = fx
        .sharing()
        .get_need(sp::GetNeedRequest {
            name: closed.clone(),
        })
        .await;
    assert_eq!(hidden.err().map(|s| s.code()), Some(NF), "a closed need");
    let mut results = Vec::new();
    for query in [
        sp::ListNeedsRequest::default(),
        sp::ListNeedsRequest {
            states: vec![sp::NeedState::Closed as i32],
            ..Default::default()
        },
        sp::ListNeedsRequest {
            member: fx.a.clone(),
            states: vec![sp::NeedState::Open as i32, sp::NeedState::Closed as i32],
            ..Default::default()
        },
    ] {
        let page = fx
            .sharing()
            .list_needs(sp::ListNeedsRequest {
                page_size: 500,
                ..query.clone()
            })
            .await
            .unwrap_or_else(|s| panic!("ListNeeds {query:?} without a token: {s}"))
            .into_inner();
        assert!(
            page.needs
                .iter()
                .all(|n| n.state == sp::NeedState::Open as i32),
            "{query:?}"
        );
        let names = page.needs.into_iter().map(|n| n.name).collect();
        results.push((format!("ListNeeds {query:?}"), names));
    }
    assert_sees(
        "no token",
        &results,
        std::slice::from_ref(&fx.need),
        std::slice::from_ref(&closed),
    );
    let listed = fx
        .sharing()
        .list_needs(authed(
            sp::ListNeedsRequest {
                states: vec![sp::NeedState::Closed as i32],
                page_size: 500,
                ..Default::default()
            },
            &fx.b_token,
        ))
        .await
        .expect("ListNeeds by B")
        .into_inner();
    assert!(listed.needs.iter().any(|n| n.name == closed));
}

/// Projects: those under way or done, without etag; a proposed one is NOT_FOUND to the
/// public and seen by members.
async fn public_projects(fx: &Fixture) {
    let proposed = fx.project_of_a().await.name;
    let shown = fx
        .projects()
        .get_project(pp::GetProjectRequest {
            name: fx.project.clone(),
        })
        .await
        .expect("GetProject without a token")
        .into_inner();
    assert!(shown.etag.is_empty(), "{shown:?}");
    let hidden = fx
        .projects()
        .get_project(pp::GetProjectRequest {
            name: proposed.clone(),
        })
        .await;
    assert_eq!(
        hidden.err().map(|s| s.code()),
        Some(NF),
        "a proposed project"
    );
    let mut results = Vec::new();
    for query in [
        pp::ListProjectsRequest::default(),
        pp::ListProjectsRequest {
            states: vec![pp::ProjectState::Proposed as i32],
            ..Default::default()
        },
        pp::ListProjectsRequest {
            member: fx.a.clone(),
            themes: vec![pp::Theme::Energy as i32],
            ..Default::default()
        },
    ] {
        let page = fx
            .projects()
            .list_projects(pp::ListProjectsRequest {
                page_size: 500,
                ..query.clone()
            })
            .await
            .unwrap_or_else(|s| panic!("ListProjects {query:?} without a token: {s}"))
            .into_inner();
        for p in &page.projects {
            assert!(
                [
                    pp::ProjectState::Active as i32,
                    pp::ProjectState::Completed as i32
                ]
                .contains(&p.state)
                    && p.etag.is_empty(),
                "{query:?}: the public got {p:?}"
            );
        }
        let names = page.projects.into_iter().map(|p| p.name).collect();
        results.push((format!("ListProjects {query:?}"), names));
    }
    assert_sees(
        "no token",
        &results,
        std::slice::from_ref(&fx.project),
        std::slice::from_ref(&proposed),
    );
    let seen = fx
        .projects()
        .get_project(authed(
            pp::GetProjectRequest { name: proposed },
            &fx.b_token,
        ))
        .await
        .expect("GetProject by B")
        .into_inner();
    assert!(!seen.etag.is_empty());
}

/// Grouped purchases without their sites, and teams without who holds each role.
async fn public_purchases_and_teams(fx: &Fixture) {
    let school = "École Jules-Ferry";
    fx.projects()
        .join_group_purchase(authed(
            pp::JoinGroupPurchaseRequest {
                name: fx.group_purchase.clone(),
                sites: vec![pp::Site {
                    name: school.into(),
                    lot: "lot1".into(),
                    volume: 1250.5,
                }],
            },
            &fx.c_token,
        ))
        .await
        .expect("join");
    let public = fx
        .projects()
        .get_group_purchase(pp::GetGroupPurchaseRequest {
            name: fx.group_purchase.clone(),
        })
        .await
        .expect("GetGroupPurchase without a token")
        .into_inner();
    assert!(public.participations.iter().any(|p| p.member == fx.c));
    assert!(public.participations.iter().all(|p| p.sites.is_empty()));
    assert_eq!(public.lots[0].total_volume, 1250.5, "the totals are public");
    assert!(!contains(&public.encode_to_vec(), school.as_bytes()));
    let listed = fx
        .projects()
        .list_group_purchases(pp::ListGroupPurchasesRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("ListGroupPurchases without a token")
        .into_inner();
    assert!(
        listed
            .group_purchases
            .iter()
            .any(|g| g.name == fx.group_purchase)
    );
    assert!(!contains(&listed.encode_to_vec(), school.as_bytes()));
    let seen = fx
        .projects()
        .get_group_purchase(authed(
            pp::GetGroupPurchaseRequest {
                name: fx.group_purchase.clone(),
            },
            &fx.b_token,
        ))
        .await
        .expect("GetGroupPurchase by B")
        .into_inner();
    assert!(
        contains(&seen.encode_to_vec(), school.as_bytes()),
        "allies see the sites"
    );

    // A's elected official covers a role of A's team: members learn who holds it, the
    // public only what is missing.
    fx.give_contact(&fx.a, "Stéphane Rodier", "maire@ville-thiers.fr")
        .await;
    let request = pp::ValidateTeamRequest {
        name: fx.workshop.clone(),
        lead: fx.a.clone(),
    };
    let by_member = fabrique_testkit::eventually(
        "the projects service to know A's contact roles",
        Duration::from_secs(30),
        || {
            let (projects, request, token) = (fx.projects(), request.clone(), fx.b_token.clone());
            async move {
                let mut projects = projects;
                let report = projects
                    .validate_team(authed(request, &token))
                    .await
                    .ok()?
                    .into_inner();
                (!report.covered.is_empty()).then_some(report)
            }
        },
    )
    .await;
    assert!(by_member.covered.iter().any(|c| c.members.contains(&fx.a)));
    let public = fx
        .projects()
        .validate_team(request)
        .await
        .expect("ValidateTeam without a token")
        .into_inner();
    assert!(public.covered.is_empty(), "{public:?}");
    assert_eq!(public.missing_roles, by_member.missing_roles);
    assert!(!public.complete);
    let workshops = fx
        .projects()
        .list_workshops(pp::ListWorkshopsRequest::default())
        .await
        .expect("ListWorkshops without a token")
        .into_inner();
    assert!(workshops.workshops.iter().any(|w| w.name == fx.workshop));
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

// The filters that keep these data private are queries: run them on both stores.
on_both_stores!(
    contact_emails_reach_only_admins_and_the_member_itself,
    reservations_and_claims_reach_only_their_two_parties,
    applications_reach_only_the_applicant_and_the_funder,
    unlisted_places_reach_only_their_operator_and_admins,
    the_public_sees_only_what_is_offered_or_under_way,
);

/// Acceptance: every refusal code a proto lists is in its service's README
/// (`services/<name>/README.md`, section "Refusals"), and the READMEs list no other.
#[test]
fn the_refusal_codes_of_the_protos_are_the_docs_ones() {
    let declared = declared_refusals();
    let services = fabrique::services::all();
    let packages: BTreeSet<String> = services
        .iter()
        .map(|s| {
            s.grpc_name()
                .rsplit_once('.')
                .map(|(package, _)| package.to_string())
                .unwrap_or_default()
        })
        .chain(["fabrique.operations.v1".to_string()])
        .collect();
    assert_eq!(
        declared.keys().cloned().collect::<BTreeSet<_>>(),
        packages,
        "every service lists its refusals"
    );
    let mut documented: std::collections::BTreeMap<String, BTreeSet<String>> =
        std::collections::BTreeMap::new();
    // Each service's README, and the platform's own list (the dead letters' service).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lists = services
        .iter()
        .map(|service| root.join("services").join(service.name()).join("README.md"))
        .chain([root.join("docs/refusals.md")]);
    for path in lists {
        let docs =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut section = None;
        for line in docs.lines() {
            if let Some(heading) = line.strip_prefix("## ") {
                section = heading
                    .split('`')
                    .nth(1)
                    .and_then(|e| e.strip_suffix(".Refusal"))
                    .map(str::to_string);
            } else if let (Some(package), Some(code)) = (
                &section,
                line.strip_prefix("| `").and_then(|l| l.split('`').next()),
            ) {
                documented
                    .entry(package.clone())
                    .or_default()
                    .insert(code.to_string());
            }
        }
    }
    assert_eq!(documented, declared);
}
