//! The projects domain: projects and their lifecycle, funding programmes and the exact
//! arithmetic of aid and co-funding in cents, applications, grouped purchases and their
//! volumes, peer workshops and the roles a team needs. No protobuf and no SQL here.
//!
//! One file per aggregate — `project`, `programme` (programmes and their
//! applications), `group_purchase`, `workshop` — each with the one function that
//! decides its next state or refuses with a typed [`Refusal`](crate::refusal::Refusal):
//! [`Project::next`], [`Programme::next`], [`Application::next`],
//! [`GroupPurchase::next`]. What they share, resource names, is here; everything is
//! re-exported so that a type has one path, `crate::domain::X`.

mod group_purchase;
mod programme;
mod project;
mod workshop;

pub use fabrique_types::{Invalid, bounded_text, fold};
use uuid::Uuid;

pub use group_purchase::{
    Category, GroupPurchase, GroupPurchaseDraft, GroupPurchaseState, GroupPurchaseTransition, Lot,
    LotPrice, Site, SiteCategory, parse_lot_code, parse_volume,
};
pub use programme::{
    Application, ApplicationDraft, ApplicationState, ApplicationTransition, CoFunder,
    EnvelopeChange, FundingLine, Grouping, GroupingDraft, Installation, Instruction, Note, Payment,
    PaymentKind, Programme, ProgrammeDraft, ProgrammeState, ProgrammeTransition, Recommendation,
    Whereabouts, application_name, grouping_name, legal_entity, parse_application_name,
    parse_area_m2, parse_grouping_name, parse_peak_kw, yearly_kwh,
};
pub use project::{
    Milestone, Participant, Project, ProjectDraft, ProjectPatch, ProjectState, SUMMARY_MAX,
    TITLE_MAX, Theme,
};
// Defined with the refusals, whose messages give amounts in euros.
pub use crate::refusal::euros;
pub use workshop::{
    CONTACT_ROLES, Expected, Restitution, RestitutionDraft, Session, SessionDraft, TeamReport,
    VILLES_PAIRS_ROLES, Venue, Workshop, WorkshopDraft, parse_role, parse_workshop_child,
    restitution_name, session_name, team_coverage,
};

/// The resource name `{collection}/{id}` the contract uses for every aggregate.
pub fn name(collection: &str, id: Uuid) -> String {
    fabrique_types::resource::format_name(collection, id)
}

/// The id in a `{collection}/{id}` name, refused when the collection or the UUID is not
/// the expected one.
pub fn parse(collection: &str, value: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name(collection, value)
}

/// A member's resource name (`members/{id}`): members live in the members service, this
/// one names them in messages and events.
pub fn member_name(id: Uuid) -> String {
    name("members", id)
}
