//! The participation domain: participants known by a pseudonym, processes with dated
//! steps (one active at a time, each opening some actions), proposals with their
//! organiser's answer, and the rules of supports; comments in [`comment`], meetings in
//! [`meeting`], participatory budgets in [`budget`]. No protobuf
//! and no SQL here.

use chrono::{DateTime, Utc};
pub use fabrique_types::{Invalid, Location};
use uuid::Uuid;

use crate::refusal::Refusal;

pub mod budget;
pub mod comment;
pub mod meeting;

/// `members/{id}`.
pub fn member_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("members", id)
}

/// `participants/{id}`.
pub fn participant_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("participants", id)
}

/// `processes/{id}`.
pub fn process_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("processes", id)
}

/// `processes/{p}/proposals/{id}`.
pub fn proposal_name(process: Uuid, id: Uuid) -> String {
    format!("{}/proposals/{id}", process_name(process))
}

/// Splits `{parent}/{collection}/{id}` into the parent's name and the id; `shape` is
/// the name's pattern, said when it is not one.
pub fn split_child<'a>(
    name: &'a str,
    collection: &str,
    shape: &str,
) -> Result<(&'a str, Uuid), Invalid> {
    let invalid = || Invalid::new(format!("must be {shape}"));
    let (parent, id) = name
        .split_once(&format!("/{collection}/"))
        .ok_or_else(invalid)?;
    Ok((parent, Uuid::parse_str(id).map_err(|_| invalid())?))
}

/// Parses `processes/{p}/{collection}/{id}` into both ids.
pub fn parse_process_child(name: &str, collection: &str) -> Result<(Uuid, Uuid), Invalid> {
    let shape = format!("processes/{{id}}/{collection}/{{id}}");
    let (process, id) = split_child(name, collection, &shape)?;
    Ok((
        fabrique_types::resource::parse_name("processes", process)?,
        id,
    ))
}

/// Parses `processes/{p}/proposals/{id}` into both ids.
pub fn parse_proposal_name(name: &str) -> Result<(Uuid, Uuid), Invalid> {
    parse_process_child(name, "proposals")
}

/// Text between `min` and `max` characters once trimmed, said in those words.
pub fn text_between(value: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let length = value.trim().chars().take(max + 1).count();
    if length < min {
        return Err(Invalid::new(format!("must be at least {min} characters")));
    }
    fabrique_types::text::optional_multiline(value, max).map(Option::unwrap_or_default)
}

// ---------------------------------------------------------------------------
// Participants
// ---------------------------------------------------------------------------

/// What proposals of an erased account are signed with.
pub const ERASED: &str = "[compte supprimé]";

/// A pseudonym: 2 to 40 characters on one line, and not an e-mail address (a person
/// who types theirs would publish it).
pub fn display_name(value: &str) -> Result<String, Invalid> {
    let name = text_between(value, 2, 40)?;
    if name.contains('\n') {
        return Err(Invalid::new("must be on one line"));
    }
    if name.contains('@') {
        return Err(Invalid::new(
            "must be a pseudonym, not an e-mail address: it is shown publicly",
        ));
    }
    Ok(name)
}

/// A person taking part.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    /// `participants/{id}`'s id.
    pub id: Uuid,
    /// The token subject they sign in with (never shown).
    pub subject: String,
    /// Their pseudonym.
    pub display_name: String,
    /// The organisers (member ids) that verified their residence.
    pub verified_by: Vec<Uuid>,
    /// When they registered.
    pub created_at: DateTime<Utc>,
}

impl Participant {
    /// Whether `organiser` verified this participant.
    pub fn verified_for(&self, organiser: Uuid) -> bool {
        self.verified_by.contains(&organiser)
    }
}

// ---------------------------------------------------------------------------
// Processes and their steps
// ---------------------------------------------------------------------------

fabrique_types::string_enum!(
    /// What a step is for.
    StepKind {
        /// Telling people what it is about.
        Information => "information",
        /// Collecting proposals.
        Proposals => "proposals",
        /// Discussing and supporting them.
        Deliberation => "deliberation",
        /// Voting.
        Vote => "vote",
        /// Telling what came out of it.
        Results => "results",
    }
);

fabrique_types::string_enum!(
    /// What a participant does that a step may open or not.
    Action {
        /// Writing a proposal.
        Propose => "propose",
        /// Supporting a proposal, or taking the support back.
        Support => "support",
        /// Commenting.
        Comment => "comment",
        /// Voting.
        Vote => "vote",
    }
);

/// A dated step.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// `information`, `proposals`, … ([`StepKind`]).
    pub kind: String,
    /// 1 to 120 characters.
    pub title: String,
    /// Optional, at most 5,000 characters.
    pub description: String,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends, after it starts.
    pub end: DateTime<Utc>,
    /// The actions it opens while active.
    pub opens: Vec<String>,
}

