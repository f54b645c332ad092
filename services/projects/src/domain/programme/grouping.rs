//! Groupings (groupements): one member — an EPCI for its communes — files one
//! application on behalf of several members. Each of them gets its own application,
//! checked and counted as if it had applied itself; the grouping ties them together so
//! that its filer follows them and the funder may approve them all at once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::name;

/// A grouping's resource name: `programmes/{p}/groupings/{g}`.
pub fn grouping_name(programme: Uuid, id: Uuid) -> String {
    format!("{}/groupings/{id}", name("programmes", programme))
}

/// A grouped application as filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    /// Named `programmes/{programme}/groupings/{id}`.
    pub id: Uuid,
    /// The programme applied to.
    pub programme: Uuid,
    /// The member that filed it (the caller's), e.g. the EPCI.
    pub filer: Uuid,
    /// What it is for, the purpose of each of its applications.
    pub purpose: String,
    /// The units each member asks for.
    pub units_per_member: u32,
    /// The members it applies for, in the order given.
    pub members: Vec<Uuid>,
    /// The token subject that filed it (a replayed create must come from it).
    pub created_by: String,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
}

impl Grouping {
    /// Its resource name.
    pub fn name(&self) -> String {
        grouping_name(self.programme, self.id)
    }
}

/// What a new grouping is made of.
#[derive(Debug, Clone)]
pub struct GroupingDraft {
    /// 1 to 500 characters.
    pub purpose: String,
    /// At least 1 (and within the programme's limit per application).
    pub units_per_member: u32,
    /// 2 to 100 distinct members.
    pub members: Vec<Uuid>,
    /// What each member's application finances, in the order of `members`; empty:
    /// not given.
    pub installations: Vec<super::Installation>,
}

/// `programmes/{p}/groupings/{g}` → (p, g).
pub fn parse_grouping_name(value: &str) -> Result<(Uuid, Uuid), super::Invalid> {
    let invalid = || super::Invalid::new("must be programmes/{id}/groupings/{id} with UUID ids");
    let rest = value.strip_prefix("programmes/").ok_or_else(invalid)?;
    let (programme, rest) = rest.split_once('/').ok_or_else(invalid)?;
    let id = rest.strip_prefix("groupings/").ok_or_else(invalid)?;
    Ok((
        Uuid::parse_str(programme).map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?,
    ))
}
