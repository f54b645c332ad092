//! Who is calling: the [`Caller`] a verified token names, and the checks handlers make
//! on it.

use uuid::Uuid;

use crate::error::Error;

/// A role a token grants, from its `roles` claim; unknown roles grant nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every call, on every resource.
    Admin,
    /// Calls on behalf of the member named by `sub`.
    Member,
    /// A person signed in as an inhabitant, not for a member: `sub` is their
    /// pseudonymous id at the OpenID provider (citizen participation).
    Citizen,
}

/// Who is calling, established by the interceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`.
    pub subject: String,
    /// The member the caller acts for, when `sub` is a member id.
    pub member_id: Option<Uuid>,
    /// What the token grants.
    pub roles: Vec<Role>,
    /// The person acting through the site for `subject` (the token's `act.sub`), if any.
    pub person: Option<String>,
}

impl Caller {
    /// Whether the caller may act on any resource.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether the caller acts for this member.
    pub fn is_member(&self, member: Uuid) -> bool {
        self.member_id == Some(member) && self.roles.contains(&Role::Member)
    }

    /// Whether the caller is a signed-in citizen (the `citizen` role).
    pub fn is_citizen(&self) -> bool {
        self.roles.contains(&Role::Citizen)
    }

    /// Admin, or acting for `member`.
    pub fn require_admin_or_member(&self, member: Uuid, action: &str) -> Result<(), Error> {
        if self.is_admin() || self.is_member(member) {
            Ok(())
        } else {
            Err(Error::permission_denied(format!(
                "only an admin or the member itself may {action}"
            )))
        }
    }

    /// Only an admin: the error says who may `action`.
    pub fn require_admin(&self, action: &str) -> Result<(), Error> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::permission_denied(format!(
                "only an admin may {action}"
            )))
        }
    }

    /// The caller of a call without a token under `--insecure-dev-auth`.
    pub(crate) fn dev() -> Self {
        Self {
            subject: "insecure-dev-auth".into(),
            member_id: None,
            roles: vec![Role::Admin],
            person: None,
        }
    }
}
