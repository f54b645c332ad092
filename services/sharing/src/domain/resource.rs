//! Resources: what a member offers, what it costs, how it is used (booked, claimed or
//! shared), the resource's lifecycle — AVAILABLE, WITHDRAWN by its owner (or because the
//! owner left), UNAVAILABLE while its place is closed — decided by [`Resource::next`],
//! and who may reserve or claim it.

use chrono::{DateTime, Utc};
use fabrique_types::{Invalid, Location, bounded_text};
use uuid::Uuid;

use super::quantity::{Milli, QuantityUnit};
use super::resource_name;
use super::slot::BookingRules;
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// What is shared.
    ResourceKind {
        Equipment => "equipment",
        Space => "space",
        Vehicle => "vehicle",
        Expertise => "expertise",
        Material => "material",
        Method => "method",
    }
);

/// How a resource is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// By time slot.
    Booked,
    /// By quantity.
    Claimed,
    /// As is.
    Shared,
}

impl ResourceKind {
    /// Each kind is used one way: this decides whether a resource has a calendar, a
    /// stock, or neither.
    pub fn usage(&self) -> Usage {
        match self {
            Self::Equipment | Self::Space | Self::Vehicle | Self::Expertise => Usage::Booked,
            Self::Material => Usage::Claimed,
            Self::Method => Usage::Shared,
        }
    }

    /// Whether a resource of this kind may have `rules`: only what is booked by time
    /// slot has booking rules, and the default rules (no limit at all) are what a client
    /// sends for any kind when it fills every field.
    pub fn takes_rules(&self, rules: &BookingRules) -> bool {
        self.usage() == Usage::Booked || *rules == BookingRules::default()
    }
}

fabrique_types::string_enum!(
    /// Where a resource is in its lifecycle; only an AVAILABLE one is reserved or claimed.
    ResourceState {
        Available => "available",
        Withdrawn => "withdrawn",
        Unavailable => "unavailable",
    }
);

/// What using a resource costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    /// `None`: free.
    pub price_cents_per_day: Option<i64>,
    /// Asked back when the resource is returned; 0 when none.
    pub deposit_cents: i64,
}

impl Conditions {
    /// No price, no deposit: what a resource offered without conditions costs.
    pub fn free() -> Self {
        Self {
            price_cents_per_day: None,
            deposit_cents: 0,
        }
    }
}

/// The most eco-labels one resource may carry.
pub const MAX_ECO_LABELS: usize = 20;

/// A title: one line, 1 to 200 characters.
pub fn parse_title(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 200)
}

/// A description: several lines, at most 5,000 characters; blank is none.
pub fn parse_description(value: &str) -> Result<Option<String>, Invalid> {
    fabrique_types::text::optional_multiline(value, 5000)
}

/// An eco-label: one line, 1 to 100 characters.
pub fn parse_eco_label(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 100)
}

/// Something a member offers the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub id: Uuid,
    /// The member offering it.
    pub owner: Uuid,
    pub kind: ResourceKind,
    pub title: String,
    pub description: Option<String>,
    /// The registry place it is at, if any.
    pub place: Option<Uuid>,
    /// Where it is: given, or the coordinates of its place.
    pub location: Option<Location>,
    pub conditions: Conditions,
    pub eco_labels: Vec<String>,
    pub state: ResourceState,
    /// Why it was withdrawn or is unavailable; `None` once AVAILABLE again.
    pub state_reason: Option<String>,
    /// The default (no limit) unless it is booked by time slot.
    pub rules: BookingRules,
    /// Materials: (offered, remaining, unit).
    pub stock: Option<(Milli, Milli, QuantityUnit)>,
    /// The subject of the token that offered it: a retried create is recognised by it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; the etag is made from it.
    pub version: i64,
}

/// A resource lifecycle change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceTransition {
    /// Its owner (or the owner's departure) takes it off offer.
    Withdraw {
        /// Kept as its state reason and sent with the event.
        reason: Option<String>,
    },
    /// Its owner offers it again, after a withdrawal or once its place reopened.
    Restore,
    /// Its place closed: it cannot be used until it is restored.
    MakeUnavailable {
        /// Kept as its state reason and sent with the event.
        reason: String,
    },
}

