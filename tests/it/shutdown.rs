//! Graceful shutdown: calls in flight finish, and the relay publishes every event of
//! every acknowledged write before the process stops.

use std::collections::HashSet;
use std::time::Duration;

use fabrique_testkit::{Backend, TestPlatform};
use tonic::Code;

use crate::support::{Members, association, platform};

#[tokio::test]
async fn every_acknowledged_write_is_published_before_stopping() {
    let platform = platform(Backend::Postgres).await;
    let nats = platform.nats_url.clone().expect("NATS");
    let stream = platform.stream("members");
    let admin = Members::connect(&platform, TestPlatform::admin_token()).await;

    let mut calls = Vec::new();
    for i in 0..60 {
        let admin = admin.clone();
        calls.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i % 20)).await;
            admin.create(association(&format!("Allié {i}"))).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    platform.stop().await;

    let mut acknowledged = HashSet::new();
    for call in calls {
        match call.await.expect("task") {
            Ok(member) => {
                acknowledged.insert(member.name);
            }
            Err(status) => {
                // A call sent as the server's GOAWAY arrives fails in the client's own
                // transport (the server never took it): not a code the server chose.
                let in_transport = std::error::Error::source(&status)
                    .is_some_and(|e| e.downcast_ref::<tonic::transport::Error>().is_some());
                assert!(
                    in_transport
                        || matches!(
                            status.code(),
                            Code::Unavailable | Code::Cancelled | Code::Unknown
                        ),
                    "a refused call says retry: {status:?}"
                )
            }
        }
    }
    assert!(!acknowledged.is_empty());
    let published: HashSet<String> = fabrique_testkit::stream_messages(&nats, &stream)
        .await
        .iter()
        .map(|m| {
            m.headers
                .get("ce-subject")
                .expect("ce-subject")
                .as_str()
                .to_string()
        })
        .collect();
    assert!(
        acknowledged.is_subset(&published),
        "{} acknowledged, {} published",
        acknowledged.len(),
        published.len()
    );
}
