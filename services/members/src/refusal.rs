//! Why the members service refuses a call that is well formed and allowed: its refusal
//! codes, listed in the proto as `fabrique.members.v1.Refusal` (`proto.rs` maps them),
//! and each refusal's message, built here and nowhere else.

use fabrique_platform::refusal::Refusal as RefusalTrait;
use tonic::Code;

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for the members service: its own
    /// and the platform's shared ones (each described in the proto and in the service's
    /// README.md).
    RefusalCode {
        /// Approving a member that is not PENDING.
        MemberNotPending => "MEMBER_NOT_PENDING",
        /// Suspending a member that is not ACTIVE.
        MemberNotActive => "MEMBER_NOT_ACTIVE",
        /// Reinstating a member that is not SUSPENDED.
        MemberNotSuspended => "MEMBER_NOT_SUSPENDED",
        /// Leaving twice.
        MemberAlreadyLeft => "MEMBER_ALREADY_LEFT",
        /// Changing a member that left.
        MemberLeft => "MEMBER_LEFT",
        /// Another current member holds the SIREN.
        SirenAlreadyMember => "SIREN_ALREADY_MEMBER",
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

/// A refusal of the members service, with what its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A lifecycle call the member's current state does not allow: `code` is one of the
    /// four `MEMBER_NOT_*` / `MEMBER_ALREADY_LEFT`, `rule` says which states allow it.
    IllegalTransition {
        /// The code the transition is refused with.
        code: RefusalCode,
        /// The member's resource name.
        member: String,
        /// Its current state.
        state: &'static str,
        /// The rule, in words.
        rule: &'static str,
    },
    /// A member that left cannot be changed.
    Left {
        /// The member's resource name.
        member: String,
    },
    /// Another current member holds this SIREN.
    SirenTaken {
        /// The SIREN asked for.
        siren: String,
        /// The resource name of the member that holds it.
        holder: String,
    },
}

impl RefusalTrait for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::IllegalTransition { code, .. } => code.as_str(),
            Refusal::Left { .. } => RefusalCode::MemberLeft.as_str(),
            Refusal::SirenTaken { .. } => RefusalCode::SirenAlreadyMember.as_str(),
        }
    }

    fn status(&self) -> Code {
        match self {
            Refusal::SirenTaken { .. } => Code::AlreadyExists,
            _ => Code::FailedPrecondition,
        }
    }

    fn message(&self) -> String {
        match self {
            Refusal::IllegalTransition {
                member,
                state,
                rule,
                ..
            } => format!("{member} is {}: {rule}", state.to_uppercase()),
            Refusal::Left { member } => {
                format!("{member} has left; it can no longer be changed")
            }
            Refusal::SirenTaken { siren, holder } => {
                format!("SIREN {siren} already belongs to {holder}")
            }
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

    #[test]
    fn each_refusal_sends_a_listed_code() {
        let refusals = [
            Refusal::IllegalTransition {
                code: RefusalCode::MemberNotActive,
                member: "members/1".into(),
                state: "pending",
                rule: "only an active member can be suspended",
            },
            Refusal::Left {
                member: "members/1".into(),
            },
            Refusal::SirenTaken {
                siren: "216304303".into(),
                holder: "members/2".into(),
            },
        ];
        for refusal in refusals {
            assert!(
                RefusalCode::ALL
                    .iter()
                    .any(|c| c.as_str() == refusal.code()),
                "{refusal:?}"
            );
        }
    }
}
