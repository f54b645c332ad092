//! Reads by key, coalesced: the calls that arrive while the database is busy with
//! earlier reads are answered together by one query for all their keys.
//!
//! This is not a cache. Every call is answered by a query that started after the call
//! arrived, so a reader still sees every write committed before it asked.
//!
//! No worker task: a call that finds fewer than `concurrency` reads in flight runs its
//! own query at once (so an idle service answers as a plain query would, without a
//! hop between tasks); a call that finds them all busy queues. When a read finishes,
//! the first queued call is woken to lead the next batch with the queued keys, or the
//! slot is released. Under load a hundred `GetMember` calls cost a few queries instead
//! of a hundred.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use sea_orm::DbErr;
use tokio::sync::oneshot;

use crate::Error;

type Fetch<K, V> = dyn Fn(Vec<K>) -> Pin<Box<dyn Future<Output = Result<HashMap<K, V>, DbErr>> + Send>>
    + Send
    + Sync;

/// Coalesces loads of `V` by `K`. Cheap to clone.
pub struct Loader<K, V> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Loader<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// What a queued call is told: its value (a failed read fails all its callers:
/// `DbErr` can be cloned, `Error` cannot), or that it leads the next batch with these
/// other callers.
enum Turn<K, V> {
    Done(Result<Option<V>, DbErr>),
    Lead(Vec<Waiter<K, V>>),
}

struct Waiter<K, V> {
    key: K,
    reply: oneshot::Sender<Turn<K, V>>,
}

struct State<K, V> {
    /// Reads in flight (each with its leader).
    running: usize,
    queue: Vec<Waiter<K, V>>,
}

struct Inner<K, V> {
    state: Mutex<State<K, V>>,
    fetch: Box<Fetch<K, V>>,
    max_batch: usize,
    concurrency: usize,
}

impl<K, V> Loader<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// `fetch` reads the values of up to `max_batch` distinct keys (absent keys are
    /// simply missing from its map); at most `concurrency` fetches run at once, which
    /// should stay below the database pool's size.
    pub fn new<F, Fut>(max_batch: usize, concurrency: usize, fetch: F) -> Self
    where
        F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<HashMap<K, V>, DbErr>> + Send + 'static,
    {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    running: 0,
                    queue: Vec::new(),
                }),
                fetch: Box::new(move |keys| Box::pin(fetch(keys))),
                max_batch: max_batch.max(1),
                concurrency: concurrency.max(1),
            }),
        }
    }

    /// The value of `key`, or `None` when there is none.
    pub async fn load(&self, key: K) -> Result<Option<V>, Error> {
        let queued = {
            let mut state = self.inner.lock();
            if state.running < self.inner.concurrency {
                state.running += 1;
                None
            } else {
                let (reply, turn) = oneshot::channel();
                state.queue.push(Waiter {
                    key: key.clone(),
                    reply,
                });
                Some(turn)
            }
        };
        let others = match queued {
            None => Vec::new(),
            Some(turn) => match turn.await {
                Ok(Turn::Done(result)) => return Ok(result?),
                Ok(Turn::Lead(others)) => others,
                Err(_) => return Err(Error::internal("a batched read was abandoned")),
            },
        };
        let mut lead = Lead {
            inner: self.inner.clone(),
            others: Some(others),
        };
        Ok(lead.run(key).await?)
    }
}

impl<K, V> Inner<K, V> {
    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        // Nothing panics while holding it; a poisoned state is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A finished read's slot goes to the next queued batch, or is released.
    fn pass_on(&self) {
        loop {
            let batch: Vec<Waiter<K, V>> = {
                let mut state = self.lock();
                if state.queue.is_empty() {
                    state.running -= 1;
                    return;
                }
                let n = state.queue.len().min(self.max_batch);
                state.queue.drain(..n).collect()
            };
            if self.hand_off(batch) {
                return;
            }
        }
    }

    /// Wakes the first caller of `batch` still waiting to lead it; `false` if none is.
    fn hand_off(&self, batch: Vec<Waiter<K, V>>) -> bool {
        let mut rest = batch.into_iter();
        while let Some(first) = rest.next() {
            match first.reply.send(Turn::Lead(rest.collect())) {
                Ok(()) => return true,
                Err(Turn::Lead(others)) => rest = others.into_iter(),
                Err(Turn::Done(_)) => return false,
            }
        }
        false
    }
}

/// A call leading a read for itself and `others`.
struct Lead<K, V> {
    inner: Arc<Inner<K, V>>,
    /// Taken once the read is done; still here if the call is dropped during it.
    others: Option<Vec<Waiter<K, V>>>,
}

