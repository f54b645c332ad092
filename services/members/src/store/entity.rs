//! The `members` table.

use sea_orm::entity::prelude::*;

/// A row of `members`: a member flattened (enums and codes as their text, contacts as
/// JSON), plus what only the store needs — the folded name and the department for
/// searches, the creation request for retries.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    /// `display_name` folded (lowercase, no accents) for text search.
    pub search_name: String,
    pub kind: String,
    pub siren: Option<String>,
    /// Added by `m20261207_000104_member_siret`.
    pub siret: Option<String>,
    /// Added by `m20261207_000105_member_epci`.
    pub epci_siren: Option<String>,
    pub insee_code: Option<String>,
    /// Derived from `insee_code`, for the department filter.
    pub insee_department: Option<String>,
    pub territory: Option<String>,
    pub website: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub contacts: Json,
    /// The contacts' e-mails, `|a@x.fr|b@y.fr|` in lowercase: found with LIKE.
    pub contact_emails: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub joined_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
    /// The `request_id` of the CreateMember call (AIP-155).
    pub create_request_id: Option<Uuid>,
    /// The token subject that created the member.
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
