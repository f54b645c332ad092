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

    // The stop begins once a first write is acknowledged, the others in flight or still
    // to be sent: a fixed delay stopped the server before any call reached it when the
    // machine was busy.
    let first = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut calls = Vec::new();
    for i in 0..60 {
        let (admin, first) = (admin.clone(), first.clone());
        calls.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i % 20)).await;
            let made = admin.create(association(&format!("Allié {i}"))).await;
            if made.is_ok() {
                first.notify_one();
            }
            made
        }));
    }
    tokio::time::timeout(Duration::from_secs(30), first.notified())
        .await
        .expect("a first write acknowledged");
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
