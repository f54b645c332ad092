//! Events as they travel: the CloudEvents NATS-binding headers every event carries, an
//! [`OutgoingEvent`] a service writes to its outbox, and an [`IncomingEvent`] a consumer
//! receives, decoded and checked.
//!
//! Headers: `ce-specversion` (1.0), `ce-id` (the event id, a UUIDv7), `ce-source`
//! (`/fabrique/<service>`), `ce-type` (full proto message name), `ce-time` (RFC 3339),
//! `ce-subject` (resource name of the aggregate, e.g. `members/{id}`), `content-type`
//! (`application/protobuf`), `Nats-Msg-Id` (= `ce-id`, JetStream de-duplication),
//! W3C `traceparent` / `tracestate`, and who made the change, in the CloudEvents
//! authcontext extension: `ce-authtype` (`user`, `service_account`, `system`) and
//! `ce-authid` (see `auth::Actor`).

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::bus::{Headers, MSG_ID_HEADER};

/// Header: the CloudEvents version, `1.0`.
pub const CE_SPECVERSION: &str = "ce-specversion";
/// Header: the event id, a UUIDv7; consumers record it to skip a copy.
pub const CE_ID: &str = "ce-id";
/// Header: `/fabrique/<service>`, the producer.
pub const CE_SOURCE: &str = "ce-source";
/// Header: the full proto message name of the payload.
pub const CE_TYPE: &str = "ce-type";
/// Header: when the change happened, RFC 3339.
pub const CE_TIME: &str = "ce-time";
/// Header: the aggregate's resource name; events of one aggregate keep their order.
pub const CE_SUBJECT: &str = "ce-subject";
/// Header: the payload's encoding.
pub const CONTENT_TYPE: &str = "content-type";
/// Header: the W3C trace context the consumer's span continues.
pub const TRACEPARENT: &str = "traceparent";
/// Header: the W3C trace state that goes with [`TRACEPARENT`].
pub const TRACESTATE: &str = "tracestate";
/// Header (CloudEvents authcontext): `user`, `service_account` or `system`.
pub const CE_AUTHTYPE: &str = "ce-authtype";
/// Header (CloudEvents authcontext): the person or the token's subject who made it.
pub const CE_AUTHID: &str = "ce-authid";
/// The `content-type` of every event: protobuf, as the event contracts are.
pub const PROTOBUF: &str = "application/protobuf";

/// An event a service produces, before the outbox relay publishes it.
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    /// Its id, a UUIDv7: consumers record it, and the relay's `Nats-Msg-Id` is it.
    pub id: Uuid,
    /// Without the environment's subject prefix: `fabrique.members.member.joined`.
    pub subject: String,
    /// Full proto message name, e.g. `fabrique.members.v1.MemberJoined`.
    pub ce_type: String,
    /// Resource name of the aggregate, e.g. `members/{id}`; events of one aggregate are
    /// published in the order they were written.
    pub ce_subject: String,
    /// The encoded proto message.
    pub payload: Vec<u8>,
    /// When the change happened (`ce-time`), not when the event is published.
    pub occurred_at: DateTime<Utc>,
}

impl OutgoingEvent {
    /// The event of `message` about `aggregate`, with a fresh id; its `ce-type` is the
    /// message's proto name, so it cannot disagree with the payload.
    pub fn new<M: prost::Message + prost::Name>(
        subject: impl Into<String>,
        aggregate: impl Into<String>,
        occurred_at: DateTime<Utc>,
        message: &M,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            subject: subject.into(),
            ce_type: M::full_name(),
            ce_subject: aggregate.into(),
            payload: message.encode_to_vec(),
            occurred_at,
        }
    }
}

/// The headers of an event on the bus.
pub fn event_headers(
    id: Uuid,
    source: &str,
    ce_type: &str,
    ce_subject: &str,
    time: DateTime<Utc>,
) -> Headers {
    // The relay builds these for every event: room for the trace headers too, and no
    // formatting machinery for the id and the time (a tenth of the relay's CPU).
    let mut headers = Headers::with_capacity(10);
    let id = id
        .hyphenated()
        .encode_lower(&mut Uuid::encode_buffer())
        .to_string();
    headers.insert(CE_SPECVERSION, "1.0");
    headers.insert(CE_ID, id.clone());
    headers.insert(CE_SOURCE, source);
    headers.insert(CE_TYPE, ce_type);
    headers.insert(CE_TIME, rfc3339_micros(time));
    headers.insert(CE_SUBJECT, ce_subject);
    headers.insert(CONTENT_TYPE, PROTOBUF);
    headers.insert(MSG_ID_HEADER, id);
    headers
}

