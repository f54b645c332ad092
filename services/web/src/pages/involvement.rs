//! What a member is part of, on its space (`/espace`): its open needs, the grouped
//! purchases it coordinates or takes part in, the workshops where it has a team — each
//! a link to its page, where the work is done.

use fabrique_api::projects as pp;
use fabrique_api::sharing as sp;

use super::common::{Link, id_of};
use crate::Web;
use crate::api::authed;

/// The member's part in the alliance's work, as links.
pub struct Involvement {
    /// Its open needs.
    pub needs: Vec<Link>,
    /// The grouped purchases it coordinates or takes part in, and which.
    pub purchases: Vec<Link>,
    /// The workshops where it leads or joined a team.
    pub workshops: Vec<Link>,
}

/// What `member` (`members/{id}`) is part of, read with the person's `token`.
pub async fn of(web: &Web, token: &str, member: &str) -> Result<Involvement, tonic::Status> {
    Ok(Involvement {
        needs: needs(web, token, member).await?,
        purchases: purchases(web, token, member).await?,
        workshops: workshops(web, token, member).await?,
    })
}

async fn needs(web: &Web, token: &str, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let request = sp::ListNeedsRequest {
        page_size: 100,
        member: member.to_string(),
        ..Default::default()
    };
    let needs = web
        .api
        .sharing()
        .list_needs(authed(request, token))
        .await?
        .into_inner()
        .needs;
    Ok(needs
        .into_iter()
        .map(|n| Link {
            href: format!("/besoins/{}", id_of(&n.name, "needs")),
            text: super::needs::title_of(&n.description),
        })
        .collect())
}

async fn purchases(web: &Web, token: &str, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let t = web.texts;
    let request = pp::ListGroupPurchasesRequest {
        page_size: 100,
        ..Default::default()
    };
    let purchases = web
        .api
        .projects()
        .list_group_purchases(authed(request, token))
        .await?
        .into_inner()
        .group_purchases;
    Ok(purchases
        .into_iter()
        .filter_map(|g| {
            let role = if g.coordinator == member {
                t.account.coordinating
            } else if g.participations.iter().any(|p| p.member == member) {
                t.account.taking_part
            } else {
                return None;
            };
            Some(Link {
                href: format!("/achats-groupes/{}", id_of(&g.name, "groupPurchases")),
                text: format!("{} — {role}", g.title),
            })
        })
        .collect())
}

async fn workshops(web: &Web, token: &str, member: &str) -> Result<Vec<Link>, tonic::Status> {
    let request = pp::ListWorkshopsRequest {
        page_size: 100,
        ..Default::default()
    };
    let workshops = web
        .api
        .projects()
        .list_workshops(authed(request, token))
        .await?
        .into_inner()
        .workshops;
    Ok(workshops
        .into_iter()
        .filter(|w| {
            w.teams
                .iter()
                .any(|team| team.lead == member || team.members.iter().any(|m| m == member))
        })
        .map(|w| Link {
            href: format!("/ateliers/{}", id_of(&w.name, "workshops")),
            text: w.theme,
        })
        .collect())
}
