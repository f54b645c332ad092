//! What the notify service decides on its own data: the kinds of e-mail people may turn
//! off, an address's settings, where an e-mail stands, what an event makes known and to
//! whom ([`Notice`]), and how long to wait before trying an e-mail again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use fabrique_types::{Email, Invalid};

fabrique_types::string_enum!(
    /// A kind of e-mail, which each address may turn off.
    Kind {
        /// To a resource's owner: a reservation or a claim requested, or cancelled by
        /// the borrower.
        AsOwner => "as_owner",
        /// To a borrower or claimant: an answer or a cancellation.
        AsBorrower => "as_borrower",
        /// To an applicant: a decision or a payment.
        Applications => "applications",
        /// To a place's operator: the place needs review.
        Places => "places",
        /// To the admins: a member applied to join.
        Memberships => "memberships",
        /// To the members expected at a workshop's session: scheduled or cancelled.
        Workshops => "workshops",
    }
);

fabrique_types::string_enum!(
    /// Where an e-mail stands.
    DeliveryState {
        /// Waiting for its (next) attempt.
        Pending => "pending",
        /// The SMTP server took it.
        Sent => "sent",
        /// Given up: its dead letter is on `fabrique.dlq.notify`.
        Failed => "failed",
    }
);

/// The kinds of e-mail one address does not want.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The address, in lower case.
    pub email: Email,
    /// Turned off; empty: every kind is sent.
    pub disabled: Vec<Kind>,
    /// 0 while nobody has set them.
    pub version: i64,
    /// When they were last set.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Settings {
    /// What an address nobody has set receives: everything.
    pub fn default_for(email: Email) -> Self {
        Settings {
            email,
            disabled: Vec::new(),
            version: 0,
            updated_at: None,
        }
    }

    /// Whether this address receives e-mails of `kind`.
    pub fn wants(&self, kind: Kind) -> bool {
        !self.disabled.contains(&kind)
    }
}

/// `notificationSettings/{email}` of `email`.
pub fn settings_name(email: &Email) -> String {
    format!("notificationSettings/{}", email.as_str())
}

/// An address in lower case: people type theirs in any case, and one person must have
/// one set of settings and get one e-mail per event.
pub fn parse_address(text: &str) -> Result<Email, Invalid> {
    Email::parse(&text.trim().to_lowercase())
}

/// Who an event concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The contact people of a member.
    Member(Uuid),
    /// The alliance's admins (the configured addresses).
    Admins,
}

/// What an event makes known to an audience, before it is written for each address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Who it is for.
    pub audience: Audience,
    /// Its kind, which an address may have turned off.
    pub kind: Kind,
    /// The subject line.
    pub subject: String,
    /// What happened, in sentences.
    pub lines: Vec<String>,
    /// Label and value pairs (the slot, the amount, the reason…).
    pub facts: Vec<(String, String)>,
    /// What the button says.
    pub action: String,
    /// The page it opens, a path on the site (`/espace/reservations`).
    pub path: String,
}

/// One e-mail to one address, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// A UUIDv7.
    pub id: Uuid,
    /// The event it tells about: one e-mail per event and address.
    pub event_id: Uuid,
    /// Its kind.
    pub kind: Kind,
    /// The address.
    pub recipient: Email,
    /// Its subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// The page it links to, in full.
    pub link: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i32,
    /// The SMTP server's last answer, when an attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the SMTP server took it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When a pending e-mail is tried next.
    pub next_attempt_at: DateTime<Utc>,
}

impl Delivery {
    /// `deliveries/{id}`.
    pub fn name(&self) -> String {
        format!("deliveries/{}", self.id)
    }
}

/// How a failed e-mail is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts before it is given up (dead-lettered).
    pub max_attempts: u32,
    /// The wait after the first failure; each next one doubles it.
    pub first: Duration,
    /// The longest wait.
    pub longest: Duration,
}

impl Default for Retry {
    /// Ten attempts over about four hours (30 s, 1 min, 2 min… then hourly): an SMTP
    /// server down for a maintenance delays e-mail, and one down for a day is for an
    /// operator to see in the dead letters, not for e-mail to pile up silently.
    fn default() -> Self {
        Retry {
            max_attempts: 10,
            first: Duration::from_secs(30),
            longest: Duration::from_secs(3600),
        }
    }
}

impl Retry {
    /// The wait after `attempts` failed attempts (1 for the first failure).
    pub fn wait_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first
            .saturating_mul(1u32 << doublings)
            .min(self.longest)
    }

    /// Whether an e-mail that failed `attempts` times is given up.
    pub fn gives_up_after(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest() {
        let retry = Retry {
            max_attempts: 5,
            first: Duration::from_secs(1),
            longest: Duration::from_secs(5),
        };
        let waits: Vec<u64> = (1..=5).map(|a| retry.wait_after(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
        assert!(!retry.gives_up_after(4));
        assert!(retry.gives_up_after(5));
        assert_eq!(Retry::default().wait_after(200), Duration::from_secs(3600));
    }

    #[test]
    fn addresses_are_kept_in_lower_case() {
        let email = parse_address(" Agent@Thiers.FR ").unwrap();
        assert_eq!(email.as_str(), "agent@thiers.fr");
        assert_eq!(
            settings_name(&email),
            "notificationSettings/agent@thiers.fr"
        );
        assert!(parse_address("pas une adresse").is_err());
    }

    #[test]
    fn an_address_nobody_set_receives_every_kind() {
        let mut settings = Settings::default_for(parse_address("a@b.fr").unwrap());
        assert!(Kind::ALL.iter().all(|k| settings.wants(*k)));
        settings.disabled.push(Kind::Places);
        assert!(!settings.wants(Kind::Places));
        assert!(settings.wants(Kind::AsOwner));
    }
}
