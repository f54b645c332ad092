//! The resources table: one row per resource, its stock included (claims move it, see
//! [`super::claim`]), the coordinates it was given or took from its place, and the
//! folded text that searches look in.

use chrono::Duration;
use fabrique_platform::Error;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entity::resource;
use super::internal;
use crate::domain::{
    BookingRules, Conditions, Invalid, Location, Milli, QuantityUnit, Resource, ResourceFilter,
    ResourceState, fold,
};

fn resource_columns(r: &Resource) -> resource::ActiveModel {
    let mut search = fold(&r.title);
    if let Some(description) = &r.description {
        search.push('\n');
        search.push_str(&fold(description));
    }
    resource::ActiveModel {
        owner_id: Set(r.owner),
        kind: Set(r.kind.as_str().to_string()),
        title: Set(r.title.clone()),
        description: Set(r.description.clone()),
        search_text: Set(search),
        place_id: Set(r.place),
        latitude: Set(r.location.map(|l| l.latitude())),
        longitude: Set(r.location.map(|l| l.longitude())),
        price_cents_per_day: Set(r.conditions.price_cents_per_day),
        deposit_cents: Set(r.conditions.deposit_cents),
        eco_labels: Set(serde_json::json!(r.eco_labels)),
        state: Set(r.state.as_str().to_string()),
        state_reason: Set(r.state_reason.clone()),
        turnaround_minutes: Set(r.rules.turnaround.num_minutes()),
        max_duration_minutes: Set(r.rules.max_duration.map(|d| d.num_minutes())),
        max_advance_days: Set(r.rules.max_advance.map(|d| d.num_days())),
        answer_within_hours: Set(r.rules.answer_within.map(|d| d.num_hours())),
        unit: Set(r.stock.map(|(_, _, unit)| unit.as_str().to_string())),
        offered_milli: Set(r.stock.map(|(offered, _, _)| offered.milli())),
        remaining_milli: Set(r.stock.map(|(_, remaining, _)| remaining.milli())),
        updated_at: Set(r.updated_at),
        version: Set(r.version),
        ..Default::default()
    }
}

/// A resource row and whether its coordinates came from its place.
pub struct StoredResource {
    /// The resource as the domain sees it.
    pub resource: Resource,
    /// Its coordinates are its place's, and move when the place does; kept in the row
    /// only, since no client sees it.
    pub location_from_place: bool,
}

