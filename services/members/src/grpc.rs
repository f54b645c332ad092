//! The gRPC edge of the members service: `fabrique.members.v1.MembersService`. Converts
//! protobuf to domain types (every invalid field reported with its path), calls the use
//! case, converts back. Nothing else happens here.

use fabrique_api::members as proto;
use fabrique_api::members::members_service_server::MembersService;
use fabrique_platform::auth::{self, Caller};
use fabrique_platform::page;
use fabrique_platform::request::{self, optional};
use fabrique_platform::{Error, Violations};
use tonic::{Request, Response, Status};

use crate::app::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Members, Patch};
use crate::domain::{
    Contact, ContactRole, Department, DisplayName, Email, InseeCode, Invalid, Member, MemberId,
    MemberKind, MemberState, Profile, Siren, Transition, Website, fold, parse_territory,
};
use crate::events::timestamp;
use crate::store::ListFilter;

pub struct MembersGrpc {
    members: Members,
}

impl MembersGrpc {
    pub fn new(members: Members) -> Self {
        Self { members }
    }
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

pub fn kind_to_proto(kind: MemberKind) -> proto::MemberKind {
    use proto::MemberKind as P;
    match kind {
        MemberKind::Commune => P::Commune,
        MemberKind::Epci => P::Epci,
        MemberKind::Departement => P::Departement,
        MemberKind::Region => P::Region,
        MemberKind::Association => P::Association,
        MemberKind::EssEnterprise => P::EssEnterprise,
        MemberKind::Company => P::Company,
        MemberKind::ResearchLab => P::ResearchLab,
        MemberKind::TrainingCentre => P::TrainingCentre,
        MemberKind::PublicAgency => P::PublicAgency,
        MemberKind::CitizenCollective => P::CitizenCollective,
    }
}

fn kind_from_proto(value: i32) -> Result<MemberKind, Invalid> {
    use proto::MemberKind as P;
    Ok(match P::try_from(value) {
        Ok(P::Unspecified) => return Err(Invalid("must be set".into())),
        Ok(P::Commune) => MemberKind::Commune,
        Ok(P::Epci) => MemberKind::Epci,
        Ok(P::Departement) => MemberKind::Departement,
        Ok(P::Region) => MemberKind::Region,
        Ok(P::Association) => MemberKind::Association,
        Ok(P::EssEnterprise) => MemberKind::EssEnterprise,
        Ok(P::Company) => MemberKind::Company,
        Ok(P::ResearchLab) => MemberKind::ResearchLab,
        Ok(P::TrainingCentre) => MemberKind::TrainingCentre,
        Ok(P::PublicAgency) => MemberKind::PublicAgency,
        Ok(P::CitizenCollective) => MemberKind::CitizenCollective,
        Err(_) => return Err(Invalid(format!("unknown member kind {value}"))),
    })
}

pub fn state_to_proto(state: MemberState) -> proto::MemberState {
    match state {
        MemberState::Pending => proto::MemberState::Pending,
        MemberState::Active => proto::MemberState::Active,
        MemberState::Suspended => proto::MemberState::Suspended,
        MemberState::Left => proto::MemberState::Left,
    }
}

fn state_from_proto(value: i32) -> Result<MemberState, Invalid> {
    use proto::MemberState as P;
    match P::try_from(value) {
        Ok(P::Pending) => Ok(MemberState::Pending),
        Ok(P::Active) => Ok(MemberState::Active),
        Ok(P::Suspended) => Ok(MemberState::Suspended),
        Ok(P::Left) => Ok(MemberState::Left),
        Ok(P::Unspecified) => Err(Invalid("must not be MEMBER_STATE_UNSPECIFIED".into())),
        Err(_) => Err(Invalid(format!("unknown member state {value}"))),
    }
}

fn role_to_proto(role: ContactRole) -> proto::ContactRole {
    use proto::ContactRole as P;
    match role {
        ContactRole::ElectedOfficial => P::ElectedOfficial,
        ContactRole::ProcurementOfficer => P::ProcurementOfficer,
        ContactRole::TransitionTechnician => P::TransitionTechnician,
        ContactRole::RoadsTechnician => P::RoadsTechnician,
        ContactRole::CompanyRepresentative => P::CompanyRepresentative,
        ContactRole::Other => P::Other,
    }
}

fn role_from_proto(value: i32) -> Result<ContactRole, Invalid> {
    use proto::ContactRole as P;
    Ok(match P::try_from(value) {
        Ok(P::Unspecified) => return Err(Invalid("must be set".into())),
        Ok(P::ElectedOfficial) => ContactRole::ElectedOfficial,
        Ok(P::ProcurementOfficer) => ContactRole::ProcurementOfficer,
        Ok(P::TransitionTechnician) => ContactRole::TransitionTechnician,
        Ok(P::RoadsTechnician) => ContactRole::RoadsTechnician,
        Ok(P::CompanyRepresentative) => ContactRole::CompanyRepresentative,
        Ok(P::Other) => ContactRole::Other,
        Err(_) => return Err(Invalid(format!("unknown contact role {value}"))),
    })
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// `with_email`: contact e-mails are personal data, shown only to admins and the member.
pub fn contact_to_proto(contact: &Contact, with_email: bool) -> proto::Contact {
    proto::Contact {
        full_name: contact.full_name.clone(),
        role: role_to_proto(contact.role) as i32,
        email: if with_email {
            contact
                .email
                .as_ref()
                .map(|e| e.as_str().to_string())
                .unwrap_or_default()
        } else {
            String::new()
        },
        title: contact.title.clone().unwrap_or_default(),
    }
}

fn member_to_proto(member: &Member, caller: &Caller) -> proto::Member {
    let p = &member.profile;
    let with_email = caller.is_admin() || caller.is_member(member.id.uuid());
    proto::Member {
        name: member.id.name(),
        display_name: p.display_name.as_str().to_string(),
        kind: kind_to_proto(p.kind) as i32,
        siren: p
            .siren
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        insee_code: p
            .insee_code
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        territory: p.territory.clone().unwrap_or_default(),
        website: p
            .website
            .as_ref()
            .map(|w| w.as_str().to_string())
            .unwrap_or_default(),
        contacts: p
            .contacts
            .iter()
            .map(|c| contact_to_proto(c, with_email))
            .collect(),
        state: state_to_proto(member.state) as i32,
        joined_at: member.joined_at.map(timestamp),
        create_time: Some(timestamp(member.created_at)),
        update_time: Some(timestamp(member.updated_at)),
        etag: member.etag(),
        state_reason: member.state_reason.clone().unwrap_or_default(),
    }
}

fn parse_contacts(
    contacts: &[proto::Contact],
    prefix: &str,
    violations: &mut Violations,
) -> Option<Vec<Contact>> {
    if contacts.len() > Contact::MAX_PER_MEMBER {
        violations.add(
            prefix,
            format!("at most {} contacts", Contact::MAX_PER_MEMBER),
        );
        return None;
    }
    let mut parsed = Vec::with_capacity(contacts.len());
    for (i, contact) in contacts.iter().enumerate() {
        let at = |field: &str| format!("{prefix}[{i}].{field}");
        let full_name = violations.check(
            &at("full_name"),
            Contact::parse_full_name(&contact.full_name),
        );
        let role = violations.check(&at("role"), role_from_proto(contact.role));
        let email = violations.check(&at("email"), optional(&contact.email, Email::parse));
        let title = violations.check(&at("title"), Contact::parse_title(&contact.title));
        if let (Some(full_name), Some(role), Some(email), Some(title)) =
            (full_name, role, email, title)
        {
            parsed.push(Contact {
                full_name,
                role,
                email,
                title,
            });
        }
    }
    Some(parsed)
}

fn parse_profile(member: &proto::Member) -> Result<Profile, Error> {
    let mut v = Violations::new();
    let display_name = v.check(
        "member.display_name",
        DisplayName::parse(&member.display_name),
    );
    let kind = v.check("member.kind", kind_from_proto(member.kind));
    let siren = v.check("member.siren", optional(&member.siren, Siren::parse));
    let insee_code = v.check(
        "member.insee_code",
        optional(&member.insee_code, InseeCode::parse),
    );
    let territory = v.check("member.territory", parse_territory(&member.territory));
    let website = v.check("member.website", optional(&member.website, Website::parse));
    let contacts = parse_contacts(&member.contacts, "member.contacts", &mut v);
    v.into_result()?;
    match (
        display_name,
        kind,
        siren,
        insee_code,
        territory,
        website,
        contacts,
    ) {
        (
            Some(display_name),
            Some(kind),
            Some(siren),
            Some(insee_code),
            Some(territory),
            Some(website),
            Some(contacts),
        ) => Ok(Profile {
            display_name,
            kind,
            siren,
            insee_code,
            territory,
            website,
            contacts,
        }),
        _ => Err(Error::internal(
            "profile parsed without violations but incomplete",
        )),
    }
}

fn parse_name(field: &str, name: &str) -> Result<MemberId, Error> {
    MemberId::parse_name(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// The update mask paths that may be changed, and what each sets.
const UPDATABLE: &[&str] = &[
    "display_name",
    "kind",
    "siren",
    "insee_code",
    "territory",
    "website",
    "contacts",
];

fn parse_patch(
    member: &proto::Member,
    mask: Option<&prost_types::FieldMask>,
) -> Result<Patch, Error> {
    let paths: Vec<&str> = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(String::as_str).collect(),
        _ => {
            return Err(Error::invalid(
                "update_mask",
                format!(
                    "must list the fields to change, among {}",
                    UPDATABLE.join(", ")
                ),
            ));
        }
    };
    let paths: Vec<&str> = if paths == ["*"] {
        UPDATABLE.to_vec()
    } else {
        paths
    };
    let mut v = Violations::new();
    let mut patch = Patch::default();
    for path in paths {
        let field = format!("member.{path}");
        match path {
            "display_name" => {
                patch.display_name = v.check(&field, DisplayName::parse(&member.display_name))
            }
            "kind" => patch.kind = v.check(&field, kind_from_proto(member.kind)),
            "siren" => patch.siren = v.check(&field, optional(&member.siren, Siren::parse)),
            "insee_code" => {
                patch.insee_code = v.check(&field, optional(&member.insee_code, InseeCode::parse))
            }
            "territory" => patch.territory = v.check(&field, parse_territory(&member.territory)),
            "website" => patch.website = v.check(&field, optional(&member.website, Website::parse)),
            "contacts" => patch.contacts = parse_contacts(&member.contacts, &field, &mut v),
            "name" | "state" | "joined_at" | "create_time" | "update_time" | "etag"
            | "state_reason" => v.add(
                "update_mask",
                format!("{path} is output only; the lifecycle methods change the state"),
            ),
            other => v.add("update_mask", format!("unknown field {other:?}")),
        }
    }
    v.into_result()?;
    Ok(patch)
}

fn parse_filter(request: &proto::ListMembersRequest) -> Result<ListFilter, Error> {
    let mut v = Violations::new();
    let mut filter = ListFilter::default();
    for (i, kind) in request.kinds.iter().enumerate() {
        if let Some(kind) = v.check(&format!("kinds[{i}]"), kind_from_proto(*kind)) {
            filter.kinds.push(kind);
        }
    }
    for (i, state) in request.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), state_from_proto(*state)) {
            filter.states.push(state);
        }
    }
    filter.department = v
        .check(
            "insee_department",
            optional(&request.insee_department, Department::parse),
        )
        .flatten();
    let query = request.query.trim();
    if query.chars().take(101).count() > 100 {
        v.add("query", "must be at most 100 characters");
    } else if !query.is_empty() {
        filter.query = Some(fold(query));
    }
    v.into_result()?;
    Ok(filter)
}

