//! What programme reads report of their applications: how many there are, how many are
//! awards, and the power the awards install — one grouped query for a whole page.

use fabrique_platform::Error;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::entity::application;
use crate::domain::ApplicationState;

/// For each of `programmes`: how many applications it has (withdrawn ones aside), how
/// many of them are awards (approved or paid), and the peak watts of the awards'
/// installations. A programme without any is absent.
pub async fn application_counts<C: ConnectionTrait>(
    db: &C,
    programmes: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (i64, i64, i64)>, Error> {
    use application::Column;
    if programmes.is_empty() {
        return Ok(Default::default());
    }
    let awards = format!(
        "CAST(SUM(CASE WHEN state IN ('{}', '{}') THEN 1 ELSE 0 END) AS BIGINT)",
        ApplicationState::Approved.as_str(),
        ApplicationState::Paid.as_str()
    );
    let watts = format!(
        "CAST(SUM(CASE WHEN state IN ('{}', '{}') THEN COALESCE(peak_watts, 0) ELSE 0 END) AS BIGINT)",
        ApplicationState::Approved.as_str(),
        ApplicationState::Paid.as_str()
    );
    let rows: Vec<(Uuid, i64, i64, i64)> = application::Entity::find()
        .filter(Column::ProgrammeId.is_in(programmes.iter().copied()))
        .filter(Column::State.ne(ApplicationState::Withdrawn.as_str()))
        .select_only()
        .column(Column::ProgrammeId)
        .column_as(Expr::cust("COUNT(*)"), "applications")
        .column_as(Expr::cust(awards), "awards")
        .column_as(Expr::cust(watts), "watts")
        .group_by(Column::ProgrammeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(programme, applications, awards, watts)| (programme, (applications, awards, watts)))
        .collect())
}
