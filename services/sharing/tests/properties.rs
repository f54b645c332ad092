//! Property tests of the sharing service's time and quantity arithmetic: free intervals
//! never overlap what is held (with its turnaround) and cover the rest of the window
//! exactly; quantities are exact in thousandths and refuse what they cannot hold.
//! Cases: `PROPTEST_CASES` (scripts/test sets 1,000).

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use fabrique_sharing::domain::{Milli, Slot, free_intervals};
use proptest::prelude::*;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).single().unwrap() + Duration::minutes(minutes)
}

proptest! {
    #[test]
    fn slots_are_refused_unless_they_end_after_they_start(start in -100_000i64..100_000, end in -100_000i64..100_000) {
        match Slot::new(at(start), at(end)) {
            Ok(slot) => prop_assert!(slot.start() < slot.end()),
            Err(_) => prop_assert!(end <= start),
        }
    }

    #[test]
    fn free_intervals_avoid_what_is_held_and_cover_the_rest(
        window in (0i64..1_000, 1i64..2_000),
        held in prop::collection::vec((0i64..3_000, 1i64..300), 0..12),
        turnaround in 0i64..120,
    ) {
        let window = Slot::new(at(window.0), at(window.0 + window.1)).unwrap();
        let held: Vec<_> = held.iter().map(|(s, d)| (at(*s), at(s + d))).collect();
        let turnaround = Duration::minutes(turnaround);
        let free = free_intervals(window, &held, turnaround);
        for (i, slot) in free.iter().enumerate() {
            prop_assert!(slot.start() >= window.start() && slot.end() <= window.end());
            if i > 0 {
                prop_assert!(free[i - 1].end() < slot.start(), "free intervals overlap or touch");
            }
            for (start, end) in &held {
                let busy = Slot::new(*start - turnaround, *end).unwrap();
                prop_assert!(!slot.overlaps(&busy), "{:?} overlaps {:?}", slot, busy);
            }
        }
        // Every minute of the window is free or busy, never both.
        let mut minute = window.start();
        while minute < window.end() {
            let is_free = free.iter().any(|s| s.start() <= minute && minute < s.end());
            let is_busy = held.iter().any(|(s, e)| *s - turnaround <= minute && minute < *e);
            prop_assert!(is_free != is_busy, "minute {} is free: {}, busy: {}", minute, is_free, is_busy);
            minute += Duration::minutes(1);
        }
    }

    #[test]
    fn quantities_are_exact_in_thousandths(milli in 1i64..1_000_000_000_000) {
        let amount = milli as f64 / 1000.0;
        prop_assert_eq!(Milli::parse_positive(amount).unwrap().milli(), milli);
    }

    #[test]
    fn no_number_makes_a_quantity_panic(amount in any::<f64>()) {
        if let Ok(milli) = Milli::parse_positive(amount) {
            prop_assert!(milli.milli() > 0 && milli.milli() <= 1_000_000_000_000);
        }
    }
}
