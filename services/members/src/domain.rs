//! The members domain: types that cannot hold invalid values (parse, don't validate),
//! and the lifecycle rules. No protobuf and no SQL here.

use chrono::{DateTime, Utc};
pub use fabrique_types::{
    Department, Email, InseeCode, Invalid, Siren, Siret, Website, bounded_text, fold,
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
    /// A fresh id; UUIDv7 ids sort in creation order, which lists rely on.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// An id as the table, or another message, carries it.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The bare UUID: what the table, the events and the tokens' `member_id` carry.
    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// Parses a resource name `members/{id}`.
    pub fn parse_name(name: &str) -> Result<Self, Invalid> {
        fabrique_types::resource::parse_name("members", name).map(Self)
    }

    /// The resource name `members/{id}`, as the contract names members.
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
    /// The longest name, in characters.
    pub const MAX: usize = 200;

    /// The name trimmed; refused when empty, too long or holding control characters.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        bounded_text(value, 1, Self::MAX).map(Self)
    }

    /// The name as shown.
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
    /// What kind of ally a member is: the four levels of French territorial
    /// collectivity, then the other organisations of the alliance.
    MemberKind {
        /// A commune.
        Commune => "commune",
        /// Établissement public de coopération intercommunale: an intercommunalité
        /// (communauté de communes, d'agglomération, métropole).
        Epci => "epci",
        /// A Département.
        Departement => "departement",
        /// A Région.
        Region => "region",
        /// An association (loi 1901).
        Association => "association",
        /// An enterprise of the économie sociale et solidaire (coopérative, SCIC,
        /// mutuelle…).
        EssEnterprise => "ess_enterprise",
        /// Any other company.
        Company => "company",
        /// A research laboratory.
        ResearchLab => "research_lab",
        /// A training centre.
        TrainingCentre => "training_centre",
        /// A public body or State agency (établissement public).
        PublicAgency => "public_agency",
        /// A collectif citoyen, whatever its legal form.
        CitizenCollective => "citizen_collective",
    }
);

fabrique_types::string_enum!(
    /// Where a member is in its lifecycle.
    MemberState {
        /// Applied, awaiting an admin's approval.
        Pending => "pending",
        /// In the alliance.
        Active => "active",
        /// Suspended by an admin until reinstated; the registry flags the places it
        /// operates for review.
        Suspended => "suspended",
        /// Left for good: it can no longer change, and its SIREN is free again.
        Left => "left",
    }
);

fabrique_types::string_enum!(
    /// What a contact person does for the member (peer workshops need a mix).
    ContactRole {
        /// An élu·e.
        ElectedOfficial => "elected_official",
        /// In charge of public procurement (commande publique).
        ProcurementOfficer => "procurement_officer",
        /// Chargé·e de mission transition.
        TransitionTechnician => "transition_technician",
        /// Roads (voirie) technician.
        RoadsTechnician => "roads_technician",
        /// Represents a company.
        CompanyRepresentative => "company_representative",
        /// Anything else.
        Other => "other",
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

// ---------------------------------------------------------------------------
// The member
// ---------------------------------------------------------------------------

/// A person the alliance can reach at a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// 1 to 200 characters.
    pub full_name: String,
    /// What they do for the member.
    pub role: ContactRole,
    /// Personal data: shown to admins and to the member only, never in the public events
    /// (only on the private stream the notify service reads).
    pub email: Option<Email>,
    /// Their title as they give it (« Maire », « Directrice des services techniques »).
    pub title: Option<String>,
}

impl Contact {
    /// The most contacts a member may list.
    pub const MAX_PER_MEMBER: usize = 50;

    /// A full name: trimmed, 1 to 200 characters.
    pub fn parse_full_name(value: &str) -> Result<String, Invalid> {
        bounded_text(value, 1, 200)
    }

    /// A title: none when blank, else at most 200 characters.
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
    /// The ally's name, as shown.
    pub display_name: DisplayName,
    /// Decides what the member is entitled to: only an admin changes it.
    pub kind: MemberKind,
    /// The legal entity's SIREN (INSEE's 9-digit number); one current member per SIREN.
    /// Only an admin changes it.
    pub siren: Option<Siren>,
    /// Its head office's SIRET, which begins with its SIREN: how public funders name
    /// it in open data.
    pub siret: Option<Siret>,
    /// The SIREN of the EPCI a commune belongs to: co-funders may limit their part to
    /// some EPCIs' communes. Only an admin changes it.
    pub epci_siren: Option<Siren>,
    /// The commune's code officiel géographique (required for a commune); lists filter
    /// members by its department. Only an admin changes it.
    pub insee_code: Option<InseeCode>,
    /// A free label of the territory the ally covers (« Livradois-Forez »).
    pub territory: Option<String>,
    /// The ally's web site.
    pub website: Option<Website>,
    /// At most [`Contact::MAX_PER_MEMBER`].
    pub contacts: Vec<Contact>,
}

impl Profile {
    /// Rules across fields; each error names the field it is about.
    pub fn check(&self) -> Result<(), (&'static str, Invalid)> {
        // A collectivity is a legal entity funders count awards against (one subsidy
        // per collectivity): without its SIREN a commune could be registered twice.
        if self.kind.is_collectivity() && self.siren.is_none() {
            return Err((
                "siren",
                Invalid("is required for a territorial collectivity".into()),
            ));
        }
        if let Some(siret) = &self.siret {
            match &self.siren {
                None => return Err(("siret", Invalid("needs the SIREN it begins with".into()))),
                Some(siren) if siren.as_str() != siret.siren() => {
                    return Err((
                        "siret",
                        Invalid(format!("must begin with the SIREN {}", siren.as_str())),
                    ));
                }
                Some(_) => {}
            }
        }
        if self.epci_siren.is_some() && self.kind != MemberKind::Commune {
            return Err((
                "epci_siren",
                Invalid("is only for a commune (the EPCI it belongs to)".into()),
            ));
        }
        if self.kind == MemberKind::Commune && self.insee_code.is_none() {
            return Err(("insee_code", Invalid("is required for a commune".into())));
        }
        Ok(())
    }
}

/// An ally of the alliance: how it describes itself and where it is in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Never changes.
    pub id: MemberId,
    /// What the member and admins may change with an update.
    pub profile: Profile,
    /// Changed by the lifecycle calls only, as [`Member::next_state`] allows.
    pub state: MemberState,
    /// Why it was suspended or left, when someone said; cleared on approval and
    /// reinstatement.
    pub state_reason: Option<String>,
    /// When it joined the alliance: set by its first approval, possibly to an earlier
    /// date (an ally that joined before it was registered here); kept afterwards.
    pub joined_at: Option<DateTime<Utc>>,
    /// When it applied.
    pub created_at: DateTime<Utc>,
    /// Its latest change: the time of its latest event.
    pub updated_at: DateTime<Utc>,
    /// Starts at 1, +1 on every change; the etag is derived from it.
    pub version: i64,
}

