//! The memory of tokens already verified ([`Verified`]), so that the calls of one
//! client do not each pay for checking the same signature again.

use super::Caller;

/// Tokens already verified, with their caller and expiry: a client sends the same token
/// on every call, and checking its signature and claims again cost 6 % of a GetMember
/// (docs/performance.md). Keyed by the whole token, so only that exact token hits.
#[derive(Default)]
pub(super) struct Verified(
    pub(super) std::sync::Mutex<std::collections::HashMap<String, (Caller, i64)>>,
);

impl Verified {
    /// Enough for every client of a busy replica; cleared when full (entries are
    /// cheap to make again).
    pub(super) const CAPACITY: usize = 1024;

    pub(super) fn get(&self, token: &str, now: i64) -> Option<Caller> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (caller, valid_until) = cache.get(token)?;
        (now < *valid_until).then(|| caller.clone())
    }

    pub(super) fn insert(&self, token: &str, caller: &Caller, valid_until: i64) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= Self::CAPACITY {
            cache.clear();
        }
        cache.insert(token.to_string(), (caller.clone(), valid_until));
    }
}
