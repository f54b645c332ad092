//! The members' contact people, with their e-mails, published once on the private
//! stream (`fabrique.private.members.contacts.{id}`) for the members stored before the
//! notify service existed: it learns from that stream whom to write to, and a member
//! that never changes again would otherwise never be on it.

use fabrique_api::members as proto;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::proto_enum::ProtoMapped;
use fabrique_platform::time::timestamp;
use sea_orm::EntityTrait;
use sea_orm_migration::prelude::*;

use crate::domain::MemberState;
use crate::store::{entity, to_domain};

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
        for model in entity::Entity::find().all(db).await? {
            let member = to_domain(model).map_err(|e| DbErr::Custom(e.to_string()))?;
            let contacts = if member.state == MemberState::Left {
                Vec::new()
            } else {
                member
                    .profile
                    .contacts
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
                format!("{CONTACTS}.{}", member.id.uuid()),
                member.id.name(),
                member.updated_at,
                &proto::MemberContacts {
                    member: member.id.name(),
                    display_name: member.profile.display_name.as_str().to_string(),
                    contacts,
                    version: member.version,
                    occurred_at: Some(timestamp(member.updated_at)),
                },
            ));
        }
        for chunk in events.chunks(500) {
            fabrique_platform::outbox::enqueue(db, chunk.to_vec()).await?;
        }
        Ok(())
    }
}
