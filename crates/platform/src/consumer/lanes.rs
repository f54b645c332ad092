//! The lanes of a subscription: tasks that each handle their deliveries in order. An
//! aggregate's events (same `ce-subject`) always take the same lane, so they are applied
//! in order while other aggregates' go on; what queues up on a lane meanwhile is applied
//! in one transaction.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ConsumerRunner;
use super::transaction::LaneDb;
use crate::bus::Delivery;

/// Events applied in one transaction at most.
const MAX_BATCH: usize = 32;

/// A lane that received nothing for this long closes its database connection.
const LANE_IDLE: Duration = Duration::from_secs(60);

/// The lanes of one subscription.
pub(super) struct Lanes {
    senders: Vec<tokio::sync::mpsc::Sender<Delivery>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Lanes {
    /// Spawns `settings.lanes` tasks; on PostgreSQL each keeps a connection of its own
    /// while it has work.
    pub(super) fn start(runner: &Arc<ConsumerRunner>, shutdown: &CancellationToken) -> Self {
        let count = runner.settings.lanes.max(1);
        let mut senders = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        for _ in 0..count {
            // A short queue: what waits here is not yet being handled, and its ack wait
            // is running.
            let (sender, mut receiver) = tokio::sync::mpsc::channel::<Delivery>(16);
            let (runner, shutdown) = (runner.clone(), shutdown.clone());
            tasks.push(tokio::spawn(async move {
                let mut db = LaneDb::new(runner.db.clone());
                loop {
                    let first = match tokio::time::timeout(LANE_IDLE, receiver.recv()).await {
                        Ok(Some(first)) => first,
                        Ok(None) => break,
                        Err(_) => {
                            // A quiet lane holds no connection.
                            db.release().await;
                            continue;
                        }
                    };
                    // What queued up meanwhile goes in the same transaction; nothing
                    // waits for a batch to fill.
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match receiver.try_recv() {
                            Ok(delivery) => batch.push(delivery),
                            Err(_) => break,
                        }
                    }
                    if shutdown.is_cancelled() {
                        // Handed back at once rather than after the ack wait.
                        for delivery in batch {
                            let _ = delivery.acker.nak(Duration::ZERO).await;
                        }
                        continue;
                    }
                    runner.process_batch(&mut db, batch, &shutdown).await;
                }
                db.release().await;
            }));
            senders.push(sender);
        }
        Self { senders, tasks }
    }

    /// Queues a delivery on its aggregate's lane (waits while that lane is full).
    pub(super) async fn dispatch(&self, delivery: Delivery, shutdown: &CancellationToken) {
        let key = delivery
            .headers
            .get(crate::event::CE_SUBJECT)
            .unwrap_or(&delivery.subject);
        let lane = (crate::hash::fnv1a64(key.as_bytes()) % self.senders.len() as u64) as usize;
        tokio::select! {
            sent = self.senders[lane].send(delivery) => {
                if let Err(tokio::sync::mpsc::error::SendError(delivery)) = sent {
                    let _ = delivery.acker.nak(Duration::ZERO).await;
                }
            }
            _ = shutdown.cancelled() => {}
        }
    }

    /// Lets every lane finish what it holds.
    pub(super) async fn finish(self) {
        drop(self.senders);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
