//! Why notify refuses a call that is well formed and allowed: its refusal codes, listed
//! in the proto as `fabrique.notify.v1.Refusal`, and each refusal's message.

use fabrique_platform::refusal::Refusal as RefusalTrait;

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for notify (described in the
    /// proto and in the service's README.md).
    RefusalCode {
        /// Retrying an e-mail that is not FAILED.
        DeliveryNotFailed => "DELIVERY_NOT_FAILED",
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

/// A refusal of notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Only a FAILED e-mail is tried again.
    DeliveryNotFailed {
        /// `deliveries/{id}`.
        delivery: String,
        /// Its state.
        state: &'static str,
    },
}

impl RefusalTrait for Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::DeliveryNotFailed { .. } => RefusalCode::DeliveryNotFailed.as_str(),
        }
    }

    fn message(&self) -> String {
        match self {
            Refusal::DeliveryNotFailed { delivery, state } => format!(
                "{delivery} is {}: only a FAILED e-mail is tried again",
                state.to_uppercase()
            ),
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
