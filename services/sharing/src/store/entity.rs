//! The sharing tables: `resources`, `reservations`, `claims`, `needs`. Times of
//! reservations and needs are microseconds since the epoch (`*_us`), so that both
//! databases compare them as numbers, in constraints and triggers alike.

/// The `resources` table.
pub mod resource {
    use sea_orm::entity::prelude::*;

    /// A resource, its stock (materials) and its booking rules as columns.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "resources")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub owner_id: Uuid,
        pub kind: String,
        pub title: String,
        pub description: Option<String>,
        /// Title and description folded, for text search and matching.
        pub search_text: String,
        pub place_id: Option<Uuid>,
        pub latitude: Option<f64>,
        pub longitude: Option<f64>,
        /// The coordinates were copied from the place (and follow it when it moves).
        pub location_from_place: bool,
        pub price_cents_per_day: Option<i64>,
        pub deposit_cents: i64,
        #[sea_orm(column_type = "JsonBinary")]
        pub eco_labels: Json,
        pub state: String,
        pub state_reason: Option<String>,
        pub turnaround_minutes: i64,
        pub max_duration_minutes: Option<i64>,
        pub max_advance_days: Option<i64>,
        /// Added by `m20261207_000302_answer_deadlines`; `None`: the 72-hour default.
        pub answer_within_hours: Option<i64>,
        pub unit: Option<String>,
        pub offered_milli: Option<i64>,
        /// Never below zero (a CHECK constraint, and conditional updates).
        pub remaining_milli: Option<i64>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    /// None declared: the queries join no table.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `reservations` table.
pub mod reservation {
    use sea_orm::entity::prelude::*;

    /// A reservation; its slot in microseconds, compared by the no-overlap constraint.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reservations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub resource_id: Uuid,
        pub owner_id: Uuid,
        pub borrower_id: Uuid,
        pub start_us: i64,
        pub end_us: i64,
        /// `end_us` plus the turnaround: the slot is held over `[start_us, held_end_us)`.
        pub held_end_us: i64,
        /// Added by `m20261207_000302_answer_deadlines`: when an unanswered request expires.
        pub answer_by_us: Option<i64>,
        pub note: Option<String>,
        pub state: String,
        pub state_reason: Option<String>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    /// None declared: the queries join no table.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `claims` table.
pub mod claim {
    use sea_orm::entity::prelude::*;

    /// A claim of a quantity of a material.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claims")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub resource_id: Uuid,
        pub owner_id: Uuid,
        pub claimant_id: Uuid,
        pub quantity_milli: i64,
        pub unit: String,
        pub state: String,
        /// Added by `m20261207_000302_answer_deadlines`; `None` for claims made before.
        pub answer_by_us: Option<i64>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    /// None declared: the queries join no table.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `needs` table.
pub mod need {
    use sea_orm::entity::prelude::*;

    /// A need; its slot, if any, in microseconds like reservations'.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "needs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub member_id: Uuid,
        pub kind: Option<String>,
        pub description: String,
        pub place_id: Option<Uuid>,
        pub latitude: Option<f64>,
        pub longitude: Option<f64>,
        pub radius_km: Option<f64>,
        pub start_us: Option<i64>,
        pub end_us: Option<i64>,
        pub quantity_milli: Option<i64>,
        pub unit: Option<String>,
        pub state: String,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    /// None declared: the queries join no table.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
