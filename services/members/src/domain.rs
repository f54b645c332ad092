//! The members domain: types that cannot hold invalid values (parse, don't validate),
//! and the lifecycle rules. No protobuf and no SQL here.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Why a value was refused, in words for the caller; the grpc layer adds the field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

/// Trimmed text of `min..=max` characters without control characters.
fn bounded_text(value: &str, min: usize, max: usize) -> Result<String, Invalid> {
    // Count at most max + 1 characters: a 5 MB string is refused without a full pass.
    let trimmed = value.trim();
    let length = trimmed.chars().take(max + 1).count();
    if length < min {
        return invalid("must not be empty");
    }
    if length > max {
        return invalid(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return invalid("must not contain control characters");
    }
    Ok(trimmed.to_string())
}

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
        let Some(id) = name.strip_prefix("members/") else {
            return invalid("must be a resource name of the form members/{id}");
        };
        Uuid::parse_str(id)
            .map(Self)
            .map_err(|_| Invalid("must be members/{id} with a UUID id".into()))
    }

    pub fn name(&self) -> String {
        format!("members/{}", self.0)
    }
}

impl Default for MemberId {
    fn default() -> Self {
        Self::new()
    }
}

/// A SIREN number: 9 digits whose Luhn checksum is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Siren(String);

impl Siren {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return invalid("must be 9 digits");
        }
        if !luhn(&digits) {
            return invalid(format!("{digits} is not a valid SIREN (checksum fails)"));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An INSEE commune code: 5 digits, or `2A`/`2B` then 3 digits for Corsica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InseeCode(String);

impl InseeCode {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let code = value.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        let valid = bytes.len() == 5
            && (bytes.iter().all(u8::is_ascii_digit)
                || (bytes[0] == b'2'
                    && (bytes[1] == b'A' || bytes[1] == b'B')
                    && bytes[2..].iter().all(u8::is_ascii_digit)));
        if !valid {
            return invalid(
                "must be an INSEE commune code: 5 digits, or 2A/2B and 3 digits in Corsica",
            );
        }
        if code.starts_with("00") || code.starts_with("20") {
            return invalid(format!(
                "{code} is not an INSEE commune code (no department 00 or 20)"
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The department: 2 characters, 3 for overseas (97x, 98x).
    pub fn department(&self) -> Department {
        let len = if self.0.starts_with("97") || self.0.starts_with("98") {
            3
        } else {
            2
        };
        Department(self.0[..len].to_string())
    }
}

/// An INSEE department code: `63`, `2A`, `974`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department(String);

impl Department {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let code = value.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let valid = match b.len() {
            2 => {
                (b.iter().all(u8::is_ascii_digit) && code != "00" && code != "20")
                    || code == "2A"
                    || code == "2B"
            }
            3 => (code.starts_with("97") || code.starts_with("98")) && b[2].is_ascii_digit(),
            _ => false,
        };
        if valid {
            Ok(Self(code))
        } else {
            invalid("must be a department code: 2 digits, 2A, 2B, or 3 digits overseas (971…)")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
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

/// An http(s) URL with a host, at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let url = value.trim();
        if url.chars().take(501).count() > 500 {
            return invalid("must be at most 500 characters");
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| Invalid("must start with https:// or http://".into()))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_ok = !host.is_empty()
            && host.contains('.')
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must be a URL with a host, e.g. https://www.puy-de-dome.fr");
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plausible e-mail address (one `@`, a dotted domain), at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let email = value.trim();
        if email.len() > 254 {
            return invalid("must be at most 254 characters");
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Self(email.to_string()))
        } else {
            invalid("must be an e-mail address like name@example.org")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercase and without diacritics, for accent-insensitive search ("Dôme" ~ "dome").
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
            'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            '’' | '‘' | '`' => out.push('\''),
            '–' | '—' => out.push('-'),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text stored in the database.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => invalid(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
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

string_enum!(
    /// Where a member is in its lifecycle.
    MemberState {
        Pending => "pending",
        Active => "active",
        Suspended => "suspended",
        Left => "left",
    }
);

string_enum!(
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

/// Why a transition is not allowed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    /// Stable code for `google.rpc.ErrorInfo.reason`.
    pub reason: &'static str,
    pub message: String,
}

impl Member {
    pub fn etag(&self) -> String {
        etag_of(self.version)
    }

    /// The state after `transition`, or why it is not allowed from the current state.
    pub fn next_state(&self, transition: Transition) -> Result<MemberState, IllegalTransition> {
        use MemberState::*;
        let (allowed, to, reason, rule): (&[MemberState], MemberState, &'static str, &str) =
            match transition {
                Transition::Approve => (
                    &[Pending],
                    Active,
                    "MEMBER_NOT_PENDING",
                    "only a pending member can be approved",
                ),
                Transition::Suspend => (
                    &[Active],
                    Suspended,
                    "MEMBER_NOT_ACTIVE",
                    "only an active member can be suspended",
                ),
                Transition::Reinstate => (
                    &[Suspended],
                    Active,
                    "MEMBER_NOT_SUSPENDED",
                    "only a suspended member can be reinstated",
                ),
                Transition::Leave => (
                    &[Pending, Active, Suspended],
                    Left,
                    "MEMBER_ALREADY_LEFT",
                    "a member that left cannot leave again",
                ),
            };
        if allowed.contains(&self.state) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                reason,
                message: format!(
                    "{} is {}: {rule}",
                    self.id.name(),
                    self.state.as_str().to_uppercase()
                ),
            })
        }
    }
}

/// The etag of a version: opaque to clients.
pub fn etag_of(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The version an etag was made from.
pub fn parse_etag(etag: &str) -> Result<i64, Invalid> {
    etag.trim()
        .strip_prefix("\"v")
        .and_then(|rest| rest.strip_suffix('"'))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| Invalid("is not an etag returned by this service".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_checks_the_luhn_sum() {
        // Real SIRENs from the Puy-de-Dôme open data.
        assert!(Siren::parse("200067627").is_ok());
        assert!(Siren::parse("200 070 407").is_ok());
        assert!(Siren::parse("200067628").is_err());
        assert!(Siren::parse("12345678").is_err());
        assert!(Siren::parse("20006762a").is_err());
    }

    #[test]
    fn insee_codes_allow_corsica_and_give_departments() {
        assert_eq!(
            InseeCode::parse("63113").unwrap().department().as_str(),
            "63"
        );
        assert_eq!(InseeCode::parse("2a004").unwrap().as_str(), "2A004");
        assert_eq!(
            InseeCode::parse("97411").unwrap().department().as_str(),
            "974"
        );
        for bad in ["6311", "631130", "2C004", "ABCDE", "20004", "00123", ""] {
            assert!(InseeCode::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn departments_parse() {
        for good in ["63", "2A", "2b", "974", "01"] {
            assert!(Department::parse(good).is_ok(), "{good}");
        }
        for bad in ["6", "20", "00", "631", "A3", ""] {
            assert!(Department::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_bounded_and_trimmed() {
        assert_eq!(DisplayName::parse("  Aduhme ").unwrap().as_str(), "Aduhme");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(201)).is_err());
        assert!(DisplayName::parse(&"é".repeat(200)).is_ok());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(
            fold("Département du Puy-de-Dôme"),
            "departement du puy-de-dome"
        );
        assert_eq!(fold("Cœur d’Auvergne"), "coeur d'auvergne");
    }

    #[test]
    fn websites_and_emails() {
        assert!(Website::parse("https://www.aduhme.org/solaire-dome").is_ok());
        assert!(Website::parse("ftp://x.org").is_err());
        assert!(Website::parse("https://").is_err());
        assert!(Website::parse("https://exa mple.org").is_err());
        assert!(Email::parse("contact@aduhme.org").is_ok());
        assert!(Email::parse("contact@aduhme").is_err());
        assert!(Email::parse("a@b@c.org").is_err());
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
                assert!(error.message.contains(&from.as_str().to_uppercase()));
            }
        }
    }

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag_of(7)).unwrap(), 7);
        assert!(parse_etag("7").is_err());
        assert!(parse_etag("\"v0\"").is_err());
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
