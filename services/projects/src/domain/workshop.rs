//! Peer workshops (Villes Pairs): a theme, the roles a team must mix, each lead's team,
//! the co-pilots who run it, its sessions and the restitutions of what was produced
//! there. What it decides: which required roles a team covers ([`team_coverage`]), who
//! is expected at a session ([`Workshop::expected`]), who may read a restitution before
//! it is published ([`Workshop::participants`]) and whom a restitution speaks for
//! ([`Workshop::producer`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Invalid, name};

/// The contact roles of the members service, as its replica stores them.
pub const CONTACT_ROLES: &[&str] = &[
    "elected_official",
    "procurement_officer",
    "transition_technician",
    "roads_technician",
    "company_representative",
    "other",
];

/// A Villes Pairs team: an elected official, a procurement officer, an ecological
/// transition technician, a roads technician and a company representative.
pub const VILLES_PAIRS_ROLES: &[&str] = &[
    "elected_official",
    "procurement_officer",
    "transition_technician",
    "roads_technician",
    "company_representative",
];

/// One of the [`CONTACT_ROLES`], in any case and with spaces around.
pub fn parse_role(value: &str) -> Result<String, Invalid> {
    let role = value.trim().to_ascii_lowercase();
    if CONTACT_ROLES.contains(&role.as_str()) {
        Ok(role)
    } else {
        Err(Invalid::new(format!(
            "unknown role {value:?}; roles are {}",
            CONTACT_ROLES.join(", ")
        )))
    }
}

/// A peer workshop and its teams.
#[derive(Debug, Clone, PartialEq)]
pub struct Workshop {
    /// Named `workshops/{id}` in the contract.
    pub id: Uuid,
    /// The question the peers work on together.
    pub theme: String,
    /// The season of the programme it belongs to ("saison 3").
    pub season: Option<String>,
    /// Contact roles every team should cover.
    pub required_roles: Vec<String>,
    /// Team lead → members of the team (the lead included).
    pub teams: BTreeMap<Uuid, Vec<Uuid>>,
    /// When it was set up.
    pub created_at: DateTime<Utc>,
    /// The members who run it.
    pub co_pilots: Vec<Uuid>,
    /// Its sessions, earliest first.
    pub sessions: Vec<Session>,
}

impl Workshop {
    /// Its resource name, `workshops/{id}`.
    pub fn name(&self) -> String {
        name("workshops", self.id)
    }

    /// Whether `member` runs it.
    pub fn is_co_pilot(&self, member: Uuid) -> bool {
        self.co_pilots.contains(&member)
    }

    /// The members of its teams, leads included.
    pub fn team_members(&self) -> BTreeSet<Uuid> {
        self.teams.values().flatten().copied().collect()
    }

    /// Who takes part: its co-pilots and the members of its teams.
    pub fn participants(&self) -> BTreeSet<Uuid> {
        let mut all = self.team_members();
        all.extend(self.co_pilots.iter().copied());
        all
    }

    /// The lead of the first team `member` is part of (its own, if it leads one).
    pub fn team_of(&self, member: Uuid) -> Option<Uuid> {
        if self.teams.contains_key(&member) {
            return Some(member);
        }
        self.teams
            .iter()
            .find(|(_, members)| members.contains(&member))
            .map(|(lead, _)| *lead)
    }

    /// The session of that id, if it is one of this workshop's.
    pub fn session(&self, id: Uuid) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The members `expected` names among the teams as they stand, in id order:
    /// `roles` gives each member's contact roles (for a peer group). `None` when the
    /// team asked for is not one of this workshop's.
    pub fn expected(
        &self,
        expected: &Expected,
        roles: &BTreeMap<Uuid, Vec<String>>,
    ) -> Option<Vec<Uuid>> {
        let members: BTreeSet<Uuid> = match expected {
            Expected::Team(lead) => self.teams.get(lead)?.iter().copied().collect(),
            Expected::PeerGroup(role) => self
                .team_members()
                .into_iter()
                .filter(|m| roles.get(m).is_some_and(|r| r.contains(role)))
                .collect(),
            Expected::AllTeams => self.team_members(),
        };
        Some(members.into_iter().collect())
    }

    /// Whom a restitution of `session` by `author` speaks for: the team or the peer group
    /// the session expected; for a session of every team, the author's team if it has
    /// one (a co-pilot's synthesis speaks for nobody in particular).
    pub fn producer(&self, session: &Session, author: Uuid) -> (Option<Uuid>, Option<String>) {
        match &session.expected {
            Expected::Team(lead) => (Some(*lead), None),
            Expected::PeerGroup(role) => (None, Some(role.clone())),
            Expected::AllTeams => (self.team_of(author), None),
        }
    }
}

