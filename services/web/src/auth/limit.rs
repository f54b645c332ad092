//! Sign-in attempts per address: at most [`ATTEMPTS_PER_MINUTE`] a minute each, so that
//! one-time links and sign-in callbacks cannot be guessed at speed. Counted in this
//! process (each replica counts its own share); addresses are forgotten after their
//! minute. Behind a proxy every visitor shares the proxy's address: the limit is then
//! the proxy's, which still bounds guessing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The attempts one address may make in a minute.
pub const ATTEMPTS_PER_MINUTE: u32 = 10;

/// Attempts per address in the current minute.
#[derive(Debug)]
pub struct Limiter {
    per_minute: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Limiter {
    /// At most `per_minute` attempts per address and minute.
    pub fn new(per_minute: u32) -> Self {
        Limiter {
            per_minute,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `address`: `false` once it is over the limit.
    pub fn allow(&self, address: IpAddr) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
        }
        let entry = seen.entry(address).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_allowance() {
        let limiter = Limiter::new(3);
        let (one, two): (IpAddr, IpAddr) = ([127, 0, 0, 1].into(), [10, 0, 0, 2].into());
        assert!((0..3).all(|_| limiter.allow(one)));
        assert!(!limiter.allow(one), "the fourth in a minute");
        assert!(limiter.allow(two), "another address");
    }
}
