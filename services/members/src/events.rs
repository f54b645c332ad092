//! What the members service publishes: one event per change of a member, on
//! `fabrique.members.member.<verb>`, each carrying a snapshot of the member (contact
//! e-mails left out: consumers need roles, not personal data); and, on its private
//! stream, the contact people with their e-mails for the notify service
//! ([`CONTACTS`]). It consumes nothing.

use fabrique_api::members as proto;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::proto_enum::ProtoMapped;
pub use fabrique_platform::time::timestamp;

use crate::domain::{Member, Transition};

/// An ally applied: a new PENDING member (`MemberApplied`).
pub const APPLIED: &str = "fabrique.members.member.applied";
/// An admin approved it: ACTIVE, it may now operate places (`MemberJoined`).
pub const JOINED: &str = "fabrique.members.member.joined";
/// Its profile changed, with the fields that did (`MemberUpdated`).
pub const UPDATED: &str = "fabrique.members.member.updated";
/// ACTIVE → SUSPENDED, with the reason (`MemberSuspended`): the registry flags the
/// places it operates for review, sharing withdraws its resources.
pub const SUSPENDED: &str = "fabrique.members.member.suspended";
/// SUSPENDED → ACTIVE (`MemberReinstated`).
pub const REINSTATED: &str = "fabrique.members.member.reinstated";
/// It left the alliance, for good (`MemberLeft`).
pub const LEFT: &str = "fabrique.members.member.left";

/// Every subject this service publishes on.
pub const ALL: &[&str] = &[APPLIED, JOINED, UPDATED, SUSPENDED, REINSTATED, LEFT];

/// Its private subjects, one per member: `fabrique.private.members.contacts.{id}`
/// (`MemberContacts`), read only by the notify service (the store's migration
/// `m20261207_000103_publish_contacts` names it too).
pub const CONTACTS: &str = "fabrique.private.members.contacts";

/// `event`, and the member's contacts with their e-mails on [`CONTACTS`] when they may
/// have changed: when it applies, when `contacts_changed` (an update), and (empty) when
/// it leaves.
pub fn with_contacts(
    event: OutgoingEvent,
    member: &Member,
    contacts_changed: bool,
) -> Vec<OutgoingEvent> {
    if contacts_changed || event.subject == APPLIED || event.subject == LEFT {
        vec![event, contacts(member)]
    } else {
        vec![event]
    }
}

/// [`CONTACTS`] for `member`: nobody once it left.
pub fn contacts(member: &Member) -> OutgoingEvent {
    let contacts = if member.state == crate::domain::MemberState::Left {
        Vec::new()
    } else {
        member
            .profile
            .contacts
            .iter()
            .map(|c| crate::proto::contact_to_proto(c, true))
            .collect()
    };
    OutgoingEvent::new(
        format!("{CONTACTS}.{}", member.id.uuid()),
        member.id.name(),
        member.updated_at,
        &proto::MemberContacts {
            member: member.id.name(),
            display_name: member.profile.display_name.as_str().to_string(),
            contacts,
            version: member.version,
            occurred_at: Some(timestamp(member.updated_at)),
        },
    )
}

/// The member as every event carries it, contact e-mails left out; `version` lets
/// consumers ignore a snapshot older than the one they hold.
pub fn snapshot(member: &Member) -> proto::MemberSnapshot {
    let p = &member.profile;
    proto::MemberSnapshot {
        id: member.id.uuid().to_string(),
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
        state: member.state.to_proto_i32(),
        contacts: p
            .contacts
            .iter()
            .map(|c| crate::proto::contact_to_proto(c, false))
            .collect(),
        joined_at: member.joined_at.map(timestamp),
        version: member.version,
    }
}

fn event<M: prost::Message + prost::Name>(
    subject: &str,
    member: &Member,
    message: &M,
) -> OutgoingEvent {
    OutgoingEvent::new(subject, member.id.name(), member.updated_at, message)
}

/// [`APPLIED`], for a member just created.
pub fn applied(member: &Member) -> OutgoingEvent {
    event(
        APPLIED,
        member,
        &proto::MemberApplied {
            member: Some(snapshot(member)),
            occurred_at: Some(timestamp(member.updated_at)),
        },
    )
}

/// [`UPDATED`]: `changed_fields` names the profile fields whose value changed.
pub fn updated(member: &Member, changed_fields: Vec<String>) -> OutgoingEvent {
    event(
        UPDATED,
        member,
        &proto::MemberUpdated {
            member: Some(snapshot(member)),
            occurred_at: Some(timestamp(member.updated_at)),
            changed_fields,
        },
    )
}

/// The event of a lifecycle transition that `member` (as it is after it) went through.
pub fn transitioned(
    member: &Member,
    transition: Transition,
    reason: Option<&str>,
) -> OutgoingEvent {
    let snapshot = Some(snapshot(member));
    let occurred_at = Some(timestamp(member.updated_at));
    let reason = reason.unwrap_or_default().to_string();
    match transition {
        Transition::Approve => event(
            JOINED,
            member,
            &proto::MemberJoined {
                member: snapshot,
                occurred_at,
            },
        ),
        Transition::Suspend => event(
            SUSPENDED,
            member,
            &proto::MemberSuspended {
                member: snapshot,
                occurred_at,
                reason,
            },
        ),
        Transition::Reinstate => event(
            REINSTATED,
            member,
            &proto::MemberReinstated {
                member: snapshot,
                occurred_at,
            },
        ),
        Transition::Leave => event(
            LEFT,
            member,
            &proto::MemberLeft {
                member: snapshot,
                occurred_at,
                reason,
            },
        ),
    }
}
