//! Where members are kept: the sea-orm entity, the migrations, and the queries, which
//! work on PostgreSQL and SQLite alike. Rows are turned back into domain types here; a
//! row that no longer parses is reported as an internal error, never served.

mod entity;
pub mod migrations;

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

pub use entity::{Column, Entity};

use crate::domain::{
    Contact, ContactRole, Department, DisplayName, Email, InseeCode, Invalid, Member, MemberId,
    MemberKind, MemberState, Profile, Siren, Siret, Website,
};

/// Filters of a list; every part narrows the result.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Any of these kinds; empty: every kind.
    pub kinds: Vec<MemberKind>,
    /// Any of these states; empty: every state.
    pub states: Vec<MemberState>,
    /// Members whose INSEE code is in this department.
    pub department: Option<Department>,
    /// Folded text to find in the folded name.
    pub query: Option<String>,
    /// Members with a contact person of this e-mail (lowercase).
    pub contact_email: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredContact {
    full_name: String,
    role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

fn contacts_to_json(contacts: &[Contact]) -> serde_json::Value {
    let stored: Vec<StoredContact> = contacts
        .iter()
        .map(|c| StoredContact {
            full_name: c.full_name.clone(),
            role: c.role.as_str().to_string(),
            email: c.email.as_ref().map(|e| e.as_str().to_string()),
            title: c.title.clone(),
        })
        .collect();
    serde_json::to_value(stored).unwrap_or_default()
}

/// The contacts a row stores as JSON.
pub(crate) fn contacts_from_json(value: serde_json::Value) -> Result<Vec<Contact>, Invalid> {
    let stored: Vec<StoredContact> =
        serde_json::from_value(value).map_err(|e| Invalid(format!("contacts: {e}")))?;
    stored
        .into_iter()
        .map(|c| {
            Ok(Contact {
                full_name: c.full_name,
                role: c.role.parse::<ContactRole>()?,
                email: c.email.as_deref().map(Email::parse).transpose()?,
                title: c.title,
            })
        })
        .collect()
}

/// The member a row holds; a row that no longer parses is an internal error.
pub fn to_domain(model: entity::Model) -> Result<Member, Error> {
    let id = model.id;
    let parse = || -> Result<Member, Invalid> {
        Ok(Member {
            id: MemberId::from_uuid(model.id),
            profile: Profile {
                display_name: DisplayName::parse(&model.display_name)?,
                kind: model.kind.parse()?,
                siren: model.siren.as_deref().map(Siren::parse).transpose()?,
                siret: model.siret.as_deref().map(Siret::parse).transpose()?,
                epci_siren: model.epci_siren.as_deref().map(Siren::parse).transpose()?,
                insee_code: model
                    .insee_code
                    .as_deref()
                    .map(InseeCode::parse)
                    .transpose()?,
                territory: model.territory,
                website: model.website.as_deref().map(Website::parse).transpose()?,
                contacts: contacts_from_json(model.contacts)?,
            },
            state: model.state.parse()?,
            state_reason: model.state_reason,
            joined_at: model.joined_at,
            created_at: model.created_at,
            updated_at: model.updated_at,
            version: model.version,
        })
    };
    parse().map_err(|invalid| Error::internal(format!("stored member {id} is invalid: {invalid}")))
}

/// `|a@x.fr|b@y.fr|`: the contacts' e-mails in lowercase between bars, so that LIKE
/// `%|a@x.fr|%` finds a whole address on both databases.
pub fn contact_emails(contacts: &[Contact]) -> String {
    let mut tags = String::from("|");
    for email in contacts.iter().filter_map(|c| c.email.as_ref()) {
        tags.push_str(&email.as_str().to_lowercase());
        tags.push('|');
    }
    tags
}

/// Every column but the identity and the creation request.
fn mutable_columns(member: &Member) -> entity::ActiveModel {
    let p = &member.profile;
    entity::ActiveModel {
        display_name: Set(p.display_name.as_str().to_string()),
        search_name: Set(p.display_name.folded()),
        kind: Set(p.kind.as_str().to_string()),
        siren: Set(p.siren.as_ref().map(|s| s.as_str().to_string())),
        siret: Set(p.siret.as_ref().map(|s| s.as_str().to_string())),
        epci_siren: Set(p.epci_siren.as_ref().map(|s| s.as_str().to_string())),
        insee_code: Set(p.insee_code.as_ref().map(|c| c.as_str().to_string())),
        insee_department: Set(p
            .insee_code
            .as_ref()
            .map(|c| c.department().as_str().to_string())),
        territory: Set(p.territory.clone()),
        website: Set(p.website.as_ref().map(|w| w.as_str().to_string())),
        contacts: Set(contacts_to_json(&p.contacts)),
        contact_emails: Set(contact_emails(&p.contacts)),
        state: Set(member.state.as_str().to_string()),
        state_reason: Set(member.state_reason.clone()),
        joined_at: Set(member.joined_at),
        updated_at: Set(member.updated_at),
        version: Set(member.version),
        ..Default::default()
    }
}

/// One member per CreateMember `request_id`: a retried create finds the first's.
pub const REQUEST_ID_KEY: UniqueKey = UniqueKey {
    name: "members_create_request_id",
    table: "members",
    columns: &["create_request_id"],
};

/// One current (not left) member per SIREN.
pub const SIREN_KEY: UniqueKey = UniqueKey {
    name: "members_siren_current",
    table: "members",
    columns: &["siren"],
};

/// Inserts a new member with its events, atomically (see
/// [`outbox::write_with_events`]); a duplicate breaks [`REQUEST_ID_KEY`] or
/// [`SIREN_KEY`].
pub async fn insert<C>(
    db: &C,
    member: &Member,
    request_id: Option<Uuid>,
    created_by: &str,
    events: Vec<OutgoingEvent>,
) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    let mut row = mutable_columns(member);
    row.id = Set(member.id.uuid());
    row.created_at = Set(member.created_at);
    row.create_request_id = Set(request_id);
    row.created_by = Set(created_by.to_string());
    let insert = Entity::insert(row).build(db.get_database_backend());
    outbox::write_with_events(db, insert, events).await
}

