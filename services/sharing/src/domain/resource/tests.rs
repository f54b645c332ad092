//! The resource's rules, tried one by one.
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
