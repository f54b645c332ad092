//! Proposing a place (anyone authenticated) and changing its description (its operator
//! or an admin, against the etag they read), each announced by its event.

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::request;
use fabrique_platform::{Error, db};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Registry, visibility};
use crate::domain::{
    DUPLICATE_RADIUS_KM, Description, Patch, Place, PlaceId, PlaceState, similar_names,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

impl Registry {
    /// Anyone authenticated proposes a place (PROPOSED). Nearby places with a similar
    /// name are recorded as possible duplicates for the moderator.
    pub async fn create(
        &self,
        caller: &Caller,
        description: Description,
        request_id: Option<Uuid>,
    ) -> Result<Place, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = self.created_by_request(caller, request_id).await?
        {
            return Ok(existing);
        }
        if let Some(operator) = description.operator {
            // Naming another member as operator would let one ally publish places in
            // another's name: only admins place them for others.
            caller
                .require_admin_or_member(operator, "propose a place operated by another member")?;
            self.ensure_active_operator(operator, "place.operator")
                .await?;
        }
        let possible_duplicates =
            store::around(&self.db, &description.location, DUPLICATE_RADIUS_KM)
                .await?
                .into_iter()
                .filter(|other| {
                    similar_names(&other.description.display_name, &description.display_name)
                })
                .map(|other| other.id)
                .collect();
        let now = fabrique_platform::time::now();
        let place = Place {
            id: PlaceId::new(),
            description,
            state: PlaceState::Proposed,
            state_reason: None,
            needs_review: false,
            review_reason: None,
            possible_duplicates,
            source: None,
            created_by: caller.subject.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let txn = self.db.begin().await?;
        if let Err(error) = store::insert(&txn, &place, request_id).await {
            let _ = txn.rollback().await;
            if db::violates(&error, &store::REQUEST_ID_KEY)
                && let Some(request_id) = request_id
                && let Some(existing) = self.created_by_request(caller, request_id).await?
            {
                return Ok(existing);
            }
            return Err(error.into());
        }
        outbox::enqueue(&txn, vec![events::proposed(&place)]).await?;
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(place = %place.id.name(), "place proposed");
        Ok(place)
    }

    /// AIP-155: the place an earlier CreatePlace with this `request_id` made, when this
    /// caller made it.
    async fn created_by_request(
        &self,
        caller: &Caller,
        request_id: Uuid,
    ) -> Result<Option<Place>, Error> {
        request::replay(store::by_request_id(&self.db, request_id).await?, |place| {
            place.created_by == caller.subject
        })
    }

    /// Changes the patched fields if `etag_version` is still current. The operator
    /// member or an admin may; only an admin names another operator, who must be an
    /// active member. A closed place is never changed.
    pub async fn update(
        &self,
        caller: &Caller,
        id: PlaceId,
        etag_version: i64,
        patch: Patch,
    ) -> Result<Place, Error> {
        let current = self.get(&visibility(Some(caller)), id).await?;
        Self::require_editor(caller, &current, "change this place")?;
        if patch.operator.is_some() && !caller.is_admin() {
            return Err(Error::permission_denied(
                "only an admin may change a place's operator",
            ));
        }
        if current.state == PlaceState::Closed {
            return Err(Refusal::Closed { place: id.name() }.into());
        }
        if current.version != etag_version {
            return Err(Error::stale_etag(&id.name()));
        }
        if let Some(Some(operator)) = patch.operator {
            self.ensure_active_operator(operator, "place.operator")
                .await?;
        }
        let mut next = current.clone();
        let changed = patch.apply(&mut next.description);
        if changed.is_empty() {
            return Ok(current);
        }
        next.version += 1;
        next.updated_at = fabrique_platform::time::now();
        let event = events::updated(&next, changed);
        if !self.save(&current, &next, vec![event]).await? {
            return Err(Error::stale_etag(&id.name()));
        }
        Ok(next)
    }
}
