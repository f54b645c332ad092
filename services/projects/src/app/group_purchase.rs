//! The use cases of grouped purchases: opening one, members joining with their sites and
//! leaving, and the coordinator closing it then awarding it to a supplier. The domain
//! decides what is allowed ([`GroupPurchase::next`]); a participation is its own row, so
//! what a call returns is read back after its write, with everyone else's sites.

use fabrique_platform::Error;
use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::request;
use fabrique_platform::time::now;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Projects, acting_member, joined};
use crate::domain::{
    Category, GroupPurchase, GroupPurchaseDraft, GroupPurchaseState, GroupPurchaseTransition, Site,
    member_name, name,
};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

impl Projects {
    /// Opens a purchase coordinated by the caller's member (or, for an admin, the one
    /// given), which must be active; its deadline must be to come.
    pub async fn create_group_purchase(
        &self,
        caller: &Caller,
        draft: GroupPurchaseDraft,
        request_id: Option<Uuid>,
    ) -> Result<GroupPurchase, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) = request::replay(
                store::group_purchase_by_request(&self.db, request_id).await?,
                |e| e.created_by == caller.subject,
            )?
        {
            return Ok(existing);
        }
        let coordinator =
            Self::member_for(caller, draft.coordinator, "coordinate a grouped purchase")?;
        self.active_member(coordinator, "coordinator").await?;
        let now = now();
        if draft.deadline <= now {
            return Err(Error::invalid(
                "group_purchase.deadline",
                "must be in the future",
            ));
        }
        let purchase = GroupPurchase::open(draft, coordinator, caller.subject.clone(), now);
        let txn = self.db.begin().await?;
        store::insert_group_purchase(&txn, &purchase, request_id).await?;
        let event = events::group_purchase(events::PURCHASE_OPENED, &purchase, None, "");
        self.commit(txn, vec![event]).await?;
        Ok(purchase)
    }

    /// The purchase with its participations, or NOT_FOUND.
    pub async fn get_group_purchase(&self, id: Uuid) -> Result<GroupPurchase, Error> {
        store::get_group_purchase(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(name("groupPurchases", id)))
    }

    /// A page of the purchases in one of `states` and of one of `categories` (any when
    /// empty).
    pub async fn list_group_purchases(
        &self,
        states: Vec<GroupPurchaseState>,
        categories: Vec<Category>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<GroupPurchase>, Error> {
        let fingerprint =
            Fingerprint::new("fabrique.projects.v1.ProjectsService/ListGroupPurchases")
                .with(joined(states.iter().map(|s| s.as_str())))
                .with(joined(categories.iter().map(|c| c.as_str())))
                .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items =
            store::list_group_purchases(&self.db, &states, &categories, after, page_size + 1)
                .await?;
        Ok(Page::of(
            items,
            page_size,
            fingerprint,
            |g: &GroupPurchase| g.id,
        ))
    }

    /// Puts in (or replaces) the caller's member's sites, each in one of the purchase's
    /// lots: while it is open and before its deadline, by an active member.
    pub async fn join_group_purchase(
        &self,
        caller: &Caller,
        id: Uuid,
        sites: Vec<Site>,
    ) -> Result<GroupPurchase, Error> {
        let member = acting_member(caller)?;
        let purchase = self.get_group_purchase(id).await?;
        let now = now();
        let join = GroupPurchaseTransition::Join {
            member,
            sites: sites.clone(),
        };
        purchase.next(&join, now)?;
        self.active_member(member, "member").await?;
        let mut v = fabrique_platform::Violations::new();
        for (i, site) in sites.iter().enumerate() {
            if !purchase.has_lot(&site.lot) {
                v.add(
                    format!("sites[{i}].lot"),
                    format!("{:?} is not a lot of {}", site.lot, purchase.name()),
                );
            }
        }
        v.into_result()?;
        let txn = self.db.begin().await?;
        if !store::hold_open(&txn, id, now).await? {
            txn.rollback().await?;
            return Err(self.no_longer_open(id, &join).await);
        }
        store::set_participation(&txn, id, member, &sites, now).await?;
        let joined = store::get_group_purchase(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(purchase.name()))?;
        let event = events::group_purchase(events::PURCHASE_JOINED, &joined, Some(member), "");
        self.commit(txn, vec![event]).await?;
        Ok(joined)
    }

    /// Takes the caller's member's sites out of an open purchase.
    pub async fn leave_group_purchase(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<GroupPurchase, Error> {
        let member = acting_member(caller)?;
        let purchase = self.get_group_purchase(id).await?;
        let leave = GroupPurchaseTransition::Leave { member };
        let now = now();
        purchase.next(&leave, now)?;
        let txn = self.db.begin().await?;
        if !store::hold_open(&txn, id, now).await? {
            txn.rollback().await?;
            return Err(self.no_longer_open(id, &leave).await);
        }
        // The read had it in; a concurrent leave (or its departure) took it out first.
        if !store::remove_participation(&txn, id, member).await? {
            txn.rollback().await?;
            return Err(Refusal::NotJoined {
                member: member_name(member),
                purchase: purchase.name(),
            }
            .into());
        }
        let left = store::get_group_purchase(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(purchase.name()))?;
        let event = events::group_purchase(
            events::PURCHASE_LEFT,
            &left,
            Some(member),
            "left by the member",
        );
        self.commit(txn, vec![event]).await?;
        Ok(left)
    }

    /// Why `transition` no longer goes through: the purchase read again (closed, or past
    /// its deadline, since it was checked).
    async fn no_longer_open(&self, id: Uuid, transition: &GroupPurchaseTransition) -> Error {
        match self.get_group_purchase(id).await {
            Ok(purchase) => match purchase.next(transition, now()) {
                Err(refusal) => refusal.into(),
                Ok(_) => Refusal::PurchaseClosed {
                    purchase: purchase.name(),
                    state: purchase.state.as_str(),
                }
                .into(),
            },
            Err(error) => error,
        }
    }

    /// OPEN → CLOSED (`transition` Close), or CLOSED → AWARDED with a supplier and a
    /// price for every lot (the coordinator or an admin).
    pub async fn advance_group_purchase(
        &self,
        caller: &Caller,
        id: Uuid,
        transition: GroupPurchaseTransition,
    ) -> Result<GroupPurchase, Error> {
        let purchase = self.get_group_purchase(id).await?;
        caller.require_admin_or_member(purchase.coordinator, "close or award this purchase")?;
        let subject = match &transition {
            GroupPurchaseTransition::Award { prices, .. } => {
                let (missing, wrong) = purchase.unpriced(prices);
                if let Some(lot) = wrong.first() {
                    return Err(Error::invalid(
                        "prices",
                        format!(
                            "{lot:?} is not a lot of {}, or is priced twice",
                            purchase.name()
                        ),
                    ));
                }
                if !missing.is_empty() {
                    return Err(Error::invalid(
                        "prices",
                        format!(
                            "give a price for every lot; missing: {}",
                            missing.join(", ")
                        ),
                    ));
                }
                events::PURCHASE_AWARDED
            }
            _ => events::PURCHASE_CLOSED,
        };
        let next = purchase.next(&transition, now())?;
        let txn = self.db.begin().await?;
        if !store::move_group_purchase(&txn, &next, transition.from()).await? {
            txn.rollback().await?;
            return Err(transition.refused(&purchase).into());
        }
        let moved = store::get_group_purchase(&txn, id)
            .await?
            .ok_or_else(|| Error::not_found(purchase.name()))?;
        self.commit(txn, vec![events::group_purchase(subject, &moved, None, "")])
            .await?;
        Ok(moved)
    }
}
