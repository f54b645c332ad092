//! Projects: what allies do together, who takes part and where, and their lifecycle —
//! PROPOSED → ACTIVE → COMPLETED, or ABANDONED from either — decided by
//! [`Project::next`] alone.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::name;
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// What a project is about; a project may have several.
    Theme {
        /// Energy saving and renewable energy.
        Energy => "energy",
        /// How people and goods get around.
        Mobility => "mobility",
        /// Reuse, repair and recycling.
        CircularEconomy => "circular_economy",
        /// Building, renovating and living together.
        Housing => "housing",
        /// Growing, cooking and sharing food.
        Food => "food",
        /// Protecting and restoring living things.
        Biodiversity => "biodiversity",
        /// Citizens taking part in decisions.
        Participation => "participation",
        /// Public buyers purchasing with the transition in mind.
        PublicProcurement => "public_procurement",
        /// None of the above.
        Other => "other",
    }
);

fabrique_types::string_enum!(
    /// Where a project stands in its lifecycle.
    ProjectState {
        /// Put forward, not started yet.
        Proposed => "proposed",
        /// Under way.
        Active => "active",
        /// Done: final.
        Completed => "completed",
        /// Given up, started or not: final.
        Abandoned => "abandoned",
    }
);

impl ProjectState {
    /// Whether the lifecycle allows `self` → `next`: the table [`Project::next`] reads.
    /// COMPLETED and ABANDONED are final, and a project cannot complete before it starts.
    pub fn can_become(&self, next: ProjectState) -> bool {
        use ProjectState::*;
        matches!(
            (self, next),
            (Proposed, Active) | (Proposed, Abandoned) | (Active, Completed) | (Active, Abandoned)
        )
    }
}

/// A project's title is at most this many characters.
pub const TITLE_MAX: usize = 200;
/// Its summary, at most this many.
pub const SUMMARY_MAX: usize = 5000;

/// A member taking part in a project besides its lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// The member's id (members service).
    pub member: Uuid,
    /// Free text (what it brings), not one of the contact roles.
    pub role: String,
}

/// A step of a project, with the day it is due, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// What the step is, in words.
    pub title: String,
    /// A day, not a time: the contract carries it as midnight UTC.
    pub due: Option<NaiveDate>,
    /// Whether the lead marked it reached.
    pub done: bool,
}

/// A project of the alliance.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// Named `projects/{id}` in the contract and the events.
    pub id: Uuid,
    /// What members see of it in lists.
    pub title: String,
    /// What it is about, in free text; `None` when blank.
    pub summary: Option<String>,
    /// What it is about, for filters; any number.
    pub themes: BTreeSet<Theme>,
    /// The member that leads it: it (or an admin) changes the project.
    pub lead: Uuid,
    /// Who takes part besides the lead, and what each brings.
    pub participants: Vec<Participant>,
    /// A place of the registry service hosting it.
    pub host_place: Option<Uuid>,
    /// Its steps, in the order the lead gives them.
    pub milestones: Vec<Milestone>,
    /// Where it stands; changed only by [`Project::next`].
    pub state: ProjectState,
    /// The participation proposal it was made from, `processes/{p}/proposals/{id}`.
    pub origin_proposal: Option<String>,
    /// The token subject that created it (a replayed create must come from it).
    pub created_by: String,
    /// When it was proposed.
    pub created_at: DateTime<Utc>,
    /// When its last version was made.
    pub updated_at: DateTime<Utc>,
    /// Raised by every change; the etag clients send back.
    pub version: i64,
}

impl Project {
    /// The project an organiser takes on from a citizens' proposal it accepted
    /// (`origin`, `processes/{p}/proposals/{id}`): PROPOSED, led by the organiser, about
    /// participation, its summary the proposal's text then the organiser's answer.
    pub fn from_proposal(
        origin: String,
        title: &str,
        body: &str,
        answer: &str,
        lead: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        let mut summary = format!(
            "{}\n\nRéponse de l'organisateur : {}",
            body.trim(),
            answer.trim()
        );
        if let Some((cut, _)) = summary.char_indices().nth(SUMMARY_MAX) {
            summary.truncate(cut);
        }
        let title: String = title.trim().chars().take(TITLE_MAX).collect();
        let draft = ProjectDraft {
            lead: Some(lead),
            title,
            summary: Some(summary),
            themes: BTreeSet::from([Theme::Participation]),
            participants: Vec::new(),
            host_place: None,
            milestones: Vec::new(),
        };
        let mut project = Project::propose(draft, lead, "fabrique.participation".into(), now);
        project.origin_proposal = Some(origin);
        project
    }

    /// Its resource name, `projects/{id}`.
    pub fn name(&self) -> String {
        name("projects", self.id)
    }

