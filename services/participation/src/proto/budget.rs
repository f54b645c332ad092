//! Budgets and ballots in and out of the contract.

use fabrique_api::participation as proto;
use fabrique_platform::Error;
use fabrique_platform::error::Violations;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;

use crate::domain::budget::{Budget, BudgetState, DEFAULT_MINIMUM_BASIS_POINTS};
use crate::domain::{proposal_name, text_between};

fabrique_platform::proto_mapped!(BudgetState => proto::BudgetState);

/// What CreateBudget asks for: title, description, envelope, minimum share.
pub fn parse_new_budget(
    budget: Option<&proto::Budget>,
) -> Result<(String, String, i64, u32), Error> {
    let Some(b) = budget else {
        return Err(Error::invalid("budget", "is required"));
    };
    let mut v = Violations::new();
    let title = v.check("budget.title", text_between(&b.title, 3, 150));
    let description = v.check(
        "budget.description",
        fabrique_types::text::optional_multiline(&b.description, 10_000),
    );
    if b.envelope_cents <= 0 {
        v.add("budget.envelope_cents", "must be over 0");
    }
    let minimum = match b.minimum_basis_points {
        0 => Some(DEFAULT_MINIMUM_BASIS_POINTS),
        n @ 1..=10_000 => Some(n as u32),
        _ => {
            v.add("budget.minimum_basis_points", "must be 0 to 10,000 (100 %)");
            None
        }
    };
    v.into_result()?;
    match (title, description, minimum) {
        (Some(title), Some(description), Some(minimum)) => Ok((
            title,
            description.unwrap_or_default(),
            b.envelope_cents,
            minimum,
        )),
        _ => Err(Error::invalid("budget", "is invalid")),
    }
}

/// The budget as everyone reads it.
pub fn budget_to_proto(b: &Budget) -> proto::Budget {
    let selected_cents = b
        .items
        .iter()
        .filter(|i| i.selected)
        .map(|i| i.cost_cents)
        .sum();
    proto::Budget {
        name: b.name(),
        title: b.title.clone(),
        description: b.description.clone(),
        envelope_cents: b.envelope_cents,
        minimum_basis_points: b.minimum_basis_points as i32,
        state: b.state.to_proto_i32(),
        items: b
            .items
            .iter()
            .map(|i| proto::BudgetItem {
                name: b.item_name(i.id),
                proposal: proposal_name(b.process, i.proposal),
                title: i.title.clone(),
                cost_cents: i.cost_cents,
                votes: i.votes as i32,
                rank: i.rank as i32,
                selected: i.selected,
            })
            .collect(),
        ballot_count: b.ballots as i32,
        selected_cents,
        create_time: Some(timestamp(b.created_at)),
        close_time: b.closed_at.map(timestamp),
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn budget_enums_map_both_ways_by_name() {
        assert_round_trip::<BudgetState>();
    }
}
