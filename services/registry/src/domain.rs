//! The registry domain: a place, its kinds and capabilities, hours, coordinates, the
//! moderation lifecycle, and what makes two places look like duplicates. No protobuf
//! and no SQL here.

pub mod capability;
pub mod map_grid;
pub mod opening_hours;

use std::collections::BTreeSet;

pub use capability::Capability;
use chrono::{DateTime, Utc};
pub use fabrique_types::{
    Department, Email, InseeCode, Invalid, Location, Phone, PostalCode, Siret, Website,
    bounded_text, fold,
};
pub use opening_hours::OpeningHours;
use uuid::Uuid;

use crate::refusal::{Refusal, RefusalCode};

// ---------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------

/// A place id (UUIDv7); its resource name is `places/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaceId(Uuid);

impl PlaceId {
    /// A fresh id; UUIDv7 ids sort in creation order, which lists rely on.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The id of a stored place.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The bare UUID: what the table and the events' snapshots carry.
    pub fn uuid(&self) -> Uuid {
        self.0
    }

    /// Parses a resource name `places/{id}`.
    pub fn parse_name(name: &str) -> Result<Self, Invalid> {
        fabrique_types::resource::parse_name("places", name).map(Self)
    }

    /// The resource name `places/{id}`, as the contract names places.
    pub fn name(&self) -> String {
        fabrique_types::resource::format_name("places", self.0)
    }
}

impl Default for PlaceId {
    fn default() -> Self {
        Self::new()
    }
}

/// `members/{id}` → the member's UUID.
pub fn parse_member_name(name: &str) -> Result<Uuid, Invalid> {
    fabrique_types::resource::parse_name("members", name)
}

/// The member's resource name `members/{id}`, as the contract names operators.
pub fn member_name(id: Uuid) -> String {
    fabrique_types::resource::format_name("members", id)
}

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

fabrique_types::string_enum!(
    /// What a place is (a place may be several).
    PlaceKind {
        /// Incubateur, pépinière d'entreprises.
        Incubator => "incubator",
        /// A FabLab.
        Fablab => "fablab",
        /// A makerspace or hackerspace.
        Makerspace => "makerspace",
        /// Ressourcerie or recyclerie: collects, repairs and sells on used goods.
        Ressourcerie => "ressourcerie",
        /// Atelier de réparation, repair café.
        RepairWorkshop => "repair_workshop",
        /// Atelier de recyclage.
        RecyclingWorkshop => "recycling_workshop",
        /// Tiers-lieu: a shared place for work, making and meeting.
        TiersLieu => "tiers_lieu",
        /// Coworking, shared rooms.
        SharedSpace => "shared_space",
        /// A training centre.
        TrainingCentre => "training_centre",
        /// A research centre.
        ResearchCentre => "research_centre",
        /// Habitat participatif.
        ParticipatoryHousing => "participatory_housing",
        /// The premises of an enterprise of the économie sociale et solidaire.
        EssPremises => "ess_premises",
    }
);

fabrique_types::string_enum!(
    /// Where a place is in its moderation.
    PlaceState {
        /// Awaiting a moderator; seen only by admins, its proposer and its operator.
        Proposed => "proposed",
        /// Public.
        Listed => "listed",
        /// Withdrawn from public view by a moderator until reinstated.
        Suspended => "suspended",
        /// For good: never changed again.
        Closed => "closed",
    }
);

impl PlaceKind {
    /// The kind named by a `typologie` value of French open data (folded), or by our code.
    pub fn from_typologie(value: &str) -> Option<Self> {
        let folded = fold(value.trim()).replace(['_', '-'], " ");
        let kind = match folded.as_str() {
            "incubateur" | "incubator" | "pepiniere" => Self::Incubator,
            "fablab" | "fab lab" => Self::Fablab,
            "makerspace" | "hackerspace" | "atelier de fabrication numerique" => Self::Makerspace,
            "ressourcerie" | "recyclerie" => Self::Ressourcerie,
            "atelier de reparation" | "repair cafe" | "repair workshop" | "reparation" => {
                Self::RepairWorkshop
            }
            "atelier de recyclage" | "recyclage" | "recycling workshop" => Self::RecyclingWorkshop,
            "tiers lieu" | "tiers lieux" => Self::TiersLieu,
            "espace partage" | "coworking" | "espace de coworking" | "shared space" => {
                Self::SharedSpace
            }
            "centre de formation" | "formation" | "training centre" => Self::TrainingCentre,
            "centre de recherche" | "laboratoire" | "research centre" => Self::ResearchCentre,
            "habitat participatif" | "participatory housing" => Self::ParticipatoryHousing,
            "entreprise ess" | "ess" | "locaux ess" | "ess premises" => Self::EssPremises,
            _ => return None,
        };
        Some(kind)
    }
}

