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
        /// A tool or machine, booked by time slot.
        Equipment => "equipment",
        /// A room or a workshop bench, booked by time slot.
        Space => "space",
        /// A van, a trailer, a cargo bike: booked by time slot.
        Vehicle => "vehicle",
        /// A member's time and know-how, booked by time slot.
        Expertise => "expertise",
        /// Reusable material, claimed by quantity from a stock that never goes below zero.
        Material => "material",
        /// A method or a document, shared as is: nothing to book or claim.
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
    /// slot has rules on its slots, and the default rules (no limit at all) are what a
    /// client sends for any kind when it fills every field; any kind may set its answer
    /// window.
    pub fn takes_rules(&self, rules: &BookingRules) -> bool {
        // Any kind may set how long its owner has to answer a request (a claim too).
        let slot_rules = BookingRules {
            answer_within: None,
            ..*rules
        };
        self.usage() == Usage::Booked || slot_rules == BookingRules::default()
    }
}

fabrique_types::string_enum!(
    /// Where a resource is in its lifecycle; only an AVAILABLE one is reserved or claimed.
    ResourceState {
        /// On offer: the only state in which it is reserved or claimed.
        Available => "available",
        /// Taken off offer by its owner, or because its owner left the alliance.
        Withdrawn => "withdrawn",
        /// Out of use while its place is closed, until it is restored.
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
    /// Named `resources/{id}` in the contract and the events.
    pub id: Uuid,
    /// The member offering it.
    pub owner: Uuid,
    /// What is shared; decides whether it is booked, claimed or shared as is.
    pub kind: ResourceKind,
    /// What members see of it in lists and matches.
    pub title: String,
    /// Details in free text; `None` when blank.
    pub description: Option<String>,
    /// The registry place it is at, if any.
    pub place: Option<Uuid>,
    /// Where it is: given, or the coordinates of its place.
    pub location: Option<Location>,
    /// What using it costs the borrower or claimant.
    pub conditions: Conditions,
    /// Environmental labels its owner declares, at most [`MAX_ECO_LABELS`].
    pub eco_labels: Vec<String>,
    /// Where it is in its lifecycle; changed only by [`Resource::next`].
    pub state: ResourceState,
    /// Why it was withdrawn or is unavailable; `None` once AVAILABLE again.
    pub state_reason: Option<String>,
    /// The default (no limit) unless it is booked by time slot.
    pub rules: BookingRules,
    /// Materials: (offered, remaining, unit).
    pub stock: Option<(Milli, Milli, QuantityUnit)>,
    /// The subject of the token that offered it: a retried create is recognised by it.
    pub created_by: String,
    /// When it was offered.
    pub created_at: DateTime<Utc>,
    /// When its last version was made.
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
    /// Decides whether a quantity or booking rules are allowed ([`ResourceDraft::check_usage`]).
    pub kind: ResourceKind,
    /// Checked by [`parse_title`].
    pub title: String,
    /// Checked by [`parse_description`]; `None` when blank.
    pub description: Option<String>,
    /// The registry place it is at; must be known here and not closed.
    pub place: Option<Uuid>,
    /// `None` with a place: the place's coordinates.
    pub location: Option<Location>,
    /// What using it will cost.
    pub conditions: Conditions,
    /// At most [`MAX_ECO_LABELS`], each checked by [`parse_eco_label`].
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
    /// Checked by [`parse_title`].
    pub title: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// `Some(None)` detaches it from its place; a new place may bring its coordinates.
    pub place: Option<Option<Uuid>>,
    /// `Some(None)` clears the coordinates; given ones stop following the place.
    pub location: Option<Option<Location>>,
    /// What using it costs from this version on.
    pub conditions: Option<Conditions>,
    /// Replaces the whole list.
    pub eco_labels: Option<Vec<String>>,
    /// Only for kinds booked by time slot.
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
    /// Any of these kinds.
    pub kinds: Vec<ResourceKind>,
    /// Empty: AVAILABLE.
    pub states: Vec<ResourceState>,
    /// Only what this member offers.
    pub owner: Option<Uuid>,
    /// Only what is at this registry place.
    pub place: Option<Uuid>,
    /// Folded text that the title or the description must contain.
    pub query: Option<String>,
    /// Leave out this member's own resources (matching).
    pub not_owner: Option<Uuid>,
}

#[cfg(test)]
pub(crate) mod tests;