/// A lifecycle call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// PENDING → ACTIVE, by an admin: the ally joins.
    Approve,
    /// ACTIVE → SUSPENDED, by an admin, with a reason.
    Suspend,
    /// SUSPENDED → ACTIVE, by an admin.
    Reinstate,
    /// Any state but LEFT → LEFT, by the member itself or an admin; for good.
    Leave,
}

impl Member {
    /// The etag a client sends back to change this version, and only this one.
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
///
/// Each field: `None` leaves the profile's as it is; for optional ones, `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// A new name.
    pub display_name: Option<DisplayName>,
    /// A new kind (admin only).
    pub kind: Option<MemberKind>,
    /// A new or no SIREN (admin only).
    pub siren: Option<Option<Siren>>,
    /// A new or no head office SIRET (the member may change it: its head office moves).
    pub siret: Option<Option<Siret>>,
    /// A new or no EPCI for a commune (admin only).
    pub epci_siren: Option<Option<Siren>>,
    /// A new or no INSEE code (admin only).
    pub insee_code: Option<Option<InseeCode>>,
    /// A new or no territory.
    pub territory: Option<Option<String>>,
    /// A new or no web site.
    pub website: Option<Option<Website>>,
    /// The whole new list of contacts.
    pub contacts: Option<Vec<Contact>>,
}

impl Patch {
    /// Fields that define who the member is, and so what it is entitled to.
    pub fn touches_identity(&self) -> bool {
        self.kind.is_some()
            || self.siren.is_some()
            || self.insee_code.is_some()
            || self.epci_siren.is_some()
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
        set(&mut profile.siret, self.siret, "siret", &mut changed);
        set(
            &mut profile.epci_siren,
            self.epci_siren,
            "epci_siren",
            &mut changed,
        );
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
                siret: None,
                epci_siren: None,
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
    fn a_collectivity_needs_its_siren_and_a_commune_its_insee_code() {
        let mut m = member(MemberState::Pending);
        for kind in [
            MemberKind::Epci,
            MemberKind::Departement,
            MemberKind::Region,
        ] {
            m.profile.kind = kind;
            assert_eq!(m.profile.check().unwrap_err().0, "siren", "{kind:?}");
        }
        m.profile.kind = MemberKind::Commune;
        assert_eq!(m.profile.check().unwrap_err().0, "siren");
        m.profile.siren = Some(Siren::parse("216301135").unwrap());
        assert_eq!(m.profile.check().unwrap_err().0, "insee_code");
        m.profile.siret = Some(Siret::parse("21630430300011").unwrap());
        assert_eq!(m.profile.check().unwrap_err().0, "siret", "another SIREN's");
        m.profile.siret = Some(Siret::completing(m.profile.siren.as_ref().unwrap(), 1));
        m.profile.insee_code = Some(InseeCode::parse("63113").unwrap());
        assert!(m.profile.check().is_ok());
        m.profile.epci_siren = Some(Siren::parse("246300701").unwrap());
        assert!(
            m.profile.check().is_ok(),
            "a commune of Clermont Auvergne Métropole"
        );
        m.profile.kind = MemberKind::Epci;
        assert_eq!(m.profile.check().unwrap_err().0, "epci_siren");
    }
}
