//! Projects ⇄ `fabrique.projects.v1.Project`: the message out, and a request's
//! project parsed into a [`ProjectDraft`] (create) or a [`ProjectPatch`] (update mask).

use std::collections::BTreeSet;

use fabrique_api::projects as proto;
use fabrique_platform::auth::Caller;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};

use super::{opt_member, time};
use crate::domain::{
    Milestone, Participant, Project, ProjectDraft, ProjectPatch, SUMMARY_MAX, TITLE_MAX, Theme,
    bounded_text, member_name, name, parse,
};

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

/// A due date, as midnight UTC: the contract has timestamps only.
fn date_timestamp(date: chrono::NaiveDate) -> prost_types::Timestamp {
    timestamp(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

impl From<&Participant> for proto::Participant {
    fn from(p: &Participant) -> Self {
        proto::Participant {
            member: member_name(p.member),
            role: p.role.clone(),
        }
    }
}

impl From<&Milestone> for proto::Milestone {
    fn from(m: &Milestone) -> Self {
        proto::Milestone {
            title: m.title.clone(),
            due: m.due.map(date_timestamp),
            done: m.done,
        }
    }
}

impl From<&Project> for proto::Project {
    fn from(p: &Project) -> Self {
        proto::Project {
            name: p.name(),
            title: p.title.clone(),
            summary: p.summary.clone().unwrap_or_default(),
            themes: p.themes.iter().map(|t| t.to_proto_i32()).collect(),
            lead: member_name(p.lead),
            participants: p.participants.iter().map(Into::into).collect(),
            host_place: p
                .host_place
                .map(|id| name("places", id))
                .unwrap_or_default(),
            milestones: p.milestones.iter().map(Into::into).collect(),
            state: p.state.to_proto_i32(),
            create_time: Some(timestamp(p.created_at)),
            update_time: Some(timestamp(p.updated_at)),
            etag: fabrique_types::change::etag_of(p.version),
            origin_proposal: p.origin_proposal.clone().unwrap_or_default(),
        }
    }
}

/// The project for `caller`, or as the public (no token) reads it: without its etag,
/// as nothing can be changed without a token.
pub fn project_for(p: &Project, caller: Option<&Caller>) -> proto::Project {
    let message = proto::Project::from(p);
    match caller {
        Some(_) => message,
        None => proto::Project {
            etag: String::new(),
            ..message
        },
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

/// The fields a client sets: all of them on create, those of the mask on update.
const PROJECT_FIELDS: &[&str] = &[
    "title",
    "summary",
    "themes",
    "participants",
    "host_place",
    "milestones",
];

fn parse_themes(v: &mut Violations, field: &str, themes: &[i32]) -> Option<BTreeSet<Theme>> {
    let mut parsed = BTreeSet::new();
    let mut ok = true;
    for (i, t) in themes.iter().enumerate() {
        match v.check(&format!("{field}[{i}]"), Theme::from_proto(*t)) {
            Some(theme) => {
                parsed.insert(theme);
            }
            None => ok = false,
        }
    }
    ok.then_some(parsed)
}

fn parse_participants(
    v: &mut Violations,
    field: &str,
    participants: &[proto::Participant],
) -> Option<Vec<Participant>> {
    if participants.len() > 100 {
        v.add(field, "at most 100");
        return None;
    }
    let mut parsed = Vec::new();
    for (i, p) in participants.iter().enumerate() {
        let member = v.check(&format!("{field}[{i}].member"), parse("members", &p.member));
        let role = v.check(&format!("{field}[{i}].role"), bounded_text(&p.role, 1, 100));
        if let (Some(member), Some(role)) = (member, role) {
            parsed.push(Participant { member, role });
        }
    }
    (parsed.len() == participants.len()).then_some(parsed)
}

fn parse_milestones(
    v: &mut Violations,
    field: &str,
    milestones: &[proto::Milestone],
) -> Option<Vec<Milestone>> {
    if milestones.len() > 100 {
        v.add(field, "at most 100");
        return None;
    }
    let mut parsed = Vec::new();
    for (i, m) in milestones.iter().enumerate() {
        let title = v.check(
            &format!("{field}[{i}].title"),
            bounded_text(&m.title, 1, TITLE_MAX),
        );
        let due = time(v, &format!("{field}[{i}].due"), m.due.as_ref());
        if let (Some(title), Some(due)) = (title, due) {
            parsed.push(Milestone {
                title,
                due: due.map(|d| d.date_naive()),
                done: m.done,
            });
        }
    }
    (parsed.len() == milestones.len()).then_some(parsed)
}

/// The `fields` of `p`, each parsed into the patch or reported; output-only and unknown
/// fields are reported against the update mask.
fn parse_project_fields(p: &proto::Project, fields: &[&str], v: &mut Violations) -> ProjectPatch {
    let mut patch = ProjectPatch::default();
    for &field in fields {
        let path = format!("project.{field}");
        match field {
            "title" => patch.title = v.check(&path, bounded_text(&p.title, 1, TITLE_MAX)),
            "summary" => {
                patch.summary = v.check(
                    &path,
                    fabrique_types::text::optional_multiline(&p.summary, SUMMARY_MAX),
                )
            }
            "themes" => patch.themes = parse_themes(v, &path, &p.themes),
            "participants" => patch.participants = parse_participants(v, &path, &p.participants),
            "host_place" => {
                patch.host_place = v.check(&path, optional(&p.host_place, |x| parse("places", x)))
            }
            "milestones" => patch.milestones = parse_milestones(v, &path, &p.milestones),
            "name" | "lead" | "state" | "create_time" | "update_time" | "etag" => {
                v.add("update_mask", format!("{field} cannot be updated"))
            }
            other => v.add("update_mask", format!("unknown field {other:?}")),
        }
    }
    patch
}

/// A `CreateProject` request's project; output-only fields are ignored.
impl TryFrom<&proto::Project> for ProjectDraft {
    type Error = Error;

    fn try_from(p: &proto::Project) -> Result<Self, Error> {
        let mut v = Violations::new();
        let lead = v.check("project.lead", opt_member(&p.lead));
        let fields = parse_project_fields(p, PROJECT_FIELDS, &mut v);
        v.into_result()?;
        let (
            Some(lead),
            Some(title),
            Some(summary),
            Some(themes),
            Some(participants),
            Some(host_place),
            Some(milestones),
        ) = (
            lead,
            fields.title,
            fields.summary,
            fields.themes,
            fields.participants,
            fields.host_place,
            fields.milestones,
        )
        else {
            return Err(Error::internal(
                "project parsed without violations but incomplete",
            ));
        };
        Ok(ProjectDraft {
            lead,
            title,
            summary,
            themes,
            participants,
            host_place,
            milestones,
        })
    }
}

/// An `UpdateProject` request: the fields its mask names (`*`: every updatable one).
pub fn parse_project_patch(
    project: &proto::Project,
    mask: Option<&prost_types::FieldMask>,
) -> Result<ProjectPatch, Error> {
    let paths: Vec<&str> = match mask {
        Some(mask) if !mask.paths.is_empty() => mask.paths.iter().map(String::as_str).collect(),
        _ => {
            return Err(Error::invalid(
                "update_mask",
                format!(
                    "must list the fields to change, among {}",
                    PROJECT_FIELDS.join(", ")
                ),
            ));
        }
    };
    let paths = if paths == ["*"] {
        PROJECT_FIELDS.to_vec()
    } else {
        paths
    };
    let mut v = Violations::new();
    let patch = parse_project_fields(project, &paths, &mut v);
    v.into_result()?;
    Ok(patch)
}