fn parse_joined_at(time: &prost_types::Timestamp) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    let nanos = u32::try_from(time.nanos)
        .map_err(|_| Error::invalid("joined_at", "nanos must not be negative"))?;
    let at = chrono::DateTime::from_timestamp(time.seconds, nanos)
        .ok_or_else(|| Error::invalid("joined_at", "is not a valid time"))?;
    if at > chrono::Utc::now() {
        return Err(Error::invalid("joined_at", "must not be in the future"));
    }
    Ok(at)
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

#[tonic::async_trait]
impl MembersService for MembersGrpc {
    async fn get_member(
        &self,
        request: Request<proto::GetMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let id = parse_name("name", &request.get_ref().name)?;
        let member = self.members.get(id).await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn list_members(
        &self,
        request: Request<proto::ListMembersRequest>,
    ) -> Result<Response<proto::ListMembersResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let page_size = page::page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        let filter = parse_filter(request)?;
        let page = self
            .members
            .list(filter, page_size, &request.page_token)
            .await?;
        Ok(Response::new(proto::ListMembersResponse {
            members: page
                .members
                .iter()
                .map(|m| member_to_proto(m, &caller))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_member(
        &self,
        request: Request<proto::CreateMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let member = request
            .member
            .as_ref()
            .ok_or_else(|| Error::invalid("member", "is required"))?;
        let request_id = request::request_id("request_id", &request.request_id)?;
        let profile = parse_profile(member)?;
        let created = self.members.create(&caller, profile, request_id).await?;
        Ok(Response::new(member_to_proto(&created, &caller)))
    }

    async fn update_member(
        &self,
        request: Request<proto::UpdateMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.get_ref();
        let member = request
            .member
            .as_ref()
            .ok_or_else(|| Error::invalid("member", "is required"))?;
        let id = parse_name("member.name", &member.name)?;
        let etag = request::etag("member.etag", &member.etag)?.ok_or_else(|| {
            Error::invalid(
                "member.etag",
                "is required: send the etag of the member you read",
            )
        })?;
        let patch = parse_patch(member, request.update_mask.as_ref())?;
        let updated = self.members.update(&caller, id, etag, patch).await?;
        Ok(Response::new(member_to_proto(&updated, &caller)))
    }

    async fn approve_member(
        &self,
        request: Request<proto::ApproveMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let joined_at = r.joined_at.as_ref().map(parse_joined_at).transpose()?;
        let member = self
            .members
            .transition_at(&caller, id, Transition::Approve, None, etag, joined_at)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn suspend_member(
        &self,
        request: Request<proto::SuspendMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, true)?;
        let etag = request::etag("etag", &r.etag)?;
        let member = self
            .members
            .transition(&caller, id, Transition::Suspend, reason, etag)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn reinstate_member(
        &self,
        request: Request<proto::ReinstateMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let etag = request::etag("etag", &r.etag)?;
        let member = self
            .members
            .transition(&caller, id, Transition::Reinstate, None, etag)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }

    async fn leave_member(
        &self,
        request: Request<proto::LeaveMemberRequest>,
    ) -> Result<Response<proto::Member>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.get_ref();
        let id = parse_name("name", &r.name)?;
        let reason = request::reason("reason", &r.reason, false)?;
        let etag = request::etag("etag", &r.etag)?;
        let member = self
            .members
            .transition(&caller, id, Transition::Leave, reason, etag)
            .await?;
        Ok(Response::new(member_to_proto(&member, &caller)))
    }
}
