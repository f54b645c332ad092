//! Notify's use cases behind its API: an address's settings, read and changed by the
//! member whose contact person it is (or an admin), and the deliveries, for admins.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::time::now;
use sea_orm::DatabaseConnection;

use uuid::Uuid;

use crate::domain::{Delivery, Email, Kind, Settings, settings_name};
use crate::refusal::Refusal;
use crate::store::{self, DeliveryFilter};

/// Deliveries per page unless asked otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most per page.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The use cases over notify's database.
#[derive(Clone)]
pub struct Notify {
    db: DatabaseConnection,
}

impl Notify {
    /// The use cases over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Notify { db }
    }

    /// An admin, or a member one of whose contact people has this address; anyone else
    /// is told the settings do not exist, so that addresses cannot be probed.
    async fn may_manage(&self, caller: &Caller, email: &Email) -> Result<(), Error> {
        if caller.is_admin() {
            return Ok(());
        }
        if let Some(member) = caller.member_id.filter(|m| caller.is_member(*m))
            && store::is_contact_of(&self.db, member, email).await?
        {
            return Ok(());
        }
        Err(Error::not_found(settings_name(email)))
    }

    /// The settings of `email`.
    pub async fn get_settings(&self, caller: &Caller, email: &Email) -> Result<Settings, Error> {
        self.may_manage(caller, email).await?;
        Ok(store::settings(&self.db, email).await?)
    }

    /// Replaces the kinds `email` does not want; with `etag`, only over that version.
    pub async fn update_settings(
        &self,
        caller: &Caller,
        email: &Email,
        mut disabled: Vec<Kind>,
        etag: Option<i64>,
    ) -> Result<Settings, Error> {
        self.may_manage(caller, email).await?;
        disabled.sort_by_key(|k| k.as_str());
        disabled.dedup();
        for _ in 0..3 {
            let current = store::settings(&self.db, email).await?;
            if etag.is_some_and(|v| v != current.version) {
                return Err(Error::stale_etag(&settings_name(email)));
            }
            let next = Settings {
                email: email.clone(),
                disabled: disabled.clone(),
                version: current.version + 1,
                updated_at: Some(now()),
            };
            if store::save_settings(&self.db, &next, current.version).await? {
                return Ok(next);
            }
            if etag.is_some() {
                return Err(Error::stale_etag(&settings_name(email)));
            }
        }
        Err(fabrique_platform::refusal::Shared::ConcurrentChange {
            resource: Some(settings_name(email)),
        }
        .into())
    }

    /// A page of deliveries, newest first (admins).
    pub async fn list_deliveries(
        &self,
        caller: &Caller,
        filter: DeliveryFilter,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Delivery>, Error> {
        caller.require_admin("list the e-mails sent")?;
        let fingerprint = Fingerprint::new("fabrique.notify.v1.NotifyService/ListDeliveries")
            .with(filter.state.map(|s| s.as_str()).unwrap_or_default())
            .with(
                filter
                    .recipient
                    .as_ref()
                    .map(Email::as_str)
                    .unwrap_or_default(),
            )
            .with(filter.event_id.map(|e| e.to_string()).unwrap_or_default())
            .finish();
        let before = page::decode_id(token, fingerprint)?;
        let items = store::list_deliveries(&self.db, &filter, before, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |d: &Delivery| d.id))
    }

    /// A FAILED e-mail pending again from now, its attempts counted afresh (admins).
    pub async fn retry_delivery(&self, caller: &Caller, id: Uuid) -> Result<Delivery, Error> {
        caller.require_admin("retry an e-mail")?;
        let name = format!("deliveries/{id}");
        let Some(delivery) = store::delivery(&self.db, id).await? else {
            return Err(Error::not_found(name));
        };
        if !store::try_again(&self.db, id, now()).await? {
            return Err(Refusal::DeliveryNotFailed {
                delivery: name,
                state: delivery.state.as_str(),
            }
            .into());
        }
        store::delivery(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name))
    }

    /// Who changed one of notify's resources (admins).
    pub async fn list_changes(
        &self,
        caller: &Caller,
        request: &fabrique_api::audit::ListChangesRequest,
    ) -> Result<fabrique_api::audit::ListChangesResponse, Error> {
        caller.require_admin("list a resource's changes")?;
        fabrique_platform::audit::list_changes(&self.db, request).await
    }
}
