//! Why notify refuses a call that is well formed and allowed: only the platform's
//! shared refusals, listed in the proto as `fabrique.notify.v1.Refusal`.

fabrique_types::string_enum!(
    /// The codes `google.rpc.ErrorInfo.reason` carries for notify (described in the
    /// proto and in the service's README.md).
    RefusalCode {
        /// The platform's: a stale etag.
        EtagMismatch => "ETAG_MISMATCH",
        /// The platform's: concurrent changes got in the way.
        ConcurrentChange => "CONCURRENT_CHANGE",
        /// The platform's: a request id another caller used.
        RequestIdReused => "REQUEST_ID_REUSED",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_s_codes_are_listed() {
        let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        fabrique_platform::refusal::assert_lists_shared(&codes);
    }
}
