//! The projects tables.

pub mod project {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "projects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub lead_id: Uuid,
        pub title: String,
        pub summary: Option<String>,
        /// `|energy|mobility|`.
        pub theme_tags: String,
        /// `|<lead>|<participant>|…`: every member taking part, for LIKE filters.
        pub member_tags: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub participants: Json,
        pub host_place_id: Option<Uuid>,
        #[sea_orm(column_type = "JsonBinary")]
        pub milestones: Json,
        pub state: String,
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

pub mod programme {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programmes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub funder_id: Uuid,
        pub funder_siret: Option<String>,
        pub title: String,
        pub description: Option<String>,
        pub envelope_cents: i64,
        pub aid_per_unit_cents: i64,
        pub unit_label: String,
        pub max_units_per_application: Option<i64>,
        #[sea_orm(column_type = "JsonBinary")]
        pub eligible_kinds: Json,
        pub max_awards_per_member: Option<i64>,
        #[sea_orm(column_type = "JsonBinary")]
        pub co_funders: Json,
        pub opens_at: Option<DateTimeUtc>,
        pub closes_at: Option<DateTimeUtc>,
        pub state: String,
        /// Never above the envelope (a CHECK and conditional updates).
        pub committed_cents: i64,
        pub paid_cents: i64,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod application {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "applications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub programme_id: Uuid,
        pub applicant_id: Uuid,
        pub project_id: Option<Uuid>,
        pub units: i64,
        pub purpose: String,
        pub beneficiary_siret: Option<String>,
        pub aid_cents: i64,
        #[sea_orm(column_type = "JsonBinary")]
        pub breakdown: Json,
        pub state: String,
        pub state_reason: Option<String>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub decided_at: Option<DateTimeUtc>,
        pub paid_at: Option<DateTimeUtc>,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod group_purchase {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "group_purchases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub coordinator_id: Uuid,
        pub title: String,
        pub category: String,
        pub unit: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub lots: Json,
        pub deadline: DateTimeUtc,
        pub state: String,
        pub supplier: Option<String>,
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

pub mod participation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "participations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub group_purchase_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: Uuid,
        #[sea_orm(column_type = "JsonBinary")]
        pub sites: Json,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod workshop {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workshops")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub theme: String,
        pub season: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub required_roles: Json,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod team {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workshop_teams")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub workshop_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lead_id: Uuid,
        #[sea_orm(column_type = "JsonBinary")]
        pub members: Json,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod award_count {
    use sea_orm::entity::prelude::*;

    /// Awards per member and programme, raised only while below the programme's limit.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "award_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: Uuid,
        pub awards: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
