//! Pagination after AIP-158: `page_size` bounds, and opaque page tokens that carry the
//! position after the last item returned (a keyset cursor, so inserts between pages
//! cause neither duplicates nor gaps) and a fingerprint of the filters, so a token reused
//! with other filters is refused. A token that was not made here fails its checksum.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;
use crate::hash::fnv1a64;

const VERSION: u8 = 1;
const CHECKSUM_SALT: &[u8] = b"fabrique/page-token/v1";

/// Accumulates the filters of a List request into one number.
#[derive(Debug, Clone)]
pub struct Fingerprint(Vec<u8>);

impl Fingerprint {
    /// `method` keeps tokens of different List methods apart.
    pub fn new(method: &str) -> Self {
        let mut bytes = method.as_bytes().to_vec();
        bytes.push(0);
        Self(bytes)
    }

    /// Adds one filter, length first, so that `("ab", "c")` and `("a", "bc")` differ.
    pub fn with(mut self, part: impl AsRef<[u8]>) -> Self {
        let part = part.as_ref();
        self.0.extend_from_slice(&(part.len() as u64).to_le_bytes());
        self.0.extend_from_slice(part);
        self
    }

    /// The number a page token carries: a token used with other filters is refused.
    pub fn finish(&self) -> u64 {
        fnv1a64(&self.0)
    }
}