impl Resource {
    /// A new resource, AVAILABLE at version 1, its stock all remaining.
    /// `location`: the draft's, or its place's coordinates.
    pub fn offer(
        owner: Uuid,
        draft: ResourceDraft,
        location: Option<Location>,
        created_by: String,
        now: DateTime<Utc>,
    ) -> Self {
        Resource {
            id: Uuid::now_v7(),
            owner,
            kind: draft.kind,
            title: draft.title,
            description: draft.description,
            place: draft.place,
            location,
            conditions: draft.conditions,
            eco_labels: draft.eco_labels,
            state: ResourceState::Available,
            state_reason: None,
            rules: draft.rules.unwrap_or_default(),
            stock: draft.quantity.map(|(q, unit)| (q, q, unit)),
            created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// `resources/{id}`.
    pub fn name(&self) -> String {
        resource_name(self.id)
    }

    /// What a client sends back to change it.
    pub fn etag(&self) -> String {
        fabrique_types::change::etag_of(self.version)
    }

    /// What is left of a material; `None` for other kinds.
    pub fn remaining(&self) -> Option<Milli> {
        self.stock.map(|(_, remaining, _)| remaining)
    }

    /// The resource after `transition` at `now`, or why its state does not allow it:
    /// the one place a resource's lifecycle is decided (AVAILABLE | UNAVAILABLE →
    /// WITHDRAWN, WITHDRAWN | UNAVAILABLE → AVAILABLE, AVAILABLE → UNAVAILABLE).
    pub fn next(
        &self,
        transition: &ResourceTransition,
        now: DateTime<Utc>,
    ) -> Result<Resource, Refusal> {
        use ResourceState::*;
        let (to, reason) = match (transition, self.state) {
            (ResourceTransition::Withdraw { reason }, Available | Unavailable) => {
                (Withdrawn, reason.clone())
            }
            (ResourceTransition::Restore, Withdrawn | Unavailable) => (Available, None),
            (ResourceTransition::MakeUnavailable { reason }, Available) => {
                (Unavailable, Some(reason.clone()))
            }
            (ResourceTransition::Withdraw { .. } | ResourceTransition::Restore, _) => {
                return Err(Refusal::ResourceAlready {
                    resource: self.name(),
                    state: self.state.as_str(),
                });
            }
            // Only the place's closing makes a resource unavailable: one withdrawn stays
            // withdrawn, one already unavailable has nothing to change.
            (ResourceTransition::MakeUnavailable { .. }, _) => {
                return Err(Refusal::ResourceNotAvailable {
                    resource: self.name(),
                    state: self.state.as_str(),
                });
            }
        };
        let mut next = self.clone();
        next.state = to;
        next.state_reason = reason;
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }

    /// The resource at `location`, its place's new coordinates, at `now`: not a state
    /// change, but a new version all the same, announced as an update.
    pub fn moved_to(&self, location: Location, now: DateTime<Utc>) -> Resource {
        let mut next = self.clone();
        next.location = Some(location);
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// Whether `borrower` may reserve it: someone else's, booked by time slot, AVAILABLE
    /// (checked in that order, so the refusal names the first rule broken).
    pub fn bookable_by(&self, borrower: Uuid) -> Result<(), Refusal> {
        if self.owner == borrower {
            return Err(Refusal::OwnResource {
                resource: self.name(),
            });
        }
        if self.kind.usage() != Usage::Booked {
            return Err(Refusal::NotBookable {
                resource: self.name(),
                kind: self.kind.as_str(),
            });
        }
        self.check_available()
    }

    /// Whether `claimant` may claim from it, and the unit its stock is counted in: a
    /// material, someone else's, AVAILABLE (in that order).
    pub fn claimable_by(&self, claimant: Uuid) -> Result<QuantityUnit, Refusal> {
        let Some((_, _, unit)) = self.stock else {
            return Err(Refusal::NotAMaterial {
                resource: self.name(),
                kind: self.kind.as_str(),
            });
        };
        if self.owner == claimant {
            return Err(Refusal::OwnResource {
                resource: self.name(),
            });
        }
        self.check_available()?;
        Ok(unit)
    }

    fn check_available(&self) -> Result<(), Refusal> {
        if self.state != ResourceState::Available {
            return Err(Refusal::ResourceNotAvailable {
                resource: self.name(),
                state: self.state.as_str(),
            });
        }
        Ok(())
    }
}

/// What a new resource is made of (from the request).
#[derive(Debug, Clone)]
pub struct ResourceDraft {
    /// Set by an admin offering for a member; else the caller's member.
    pub owner: Option<Uuid>,
    pub kind: ResourceKind,
    pub title: String,
    pub description: Option<String>,
    pub place: Option<Uuid>,
    /// `None` with a place: the place's coordinates.
    pub location: Option<Location>,
    pub conditions: Conditions,
    pub eco_labels: Vec<String>,
    /// `None`: no limit.
    pub rules: Option<BookingRules>,
    /// Materials only, and required for them.
    pub quantity: Option<(Milli, QuantityUnit)>,
}

impl ResourceDraft {
    /// The field that does not fit the draft's kind, and why: a material needs a
    /// quantity, nothing else has one, and only what is booked has booking rules.
    pub fn check_usage(&self) -> Result<(), (&'static str, Invalid)> {
        let usage = self.kind.usage();
        if usage == Usage::Claimed && self.quantity.is_none() {
            return Err(("quantity", Invalid::new("is required for a material")));
        }
        if usage != Usage::Claimed && self.quantity.is_some() {
            return Err(("quantity", Invalid::new("is only for materials")));
        }
        if self.rules.is_some_and(|r| !self.kind.takes_rules(&r)) {
            return Err((
                "booking_rules",
                Invalid::new("apply to bookable kinds only"),
            ));
        }
        Ok(())
    }
}

/// The fields an update changes; `None`: unchanged.
#[derive(Debug, Clone, Default)]
pub struct ResourcePatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub place: Option<Option<Uuid>>,
    pub location: Option<Option<Location>>,
    pub conditions: Option<Conditions>,
    pub eco_labels: Option<Vec<String>>,
    pub rules: Option<BookingRules>,
}

/// A resource after a patch that changed something.
#[derive(Debug, Clone)]
pub struct Patched {
    /// At the next version.
    pub resource: Resource,
    /// Whether its coordinates still follow its place (and move when the place does).
    pub location_from_place: bool,
    /// The fields that changed, as the contract names them (for the event).
    pub changed: Vec<String>,
}

impl ResourcePatch {
    /// `current` with the patch applied at `now`, or `None` when nothing changes.
    /// `place_location`: the coordinates of the new place the patch names, if it names
    /// one (see `Patched::relocate`).
    pub fn apply(
        self,
        current: &Resource,
        location_from_place: bool,
        place_location: Option<Location>,
        now: DateTime<Utc>,
    ) -> Option<Patched> {
        use fabrique_types::change::apply as set;
        let mut patched = Patched {
            resource: current.clone(),
            location_from_place,
            changed: Vec::new(),
        };
        let (next, changed) = (&mut patched.resource, &mut patched.changed);
        set(&mut next.title, self.title, "title", changed);
        set(
            &mut next.description,
            self.description,
            "description",
            changed,
        );
        set(&mut next.conditions, self.conditions, "conditions", changed);
        set(&mut next.eco_labels, self.eco_labels, "eco_labels", changed);
        set(&mut next.rules, self.rules, "booking_rules", changed);
        patched.relocate(self.place, self.location, place_location);
        if patched.changed.is_empty() {
            return None;
        }
        patched.resource.version += 1;
        patched.resource.updated_at = now;
        Some(patched)
    }
}

impl Patched {
    /// Applies a new `place` (its coordinates `place_location`) and a new `location`.
    /// The place's coordinates replace the location when it came from the old place or
    /// there was none; a location given explicitly wins over the place's, and stops
    /// following it.
    fn relocate(
        &mut self,
        place: Option<Option<Uuid>>,
        location: Option<Option<Location>>,
        place_location: Option<Location>,
    ) {
        let next = &mut self.resource;
        if let Some(place) = place
            && place != next.place
        {
            if place.is_some()
                && let Some(location) = place_location
                && (self.location_from_place || next.location.is_none())
            {
                next.location = Some(location);
                self.location_from_place = true;
            }
            next.place = place;
            self.changed.push("place".into());
        }
        if let Some(location) = location
            && location != next.location
        {
            next.location = location;
            self.location_from_place = false;
            self.changed.push("location".into());
        }
    }
}

/// What a list of resources is limited to; empty lists and `None` do not limit.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    pub kinds: Vec<ResourceKind>,
    /// Empty: AVAILABLE.
    pub states: Vec<ResourceState>,
    pub owner: Option<Uuid>,
    pub place: Option<Uuid>,
    /// Folded text that the title or the description must contain.
    pub query: Option<String>,
    /// Leave out this member's own resources (matching).
    pub not_owner: Option<Uuid>,
}

#[cfg(test)]
pub(crate) mod tests {
    use fabrique_platform::refusal::Refusal as _;

