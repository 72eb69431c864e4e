//! Per-client token buckets: `rate` requests per second sustained, `burst`
//! at once. IPv4 clients are counted per address, IPv6 clients per /64 (one
//! host can hold a whole /64). The table forgets idle clients when it grows.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Clients tracked before idle ones are forgotten.
const PRUNE_ABOVE: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The limiter shared by every connection.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

/// The key a client is counted under.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl RateLimiter {
    /// `rate` per second (0 disables the limiter), `burst` at once (at least 1).
    pub fn new(rate: f64, burst: u32) -> Self {
        RateLimiter {
            rate,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`; `false` if it has none left.
    pub fn check(&self, ip: IpAddr) -> bool {
        self.check_at(ip, Instant::now())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(client_key(ip)).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let refill = now.duration_since(bucket.last).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let l = RateLimiter::new(2.0, 3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t = Instant::now();
        assert!((0..3).all(|_| l.check_at(ip, t)));
        assert!(!l.check_at(ip, t));
        assert!(l.check_at("10.0.0.2".parse().unwrap(), t));
        assert!(l.check_at(ip, t + Duration::from_millis(500)));
        assert!(!l.check_at(ip, t + Duration::from_millis(500)));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let l = RateLimiter::new(1.0, 1);
        let t = Instant::now();
        assert!(l.check_at("2001:db8::1".parse().unwrap(), t));
        assert!(!l.check_at("2001:db8::2".parse().unwrap(), t));
        assert!(l.check_at("2001:db8:0:1::1".parse().unwrap(), t));
        assert!(RateLimiter::new(0.0, 1).check_at("::1".parse().unwrap(), t));
    }
}
