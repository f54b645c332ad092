//! The `groupings` table and the applications of a grouping.

use fabrique_platform::Error;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::entity::{application, grouping};
use super::programme::to_application;
use super::{internal, json};
use crate::domain::{Application, Grouping};

fn to_grouping(m: grouping::Model) -> Result<Grouping, Error> {
    let id = m.id;
    let members = json::<Vec<Uuid>>(m.members).map_err(|e| internal("grouping", id, e))?;
    Ok(Grouping {
        id: m.id,
        programme: m.programme_id,
        filer: m.filer_id,
        purpose: m.purpose,
        units_per_member: u32::try_from(m.units_per_member)
            .map_err(|e| internal("grouping", id, e))?,
        members,
        created_by: m.created_by,
        created_at: m.created_at,
    })
}

/// Inserts a new grouping (its applications are inserted one by one beside it).
pub async fn insert_grouping<C: ConnectionTrait>(
    db: &C,
    g: &Grouping,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    grouping::Entity::insert(grouping::ActiveModel {
        id: Set(g.id),
        programme_id: Set(g.programme),
        filer_id: Set(g.filer),
        purpose: Set(g.purpose.clone()),
        units_per_member: Set(i64::from(g.units_per_member)),
        members: Set(serde_json::json!(g.members)),
        created_by: Set(g.created_by.clone()),
        create_request_id: Set(request_id),
        created_at: Set(g.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The grouping, if there is one of that id.
pub async fn get_grouping<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Grouping>, Error> {
    grouping::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_grouping)
        .transpose()
}

/// The grouping a `CreateGrouping` call with this `request_id` filed, if any.
pub async fn grouping_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Grouping>, Error> {
    grouping::Entity::find()
        .filter(grouping::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_grouping)
        .transpose()
}

/// The applications of a grouping, in the order they were filed.
pub async fn applications_of<C: ConnectionTrait>(
    db: &C,
    grouping: Uuid,
) -> Result<Vec<Application>, Error> {
    application::Entity::find()
        .filter(application::Column::GroupingId.eq(grouping))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_application)
        .collect()
}
