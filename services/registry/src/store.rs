//! Where places are kept: entities, migrations, queries — the
//! same on PostgreSQL and SQLite. Multi-valued kinds and capabilities are `|tag|` lists
//! matched with LIKE; searches around a point narrow by a latitude/longitude box in
//! SQL (on PostgreSQL through a GiST index on each place's point, on SQLite through the
//! b-tree on latitude and longitude: [`inside`]), then measure exact distances in Rust
//! on coordinates alone, and load only the page's places.

pub mod cells;
mod entity;
pub mod migrations;

use std::collections::BTreeSet;

use fabrique_platform::Error;
use fabrique_platform::db::UniqueKey;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::map_grid::Cell;
use crate::domain::{
    Address, Capability, Department, Description, Email, InseeCode, Invalid, Location,
    OpeningHours, Phone, Place, PlaceId, PlaceKind, PlaceState, PostalCode, Siret, Website, fold,
};
use entity::place::{self, Column, Entity};

/// Who is looking: what they may see besides LISTED places.
#[derive(Debug, Clone)]
pub enum Visibility {
    /// Anonymous: LISTED places only.
    Public,
    /// Also the places this member operates and those this subject proposed.
    Caller {
        /// The member the caller acts for, if any.
        member: Option<Uuid>,
        /// The token's subject.
        subject: String,
    },
    /// Everything.
    Admin,
}

impl Visibility {
    /// Whether this caller may see `place`: the same rule as the SQL condition lists
    /// use, for a place already read.
    pub fn can_see(&self, place: &Place) -> bool {
        match self {
            Visibility::Admin => true,
            _ if place.state == PlaceState::Listed => true,
            Visibility::Public => false,
            Visibility::Caller { member, subject } => {
                (member.is_some() && place.description.operator == *member)
                    || place.created_by == *subject
            }
        }
    }

    /// [`Visibility::can_see`] as SQL; `None` when everything may be seen.
    fn condition(&self) -> Option<Condition> {
        match self {
            Visibility::Admin => None,
            Visibility::Public => {
                Some(Condition::all().add(Column::State.eq(PlaceState::Listed.as_str())))
            }
            Visibility::Caller { member, subject } => {
                let mut any = Condition::any()
                    .add(Column::State.eq(PlaceState::Listed.as_str()))
                    .add(Column::CreatedBy.eq(subject.as_str()));
                if let Some(member) = member {
                    any = any.add(Column::OperatorId.eq(*member));
                }
                Some(any)
            }
        }
    }
}

/// Filters of a search; each narrows it.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Any of.
    pub kinds: Vec<PlaceKind>,
    /// All of.
    pub capabilities: Vec<Capability>,
    /// Places whose INSEE code is in this department.
    pub department: Option<Department>,
    /// Places in this commune.
    pub insee_code: Option<InseeCode>,
    /// Any of; empty means LISTED.
    pub states: Vec<PlaceState>,
    /// Folded text.
    pub query: Option<String>,
    /// Only places flagged for review.
    pub needs_review_only: bool,
    /// Only places this member operates.
    pub operator: Option<Uuid>,
}

/// `|fablab|makerspace|`: each code between bars, so that LIKE `%|fablab|%` matches a
/// whole code and never part of another, on both databases.
fn tags<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    let mut tags = String::from("|");
    for code in codes {
        tags.push_str(code);
        tags.push('|');
    }
    tags
}

/// `text` matched literally by a LIKE with `\` as escape.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `column` holds `text`, taken literally.
fn contains(column: Column, text: &str) -> Expr {
    Expr::col(column).like(LikeExpr::new(format!("%{}%", like_escaped(text))).escape('\\'))
}

/// What text search looks in: the name, the description and the locality, folded.
fn search_text(description: &Description) -> String {
    let mut text = fold(&description.display_name);
    for extra in [&description.description, &description.address.locality]
        .into_iter()
        .flatten()
    {
        text.push('\n');
        text.push_str(&fold(extra));
    }
    text
}