impl Step {
    /// Whether this step opens `action`.
    pub fn opens(&self, action: Action) -> bool {
        self.opens.iter().any(|a| a == action.as_str())
    }
}

/// At most this many steps.
pub const MAX_STEPS: usize = 10;
/// At most this many themes.
pub const MAX_THEMES: usize = 20;

/// The steps of a process, in order, as a whole: the error names the step's index.
pub fn check_steps(steps: &[Step]) -> Result<(), (usize, &'static str, Invalid)> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err((
            0,
            "",
            Invalid::new(format!("a process has 1 to {MAX_STEPS} steps")),
        ));
    }
    for (index, step) in steps.iter().enumerate() {
        if step.end <= step.start {
            return Err((index, "end_time", Invalid::new("must be after start_time")));
        }
        if index > 0 && step.start < steps[index - 1].end {
            return Err((
                index,
                "start_time",
                Invalid::new("must not be before the previous step ends"),
            ));
        }
    }
    Ok(())
}

/// Where a process applies: an INSEE commune code or an EPCI's SIREN.
pub fn territory_code(value: &str) -> Result<String, Invalid> {
    let value = value.trim();
    if value.len() == 9 {
        return fabrique_types::Siren::parse(value).map(|s| s.as_str().to_string());
    }
    fabrique_types::InseeCode::parse(value)
        .map(|c| c.as_str().to_string())
        .map_err(|_| Invalid::new("must be an INSEE commune code or an EPCI's SIREN"))
}

/// A participatory process.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    /// `processes/{id}`'s id.
    pub id: Uuid,
    /// The member that organises it.
    pub organiser: Uuid,
    /// 3 to 150 characters.
    pub title: String,
    /// What it is about, in paragraphs.
    pub description: String,
    /// INSEE codes and EPCI SIREN.
    pub territory: Vec<String>,
    /// In order.
    pub steps: Vec<Step>,
    /// The active step's number from 1; 0 before the first.
    pub active_step: u32,
    /// Only participants the organiser verified support and vote.
    pub verified_only: bool,
    /// Supports per participant; 0 for no limit.
    pub support_limit: u32,
    /// Supports for the organiser to study a proposal; 0 for none.
    pub support_threshold: u32,
    /// The themes proposals choose from.
    pub themes: Vec<String>,
    /// Reports that hide a comment.
    pub report_threshold: u32,
    /// The subject that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// +1 with every change.
    pub version: i64,
}

impl Process {
    /// The active step, if any.
    pub fn active(&self) -> Option<&Step> {
        (self.active_step as usize)
            .checked_sub(1)
            .and_then(|index| self.steps.get(index))
    }

    /// The refusal when the active step does not open `action`.
    pub fn require_open(&self, action: Action) -> Result<(), Refusal> {
        match self.active() {
            Some(step) if step.opens(action) => Ok(()),
            active => Err(Refusal::StepClosed {
                process: process_name(self.id),
                action: action.as_str(),
                step: active.map(|s| s.title.clone()),
            }),
        }
    }

    /// The process with step `number` active; `None` when there is no such step.
    pub fn activate(&self, number: u32, now: DateTime<Utc>) -> Option<Process> {
        if number == 0 || number as usize > self.steps.len() {
            return None;
        }
        let mut next = self.clone();
        next.active_step = number;
        next.version += 1;
        next.updated_at = now;
        Some(next)
    }

