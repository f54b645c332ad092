//! Every conversion between the projects service's domain and its contract
//! (`fabrique.projects.v1`): enums mapped by name, aggregates to messages, requests
//! parsed into drafts and patches with every invalid field reported by its path. Used
//! by the gRPC handlers and by the events; depends on the domain only.
//!
//! One submodule per aggregate: [`project`], [`programme`] (programmes and their
//! applications), [`group_purchase`], [`workshop`]. What they share — names, members,
//! times, lists of enum values — is here.

use fabrique_api::projects as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::request::optional;
use fabrique_platform::time::from_timestamp;
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use crate::domain::{
    ApplicationState, Category, GroupPurchaseState, Invalid, PaymentKind, ProgrammeState,
    ProjectState, Recommendation, SiteCategory, Theme, parse, parse_application_name,
};
use crate::refusal::RefusalCode;

pub mod group_purchase;
pub mod grouping;
pub mod programme;
pub mod project;
pub mod workshop;

pub use group_purchase::{group_purchase_for, lots_to_proto, parse_award, parse_sites};
pub use grouping::{grouping_for, parse_grouping};
pub use programme::{parse_envelope_change, parse_payment};
pub use project::{parse_project_patch, project_for};
pub use workshop::{parse_co_pilots, parse_restitution, parse_team, team_report_for, workshop_for};

fabrique_platform::proto_mapped!(
    Theme => proto::Theme,
    ProjectState => proto::ProjectState,
    ProgrammeState => proto::ProgrammeState,
    ApplicationState => proto::ApplicationState,
    PaymentKind => proto::PaymentKind,
    Recommendation => proto::Recommendation,
    Category => proto::GroupPurchaseCategory,
    GroupPurchaseState => proto::GroupPurchaseState,
    SiteCategory => proto::SiteCategory,
    RefusalCode => proto::Refusal,
);

// ---------------------------------------------------------------------------
// Fields every request shares
// ---------------------------------------------------------------------------

/// The id in `value`, a `{collection}/{id}` name given in `field`.
pub fn name_of(field: &str, collection: &str, value: &str) -> Result<Uuid, Error> {
    parse(collection, value).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// The programme and application ids in `value`, a
/// `programmes/{id}/applications/{id}` name given in `field`.
pub fn application_of(field: &str, value: &str) -> Result<(Uuid, Uuid), Error> {
    parse_application_name(value).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// A member name that may be left blank, given in `field`.
pub fn optional_member_of(field: &str, value: &str) -> Result<Option<Uuid>, Error> {
    opt_member(value).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// One enum value given in `field`; unset (the zero value) is refused.
pub fn enum_of<E: ProtoMapped>(field: &str, value: i32) -> Result<E, Error> {
    E::from_proto(value).map_err(|invalid| Error::invalid(field, invalid.0))
}

/// A list of enum values (a filter), each invalid one reported as `field[i]`.
pub fn enums_of<E: ProtoMapped>(field: &str, values: &[i32]) -> Result<Vec<E>, Error> {
    let mut v = Violations::new();
    let mut parsed = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if let Some(value) = v.check(&format!("{field}[{i}]"), E::from_proto(*value)) {
            parsed.push(value);
        }
    }
    v.into_result()?;
    Ok(parsed)
}

fn opt_member(value: &str) -> Result<Option<Uuid>, Invalid> {
    optional(value, |v| parse("members", v))
}

/// An optional time: `Some(None)` when absent, `None` (and a violation) when invalid.
fn time(
    v: &mut Violations,
    field: &str,
    t: Option<&prost_types::Timestamp>,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    match t {
        None => Some(None),
        Some(t) => match from_timestamp(t) {
            Some(at) => Some(Some(at)),
            None => {
                v.add(field, "is not a valid time");
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use fabrique_platform::proto_enum::assert_round_trip;

    use super::*;

    #[test]
    fn every_enum_maps_both_ways_by_name() {
        assert_round_trip::<Theme>();
        assert_round_trip::<ProjectState>();
        assert_round_trip::<ProgrammeState>();
        assert_round_trip::<ApplicationState>();
        assert_round_trip::<PaymentKind>();
        assert_round_trip::<Recommendation>();
        assert_round_trip::<Category>();
        assert_round_trip::<GroupPurchaseState>();
        assert_round_trip::<RefusalCode>();
    }

    /// Unset (the zero value) is refused, as it was when enums mapped by position, and so
    /// is a number the contract does not define, however far out of range.
    #[test]
    fn an_unset_enum_is_refused() {
        let unset = enum_of::<Category>("group_purchase.category", 0).unwrap_err();
        assert!(unset.to_string().contains("must be set"), "{unset}");
        assert!(enums_of::<Theme>("themes", &[1, 0]).is_err());
        assert!(enums_of::<ProjectState>("states", &[i32::MIN]).is_err());
    }
}