/// Where a session is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Venue {
    /// A place of the registry, listed and open when it was scheduled.
    Place(Uuid),
    /// An online meeting's address.
    Online(String),
}

/// Who a session is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// One whole team, named by its lead.
    Team(Uuid),
    /// The people holding one contact role across the teams: the elected officials
    /// together, the technicians together.
    PeerGroup(String),
    /// Every team of the workshop.
    AllTeams,
}

/// A working session of a workshop.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Named `workshops/{workshop}/sessions/{id}`.
    pub id: Uuid,
    /// Its workshop's id.
    pub workshop: Uuid,
    /// What it is about.
    pub title: String,
    /// When it begins.
    pub start: DateTime<Utc>,
    /// When it ends, after `start`.
    pub end: DateTime<Utc>,
    /// Where it is held.
    pub venue: Venue,
    /// Who it is for.
    pub expected: Expected,
    /// The members expected, as the teams stood when it was scheduled.
    pub expected_members: Vec<Uuid>,
    /// The members recorded present.
    pub attendees: Vec<Uuid>,
    /// Set when a co-pilot cancelled it.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
}

impl Session {
    /// Its resource name, `workshops/{workshop}/sessions/{id}`.
    pub fn name(&self) -> String {
        session_name(self.workshop, self.id)
    }

    /// Whether `member` is expected: named when it was scheduled, or, for a session of
    /// every team, in a team of `w` now (a team formed since is welcome).
    pub fn expects(&self, w: &Workshop, member: Uuid) -> bool {
        self.expected_members.contains(&member)
            || (self.expected == Expected::AllTeams && w.team_of(member).is_some())
    }
}

/// `workshops/{workshop}/sessions/{id}`.
pub fn session_name(workshop: Uuid, id: Uuid) -> String {
    format!("{}/sessions/{id}", name("workshops", workshop))
}

/// `workshops/{workshop}/restitutions/{id}`.
pub fn restitution_name(workshop: Uuid, id: Uuid) -> String {
    format!("{}/restitutions/{id}", name("workshops", workshop))
}

