//! The projects domain: projects and their lifecycle, funding programmes and the exact
//! arithmetic of aid and co-funding in cents, applications, grouped purchases and their
//! volumes, peer workshops and the roles a team needs. No protobuf and no SQL here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
pub use fabrique_types::{Invalid, bounded_text, fold};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// Defined with the refusals, whose messages give amounts in euros.
pub use crate::refusal::euros;
use crate::refusal::{NotOpen, Refusal};

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

pub fn name(collection: &str, id: Uuid) -> String {
    fabrique_types::resource::format_name(collection, id)
}

pub fn parse(collection: &str, value: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name(collection, value)
}

pub fn member_name(id: Uuid) -> String {
    name("members", id)
}

pub fn application_name(programme: Uuid, id: Uuid) -> String {
    format!("{}/applications/{id}", name("programmes", programme))
}

/// `programmes/{p}/applications/{a}` → (p, a).
pub fn parse_application_name(value: &str) -> Result<(Uuid, Uuid), Invalid> {
    let invalid = || Invalid::new("must be programmes/{id}/applications/{id} with UUID ids");
    let rest = value.strip_prefix("programmes/").ok_or_else(invalid)?;
    let (programme, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let id = rest.strip_prefix("applications/").ok_or_else(invalid)?;
    Ok((
        Uuid::parse_str(programme).map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

fabrique_types::string_enum!(
    Theme {
        Energy => "energy",
        Mobility => "mobility",
        CircularEconomy => "circular_economy",
        Housing => "housing",
        Food => "food",
        Biodiversity => "biodiversity",
        Participation => "participation",
        PublicProcurement => "public_procurement",
        Other => "other",
    }
);

fabrique_types::string_enum!(
    ProjectState {
        Proposed => "proposed",
        Active => "active",
        Completed => "completed",
        Abandoned => "abandoned",
    }
);

impl ProjectState {
    pub fn can_become(&self, next: ProjectState) -> bool {
        use ProjectState::*;
        matches!(
            (self, next),
            (Proposed, Active) | (Proposed, Abandoned) | (Active, Completed) | (Active, Abandoned)
        )
    }
}

fabrique_types::string_enum!(
    ProgrammeState {
        Open => "open",
        Closed => "closed",
    }
);

fabrique_types::string_enum!(
    ApplicationState {
        Submitted => "submitted",
        Approved => "approved",
        Rejected => "rejected",
        Paid => "paid",
        Withdrawn => "withdrawn",
    }
);

impl ApplicationState {
    /// Counted as an award (committed aid).
    pub fn is_award(&self) -> bool {
        matches!(self, Self::Approved | Self::Paid)
    }
}

fabrique_types::string_enum!(
    Category {
        Gas => "gas",
        Electricity => "electricity",
        Insulation => "insulation",
        Photovoltaics => "photovoltaics",
        Other => "other",
    }
);

fabrique_types::string_enum!(
    GroupPurchaseState {
        Open => "open",
        Closed => "closed",
        Awarded => "awarded",
    }
);

/// The contact roles of the members service, as its replica stores them.
pub const CONTACT_ROLES: &[&str] = &[
    "elected_official",
    "procurement_officer",
    "transition_technician",
    "roads_technician",
    "company_representative",
    "other",
];

/// A Villes Pairs team: an elected official, a procurement officer, an ecological
/// transition technician, a roads technician and a company representative.
pub const VILLES_PAIRS_ROLES: &[&str] = &[
    "elected_official",
    "procurement_officer",
    "transition_technician",
    "roads_technician",
    "company_representative",
];

pub fn parse_role(value: &str) -> Result<String, Invalid> {
    let role = value.trim().to_ascii_lowercase();
    if CONTACT_ROLES.contains(&role.as_str()) {
        Ok(role)
    } else {
        Err(Invalid::new(format!(
            "unknown role {value:?}; roles are {}",
            CONTACT_ROLES.join(", ")
        )))
    }
}

// ---------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub member: Uuid,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub due: Option<NaiveDate>,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: Uuid,
    pub title: String,
    pub summary: Option<String>,
    pub themes: BTreeSet<Theme>,
    pub lead: Uuid,
    pub participants: Vec<Participant>,
    pub host_place: Option<Uuid>,
    pub milestones: Vec<Milestone>,
    pub state: ProjectState,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Project {
    pub fn name(&self) -> String {
        name("projects", self.id)
    }
}

/// What a new project is made of.
#[derive(Debug, Clone)]
pub struct ProjectDraft {
    /// `None`: the caller's own member.
    pub lead: Option<Uuid>,
    pub title: String,
    pub summary: Option<String>,
    pub themes: BTreeSet<Theme>,
    pub participants: Vec<Participant>,
    pub host_place: Option<Uuid>,
    pub milestones: Vec<Milestone>,
}

/// The fields an update changes (those named in its update mask).
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub title: Option<String>,
    pub summary: Option<Option<String>>,
    pub themes: Option<BTreeSet<Theme>>,
    pub participants: Option<Vec<Participant>>,
    pub host_place: Option<Option<Uuid>>,
    pub milestones: Option<Vec<Milestone>>,
}

// ---------------------------------------------------------------------------
// Programmes and aid
// ---------------------------------------------------------------------------

/// A co-funder's part of each award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoFunder {
    pub member: Uuid,
    /// Basis points of the programme's aid (2,500 = 25 %), or …
    pub share_basis_points: Option<u32>,
    /// … a fixed amount per unit.
    pub cents_per_unit: Option<i64>,
    pub note: Option<String>,
}

impl CoFunder {
    /// The co-funder's part of one unit of aid, in whole cents; `None` when a share
    /// would leave a fraction of a cent (such a programme is refused).
    pub fn per_unit(&self, aid_per_unit: i64) -> Option<i64> {
        match (self.share_basis_points, self.cents_per_unit) {
            (Some(bp), None) => {
                let scaled = aid_per_unit.checked_mul(i64::from(bp))?;
                (scaled % 10_000 == 0).then_some(scaled / 10_000)
            }
            (None, Some(cents)) => Some(cents),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub id: Uuid,
    pub funder: Uuid,
    pub funder_siret: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub envelope_cents: i64,
    pub aid_per_unit_cents: i64,
    pub unit_label: String,
    pub max_units_per_application: Option<u32>,
    /// Member kinds (the members service's texts); empty: any.
    pub eligible_kinds: Vec<String>,
    pub max_awards_per_member: Option<u32>,
    pub co_funders: Vec<CoFunder>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub state: ProgrammeState,
    pub committed_cents: i64,
    pub paid_cents: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a breakdown: who pays how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingLine {
    pub funder: Uuid,
    pub amount_cents: i64,
    pub note: Option<String>,
}

impl Programme {
    pub fn name(&self) -> String {
        name("programmes", self.id)
    }

    pub fn remaining_cents(&self) -> i64 {
        self.envelope_cents - self.committed_cents
    }

    /// Whether applications are taken at `now`.
    pub fn accepts(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        let not_open = |why| Refusal::ProgrammeNotOpen {
            programme: self.name(),
            why,
        };
        if self.state != ProgrammeState::Open {
            return Err(not_open(NotOpen::Closed));
        }
        if let Some(opens) = self.opens_at
            && now < opens
        {
            return Err(not_open(NotOpen::OpensOn(opens.date_naive())));
        }
        if let Some(closes) = self.closes_at
            && now >= closes
        {
            return Err(not_open(NotOpen::ClosedOn(closes.date_naive())));
        }
        Ok(())
    }

    /// The aid of `units` and who pays it: the programme's funder, then each co-funder,
    /// in whole cents; `None` on overflow.
    pub fn breakdown(&self, units: u32) -> Option<(i64, Vec<FundingLine>)> {
        let units = i64::from(units);
        let aid = self.aid_per_unit_cents.checked_mul(units)?;
        let mut lines = vec![FundingLine {
            funder: self.funder,
            amount_cents: aid,
            note: None,
        }];
        for co in &self.co_funders {
            lines.push(FundingLine {
                funder: co.member,
                amount_cents: co.per_unit(self.aid_per_unit_cents)?.checked_mul(units)?,
                note: co.note.clone(),
            });
        }
        Some((aid, lines))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: Uuid,
    pub programme: Uuid,
    pub applicant: Uuid,
    pub project: Option<Uuid>,
    pub units: u32,
    pub purpose: String,
    pub beneficiary_siret: Option<String>,
    pub aid_cents: i64,
    pub breakdown: Vec<FundingLine>,
    pub state: ApplicationState,
    pub state_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Application {
    pub fn name(&self) -> String {
        application_name(self.programme, self.id)
    }

    /// The application after `transition` at `now`, or why its state does not allow it:
    /// the one place an application's lifecycle is decided (SUBMITTED → APPROVED |
    /// REJECTED | WITHDRAWN, APPROVED → PAID).
    pub fn next(
        &self,
        transition: &ApplicationTransition,
        now: DateTime<Utc>,
    ) -> Result<Application, Refusal> {
        use ApplicationState::*;
        let from = transition.from();
        if self.state != from {
            return Err(transition.refused(self, false));
        }
        let mut next = self.clone();
        next.version += 1;
        match transition {
            ApplicationTransition::Approve => {
                next.state = Approved;
                next.decided_at = Some(now);
            }
            ApplicationTransition::Reject { reason } => {
                next.state = Rejected;
                next.state_reason = Some(reason.clone());
                next.decided_at = Some(now);
            }
            ApplicationTransition::Withdraw { reason } => {
                next.state = Withdrawn;
                next.state_reason = Some(reason.clone());
            }
            ApplicationTransition::Pay => {
                next.state = Paid;
                next.paid_at = Some(now);
            }
        }
        Ok(next)
    }
}

/// What can happen to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationTransition {
    /// The funder commits the aid.
    Approve,
    /// The funder refuses it, or the envelope or the member's limit did.
    Reject { reason: String },
    /// The applicant takes it back, or it left the alliance.
    Withdraw { reason: String },
    /// The funder records the payment of the aid.
    Pay,
}

impl ApplicationTransition {
    /// The only state it starts from.
    pub fn from(&self) -> ApplicationState {
        match self {
            ApplicationTransition::Pay => ApplicationState::Approved,
            _ => ApplicationState::Submitted,
        }
    }

    /// Why `application` cannot go through it: its state, or, when it still reads as
    /// allowed (`raced`), a concurrent call that moved it first.
    pub fn refused(&self, application: &Application, raced: bool) -> Refusal {
        match self {
            ApplicationTransition::Pay => Refusal::ApplicationNotApproved {
                application: application.name(),
                state: application.state.as_str(),
            },
            other => Refusal::ApplicationDecided {
                application: application.name(),
                state: (!raced).then_some(application.state.as_str()),
                action: match other {
                    ApplicationTransition::Approve => "approved",
                    ApplicationTransition::Reject { .. } => "rejected",
                    _ => "withdrawn",
                },
            },
        }
    }
}

/// What a new programme is made of.
#[derive(Debug, Clone)]
pub struct ProgrammeDraft {
    /// `None`: the caller's own member.
    pub funder: Option<Uuid>,
    pub funder_siret: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub envelope_cents: i64,
    pub aid_per_unit_cents: i64,
    pub unit_label: String,
    pub max_units_per_application: Option<u32>,
    pub eligible_kinds: Vec<String>,
    pub max_awards_per_member: Option<u32>,
    pub co_funders: Vec<CoFunder>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
}

/// What a new application is made of (its programme and applicant come from the
/// request's parent and the caller).
#[derive(Debug, Clone)]
pub struct ApplicationDraft {
    pub project: Option<Uuid>,
    pub units: u32,
    pub purpose: String,
    pub beneficiary_siret: Option<String>,
}

// ---------------------------------------------------------------------------
// Grouped purchases
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub code: String,
    pub title: String,
}

pub fn parse_lot_code(value: &str) -> Result<String, Invalid> {
    let code = value.trim();
    let valid = (1..=30).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if valid {
        Ok(code.to_string())
    } else {
        Err(Invalid::new(
            "must be 1 to 30 characters among a-z, 0-9, _ and -",
        ))
    }
}

/// A site's estimated volume, in thousandths of the purchase's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub name: String,
    pub lot: String,
    pub volume_milli: i64,
}

/// Above 0, three decimals at most, at most a billion: in thousandths.
pub fn parse_volume(volume: f64) -> Result<i64, Invalid> {
    if !volume.is_finite() || volume <= 0.0 {
        return Err(Invalid::new(format!("must be above 0, got {volume}")));
    }
    if volume > 1e9 {
        return Err(Invalid::new("must be at most 1,000,000,000"));
    }
    let milli = (volume * 1000.0).round();
    if ((milli / 1000.0) - volume).abs() > 1e-9 * volume.max(1.0) {
        return Err(Invalid::new("must have at most three decimals"));
    }
    Ok(milli as i64)
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupPurchase {
    pub id: Uuid,
    pub title: String,
    pub coordinator: Uuid,
    pub category: Category,
    pub unit: String,
    pub lots: Vec<Lot>,
    pub deadline: DateTime<Utc>,
    pub state: GroupPurchaseState,
    pub supplier: Option<String>,
    pub participations: BTreeMap<Uuid, Vec<Site>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl GroupPurchase {
    pub fn name(&self) -> String {
        name("groupPurchases", self.id)
    }

    /// The sum of every site's volume per lot, in thousandths (exact).
    pub fn totals(&self) -> BTreeMap<String, i64> {
        let mut totals: BTreeMap<String, i64> =
            self.lots.iter().map(|l| (l.code.clone(), 0)).collect();
        for sites in self.participations.values() {
            for site in sites {
                *totals.entry(site.lot.clone()).or_default() += site.volume_milli;
            }
        }
        totals
    }
}

/// What a new grouped purchase is made of.
#[derive(Debug, Clone)]
pub struct GroupPurchaseDraft {
    /// `None`: the caller's own member.
    pub coordinator: Option<Uuid>,
    pub title: String,
    pub category: Category,
    pub unit: String,
    pub lots: Vec<Lot>,
    pub deadline: DateTime<Utc>,
}

// ---------------------------------------------------------------------------
// Workshops
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct Workshop {
    pub id: Uuid,
    pub theme: String,
    pub season: Option<String>,
    pub required_roles: Vec<String>,
    /// Team lead → members of the team (the lead included).
    pub teams: BTreeMap<Uuid, Vec<Uuid>>,
    pub created_at: DateTime<Utc>,
}

impl Workshop {
    pub fn name(&self) -> String {
        name("workshops", self.id)
    }
}

/// What a new workshop is made of.
#[derive(Debug, Clone)]
pub struct WorkshopDraft {
    pub theme: String,
    pub season: Option<String>,
    /// Never empty: a request naming no role asks for [`VILLES_PAIRS_ROLES`].
    pub required_roles: Vec<String>,
}

/// What `ValidateTeam` answers.
#[derive(Debug, Clone)]
pub struct TeamReport {
    pub covered: Vec<(String, Vec<Uuid>)>,
    pub missing: Vec<String>,
}

/// Which required roles the team's people cover (and by which members), and which miss.
pub fn team_coverage(
    required: &[String],
    people: &[(Uuid, Vec<String>)],
) -> (Vec<(String, Vec<Uuid>)>, Vec<String>) {
    let mut covered = Vec::new();
    let mut missing = Vec::new();
    for role in required {
        let holders: Vec<Uuid> = people
            .iter()
            .filter(|(_, roles)| roles.iter().any(|r| r == role))
            .map(|(member, _)| *member)
            .collect();
        if holders.is_empty() {
            missing.push(role.clone());
        } else {
            covered.push((role.clone(), holders));
        }
    }
    (covered, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solaire_dome() -> Programme {
        Programme {
            id: Uuid::now_v7(),
            funder: Uuid::now_v7(),
            funder_siret: None,
            title: "Solaire Dôme".into(),
            description: None,
            envelope_cents: 50_000_000,
            aid_per_unit_cents: 500_000,
            unit_label: "installation de 9 kWc".into(),
            max_units_per_application: Some(1),
            eligible_kinds: vec!["commune".into(), "epci".into()],
            max_awards_per_member: Some(1),
            co_funders: vec![CoFunder {
                member: Uuid::now_v7(),
                share_basis_points: Some(2_500),
                cents_per_unit: None,
                note: Some("Région, via le PNR Livradois-Forez".into()),
            }],
            opens_at: None,
            closes_at: None,
            state: ProgrammeState::Open,
            committed_cents: 0,
            paid_cents: 0,
            created_by: "x".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_breakdown_is_exact_in_cents() {
        let (aid, lines) = solaire_dome().breakdown(1).unwrap();
        assert_eq!(aid, 500_000);
        assert_eq!(
            lines.iter().map(|l| l.amount_cents).collect::<Vec<_>>(),
            [500_000, 125_000]
        );
        let (aid, lines) = solaire_dome().breakdown(3).unwrap();
        assert_eq!((aid, lines[1].amount_cents), (1_500_000, 375_000));
        let odd = CoFunder {
            member: Uuid::now_v7(),
            share_basis_points: Some(3_333),
            cents_per_unit: None,
            note: None,
        };
        assert_eq!(odd.per_unit(1), None, "a third of a cent is refused");
        assert_eq!(odd.per_unit(10_000), Some(3_333));
    }

    #[test]
    fn a_programme_takes_applications_within_its_window_only() {
        let now = Utc::now();
        let day = chrono::Duration::days(1);
        let mut programme = solaire_dome();
        assert_eq!(programme.accepts(now), Ok(()));
        programme.opens_at = Some(now + day);
        let early = programme.accepts(now).unwrap_err();
        assert_eq!(
            early,
            Refusal::ProgrammeNotOpen {
                programme: programme.name(),
                why: NotOpen::OpensOn((now + day).date_naive()),
            }
        );
        programme.opens_at = None;
        programme.closes_at = Some(now - day);
        assert!(matches!(
            programme.accepts(now),
            Err(Refusal::ProgrammeNotOpen {
                why: NotOpen::ClosedOn(_),
                ..
            })
        ));
        programme.state = ProgrammeState::Closed;
        assert!(matches!(
            programme.accepts(now),
            Err(Refusal::ProgrammeNotOpen {
                why: NotOpen::Closed,
                ..
            })
        ));
    }

    #[test]
    fn volumes_and_lot_codes() {
        assert_eq!(parse_volume(12.345).unwrap(), 12_345);
        assert!(parse_volume(0.0).is_err());
        assert!(parse_volume(1.2345).is_err());
        assert!(parse_lot_code("lot-1_gaz").is_ok());
        assert!(parse_lot_code("Lot 1").is_err());
    }

    #[test]
    fn coverage_names_the_missing_roles() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let required: Vec<String> = VILLES_PAIRS_ROLES.iter().map(|r| r.to_string()).collect();
        let people = vec![
            (
                a,
                vec![
                    "elected_official".to_string(),
                    "roads_technician".to_string(),
                ],
            ),
            (b, vec!["company_representative".to_string()]),
        ];
        let (covered, missing) = team_coverage(&required, &people);
        assert_eq!(missing, ["procurement_officer", "transition_technician"]);
        assert_eq!(covered.len(), 3);
    }

    #[test]
    fn project_transitions() {
        use ProjectState::*;
        assert!(Proposed.can_become(Active));
        assert!(Active.can_become(Completed));
        assert!(!Completed.can_become(Active));
        assert!(!Proposed.can_become(Completed));
    }

    #[test]
    fn application_names() {
        let (p, a) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            parse_application_name(&application_name(p, a)).unwrap(),
            (p, a)
        );
        assert!(parse_application_name("programmes/x/applications/y").is_err());
    }

    #[test]
    fn one_function_decides_an_application_s_lifecycle() {
        use ApplicationState::*;
        let application = |state| Application {
            id: Uuid::now_v7(),
            programme: Uuid::now_v7(),
            applicant: Uuid::now_v7(),
            project: None,
            units: 1,
            purpose: "Centrale de 9 kWc".into(),
            beneficiary_siret: None,
            aid_cents: 500_000,
            breakdown: Vec::new(),
            state,
            state_reason: None,
            created_by: "x".into(),
            created_at: Utc::now(),
            decided_at: None,
            paid_at: None,
            version: 1,
        };
        let reason = || "le toit ne porte pas".to_string();
        let transitions = [
            ApplicationTransition::Approve,
            ApplicationTransition::Reject { reason: reason() },
            ApplicationTransition::Withdraw { reason: reason() },
            ApplicationTransition::Pay,
        ];
        let allowed = [
            (Submitted, 0, Approved),
            (Submitted, 1, Rejected),
            (Submitted, 2, Withdrawn),
            (Approved, 3, Paid),
        ];
        let now = Utc::now();
        for from in ApplicationState::ALL {
            for (t, transition) in transitions.iter().enumerate() {
                let current = application(*from);
                let result = current.next(transition, now);
                match allowed.iter().find(|(f, i, _)| f == from && *i == t) {
                    Some((_, _, to)) => {
                        let next = result.expect("allowed");
                        assert_eq!(next.state, *to);
                        assert_eq!(next.version, 2);
                        assert_eq!(next.decided_at.is_some(), matches!(to, Approved | Rejected));
                        assert_eq!(next.paid_at.is_some(), *to == Paid);
                        assert_eq!(
                            next.state_reason.is_some(),
                            matches!(to, Rejected | Withdrawn)
                        );
                    }
                    None => {
                        use fabrique_platform::refusal::Refusal as _;
                        let refusal = result.expect_err("refused");
                        let code = if *transition == ApplicationTransition::Pay {
                            "APPLICATION_NOT_APPROVED"
                        } else {
                            "APPLICATION_DECIDED"
                        };
                        assert_eq!(refusal.code(), code, "{from:?} + {transition:?}");
                        assert!(
                            refusal.message().contains(&from.as_str().to_uppercase()),
                            "{}",
                            refusal.message()
                        );
                    }
                }
            }
        }
    }
}
