//! Moderation: a place's lifecycle (approve, suspend, reinstate, close), as the domain
//! allows it, and the review flag set when its operator was suspended or left.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::refusal::Shared;

use super::{CONFLICT_RETRIES, Registry, visibility};
use crate::domain::{Place, PlaceId, Transition};
use crate::events;
use crate::store::Visibility;

impl Registry {
    /// Approve, suspend or reinstate (admin), or close (the operator member or an
    /// admin). `etag_version`, when given, must be current; without it a concurrent
    /// change is retried. Approving needs the operator, if any, to be an active member.
    pub async fn transition(
        &self,
        caller: &Caller,
        id: PlaceId,
        transition: Transition,
        reason: Option<String>,
        etag_version: Option<i64>,
    ) -> Result<Place, Error> {
        for _ in 0..CONFLICT_RETRIES {
            let current = self.get(&visibility(Some(caller)), id).await?;
            match transition {
                Transition::Close => Self::require_editor(caller, &current, "close this place")?,
                Transition::Approve => caller.require_admin("approve a place")?,
                Transition::Suspend => caller.require_admin("suspend a place")?,
                Transition::Reinstate => caller.require_admin("reinstate a place")?,
            }
            if etag_version.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&id.name()));
            }
            let state = current.next_state(transition)?;
            if transition == Transition::Approve
                && let Some(operator) = current.description.operator
            {
                self.ensure_active_operator(operator, "operator").await?;
            }
            let mut next = current.clone();
            next.state = state;
            next.version += 1;
            next.updated_at = fabrique_platform::time::now();
            next.state_reason = match transition {
                Transition::Suspend | Transition::Close => reason.clone(),
                Transition::Approve | Transition::Reinstate => None,
            };
            let event = match transition {
                Transition::Approve | Transition::Reinstate => events::listed(&next),
                Transition::Suspend => events::suspended(&next, reason.as_deref()),
                Transition::Close => events::closed(&next, reason.as_deref()),
            };
            if self.save(&current, &next, vec![event]).await? {
                tracing::info!(place = %id.name(), state = %next.state, "place moderation");
                return Ok(next);
            }
            if etag_version.is_some() {
                return Err(Error::stale_etag(&id.name()));
            }
        }
        Err(Shared::ConcurrentChange {
            resource: Some(id.name()),
        }
        .into())
    }

    /// Clears the review flag (admin).
    pub async fn mark_reviewed(
        &self,
        caller: &Caller,
        id: PlaceId,
        etag_version: Option<i64>,
    ) -> Result<Place, Error> {
        caller.require_admin("mark a place reviewed")?;
        let current = self.get(&Visibility::Admin, id).await?;
        if etag_version.is_some_and(|v| v != current.version) {
            return Err(Error::stale_etag(&id.name()));
        }
        if !current.needs_review {
            return Ok(current);
        }
        let mut next = current.clone();
        next.needs_review = false;
        next.review_reason = None;
        next.version += 1;
        next.updated_at = fabrique_platform::time::now();
        let event = events::updated(&next, vec!["needs_review".into()]);
        if !self.save(&current, &next, vec![event]).await? {
            return Err(Error::stale_etag(&id.name()));
        }
        Ok(next)
    }
}