// ---------------------------------------------------------------------------
// The place
// ---------------------------------------------------------------------------

/// The most kinds a place may have (as many as there are).
pub const MAX_KINDS: usize = 12;
/// The most capabilities a place may list.
pub const MAX_CAPABILITIES: usize = 30;
/// The most eco-labels a place may list.
pub const MAX_ECO_LABELS: usize = 20;

/// A postal address; each part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Number and street, at most 300 characters.
    pub street: Option<String>,
    /// The code postal (not the INSEE code: one postal code may serve several
    /// communes, and one commune several codes).
    pub postal_code: Option<PostalCode>,
    /// The town as the post knows it, at most 200 characters.
    pub locality: Option<String>,
}

/// What describes a place (everything but identity and moderation).
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    /// The place's name, as shown and searched.
    pub display_name: String,
    /// At least one.
    pub kinds: BTreeSet<PlaceKind>,
    /// Free text, several lines allowed; searched.
    pub description: Option<String>,
    /// Where to send mail; its locality is searched.
    pub address: Address,
    /// The commune's code officiel géographique; lists filter by it and by its
    /// department.
    pub insee_code: Option<InseeCode>,
    /// Where it is: what searches around a point and duplicate detection measure.
    pub location: Location,
    /// What one can do there, from the [`capability`] vocabulary.
    pub capabilities: BTreeSet<Capability>,
    /// When it is open, in OpenStreetMap's syntax.
    pub opening_hours: Option<OpeningHours>,
    /// The place's web site.
    pub website: Option<Website>,
    /// The place's public address: shown to everyone, unlike members' contacts.
    pub contact_email: Option<Email>,
    /// The place's public phone number.
    pub phone: Option<Phone>,
    /// The member that runs the place (its id): it may change and close it. An active
    /// member when named and when the place is approved; only an admin changes it.
    pub operator: Option<Uuid>,
    /// Labels the place holds, as they are called (« Repair Café », « Ecolabel »…).
    pub eco_labels: Vec<String>,
    /// The SIRET (INSEE's 14-digit number) of the establishment at this address.
    pub siret: Option<Siret>,
}

/// A place's name: trimmed, 1 to 200 characters.
pub fn parse_display_name(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 200)
}

/// A place's description: none when blank, else at most 5,000 characters over several
/// lines.
pub fn parse_description(value: &str) -> Result<Option<String>, Invalid> {
    fabrique_types::text::optional_multiline(value, 5000)
}

/// An eco-label's name: trimmed, 1 to 100 characters.
pub fn parse_eco_label(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 100)
}

/// A place of the registry: its description and where it is in its moderation.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Never changes.
    pub id: PlaceId,
    /// What its operator and admins may change with an update, and imports overwrite.
    pub description: Description,
    /// Changed by the moderation calls only, as [`Place::next_state`] allows.
    pub state: PlaceState,
    /// Why it was suspended or closed, when someone said; cleared on approval and
    /// reinstatement.
    pub state_reason: Option<String>,
    /// Set when its operator was suspended or left the alliance: a moderator should look
    /// at it, then marks it reviewed.
    pub needs_review: bool,
    /// Why it needs review.
    pub review_reason: Option<String>,
    /// Places nearby with a similar name when it was proposed, for the moderator to
    /// compare before approving it.
    pub possible_duplicates: Vec<PlaceId>,
    /// `(source, external id)` of an imported place.
    pub source: Option<(String, String)>,
    /// The token subject that proposed it: it may see the place before it is listed.
    pub created_by: String,
    /// When it was proposed or imported.
    pub created_at: DateTime<Utc>,
    /// Its latest change: the time of its latest event.
    pub updated_at: DateTime<Utc>,
    /// Starts at 1, +1 on every change; the etag is derived from it, and event
    /// consumers ignore a snapshot older than the one they hold.
    pub version: i64,
}

/// A moderation call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// PROPOSED → LISTED, by an admin: the place is public.
    Approve,
    /// LISTED → SUSPENDED, by an admin, with a reason.
    Suspend,
    /// SUSPENDED → LISTED, by an admin.
    Reinstate,
    /// Any state but CLOSED → CLOSED, by its operator or an admin; for good.
    Close,
}

