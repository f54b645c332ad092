//! Why the registry refuses a call that is well formed and allowed: its refusal codes,
//! listed in the proto as `fabrique.registry.v1.Refusal` (`proto.rs` maps them), and
//! each refusal's message, built here and nowhere else.

use fabrique_platform::refusal::Refusal as RefusalTrait;

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for the registry: its own and the
    /// platform's shared ones (each described in the proto and in the service's
    /// README.md).
    RefusalCode {
        /// Approving a place that is not PROPOSED.
        PlaceNotProposed => "PLACE_NOT_PROPOSED",
        /// Suspending a place that is not LISTED.
        PlaceNotListed => "PLACE_NOT_LISTED",
        /// Reinstating a place that is not SUSPENDED.
        PlaceNotSuspended => "PLACE_NOT_SUSPENDED",
        /// Changing or closing a CLOSED place.
        PlaceClosed => "PLACE_CLOSED",
        /// The operator is not an active member as the registry knows it.
        OperatorNotActive => "OPERATOR_NOT_ACTIVE",
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

/// A refusal of the registry, with what its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A moderation call the place's state does not allow: `code` is one of the
    /// `PLACE_NOT_*`, `rule` says which state allows it.
    IllegalTransition {
        /// The code the transition is refused with.
        code: RefusalCode,
        /// The place's resource name.
        place: String,
        /// Its current state.
        state: &'static str,
        /// The rule, in words.
        rule: &'static str,
    },
    /// A closed place is never changed, nor closed again.
    Closed {
        /// The place's resource name.
        place: String,
    },
    /// The operator named in `field` is not an active member as the registry knows it:
    /// `state` is its state, `None` when the registry does not know it.
    OperatorNotActive {
        /// The request field that names the operator.
        field: String,
        /// The operator's resource name.
        operator: String,
        /// Its state in the registry's replica of members, if it is there.
        state: Option<String>,
    },
}

impl RefusalTrait for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::IllegalTransition { code, .. } => code.as_str(),
            Refusal::Closed { .. } => RefusalCode::PlaceClosed.as_str(),
            Refusal::OperatorNotActive { .. } => RefusalCode::OperatorNotActive.as_str(),
        }
    }

    fn message(&self) -> String {
        match self {
            Refusal::IllegalTransition {
                place, state, rule, ..
            } => format!("{place} is {}: {rule}", state.to_uppercase()),
            Refusal::Closed { place } => {
                format!("{place} is CLOSED: a closed place can no longer be changed")
            }
            Refusal::OperatorNotActive {
                field,
                operator,
                state: Some(state),
            } => format!(
                "{field}: {operator} is {}, not an active member",
                state.to_uppercase()
            ),
            Refusal::OperatorNotActive {
                field,
                operator,
                state: None,
            } => format!("{field}: {operator} is not a member known to the registry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_s_codes_are_listed() {
        let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        fabrique_platform::refusal::assert_lists_shared(&codes);
    }
}
