//! What programmes and grouped purchases report: programmes' application and award
//! counts, their co-funders' committed and paid totals, the SCDL export of their awards,
//! and the CSV of what an awarded grouped purchase obtained.

use std::collections::{BTreeMap, HashMap};

use fabrique_platform::Error;
use uuid::Uuid;

use super::Projects;
use crate::domain::ApplicationState;
use crate::store;

impl Projects {
    /// How many applications (withdrawn ones aside) and awards each of `programmes` has.
    pub async fn application_counts(
        &self,
        programmes: &[Uuid],
    ) -> Result<HashMap<Uuid, (i64, i64, i64)>, Error> {
        store::application_counts(&self.db, programmes).await
    }

    /// Each of `programmes`' co-funders' committed and paid totals, by (programme,
    /// co-funder).
    pub async fn co_funding(
        &self,
        programmes: &[Uuid],
    ) -> Result<HashMap<(Uuid, Uuid), (i64, i64)>, Error> {
        store::co_funding::totals(&self.db, programmes).await
    }

    /// What an AWARDED purchase obtained, as CSV: per lot and for the group, and per
    /// participant too for a caller with a token (who reads participations anyway).
    pub async fn export_group_purchase(
        &self,
        caller: Option<&fabrique_platform::auth::Caller>,
        id: Uuid,
    ) -> Result<crate::outcome::Outcome, Error> {
        let purchase = self.get_group_purchase(id).await?;
        if purchase.state != crate::domain::GroupPurchaseState::Awarded {
            return Err(crate::refusal::Refusal::PurchaseState {
                purchase: purchase.name(),
                state: purchase.state.as_str(),
                expected: crate::domain::GroupPurchaseState::Awarded.as_str(),
            }
            .into());
        }
        let mut members = BTreeMap::new();
        let participants: Vec<Uuid> = purchase.participations.keys().copied().collect();
        for member in participants {
            if let Some(known) = fabrique_replicas::members::get(&self.db, member).await? {
                members.insert(member, known);
            }
        }
        crate::outcome::write(&purchase, &members, caller.is_some()).map_err(Error::internal)
    }

    /// The programme's awards (approved or paid) as SCDL "subventions" CSV.
    pub async fn export_awards(&self, programme_id: Uuid) -> Result<crate::scdl::Export, Error> {
        let programme = self.get_programme(programme_id).await?;
        let awards = store::list_applications(
            &self.db,
            Some(programme.id),
            None,
            &[ApplicationState::Approved, ApplicationState::Paid],
            None,
            None,
        )
        .await?;
        let mut members: BTreeMap<Uuid, fabrique_replicas::members::ReplicaMember> =
            BTreeMap::new();
        // Collected first: an iterator held across the awaits would not be Send.
        let mut named = vec![programme.funder];
        for award in &awards {
            named.push(award.applicant);
            named.extend(award.breakdown.iter().map(|line| line.funder));
        }
        for member in named {
            if let std::collections::btree_map::Entry::Vacant(slot) = members.entry(member)
                && let Some(known) = fabrique_replicas::members::get(&self.db, member).await?
            {
                slot.insert(known);
            }
        }
        crate::scdl::write(&programme, &awards, &members).map_err(Error::internal)
    }
}
