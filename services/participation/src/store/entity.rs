//! Participation's tables as sea-orm sees them (`Model`, `Column`, `Entity`,
//! `ActiveModel`), one module per table.

/// `participants`: a person, by their token's subject.
pub mod participant {
    use sea_orm::entity::prelude::*;

    /// A row of `participants`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "participants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub subject: String,
        pub display_name: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `verifications`: an organiser checked a participant's residence.
pub mod verification {
    use sea_orm::entity::prelude::*;

    /// A row of `verifications`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "verifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub organiser_id: Uuid,
        /// The subject that recorded it.
        pub verified_by: String,
        pub verified_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `processes`.
pub mod process {
    use sea_orm::entity::prelude::*;

    /// A row of `processes`: steps and themes as JSON, the territory as a `|code|` list.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "processes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organiser_id: Uuid,
        pub title: String,
        pub description: String,
        /// `|63113|246300701|`: matched with LIKE, on both databases.
        pub territory_tags: String,
        #[sea_orm(column_type = "JsonBinary")]
        pub steps: Json,
        pub active_step: i32,
        pub verified_only: bool,
        pub support_limit: i32,
        pub support_threshold: i32,
        #[sea_orm(column_type = "JsonBinary")]
        pub themes: Json,
        pub report_threshold: i32,
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

/// `proposals`.
pub mod proposal {
    use sea_orm::entity::prelude::*;

    /// A row of `proposals`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "proposals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub process_id: Uuid,
        pub author_id: Uuid,
        pub title: String,
        pub body: String,
        pub theme: Option<String>,
        pub place_id: Option<Uuid>,
        pub latitude: Option<f64>,
        pub longitude: Option<f64>,
        pub state: String,
        /// Raised and lowered in SQL by each support's transaction, never written whole.
        pub support_count: i32,
        /// When its supports first reached the process's threshold: set once.
        pub threshold_reached_at: Option<DateTimeUtc>,
        pub answer_text: Option<String>,
        pub answered_at: Option<DateTimeUtc>,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `supports`: one per participant and proposal.
pub mod support {
    use sea_orm::entity::prelude::*;

    /// A row of `supports`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "supports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub proposal_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        pub process_id: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `support_tallies`: supports each participant gave in a process.
pub mod tally {
    use sea_orm::entity::prelude::*;

    /// A row of `support_tallies`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "support_tallies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub process_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        pub used: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `meetings`.
pub mod meeting {
    use sea_orm::entity::prelude::*;

    /// A row of `meetings`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meetings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub process_id: Uuid,
        pub kind: String,
        pub title: String,
        pub description: String,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub place_id: Option<Uuid>,
        pub online_url: Option<String>,
        pub seats: i32,
        /// Seats taken: moved in SQL only, never above `seats`.
        pub registered: i32,
        /// The last waiting-list number given.
        pub queued: i64,
        pub cancelled_at: Option<DateTimeUtc>,
        pub minutes: Option<String>,
        pub minutes_at: Option<DateTimeUtc>,
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

/// `meeting_registrations`: a seat or a place on the waiting list.
pub mod registration {
    use sea_orm::entity::prelude::*;

    /// A row of `meeting_registrations`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meeting_registrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub meeting_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        /// `registered` or `waiting`.
        pub state: String,
        /// The waiting-list number (0 for a seat taken at once).
        pub position: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `comments`.
pub mod comment {
    use sea_orm::entity::prelude::*;

    /// A row of `comments`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "comments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub process_id: Uuid,
        pub proposal_id: Uuid,
        pub author_id: Uuid,
        pub body: String,
        pub state: String,
        /// Raised in SQL by each report's transaction.
        pub report_count: i32,
        /// When the organiser restored it: reports no longer hide it.
        pub reviewed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `comment_reports`: one per participant and comment.
pub mod report {
    use sea_orm::entity::prelude::*;

    /// A row of `comment_reports`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "comment_reports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub comment_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `budgets`.
pub mod budget {
    use sea_orm::entity::prelude::*;

    /// A row of `budgets`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budgets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub process_id: Uuid,
        pub title: String,
        pub description: String,
        pub envelope_cents: i64,
        pub minimum_basis_points: i32,
        pub state: String,
        /// Raised by each ballot's conditional UPDATE while OPEN.
        pub ballot_count: i32,
        pub closed_at: Option<DateTimeUtc>,
        pub created_by: String,
        pub create_request_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `budget_items`.
pub mod budget_item {
    use sea_orm::entity::prelude::*;

    /// A row of `budget_items`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "budget_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub budget_id: Uuid,
        pub proposal_id: Uuid,
        pub title: String,
        pub cost_cents: i64,
        /// Written when the budget closes.
        pub votes: i32,
        pub rank: i32,
        pub selected: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `ballots`: one per participant and budget.
pub mod ballot {
    use sea_orm::entity::prelude::*;

    /// A row of `ballots`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ballots")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub budget_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        pub total_cents: i64,
        pub cast_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `ballot_items`: the items of a ballot.
pub mod ballot_item {
    use sea_orm::entity::prelude::*;

    /// A row of `ballot_items`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ballot_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub budget_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub participant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub item_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
