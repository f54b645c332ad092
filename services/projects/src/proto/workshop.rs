//! Peer workshops ⇄ `fabrique.projects.v1.Workshop`: the message out with its teams,
//! co-pilots and sessions (an online session's address for its participants only), a
//! team's coverage of the required roles, restitutions, and a request's workshop, team,
//! co-pilots, session or restitution parsed.

use fabrique_api::projects as proto;
use fabrique_platform::auth::Caller;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use fabrique_types::web::Website;
use uuid::Uuid;

use super::time;
use crate::domain::{
    Expected, Restitution, RestitutionDraft, Session, SessionDraft, TeamReport, VILLES_PAIRS_ROLES,
    Venue, Workshop, WorkshopDraft, bounded_text, member_name, name, parse, parse_role,
    parse_workshop_child, session_name,
};

/// Members a lead may name besides itself.
const MAX_TEAM_MEMBERS: usize = 10;
/// Members who may co-pilot one workshop.
const MAX_CO_PILOTS: usize = 5;
/// Links a restitution may give.
const MAX_LINKS: usize = 10;
/// The longest session: a seminar of three days.
const MAX_SESSION_HOURS: i64 = 72;

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
            co_pilots: w.co_pilots.iter().map(|m| member_name(*m)).collect(),
            sessions: w
                .sessions
                .iter()
                .map(proto::WorkshopSession::from)
                .collect(),
        }
    }
}

impl From<&Session> for proto::WorkshopSession {
    fn from(s: &Session) -> Self {
        let members = |ids: &[Uuid]| ids.iter().map(|m| member_name(*m)).collect();
        let (place, online_url) = match &s.venue {
            Venue::Place(place) => (name("places", *place), String::new()),
            Venue::Online(url) => (String::new(), url.clone()),
        };
        let (team, peer_group) = match &s.expected {
            Expected::Team(lead) => (member_name(*lead), String::new()),
            Expected::PeerGroup(role) => (String::new(), role.clone()),
            Expected::AllTeams => (String::new(), String::new()),
        };
        proto::WorkshopSession {
            name: s.name(),
            title: s.title.clone(),
            start_time: Some(timestamp(s.start)),
            end_time: Some(timestamp(s.end)),
            place,
            online: !online_url.is_empty(),
            online_url,
            team,
            peer_group,
            expected_members: members(&s.expected_members),
            attendees: members(&s.attendees),
            cancelled: s.cancelled_at.is_some(),
            create_time: Some(timestamp(s.created_at)),
        }
    }
}

/// A workshop as `caller` reads it: an online session's address only for its
/// participants (co-pilots, team members) and admins, so that it is not an open door.
pub fn workshop_for(w: &Workshop, caller: Option<&Caller>) -> proto::Workshop {
    let mut message = proto::Workshop::from(w);
    let participant = caller.is_some_and(|c| {
        c.is_admin() || c.member_id.is_some_and(|m| w.participants().contains(&m))
    });
    if !participant {
        for session in &mut message.sessions {
            session.online_url.clear();
        }
    }
    message
}

