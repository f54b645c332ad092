//! The members' contact people, with their e-mails, published once on the private
//! stream (`fabrique.private.members.contacts.{id}`) for the members stored before the
//! notify service existed: it learns from that stream whom to write to, and a member
//! that never changes again would otherwise never be on it.

use fabrique_api::members as proto;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use sea_orm::{EntityTrait, QuerySelect};
use sea_orm_migration::prelude::*;

use crate::domain::{MemberId, MemberState};
use crate::store::{contacts_from_json, entity};

/// Puts every member's contacts in the outbox.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000103_publish_contacts"
    }
}

/// The subject of the members service's private events (its `events::CONTACTS`).
const CONTACTS: &str = "fabrique.private.members.contacts";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let mut events = Vec::new();
        // The columns this migration knew, not the whole entity: columns added by later
        // migrations do not exist yet when it runs on a new database.
        use entity::Column;
        let rows: Vec<(
            uuid::Uuid,
            String,
            String,
            serde_json::Value,
            i64,
            chrono::DateTime<chrono::Utc>,
        )> = entity::Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::DisplayName,
                Column::State,
                Column::Contacts,
                Column::Version,
                Column::UpdatedAt,
            ])
            .into_tuple()
            .all(db)
            .await?;
        for (id, display_name, state, contacts, version, updated_at) in rows {
            let invalid = |e: fabrique_types::Invalid| DbErr::Custom(format!("member {id}: {e}"));
            let state: MemberState = state.parse().map_err(invalid)?;
            let id = MemberId::from_uuid(id);
            let contacts = if state == MemberState::Left {
                Vec::new()
            } else {
                contacts_from_json(contacts)
                    .map_err(invalid)?
                    .iter()
                    .map(|c| proto::Contact {
                        full_name: c.full_name.clone(),
                        role: c.role.to_proto_i32(),
                        email: c
                            .email
                            .as_ref()
                            .map(|e| e.as_str().to_string())
                            .unwrap_or_default(),
                        title: c.title.clone().unwrap_or_default(),
                    })
                    .collect()
            };
            events.push(OutgoingEvent::new(
                format!("{CONTACTS}.{}", id.uuid()),
                id.name(),
                updated_at,
                &proto::MemberContacts {
                    member: id.name(),
                    display_name,
                    contacts,
                    version,
                    occurred_at: Some(timestamp(updated_at)),
                },
            ));
        }
        for chunk in events.chunks(500) {
            fabrique_platform::outbox::enqueue(db, chunk.to_vec()).await?;
        }
        Ok(())
    }
}
