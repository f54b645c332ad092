//! Typed refusals: why a call that was well formed and allowed is refused anyway (an
//! illegal transition, an inactive member, a spent envelope, a stale etag).
//!
//! Each service has one enum of its refusal codes (`refusal.rs`), listed in its proto
//! as `enum Refusal` (value `REFUSAL_<CODE>`) and mapped to it by name, so a client
//! knows every code it may get; its refusals carry what their message needs and build
//! it in one place. The platform's own refusals ([`Shared`]) are listed in every
//! service's enum: [`assert_lists_shared`] checks it.
//!
//! A refusal becomes an [`Error`](crate::Error) (`From`) whose `google.rpc.ErrorInfo.reason` is the code
//! (`MEMBER_NOT_ACTIVE`), with the gRPC code the refusal chooses, and whose
//! `ErrorInfo.metadata` holds the refusal's facts ([`Refusal::metadata`]).

use tonic::Code;

/// A refusal of a call, with its stable code and its message.
pub trait Refusal {
    /// The stable UPPER_SNAKE code, sent as `ErrorInfo.reason`.
    fn code(&self) -> &'static str;
    /// FAILED_PRECONDITION (the state does not allow it), ABORTED (a concurrent change:
    /// read again and retry) or ALREADY_EXISTS.
    fn status(&self) -> Code {
        Code::FailedPrecondition
    }
    /// What happened, in words a caller can act on.
    fn message(&self) -> String;
    /// What a program needs to act on it without parsing the message (the slot in the
    /// way, the amount left), sent as `ErrorInfo.metadata`: lower_snake keys, values
    /// as the API writes them (RFC 3339 times, resource names, integers). Each service
    /// documents its keys with its refusal codes.
    fn metadata(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// The refusals the platform itself makes, whatever the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// The `etag` sent is not the resource's current one.
    EtagMismatch {
        /// The resource name.
        resource: String,
    },
    /// A transaction lost to a concurrent one, or a resource kept changing while a
    /// call retried.
    ConcurrentChange {
        /// The resource name, when one resource was at stake.
        resource: Option<String>,
    },
    /// A `request_id` already used by another caller.
    RequestIdReused,
}

impl Shared {
    /// Every code of [`Shared`].
    pub const CODES: &'static [&'static str] =
        &["ETAG_MISMATCH", "CONCURRENT_CHANGE", "REQUEST_ID_REUSED"];
}

impl Refusal for Shared {
    fn code(&self) -> &'static str {
        match self {
            Shared::EtagMismatch { .. } => "ETAG_MISMATCH",
            Shared::ConcurrentChange { .. } => "CONCURRENT_CHANGE",
            Shared::RequestIdReused => "REQUEST_ID_REUSED",
        }
    }

    fn status(&self) -> Code {
        match self {
            Shared::EtagMismatch { .. } | Shared::ConcurrentChange { .. } => Code::Aborted,
            Shared::RequestIdReused => Code::AlreadyExists,
        }
    }

    fn message(&self) -> String {
        match self {
            Shared::EtagMismatch { resource } => format!(
                "{resource} was changed by someone else (etag mismatch): read it again and retry"
            ),
            Shared::ConcurrentChange {
                resource: Some(resource),
            } => {
                format!("{resource} keeps changing concurrently; retry")
            }
            Shared::ConcurrentChange { resource: None } => {
                "a concurrent change got in the way: retry".into()
            }
            Shared::RequestIdReused => {
                "request_id was already used by another caller; use a new UUID".into()
            }
        }
    }
}

/// Fails unless every code of [`Shared`] is among `codes` (a service's refusal codes).
pub fn assert_lists_shared(codes: &[&str]) {
    for shared in Shared::CODES {
        assert!(
            codes.contains(shared),
            "the service's refusal codes do not list the platform's {shared}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CODES` lists exactly the codes the variants send.
    #[test]
    fn the_shared_codes_are_the_variants_codes() {
        let sent: Vec<&str> = [
            Shared::EtagMismatch {
                resource: "members/1".into(),
            },
            Shared::ConcurrentChange { resource: None },
            Shared::RequestIdReused,
        ]
        .iter()
        .map(Refusal::code)
        .collect();
        assert_eq!(sent, Shared::CODES);
    }
}
