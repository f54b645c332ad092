//! Groupings ⇄ `fabrique.projects.v1.Grouping`: the message out with its applications,
//! and a `CreateGrouping` request's grouping parsed into a [`GroupingDraft`].

use fabrique_api::projects as proto;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use crate::domain::{
    Application, Grouping, GroupingDraft, Installation, bounded_text, member_name, parse,
};

/// The grouping and its applications (as the caller may read them).
pub fn grouping_for(g: &Grouping, applications: &[Application]) -> proto::Grouping {
    proto::Grouping {
        name: g.name(),
        filer: member_name(g.filer),
        purpose: g.purpose.clone(),
        members: g.members.iter().copied().map(member_name).collect(),
        units_per_member: i32::try_from(g.units_per_member).unwrap_or(i32::MAX),
        applications: applications.iter().map(proto::Application::from).collect(),
        create_time: Some(timestamp(g.created_at)),
        // Input only: each application carries its own.
        installations: Vec::new(),
    }
}

/// A `CreateGrouping` request's grouping: its purpose, units, 2 to 100 distinct
/// members, each bad one named by its index, and none or one installation per member.
pub fn parse_grouping(g: Option<&proto::Grouping>) -> Result<GroupingDraft, Error> {
    let Some(g) = g else {
        return Err(Error::invalid("grouping", "is required"));
    };
    let mut v = Violations::new();
    let purpose = v.check("grouping.purpose", bounded_text(&g.purpose, 1, 500));
    if g.units_per_member < 1 {
        v.add("grouping.units_per_member", "must be at least 1");
    }
    if !(2..=100).contains(&g.members.len()) {
        v.add("grouping.members", "must list 2 to 100 members");
    }
    let mut members = Vec::new();
    for (i, member) in g.members.iter().enumerate() {
        let field = format!("grouping.members[{i}]");
        match v.check(&field, parse("members", member)) {
            Some(id) if members.contains(&id) => v.add(field, "is listed twice"),
            Some(id) => members.push(id),
            None => {}
        }
    }
    if !g.installations.is_empty() && g.installations.len() != g.members.len() {
        v.add(
            "grouping.installations",
            "give one installation per member, in the order of members, or none",
        );
    }
    let installations: Vec<Option<Installation>> = g
        .installations
        .iter()
        .enumerate()
        .map(|(i, installation)| {
            let at = format!("grouping.installations[{i}]");
            crate::proto::programme::parse_installation(&mut v, &at, Some(installation)).flatten()
        })
        .collect();
    v.into_result()?;
    let purpose = purpose.ok_or_else(|| Error::internal("grouping parsed but incomplete"))?;
    Ok(GroupingDraft {
        purpose,
        units_per_member: g.units_per_member as u32,
        members,
        installations: installations.into_iter().flatten().collect(),
    })
}