/// A stored member as read, before [`to_domain`] checks it.
pub type Row = entity::Model;

/// The rows of the members among `ids` (absent ones are missing from the map), in one
/// statement.
pub async fn rows_by_id<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Row>, DbErr> {
    let rows = if db.get_database_backend() == DbBackend::Postgres {
        // Not `id = ANY($1)` nor a join with the ids: for a table of a few hundred rows
        // their generic plans scan the whole table; the lateral subquery (kept apart by
        // OFFSET 0) probes the primary key once per id.
        let array = fabrique_platform::db::pg_array_literal(ids);
        Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT m.* FROM unnest($1::uuid[]) AS k(id)
                 JOIN LATERAL (SELECT * FROM members WHERE members.id = k.id OFFSET 0) m ON true",
                [array.into()],
            ))
            .all(db)
            .await?
    } else {
        Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await?
    };
    Ok(rows.into_iter().map(|row| (row.id, row)).collect())
}

/// The member a CreateMember with this `request_id` made, and who made it.
pub async fn by_request_id<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<(Member, String)>, Error> {
    match Entity::find()
        .filter(Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
    {
        Some(model) => {
            let created_by = model.created_by.clone();
            Ok(Some((to_domain(model)?, created_by)))
        }
        None => Ok(None),
    }
}

/// The current (not left) member holding this SIREN.
pub async fn current_by_siren<C: ConnectionTrait>(
    db: &C,
    siren: &Siren,
) -> Result<Option<MemberId>, Error> {
    Ok(Entity::find()
        .filter(Column::Siren.eq(siren.as_str()))
        .filter(Column::State.ne(MemberState::Left.as_str()))
        .one(db)
        .await?
        .map(|m| MemberId::from_uuid(m.id)))
}

/// Writes `member` (whose version is `expected + 1`) only if the stored version is still
/// `expected`. `false`: someone else changed it in between.
pub async fn update_versioned<C: ConnectionTrait>(
    db: &C,
    member: &Member,
    expected: i64,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .set(mutable_columns(member))
        .filter(Column::Id.eq(member.id.uuid()))
        .filter(Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Members in id order (creation order), after `after`, at most `limit`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &ListFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Member>, Error> {
    let mut query = Entity::find();
    if !filter.kinds.is_empty() {
        query = query.filter(Column::Kind.is_in(filter.kinds.iter().map(|k| k.as_str())));
    }
    if !filter.states.is_empty() {
        query = query.filter(Column::State.is_in(filter.states.iter().map(|s| s.as_str())));
    }
    if let Some(department) = &filter.department {
        query = query.filter(Column::InseeDepartment.eq(department.as_str()));
    }
    if let Some(text) = &filter.query {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(
            Expr::col(Column::SearchName).like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    if let Some(email) = &filter.contact_email {
        let escaped = email
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(
            Expr::col(Column::ContactEmails)
                .like(LikeExpr::new(format!("%|{escaped}|%")).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    query
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}
