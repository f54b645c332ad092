//! Participatory budgets: an envelope, items made of proposals with a cost, one ballot
//! per participant whose items stay within the envelope and reach a minimum share of it,
//! and the results — items ranked by votes, winners chosen in that order while the
//! envelope allows.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::process_name;
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// Where a budget is.
    BudgetState {
        /// Taking items and ballots.
        Open => "open",
        /// Counted.
        Closed => "closed",
    }
);

/// Decidim's default minimum share of the envelope a ballot reaches: 70 %.
pub const DEFAULT_MINIMUM_BASIS_POINTS: u32 = 7_000;

/// An item: a proposal with its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Its id.
    pub id: Uuid,
    /// The proposal it comes from.
    pub proposal: Uuid,
    /// The proposal's title.
    pub title: String,
    /// In cents.
    pub cost_cents: i64,
    /// Ballots choosing it.
    pub votes: u32,
    /// Its rank once closed (1 first), 0 before.
    pub rank: u32,
    /// Chosen once closed.
    pub selected: bool,
}

/// A budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// Its id.
    pub id: Uuid,
    /// Its process.
    pub process: Uuid,
    /// 3 to 150 characters.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// In cents.
    pub envelope_cents: i64,
    /// The minimum share of the envelope a ballot reaches, in basis points.
    pub minimum_basis_points: u32,
    /// Where it is.
    pub state: BudgetState,
    /// Its items, in the order they were added.
    pub items: Vec<Item>,
    /// Ballots cast.
    pub ballots: u32,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The subject that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// `processes/{p}/budgets/{id}`.
pub fn budget_name(process: Uuid, id: Uuid) -> String {
    format!("{}/budgets/{id}", process_name(process))
}

/// Parses `processes/{p}/budgets/{id}`.
pub fn parse_budget_name(name: &str) -> Result<(Uuid, Uuid), fabrique_types::Invalid> {
    super::parse_process_child(name, "budgets")
}

/// Parses `processes/{p}/budgets/{b}/items/{id}` into the budget's name and the id.
pub fn parse_item_name(name: &str) -> Result<(String, Uuid), fabrique_types::Invalid> {
    let shape = "processes/{id}/budgets/{id}/items/{id}";
    let (budget, item) = super::split_child(name, "items", shape)?;
    Ok((budget.to_string(), item))
}

impl Budget {
    /// Its resource name.
    pub fn name(&self) -> String {
        budget_name(self.process, self.id)
    }

    /// An item's resource name.
    pub fn item_name(&self, item: Uuid) -> String {
        format!("{}/items/{item}", self.name())
    }

    /// What a ballot must reach at least: the minimum share of the envelope, rounded up
    /// to the cent.
    pub fn minimum_cents(&self) -> i64 {
        let product = i128::from(self.envelope_cents) * i128::from(self.minimum_basis_points);
        i64::try_from((product + 9_999) / 10_000).unwrap_or(i64::MAX)
    }

    /// Refused once closed.
    pub fn require_open(&self) -> Result<(), Refusal> {
        match self.state {
            BudgetState::Open => Ok(()),
            BudgetState::Closed => Err(Refusal::BudgetClosed {
                budget: self.name(),
            }),
        }
    }

    /// A ballot of `chosen` items (each of this budget, checked by the caller): its total,
    /// or why it does not hold.
    pub fn check_ballot(&self, chosen: &[Uuid]) -> Result<i64, Refusal> {
        self.require_open()?;
        let total: i64 = self
            .items
            .iter()
            .filter(|item| chosen.contains(&item.id))
            .map(|item| item.cost_cents)
            .sum();
        if total > self.envelope_cents {
            return Err(Refusal::OverEnvelope {
                budget: self.name(),
                total_cents: total,
                envelope_cents: self.envelope_cents,
            });
        }
        if total < self.minimum_cents() {
            return Err(Refusal::UnderMinimum {
                budget: self.name(),
                total_cents: total,
                minimum_cents: self.minimum_cents(),
            });
        }
        Ok(total)
    }
}

