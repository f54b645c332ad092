//! Every conversion between the members service's domain and its contract
//! (`fabrique.members.v1`): enums mapped by name, members and contacts to messages,
//! requests parsed into domain types with every invalid field reported by its path.
//! Used by the gRPC handlers and by the events.

use fabrique_api::members as proto;
use fabrique_platform::auth::Caller;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use crate::domain::{
    Contact, ContactRole, Department, DisplayName, Email, InseeCode, Member, MemberId, MemberKind,
    MemberState, Patch, Profile, Siren, Siret, Website, fold, parse_territory,
};
use crate::refusal::RefusalCode;
use crate::store::ListFilter;

fabrique_platform::proto_mapped!(
    MemberKind => proto::MemberKind,
    MemberState => proto::MemberState,
    ContactRole => proto::ContactRole,
    RefusalCode => proto::Refusal,
);

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// `with_email`: contact e-mails are personal data, shown only to admins and the member.
pub fn contact_to_proto(contact: &Contact, with_email: bool) -> proto::Contact {
    proto::Contact {
        full_name: contact.full_name.clone(),
        role: contact.role.to_proto_i32(),
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

/// The member as `caller` may see it: contact e-mails only for admins and the member
/// itself.
pub fn member_to_proto(member: &Member, caller: &Caller) -> proto::Member {
    let with_email = caller.is_admin() || caller.is_member(member.id.uuid());
    member_with(member, with_email)
}

/// What anyone may read of an active member without a token, as a public directory
/// shows it: who it is, where, its website. Not its contact people (persons, whom the
/// allies reach among themselves), nor why its state changed, nor its etag (nothing
/// can be changed without a token).
pub fn public_member_to_proto(member: &Member) -> proto::Member {
    proto::Member {
        contacts: Vec::new(),
        state_reason: String::new(),
        etag: String::new(),
        ..member_with(member, false)
    }
}

/// The member for a caller, or for the public when there is none.
pub fn member_for(member: &Member, caller: Option<&Caller>) -> proto::Member {
    match caller {
        Some(caller) => member_to_proto(member, caller),
        None => public_member_to_proto(member),
    }
}

fn member_with(member: &Member, with_email: bool) -> proto::Member {
    let p = &member.profile;
    proto::Member {
        name: member.id.name(),
        display_name: p.display_name.as_str().to_string(),
        kind: p.kind.to_proto_i32(),
        siren: p
            .siren
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        siret: p
            .siret
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        epci_siren: p
            .epci_siren
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
        state: member.state.to_proto_i32(),
        joined_at: member.joined_at.map(timestamp),
        create_time: Some(timestamp(member.created_at)),
        update_time: Some(timestamp(member.updated_at)),
        etag: member.etag(),
        state_reason: member.state_reason.clone().unwrap_or_default(),
    }
}

/// A request's contacts, each bad field reported as `{prefix}[i].{field}`; `None` when
/// there are too many to look at one by one.
pub fn parse_contacts(
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
        let role = violations.check(&at("role"), ContactRole::from_proto(contact.role));
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

/// A CreateMember's member, every bad field reported as `member.{field}`; output-only
/// fields are ignored.
pub fn parse_profile(member: &proto::Member) -> Result<Profile, Error> {
    let mut v = Violations::new();
    let display_name = v.check(
        "member.display_name",
        DisplayName::parse(&member.display_name),
    );
    let kind = v.check("member.kind", MemberKind::from_proto(member.kind));
    let siren = v.check("member.siren", optional(&member.siren, Siren::parse));
    let siret = v.check("member.siret", optional(&member.siret, Siret::parse));
    let epci_siren = v.check(
        "member.epci_siren",
        optional(&member.epci_siren, Siren::parse),
    );
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
        siret,
        epci_siren,
        insee_code,
        territory,
        website,
        contacts,
    ) {
        (
            Some(display_name),
            Some(kind),
            Some(siren),
            Some(siret),
            Some(epci_siren),
            Some(insee_code),
            Some(territory),
            Some(website),
            Some(contacts),
        ) => Ok(Profile {
            display_name,
            kind,
            siren,
            siret,
            epci_siren,
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

/// The member a resource name `members/{id}` in request field `field` names.
pub fn parse_name(field: &str, name: &str) -> Result<MemberId, Error> {
    MemberId::parse_name(name).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// The update mask paths that may be changed; `*` stands for all of them.
pub const UPDATABLE: &[&str] = &[
    "display_name",
    "kind",
    "siren",
    "siret",
    "epci_siren",
    "insee_code",
    "territory",
    "website",
    "contacts",
];

/// An UpdateMember's changes: the fields its mask names, parsed. An empty mask, an
/// unknown path or an output-only one (the state is the lifecycle calls') is refused.
pub fn parse_patch(
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
            "kind" => patch.kind = v.check(&field, MemberKind::from_proto(member.kind)),
            "siren" => patch.siren = v.check(&field, optional(&member.siren, Siren::parse)),
            "siret" => patch.siret = v.check(&field, optional(&member.siret, Siret::parse)),
            "epci_siren" => {
                patch.epci_siren = v.check(&field, optional(&member.epci_siren, Siren::parse))
            }
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

/// A ListMembers' filters; its text query (at most 100 characters) is folded like the
/// stored names it is compared with.
pub fn parse_filter(request: &proto::ListMembersRequest) -> Result<ListFilter, Error> {
    let mut v = Violations::new();
    let mut filter = ListFilter::default();
    for (i, kind) in request.kinds.iter().enumerate() {
        if let Some(kind) = v.check(&format!("kinds[{i}]"), MemberKind::from_proto(*kind)) {
            filter.kinds.push(kind);
        }
    }
    for (i, state) in request.states.iter().enumerate() {
        if let Some(state) = v.check(&format!("states[{i}]"), MemberState::from_proto(*state)) {
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
    filter.contact_email = v
        .check(
            "contact_email",
            optional(request.contact_email.trim(), Email::parse),
        )
        .flatten()
        .map(|email| email.as_str().to_lowercase());
    v.into_result()?;
    Ok(filter)
}

/// An approval's `joined_at`: a valid time, not in the future.
pub fn parse_joined_at(
    time: &prost_types::Timestamp,
) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    let nanos = u32::try_from(time.nanos)
        .map_err(|_| Error::invalid("joined_at", "nanos must not be negative"))?;
    let at = chrono::DateTime::from_timestamp(time.seconds, nanos)
        .ok_or_else(|| Error::invalid("joined_at", "is not a valid time"))?;
    if at > chrono::Utc::now() {
        return Err(Error::invalid("joined_at", "must not be in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn every_enum_maps_both_ways_by_name() {
        assert_round_trip::<MemberKind>();
        assert_round_trip::<MemberState>();
        assert_round_trip::<ContactRole>();
        assert_round_trip::<RefusalCode>();
    }
}