/// `workshops/{w}/{collection}/{id}` → (w, id), for sessions and restitutions.
pub fn parse_workshop_child(collection: &str, value: &str) -> Result<(Uuid, Uuid), Invalid> {
    let invalid = || {
        Invalid::new(format!(
            "must be workshops/{{id}}/{collection}/{{id}} with UUID ids"
        ))
    };
    let rest = value.strip_prefix("workshops/").ok_or_else(invalid)?;
    let (workshop, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let id = rest
        .strip_prefix(collection)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(invalid)?;
    Ok((
        Uuid::parse_str(workshop).map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}

/// What a new session is made of.
#[derive(Debug, Clone)]
pub struct SessionDraft {
    /// What it is about.
    pub title: String,
    /// When it begins.
    pub start: DateTime<Utc>,
    /// When it ends, after `start`.
    pub end: DateTime<Utc>,
    /// Where it is held.
    pub venue: Venue,
    /// Who it is for.
    pub expected: Expected,
}

/// What a team or a peer group produced at a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Restitution {
    /// Named `workshops/{workshop}/restitutions/{id}`.
    pub id: Uuid,
    /// Its workshop's id.
    pub workshop: Uuid,
    /// The session it came out of.
    pub session: Uuid,
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
    /// Addresses of documents.
    pub links: Vec<String>,
    /// The team (its lead) it speaks for, if any.
    pub team: Option<Uuid>,
    /// The peer group (its role) it speaks for, if any.
    pub peer_group: Option<String>,
    /// The member that wrote it.
    pub author: Uuid,
    /// When a co-pilot made it public.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl Restitution {
    /// Its resource name, `workshops/{workshop}/restitutions/{id}`.
    pub fn name(&self) -> String {
        restitution_name(self.workshop, self.id)
    }
}

/// What a new restitution is made of.
#[derive(Debug, Clone)]
pub struct RestitutionDraft {
    /// The session it came out of.
    pub session: Uuid,
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
    /// Addresses of documents.
    pub links: Vec<String>,
}

/// What a new workshop is made of.
#[derive(Debug, Clone)]
pub struct WorkshopDraft {
    /// The question the peers will work on together.
    pub theme: String,
    /// The season of the programme it belongs to, if any.
    pub season: Option<String>,
    /// Never empty: a request naming no role asks for [`VILLES_PAIRS_ROLES`].
    pub required_roles: Vec<String>,
    /// The members who will run it, possibly none yet.
    pub co_pilots: Vec<Uuid>,
}

/// What `ValidateTeam` answers.
#[derive(Debug, Clone)]
pub struct TeamReport {
    /// Each required role the team covers, with the members holding it.
    pub covered: Vec<(String, Vec<Uuid>)>,
    /// The required roles no member of the team holds.
    pub missing: Vec<String>,
}

/// Which required roles the team's people cover (and by which members), and which miss.
pub fn team_coverage(
    required: &[String],
    people: &[(Uuid, Vec<String>)],
) -> (Vec<(String, Vec<Uuid>)>, Vec<String>) {
    let mut covered = Vec::new();
    let mut missing = Vec::new();
    for role in required {
        let holders: Vec<Uuid> = people
            .iter()
            .filter(|(_, roles)| roles.iter().any(|r| r == role))
            .map(|(member, _)| *member)
            .collect();
        if holders.is_empty() {
            missing.push(role.clone());
        } else {
            covered.push((role.clone(), holders));
        }
    }
    (covered, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_names_the_missing_roles() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let required: Vec<String> = VILLES_PAIRS_ROLES.iter().map(|r| r.to_string()).collect();
        let people = vec![
            (
                a,
                vec![
                    "elected_official".to_string(),
                    "roads_technician".to_string(),
                ],
            ),
            (b, vec!["company_representative".to_string()]),
        ];
        let (covered, missing) = team_coverage(&required, &people);
        assert_eq!(missing, ["procurement_officer", "transition_technician"]);
        assert_eq!(covered.len(), 3);
    }

    fn season(teams: &[(Uuid, &[Uuid])]) -> Workshop {
        Workshop {
            id: Uuid::now_v7(),
            theme: "Quelle route pour demain ?".into(),
            season: Some("Saison 3".into()),
            required_roles: Vec::new(),
            teams: teams.iter().map(|(lead, m)| (*lead, m.to_vec())).collect(),
            created_at: Utc::now(),
            co_pilots: vec![Uuid::now_v7()],
            sessions: Vec::new(),
        }
    }

    fn session_for(w: &Workshop, expected: Expected, members: Vec<Uuid>) -> Session {
        Session {
            id: Uuid::now_v7(),
            workshop: w.id,
            title: "Séance".into(),
            start: Utc::now(),
            end: Utc::now(),
            venue: Venue::Online("https://visio.example.org".into()),
            expected,
            expected_members: members,
            attendees: Vec::new(),
            cancelled_at: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_peer_group_is_one_role_across_the_teams() {
        let (dep, company, thiers, stranger) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let w = season(&[(dep, &[dep, company]), (thiers, &[thiers])]);
        let roles: BTreeMap<Uuid, Vec<String>> = [
            (dep, vec!["roads_technician".to_string()]),
            (company, vec!["company_representative".to_string()]),
            (thiers, vec!["roads_technician".to_string()]),
        ]
        .into_iter()
        .collect();
        let mut roads = vec![dep, thiers];
        roads.sort();
        let group = Expected::PeerGroup("roads_technician".into());
        assert_eq!(w.expected(&group, &roles), Some(roads));
        assert_eq!(
            w.expected(&Expected::Team(dep), &roles),
            Some(vec![dep, company])
        );
        assert_eq!(w.expected(&Expected::Team(stranger), &roles), None);
        assert_eq!(
            w.expected(&Expected::AllTeams, &roles).map(|m| m.len()),
            Some(3)
        );
    }

    #[test]
    fn a_restitution_speaks_for_the_team_or_group_the_session_expected() {
        let (dep, company, thiers) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let w = season(&[(dep, &[dep, company]), (thiers, &[thiers])]);
        // Scheduled before Thiers formed its team.
        let plenary = session_for(&w, Expected::AllTeams, vec![dep, company]);
        assert_eq!(w.producer(&plenary, company), (Some(dep), None));
        assert_eq!(w.producer(&plenary, w.co_pilots[0]), (None, None));
        let group = Expected::PeerGroup("roads_technician".into());
        let peers = session_for(&w, group, vec![dep, thiers]);
        assert_eq!(
            w.producer(&peers, thiers),
            (None, Some("roads_technician".to_string()))
        );
        assert!(peers.expects(&w, thiers) && !peers.expects(&w, company));
        // A team formed after a plenary was scheduled is expected there too.
        assert!(plenary.expects(&w, thiers));
        assert!(w.participants().contains(&w.co_pilots[0]));
    }
}
