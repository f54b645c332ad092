//! Every conversion between participation's domain and its contract: requests parsed
//! into domain values (each invalid field named by its path), domain values written back
//! as messages, enums mapped by name; comments in `comment`, meetings in `meeting`,
//! budgets in `budget`.

use fabrique_api::participation as proto;
use fabrique_platform::Error;
use fabrique_platform::error::Violations;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::{from_timestamp, timestamp};
use fabrique_types::Invalid;
use uuid::Uuid;

use crate::domain::{
    Action, Location, MAX_THEMES, NewProcess, NewProposal, Participant, Process, Proposal,
    ProposalState, Seen, Step, StepKind, check_steps, display_name, member_name, participant_name,
    process_name, territory_code, text_between,
};
use crate::refusal::RefusalCode;

mod budget;
mod comment;
pub use budget::{budget_to_proto, parse_new_budget};
mod meeting;
pub use comment::{Reader, comment_to_proto, parse_decision};
pub use meeting::{meeting_to_proto, parse_new_meeting, registration_to_proto};

fabrique_platform::proto_mapped!(
    StepKind => proto::StepKind,
    ProposalState => proto::ProposalState,
    RefusalCode => proto::Refusal,
);

fn etag(version: i64) -> String {
    fabrique_types::change::etag_of(version)
}

/// `collection/{id}` in `field`.
pub fn parse_id(field: &str, collection: &str, name: &str) -> Result<Uuid, Error> {
    fabrique_types::resource::parse_name(collection, name.trim())
        .map_err(|invalid| Error::invalid(field, invalid.0))
}

/// `processes/{p}/proposals/{id}` in `field`.
pub fn parse_proposal(field: &str, name: &str) -> Result<(Uuid, Uuid), Error> {
    crate::domain::parse_proposal_name(name.trim())
        .map_err(|invalid| Error::invalid(field, invalid.0))
}

/// A pseudonym.
pub fn parse_display_name(value: &str) -> Result<String, Error> {
    display_name(value).map_err(|invalid| Error::invalid("display_name", invalid.0))
}

/// The participant, as they or an admin read it.
pub fn participant_to_proto(participant: &Participant) -> proto::Participant {
    proto::Participant {
        name: participant_name(participant.id),
        display_name: participant.display_name.clone(),
        verified_by: participant
            .verified_by
            .iter()
            .map(|m| member_name(*m))
            .collect(),
        create_time: Some(timestamp(participant.created_at)),
    }
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

fn step_from_proto(field: &str, step: &proto::Step, v: &mut Violations) -> Option<Step> {
    let kind = v.check(&format!("{field}.kind"), StepKind::from_proto(step.kind));
    let title = v.check(
        &format!("{field}.title"),
        fabrique_types::bounded_text(&step.title, 1, 120),
    );
    let description = v.check(
        &format!("{field}.description"),
        fabrique_types::text::optional_multiline(&step.description, 5000),
    );
    let time = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .and_then(from_timestamp)
            .ok_or_else(|| Invalid::new("must be set"))
    };
    let start = v.check(&format!("{field}.start_time"), time(&step.start_time));
    let end = v.check(&format!("{field}.end_time"), time(&step.end_time));
    let opens = [
        (step.proposals_open, Action::Propose),
        (step.supports_open, Action::Support),
        (step.comments_open, Action::Comment),
        (step.votes_open, Action::Vote),
    ]
    .into_iter()
    .filter(|(open, _)| *open)
    .map(|(_, action)| action.as_str().to_string())
    .collect();
    Some(Step {
        kind: kind?.as_str().to_string(),
        title: title?,
        description: description?.unwrap_or_default(),
        start: start?,
        end: end?,
        opens,
    })
}