/// `time` as RFC 3339 in UTC with microseconds (`2026-11-29T21:47:05.123456Z`), as
/// chrono's `to_rfc3339_opts(SecondsFormat::Micros, true)` writes it.
pub fn rfc3339_micros(time: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = time.year();
    // Years of other than four digits, and leap seconds, as chrono writes them.
    if !(0..=9999).contains(&year) || time.nanosecond() >= 1_000_000_000 {
        return time.to_rfc3339_opts(SecondsFormat::Micros, true);
    }
    let mut text = String::with_capacity(27);
    let mut push = |value: u32, width: u32, then: Option<char>| {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
        if let Some(separator) = then {
            text.push(separator);
        }
    };
    push(year as u32, 4, Some('-'));
    push(time.month(), 2, Some('-'));
    push(time.day(), 2, Some('T'));
    push(time.hour(), 2, Some(':'));
    push(time.minute(), 2, Some(':'));
    push(time.second(), 2, Some('.'));
    push(time.nanosecond() / 1_000, 6, Some('Z'));
    text
}

/// `/fabrique/<service>`, the `ce-source` of a service's events.
pub fn source_of(service: &str) -> String {
    format!("/fabrique/{service}")
}

/// An event received by a consumer, with its CloudEvents attributes checked.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    /// `ce-id`: what the consumer records to recognise a copy.
    pub id: Uuid,
    /// Without the environment's subject prefix.
    pub subject: String,
    /// `ce-type`: [`Self::decode`] refuses a payload of another message.
    pub ce_type: String,
    /// `ce-source`: the producing service.
    pub source: String,
    /// `ce-subject`, the aggregate; optional, as CloudEvents has it.
    pub ce_subject: Option<String>,
    /// `ce-time`; optional, as CloudEvents has it.
    pub time: Option<DateTime<Utc>>,
    /// Every header received, the trace context among them.
    pub headers: Headers,
    /// The encoded proto message.
    pub payload: Bytes,
}

impl IncomingEvent {
    /// Checks the CloudEvents headers; the error says what is wrong, for the DLQ.
    pub fn parse(subject: &str, headers: &Headers, payload: Bytes) -> Result<Self, String> {
        let required = |name: &str| {
            headers
                .get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("missing header {name}"))
        };
        let version = required(CE_SPECVERSION)?;
        if version != "1.0" {
            return Err(format!("unsupported {CE_SPECVERSION} {version:?}"));
        }
        let id = required(CE_ID)?;
        let id = Uuid::parse_str(id).map_err(|_| format!("{CE_ID} {id:?} is not a UUID"))?;
        let content_type = headers.get(CONTENT_TYPE).unwrap_or(PROTOBUF);
        if content_type != PROTOBUF {
            return Err(format!("unsupported {CONTENT_TYPE} {content_type:?}"));
        }
        let time = match headers.get(CE_TIME) {
            Some(time) => Some(
                DateTime::parse_from_rfc3339(time)
                    .map_err(|_| format!("{CE_TIME} {time:?} is not RFC 3339"))?
                    .with_timezone(&Utc),
            ),
            None => None,
        };
        Ok(Self {
            id,
            subject: subject.to_string(),
            ce_type: required(CE_TYPE)?.to_string(),
            source: required(CE_SOURCE)?.to_string(),
            ce_subject: headers.get(CE_SUBJECT).map(str::to_owned),
            time,
            headers: headers.clone(),
            payload,
        })
    }

    /// Decodes the payload as `M`, refusing an event whose `ce-type` is another message.
    pub fn decode<M: prost::Message + prost::Name + Default>(&self) -> Result<M, String> {
        let expected = M::full_name();
        if self.ce_type != expected {
            return Err(format!(
                "{CE_TYPE} is {:?}, expected {expected:?} on {}",
                self.ce_type, self.subject
            ));
        }
        M::decode(self.payload.clone())
            .map_err(|e| format!("payload is not a valid {expected}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> Headers {
        event_headers(
            Uuid::now_v7(),
            "/fabrique/members",
            "fabrique.members.v1.MemberJoined",
            "members/1",
            Utc::now(),
        )
    }

    #[test]
    fn parses_what_it_writes() {
        let headers = headers();
        let event = IncomingEvent::parse("fabrique.members.member.joined", &headers, Bytes::new())
            .expect("valid headers");
        assert_eq!(event.ce_type, "fabrique.members.v1.MemberJoined");
        assert_eq!(headers.get(MSG_ID_HEADER), headers.get(CE_ID));
        assert_eq!(event.ce_subject.as_deref(), Some("members/1"));
    }

    #[test]
    fn refuses_missing_or_malformed_attributes() {
        let mut bad_id = headers();
        bad_id.insert(CE_ID, "nope");
        assert!(
            IncomingEvent::parse("s", &bad_id, Bytes::new())
                .unwrap_err()
                .contains("UUID")
        );
        let mut no_type = headers();
        no_type.insert(CE_TYPE, "");
        assert!(
            IncomingEvent::parse("s", &no_type, Bytes::new())
                .unwrap_err()
                .contains(CE_TYPE)
        );
        let mut json = headers();
        json.insert(CONTENT_TYPE, "application/json");
        assert!(IncomingEvent::parse("s", &json, Bytes::new()).is_err());
        assert!(IncomingEvent::parse("s", &Headers::new(), Bytes::new()).is_err());
    }
}
