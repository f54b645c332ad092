//! Time at the edges: `google.protobuf.Timestamp` in and out, and "now" at the
//! microsecond precision both databases keep (so a value read back equals the value
//! written, and etags or comparisons do not drift).

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// `time` as a protobuf `Timestamp`, nanoseconds kept.
pub fn timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

/// `None` when the timestamp is out of range or its nanos are negative.
pub fn from_timestamp(time: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(time.nanos).ok()?;
    DateTime::from_timestamp(time.seconds, nanos)
}

/// Now, truncated to the microsecond: what PostgreSQL and SQLite keep, so a value
/// written and read back is equal to itself.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let now = now();
        assert_eq!(from_timestamp(&timestamp(now)), Some(now));
        assert_eq!(now.timestamp_subsec_nanos() % 1000, 0);
        assert!(
            from_timestamp(&Timestamp {
                seconds: 0,
                nanos: -1
            })
            .is_none()
        );
    }
}