impl Place {
    /// The etag a client sends back to change this version, and only this one.
    pub fn etag(&self) -> String {
        fabrique_types::change::etag_of(self.version)
    }

    /// The state after `transition`, or why it is not allowed from the current state.
    pub fn next_state(&self, transition: Transition) -> Result<PlaceState, Refusal> {
        use PlaceState::*;
        if self.state == Closed {
            return Err(Refusal::Closed {
                place: self.id.name(),
            });
        }
        let (allowed, to, code, rule): (&[PlaceState], PlaceState, RefusalCode, &str) =
            match transition {
                Transition::Approve => (
                    &[Proposed],
                    Listed,
                    RefusalCode::PlaceNotProposed,
                    "only a proposed place can be approved",
                ),
                Transition::Suspend => (
                    &[Listed],
                    Suspended,
                    RefusalCode::PlaceNotListed,
                    "only a listed place can be suspended",
                ),
                Transition::Reinstate => (
                    &[Suspended],
                    Listed,
                    RefusalCode::PlaceNotSuspended,
                    "only a suspended place can be reinstated",
                ),
                Transition::Close => (
                    &[Proposed, Listed, Suspended],
                    Closed,
                    RefusalCode::PlaceClosed,
                    "a closed place stays closed",
                ),
            };
        if allowed.contains(&self.state) {
            Ok(to)
        } else {
            Err(Refusal::IllegalTransition {
                code,
                place: self.id.name(),
                state: self.state.as_str(),
                rule,
            })
        }
    }
}

pub use fabrique_types::change::parse_etag;

// ---------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------

/// How close another place must be to count as a possible duplicate.
pub const DUPLICATE_RADIUS_KM: f64 = 0.5;

const STOP_WORDS: &[&str] = &[
    "de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "the", "of",
];

fn name_tokens(name: &str) -> BTreeSet<String> {
    fold(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty() && !STOP_WORDS.contains(t))
        .map(str::to_string)
        .collect()
}

