//! Peer workshops (Villes Pairs): a theme, the roles a team must mix, and each lead's
//! team. A workshop has no lifecycle; what it decides is which required roles a team
//! covers ([`team_coverage`]), from the contact roles the members service knows.

use std::collections::BTreeMap;

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
}

impl Workshop {
    /// Its resource name, `workshops/{id}`.
    pub fn name(&self) -> String {
        name("workshops", self.id)
    }
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
}
