//! The members domain: types that cannot hold invalid values (parse, don't validate),
//! and the lifecycle rules. No protobuf and no SQL here.

use chrono::{DateTime, Utc};
pub use fabrique_types::{
    Department, Email, InseeCode, Invalid, Siren, Website, bounded_text, fold,
};
use uuid::Uuid;

use crate::refusal::{Refusal, RefusalCode};

// ---------------------------------------------------------------------------
// Identifiers and registry numbers
// ---------------------------------------------------------------------------

/// A member id (UUIDv7); its resource name is `members/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(Uuid);

impl MemberId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// Parses a resource name `members/{id}`.
    pub fn parse_name(name: &str) -> Result<Self, Invalid> {
        fabrique_types::resource::parse_name("members", name).map(Self)
    }

    pub fn name(&self) -> String {
        fabrique_types::resource::format_name("members", self.0)
    }
}

impl Default for MemberId {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------
// Descriptive fields
// ---------------------------------------------------------------------------

/// The name of an ally: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 200;

    pub fn parse(value: &str) -> Result<Self, Invalid> {
        bounded_text(value, 1, Self::MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lowercase, accents removed: what text search compares.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// Optional free label of a territory, at most 200 characters.
pub fn parse_territory(value: &str) -> Result<Option<String>, Invalid> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    bounded_text(value, 1, 200).map(Some)
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

fabrique_types::string_enum!(
    /// What kind of ally a member is.
    MemberKind {
        Commune => "commune",
        Epci => "epci",
        Departement => "departement",
        Region => "region",
        Association => "association",
        EssEnterprise => "ess_enterprise",
        Company => "company",
        ResearchLab => "research_lab",
        TrainingCentre => "training_centre",
        PublicAgency => "public_agency",
        CitizenCollective => "citizen_collective",
    }
);

impl MemberKind {
    /// Territorial collectivities: the kinds a commune-level subsidy is for.
    pub fn is_collectivity(&self) -> bool {
        matches!(
            self,
            Self::Commune | Self::Epci | Self::Departement | Self::Region
        )
    }
}

fabrique_types::string_enum!(
    /// Where a member is in its lifecycle.
    MemberState {
        Pending => "pending",
        Active => "active",
        Suspended => "suspended",
        Left => "left",
    }
);

fabrique_types::string_enum!(
    /// The role of a contact person.
    ContactRole {
        ElectedOfficial => "elected_official",
        ProcurementOfficer => "procurement_officer",
        TransitionTechnician => "transition_technician",
        RoadsTechnician => "roads_technician",
        CompanyRepresentative => "company_representative",
        Other => "other",
    }
);

// ---------------------------------------------------------------------------
// The member
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub full_name: String,
    pub role: ContactRole,
    pub email: Option<Email>,
    pub title: Option<String>,
}

impl Contact {
    pub const MAX_PER_MEMBER: usize = 50;

    pub fn parse_full_name(value: &str) -> Result<String, Invalid> {
        bounded_text(value, 1, 200)
    }

    pub fn parse_title(value: &str) -> Result<Option<String>, Invalid> {
        if value.trim().is_empty() {
            Ok(None)
        } else {
            bounded_text(value, 1, 200).map(Some)
        }
    }
}

/// The fields an ally describes itself with (everything but identity and lifecycle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub display_name: DisplayName,
    pub kind: MemberKind,
    pub siren: Option<Siren>,
    pub insee_code: Option<InseeCode>,
    pub territory: Option<String>,
    pub website: Option<Website>,
    pub contacts: Vec<Contact>,
}

impl Profile {
    /// Rules across fields; each error names the field it is about.
    pub fn check(&self) -> Result<(), (&'static str, Invalid)> {
        if self.kind == MemberKind::Commune && self.insee_code.is_none() {
            return Err(("insee_code", Invalid("is required for a commune".into())));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: MemberId,
    pub profile: Profile,
    pub state: MemberState,
    pub state_reason: Option<String>,
    pub joined_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Starts at 1, +1 on every change; the etag is derived from it.
    pub version: i64,
}

/// A lifecycle call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Approve,
    Suspend,
    Reinstate,
    Leave,
}

impl Member {
    pub fn etag(&self) -> String {
        etag_of(self.version)
    }