/// Whether two names are alike: one's words all in the other's, or at least half of all
/// their words shared ("FabLab de Thiers" ~ "Le Fablab Thiers").
pub fn similar_names(a: &str, b: &str) -> bool {
    let (a, b) = (name_tokens(a), name_tokens(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let shared = a.intersection(&b).count();
    let union = a.union(&b).count();
    shared == a.len().min(b.len()) || shared * 2 >= union
}

// ---------------------------------------------------------------------------
// Changes and searches
// ---------------------------------------------------------------------------

/// The largest radius of a search around a point.
pub const MAX_RADIUS_KM: f64 = 1000.0;

/// The fields an update changes (those named in its mask).
///
/// Each field: `None` leaves the description's as it is; for optional ones,
/// `Some(None)` clears it. Each sets the [`Description`] field of the same name.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// A new name.
    pub display_name: Option<String>,
    /// A new set of kinds.
    pub kinds: Option<BTreeSet<PlaceKind>>,
    /// A new or no description.
    pub description: Option<Option<String>>,
    /// A new address, every part at once.
    pub address: Option<Address>,
    /// A new or no INSEE code.
    pub insee_code: Option<Option<InseeCode>>,
    /// New coordinates.
    pub location: Option<Location>,
    /// A new set of capabilities.
    pub capabilities: Option<BTreeSet<Capability>>,
    /// New or no opening hours.
    pub opening_hours: Option<Option<OpeningHours>>,
    /// A new or no web site.
    pub website: Option<Option<Website>>,
    /// A new or no contact address.
    pub contact_email: Option<Option<Email>>,
    /// A new or no phone number.
    pub phone: Option<Option<Phone>>,
    /// Another or no operator (admin only).
    pub operator: Option<Option<Uuid>>,
    /// The whole new list of eco-labels.
    pub eco_labels: Option<Vec<String>>,
    /// A new or no SIRET.
    pub siret: Option<Option<Siret>>,
}

impl Patch {
    /// Applies the patch; returns the names of the fields whose value changed.
    pub fn apply(self, d: &mut Description) -> Vec<String> {
        let mut changed = Vec::new();
        use fabrique_types::change::apply as set;
        set(
            &mut d.display_name,
            self.display_name,
            "display_name",
            &mut changed,
        );
        set(&mut d.kinds, self.kinds, "kinds", &mut changed);
        set(
            &mut d.description,
            self.description,
            "description",
            &mut changed,
        );
        set(&mut d.address, self.address, "address", &mut changed);
        set(
            &mut d.insee_code,
            self.insee_code,
            "insee_code",
            &mut changed,
        );
        set(&mut d.location, self.location, "location", &mut changed);
        set(
            &mut d.capabilities,
            self.capabilities,
            "capabilities",
            &mut changed,
        );
        set(
            &mut d.opening_hours,
            self.opening_hours,
            "opening_hours",
            &mut changed,
        );
        set(&mut d.website, self.website, "website", &mut changed);
        set(
            &mut d.contact_email,
            self.contact_email,
            "contact_email",
            &mut changed,
        );
        set(&mut d.phone, self.phone, "phone", &mut changed);
        set(&mut d.operator, self.operator, "operator", &mut changed);
        set(
            &mut d.eco_labels,
            self.eco_labels,
            "eco_labels",
            &mut changed,
        );
        set(&mut d.siret, self.siret, "siret", &mut changed);
        changed
    }

    /// A patch setting every field to `description`'s value (for imports).
    pub fn everything(description: Description) -> Self {
        Self {
            display_name: Some(description.display_name),
            kinds: Some(description.kinds),
            description: Some(description.description),
            address: Some(description.address),
            insee_code: Some(description.insee_code),
            location: Some(description.location),
            capabilities: Some(description.capabilities),
            opening_hours: Some(description.opening_hours),
            website: Some(description.website),
            contact_email: Some(description.contact_email),
            phone: Some(description.phone),
            operator: Some(description.operator),
            eco_labels: Some(description.eco_labels),
            siret: Some(description.siret),
        }
    }
}

/// A search around a point.
#[derive(Debug, Clone, Copy)]
pub struct Near {
    /// The point searched around.
    pub center: Location,
    /// How far from it, in km along the Earth's surface; at most [`MAX_RADIUS_KM`].
    pub radius_km: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typologie_values_map_to_kinds() {
        assert_eq!(PlaceKind::from_typologie("FabLab"), Some(PlaceKind::Fablab));
        assert_eq!(
            PlaceKind::from_typologie("Tiers-lieu"),
            Some(PlaceKind::TiersLieu)
        );
        assert_eq!(
            PlaceKind::from_typologie("Atelier de réparation"),
            Some(PlaceKind::RepairWorkshop)
        );
        assert_eq!(
            PlaceKind::from_typologie("repair_workshop"),
            Some(PlaceKind::RepairWorkshop)
        );
        assert_eq!(PlaceKind::from_typologie("boulangerie"), None);
    }

    #[test]
    fn similar_names_ignore_case_accents_and_little_words() {
        assert!(similar_names("FabLab de Thiers", "Le Fablab Thiers"));
        assert!(similar_names(
            "Ressourcerie du Livradois",
            "ressourcerie livradois-forez"
        ));
        assert!(!similar_names("FabLab de Thiers", "Ressourcerie de Thiers"));
        assert!(!similar_names("", "x"));
    }

    #[test]
    fn lifecycle() {
        let place = |state| Place {
            id: PlaceId::new(),
            description: Description {
                display_name: "x".into(),
                kinds: [PlaceKind::Fablab].into(),
                description: None,
                address: Address::default(),
                insee_code: None,
                location: Location::parse(45.0, 3.0).unwrap(),
                capabilities: BTreeSet::new(),
                opening_hours: None,
                website: None,
                contact_email: None,
                phone: None,
                operator: None,
                eco_labels: vec![],
                siret: None,
            },
            state,
            state_reason: None,
            needs_review: false,
            review_reason: None,
            possible_duplicates: vec![],
            source: None,
            created_by: "x".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        };
        use PlaceState::*;
        use Transition::*;
        assert_eq!(place(Proposed).next_state(Approve), Ok(Listed));
        assert!(place(Listed).next_state(Approve).is_err());
        assert_eq!(place(Listed).next_state(Suspend), Ok(Suspended));
        assert_eq!(place(Suspended).next_state(Reinstate), Ok(Listed));
        assert_eq!(place(Proposed).next_state(Close), Ok(Closed));
        let closed = place(Closed).next_state(Close).unwrap_err();
        use fabrique_platform::refusal::Refusal as _;
        assert_eq!(closed.code(), "PLACE_CLOSED");
        assert!(closed.message().contains("CLOSED"));
    }
}
