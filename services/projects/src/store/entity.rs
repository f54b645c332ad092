//! The projects service's tables as sea-orm entities, one module per table; the store's
//! per-aggregate files read and write them and nothing else does.

pub mod project {
    //! The `projects` table: one row per project, participants and milestones as JSON.

    use sea_orm::entity::prelude::*;

    /// A project's row.
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
        /// The participation proposal it comes from: one project per proposal.
        pub origin_proposal: Option<String>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod programme {
    //! The `programmes` table, whose counters hold the envelope.

    use sea_orm::entity::prelude::*;

    /// A programme's row, with what its approvals committed and what was paid.
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
        #[sea_orm(column_type = "JsonBinary")]
        pub envelope_changes: Json,
        pub operator_id: Option<Uuid>,
        pub yield_kwh_per_kwp: Option<i64>,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod application {
    //! The `applications` table.

    use sea_orm::entity::prelude::*;

    /// An application's row, its breakdown as JSON.
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
        pub legal_entity: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub payments: Json,
        pub completion_request: Option<String>,
        pub completion_answer: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub instruction: Json,
        pub grouping_id: Option<Uuid>,
        pub filer_id: Option<Uuid>,
        pub peak_watts: Option<i64>,
        pub area_dm2: Option<i64>,
        pub building: Option<String>,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod group_purchase {
    //! The `group_purchases` table; participations are rows of their own.

    use sea_orm::entity::prelude::*;

    /// A grouped purchase's row, its lots as JSON.
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
        /// Added by `m20261207_000407_purchase_outcome`.
        pub supplier_siret: Option<String>,
        /// Each lot's awarded and reference prices, as JSON; added by the same.
        #[sea_orm(column_type = "JsonBinary", nullable)]
        pub lot_prices: Option<Json>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod participation {
    //! The `participations` table: one row per member and purchase, so that joining and
    //! leaving touch no one else's row.

    use sea_orm::entity::prelude::*;

    /// A member's sites in a purchase, as JSON.
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

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod workshop {
    //! The `workshops` table; teams are rows of their own.

    use sea_orm::entity::prelude::*;

    /// A workshop's row.
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
        /// `members/{id}`s as JSON; added by `m20261207_000408_workshop_sessions`, NULL
        /// for the workshops created before.
        #[sea_orm(column_type = "JsonBinary", nullable)]
        pub co_pilots: Option<Json>,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod team {
    //! The `workshop_teams` table: one row per lead, so that leads never wait on each other.

    use sea_orm::entity::prelude::*;

    /// A lead's team, members as JSON (the lead included).
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

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    //! The `workshop_sessions` table: one row per session of a workshop.

    use sea_orm::entity::prelude::*;

    /// A session's row; exactly one of `place_id` and `online_url` (a CHECK says so).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workshop_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub workshop_id: Uuid,
        pub title: String,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub place_id: Option<Uuid>,
        pub online_url: Option<String>,
        pub expected_team: Option<Uuid>,
        pub peer_group: Option<String>,
        #[sea_orm(column_type = "JsonBinary")]
        pub expected_members: Json,
        #[sea_orm(column_type = "JsonBinary")]
        pub attendees: Json,
        pub cancelled_at: Option<DateTimeUtc>,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod restitution {
    //! The `workshop_restitutions` table: what a team or peer group produced at a session.

    use sea_orm::entity::prelude::*;

    /// A restitution's row; `published_at` is NULL until a co-pilot publishes it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workshop_restitutions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub workshop_id: Uuid,
        pub session_id: Uuid,
        pub title: String,
        pub body: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub links: Json,
        pub team_lead: Option<Uuid>,
        pub peer_group: Option<String>,
        pub author_id: Uuid,
        pub published_at: Option<DateTimeUtc>,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod legal_entity_award {
    //! The `legal_entity_awards` table: the per-member award limit, counted per legal
    //! entity and held by the database.

    use sea_orm::entity::prelude::*;

    /// Awards per legal entity and programme, raised only while below the programme's
    /// limit, lowered when an award is cancelled.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "legal_entity_awards")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub legal_entity: String,
        pub awards: i64,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod co_funding {
    //! The `co_funding` table: each co-funder's committed and paid parts of a
    //! programme's awards, moved in the transaction that moves the award.

    use sea_orm::entity::prelude::*;

    /// A co-funder's totals in one programme.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "co_funding")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: Uuid,
        pub committed_cents: i64,
        pub paid_cents: i64,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod grouping {
    //! The `groupings` table: grouped applications, one row per filing (its
    //! applications are rows of `applications` with its id).

    use sea_orm::entity::prelude::*;

    /// A grouping's row, its members as JSON.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "groupings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub programme_id: Uuid,
        pub filer_id: Uuid,
        pub purpose: String,
        pub units_per_member: i64,
        #[sea_orm(column_type = "JsonBinary")]
        pub members: Json,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    /// None declared: queries name their joins, the same on PostgreSQL and SQLite.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
