//! Hand-off of `tx_id`, `K_P` and the filing secret from the doctor's
//! client to the patient's (the step PROTOCOL.md leaves to the project,
//! between Alg 4 steps 3 and 4).
//!
//! Before uploading a record, the doctor's client draws a random 32-byte
//! filing secret `F` and gives the hospital server only its commitment
//! `SHA-256("ehrchain/v1/filing" ‖ F)`; the server files `{X, Z, K}` for
//! that record only from whoever shows `F`. After encrypting and anchoring,
//! the doctor's client seals to the patient's public key:
//!
//! ```text
//! handoff = ECIES(P, 0x03 ‖ u8 len(H1) ‖ H1 ‖ T1 (u64 BE) ‖ tx_id (32) ‖ u8 len(K_P) ‖ K_P ‖ F (32)
//!                      ‖ eh (32) ‖ salt (32) ‖ u8 len(Ty1) ‖ Ty1)
//! ```
//!
//! `salt` and `Ty1` open the anchor's commitment (`crate::anchor`): the
//! patient checks that the anchor of `eh` was made for her by a certified
//! doctor ([`RecordHandoff::check_anchor`]) before filing, and passes the
//! opening on in every grant.
//!
//! and delivers it out of band. Only the patient can open it; she then masks
//! `tx_id` and `K_P` with her `k_t` and files `{X, Z, K}` with the server,
//! showing `F`. Nobody else can file an index entry for the record, so a
//! stranger who read its `eh` on chain cannot point a doctor at it.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::account::{Address, PublicKey, SecretKey};
use crate::anchor::{AnchorOpening, CertifiedAnchor};
use crate::ecies;
use crate::error::{Error, Result};
use crate::mask::RecordContext;
use crate::record::RecordKey;

/// Version byte of the handoff plaintext (3: with the filing secret, `eh`
/// and the anchor opening).
pub const HANDOFF_VERSION: u8 = 0x03;

/// Domain label of a filing secret's commitment.
pub const FILING_LABEL: &[u8] = b"ehrchain/v1/filing";

/// The record's filing secret `F`: whoever shows it may file index entries
/// for the record. Zeroised on drop; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct FilingSecret(Zeroizing<[u8; 32]>);

impl core::fmt::Debug for FilingSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FilingSecret(..)")
    }
}

impl FilingSecret {
    /// A fresh random secret.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn generate() -> Result<Self> {
        Ok(FilingSecret(crate::random::bytes::<32>()?))
    }

    /// Imports 32 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let secret: [u8; 32] = crate::hex::fixed("filing secret", "32", bytes)?;
        Ok(FilingSecret(Zeroizing::new(secret)))
    }

    /// The 32 secret bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `SHA-256("ehrchain/v1/filing" ‖ F)`: what the server keeps.
    pub fn commitment(&self) -> [u8; 32] {
        // Hashed in two updates: no unzeroised copy of F is made.
        Sha256::new()
            .chain_update(FILING_LABEL)
            .chain_update(self.0.as_slice())
            .finalize()
            .into()
    }

    /// Whether this secret opens `commitment` (constant time).
    pub fn opens(&self, commitment: &[u8; 32]) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.commitment()[..], &commitment[..]).into()
    }
}

/// What the doctor's client tells the patient's about a new record.
#[derive(Debug)]
pub struct RecordHandoff {
    /// The record's context `(H1, T1)`.
    pub context: RecordContext,
    /// Hash of the transaction that anchored the record.
    pub tx_id: [u8; 32],
    /// The record key `K_P` (its `Debug` never prints it).
    pub record_key: RecordKey,
    /// The filing secret `F` whose commitment the record was uploaded with.
    pub filing: FilingSecret,
    /// The record's ciphertext hash, as anchored.
    pub eh: [u8; 32],
    /// The opening of the anchor's commitment (salt and record type).
    pub opening: AnchorOpening,
}