    use super::*;
    use crate::domain::slot::tests::at;

    /// A resource of `kind` in `state`, owned by a member of its own.
    pub(crate) fn resource(kind: ResourceKind, state: ResourceState) -> Resource {
        let draft = ResourceDraft {
            owner: None,
            kind,
            title: "Broyeur de végétaux".into(),
            description: None,
            place: None,
            location: None,
            conditions: Conditions::free(),
            eco_labels: Vec::new(),
            rules: None,
            quantity: (kind.usage() == Usage::Claimed)
                .then(|| (Milli::from_milli(5000), QuantityUnit::Tonne)),
        };
        let mut resource = Resource::offer(Uuid::now_v7(), draft, None, "test".into(), at(8));
        resource.state = state;
        resource
    }

    #[test]
    fn one_function_decides_a_resource_s_lifecycle() {
        use ResourceState::*;
        let reason = || "en réparation".to_string();
        let transitions = [
            ResourceTransition::Withdraw {
                reason: Some(reason()),
            },
            ResourceTransition::Restore,
            ResourceTransition::MakeUnavailable { reason: reason() },
        ];
        let allowed = [
            (Available, 0, Withdrawn),
            (Unavailable, 0, Withdrawn),
            (Withdrawn, 1, Available),
            (Unavailable, 1, Available),
            (Available, 2, Unavailable),
        ];
        let now = at(9);
        for from in ResourceState::ALL {
            for (t, transition) in transitions.iter().enumerate() {
                let current = resource(ResourceKind::Equipment, *from);
                let result = current.next(transition, now);
                match allowed.iter().find(|(f, i, _)| f == from && *i == t) {
                    Some((_, _, to)) => {
                        let next = result.expect("allowed");
                        assert_eq!(next.state, *to, "{from:?} + {transition:?}");
                        assert_eq!(next.version, current.version + 1);
                        assert_eq!(next.updated_at, now);
                        assert_eq!(next.state_reason.is_some(), *to != Available);
                    }
                    None => {
                        let refusal = result.expect_err("refused");
                        let code = match transition {
                            ResourceTransition::MakeUnavailable { .. } => "RESOURCE_NOT_AVAILABLE",
                            _ => "RESOURCE_STATE",
                        };
                        assert_eq!(refusal.code(), code, "{from:?} + {transition:?}");
                        assert!(
                            refusal.message().contains(&from.as_str().to_uppercase()),
                            "{}",
                            refusal.message()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn only_someone_else_s_available_resource_is_reserved_or_claimed() {
        let code = |result: Result<(), Refusal>| result.map_err(|r| r.code());
        let tool = resource(ResourceKind::Equipment, ResourceState::Available);
        let stock = resource(ResourceKind::Material, ResourceState::Available);
        let other = Uuid::now_v7();
        assert_eq!(code(tool.bookable_by(other)), Ok(()));
        assert_eq!(code(tool.bookable_by(tool.owner)), Err("OWN_RESOURCE"));
        assert_eq!(code(stock.bookable_by(other)), Err("NOT_BOOKABLE"));
        let withdrawn = resource(ResourceKind::Equipment, ResourceState::Withdrawn);
        assert_eq!(
            code(withdrawn.bookable_by(other)),
            Err("RESOURCE_NOT_AVAILABLE")
        );
        assert_eq!(stock.claimable_by(other), Ok(QuantityUnit::Tonne));
        assert_eq!(
            code(stock.claimable_by(stock.owner).map(|_| ())),
            Err("OWN_RESOURCE")
        );
        assert_eq!(
            code(tool.claimable_by(other).map(|_| ())),
            Err("NOT_A_MATERIAL")
        );
    }

    #[test]
    fn a_patch_moves_the_location_with_the_place_unless_one_is_given() {
        let current = resource(ResourceKind::Space, ResourceState::Available);
        let (place, there) = (Uuid::now_v7(), Location::parse(45.8, 3.5).unwrap());
        let patch = ResourcePatch {
            place: Some(Some(place)),
            ..Default::default()
        };
        let patched = patch.apply(&current, false, Some(there), at(9)).unwrap();
        assert_eq!(patched.resource.location, Some(there));
        assert!(patched.location_from_place);
        assert_eq!(patched.changed, ["place"]);
        assert_eq!(patched.resource.version, current.version + 1);
        let here = Location::parse(45.7, 3.1).unwrap();
        let patch = ResourcePatch {
            place: Some(Some(place)),
            location: Some(Some(here)),
            ..Default::default()
        };
        let patched = patch.apply(&current, false, Some(there), at(9)).unwrap();
        assert_eq!(patched.resource.location, Some(here));
        assert!(!patched.location_from_place);
        let same = ResourcePatch {
            title: Some(current.title.clone()),
            ..Default::default()
        };
        assert!(same.apply(&current, false, None, at(9)).is_none());
    }

    #[test]
    fn a_draft_fits_its_kind() {
        let mut draft = ResourceDraft {
            owner: None,
            kind: ResourceKind::Material,
            title: "Tuiles".into(),
            description: None,
            place: None,
            location: None,
            conditions: Conditions::free(),
            eco_labels: Vec::new(),
            rules: None,
            quantity: None,
        };
        assert_eq!(draft.check_usage().unwrap_err().0, "quantity");
        draft.quantity = Some((Milli::from_milli(1000), QuantityUnit::Unit));
        assert!(draft.check_usage().is_ok());
        draft.rules = Some(BookingRules {
            max_duration: Some(chrono::Duration::hours(2)),
            ..Default::default()
        });
        assert_eq!(draft.check_usage().unwrap_err().0, "booking_rules");
        draft.rules = Some(BookingRules::default());
        assert!(draft.check_usage().is_ok());
    }
}