/// The results of counted `items`: each item's rank by votes (more first; on a tie the
/// cheaper, then the one added first), and whether it is selected — taken in rank order
/// while what is selected stays within `envelope_cents`, an item that no longer fits
/// skipped for the next.
pub fn results(items: &[Item], envelope_cents: i64) -> Vec<Item> {
    let mut ranked: Vec<Item> = items.to_vec();
    ranked.sort_by(|a, b| {
        b.votes
            .cmp(&a.votes)
            .then(a.cost_cents.cmp(&b.cost_cents))
            .then(a.id.cmp(&b.id))
    });
    let mut spent = 0i64;
    for (index, item) in ranked.iter_mut().enumerate() {
        item.rank = index as u32 + 1;
        item.selected = item.votes > 0 && spent + item.cost_cents <= envelope_cents;
        if item.selected {
            spent += item.cost_cents;
        }
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    const EURO: i64 = 100;

    fn item(votes: u32, cost: i64) -> Item {
        Item {
            id: Uuid::now_v7(),
            proposal: Uuid::now_v7(),
            title: format!("{votes} votes, {cost}"),
            cost_cents: cost,
            votes,
            rank: 0,
            selected: false,
        }
    }

    fn budget(items: Vec<Item>) -> Budget {
        Budget {
            id: Uuid::now_v7(),
            process: Uuid::now_v7(),
            title: "Budget participatif".into(),
            description: String::new(),
            envelope_cents: 10_000 * EURO,
            minimum_basis_points: DEFAULT_MINIMUM_BASIS_POINTS,
            state: BudgetState::Open,
            items,
            ballots: 0,
            closed_at: None,
            created_by: "t".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_ballot_stays_within_the_envelope_and_reaches_its_minimum() {
        let items = vec![
            item(0, 6_000 * EURO),
            item(0, 3_000 * EURO),
            item(0, 2_000 * EURO),
        ];
        let b = budget(items.clone());
        assert_eq!(b.minimum_cents(), 7_000 * EURO);
        assert_eq!(
            b.check_ballot(&[items[0].id, items[1].id]).unwrap(),
            9_000 * EURO
        );
        let over = b
            .check_ballot(&[items[0].id, items[1].id, items[2].id])
            .unwrap_err();
        assert!(
            matches!(over, Refusal::OverEnvelope { total_cents, .. } if total_cents == 11_000 * EURO)
        );
        let under = b.check_ballot(&[items[0].id]).unwrap_err();
        assert!(
            matches!(under, Refusal::UnderMinimum { minimum_cents, .. } if minimum_cents == 7_000 * EURO)
        );
    }

    #[test]
    fn winners_follow_the_votes_while_the_envelope_allows() {
        // 10,000 €: the first (6,000) fits, the second (5,000) no longer does, the third
        // (3,000) does; an item nobody chose is never selected.
        let items = vec![
            item(3, 5_000 * EURO),
            item(9, 6_000 * EURO),
            item(2, 3_000 * EURO),
            item(0, 100),
        ];
        let ranked = results(&items, 10_000 * EURO);
        let by_cost = |cost: i64| ranked.iter().find(|i| i.cost_cents == cost).unwrap();
        assert_eq!(
            (by_cost(6_000 * EURO).rank, by_cost(6_000 * EURO).selected),
            (1, true)
        );
        assert_eq!(
            (by_cost(5_000 * EURO).rank, by_cost(5_000 * EURO).selected),
            (2, false)
        );
        assert_eq!(
            (by_cost(3_000 * EURO).rank, by_cost(3_000 * EURO).selected),
            (3, true)
        );
        assert!(!by_cost(100).selected);
        let spent: i64 = ranked
            .iter()
            .filter(|i| i.selected)
            .map(|i| i.cost_cents)
            .sum();
        assert!(spent <= 10_000 * EURO);
    }
}
