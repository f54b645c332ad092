//! A grouped purchase's joins racing its close, over gRPC on both backends: every join
//! either lands before the close — its sites in what the close returns — or is refused
//! PURCHASE_CLOSED; nothing changes the purchase after it closed.

use std::collections::BTreeSet;

use fabrique_api::projects as proto;
use fabrique_testkit::{Backend, TestPlatform, authed};
use tonic::Status;

use crate::projects::{Projects, active_members, funders, open_data_communes, platform};
use crate::support::{Members, id_of, reason};

fn members_of(purchase: &proto::GroupPurchase) -> BTreeSet<String> {
    purchase
        .participations
        .iter()
        .map(|p| p.member.clone())
        .collect()
}

/// Three rounds of eight communes joining while the coordinator closes.
async fn joins_racing_the_close_never_land_after_it(backend: Backend) {
    let platform = platform(backend).await;
    let members = Members::connect(&platform, TestPlatform::admin_token()).await;
    let (departement, _) = funders(&platform, &members).await;
    let coordinator =
        Projects::connect(&platform, TestPlatform::member_token(&id_of(&departement))).await;
    let communes = active_members(&platform, &members, open_data_communes(8)).await;
    let clients: Vec<Projects> = futures::future::join_all(
        communes
            .iter()
            .map(|c| Projects::connect(&platform, TestPlatform::member_token(&id_of(c)))),
    )
    .await;
    let deadline = chrono::Utc::now() + chrono::Duration::days(30);
    for round in 0..3 {
        let purchase = coordinator
            .purchase(proto::GroupPurchase {
                title: format!("Électricité 2028, vague {round}"),
                category: proto::GroupPurchaseCategory::Electricity as i32,
                unit: "MWh".into(),
                lots: vec![proto::Lot {
                    code: "ecoles".into(),
                    title: "Écoles".into(),
                    total_volume: 0.0,
                    site_category: 0,
                }],
                deadline: Some(fabrique_platform::time::timestamp(deadline)),
                ..Default::default()
            })
            .await
            .expect("open");
        let joins: Vec<_> = clients
            .iter()
            .map(|client| {
                let (client, name) = (client.clone(), purchase.name.clone());
                tokio::spawn(async move { client.join(&name, &[("École", "ecoles", 10.0)]).await })
            })
            .collect();
        let close = {
            let (mut client, token, name) = (
                coordinator.client.clone(),
                coordinator.token.clone(),
                purchase.name.clone(),
            );
            tokio::spawn(async move {
                client
                    .close_group_purchase(authed(proto::CloseGroupPurchaseRequest { name }, &token))
                    .await
                    .map(tonic::Response::into_inner)
            })
        };
        let closed = close.await.expect("task").expect("closed");
        let at_close = members_of(&closed);
        for (join, commune) in joins.into_iter().zip(&communes) {
            match join.await.expect("task") {
                Ok(_) => assert!(
                    at_close.contains(commune),
                    "round {round}: {commune} joined after the close"
                ),
                Err(status) => refused_closed(&status),
            }
        }
        let mut client = coordinator.client.clone();
        let read = client
            .get_group_purchase(authed(
                proto::GetGroupPurchaseRequest {
                    name: purchase.name.clone(),
                },
                &coordinator.token,
            ))
            .await
            .expect("read")
            .into_inner();
        assert_eq!(members_of(&read), at_close, "round {round}");
        assert_eq!(read.lots[0].total_volume, 10.0 * at_close.len() as f64);
    }
}

fn refused_closed(status: &Status) {
    assert_eq!(reason(status), "PURCHASE_CLOSED", "{status:?}");
}

mod postgres {
    #[tokio::test]
    async fn joins_racing_the_close_never_land_after_it() {
        super::joins_racing_the_close_never_land_after_it(fabrique_testkit::Backend::Postgres)
            .await;
    }
}

mod sqlite {
    #[tokio::test]
    async fn joins_racing_the_close_never_land_after_it() {
        super::joins_racing_the_close_never_land_after_it(fabrique_testkit::Backend::Sqlite).await;
    }
}