impl RecordHandoff {
    /// The plaintext encoding (before ECIES). It cannot fail: the record
    /// key's type holds its 16/32-byte rule.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let len = self.record_key.len();
        let mut out = Zeroizing::new(vec![HANDOFF_VERSION]);
        out.extend_from_slice(&self.context.encode());
        out.extend_from_slice(&self.tx_id);
        out.push(u8::try_from(len).unwrap_or(u8::MAX));
        out.extend_from_slice(self.record_key.as_bytes());
        out.extend_from_slice(self.filing.as_bytes());
        out.extend_from_slice(&self.eh);
        out.extend_from_slice(&self.opening.encode());
        out
    }

    /// Parses [`RecordHandoff::encode`].
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] for any structural problem.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let what = "record handoff";
        let bad = |reason| Error::MalformedEncoding { what, reason };
        let rest = match bytes.split_first() {
            Some((&HANDOFF_VERSION, rest)) => rest,
            Some(_) => return Err(bad("unknown version")),
            None => return Err(bad("empty")),
        };
        let (context, rest) = RecordContext::decode_prefix(what, rest)?;
        if rest.len() < 33 {
            return Err(bad("tx_id or key length missing"));
        }
        let (tx, rest) = rest.split_at(32);
        let (len, rest) = rest.split_at(1);
        let key_len = usize::from(len.first().copied().unwrap_or(0));
        if key_len != 16 && key_len != 32 {
            return Err(bad("record key must be 16 or 32 bytes"));
        }
        if rest.len() < key_len + 64 {
            return Err(bad("record key, filing secret or eh truncated"));
        }
        let (key, rest) = rest.split_at(key_len);
        let (filing, rest) = rest.split_at(32);
        let (eh, rest) = rest.split_at(32);
        let (opening, rest) = AnchorOpening::decode_prefix(what, rest)?;
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let record_key =
            RecordKey::from_bytes(key).map_err(|_| bad("record key must be 16 or 32 bytes"))?;
        let mut tx_id = [0u8; 32];
        tx_id.copy_from_slice(tx);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(eh);
        Ok(RecordHandoff {
            context,
            tx_id,
            record_key,
            filing: FilingSecret::from_bytes(filing)?,
            eh: hash,
            opening,
        })
    }

    /// The patient's check of the record's anchor, confirmed by
    /// [`CertifiedAnchor::confirm`] for this handoff's `eh`: it was made for
    /// `patient`, with this handoff's record type and time.
    ///
    /// # Errors
    /// [`Error::AnchorMismatch`].
    pub fn check_anchor(&self, anchor: &CertifiedAnchor, patient: &Address) -> Result<()> {
        if !anchor.binds(&self.eh, self.context.time(), &self.opening, patient) {
            return Err(Error::AnchorMismatch);
        }
        Ok(())
    }

    /// Seals the handoff to the patient's public key.
    ///
    /// # Errors
    /// As [`ecies::seal`].
    pub fn seal(&self, patient: &PublicKey) -> Result<Vec<u8>> {
        ecies::seal(patient, &self.encode())
    }

    /// Opens a sealed handoff with the patient's secret key.
    ///
    /// # Errors
    /// As [`ecies::open`] and [`RecordHandoff::decode`].
    pub fn open(patient: &SecretKey, sealed: &[u8]) -> Result<Self> {
        Self::decode(&ecies::open(patient, sealed)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::anchor::RecordType;

    fn handoff() -> RecordHandoff {
        RecordHandoff {
            context: RecordContext::new("Clinic", 5).unwrap(),
            tx_id: [3u8; 32],
            record_key: RecordKey::from_bytes(&[4u8; 16]).unwrap(),
            filing: FilingSecret::from_bytes(&[5u8; 32]).unwrap(),
            eh: [6u8; 32],
            opening: AnchorOpening {
                salt: [7u8; 32],
                record_type: RecordType::new("lab").unwrap(),
            },
        }
    }

    #[test]
    fn a_sealed_handoff_opens_for_the_patient_unchanged() {
        let patient = SecretKey::generate().unwrap();
        let h = handoff();
        let back = RecordHandoff::open(&patient, &h.seal(&patient.public_key()).unwrap()).unwrap();
        assert_eq!(back.context, h.context);
        assert_eq!(back.tx_id, h.tx_id);
        assert_eq!(back.record_key, h.record_key);
        assert_eq!(back.filing, h.filing);
        assert_eq!((back.eh, back.opening), (h.eh, h.opening));
    }

    #[test]
    fn the_encoding_is_byte_for_byte_the_documented_one() {
        // 0x03 ‖ u8 len(H1) ‖ H1 ‖ T1 (u64 BE) ‖ tx_id ‖ u8 len(K_P) ‖ K_P ‖ F
        // ‖ eh ‖ salt ‖ u8 len(Ty1) ‖ Ty1 (§10).
        let mut expected = vec![0x03, 6];
        expected.extend_from_slice(b"Clinic");
        expected.extend_from_slice(&5u64.to_be_bytes());
        expected.extend_from_slice(&[3u8; 32]);
        expected.push(16);
        expected.extend_from_slice(&[4u8; 16]);
        expected.extend_from_slice(&[5u8; 32]);
        expected.extend_from_slice(&[6u8; 32]);
        expected.extend_from_slice(&[7u8; 32]);
        expected.extend_from_slice(b"\x03lab");
        assert_eq!(handoff().encode().as_slice(), expected.as_slice());
    }

    #[test]
    fn a_version_2_handoff_is_refused() {
        let mut enc = handoff().encode().to_vec();
        enc[0] = 2;
        assert_eq!(
            RecordHandoff::decode(&enc).map(|_| ()),
            Err(Error::MalformedEncoding {
                what: "record handoff",
                reason: "unknown version"
            })
        );
    }

    #[test]
    fn a_filing_secret_opens_only_its_own_commitment() {
        let f = FilingSecret::from_bytes(&[5u8; 32]).unwrap();
        let other = FilingSecret::generate().unwrap();
        assert!(f.opens(&f.commitment()));
        assert!(!other.opens(&f.commitment()));
        // The commitment is domain-separated, not the bare hash of F.
        assert_ne!(f.commitment(), crate::hash::sha256(&[5u8; 32]));
    }

    #[test]
    fn debug_of_a_filing_secret_never_prints_it() {
        let text = format!("{:?}", handoff());
        assert!(text.contains("FilingSecret(..)"));
        assert!(!text.contains("[5, 5"));
    }

    #[test]
    fn a_cut_handoff_is_malformed() {
        let enc = handoff().encode();
        assert_eq!(
            RecordHandoff::decode(&enc[..enc.len() - 1]).map(|_| ()),
            Err(Error::MalformedEncoding {
                what: "record handoff",
                reason: "record type truncated"
            })
        );
        let mut longer = handoff().encode().to_vec();
        longer.push(0);
        assert_eq!(
            RecordHandoff::decode(&longer).map(|_| ()),
            Err(Error::MalformedEncoding {
                what: "record handoff",
                reason: "trailing bytes"
            })
        );
    }

    #[test]
    fn a_handoff_with_a_key_of_another_length_is_malformed() {
        let mut enc = handoff().encode().to_vec();
        let at = 1 + 7 + 8 + 32;
        enc[at] = 20;
        enc.extend_from_slice(&[0; 4]);
        assert_eq!(
            RecordHandoff::decode(&enc).map(|_| ()),
            Err(Error::MalformedEncoding {
                what: "record handoff",
                reason: "record key must be 16 or 32 bytes"
            })
        );
    }

    #[test]
    fn debug_of_a_handoff_never_prints_the_record_key() {
        let text = format!("{:?}", handoff());
        assert!(text.contains("RecordKey(16 bytes)"));
        assert!(!text.contains("[4, 4"));
    }
}