impl<K, V> Lead<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    async fn run(&mut self, key: K) -> Result<Option<V>, DbErr> {
        let others = self.others.as_deref().unwrap_or_default();
        // How many callers want each key: the last one gets the value, the others a copy.
        let mut wanted: HashMap<K, usize> = HashMap::with_capacity(others.len() + 1);
        *wanted.entry(key.clone()).or_default() += 1;
        for waiter in others {
            *wanted.entry(waiter.key.clone()).or_default() += 1;
        }
        let result = (self.inner.fetch)(wanted.keys().cloned().collect()).await;
        let others = self.others.take().unwrap_or_default();
        let mine = match result {
            Ok(mut found) => {
                for waiter in others {
                    let value = match wanted.get_mut(&waiter.key) {
                        Some(left) if *left > 1 => {
                            *left -= 1;
                            found.get(&waiter.key).cloned()
                        }
                        _ => found.remove(&waiter.key),
                    };
                    let _ = waiter.reply.send(Turn::Done(Ok(value)));
                }
                Ok(found.remove(&key))
            }
            Err(error) => {
                for waiter in others {
                    let _ = waiter.reply.send(Turn::Done(Err(error.clone())));
                }
                Err(error)
            }
        };
        self.inner.pass_on();
        mine
    }
}

impl<K, V> Drop for Lead<K, V> {
    fn drop(&mut self) {
        // The leading call was cancelled (its client went away) during the read: the
        // callers it was reading for lead again among themselves, and the slot moves on.
        if let Some(others) = self.others.take()
            && !self.inner.hand_off(others)
        {
            self.inner.pass_on();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_loads_share_queries_and_each_gets_its_own_value() {
        let queries = Arc::new(AtomicUsize::new(0));
        let counted = queries.clone();
        let loader = Loader::new(64, 1, move |keys: Vec<u32>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                // Long enough for the other calls to queue behind this one.
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(keys
                    .into_iter()
                    .filter(|k| k % 10 != 0)
                    .map(|k| (k, k * 2))
                    .collect())
            }
        });
        let calls: Vec<_> = (0..200u32)
            .map(|k| {
                let loader = loader.clone();
                tokio::spawn(async move { (k, loader.load(k % 100).await) })
            })
            .collect();
        for call in calls {
            let (k, value) = call.await.expect("no panic");
            let k = k % 100;
            let expected = (k % 10 != 0).then_some(k * 2);
            assert_eq!(value.expect("fetch succeeds"), expected, "key {k}");
        }
        let queries = queries.load(Ordering::SeqCst);
        assert!(
            queries < 20,
            "200 concurrent loads took {queries} queries: they were not coalesced"
        );
        assert_eq!(loader.inner.lock().running, 0, "every slot released");
    }

    #[tokio::test]
    async fn an_idle_loader_reads_each_call_on_its_own() {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = batches.clone();
        let loader = Loader::new(64, 4, move |keys: Vec<u8>| {
            seen.lock().unwrap().push(keys.clone());
            async move { Ok(keys.into_iter().map(|k| (k, k)).collect()) }
        });
        for k in 0..3 {
            assert_eq!(loader.load(k).await.expect("read"), Some(k));
        }
        assert_eq!(*batches.lock().unwrap(), vec![vec![0], vec![1], vec![2]]);
    }

    #[tokio::test]
    async fn a_failed_fetch_fails_every_waiter_and_the_next_load_retries() {
        let fail = Arc::new(AtomicBool::new(true));
        let failing = fail.clone();
        let loader = Loader::new(8, 2, move |keys: Vec<u8>| {
            let fail = failing.swap(false, Ordering::SeqCst);
            async move {
                if fail {
                    Err(DbErr::Custom("database down".into()))
                } else {
                    Ok(keys.into_iter().map(|k| (k, k)).collect())
                }
            }
        });
        let error = loader.load(1).await.expect_err("first fetch fails");
        assert!(error.to_string().contains("database down"), "{error}");
        assert_eq!(loader.load(1).await.expect("second succeeds"), Some(1));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_behind_a_cancelled_leader_are_still_answered() {
        let started = Arc::new(tokio::sync::Notify::new());
        let first = Arc::new(AtomicBool::new(true));
        let (notify, is_first) = (started.clone(), first.clone());
        let loader = Loader::new(8, 1, move |keys: Vec<u8>| {
            let stall = is_first.swap(false, Ordering::SeqCst);
            let notify = notify.clone();
            async move {
                if stall {
                    notify.notify_one();
                    // The leader's read never ends by itself: only cancellation ends it.
                    std::future::pending::<()>().await;
                }
                Ok(keys.into_iter().map(|k| (k, k + 100)).collect())
            }
        });
        let leader = tokio::spawn({
            let loader = loader.clone();
            async move { loader.load(1).await }
        });
        started.notified().await;
        let queued: Vec<_> = [2u8, 3]
            .into_iter()
            .map(|k| {
                let loader = loader.clone();
                tokio::spawn(async move { loader.load(k).await })
            })
            .collect();
        // Both are queued behind the stalled read before it is cancelled.
        while loader.inner.lock().queue.len() < 2 {
            tokio::task::yield_now().await;
        }
        leader.abort();
        let mut values = Vec::new();
        for call in queued {
            let value = tokio::time::timeout(Duration::from_secs(5), call)
                .await
                .expect("answered after the leader was cancelled")
                .expect("no panic")
                .expect("read");
            values.push(value);
        }
        assert_eq!(values, vec![Some(102), Some(103)]);
        assert_eq!(loader.inner.lock().running, 0, "the slot was released");
    }
}