impl From<&Restitution> for proto::Restitution {
    fn from(r: &Restitution) -> Self {
        proto::Restitution {
            name: r.name(),
            session: session_name(r.workshop, r.session),
            title: r.title.clone(),
            text: r.text.clone(),
            links: r.links.clone(),
            team: r.team.map(member_name).unwrap_or_default(),
            peer_group: r.peer_group.clone().unwrap_or_default(),
            author: member_name(r.author),
            published: r.published_at.is_some(),
            create_time: Some(timestamp(r.created_at)),
            publish_time: r.published_at.map(timestamp),
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
        let co_pilots = v.check(
            "workshop.co_pilots",
            members_list("workshop.co_pilots", &w.co_pilots, 0),
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
        let (Some(theme), Some(season), Some(co_pilots)) = (theme, season, co_pilots) else {
            return Err(Error::internal(
                "workshop parsed without violations but incomplete",
            ));
        };
        Ok(WorkshopDraft {
            theme,
            season,
            required_roles: roles,
            co_pilots,
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

/// A list of co-pilots: `members/{id}`s, at least `min` and at most [`MAX_CO_PILOTS`],
/// each once (a name given twice counts once).
fn members_list(
    field: &str,
    members: &[String],
    min: usize,
) -> Result<Vec<Uuid>, fabrique_types::Invalid> {
    if members.len() > MAX_CO_PILOTS || members.len() < min {
        return Err(fabrique_types::Invalid::new(format!(
            "{field} takes {min} to {MAX_CO_PILOTS} members"
        )));
    }
    let mut ids = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let id =
            parse("members", m).map_err(|e| fabrique_types::Invalid::new(format!("[{i}] {e}")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A `SetWorkshopCoPilots` request's co-pilots.
pub fn parse_co_pilots(members: &[String]) -> Result<Vec<Uuid>, Error> {
    members_list("co_pilots", members, 1).map_err(|e| Error::invalid("co_pilots", e.to_string()))
}

/// A `ScheduleWorkshopSession` request's session: a title, a start before its end (at
/// most three days long), one place or one online address, a team or a peer group (or
/// neither: every team), never both.
impl TryFrom<&proto::WorkshopSession> for SessionDraft {
    type Error = Error;

    fn try_from(s: &proto::WorkshopSession) -> Result<Self, Error> {
        let mut v = Violations::new();
        let title = v.check("session.title", bounded_text(&s.title, 1, 200));
        let start = required_time(&mut v, "session.start_time", s.start_time.as_ref());
        let end = required_time(&mut v, "session.end_time", s.end_time.as_ref());
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                v.add("session.end_time", "must be after start_time");
            } else if end - start > chrono::Duration::hours(MAX_SESSION_HOURS) {
                v.add("session.end_time", "a session lasts at most 3 days");
            }
        }
        let venue = venue_of(&mut v, s);
        let expected = expected_of(&mut v, s);
        v.into_result()?;
        match (title, start, end, venue, expected) {
            (Some(title), Some(start), Some(end), Some(venue), Some(expected)) => {
                Ok(SessionDraft {
                    title,
                    start,
                    end,
                    venue,
                    expected,
                })
            }
            _ => Err(Error::internal(
                "session parsed without violations but incomplete",
            )),
        }
    }
}

/// Where a requested session is held: one place or one online address.
fn venue_of(v: &mut Violations, s: &proto::WorkshopSession) -> Option<Venue> {
    match (s.place.trim(), s.online_url.trim()) {
        ("", "") => {
            v.add("session.place", "a place or an online_url is required");
            None
        }
        (place, "") => v
            .check("session.place", parse("places", place))
            .map(Venue::Place),
        ("", url) => v
            .check("session.online_url", Website::parse(url))
            .map(|u| Venue::Online(u.as_str().to_string())),
        _ => {
            v.add(
                "session.online_url",
                "give a place or an online_url, not both",
            );
            None
        }
    }
}

/// Who a requested session is for: a team, a peer group, or (neither) every team.
fn expected_of(v: &mut Violations, s: &proto::WorkshopSession) -> Option<Expected> {
    match (s.team.trim(), s.peer_group.trim()) {
        ("", "") => Some(Expected::AllTeams),
        (team, "") => v
            .check("session.team", parse("members", team))
            .map(Expected::Team),
        ("", role) => v
            .check("session.peer_group", parse_role(role))
            .map(Expected::PeerGroup),
        _ => {
            v.add(
                "session.peer_group",
                "give a team or a peer_group, not both",
            );
            None
        }
    }
}

/// A time the request must give.
fn required_time(
    v: &mut Violations,
    field: &str,
    t: Option<&prost_types::Timestamp>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match time(v, field, t) {
        Some(Some(at)) => Some(at),
        Some(None) => {
            v.add(field, "is required");
            None
        }
        None => None,
    }
}

/// A `CreateRestitution` request's restitution for the workshop `workshop`: its session
/// one of the workshop's, a title, a text, at most [`MAX_LINKS`] web addresses.
pub fn parse_restitution(
    workshop: Uuid,
    r: &proto::Restitution,
) -> Result<RestitutionDraft, Error> {
    let mut v = Violations::new();
    let session = match v.check(
        "restitution.session",
        parse_workshop_child("sessions", &r.session),
    ) {
        Some((w, _)) if w != workshop => {
            v.add(
                "restitution.session",
                format!("is not a session of {}", name("workshops", workshop)),
            );
            None
        }
        parsed => parsed.map(|(_, id)| id),
    };
    let title = v.check("restitution.title", bounded_text(&r.title, 1, 200));
    // Paragraphs: newlines are the text's own.
    let text = match v.check(
        "restitution.text",
        fabrique_types::text::optional_multiline(&r.text, 20_000),
    ) {
        Some(Some(text)) => Some(text),
        Some(None) => {
            v.add("restitution.text", "must not be empty");
            None
        }
        None => None,
    };
    if r.links.len() > MAX_LINKS {
        v.add("restitution.links", format!("at most {MAX_LINKS}"));
    }
    let links: Vec<String> = r
        .links
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            v.check(&format!("restitution.links[{i}]"), Website::parse(l))
                .map(|u| u.as_str().to_string())
        })
        .collect();
    v.into_result()?;
    match (session, title, text) {
        (Some(session), Some(title), Some(text)) => Ok(RestitutionDraft {
            session,
            title,
            text,
            links,
        }),
        _ => Err(Error::internal(
            "restitution parsed without violations but incomplete",
        )),
    }
}
