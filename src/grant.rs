//! Authorisation of a doctor by the patient (the paper's Alg 5 steps 1–8).
//!
//! The patient, holding `k_t` for a record with context `(H1, T1)`, grants
//! access to the doctor whose protocol key is `A`:
//!
//! ```text
//! r      random scalar            R  = r·G          (33 bytes, compressed)
//! ST     = h1(r·A)·G              (33 bytes, compressed; the stealth tag)
//! A_pass = 0x01 ‖ u8 len(H1) ‖ H1 ‖ T1 (u64 BE) ‖ k_t (32)
//! C1     = ECIES(A, A_pass)       (eciesjs format, 97 + len(A_pass) bytes)
//! Trans  = (R, ST, C1)            posted to the registry's `authorise`
//! ```
//!
//! The doctor tests each posted `Trans` with `h1(a·R)·G == ST` (one variable-
//! and one fixed-base scalar multiplication), and opens `C1` only on a match.
//! Nothing in `Trans` names the doctor, and two grants to the same doctor share
//! no field. The *sender* of the transaction is visible on chain, though: a
//! patient who posts every grant from one account links them (the paper's
//! flaw 6); post from a fresh one-time account or through a relayer instead.

use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{NonZeroScalar, ProjectivePoint};
use zeroize::Zeroizing;

use crate::account::{PublicKey, SecretKey};
use crate::ecies;
use crate::error::{Error, Result};
use crate::hash::h1;
use crate::mask::{MaskKey, RecordContext};

/// Smallest `C1` the registry accepts: ECIES of a one-byte message.
pub const MIN_C1_LEN: usize = ecies::OVERHEAD + 1;
/// Largest `C1` the registry accepts (bounds what every scanning doctor downloads).
pub const MAX_C1_LEN: usize = 1024;

/// Version byte of the access pass encoding.
pub const PASS_VERSION: u8 = 0x01;

/// `A_pass = (H1, T1, k_t)`: everything a doctor needs to find and unmask a record.
#[derive(Debug, Clone)]
pub struct AccessPass {
    /// The record's context `(H1, T1)`.
    pub context: RecordContext,
    /// The patient's per-record secret `k_t`.
    pub mask_key: MaskKey,
}

impl AccessPass {
    /// `0x01 ‖ u8 len(H1) ‖ H1 ‖ T1 (u64 BE) ‖ k_t (32)`.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![PASS_VERSION]);
        out.extend_from_slice(&self.context.encode());
        out.extend_from_slice(self.mask_key.to_bytes().as_slice());
        out
    }

    /// Parses [`AccessPass::encode`].
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] for a wrong version, length or UTF-8.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let what = "access pass";
        let bad = |reason| Error::MalformedEncoding { what, reason };
        match bytes.split_first() {
            Some((&PASS_VERSION, rest)) => {
                let (context, rest) = RecordContext::decode_prefix(what, rest)?;
                if rest.len() != 32 {
                    return Err(bad("k_t must be exactly 32 bytes"));
                }
                Ok(AccessPass {
                    context,
                    mask_key: MaskKey::from_bytes(rest)?,
                })
            }
            Some(_) => Err(bad("unknown version")),
            None => Err(bad("empty")),
        }
    }
}

/// `Trans = (R, ST, C1)`, as posted to and read from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    /// `R = r·G`, compressed.
    pub r: [u8; 33],
    /// The stealth tag `ST = h1(r·A)·G`, compressed.
    pub st: [u8; 33],
    /// `C1 = ECIES(A, A_pass)`.
    pub c1: Vec<u8>,
}

fn compressed(point: &ProjectivePoint) -> [u8; 33] {
    let mut out = [0u8; 33];
    out.copy_from_slice(point.to_affine().to_encoded_point(true).as_bytes());
    out
}

impl Authorisation {
    /// The patient's side: grants `pass` to the doctor with protocol key `doctor`.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn create(doctor: &PublicKey, pass: &AccessPass) -> Result<Self> {
        let r = SecretKey::generate()?;
        let shared = doctor.as_projective() * *r.scalar();
        let tag = ProjectivePoint::mul_by_generator(&h1(&shared)?);
        Ok(Authorisation {
            r: r.public_key().to_compressed(),
            st: compressed(&tag),
            c1: ecies::seal(doctor, &pass.encode())?,
        })
    }

    /// Parses the three fields as read from an `Authorised` event.
    ///
    /// # Errors
    /// As the registry refuses them: [`Error::InvalidLength`] unless `r` and
    /// `st` are 33 bytes; [`Error::InvalidPublicKey`] unless they start with
    /// `02`/`03`; [`Error::EciesTooShort`] / [`Error::InvalidLength`] unless
    /// `c1` is [`MIN_C1_LEN`]..=[`MAX_C1_LEN`] bytes.
    pub fn from_parts(r: &[u8], st: &[u8], c1: &[u8]) -> Result<Self> {
        if c1.len() < MIN_C1_LEN {
            return Err(Error::EciesTooShort);
        }
        if c1.len() > MAX_C1_LEN {
            return Err(Error::InvalidLength {
                what: "C1",
                expected: "at most 1024",
                actual: c1.len(),
            });
        }
        let r: [u8; 33] = crate::hex::fixed("R", "33", r)?;
        let st: [u8; 33] = crate::hex::fixed("ST", "33", st)?;
        for (what, p) in [("R", &r), ("ST", &st)] {
            if !matches!(p[0], 2 | 3) {
                return Err(Error::InvalidPublicKey { what });
            }
        }
        Ok(Authorisation {
            r,
            st,
            c1: c1.to_vec(),
        })
    }
}