/// Encodes the cursor `key` (e.g. the last id returned) for the filters `fingerprint`.
pub fn encode(fingerprint: u64, key: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(1 + 8 + key.len() + 4);
    bytes.push(VERSION);
    bytes.extend_from_slice(&fingerprint.to_le_bytes());
    bytes.extend_from_slice(key);
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor of a token made by [`encode`] for the same filters.
pub fn decode(token: &str, fingerprint: u64) -> Result<Vec<u8>, Error> {
    let invalid = || Error::invalid("page_token", "is not a page token returned by this method");
    if token.len() > 1024 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    if bytes.len() < 1 + 8 + 4 || bytes[0] != VERSION {
        return Err(invalid());
    }
    let (body, sum) = bytes.split_at(bytes.len() - 4);
    if checksum(body) != sum {
        return Err(invalid());
    }
    let mut token_fingerprint = [0u8; 8];
    token_fingerprint.copy_from_slice(&body[1..9]);
    if u64::from_le_bytes(token_fingerprint) != fingerprint {
        return Err(Error::invalid(
            "page_token",
            "was returned for other filters: repeat the same filters with a page token, or start again without one",
        ));
    }
    Ok(body[9..].to_vec())
}

fn checksum(bytes: &[u8]) -> [u8; 4] {
    let mut salted = CHECKSUM_SALT.to_vec();
    salted.extend_from_slice(bytes);
    let hash = fnv1a64(&salted).to_le_bytes();
    [hash[0], hash[1], hash[2], hash[3]]
}

/// A page of results and the token of the next one (empty on the last page).
#[derive(Debug)]
pub struct Page<T> {
    /// At most `page_size` items.
    pub items: Vec<T>,
    /// Empty on the last page.
    pub next_page_token: String,
}

impl<T> Page<T> {
    /// `items` as fetched with one row more than `page_size`: that extra row says a next
    /// page exists, and the last row kept is where it starts (`cursor`, a UUIDv7 key).
    pub fn of(
        mut items: Vec<T>,
        page_size: u64,
        fingerprint: u64,
        cursor: impl Fn(&T) -> uuid::Uuid,
    ) -> Self {
        let next_page_token = if items.len() as u64 > page_size {
            items.truncate(page_size as usize);
            items
                .last()
                .map(|last| encode(fingerprint, cursor(last).as_bytes()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Self {
            items,
            next_page_token,
        }
    }
}

impl<T> Page<T> {
    /// `items` fetched from position `skip` with one row more than `page_size`, for a
    /// list whose order is not a key (most supported first, soonest first): the next
    /// page's token carries the position it starts at. Rows moving between pages may
    /// then show twice or not at all, which such orders accept.
    pub fn at_offset(mut items: Vec<T>, skip: u64, page_size: u64, fingerprint: u64) -> Self {
        let next_page_token = if items.len() as u64 > page_size {
            items.truncate(page_size as usize);
            encode(fingerprint, &(skip + page_size).to_le_bytes())
        } else {
            String::new()
        };
        Self {
            items,
            next_page_token,
        }
    }
}

/// The position a token made by [`Page::at_offset`] starts at; 0 for the first page.
pub fn decode_offset(token: &str, fingerprint: u64) -> Result<u64, Error> {
    if token.is_empty() {
        return Ok(0);
    }
    let bytes: [u8; 8] = decode(token, fingerprint)?
        .try_into()
        .map_err(|_| Error::invalid("page_token", "is not a page token returned by this method"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// The UUID a token made by [`Page::of`] resumes after; `None` for the first page.
pub fn decode_id(token: &str, fingerprint: u64) -> Result<Option<uuid::Uuid>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    uuid::Uuid::from_slice(&decode(token, fingerprint)?)
        .map(Some)
        .map_err(|_| Error::invalid("page_token", "is not a page token returned by this method"))
}

/// The token of a page listed nearest first: the last item's `distance` then its `id`,
/// as items at the same distance follow in id order.
pub fn encode_near(fingerprint: u64, distance: f64, id: uuid::Uuid) -> String {
    let mut cursor = Vec::with_capacity(8 + 16);
    cursor.extend_from_slice(&distance.to_le_bytes());
    cursor.extend_from_slice(id.as_bytes());
    encode(fingerprint, &cursor)
}

/// The distance and id a token made by [`encode_near`] resumes after; `None` for the
/// first page.
pub fn decode_near(token: &str, fingerprint: u64) -> Result<Option<(f64, uuid::Uuid)>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid("page_token", "is not a page token returned by this method");
    let cursor = decode(token, fingerprint)?;
    let (distance, id) = cursor.split_at_checked(8).ok_or_else(bad)?;
    Ok(Some((
        f64::from_le_bytes(distance.try_into().map_err(|_| bad())?),
        uuid::Uuid::from_slice(id).map_err(|_| bad())?,
    )))
}

/// Validates `page_size`: 0 means `default`, above `max` or negative is refused.
pub fn page_size(requested: i32, default: u32, max: u32) -> Result<u64, Error> {
    match requested {
        0 => Ok(u64::from(default)),
        n if n < 0 => Err(Error::invalid("page_size", "must not be negative")),
        n if n as u32 > max => Err(Error::invalid(
            "page_size",
            format!("must be at most {max}, got {n}"),
        )),
        n => Ok(n as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_page_says_where_the_next_starts() {
        let fingerprint = Fingerprint::new("ListMeetings").with("p").finish();
        let first = Page::at_offset(vec![1, 2, 3], 0, 2, fingerprint);
        assert_eq!(first.items, [1, 2]);
        assert_eq!(
            decode_offset(&first.next_page_token, fingerprint).ok(),
            Some(2)
        );
        let last = Page::at_offset(vec![3], 2, 2, fingerprint);
        assert!(last.next_page_token.is_empty());
        assert_eq!(decode_offset("", fingerprint).ok(), Some(0));
        let other = Fingerprint::new("ListMeetings").with("q").finish();
        assert!(decode_offset(&first.next_page_token, other).is_err());
        let id_token = encode(fingerprint, uuid::Uuid::nil().as_bytes());
        assert!(
            decode_offset(&id_token, fingerprint).is_err(),
            "not an offset"
        );
    }

    #[test]
    fn a_token_round_trips_with_its_filters() {
        let fingerprint = Fingerprint::new("ListMembers").with("63").finish();
        let token = encode(fingerprint, b"cursor");
        assert_eq!(decode(&token, fingerprint).unwrap(), b"cursor");
    }

    #[test]
    fn other_filters_and_forgeries_are_refused() {
        let a = Fingerprint::new("ListMembers").with("63").finish();
        let b = Fingerprint::new("ListMembers").with("62").finish();
        let token = encode(a, b"cursor");
        assert!(decode(&token, b).is_err());
        assert!(decode("not-a-token", a).is_err());
        assert!(decode("", a).is_err());
        let mut tampered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        tampered[10] ^= 1;
        assert!(decode(&URL_SAFE_NO_PAD.encode(tampered), a).is_err());
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        let ab_c = Fingerprint::new("m").with("ab").with("c").finish();
        let a_bc = Fingerprint::new("m").with("a").with("bc").finish();
        assert_ne!(ab_c, a_bc);
    }

    #[test]
    fn a_nearest_first_token_round_trips_and_is_bound_to_its_search() {
        let here = Fingerprint::new("ListPlaces")
            .with(45.77f64.to_le_bytes())
            .finish();
        let there = Fingerprint::new("ListPlaces")
            .with(48.85f64.to_le_bytes())
            .finish();
        let id = uuid::Uuid::now_v7();
        let token = encode_near(here, 12.5, id);
        assert_eq!(decode_near(&token, here).unwrap(), Some((12.5, id)));
        assert_eq!(decode_near("", here).unwrap(), None);
        assert!(decode_near(&token, there).is_err());
        // A valid token whose cursor is cut short, or is an id alone.
        assert!(decode_near(&encode(here, &12.5f64.to_le_bytes()[..4]), here).is_err());
        assert!(decode_near(&encode(here, &12.5f64.to_le_bytes()), here).is_err());
        assert!(decode_near(&encode(here, id.as_bytes()), here).is_err());
        // The token itself cut short.
        assert!(decode_near(&token[..token.len() - 3], here).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(0, 50, 500).unwrap(), 50);
        assert_eq!(page_size(500, 50, 500).unwrap(), 500);
        assert!(page_size(501, 50, 500).is_err());
        assert!(page_size(-1, 50, 500).is_err());
    }
}
