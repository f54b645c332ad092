//! The registry's table of places.

/// The `places` table as sea-orm sees it (`Model`, `Column`, `Entity`, `ActiveModel`).
pub mod place {
    use sea_orm::entity::prelude::*;

    /// A row of `places`: a place flattened (enums and codes as their text, kinds and
    /// capabilities as `|tag|` lists, labels and duplicates as JSON), plus what only
    /// the store needs — the folded search text and the department for searches, the
    /// creation request for retries.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "places")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub display_name: String,
        /// Name, description and locality folded (lowercase, no accents), for text search.
        pub search_text: String,
        /// `|fablab|makerspace|`: matched with LIKE, on both databases.
        pub kind_tags: String,
        /// `|3d_printing|laser_cutting|`.
        pub capability_tags: String,
        pub description: Option<String>,
        pub street: Option<String>,
        pub postal_code: Option<String>,
        pub locality: Option<String>,
        pub insee_code: Option<String>,
        pub insee_department: Option<String>,
        pub latitude: f64,
        pub longitude: f64,
        /// The finest map cell of the location (`map_grid::FINEST_LEVEL`).
        pub grid_x: i32,
        pub grid_y: i32,
        pub opening_hours: Option<String>,
        pub website: Option<String>,
        pub contact_email: Option<String>,
        pub phone: Option<String>,
        pub operator_id: Option<Uuid>,
        #[sea_orm(column_type = "JsonBinary")]
        pub eco_labels: Json,
        pub siret: Option<String>,
        pub state: String,
        pub state_reason: Option<String>,
        pub needs_review: bool,
        pub review_reason: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub possible_duplicates: Json,
        pub source: Option<String>,
        pub external_id: Option<String>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
