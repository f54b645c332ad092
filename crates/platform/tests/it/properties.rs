//! Property tests of what the platform parses from outside: page tokens and events.
//! No input makes them panic; a token decodes only for the filters it was made for and
//! only untouched; an event parses only with its CloudEvents headers, and decodes only
//! as the type it names. Cases: `PROPTEST_CASES` (scripts/test sets 1,000).

use bytes::Bytes;
use fabrique_api::members as mp;
use fabrique_platform::bus::Headers;
use fabrique_platform::event::{IncomingEvent, event_headers, source_of};
use fabrique_platform::page;
use proptest::prelude::*;
use prost::{Message, Name};

const HEADER_NAMES: &[&str] = &[
    "ce-specversion",
    "ce-id",
    "ce-source",
    "ce-type",
    "ce-time",
    "ce-subject",
    "content-type",
    "traceparent",
    "x-other",
];

fn headers() -> impl Strategy<Value = Headers> {
    prop::collection::vec(
        (
            prop::sample::select(HEADER_NAMES),
            prop_oneof!["\\PC{0,40}", Just("1.0".to_string())],
        ),
        0..10,
    )
    .prop_map(|pairs| {
        let mut headers = Headers::new();
        for (name, value) in pairs {
            headers.insert(name, value);
        }
        headers
    })
}

proptest! {
    #[test]
    fn event_times_are_written_as_chrono_writes_them(
        // Years -9999 to 9999 and beyond; nanoseconds up to a leap second's.
        seconds in -377_705_116_800i64..377_705_116_800,
        nanos in 0u32..2_000_000_000,
    ) {
        if let Some(time) = chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, nanos) {
            prop_assert_eq!(
                fabrique_platform::event::rfc3339_micros(time),
                time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            );
        }
    }

    #[test]
    fn no_text_makes_page_token_decoding_panic(token in ".{0,200}", fingerprint in any::<u64>()) {
        if let Ok(key) = page::decode(&token, fingerprint) {
            // Only what encode made decodes.
            prop_assert_eq!(page::encode(fingerprint, &key), token);
        }
    }

    #[test]
    fn a_token_decodes_for_its_filters_only_and_untouched(
        key in prop::collection::vec(any::<u8>(), 0..64),
        fingerprint in any::<u64>(),
        other in any::<u64>(),
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec()),
    ) {
        let token = page::encode(fingerprint, &key);
        prop_assert_eq!(page::decode(&token, fingerprint).unwrap(), key);
        if other != fingerprint {
            prop_assert!(page::decode(&token, other).is_err());
        }
        let mut tampered = token.clone().into_bytes();
        let at = position.index(tampered.len());
        if tampered[at] != replacement {
            tampered[at] = replacement;
            let tampered = String::from_utf8(tampered).unwrap();
            prop_assert!(page::decode(&tampered, fingerprint).is_err(), "{} accepted", tampered);
        }
    }

    #[test]
    fn no_headers_or_payload_make_event_parsing_panic(
        headers in headers(),
        payload in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        if let Ok(event) = IncomingEvent::parse("fabrique.members.member.applied", &headers, Bytes::from(payload)) {
            let _ = event.decode::<mp::MemberApplied>();
        }
    }

    #[test]
    fn a_real_event_parses_and_decodes_only_as_its_type(
        id in any::<u128>(),
        display_name in "\\PC{1,60}",
        version in 1i64..1_000_000,
    ) {
        let event = mp::MemberApplied {
            member: Some(mp::MemberSnapshot {
                id: uuid::Uuid::from_u128(id).to_string(),
                display_name,
                version,
                ..Default::default()
            }),
            occurred_at: None,
        };
        let event_id = uuid::Uuid::now_v7();
        let headers = event_headers(
            event_id,
            &source_of("members"),
            &mp::MemberApplied::full_name(),
            "members/x",
            chrono::Utc::now(),
        );
        let parsed = IncomingEvent::parse(
            "fabrique.members.member.applied",
            &headers,
            Bytes::from(event.encode_to_vec()),
        )
        .unwrap();
        prop_assert_eq!(parsed.id, event_id);
        prop_assert_eq!(parsed.decode::<mp::MemberApplied>().unwrap(), event);
        prop_assert!(parsed.decode::<mp::MemberJoined>().is_err());
    }
}
