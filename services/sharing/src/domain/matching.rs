//! How well a resource fits a need: the words they share, how far apart they are,
//! whether the resource is free when (or has as much as) the need asks, and the score
//! that ranks them. The calendar is the store's: [`availability`] says when it must be
//! read.

use std::collections::BTreeSet;

use fabrique_types::fold;

use super::need::Need;
use super::resource::{Resource, Usage};
use super::slot::Slot;

/// A resource that fits a need.
#[derive(Debug, Clone)]
pub struct Match {
    /// The resource on offer, as it is now.
    pub resource: Resource,
    /// Lower is better (see [`match_score`]).
    pub score: f64,
    /// `None` when the need or the resource has no location.
    pub distance_km: Option<f64>,
    /// Free for the need's slot, or with enough left for its quantity.
    pub available: bool,
    /// The need's words found in the resource's title or description.
    pub matched_words: Vec<String>,
}

impl Match {
    /// A match scored from what was found.
    pub fn new(
        resource: Resource,
        available: bool,
        distance_km: Option<f64>,
        matched_words: Vec<String>,
    ) -> Self {
        Match {
            score: match_score(available, distance_km, matched_words.len()),
            resource,
            distance_km,
            available,
            matched_words,
        }
    }
}

const STOP_WORDS: &[&str] = &[
    "de", "du", "des", "la", "le", "les", "un", "une", "et", "a", "au", "aux", "en", "pour", "the",
    "of", "for", "an", "near", "pres",
];

/// The words of a need worth looking for: folded, two letters or more, no little words.
pub fn search_words(text: &str) -> BTreeSet<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2 && !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// The `words` of a need found in `resource`'s title or description.
pub fn words_in_common(words: &BTreeSet<String>, resource: &Resource) -> Vec<String> {
    let resource_words = search_words(&format!(
        "{} {}",
        resource.title,
        resource.description.clone().unwrap_or_default()
    ));
    words.intersection(&resource_words).cloned().collect()
}

/// How far `resource` is from `need`, when both have a location.
pub fn distance_km(need: &Need, resource: &Resource) -> Option<f64> {
    need.location
        .zip(resource.location)
        .map(|(a, b)| a.distance_km(&b))
}

/// Whether a resource `distance_km` away is within the need's radius; an unknown
/// distance is, since the need may be served from anywhere then.
pub fn within_radius(need: &Need, distance_km: Option<f64>) -> bool {
    match (need.radius_km, distance_km) {
        (Some(radius), Some(distance)) => distance <= radius,
        _ => true,
    }
}

/// Whether a resource can serve a need, or what must be read to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Known from the resource itself.
    Known(bool),
    /// Known from its calendar: it can if no reservation holds it during this slot,
    /// its turnaround included.
    FreeDuring(Slot),
}

/// Whether `resource` can serve `need`. Only a bookable resource and a need with a slot
/// need the calendar. A material serves a quantity in its own unit if that much is
/// left, and anything else if some is left.
pub fn availability(need: &Need, resource: &Resource) -> Availability {
    match resource.kind.usage() {
        Usage::Booked => match need.slot {
            Some(slot) => Availability::FreeDuring(slot),
            None => Availability::Known(true),
        },
        Usage::Claimed => Availability::Known(match (resource.stock, need.quantity) {
            (Some((_, remaining, unit)), Some((wanted, wanted_unit))) if unit == wanted_unit => {
                remaining >= wanted
            }
            (Some((_, remaining, _)), _) => remaining.milli() > 0,
            (None, _) => false,
        }),
        Usage::Shared => Availability::Known(true),
    }
}

/// How a resource fits a need: lower is better. Being free when needed weighs most,
/// then distance (one point per km), then each matching word takes 10 off.
pub fn match_score(available: bool, distance_km: Option<f64>, matched_words: usize) -> f64 {
    let availability = if available { 0.0 } else { 1000.0 };
    let distance = distance_km.unwrap_or(500.0);
    availability + distance - 10.0 * matched_words as f64
}

/// The best `limit` of `matches`, best first; ties go to the older resource so that
/// the order is stable from one call to the next.
pub fn best(mut matches: Vec<Match>, limit: usize) -> Vec<Match> {
    matches.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then(a.resource.id.cmp(&b.resource.id))
    });
    matches.truncate(limit);
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quantity::{Milli, QuantityUnit};
    use crate::domain::resource::tests::resource;
    use crate::domain::resource::{ResourceKind, ResourceState};
    use crate::domain::slot::tests::at;

    #[test]
    fn a_free_near_resource_beats_a_booked_or_far_one() {
        let free_near = match_score(true, Some(10.0), 2);
        let booked_near = match_score(false, Some(5.0), 2);
        let free_far = match_score(true, Some(200.0), 2);
        assert!(free_near < booked_near);
        assert!(free_near < free_far);
        assert_eq!(
            search_words("Une imprimante 3D près de Thiers"),
            ["3d", "imprimante", "thiers"].map(String::from).into()
        );
    }

    #[test]
    fn the_calendar_is_read_only_for_a_slot_of_a_bookable_resource() {
        let draft = crate::domain::NeedDraft {
            kind: None,
            description: "tuiles".into(),
            place: None,
            location: None,
            radius_km: None,
            slot: None,
            quantity: Some((Milli::from_milli(6000), QuantityUnit::Tonne)),
        };
        let mut need = Need::open(uuid::Uuid::now_v7(), draft, None, at(8));
        let tool = resource(ResourceKind::Equipment, ResourceState::Available);
        let stock = resource(ResourceKind::Material, ResourceState::Available);
        assert_eq!(availability(&need, &tool), Availability::Known(true));
        // 5 t left, 6 t needed.
        assert_eq!(availability(&need, &stock), Availability::Known(false));
        need.quantity = None;
        assert_eq!(availability(&need, &stock), Availability::Known(true));
        let slot = Slot::new(at(9), at(10)).unwrap();
        need.slot = Some(slot);
        assert_eq!(availability(&need, &tool), Availability::FreeDuring(slot));
    }
}