    /// Whether `participant` may support here: verified by the organiser when asked.
    pub fn require_eligible(&self, participant: &Participant) -> Result<(), Refusal> {
        if self.verified_only && !participant.verified_for(self.organiser) {
            return Err(Refusal::NotVerified {
                process: process_name(self.id),
                organiser: member_name(self.organiser),
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Proposals
// ---------------------------------------------------------------------------

fabrique_types::string_enum!(
    /// Where a proposal is.
    ProposalState {
        /// Open to supports.
        Published => "published",
        /// The organiser studies it; still open to supports.
        Evaluating => "evaluating",
        /// The organiser takes it on: final.
        Accepted => "accepted",
        /// The organiser declines it, saying why: final.
        Rejected => "rejected",
        /// Its author withdrew it: final.
        Withdrawn => "withdrawn",
    }
);

impl ProposalState {
    /// Whether supports may still come and go.
    pub fn takes_supports(self) -> bool {
        matches!(self, ProposalState::Published | ProposalState::Evaluating)
    }
}

/// The organiser's official answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// At most 5,000 characters.
    pub text: String,
    /// When it was given.
    pub at: DateTime<Utc>,
}

/// A proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Its id.
    pub id: Uuid,
    /// Its process.
    pub process: Uuid,
    /// The participant who wrote it.
    pub author: Uuid,
    /// Their pseudonym as of reading ([`ERASED`] once erased).
    pub author_display_name: String,
    /// 5 to 150 characters.
    pub title: String,
    /// 15 to 10,000 characters.
    pub body: String,
    /// One of the process's themes.
    pub theme: Option<String>,
    /// A place of the registry.
    pub place: Option<Uuid>,
    /// Or a point.
    pub location: Option<Location>,
    /// Where it is.
    pub state: ProposalState,
    /// Supports counted.
    pub support_count: u32,
    /// The organiser's answer.
    pub answer: Option<Answer>,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// When it last changed (supports aside).
    pub updated_at: DateTime<Utc>,
    /// +1 with every change but supports, which are counted, not edited.
    pub version: i64,
}

impl Proposal {
    /// A participant's new proposal in `process`, PUBLISHED.
    pub fn publish(
        process: &Process,
        author: &Participant,
        new: NewProposal,
        now: DateTime<Utc>,
    ) -> Proposal {
        Proposal {
            id: Uuid::now_v7(),
            process: process.id,
            author: author.id,
            author_display_name: author.display_name.clone(),
            title: new.title,
            body: new.body,
            theme: new.theme,
            place: new.place,
            location: new.location,
            state: ProposalState::Published,
            support_count: 0,
            answer: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// `processes/{p}/proposals/{id}`.
    pub fn name(&self) -> String {
        proposal_name(self.process, self.id)
    }

    /// Its author withdraws it: only while PUBLISHED and unsupported.
    pub fn withdraw(&self, now: DateTime<Utc>) -> Result<Proposal, Refusal> {
        if self.state != ProposalState::Published {
            return Err(Refusal::ProposalState {
                proposal: self.name(),
                state: self.state.as_str(),
                rule: "only a PUBLISHED proposal may be withdrawn",
            });
        }
        if self.support_count > 0 {
            return Err(Refusal::HasSupports {
                proposal: self.name(),
                supports: self.support_count,
            });
        }
        Ok(self.moved(ProposalState::Withdrawn, None, now))
    }

    /// The organiser's answer: EVALUATING from PUBLISHED (or again, to change its text),
    /// ACCEPTED or REJECTED from either, with a text. Final states stay.
    pub fn answer(
        &self,
        state: ProposalState,
        text: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Proposal, Refusal> {
        if !self.state.takes_supports() {
            return Err(Refusal::ProposalState {
                proposal: self.name(),
                state: self.state.as_str(),
                rule: "an accepted, rejected or withdrawn proposal is answered for good",
            });
        }
        let answer = text.map(|text| Answer { text, at: now });
        Ok(self.moved(state, answer, now))
    }

    fn moved(&self, state: ProposalState, answer: Option<Answer>, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.state = state;
        if answer.is_some() {
            next.answer = answer;
        }
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// Whether `threshold` (0: none) is reached.
    pub fn threshold_reached(&self, threshold: u32) -> bool {
        threshold > 0 && self.support_count >= threshold
    }
}

// ---------------------------------------------------------------------------
// What callers ask for
// ---------------------------------------------------------------------------

/// What CreateProcess asks for, before the service gives it an id and a creator.
#[derive(Debug, Clone)]
pub struct NewProcess {
    /// The organiser member.
    pub organiser: Uuid,
    /// Its title.
    pub title: String,
    /// What it is about.
    pub description: String,
    /// INSEE codes and SIREN.
    pub territory: Vec<String>,
    /// Its steps, in order.
    pub steps: Vec<Step>,
    /// Supports and votes from verified participants only.
    pub verified_only: bool,
    /// Supports per participant.
    pub support_limit: u32,
    /// Supports for the organiser to study a proposal.
    pub support_threshold: u32,
    /// Proposals' themes.
    pub themes: Vec<String>,
    /// Reports that hide a comment (0: the default).
    pub report_threshold: u32,
}

/// What CreateProposal asks for.
#[derive(Debug, Clone)]
pub struct NewProposal {
    /// 5 to 150 characters.
    pub title: String,
    /// 15 to 10,000 characters.
    pub body: String,
    /// A theme, checked against the process's by the use case.
    pub theme: Option<String>,
    /// A place of the registry.
    pub place: Option<Uuid>,
    /// Or a point.
    pub location: Option<Location>,
}

/// What the caller learns besides the proposal itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    /// The caller wrote it.
    pub authored: bool,
    /// The caller supports it.
    pub supported: bool,
}

#[cfg(test)]
mod tests;
