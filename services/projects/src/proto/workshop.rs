//! Peer workshops ⇄ `fabrique.projects.v1.Workshop`: the message out with its teams,
//! a team's coverage of the required roles, and a request's workshop or team parsed.

use fabrique_api::projects as proto;
use fabrique_platform::auth::Caller;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use crate::domain::{
    TeamReport, VILLES_PAIRS_ROLES, Workshop, WorkshopDraft, bounded_text, member_name, parse,
    parse_role,
};

/// Members a lead may name besides itself.
const MAX_TEAM_MEMBERS: usize = 10;

// ---------------------------------------------------------------------------
// Messages out
// ---------------------------------------------------------------------------

impl From<&Workshop> for proto::Workshop {
    fn from(w: &Workshop) -> Self {
        proto::Workshop {
            name: w.name(),
            theme: w.theme.clone(),
            season: w.season.clone().unwrap_or_default(),
            required_roles: w.required_roles.clone(),
            teams: w
                .teams
                .iter()
                .map(|(lead, members)| proto::Team {
                    lead: member_name(*lead),
                    members: members.iter().map(|m| member_name(*m)).collect(),
                })
                .collect(),
            create_time: Some(timestamp(w.created_at)),
        }
    }
}

impl From<TeamReport> for proto::ValidateTeamResponse {
    fn from(report: TeamReport) -> Self {
        proto::ValidateTeamResponse {
            complete: report.missing.is_empty(),
            missing_roles: report.missing,
            covered: report
                .covered
                .into_iter()
                .map(|(role, members)| proto::RoleCoverage {
                    role,
                    members: members.into_iter().map(member_name).collect(),
                })
                .collect(),
        }
    }
}

/// A team's report for `caller`, or as the public (no token) reads it: whether the team
/// is complete and which roles it lacks, not which members' people hold the others (the
/// public directory shows no contact people).
pub fn team_report_for(report: TeamReport, caller: Option<&Caller>) -> proto::ValidateTeamResponse {
    let message = proto::ValidateTeamResponse::from(report);
    match caller {
        Some(_) => message,
        None => proto::ValidateTeamResponse {
            covered: Vec::new(),
            ..message
        },
    }
}

// ---------------------------------------------------------------------------
// Messages in
// ---------------------------------------------------------------------------

/// A `CreateWorkshop` request's workshop: roles named twice count once, and none named
/// asks for a Villes Pairs team.
impl TryFrom<&proto::Workshop> for WorkshopDraft {
    type Error = Error;

    fn try_from(w: &proto::Workshop) -> Result<Self, Error> {
        let mut v = Violations::new();
        let theme = v.check("workshop.theme", bounded_text(&w.theme, 1, 300));
        let season = v.check(
            "workshop.season",
            fabrique_types::optional_text(&w.season, 100),
        );
        let mut roles: Vec<String> = Vec::new();
        for (i, role) in w.required_roles.iter().enumerate() {
            if let Some(role) = v.check(&format!("workshop.required_roles[{i}]"), parse_role(role))
                && !roles.contains(&role)
            {
                roles.push(role);
            }
        }
        v.into_result()?;
        if roles.is_empty() {
            roles = VILLES_PAIRS_ROLES.iter().map(|r| r.to_string()).collect();
        }
        let (Some(theme), Some(season)) = (theme, season) else {
            return Err(Error::internal(
                "workshop parsed without violations but incomplete",
            ));
        };
        Ok(WorkshopDraft {
            theme,
            season,
            required_roles: roles,
        })
    }
}

/// A `SetWorkshopTeam` request's members (the caller, its lead, is added by the use
/// case).
pub fn parse_team(members: &[String]) -> Result<Vec<Uuid>, Error> {
    if members.len() > MAX_TEAM_MEMBERS {
        return Err(Error::invalid(
            "members",
            format!("at most {MAX_TEAM_MEMBERS}"),
        ));
    }
    let mut v = Violations::new();
    let members: Vec<Uuid> = members
        .iter()
        .enumerate()
        .filter_map(|(i, m)| v.check(&format!("members[{i}]"), parse("members", m)))
        .collect();
    v.into_result()?;
    Ok(members)
}