/// The doctor's side: a protocol secret `a` ready to test and open authorisations.
#[derive(Debug)]
pub struct Scanner {
    secret: SecretKey,
}

impl Scanner {
    /// A scanner for the doctor's protocol secret `a`.
    pub fn new(secret: SecretKey) -> Self {
        Scanner { secret }
    }

    /// The protocol public key `A` this scanner finds grants for.
    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    /// Whether `auth` is addressed to this key: `h1(a·R)·G == ST`. A malformed
    /// `R` (not a point) simply does not match.
    pub fn matches(&self, auth: &Authorisation) -> bool {
        self.matches_parts(&auth.r, &auth.st)
    }

    /// [`Scanner::matches`] on raw `R` and `ST` bytes, without copying `C1`.
    pub fn matches_parts(&self, r: &[u8], st: &[u8]) -> bool {
        let Ok(r) = PublicKey::from_sec1("R", r) else {
            return false;
        };
        let a: NonZeroScalar = self.secret.scalar();
        let Ok(k) = h1(&(r.as_projective() * *a)) else {
            return false;
        };
        compressed(&ProjectivePoint::mul_by_generator(&k)).as_slice() == st
    }

    /// Opens an authorisation addressed to this key.
    ///
    /// # Errors
    /// [`Error::NotForThisKey`] if the tag does not match; ECIES errors if `C1`
    /// does not decrypt; [`Error::MalformedEncoding`] for a bad pass.
    pub fn open(&self, auth: &Authorisation) -> Result<AccessPass> {
        if !self.matches(auth) {
            return Err(Error::NotForThisKey);
        }
        let plain = ecies::open(&self.secret, &auth.c1)?;
        AccessPass::decode(&plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    trait CloneForTest {
        fn clone_for_test(&self) -> SecretKey;
    }
    impl CloneForTest for SecretKey {
        fn clone_for_test(&self) -> SecretKey {
            SecretKey::from_bytes(self.to_bytes().as_slice()).unwrap()
        }
    }

    fn pass() -> AccessPass {
        AccessPass {
            context: RecordContext::new("General Hospital", 1_700_000_000).unwrap(),
            mask_key: MaskKey::generate().unwrap(),
        }
    }

    #[test]
    fn doctor_finds_and_opens_only_his_grants() {
        let b = SecretKey::generate().unwrap();
        let c = SecretKey::generate().unwrap();
        let p = pass();
        let auth = Authorisation::create(&b.public_key(), &p).unwrap();
        let (sb, sc) = (
            Scanner::new(b.clone_for_test()),
            Scanner::new(c.clone_for_test()),
        );
        assert!(sb.matches(&auth));
        assert!(!sc.matches(&auth));
        let opened = sb.open(&auth).unwrap();
        assert_eq!(opened.context, p.context);
        assert_eq!(*opened.mask_key.to_bytes(), *p.mask_key.to_bytes());
        assert_eq!(sc.open(&auth).err(), Some(Error::NotForThisKey));
        // Two grants to the same doctor share no field.
        let again = Authorisation::create(&b.public_key(), &p).unwrap();
        assert_ne!(again.r, auth.r);
        assert_ne!(again.st, auth.st);
        assert_ne!(again.c1[..65], auth.c1[..65]);
        // The registry's shape rules hold for parsed authorisations too.
        assert_eq!(
            Authorisation::from_parts(&auth.r, &auth.st, &auth.c1).as_ref(),
            Ok(&auth)
        );
        let mut bad_r = auth.r;
        bad_r[0] = 4;
        assert_eq!(
            Authorisation::from_parts(&bad_r, &auth.st, &auth.c1),
            Err(Error::InvalidPublicKey { what: "R" })
        );
        assert_eq!(
            Authorisation::from_parts(&auth.r, &auth.st, &auth.c1[..97]),
            Err(Error::EciesTooShort)
        );
        assert_eq!(
            Authorisation::from_parts(&auth.r, &auth.st, &[0u8; 1025]),
            Err(Error::InvalidLength {
                what: "C1",
                expected: "at most 1024",
                actual: 1025
            })
        );
        // Garbage R never matches.
        let mut bad = auth.clone();
        bad.r[0] = 9;
        assert!(!sb.matches(&bad));
    }

    fn bad_pass(reason: &'static str) -> Option<Error> {
        Some(Error::MalformedEncoding {
            what: "access pass",
            reason,
        })
    }

    #[test]
    fn a_pass_round_trips_at_its_exact_length() {
        let p = pass();
        let enc = p.encode();
        assert_eq!(enc.len(), 1 + 1 + 16 + 8 + 32);
        let back = AccessPass::decode(&enc).unwrap();
        assert_eq!(back.context, p.context);
        assert_eq!(*back.mask_key.to_bytes(), *p.mask_key.to_bytes());
    }

    #[test]
    fn a_short_pass_is_refused() {
        let enc = pass().encode();
        assert_eq!(
            AccessPass::decode(&enc[..enc.len() - 1]).err(),
            bad_pass("k_t must be exactly 32 bytes")
        );
    }

    #[test]
    fn a_pass_of_another_version_is_refused() {
        let mut v2 = pass().encode().to_vec();
        v2[0] = 2;
        assert_eq!(AccessPass::decode(&v2).err(), bad_pass("unknown version"));
    }

    #[test]
    fn an_empty_pass_is_refused() {
        assert_eq!(AccessPass::decode(&[]).err(), bad_pass("empty"));
    }
}
