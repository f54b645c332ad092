//! What the instructors of a programme (its operator, its funder, admins) record on an
//! application before the funder decides: their opinion with a recommendation, and
//! private notes. Never shown to the applicant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fabrique_types::string_enum!(
    /// What the instructor recommends the funder to decide.
    Recommendation {
        /// Award the aid.
        Approve => "approve",
        /// Refuse it.
        Reject => "reject",
    }
);

// Stored in JSON by its stable text, as every enum of the service is stored.
impl Serialize for Recommendation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Recommendation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(|e: fabrique_types::Invalid| serde::de::Error::custom(e.to_string()))
    }
}

/// A private note of an instructor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The instructor's member; `None` for an admin.
    pub author: Option<Uuid>,
    /// 1 to 5,000 characters.
    pub text: String,
    /// When it was written.
    pub at: DateTime<Utc>,
}

/// The instructors' opinion and notes on an application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Instruction {
    /// What the last opinion recommends; `None` before any.
    pub recommendation: Option<Recommendation>,
    /// The last opinion, in words.
    pub opinion: Option<String>,
    /// Who gave it: the instructor's member, `None` for an admin.
    pub instructor: Option<Uuid>,
    /// When it was given.
    pub opinion_at: Option<DateTime<Utc>>,
    /// Every note, oldest first.
    pub notes: Vec<Note>,
}
