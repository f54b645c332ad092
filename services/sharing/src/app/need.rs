//! Needs: posting one for the caller's member, reading and listing them (anyone signed
//! in may, so that offers can answer them; the public, the OPEN ones), and closing one.

use fabrique_platform::auth::Caller;
use fabrique_platform::page::{self, Fingerprint, Page};
use fabrique_platform::{Error, request};
use sea_orm::TransactionTrait;
use uuid::Uuid;

use super::{Sharing, acting_member, empty_page, joined, public_states};
use crate::domain::{Need, NeedDraft, NeedState, NeedTransition, need_name};
use crate::events;
use crate::refusal::Refusal;
use crate::store;

impl Sharing {
    /// Posts a need for the caller's member, OPEN, located where the draft says or at
    /// its place. A create retried with the same `request_id` by the same member returns
    /// what the first made.
    pub async fn create_need(
        &self,
        caller: &Caller,
        draft: NeedDraft,
        request_id: Option<Uuid>,
    ) -> Result<Need, Error> {
        if let Some(request_id) = request_id
            && let Some(existing) =
                request::replay(store::need_by_request(&self.db, request_id).await?, |e| {
                    caller.is_member(e.member)
                })?
        {
            return Ok(existing);
        }
        let member = acting_member(caller)?;
        self.ensure_active(member, "member").await?;
        let location = match (draft.location, draft.place) {
            (Some(location), _) => Some(location),
            (None, Some(place)) => Some(self.open_place(place, "need.place").await?),
            (None, None) => None,
        };
        let need = Need::open(member, draft, location, fabrique_platform::time::now());
        let txn = self.db.begin().await?;
        store::insert_need(&txn, &need, &caller.subject, request_id).await?;
        self.commit(txn, vec![events::need(events::NEED_POSTED, &need)])
            .await?;
        Ok(need)
    }

    /// The need `id`, whatever its state.
    pub async fn get_need(&self, id: Uuid) -> Result<Need, Error> {
        store::get_need(&self.db, id)
            .await?
            .ok_or_else(|| Error::not_found(need_name(id)))
    }

    /// The need `id` as `caller` may read it: whoever is signed in reads any; the public
    /// (`None`) only an OPEN one — a closed need is NOT_FOUND.
    pub async fn read_need(&self, caller: Option<&Caller>, id: Uuid) -> Result<Need, Error> {
        let need = self.get_need(id).await?;
        if caller.is_none() && need.state != NeedState::Open {
            return Err(Error::not_found(need_name(id)));
        }
        Ok(need)
    }

    /// A page of `member`'s needs (anyone's when `None`) in `states` (OPEN when empty);
    /// the public (`caller` `None`) gets OPEN needs only, whatever `states` asks.
    pub async fn list_needs(
        &self,
        caller: Option<&Caller>,
        member: Option<Uuid>,
        states: Vec<NeedState>,
        page_size: u64,
        token: &str,
    ) -> Result<Page<Need>, Error> {
        let states = match caller {
            Some(_) => states,
            None => match public_states(&states, &[NeedState::Open]) {
                Some(states) => states,
                None => return Ok(empty_page()),
            },
        };
        let fingerprint = Fingerprint::new("fabrique.sharing.v1.SharingService/ListNeeds")
            .with(member.map(|m| m.to_string()).unwrap_or_default())
            .with(joined(&states))
            .finish();
        let after = page::decode_id(token, fingerprint)?;
        let items = store::list_needs(&self.db, member, &states, after, page_size + 1).await?;
        Ok(Page::of(items, page_size, fingerprint, |n: &Need| n.id))
    }

    /// Closes a need of the caller's member (or any, for an admin), as the domain
    /// allows; of two racing calls, the database lets one through.
    pub async fn close_need(&self, caller: &Caller, id: Uuid) -> Result<Need, Error> {
        let need = self.get_need(id).await?;
        caller.require_admin_or_member(need.member, "close this need")?;
        let closed = need.next(NeedTransition::Close, fabrique_platform::time::now())?;
        let txn = self.db.begin().await?;
        if !store::set_need_state(&txn, &closed, need.state).await? {
            txn.rollback().await?;
            return Err(Refusal::NeedClosed { need: need.name() }.into());
        }
        self.commit(txn, vec![events::need(events::NEED_CLOSED, &closed)])
            .await?;
        Ok(closed)
    }
}
