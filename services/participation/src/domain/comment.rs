//! Comments on proposals and their moderation: any participant comments while the active
//! step opens comments, within a rate limit against spam; reports hide a comment once
//! they reach the process's threshold, until the organiser restores it (then reports no
//! longer hide it) or removes it for good.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::proposal_name;
use crate::refusal::Refusal;

fabrique_types::string_enum!(
    /// Where a comment is in its moderation.
    CommentState {
        /// Shown to all.
        Visible => "visible",
        /// Reported enough to wait for the organiser.
        Hidden => "hidden",
        /// Removed by the organiser: final.
        Removed => "removed",
    }
);

fabrique_types::string_enum!(
    /// What the organiser decides.
    Decision {
        /// Visible again, for good.
        Restore => "restore",
        /// Removed for good.
        Remove => "remove",
    }
);

/// At most this many comments per participant…
pub const RATE_LIMIT: u64 = 5;
/// …in this window.
pub const RATE_WINDOW: Duration = Duration::minutes(10);
/// Reports that hide a comment when the process says 0.
pub const DEFAULT_REPORT_THRESHOLD: u32 = 3;

/// A comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Its id.
    pub id: Uuid,
    /// Its process.
    pub process: Uuid,
    /// Its proposal.
    pub proposal: Uuid,
    /// The participant who wrote it.
    pub author: Uuid,
    /// Their pseudonym as of reading.
    pub author_display_name: String,
    /// 2 to 2,000 characters.
    pub body: String,
    /// Where it is.
    pub state: CommentState,
    /// Reports received.
    pub reports: u32,
    /// Whether the organiser restored it after review.
    pub reviewed: bool,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When its state last changed.
    pub updated_at: DateTime<Utc>,
}

/// `processes/{p}/proposals/{q}/comments/{id}`.
pub fn comment_name(process: Uuid, proposal: Uuid, id: Uuid) -> String {
    format!("{}/comments/{id}", proposal_name(process, proposal))
}

/// Parses `processes/{p}/proposals/{q}/comments/{id}`.
pub fn parse_comment_name(name: &str) -> Result<(Uuid, Uuid, Uuid), fabrique_types::Invalid> {
    let shape = "processes/{id}/proposals/{id}/comments/{id}";
    let (proposal, comment) = super::split_child(name, "comments", shape)?;
    let (process, proposal) = super::parse_proposal_name(proposal)?;
    Ok((process, proposal, comment))
}

impl Comment {
    /// Its resource name.
    pub fn name(&self) -> String {
        comment_name(self.process, self.proposal, self.id)
    }

    /// The organiser's decision; a removed comment stays removed.
    pub fn decide(&self, decision: Decision, now: DateTime<Utc>) -> Result<Comment, Refusal> {
        if self.state == CommentState::Removed {
            return Err(Refusal::CommentState {
                comment: self.name(),
                rule: "a removed comment stays removed",
            });
        }
        let mut next = self.clone();
        match decision {
            Decision::Restore => {
                next.state = CommentState::Visible;
                next.reviewed = true;
            }
            Decision::Remove => next.state = CommentState::Removed,
        }
        next.updated_at = now;
        Ok(next)
    }
}

/// Whether a participant who wrote `recent` comments in the window may write another;
/// when not, from when (the oldest of them leaves the window).
pub fn rate_limit(recent: &[DateTime<Utc>]) -> Result<(), DateTime<Utc>> {
    if (recent.len() as u64) < RATE_LIMIT {
        return Ok(());
    }
    let oldest = recent.iter().min().copied().unwrap_or_else(Utc::now);
    Err(oldest + RATE_WINDOW)
}
