//! AIP-122 resource names: `<collection>/<UUID>`.

use uuid::Uuid;

use crate::text::Invalid;

/// The id of `name` if it is `<collection>/<UUID>`.
pub fn parse_name(collection: &str, name: &str) -> Result<Uuid, Invalid> {
    let id = name
        .strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| {
            Invalid::new(format!(
                "must be a resource name of the form {collection}/{{id}}"
            ))
        })?;
    Uuid::parse_str(id)
        .map_err(|_| Invalid::new(format!("must be {collection}/{{id}} with a UUID id")))
}

pub fn format_name(collection: &str, id: Uuid) -> String {
    format!("{collection}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(
            parse_name("places", &format_name("places", id)).unwrap(),
            id
        );
        assert!(parse_name("places", &format_name("members", id)).is_err());
        assert!(parse_name("places", "places/42").is_err());
        assert!(parse_name("places", "placesx/0190").is_err());
    }
}
