//! Matching: the resources on offer that fit a need, best first. The domain scores
//! them; only the calendar of a bookable resource is read here.

use fabrique_platform::Error;
use uuid::Uuid;

use super::Sharing;
use crate::domain::{
    Availability, Match, Resource, ResourceFilter, Slot, availability, best, distance_km,
    search_words, within_radius, words_in_common,
};
use crate::store;

/// Matching looks at this many candidate resources at most.
const MATCH_CANDIDATES: u64 = 2000;

impl Sharing {
    /// Available resources that fit `need`, best first (see
    /// [`match_score`](crate::domain::match_score)): of the kind it asks for (any when
    /// none), not its own member's, sharing a word with it when it has any, and within
    /// its radius.
    pub async fn matches(&self, need_id: Uuid, limit: usize) -> Result<Vec<Match>, Error> {
        let need = self.get_need(need_id).await?;
        let words = search_words(&need.description);
        let filter = ResourceFilter {
            kinds: need.kind.into_iter().collect(),
            not_owner: Some(need.member),
            ..Default::default()
        };
        let mut matches = Vec::new();
        for resource in store::all_resources(&self.db, &filter, MATCH_CANDIDATES).await? {
            let matched = words_in_common(&words, &resource);
            if !words.is_empty() && matched.is_empty() {
                continue;
            }
            let distance = distance_km(&need, &resource);
            if !within_radius(&need, distance) {
                continue;
            }
            let available = match availability(&need, &resource) {
                Availability::Known(available) => available,
                Availability::FreeDuring(slot) => self.free_during(&resource, slot).await?,
            };
            matches.push(Match::new(resource, available, distance, matched));
        }
        Ok(best(matches, limit))
    }

    /// Whether no reservation holds `resource` during `slot`, with its turnaround on
    /// either side.
    async fn free_during(&self, resource: &Resource, slot: Slot) -> Result<bool, Error> {
        let turnaround = resource.rules.turnaround;
        let held = store::holding_between(
            &self.db,
            resource.id,
            slot.start() - turnaround,
            slot.end() + turnaround,
        )
        .await?;
        Ok(held.is_empty())
    }
}
