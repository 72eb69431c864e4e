//! The certificates this server has seen issued by its authority, so that a
//! doctor's next request costs one signature recovery (its own) instead of
//! two (`ehrchain::Issuers`).
//!
//! Only a certificate whose recovered issuer *is* the configured authority
//! is remembered, keyed by [`Certificate::issuer_key`] (SHA-256 of the
//! body's signing hash and the signature, which determine the recovery
//! exactly). A forged or foreign certificate is recovered every time and
//! never enters the set, so a stranger cannot fill it; its size is bounded
//! by the authority's genuine certificates, and capped at [`CAPACITY`]
//! (emptied when full: the cost is one recovery per doctor again).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use ehrchain::{Address, Certificate, Issuers};

/// Most certificates remembered before the set is emptied.
pub const CAPACITY: usize = 100_000;

/// The authority's certificates seen so far.
#[derive(Debug)]
pub struct IssuerCache {
    authority: Option<Address>,
    known: Mutex<HashSet<[u8; 32]>>,
    hits: AtomicU64,
}

impl IssuerCache {
    /// An empty cache for certificates of `authority` (none: nothing is
    /// remembered, every certificate is recovered).
    pub fn new(authority: Option<Address>) -> Self {
        IssuerCache {
            authority,
            known: Mutex::new(HashSet::new()),
            hits: AtomicU64::new(0),
        }
    }

    /// How many issuers were answered without a recovery.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Issuers for IssuerCache {
    fn issuer(&self, certificate: &Certificate) -> ehrchain::Result<Address> {
        let (Some(authority), Ok(key)) = (self.authority, certificate.issuer_key()) else {
            return certificate.issuer();
        };
        if self.known().contains(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(authority);
        }
        let issuer = certificate.issuer()?;
        if issuer == authority {
            let mut known = self.known();
            if known.len() >= CAPACITY {
                known.clear();
            }
            known.insert(key);
        }
        Ok(issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ehrchain::{CertificateBody, SecretKey};

    fn certificate(issuer: &SecretKey, serial: u64) -> Certificate {
        let doctor = SecretKey::generate().unwrap();
        let body = CertificateBody {
            doctor: doctor.address(),
            protocol_key: doctor.public_key(),
            hospital: "H".to_owned(),
            valid_from: 1000,
            valid_until: 2000,
            serial,
        };
        body.sign(issuer).unwrap()
    }

    #[test]
    fn a_genuine_certificate_is_recovered_once_and_answers_the_same_after() {
        let authority = SecretKey::generate().unwrap();
        let cache = IssuerCache::new(Some(authority.address()));
        let cert = certificate(&authority, 1);
        assert_eq!(cache.issuer(&cert).unwrap(), authority.address());
        assert_eq!(cache.hits(), 0);
        assert_eq!(cache.issuer(&cert).unwrap(), authority.address());
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn a_foreign_or_altered_certificate_is_never_remembered_nor_taken_for_the_authoritys() {
        let authority = SecretKey::generate().unwrap();
        let rogue = SecretKey::generate().unwrap();
        let cache = IssuerCache::new(Some(authority.address()));
        let foreign = certificate(&rogue, 1);
        for _ in 0..2 {
            assert_eq!(cache.issuer(&foreign).unwrap(), rogue.address());
        }
        assert_eq!(cache.hits(), 0);
        assert!(cache.known().is_empty());
        // A genuine certificate remembered, then the same body with another
        // serial (so another signing hash) under the genuine signature: the
        // cache does not answer for it, the recovery does (someone else).
        let genuine = certificate(&authority, 2);
        cache.issuer(&genuine).unwrap();
        let mut altered = genuine.clone();
        altered.body.serial = 3;
        assert_ne!(cache.issuer(&altered).ok(), Some(authority.address()));
        assert_eq!(cache.hits(), 0);
    }
}
