//! Every conversion between notify's domain and its contract (`fabrique.notify.v1`):
//! enums mapped by name, settings and deliveries to messages, requests parsed with
//! every invalid field reported by its path.

use fabrique_api::notify as proto;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use fabrique_platform::{Error, Violations};
use uuid::Uuid;

use crate::domain::{Delivery, DeliveryState, Email, Kind, Settings, parse_address, settings_name};
use crate::refusal::RefusalCode;
use crate::store::DeliveryFilter;

fabrique_platform::proto_mapped!(
    Kind => proto::NotificationKind,
    DeliveryState => proto::DeliveryState,
    RefusalCode => proto::Refusal,
);

/// The address in `notificationSettings/{email}`, from the field `field`.
pub fn parse_settings_name(field: &str, name: &str) -> Result<Email, Error> {
    let address = name
        .strip_prefix("notificationSettings/")
        .ok_or_else(|| Error::invalid(field, "must be notificationSettings/{email}"))?;
    parse_address(address).map_err(|e| Error::invalid(field, e.0))
}

/// The id in `deliveries/{id}`, from the field `field`.
pub fn parse_delivery_name(field: &str, name: &str) -> Result<Uuid, Error> {
    name.strip_prefix("deliveries/")
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| Error::invalid(field, "must be deliveries/{id}"))
}

/// The address and kinds of an update, every invalid field reported.
pub fn parse_update(
    request: &proto::UpdateNotificationSettingsRequest,
) -> Result<(Email, Vec<Kind>, Option<i64>), Error> {
    let Some(settings) = &request.settings else {
        return Err(Error::invalid("settings", "is required"));
    };
    let mut v = Violations::new();
    let email = v.check(
        "settings.name",
        settings
            .name
            .strip_prefix("notificationSettings/")
            .ok_or_else(|| "must be notificationSettings/{email}".to_string())
            .and_then(|address| parse_address(address).map_err(|e| e.0)),
    );
    let mut kinds = Vec::new();
    for (i, kind) in settings.disabled_kinds.iter().enumerate() {
        if let Some(kind) = v.check(
            &format!("settings.disabled_kinds[{i}]"),
            Kind::from_proto(*kind),
        ) {
            kinds.push(kind);
        }
    }
    let etag = v.check(
        "settings.etag",
        fabrique_platform::request::optional(&settings.etag, fabrique_types::change::parse_etag),
    );
    v.into_result()?;
    Ok((email.expect("checked"), kinds, etag.flatten()))
}

/// `settings` as the contract has them.
pub fn settings_to_proto(settings: &Settings) -> proto::NotificationSettings {
    let mut disabled: Vec<Kind> = settings.disabled.clone();
    disabled.sort_by_key(|k| k.to_proto_i32());
    proto::NotificationSettings {
        name: settings_name(&settings.email),
        email: settings.email.as_str().to_string(),
        disabled_kinds: disabled.iter().map(|k| k.to_proto_i32()).collect(),
        etag: if settings.version == 0 {
            String::new()
        } else {
            fabrique_types::change::etag_of(settings.version)
        },
        update_time: settings.updated_at.map(timestamp),
    }
}

/// What `ListDeliveries` keeps.
pub fn parse_delivery_filter(
    request: &proto::ListDeliveriesRequest,
) -> Result<DeliveryFilter, Error> {
    let mut v = Violations::new();
    let state = if request.state == 0 {
        None
    } else {
        v.check("state", DeliveryState::from_proto(request.state))
    };
    let recipient = if request.recipient.is_empty() {
        None
    } else {
        v.check(
            "recipient",
            parse_address(&request.recipient).map_err(|e| e.0),
        )
    };
    let event_id = if request.event_id.is_empty() {
        None
    } else {
        v.check(
            "event_id",
            Uuid::parse_str(&request.event_id).map_err(|_| "must be a UUID".to_string()),
        )
    };
    v.into_result()?;
    Ok(DeliveryFilter {
        state,
        recipient,
        event_id,
    })
}

/// A delivery as the contract has it (without its bodies).
pub fn delivery_to_proto(d: &Delivery) -> proto::Delivery {
    proto::Delivery {
        name: d.name(),
        event_id: d.event_id.to_string(),
        kind: d.kind.to_proto_i32(),
        recipient: d.recipient.as_str().to_string(),
        subject: d.subject.clone(),
        link: d.link.clone(),
        state: d.state.to_proto_i32(),
        attempts: d.attempts,
        last_error: d.last_error.clone().unwrap_or_default(),
        create_time: Some(timestamp(d.created_at)),
        send_time: d.sent_at.map(timestamp),
        next_attempt_time: (d.state == DeliveryState::Pending)
            .then(|| timestamp(d.next_attempt_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fabrique_platform::proto_enum::assert_round_trip;

    #[test]
    fn enums_map_by_name_both_ways() {
        assert_round_trip::<Kind>();
        assert_round_trip::<DeliveryState>();
        assert_round_trip::<RefusalCode>();
    }

    #[test]
    fn an_update_reports_each_bad_field() {
        let request = proto::UpdateNotificationSettingsRequest {
            settings: Some(proto::NotificationSettings {
                name: "notificationSettings/pas-une-adresse".into(),
                disabled_kinds: vec![1, 99],
                etag: "nope".into(),
                ..Default::default()
            }),
        };
        let error = parse_update(&request).unwrap_err().to_string();
        assert!(error.contains("settings.name"), "{error}");
        assert!(error.contains("settings.disabled_kinds[1]"), "{error}");
        assert!(error.contains("settings.etag"), "{error}");
    }
}
