//! Token buckets: `rate` requests per second sustained, `burst` at once.
//! [`RateLimiter`] keeps one per client: IPv4 clients are counted per
//! address, IPv6 clients per /64 (one host can hold a whole /64), and the
//! table forgets idle clients when it grows. [`TokenBucket`] is one bucket
//! for the whole server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked before idle ones are forgotten.
const PRUNE_ABOVE: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Bucket {
            tokens: burst,
            last: now,
        }
    }

    /// Refills for the time since the last call, then takes one token; if
    /// there is none, how long until there is one.
    fn take(&mut self, rate: f64, burst: f64, now: Instant) -> Result<(), Duration> {
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * rate;
        self.tokens = (self.tokens + refill).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
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
        self.take_at(ip, Instant::now()).is_ok()
    }

    /// Takes one token for `ip`; if it has none left, how long until it has one.
    ///
    /// # Errors
    /// The wait, when `ip` has no token left.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        self.take_at(ip, Instant::now())
    }

    /// Gives back the token just taken for `ip` (the request it paid for
    /// was refused further on, at no cost).
    pub fn refund(&self, ip: IpAddr) {
        if self.rate <= 0.0 {
            return;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(&client_key(ip)) {
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }

    fn take_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let (rate, burst) = (self.rate, self.burst);
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        buckets
            .entry(client_key(ip))
            .or_insert(Bucket::full(self.burst, now))
            .take(self.rate, self.burst, now)
    }
}

/// One token bucket for the whole server.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

impl TokenBucket {
    /// `rate` per second (0 disables the bucket), `burst` at once (at least 1).
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate,
            burst,
            bucket: Mutex::new(Bucket::full(burst, Instant::now())),
        }
    }

    /// Takes one token; if there is none left, how long until there is one.
    ///
    /// # Errors
    /// The wait, when no token is left.
    pub fn take(&self) -> Result<(), Duration> {
        self.take_at(Instant::now())
    }

    fn take_at(&self, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        self.bucket
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(self.rate, self.burst, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl RateLimiter {
        fn check_at(&self, ip: IpAddr, now: Instant) -> bool {
            self.take_at(ip, now).is_ok()
        }
    }

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

    #[test]
    fn an_empty_bucket_says_how_long_to_wait() {
        // 20 per hour: one token every 180 s.
        let l = RateLimiter::new(20.0 / 3600.0, 20);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t = Instant::now();
        assert!((0..20).all(|_| l.take_at(ip, t).is_ok()));
        let wait = l.take_at(ip, t).unwrap_err();
        assert!((179.0..=180.5).contains(&wait.as_secs_f64()), "{wait:?}");
        assert!(l.take_at(ip, t + Duration::from_secs(181)).is_ok());
    }

    #[test]
    fn a_refunded_token_can_be_taken_again() {
        let l = RateLimiter::new(1.0 / 3600.0, 1);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t = Instant::now();
        assert!(l.take_at(ip, t).is_ok());
        assert!(l.take_at(ip, t).is_err());
        l.refund(ip);
        assert!(l.take_at(ip, t).is_ok());
    }

    #[test]
    fn the_server_wide_bucket_is_one_for_everyone() {
        let b = TokenBucket::new(2.0, 2);
        let t = Instant::now();
        assert!(b.take_at(t).is_ok() && b.take_at(t).is_ok());
        assert!(b.take_at(t).is_err());
        assert!(b.take_at(t + Duration::from_millis(500)).is_ok());
        assert!(TokenBucket::new(0.0, 1).take_at(t).is_ok());
    }
}
