//! Optimistic concurrency and partial updates: etags made from a version counter, and
//! applying the fields an update mask names while recording which actually changed.

use crate::text::Invalid;

/// The etag of a version: opaque to clients (`"v3"`, quotes included, as in HTTP).
pub fn etag_of(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The version an etag was made from.
pub fn parse_etag(etag: &str) -> Result<i64, Invalid> {
    etag.trim()
        .strip_prefix("\"v")
        .and_then(|rest| rest.strip_suffix('"'))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| Invalid::new("is not an etag returned by this service"))
}

/// Sets `slot` to `value` when one is given and differs, recording `name` in `changed`.
pub fn apply<T: PartialEq>(slot: &mut T, value: Option<T>, name: &str, changed: &mut Vec<String>) {
    if let Some(value) = value
        && *slot != value
    {
        *slot = value;
        changed.push(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag_of(7)).unwrap(), 7);
        assert!(parse_etag("7").is_err());
        assert!(parse_etag("\"v0\"").is_err());
    }

    #[test]
    fn only_real_changes_are_recorded() {
        let mut changed = Vec::new();
        let mut name = "a".to_string();
        apply(&mut name, Some("a".to_string()), "name", &mut changed);
        apply(&mut name, None, "name", &mut changed);
        assert!(changed.is_empty());
        apply(&mut name, Some("b".to_string()), "name", &mut changed);
        assert_eq!((name.as_str(), changed), ("b", vec!["name".to_string()]));
    }
}