/// Every column but the identity, the creation and the source: what an update writes.
fn columns(place: &Place) -> place::ActiveModel {
    let d = &place.description;
    place::ActiveModel {
        display_name: Set(d.display_name.clone()),
        search_text: Set(search_text(d)),
        kind_tags: Set(tags(d.kinds.iter().map(|k| k.as_str()))),
        capability_tags: Set(tags(d.capabilities.iter().map(Capability::code))),
        description: Set(d.description.clone()),
        street: Set(d.address.street.clone()),
        postal_code: Set(d
            .address
            .postal_code
            .as_ref()
            .map(|p| p.as_str().to_string())),
        locality: Set(d.address.locality.clone()),
        insee_code: Set(d.insee_code.as_ref().map(|c| c.as_str().to_string())),
        insee_department: Set(d
            .insee_code
            .as_ref()
            .map(|c| c.department().as_str().to_string())),
        latitude: Set(d.location.latitude()),
        longitude: Set(d.location.longitude()),
        grid_x: Set(Cell::of(&d.location).x),
        grid_y: Set(Cell::of(&d.location).y),
        opening_hours: Set(d.opening_hours.as_ref().map(|h| h.as_str().to_string())),
        website: Set(d.website.as_ref().map(|w| w.as_str().to_string())),
        contact_email: Set(d.contact_email.as_ref().map(|e| e.as_str().to_string())),
        phone: Set(d.phone.as_ref().map(|p| p.as_str().to_string())),
        operator_id: Set(d.operator),
        eco_labels: Set(serde_json::json!(d.eco_labels)),
        siret: Set(d.siret.as_ref().map(|s| s.as_str().to_string())),
        state: Set(place.state.as_str().to_string()),
        state_reason: Set(place.state_reason.clone()),
        needs_review: Set(place.needs_review),
        review_reason: Set(place.review_reason.clone()),
        possible_duplicates: Set(serde_json::json!(
            place
                .possible_duplicates
                .iter()
                .map(|p| p.uuid().to_string())
                .collect::<Vec<_>>()
        )),
        updated_at: Set(place.updated_at),
        version: Set(place.version),
        ..Default::default()
    }
}

/// The codes of a [`tags`] list.
fn from_tags<T: Ord>(
    tags: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<BTreeSet<T>, Invalid> {
    tags.split('|')
        .filter(|t| !t.is_empty())
        .map(parse)
        .collect()
}

/// The place a row holds; a row that no longer parses is an internal error, never
/// served.
///
/// Over 60 lines: as long as the row is wide, one line or so per column, the inverse
/// of [`columns`].
fn to_domain(model: place::Model) -> Result<Place, Error> {
    let id = model.id;
    let parse = || -> Result<Place, Invalid> {
        let location = Location::parse(model.latitude, model.longitude).map_err(|(_, e)| e)?;
        let kinds = from_tags(&model.kind_tags, str::parse::<PlaceKind>)?;
        let capabilities = from_tags(&model.capability_tags, Capability::parse)?;
        let eco_labels: Vec<String> =
            serde_json::from_value(model.eco_labels).map_err(|e| Invalid::new(e.to_string()))?;
        let duplicates: Vec<String> = serde_json::from_value(model.possible_duplicates)
            .map_err(|e| Invalid::new(e.to_string()))?;
        Ok(Place {
            id: PlaceId::from_uuid(model.id),
            description: Description {
                display_name: model.display_name,
                kinds,
                description: model.description,
                address: Address {
                    street: model.street,
                    postal_code: model
                        .postal_code
                        .as_deref()
                        .map(PostalCode::parse)
                        .transpose()?,
                    locality: model.locality,
                },
                insee_code: model
                    .insee_code
                    .as_deref()
                    .map(InseeCode::parse)
                    .transpose()?,
                location,
                capabilities,
                opening_hours: model
                    .opening_hours
                    .as_deref()
                    .map(OpeningHours::parse)
                    .transpose()?,
                website: model.website.as_deref().map(Website::parse).transpose()?,
                contact_email: model
                    .contact_email
                    .as_deref()
                    .map(Email::parse)
                    .transpose()?,
                phone: model.phone.as_deref().map(Phone::parse).transpose()?,
                operator: model.operator_id,
                eco_labels,
                siret: model.siret.as_deref().map(Siret::parse).transpose()?,
            },
            state: model.state.parse()?,
            state_reason: model.state_reason,
            needs_review: model.needs_review,
            review_reason: model.review_reason,
            possible_duplicates: duplicates
                .iter()
                .map(|d| {
                    Uuid::parse_str(d)
                        .map(PlaceId::from_uuid)
                        .map_err(|e| Invalid::new(e.to_string()))
                })
                .collect::<Result<_, _>>()?,
            source: model.source.zip(model.external_id),
            created_by: model.created_by,
            created_at: model.created_at,
            updated_at: model.updated_at,
            version: model.version,
        })
    };
    parse().map_err(|invalid| Error::internal(format!("stored place {id} is invalid: {invalid}")))
}

/// One place per CreatePlace `request_id`: a retried create finds the first's.
pub const REQUEST_ID_KEY: UniqueKey = UniqueKey {
    name: "places_create_request_id",
    table: "places",
    columns: &["create_request_id"],
};

/// One place per imported row (its source and its id there): importing again updates it.
pub const SOURCE_KEY: UniqueKey = UniqueKey {
    name: "places_source_key",
    table: "places",
    columns: &["source", "external_id"],
};

/// Inserts a new place; `request_id` is its CreatePlace's, for retries. A unique
/// violation ([`REQUEST_ID_KEY`], or [`SOURCE_KEY`]) is the caller's to read as a
/// concurrent duplicate.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    place: &Place,
    request_id: Option<Uuid>,
) -> Result<(), DbErr> {
    let mut row = columns(place);
    row.id = Set(place.id.uuid());
    row.created_by = Set(place.created_by.clone());
    row.create_request_id = Set(request_id);
    row.created_at = Set(place.created_at);
    row.source = Set(place.source.as_ref().map(|(s, _)| s.clone()));
    row.external_id = Set(place.source.as_ref().map(|(_, e)| e.clone()));
    Entity::insert(row).exec_without_returning(db).await?;
    cells::recount(db, None, cells::Counted::of(place)).await
}

