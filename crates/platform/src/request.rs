//! Parsing the fields every API shares, into [`Error::InvalidArgument`] naming the
//! field: optional values, etags, reasons, request ids.

use fabrique_types::Invalid;
use uuid::Uuid;

use crate::error::Error;

/// Blank is `None`; anything else must parse.
pub fn optional<T>(
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

/// An etag, when given: the version it names.
pub fn etag(field: &str, etag: &str) -> Result<Option<i64>, Error> {
    optional(etag, fabrique_types::change::parse_etag)
        .map_err(|invalid| Error::invalid(field, invalid.0))
}

/// Why (suspending, leaving, closing): at most 500 characters; `required` refuses blank.
pub fn reason(field: &str, reason: &str, required: bool) -> Result<Option<String>, Error> {
    match fabrique_types::optional_text(reason, 500) {
        Ok(None) if required => Err(Error::invalid(field, "must say why")),
        Ok(reason) => Ok(reason),
        Err(invalid) => Err(Error::invalid(field, invalid.0)),
    }
}

/// AIP-155 replay: what an earlier call with the same request id created, when
/// `same_caller` says that call was this caller's; another caller reusing the id gets
/// ALREADY_EXISTS (it must not learn, nor get, what someone else created).
pub fn replay<T>(
    existing: Option<T>,
    same_caller: impl FnOnce(&T) -> bool,
) -> Result<Option<T>, Error> {
    match existing {
        Some(existing) if same_caller(&existing) => Ok(Some(existing)),
        Some(_) => Err(crate::refusal::Shared::RequestIdReused.into()),
        None => Ok(None),
    }
}

/// An AIP-155 request id, when given: a UUID.
pub fn request_id(field: &str, request_id: &str) -> Result<Option<Uuid>, Error> {
    optional(request_id, |id| {
        Uuid::parse_str(id.trim()).map_err(|_| Invalid::new("must be a UUID"))
    })
    .map_err(|invalid| Error::invalid(field, invalid.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_fields() {
        assert_eq!(etag("etag", "").unwrap(), None);
        assert_eq!(etag("etag", "\"v2\"").unwrap(), Some(2));
        assert!(etag("etag", "2").is_err());
        assert!(reason("reason", " ", true).is_err());
        assert_eq!(reason("reason", " ", false).unwrap(), None);
        assert!(reason("reason", &"x".repeat(501), false).is_err());
        assert!(request_id("request_id", "nope").is_err());
        assert!(
            request_id("request_id", &Uuid::now_v7().to_string())
                .unwrap()
                .is_some()
        );
    }
}