/// Over 60 lines: one check per field of a process, each violation named by its path.
pub fn parse_new_process(process: Option<&proto::Process>) -> Result<NewProcess, Error> {
    let Some(p) = process else {
        return Err(Error::invalid("process", "is required"));
    };
    let mut v = Violations::new();
    let organiser = v.check(
        "process.organiser",
        fabrique_types::resource::parse_name("members", p.organiser.trim()),
    );
    let title = v.check("process.title", text_between(&p.title, 3, 150));
    let description = v.check(
        "process.description",
        fabrique_types::text::optional_multiline(&p.description, 10_000),
    );
    let mut territory = Vec::new();
    for (index, code) in p.territory.iter().enumerate() {
        if let Some(code) = v.check(&format!("process.territory[{index}]"), territory_code(code)) {
            territory.push(code);
        }
    }
    let mut steps = Vec::new();
    for (index, step) in p.steps.iter().enumerate() {
        if let Some(step) = step_from_proto(&format!("process.steps[{index}]"), step, &mut v) {
            steps.push(step);
        }
    }
    if steps.len() == p.steps.len()
        && let Err((index, field, invalid)) = check_steps(&steps)
    {
        let path = if field.is_empty() {
            "process.steps".to_string()
        } else {
            format!("process.steps[{index}].{field}")
        };
        v.add(path, invalid.0);
    }
    let non_negative = |n: i32| u32::try_from(n).map_err(|_| Invalid::new("must not be negative"));
    let support_limit = v.check("process.support_limit", non_negative(p.support_limit));
    let report_threshold = v.check("process.report_threshold", non_negative(p.report_threshold));
    let support_threshold = v.check(
        "process.support_threshold",
        non_negative(p.support_threshold),
    );
    if p.themes.len() > MAX_THEMES {
        v.add("process.themes", format!("at most {MAX_THEMES} themes"));
    }
    let mut themes = Vec::new();
    for (index, theme) in p.themes.iter().enumerate() {
        if let Some(theme) = v.check(
            &format!("process.themes[{index}]"),
            fabrique_types::bounded_text(theme, 1, 60),
        ) {
            if themes.contains(&theme) {
                v.add(format!("process.themes[{index}]"), "is listed twice");
            }
            themes.push(theme);
        }
    }
    v.into_result()?;
    match (
        organiser,
        title,
        description,
        support_limit,
        support_threshold,
        report_threshold,
    ) {
        (
            Some(organiser),
            Some(title),
            Some(description),
            Some(limit),
            Some(threshold),
            Some(report_threshold),
        ) => Ok(NewProcess {
            organiser,
            title,
            description: description.unwrap_or_default(),
            territory,
            steps,
            verified_only: p.verified_only,
            support_limit: limit,
            support_threshold: threshold,
            themes,
            report_threshold,
        }),
        _ => Err(Error::invalid("process", "is invalid")),
    }
}

fn step_to_proto(number: usize, step: &Step) -> proto::Step {
    let opens = |action: Action| step.opens(action);
    proto::Step {
        number: number as i32,
        kind: step
            .kind
            .parse::<StepKind>()
            .map(|k| k.to_proto_i32())
            .unwrap_or_default(),
        title: step.title.clone(),
        description: step.description.clone(),
        start_time: Some(timestamp(step.start)),
        end_time: Some(timestamp(step.end)),
        proposals_open: opens(Action::Propose),
        supports_open: opens(Action::Support),
        comments_open: opens(Action::Comment),
        votes_open: opens(Action::Vote),
    }
}

/// The process as everyone reads it.
pub fn process_to_proto(process: &Process) -> proto::Process {
    proto::Process {
        name: process_name(process.id),
        organiser: member_name(process.organiser),
        title: process.title.clone(),
        description: process.description.clone(),
        territory: process.territory.clone(),
        steps: process
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| step_to_proto(index + 1, step))
            .collect(),
        active_step: process.active_step as i32,
        verified_only: process.verified_only,
        support_limit: process.support_limit as i32,
        support_threshold: process.support_threshold as i32,
        themes: process.themes.clone(),
        report_threshold: process.report_threshold as i32,
        create_time: Some(timestamp(process.created_at)),
        update_time: Some(timestamp(process.updated_at)),
        etag: etag(process.version),
    }
}