/// A place whatever its state; who may see it is the caller's to check.
pub async fn get<C: ConnectionTrait>(db: &C, id: PlaceId) -> Result<Option<Place>, Error> {
    Entity::find_by_id(id.uuid())
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// The place a CreatePlace with this `request_id` made.
pub async fn by_request_id<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Option<Place>, Error> {
    Entity::find()
        .filter(Column::CreateRequestId.eq(request_id))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// The place an import of `source` made from the row with this `external_id`.
pub async fn by_source<C: ConnectionTrait>(
    db: &C,
    source: &str,
    external_id: &str,
) -> Result<Option<Place>, Error> {
    Entity::find()
        .filter(Column::Source.eq(source))
        .filter(Column::ExternalId.eq(external_id))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// Writes `next` over `current` if the stored version is still `current`'s, and moves
/// the place's map counts with it.
pub async fn update_versioned<C: ConnectionTrait>(
    db: &C,
    current: &Place,
    next: &Place,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .set(columns(next))
        .filter(Column::Id.eq(next.id.uuid()))
        .filter(Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if result.rows_affected != 1 {
        return Ok(false);
    }
    cells::recount(db, cells::Counted::of(current), cells::Counted::of(next)).await?;
    Ok(true)
}

/// The places matching `filter` that `visibility` lets see: lists and searches around
/// a point start from it.
fn filtered(filter: &ListFilter, visibility: &Visibility) -> sea_orm::Select<Entity> {
    let mut query = Entity::find();
    if !filter.kinds.is_empty() {
        let mut any = Condition::any();
        for kind in &filter.kinds {
            any = any.add(contains(Column::KindTags, &format!("|{}|", kind.as_str())));
        }
        query = query.filter(any);
    }
    for capability in &filter.capabilities {
        query = query.filter(contains(
            Column::CapabilityTags,
            &format!("|{}|", capability.code()),
        ));
    }
    if let Some(department) = &filter.department {
        query = query.filter(Column::InseeDepartment.eq(department.as_str()));
    }
    if let Some(code) = &filter.insee_code {
        query = query.filter(Column::InseeCode.eq(code.as_str()));
    }
    let states: Vec<&str> = if filter.states.is_empty() {
        vec![PlaceState::Listed.as_str()]
    } else {
        filter.states.iter().map(|s| s.as_str()).collect()
    };
    query = query.filter(Column::State.is_in(states));
    if let Some(text) = &filter.query {
        query = query.filter(contains(Column::SearchText, text));
    }
    if filter.needs_review_only {
        query = query.filter(Column::NeedsReview.eq(true));
    }
    if let Some(operator) = filter.operator {
        query = query.filter(Column::OperatorId.eq(operator));
    }
    if let Some(condition) = visibility.condition() {
        query = query.filter(condition);
    }
    query
}

/// Places in id order after `after`, at most `limit`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &ListFilter,
    visibility: &Visibility,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Place>, Error> {
    let mut query = filtered(filter, visibility);
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

/// Places whose coordinates are in the box `south`–`north`, `west`–`east` (edges
/// included, `west` ≤ `east`), as each database's index serves it.
///
/// On PostgreSQL the GiST index on `point(longitude, latitude)` (written exactly so:
/// the index serves only its own expression) reads the entries in the box alone; the
/// b-tree on (latitude, longitude) read every entry of the box's latitude band, about
/// 14 times as many for a 30-km search over France (docs/performance.md). PostgreSQL
/// compares points with a tolerance of 1e-6 (about 10 cm), so a place that close
/// outside an edge counts as in; callers measure exact distances, and the map's views
/// do not need that precision. SQLite keeps the b-tree (no R*Tree: see the same page).
pub(crate) fn inside(
    backend: DbBackend,
    (south, west): (f64, f64),
    (north, east): (f64, f64),
) -> Condition {
    match backend {
        DbBackend::Postgres => Condition::all().add(Expr::cust_with_values(
            "point(longitude, latitude) <@ box(point($1, $2), point($3, $4))",
            [west, south, east, north],
        )),
        _ => Condition::all()
            .add(Column::Latitude.between(south, north))
            .add(Column::Longitude.between(west, east)),
    }
}

/// Places matching `filter` in the latitude/longitude box around the circle (the index
/// narrows to it; exact distances are measured by the callers).
fn in_box(
    backend: DbBackend,
    filter: &ListFilter,
    visibility: &Visibility,
    center: &Location,
    radius_km: f64,
) -> sea_orm::Select<Entity> {
    let bbox = center.bounding_box(radius_km);
    let (west, east) = bbox.longitudes.unwrap_or((-180.0, 180.0));
    filtered(filter, visibility).filter(inside(
        backend,
        (bbox.min_latitude, west),
        (bbox.max_latitude, east),
    ))
}

/// Every place matching `filter` within `radius_km` of `center`, with its distance,
/// nearest first (ties by id).
pub async fn within<C: ConnectionTrait>(
    db: &C,
    filter: &ListFilter,
    visibility: &Visibility,
    center: &Location,
    radius_km: f64,
) -> Result<Vec<(f64, Place)>, Error> {
    let mut found = Vec::new();
    for model in in_box(
        db.get_database_backend(),
        filter,
        visibility,
        center,
        radius_km,
    )
    .all(db)
    .await?
    {
        let place = to_domain(model)?;
        let distance = center.distance_km(&place.description.location);
        if distance <= radius_km {
            found.push((distance, place));
        }
    }
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    Ok(found)
}

/// The `limit` places matching `filter` nearest `center` within `radius_km`, after the
/// cursor `after` (distance, id), with their distances, nearest first (ties by id).
///
/// Only coordinates are read for the whole box; full rows only for the page. With
/// 100,000 places reading every row in the box cost 5.6 ms of CPU a call
/// (docs/performance.md).
pub async fn nearest<C: ConnectionTrait>(
    db: &C,
    filter: &ListFilter,
    visibility: &Visibility,
    center: &Location,
    radius_km: f64,
    after: Option<(f64, Uuid)>,
    limit: u64,
) -> Result<Vec<(f64, Place)>, Error> {
    let points: Vec<(Uuid, f64, f64)> = in_box(
        db.get_database_backend(),
        filter,
        visibility,
        center,
        radius_km,
    )
    .select_only()
    .column(Column::Id)
    .column(Column::Latitude)
    .column(Column::Longitude)
    .into_tuple()
    .all(db)
    .await?;
    let mut nearest: Vec<(f64, Uuid)> = points
        .into_iter()
        .filter_map(|(id, latitude, longitude)| {
            let distance = center.distance_km(&Location::parse(latitude, longitude).ok()?);
            (distance <= radius_km).then_some((distance, id))
        })
        .filter(|(distance, id)| match after {
            None => true,
            Some((d, after_id)) => distance.total_cmp(&d).then(id.cmp(&after_id)).is_gt(),
        })
        .collect();
    nearest.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    nearest.truncate(limit as usize);
    let ids: Vec<Uuid> = nearest.iter().map(|(_, id)| *id).collect();
    // The filter again: a place that stopped matching between the reads (suspended,
    // say) must not be shown.
    let mut rows: std::collections::HashMap<Uuid, place::Model> = filtered(filter, visibility)
        .filter(Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|model| (model.id, model))
        .collect();
    nearest
        .into_iter()
        .filter_map(|(distance, id)| Some((distance, rows.remove(&id)?)))
        .map(|(distance, model)| Ok((distance, to_domain(model)?)))
        .collect()
}

/// Places not closed within `radius_km` of `center`, whatever their visibility (for
/// duplicate detection).
pub async fn around<C: ConnectionTrait>(
    db: &C,
    center: &Location,
    radius_km: f64,
) -> Result<Vec<Place>, Error> {
    let filter = ListFilter {
        states: vec![
            PlaceState::Proposed,
            PlaceState::Listed,
            PlaceState::Suspended,
        ],
        ..Default::default()
    };
    Ok(within(db, &filter, &Visibility::Admin, center, radius_km)
        .await?
        .into_iter()
        .map(|(_, place)| place)
        .collect())
}

/// The listed places a member operates that are not yet flagged for review.
pub async fn listed_unflagged_of<C: ConnectionTrait>(
    db: &C,
    operator: Uuid,
) -> Result<Vec<Place>, Error> {
    Entity::find()
        .filter(Column::OperatorId.eq(operator))
        .filter(Column::State.eq(PlaceState::Listed.as_str()))
        .filter(Column::NeedsReview.eq(false))
        .order_by_asc(Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}
