//! Domain enums ⇄ the contract's enums, by name: the one mechanism every service uses.
//!
//! A domain enum ([`fabrique_types::string_enum!`]) maps to a proto enum when each
//! variant's [`api_name`](NamedEnum::api_name), upper-cased behind the proto enum's
//! prefix (its zero value's name without `UNSPECIFIED`), names a proto variant:
//! `MemberKind::EssEnterprise` (`ess_enterprise`) is `MEMBER_KIND_ESS_ENTERPRISE`. No
//! mapping depends on the order of variants or on their numbers.
//!
//! A service declares a pair once with [`proto_mapped!`](crate::proto_mapped), which
//! implements [`ProtoMapped`] and `From<Domain> for Proto`; its tests call
//! [`assert_round_trip`], which fails when a variant exists on one side only.

pub use fabrique_api::ProtoEnum;
use fabrique_types::{Invalid, NamedEnum};

/// A domain enum and the proto enum it maps to by name.
pub trait ProtoMapped: NamedEnum {
    /// The prost enum of the contract.
    type Proto: ProtoEnum;

    /// The proto variant named like `self`; the zero value if there is none, which
    /// [`assert_round_trip`] rules out.
    fn to_proto(self) -> Self::Proto {
        let prefix = Self::Proto::prefix();
        let api = self.api_name();
        let mut buffer = [0u8; 96];
        let length = prefix.len() + api.len();
        if length > buffer.len() {
            return Self::Proto::default();
        }
        buffer[..prefix.len()].copy_from_slice(prefix.as_bytes());
        buffer[prefix.len()..length].copy_from_slice(api.as_bytes());
        buffer[prefix.len()..length].make_ascii_uppercase();
        std::str::from_utf8(&buffer[..length])
            .ok()
            .and_then(Self::Proto::from_str_name)
            .unwrap_or_default()
    }

    /// The domain variant of a proto value read from a message: the zero value is "must
    /// be set", an unknown number or name is refused saying so.
    fn from_proto(value: i32) -> Result<Self, Invalid> {
        let Ok(proto) = Self::Proto::try_from(value) else {
            return Err(Invalid::new(format!("unknown value {value}")));
        };
        if proto == Self::Proto::default() {
            return Err(Invalid::new(format!(
                "must be set (not {})",
                proto.as_str_name()
            )));
        }
        let name = proto.as_str_name();
        let short = name.strip_prefix(Self::Proto::prefix()).unwrap_or(name);
        Self::VARIANTS
            .iter()
            .copied()
            .find(|variant| variant.api_name().eq_ignore_ascii_case(short))
            .ok_or_else(|| Invalid::new(format!("{name} is not handled here")))
    }

    /// [`to_proto`](Self::to_proto) as the number a message field holds.
    fn to_proto_i32(self) -> i32 {
        self.to_proto().into()
    }
}

/// Declares that a domain enum maps to a proto enum by name: implements
/// [`ProtoMapped`] and `From<Domain> for Proto`.
///
/// ```ignore
/// fabrique_platform::proto_mapped!(MemberKind => proto::MemberKind);
/// ```
#[macro_export]
macro_rules! proto_mapped {
    ($($domain:ty => $proto:ty),+ $(,)?) => {
        $(
            impl $crate::proto_enum::ProtoMapped for $domain {
                type Proto = $proto;
            }

            impl From<$domain> for $proto {
                fn from(value: $domain) -> Self {
                    $crate::proto_enum::ProtoMapped::to_proto(value)
                }
            }
        )+
    };
}

/// Every value of a proto enum, zero included, found by trying the numbers a proto
/// enum of ours uses.
pub fn proto_values<P: ProtoEnum>() -> Vec<P> {
    (0..256).filter_map(|n| P::try_from(n).ok()).collect()
}

/// Fails unless every variant of `D` maps to a proto variant and back, and every proto
/// variant but the zero value maps to a variant of `D`: a variant added on one side
/// only fails it.
pub fn assert_round_trip<D: ProtoMapped>() {
    let zero = D::Proto::default();
    for variant in D::VARIANTS {
        let proto = variant.to_proto();
        assert_ne!(
            proto,
            zero,
            "{variant:?} ({}) has no {}{} in the proto",
            variant.api_name(),
            D::Proto::prefix(),
            variant.api_name().to_ascii_uppercase()
        );
        assert_eq!(
            D::from_proto(proto.into()).ok(),
            Some(*variant),
            "{variant:?} does not come back from {proto:?}"
        );
    }
    for proto in proto_values::<D::Proto>() {
        if proto == zero {
            assert!(
                D::from_proto(proto.into()).is_err(),
                "the zero value is refused"
            );
            continue;
        }
        assert!(
            D::from_proto(proto.into()).is_ok(),
            "{} has no variant in {}",
            proto.as_str_name(),
            std::any::type_name::<D>()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fabrique_api::members;

    fabrique_types::string_enum!(
        /// The members' states, with one missing.
        Partial {
            Pending => "pending",
            Active => "active",
        }
    );
    crate::proto_mapped!(Partial => members::MemberState);

    #[test]
    fn values_map_by_name_and_the_zero_value_is_refused() {
        assert_eq!(Partial::Active.to_proto(), members::MemberState::Active);
        assert_eq!(
            members::MemberState::from(Partial::Pending),
            members::MemberState::Pending
        );
        assert_eq!(
            Partial::from_proto(members::MemberState::Active as i32).map_err(|e| e.0),
            Ok(Partial::Active)
        );
        let unset = Partial::from_proto(0).unwrap_err().0;
        assert!(unset.contains("must be set"), "{unset}");
        let unknown = Partial::from_proto(99).unwrap_err().0;
        assert!(unknown.contains("unknown value 99"), "{unknown}");
        let unhandled = Partial::from_proto(members::MemberState::Left as i32)
            .unwrap_err()
            .0;
        assert!(unhandled.contains("MEMBER_STATE_LEFT"), "{unhandled}");
    }

    #[test]
    fn a_variant_on_one_side_only_fails_the_round_trip() {
        let missing = std::panic::catch_unwind(assert_round_trip::<Partial>);
        assert!(missing.is_err(), "MEMBER_STATE_SUSPENDED has no variant");
    }

    /// Every enum of the contracts implements `ProtoEnum` (crates/api's build script
    /// writes the impls): a round trip through its names works for each of them.
    #[test]
    fn every_proto_enum_is_named_both_ways() {
        fn names<P: ProtoEnum>() -> usize {
            let values = proto_values::<P>();
            for value in &values {
                assert_eq!(P::from_str_name(value.as_str_name()), Some(*value));
            }
            values.len()
        }
        assert_eq!(names::<fabrique_api::members::MemberKind>(), 12);
        assert_eq!(names::<fabrique_api::registry::DayOfWeek>(), 8);
        assert!(names::<fabrique_api::projects::Refusal>() > 3);
    }
}
