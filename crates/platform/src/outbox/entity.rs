//! The `fabrique_outbox` table (see the platform migrations).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fabrique_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: Uuid,
    pub subject: String,
    pub ce_type: String,
    pub ce_subject: String,
    pub payload: Vec<u8>,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    /// CloudEvents authcontext: `user`, `service_account` or `system`.
    pub auth_type: Option<String>,
    /// CloudEvents authcontext: who, for `user` and `service_account`.
    pub auth_id: Option<String>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
