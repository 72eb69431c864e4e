//! Hand-off of `tx_id` and `K_P` from the doctor's client to the patient's
//! (the step PROTOCOL.md leaves to the project, between Alg 4 steps 3 and 4).
//!
//! After encrypting and anchoring a record, the doctor's client seals to the
//! patient's public key (the patient's account key):
//!
//! ```text
//! handoff = ECIES(P, 0x01 ‖ u8 len(H1) ‖ H1 ‖ T1 (u64 BE) ‖ tx_id (32) ‖ u8 len(K_P) ‖ K_P)
//! ```
//!
//! and delivers it out of band (the portal: by the hospital's server as an
//! opaque blob, or directly). Only the patient can open it; she then masks
//! `tx_id` and `K_P` with her `k_t` and files `{X, Z, K}` with the server.

use zeroize::Zeroizing;

use crate::account::{PublicKey, SecretKey};
use crate::ecies;
use crate::error::{Error, Result};
use crate::mask::RecordContext;
use crate::record::RecordKey;

/// Version byte of the handoff plaintext.
pub const HANDOFF_VERSION: u8 = 0x01;

/// What the doctor's client tells the patient's about a new record.
#[derive(Debug)]
pub struct RecordHandoff {
    /// The record's context `(H1, T1)`.
    pub context: RecordContext,
    /// Hash of the transaction that anchored the record.
    pub tx_id: [u8; 32],
    /// The record key `K_P` (its `Debug` never prints it).
    pub record_key: RecordKey,
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
        let (len, key) = rest.split_at(1);
        let expected = usize::from(len.first().copied().unwrap_or(0));
        if key.len() != expected {
            return Err(bad("record key length byte does not match"));
        }
        let record_key =
            RecordKey::from_bytes(key).map_err(|_| bad("record key must be 16 or 32 bytes"))?;
        let mut tx_id = [0u8; 32];
        tx_id.copy_from_slice(tx);
        Ok(RecordHandoff {
            context,
            tx_id,
            record_key,
        })
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

    fn handoff() -> RecordHandoff {
        RecordHandoff {
            context: RecordContext::new("Clinic", 5).unwrap(),
            tx_id: [3u8; 32],
            record_key: RecordKey::from_bytes(&[4u8; 16]).unwrap(),
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
    }

    #[test]
    fn a_cut_handoff_is_malformed() {
        let enc = handoff().encode();
        assert_eq!(
            RecordHandoff::decode(&enc[..enc.len() - 1]).map(|_| ()),
            Err(Error::MalformedEncoding {
                what: "record handoff",
                reason: "record key length byte does not match"
            })
        );
    }

    #[test]
    fn a_handoff_with_a_key_of_another_length_is_malformed() {
        let mut enc = handoff().encode().to_vec();
        let at = enc.len() - 17;
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
