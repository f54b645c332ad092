//! Importing open-data files: rows already parsed (`crate::import`) become LISTED
//! places, or update the place an earlier import of the same source made.

use fabrique_platform::auth::Caller;
use fabrique_platform::outbox;
use fabrique_platform::refusal::Shared;
use fabrique_platform::{Error, db};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{CONFLICT_RETRIES, Registry};
use crate::domain::{Description, Patch, Place, PlaceId, PlaceState};
use crate::events;
use crate::import::{ImportReport, ImportRow, RowError};
use crate::store;

/// What importing one row did.
enum Imported {
    Created,
    Updated,
    Unchanged,
}

impl Registry {
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

    /// One row: the place `(source, external_id)` updated to `description`, or created
    /// when there is none; read again when another import wrote it meanwhile.
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
                    let place = new_place(caller, source, external_id, description.clone());
                    if self.insert_imported(&place).await? {
                        return Ok(Imported::Created);
                    }
                    // Imported concurrently: read it again and compare.
                }
            }
        }
        Err(Shared::ConcurrentChange {
            resource: Some(format!("row {external_id}")),
        }
        .into())
    }

    /// Inserts an imported place with its event; `false` when a concurrent import of
    /// the same row inserted it first.
    async fn insert_imported(&self, place: &Place) -> Result<bool, Error> {
        let txn = self.db.begin().await?;
        match store::insert(&txn, place, None).await {
            Ok(()) => {
                outbox::enqueue(&txn, vec![events::listed(place)]).await?;
                txn.commit().await?;
                self.outbox.notify();
                Ok(true)
            }
            Err(error) if db::violates(&error, &store::SOURCE_KEY) => {
                let _ = txn.rollback().await;
                Ok(false)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// A new place of an import: LISTED at once (an admin imported it), known by its
/// source's id.
fn new_place(caller: &Caller, source: &str, external_id: &str, description: Description) -> Place {
    let now = fabrique_platform::time::now();
    Place {
        id: PlaceId::new(),
        description,
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
    }
}