    /// The state after `transition`, or why it is not allowed from the current state.
    pub fn next_state(&self, transition: Transition) -> Result<MemberState, Refusal> {
        use MemberState::*;
        let (allowed, to, code, rule): (&[MemberState], MemberState, RefusalCode, &str) =
            match transition {
                Transition::Approve => (
                    &[Pending],
                    Active,
                    RefusalCode::MemberNotPending,
                    "only a pending member can be approved",
                ),
                Transition::Suspend => (
                    &[Active],
                    Suspended,
                    RefusalCode::MemberNotActive,
                    "only an active member can be suspended",
                ),
                Transition::Reinstate => (
                    &[Suspended],
                    Active,
                    RefusalCode::MemberNotSuspended,
                    "only a suspended member can be reinstated",
                ),
                Transition::Leave => (
                    &[Pending, Active, Suspended],
                    Left,
                    RefusalCode::MemberAlreadyLeft,
                    "a member that left cannot leave again",
                ),
            };
        if allowed.contains(&self.state) {
            Ok(to)
        } else {
            Err(Refusal::IllegalTransition {
                code,
                member: self.id.name(),
                state: self.state.as_str(),
                rule,
            })
        }
    }
}

pub use fabrique_types::change::{etag_of, parse_etag};

/// The fields an update changes (those named in its update mask).
#[derive(Debug, Clone, Default)]
pub struct Patch {
    pub display_name: Option<DisplayName>,
    pub kind: Option<MemberKind>,
    pub siren: Option<Option<Siren>>,
    pub insee_code: Option<Option<InseeCode>>,
    pub territory: Option<Option<String>>,
    pub website: Option<Option<Website>>,
    pub contacts: Option<Vec<Contact>>,
}

impl Patch {
    /// Fields that define who the member is, and so what it is entitled to.
    pub fn touches_identity(&self) -> bool {
        self.kind.is_some() || self.siren.is_some() || self.insee_code.is_some()
    }

    /// Applies the patch; returns the names of the fields whose value changed.
    pub fn apply(self, profile: &mut Profile) -> Vec<String> {
        let mut changed = Vec::new();
        use fabrique_types::change::apply as set;
        set(
            &mut profile.display_name,
            self.display_name,
            "display_name",
            &mut changed,
        );
        set(&mut profile.kind, self.kind, "kind", &mut changed);
        set(&mut profile.siren, self.siren, "siren", &mut changed);
        set(
            &mut profile.insee_code,
            self.insee_code,
            "insee_code",
            &mut changed,
        );
        set(
            &mut profile.territory,
            self.territory,
            "territory",
            &mut changed,
        );
        set(&mut profile.website, self.website, "website", &mut changed);
        set(
            &mut profile.contacts,
            self.contacts,
            "contacts",
            &mut changed,
        );
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_trimmed() {
        assert_eq!(DisplayName::parse("  Aduhme ").unwrap().as_str(), "Aduhme");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(201)).is_err());
        assert!(DisplayName::parse(&"é".repeat(200)).is_ok());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }

    fn member(state: MemberState) -> Member {
        Member {
            id: MemberId::new(),
            profile: Profile {
                display_name: DisplayName::parse("Aduhme").unwrap(),
                kind: MemberKind::Association,
                siren: None,
                insee_code: None,
                territory: None,
                website: None,
                contacts: vec![],
            },
            state,
            state_reason: None,
            joined_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn lifecycle_allows_only_its_transitions() {
        use MemberState::*;
        use Transition::*;
        let table = [
            (Pending, Approve, Some(Active)),
            (Pending, Suspend, None),
            (Pending, Reinstate, None),
            (Pending, Leave, Some(Left)),
            (Active, Approve, None),
            (Active, Suspend, Some(Suspended)),
            (Active, Reinstate, None),
            (Active, Leave, Some(Left)),
            (Suspended, Approve, None),
            (Suspended, Suspend, None),
            (Suspended, Reinstate, Some(Active)),
            (Suspended, Leave, Some(Left)),
            (Left, Approve, None),
            (Left, Suspend, None),
            (Left, Reinstate, None),
            (Left, Leave, None),
        ];
        for (from, transition, to) in table {
            let result = member(from).next_state(transition);
            assert_eq!(
                result.as_ref().ok().copied(),
                to,
                "{from:?} + {transition:?}"
            );
            if let Err(error) = result {
                use fabrique_platform::refusal::Refusal as _;
                assert!(error.message().contains(&from.as_str().to_uppercase()));
            }
        }
    }

    #[test]
    fn a_commune_needs_its_insee_code() {
        let mut m = member(MemberState::Pending);
        m.profile.kind = MemberKind::Commune;
        assert_eq!(m.profile.check().unwrap_err().0, "insee_code");
        m.profile.insee_code = Some(InseeCode::parse("63113").unwrap());
        assert!(m.profile.check().is_ok());
    }
}