    /// A new project made of `draft`, PROPOSED, led by `lead` (the draft's lead once the
    /// use case has settled who it is).
    pub fn propose(
        draft: ProjectDraft,
        lead: Uuid,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Self {
        Project {
            id: Uuid::now_v7(),
            title: draft.title,
            summary: draft.summary,
            themes: draft.themes,
            lead,
            participants: draft.participants,
            host_place: draft.host_place,
            milestones: draft.milestones,
            state: ProjectState::Proposed,
            origin_proposal: None,
            created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// The project moved to `to` at `now`, or why its state does not allow it: the one
    /// place a project's lifecycle is decided. A change of state is named by the state it
    /// leads to, as `ChangeProjectState` asks for one.
    pub fn next(&self, to: ProjectState, now: DateTime<Utc>) -> Result<Project, Refusal> {
        if !self.state.can_become(to) {
            return Err(Refusal::ProjectState {
                project: self.name(),
                state: self.state.as_str(),
                to: to.as_str(),
            });
        }
        let mut next = self.clone();
        next.state = to;
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }

    /// The project with `patch` applied at `now`, and the fields that changed (for the
    /// event); `None` when nothing changes, so that an idle update keeps its version.
    pub fn patched(
        &self,
        patch: ProjectPatch,
        now: DateTime<Utc>,
    ) -> Option<(Project, Vec<String>)> {
        use fabrique_types::change::apply as set;
        let mut next = self.clone();
        let mut changed = Vec::new();
        set(&mut next.title, patch.title, "title", &mut changed);
        set(&mut next.summary, patch.summary, "summary", &mut changed);
        set(&mut next.themes, patch.themes, "themes", &mut changed);
        set(
            &mut next.participants,
            patch.participants,
            "participants",
            &mut changed,
        );
        set(
            &mut next.host_place,
            patch.host_place,
            "host_place",
            &mut changed,
        );
        set(
            &mut next.milestones,
            patch.milestones,
            "milestones",
            &mut changed,
        );
        if changed.is_empty() {
            return None;
        }
        next.version += 1;
        next.updated_at = now;
        Some((next, changed))
    }
}

/// What a new project is made of.
#[derive(Debug, Clone)]
pub struct ProjectDraft {
    /// `None`: the caller's own member.
    pub lead: Option<Uuid>,
    /// 1 to 200 characters.
    pub title: String,
    /// At most 5,000 characters; `None` when blank.
    pub summary: Option<String>,
    /// What it is about.
    pub themes: BTreeSet<Theme>,
    /// Who takes part besides the lead; at most 100.
    pub participants: Vec<Participant>,
    /// A registry place hosting it; must be known and not closed.
    pub host_place: Option<Uuid>,
    /// Its steps; at most 100.
    pub milestones: Vec<Milestone>,
}

/// The fields an update changes (those named in its update mask): `None` leaves a field
/// as it is; for an optional field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    /// 1 to 200 characters.
    pub title: Option<String>,
    /// `Some(None)` clears it.
    pub summary: Option<Option<String>>,
    /// Replaces the whole set.
    pub themes: Option<BTreeSet<Theme>>,
    /// Replaces the whole list.
    pub participants: Option<Vec<Participant>>,
    /// A new host, known and not closed; `Some(None)` leaves it unhosted.
    pub host_place: Option<Option<Uuid>>,
    /// Replaces the whole list.
    pub milestones: Option<Vec<Milestone>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(state: ProjectState) -> Project {
        let draft = ProjectDraft {
            lead: None,
            title: "Centrale villageoise".into(),
            summary: None,
            themes: BTreeSet::from([Theme::Energy]),
            participants: Vec::new(),
            host_place: None,
            milestones: Vec::new(),
        };
        let mut project = Project::propose(draft, Uuid::now_v7(), "x".into(), Utc::now());
        project.state = state;
        project
    }

    #[test]
    fn project_transitions() {
        use ProjectState::*;
        assert!(Proposed.can_become(Active));
        assert!(Active.can_become(Completed));
        assert!(!Completed.can_become(Active));
        assert!(!Proposed.can_become(Completed));
    }

    #[test]
    fn one_function_decides_a_project_s_lifecycle() {
        use ProjectState::*;
        use fabrique_platform::refusal::Refusal as _;
        let allowed = [
            (Proposed, Active),
            (Proposed, Abandoned),
            (Active, Completed),
            (Active, Abandoned),
        ];
        let now = Utc::now();
        for from in ProjectState::ALL {
            for to in ProjectState::ALL {
                let current = project(*from);
                let result = current.next(*to, now);
                if allowed.contains(&(*from, *to)) {
                    let next = result.expect("allowed");
                    assert_eq!(next.state, *to);
                    assert_eq!(next.version, current.version + 1);
                    assert_eq!(next.updated_at, now);
                    assert_eq!(next.title, current.title);
                } else {
                    let refusal = result.expect_err("refused");
                    assert_eq!(refusal.code(), "PROJECT_STATE", "{from:?} → {to:?}");
                    let message = refusal.message();
                    assert!(
                        message.contains(&format!("is {}", from.as_str().to_uppercase()))
                            && message.contains(&format!("become {}", to.as_str().to_uppercase())),
                        "{message}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_patch_that_changes_nothing_keeps_the_version() {
        let current = project(ProjectState::Active);
        let same = ProjectPatch {
            title: Some(current.title.clone()),
            ..ProjectPatch::default()
        };
        assert_eq!(current.patched(same, Utc::now()), None);
        let renamed = ProjectPatch {
            title: Some("Centrale citoyenne".into()),
            host_place: Some(None),
            ..ProjectPatch::default()
        };
        let (next, changed) = current.patched(renamed, Utc::now()).expect("a change");
        assert_eq!(changed, ["title"]);
        assert_eq!(next.version, current.version + 1);
    }
}