fn to_resource(m: resource::Model) -> Result<StoredResource, Error> {
    let id = m.id;
    let parse = || -> Result<Resource, Invalid> {
        let location = match (m.latitude, m.longitude) {
            (Some(lat), Some(lon)) => Some(Location::parse(lat, lon).map_err(|(_, e)| e)?),
            _ => None,
        };
        let stock = match (m.offered_milli, m.remaining_milli, m.unit.as_deref()) {
            (Some(offered), Some(remaining), Some(unit)) => Some((
                Milli::from_milli(offered),
                Milli::from_milli(remaining),
                unit.parse::<QuantityUnit>()?,
            )),
            _ => None,
        };
        Ok(Resource {
            id: m.id,
            owner: m.owner_id,
            kind: m.kind.parse()?,
            title: m.title.clone(),
            description: m.description.clone(),
            place: m.place_id,
            location,
            conditions: Conditions {
                price_cents_per_day: m.price_cents_per_day,
                deposit_cents: m.deposit_cents,
            },
            eco_labels: serde_json::from_value(m.eco_labels.clone())
                .map_err(|e| Invalid::new(e.to_string()))?,
            state: m.state.parse()?,
            state_reason: m.state_reason.clone(),
            rules: BookingRules {
                turnaround: Duration::minutes(m.turnaround_minutes),
                max_duration: m.max_duration_minutes.map(Duration::minutes),
                max_advance: m.max_advance_days.map(Duration::days),
                answer_within: m.answer_within_hours.map(Duration::hours),
            },
            stock,
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    };
    let resource = parse().map_err(|invalid| internal("resource", id, invalid))?;
    Ok(StoredResource {
        resource,
        location_from_place: m.location_from_place,
    })
}

/// Inserts `r`; `request_id` lets a retried create find it (unique).
pub async fn insert_resource<C: ConnectionTrait>(
    db: &C,
    r: &Resource,
    location_from_place: bool,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = resource_columns(r);
    row.id = Set(r.id);
    row.location_from_place = Set(location_from_place);
    row.created_by = Set(r.created_by.clone());
    row.create_request_id = Set(request_id);
    row.created_at = Set(r.created_at);
    resource::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The resource `id` and where its coordinates came from, if it exists.
pub async fn get_resource<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<StoredResource>, Error> {
    resource::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_resource)
        .transpose()
}

/// The resource a create with `request_id` made, for replaying it.
pub async fn resource_by_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Resource>, Error> {
    resource::Entity::find()
        .filter(resource::Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(|m| to_resource(m).map(|s| s.resource))
        .transpose()
}

/// What is left of the material `id` as the connection `db` sees it (inside a
/// transaction: with its own claims taken); `None` if it is not a material.
pub async fn remaining<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Milli>, Error> {
    Ok(get_resource(db, id)
        .await?
        .and_then(|stored| stored.resource.remaining()))
}

/// Writes `r` (version `expected + 1`) if still at `expected`. The remaining stock is
/// not written here: only claims move it.
pub async fn update_resource<C: ConnectionTrait>(
    db: &C,
    r: &Resource,
    location_from_place: bool,
    expected: i64,
) -> Result<bool, DbErr> {
    let mut row = resource_columns(r);
    row.remaining_milli = sea_orm::ActiveValue::NotSet;
    row.location_from_place = Set(location_from_place);
    let result = resource::Entity::update_many()
        .set(row)
        .filter(resource::Column::Id.eq(r.id))
        .filter(resource::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

fn filtered(filter: &ResourceFilter) -> sea_orm::Select<resource::Entity> {
    use resource::Column;
    let mut query = resource::Entity::find();
    if !filter.kinds.is_empty() {
        query = query.filter(Column::Kind.is_in(filter.kinds.iter().map(|k| k.as_str())));
    }
    let states: Vec<&str> = if filter.states.is_empty() {
        vec![ResourceState::Available.as_str()]
    } else {
        filter.states.iter().map(|s| s.as_str()).collect()
    };
    query = query.filter(Column::State.is_in(states));
    if let Some(owner) = filter.owner {
        query = query.filter(Column::OwnerId.eq(owner));
    }
    if let Some(owner) = filter.not_owner {
        query = query.filter(Column::OwnerId.ne(owner));
    }
    if let Some(place) = filter.place {
        query = query.filter(Column::PlaceId.eq(place));
    }
    if let Some(text) = &filter.query {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(
            Expr::col(Column::SearchText).like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    query
}

/// A page of resources matching `filter`, by id after `after`.
pub async fn list_resources<C: ConnectionTrait>(
    db: &C,
    filter: &ResourceFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Resource>, Error> {
    let mut query = filtered(filter);
    if let Some(after) = after {
        query = query.filter(resource::Column::Id.gt(after));
    }
    query
        .order_by_asc(resource::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| to_resource(m).map(|s| s.resource))
        .collect()
}

/// Every resource matching `filter` within `radius_km` of `center`, nearest first.
pub async fn resources_within<C: ConnectionTrait>(
    db: &C,
    filter: &ResourceFilter,
    center: &Location,
    radius_km: f64,
) -> Result<Vec<(f64, Resource)>, Error> {
    let bbox = center.bounding_box(radius_km);
    let mut query = filtered(filter)
        .filter(resource::Column::Latitude.between(bbox.min_latitude, bbox.max_latitude));
    if let Some((min, max)) = bbox.longitudes {
        query = query.filter(resource::Column::Longitude.between(min, max));
    }
    let mut found = Vec::new();
    for model in query.all(db).await? {
        let resource = to_resource(model)?.resource;
        if let Some(location) = resource.location {
            let distance = center.distance_km(&location);
            if distance <= radius_km {
                found.push((distance, resource));
            }
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    Ok(found)
}

/// All resources matching `filter` (for matching; bounded by the caller).
pub async fn all_resources<C: ConnectionTrait>(
    db: &C,
    filter: &ResourceFilter,
    limit: u64,
) -> Result<Vec<Resource>, Error> {
    filtered(filter)
        .order_by_asc(resource::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| to_resource(m).map(|s| s.resource))
        .collect()
}

/// Resources a member owns, in `states`.
pub async fn resources_of<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    states: &[ResourceState],
) -> Result<Vec<StoredResource>, Error> {
    resource::Entity::find()
        .filter(resource::Column::OwnerId.eq(owner))
        .filter(resource::Column::State.is_in(states.iter().map(|s| s.as_str())))
        .order_by_asc(resource::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_resource)
        .collect()
}

/// Resources at a place.
pub async fn resources_at<C: ConnectionTrait>(
    db: &C,
    place: Uuid,
) -> Result<Vec<StoredResource>, Error> {
    resource::Entity::find()
        .filter(resource::Column::PlaceId.eq(place))
        .order_by_asc(resource::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_resource)
        .collect()
}
