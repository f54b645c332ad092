//! What the registry does, one use case per method: who may do it, the domain rules, and
//! the change written with its event in one transaction (then the relay is woken).
//! Shared by the gRPC layer, `fabrique import places` and `fabrique seed`.

use fabrique_platform::auth::Caller;
use fabrique_platform::event::OutgoingEvent;
use fabrique_platform::outbox::{self, OutboxSignal};
use fabrique_platform::page::{self, Fingerprint};
use fabrique_platform::refusal::Shared;
use fabrique_platform::request;
use fabrique_platform::{Error, db};
use sea_orm::{DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{
    DUPLICATE_RADIUS_KM, Description, Near, Patch, Place, PlaceId, PlaceState, Transition,
    member_name, similar_names,
};
use crate::events;
use crate::import::{ImportReport, ImportRow, RowError};
use crate::refusal::Refusal;
use crate::store::{self, ListFilter, Visibility};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// A page of places (with their distance when searching around a point).
#[derive(Debug)]
pub struct Page {
    pub places: Vec<(Option<f64>, Place)>,
    pub next_page_token: String,
}

#[derive(Clone)]
pub struct Registry {
    db: DatabaseConnection,
    outbox: OutboxSignal,
}

/// The visibility of a caller (`None`: anonymous).
pub fn visibility(caller: Option<&Caller>) -> Visibility {
    match caller {
        None => Visibility::Public,
        Some(caller) if caller.is_admin() => Visibility::Admin,
        Some(caller) => Visibility::Caller {
            member: caller.member_id,
            subject: caller.subject.clone(),
        },
    }
}

const CONFLICT_RETRIES: usize = 5;

impl Registry {
    pub fn new(db: DatabaseConnection, outbox: OutboxSignal) -> Self {
        Self { db, outbox }
    }

    /// A place the caller may see; others are NOT_FOUND (their existence is not told).
    pub async fn get(&self, visibility: &Visibility, id: PlaceId) -> Result<Place, Error> {
        match store::get(&self.db, id).await? {
            Some(place) if visibility.can_see(&place) => Ok(place),
            _ => Err(Error::not_found(id.name())),
        }
    }

    pub async fn list(
        &self,
        visibility: &Visibility,
        filter: ListFilter,
        near: Option<Near>,
        page_size: u64,
        page_token: &str,
    ) -> Result<Page, Error> {
        let fingerprint = fingerprint(&filter, near.as_ref());
        let cursor = if page_token.is_empty() {
            None
        } else {
            Some(page::decode(page_token, fingerprint)?)
        };
        let bad_token =
            || Error::invalid("page_token", "is not a page token returned by this method");
        match near {
            None => {
                let after = cursor
                    .map(|c| Uuid::from_slice(&c).map_err(|_| bad_token()))
                    .transpose()?;
                let places =
                    store::list(&self.db, &filter, visibility, after, page_size + 1).await?;
                let page = page::Page::of(places, page_size, fingerprint, |p: &Place| p.id.uuid());
                let (places, next_page_token) = (page.items, page.next_page_token);
                Ok(Page {
                    places: places.into_iter().map(|p| (None, p)).collect(),
                    next_page_token,
                })
            }
            Some(near) => {
                let after = cursor
                    .map(|c| {
                        let (distance, id) = c.split_at_checked(8).ok_or_else(bad_token)?;
                        let distance =
                            f64::from_le_bytes(distance.try_into().map_err(|_| bad_token())?);
                        Ok::<_, Error>((distance, Uuid::from_slice(id).map_err(|_| bad_token())?))
                    })
                    .transpose()?;
                let mut places = store::nearest(
                    &self.db,
                    &filter,
                    visibility,
                    &near.center,
                    near.radius_km,
                    after,
                    page_size + 1,
                )
                .await?;
                let next_page_token = if places.len() as u64 > page_size {
                    places.truncate(page_size as usize);
                    places
                        .last()
                        .map(|(distance, place)| {
                            let mut cursor = distance.to_le_bytes().to_vec();
                            cursor.extend_from_slice(place.id.uuid().as_bytes());
                            page::encode(fingerprint, &cursor)
                        })
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                Ok(Page {
                    places: places.into_iter().map(|(d, p)| (Some(d), p)).collect(),
                    next_page_token,
                })
            }
        }
    }

    /// The operator must be an active member, as the registry's replica knows it.
    async fn ensure_active_operator(&self, operator: Uuid, field: &str) -> Result<(), Error> {
        match fabrique_replicas::members::get(&self.db, operator).await? {
            Some(member) if member.is_active() => Ok(()),
            Some(member) => Err(Refusal::OperatorNotActive {
                field: field.to_string(),
                operator: member_name(operator),
                state: Some(member.state),
            }
            .into()),
            None => Err(Refusal::OperatorNotActive {
                field: field.to_string(),
                operator: member_name(operator),
                state: None,
            }
            .into()),
        }
    }

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
            if db::is_unique_violation(&error)
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

    async fn created_by_request(
        &self,
        caller: &Caller,
        request_id: Uuid,
    ) -> Result<Option<Place>, Error> {
        request::replay(store::by_request_id(&self.db, request_id).await?, |place| {
            place.created_by == caller.subject
        })
    }

    /// The operator member or an admin may change a place; only an admin changes who
    /// operates it.
    fn require_editor(caller: &Caller, place: &Place, action: &str) -> Result<(), Error> {
        match place.description.operator {
            _ if caller.is_admin() => Ok(()),
            Some(operator) => caller.require_admin_or_member(operator, action),
            None => caller.require_admin(action),
        }
    }

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

    /// Writes `next` over `current` with its events, unless `current` is no longer the
    /// stored version (then `false`).
    async fn save(
        &self,
        current: &Place,
        next: &Place,
        events: Vec<OutgoingEvent>,
    ) -> Result<bool, Error> {
        let txn = self.db.begin().await?;
        if !store::update_versioned(&txn, next, current.version).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        outbox::enqueue(&txn, events).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(true)
    }

    /// Imports parsed rows (admin): a row new to `(source, id)` is created LISTED, a
    /// known one updated if it differs. Each row commits on its own, so a failing row
    /// leaves the others in. `progress(done, total)` is called after each row.
    pub async fn import(
        &self,
        caller: &Caller,
        source: &str,
        rows: Vec<Result<ImportRow, RowError>>,
        operator: Option<Uuid>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<ImportReport, Error> {
        caller.require_admin("import places")?;
        if let Some(operator) = operator {
            self.ensure_active_operator(operator, "operator").await?;
        }
        let total = rows.len();
        let mut report = ImportReport::default();
        for (done, row) in rows.into_iter().enumerate() {
            match row {
                Err(error) => report.errors.push(error),
                Ok(mut row) => {
                    row.description.operator = operator;
                    match self
                        .import_row(caller, source, row.external_id.as_str(), row.description)
                        .await
                    {
                        Ok(Imported::Created) => report.created += 1,
                        Ok(Imported::Updated) => report.updated += 1,
                        Ok(Imported::Unchanged) => report.unchanged += 1,
                        Err(error @ (Error::Unavailable { .. } | Error::Internal(_))) => {
                            return Err(error);
                        }
                        Err(error) => report.errors.push(RowError {
                            line: row.line,
                            field: "id".into(),
                            description: error.to_string(),
                        }),
                    }
                }
            }
            progress(done + 1, total);
        }
        report.errors.sort_by_key(|e| e.line);
        Ok(report)
    }

    async fn import_row(
        &self,
        caller: &Caller,
        source: &str,
        external_id: &str,
        description: Description,
    ) -> Result<Imported, Error> {
        for _ in 0..CONFLICT_RETRIES {
            match store::by_source(&self.db, source, external_id).await? {
                Some(current) => {
                    let mut next = current.clone();
                    let changed =
                        Patch::everything(description.clone()).apply(&mut next.description);
                    if changed.is_empty() {
                        return Ok(Imported::Unchanged);
                    }
                    next.version += 1;
                    next.updated_at = fabrique_platform::time::now();
                    let event = events::updated(&next, changed);
                    if self.save(&current, &next, vec![event]).await? {
                        return Ok(Imported::Updated);
                    }
                }
                None => {
                    let now = fabrique_platform::time::now();
                    let place = Place {
                        id: PlaceId::new(),
                        description: description.clone(),
                        state: PlaceState::Listed,
                        state_reason: None,
                        needs_review: false,
                        review_reason: None,
                        possible_duplicates: Vec::new(),
                        source: Some((source.to_string(), external_id.to_string())),
                        created_by: caller.subject.clone(),
                        created_at: now,
                        updated_at: now,
                        version: 1,
                    };
                    let txn = self.db.begin().await?;
                    match store::insert(&txn, &place, None).await {
                        Ok(()) => {
                            outbox::enqueue(&txn, vec![events::listed(&place)]).await?;
                            txn.commit().await?;
                            self.outbox.notify();
                            return Ok(Imported::Created);
                        }
                        // Imported concurrently: read it again and compare.
                        Err(error) if db::is_unique_violation(&error) => {
                            let _ = txn.rollback().await;
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
            }
        }
        Err(Shared::ConcurrentChange {
            resource: Some(format!("row {external_id}")),
        }
        .into())
    }
}

enum Imported {
    Created,
    Updated,
    Unchanged,
}

fn fingerprint(filter: &ListFilter, near: Option<&Near>) -> u64 {
    let sorted = |mut items: Vec<&str>| {
        items.sort_unstable();
        items.dedup();
        items.join(",")
    };
    let mut fingerprint = Fingerprint::new("fabrique.registry.v1.RegistryService/ListPlaces")
        .with(sorted(filter.kinds.iter().map(|k| k.as_str()).collect()))
        .with(sorted(
            filter.capabilities.iter().map(|c| c.code()).collect(),
        ))
        .with(sorted(filter.states.iter().map(|s| s.as_str()).collect()))
        .with(filter.department.as_ref().map(|d| d.as_str()).unwrap_or(""))
        .with(filter.insee_code.as_ref().map(|c| c.as_str()).unwrap_or(""))
        .with(filter.query.as_deref().unwrap_or(""))
        .with(if filter.needs_review_only {
            "review"
        } else {
            ""
        })
        .with(filter.operator.map(|o| o.to_string()).unwrap_or_default());
    if let Some(near) = near {
        fingerprint = fingerprint
            .with(near.center.latitude().to_le_bytes())
            .with(near.center.longitude().to_le_bytes())
            .with(near.radius_km.to_le_bytes());
    }
    fingerprint.finish()
}