// ---------------------------------------------------------------------------
// Proposals
// ---------------------------------------------------------------------------

/// A proposal as a participant writes it.
pub fn parse_new_proposal(proposal: Option<&proto::Proposal>) -> Result<NewProposal, Error> {
    let Some(p) = proposal else {
        return Err(Error::invalid("proposal", "is required"));
    };
    let mut v = Violations::new();
    let title = v.check("proposal.title", text_between(&p.title, 5, 150));
    let body = v.check("proposal.body", text_between(&p.body, 15, 10_000));
    let theme = v.check(
        "proposal.theme",
        fabrique_types::optional_text(&p.theme, 60),
    );
    let place = v.check(
        "proposal.place",
        fabrique_platform::request::optional(&p.place, |name| {
            fabrique_types::resource::parse_name("places", name.trim())
        }),
    );
    let location = match &p.location {
        None => Some(None),
        Some(point) => match Location::parse(point.latitude, point.longitude) {
            Ok(location) => Some(Some(location)),
            Err((field, invalid)) => {
                v.add(format!("proposal.location.{field}"), invalid.0);
                None
            }
        },
    };
    if !p.place.trim().is_empty() && p.location.is_some() {
        v.add("proposal.location", "give a place or a location, not both");
    }
    v.into_result()?;
    match (title, body, theme, place, location) {
        (Some(title), Some(body), Some(theme), Some(place), Some(location)) => Ok(NewProposal {
            title,
            body,
            theme,
            place,
            location,
        }),
        _ => Err(Error::invalid("proposal", "is invalid")),
    }
}

/// The proposal as a caller reads it, with its process's threshold.
pub fn proposal_to_proto(proposal: &Proposal, threshold: u32, seen: Seen) -> proto::Proposal {
    proto::Proposal {
        name: proposal.name(),
        title: proposal.title.clone(),
        body: proposal.body.clone(),
        theme: proposal.theme.clone().unwrap_or_default(),
        place: proposal
            .place
            .map(|p| fabrique_types::resource::format_name("places", p))
            .unwrap_or_default(),
        location: proposal.location.as_ref().map(|l| proto::Location {
            latitude: l.latitude(),
            longitude: l.longitude(),
        }),
        state: proposal.state.to_proto_i32(),
        author_display_name: proposal.author_display_name.clone(),
        authored_by_caller: seen.authored,
        support_count: proposal.support_count as i32,
        threshold_reached: proposal.threshold_reached(threshold),
        supported_by_caller: seen.supported,
        answer: proposal.answer.as_ref().map(|a| proto::Answer {
            text: a.text.clone(),
            answer_time: Some(timestamp(a.at)),
        }),
        create_time: Some(timestamp(proposal.created_at)),
        update_time: Some(timestamp(proposal.updated_at)),
        etag: etag(proposal.version),
    }
}

/// The states AnswerProposal may set.
pub fn parse_answer_state(value: i32) -> Result<ProposalState, Error> {
    match ProposalState::from_proto(value) {
        Ok(
            state @ (ProposalState::Evaluating | ProposalState::Accepted | ProposalState::Rejected),
        ) => Ok(state),
        Ok(_) => Err(Error::invalid(
            "state",
            "must be EVALUATING, ACCEPTED or REJECTED",
        )),
        Err(invalid) => Err(Error::invalid("state", invalid.0)),
    }
}

/// The states ListProposals filters on.
pub fn parse_states(values: &[i32]) -> Result<Vec<ProposalState>, Error> {
    let mut v = Violations::new();
    let states: Vec<Option<ProposalState>> = values
        .iter()
        .enumerate()
        .map(|(i, s)| v.check(&format!("states[{i}]"), ProposalState::from_proto(*s)))
        .collect();
    v.into_result()?;
    Ok(states.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn every_enum_maps_both_ways_by_name() {
        assert_round_trip::<StepKind>();
        assert_round_trip::<ProposalState>();
        assert_round_trip::<RefusalCode>();
    }
}
