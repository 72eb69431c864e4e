//! Record masks (the paper's Alg 4 steps 4–5, with flaws 1 and 2 closed).
//!
//! From the patient's per-record secret `k_t` and the record's context
//! `(H1, T1)` (hospital name and record time):
//!
//! ```text
//! X     = HMAC-SHA-256(k_t, ctx ‖ "ehrchain/v1/X")     index the server files under
//! Y_tx  = HMAC-SHA-256(k_t, ctx ‖ "ehrchain/v1/tx")    masks tx_id
//! Y_key = HMAC-SHA-256(k_t, ctx ‖ "ehrchain/v1/key")   masks K_P
//! ctx   = u8 len(H1) ‖ H1 (UTF-8, 1..=255 bytes) ‖ T1 (u64 big-endian)
//! Z     = tx_id ⊕ Y_tx
//! K     = K_P ⊕ Y_key[..len(K_P)]   (K_P is 16 or 32 bytes)
//! ```
//!
//! The server receives `{X, Z, K}` only. `Y_tx` and `Y_key` are independent
//! PRF outputs, so `Z ⊕ K` reveals nothing about `K_P` even to someone who
//! knows `tx_id` (flaw 2).

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};
use crate::hash::hmac_sha256;
use crate::record::RecordKey;

/// Domain label of the index value `X`.
pub const LABEL_X: &[u8] = b"ehrchain/v1/X";
/// Domain label of the transaction mask `Y_tx`.
pub const LABEL_TX: &[u8] = b"ehrchain/v1/tx";
/// Domain label of the key mask `Y_key`.
pub const LABEL_KEY: &[u8] = b"ehrchain/v1/key";

/// The record's public context `(H1, T1)`: the hospital's name and the record time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordContext {
    hospital: String,
    time: u64,
}

impl RecordContext {
    /// A context for a hospital name (1 to 255 bytes of UTF-8) and a time
    /// in Unix seconds.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for an empty or over-long hospital name;
    /// [`Error::TimeInMilliseconds`] for a time in milliseconds
    /// ([`crate::time::unix_seconds`]).
    pub fn new(hospital: &str, time: u64) -> Result<Self> {
        if hospital.is_empty() || hospital.len() > 255 {
            return Err(Error::OutOfRange {
                what: "hospital name length (1..=255 bytes)",
            });
        }
        let time = crate::time::unix_seconds("record time", time)?;
        Ok(RecordContext {
            hospital: hospital.to_owned(),
            time,
        })
    }

    /// `H1`, the hospital's name.
    pub fn hospital(&self) -> &str {
        &self.hospital
    }

    /// `T1`, the record time (Unix seconds).
    pub fn time(&self) -> u64 {
        self.time
    }

    /// `u8 len(H1) ‖ H1 ‖ T1 (u64 BE)`, the encoding used by masks, passes and handoffs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.hospital.len() + 8);
        // `new` guarantees 1..=255 bytes.
        out.push(u8::try_from(self.hospital.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.hospital.as_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        out
    }

    /// Parses [`RecordContext::encode`] from the front of `input`, returning the rest.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] naming `what`; [`Error::TimeInMilliseconds`]
    /// for a time of 10¹¹ or more, as [`RecordContext::new`].
    pub fn decode_prefix<'a>(what: &'static str, input: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let bad = |reason| Error::MalformedEncoding { what, reason };
        let (&len, rest) = input.split_first().ok_or(bad("empty"))?;
        let len = usize::from(len);
        if len == 0 || rest.len() < len + 8 {
            return Err(bad("hospital name or time missing"));
        }
        let (name, rest) = rest.split_at(len);
        let hospital = core::str::from_utf8(name).map_err(|_| bad("hospital name is not UTF-8"))?;
        let (time, rest) = rest.split_at(8);
        let mut t = [0u8; 8];
        t.copy_from_slice(time);
        Ok((RecordContext::new(hospital, u64::from_be_bytes(t))?, rest))
    }

    /// Associated data that binds a record's ciphertext to its context:
    /// `"ehrchain/v1/record" ‖ encode()`.
    pub fn record_aad(&self) -> Vec<u8> {
        [b"ehrchain/v1/record".as_slice(), &self.encode()].concat()
    }
}

/// The patient's per-record secret `k_t` (32 bytes), the only key to `Y_tx`, `Y_key`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MaskKey([u8; 32]);

impl core::fmt::Debug for MaskKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MaskKey(..)")
    }
}

impl MaskKey {
    /// A fresh random `k_t`.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn generate() -> Result<Self> {
        Ok(MaskKey(*crate::random::bytes::<32>()?))
    }

    /// Imports 32 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(MaskKey(crate::hex::fixed("mask key k_t", "32", bytes)?))
    }

    /// The 32 secret bytes.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0)
    }

    fn prf(&self, ctx: &RecordContext, label: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, &[&ctx.encode(), label])
    }

    /// `X`, the index value the server files the record under.
    pub fn index(&self, ctx: &RecordContext) -> [u8; 32] {
        self.prf(ctx, LABEL_X)
    }

    /// `Y_tx`, the mask of the anchoring transaction hash.
    pub fn tx_mask(&self, ctx: &RecordContext) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.prf(ctx, LABEL_TX))
    }

    /// `Y_key`, the mask of the record key.
    pub fn key_mask(&self, ctx: &RecordContext) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.prf(ctx, LABEL_KEY))
    }

    /// Computes the server's `{X, Z, K}` from `tx_id` and `K_P`.
    pub fn mask(
        &self,
        ctx: &RecordContext,
        tx_id: &[u8; 32],
        record_key: &RecordKey,
    ) -> MaskedRecord {
        let y_tx = self.tx_mask(ctx);
        let y_key = self.key_mask(ctx);
        MaskedRecord {
            x: self.index(ctx),
            z: xor32(tx_id, &y_tx),
            k: record_key
                .as_bytes()
                .iter()
                .zip(y_key.iter())
                .map(|(a, b)| a ^ b)
                .collect(),
        }
    }

    /// Recovers `tx_id` and `K_P` from the server's `Z` and `K` (the inverse of [`MaskKey::mask`]).
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless `masked.k` is 16 or 32 bytes.
    pub fn unmask(&self, ctx: &RecordContext, z: &[u8; 32], k: &[u8]) -> Result<Unmasked> {
        let y_tx = self.tx_mask(ctx);
        let y_key = self.key_mask(ctx);
        // `K` is as long as `K_P`; the record key's type refuses any other
        // length (a `K` longer than `Y_key` keeps its tail unmasked and is refused).
        let mut plain = Zeroizing::new(k.to_vec());
        for (p, y) in plain.iter_mut().zip(y_key.iter()) {
            *p ^= y;
        }
        Ok(Unmasked {
            tx_id: xor32(z, &y_tx),
            record_key: RecordKey::from_bytes(&plain)?,
        })
    }
}

fn xor32(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b.iter())) {
        *o = x ^ y;
    }
    out
}

/// What the record server stores for a record: `{X, Z, K}` (never `k_t`, `Y`, `K_P` or `tx_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedRecord {
    /// `X`, the index.
    pub x: [u8; 32],
    /// `Z = tx_id ⊕ Y_tx`.
    pub z: [u8; 32],
    /// `K = K_P ⊕ Y_key` (16 or 32 bytes).
    pub k: Vec<u8>,
}

/// `tx_id` and `K_P`, unmasked on the doctor's or patient's side. `Debug`
/// shows `tx_id` (public on chain) but never `K_P`.
#[derive(Debug)]
pub struct Unmasked {
    /// Hash of the anchoring transaction.
    pub tx_id: [u8; 32],
    /// The record key `K_P`.
    pub record_key: RecordKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (MaskKey, RecordContext, [u8; 32], RecordKey) {
        (
            MaskKey::from_bytes(&[7u8; 32]).unwrap(),
            RecordContext::new("St Mary", 1_700_000_000).unwrap(),
            [0xabu8; 32],
            RecordKey::from_bytes(&[0x11u8; 16]).unwrap(),
        )
    }

    #[test]
    fn unmask_inverts_mask() {
        let (kt, ctx, tx, kp) = fixture();
        let m = kt.mask(&ctx, &tx, &kp);
        let u = kt.unmask(&ctx, &m.z, &m.k).unwrap();
        assert_eq!(u.tx_id, tx);
        assert_eq!(u.record_key, kp);
    }

    /// Paper flaw 2: with one mask, `Z ⊕ K = tx_id ⊕ K_P` and the server
    /// learns `K_P` from the public `tx_id`.
    #[test]
    fn the_two_masks_are_independent() {
        let (kt, ctx, tx, kp) = fixture();
        let m = kt.mask(&ctx, &tx, &kp);
        assert_ne!(*kt.tx_mask(&ctx), *kt.key_mask(&ctx));
        assert_ne!(m.x, *kt.tx_mask(&ctx));
        let zk: Vec<u8> = m.z.iter().zip(m.k.iter()).map(|(a, b)| a ^ b).collect();
        let tk: Vec<u8> = tx.iter().zip(kp.as_bytes()).map(|(a, b)| a ^ b).collect();
        assert_ne!(zk, tk);
    }

    #[test]
    fn the_index_depends_on_the_record_time() {
        let (kt, ctx, tx, kp) = fixture();
        let other = RecordContext::new("St Mary", 1_700_000_001).unwrap();
        assert_ne!(kt.index(&other), kt.mask(&ctx, &tx, &kp).x);
    }

    #[test]
    fn a_masked_key_of_another_length_is_refused() {
        let (kt, ctx, _, _) = fixture();
        assert_eq!(
            kt.unmask(&ctx, &[0; 32], &[0u8; 17]).map(|_| ()),
            Err(Error::InvalidLength {
                what: "record key K_P",
                expected: "16 or 32",
                actual: 17
            })
        );
    }

    #[test]
    fn a_hospital_name_is_1_to_255_bytes() {
        let refused = Err(Error::OutOfRange {
            what: "hospital name length (1..=255 bytes)",
        });
        assert_eq!(RecordContext::new("", 1), refused);
        assert_eq!(RecordContext::new(&"a".repeat(256), 1), refused);
        assert_eq!(
            RecordContext::new(&"a".repeat(255), 1).map(|c| c.hospital().len()),
            Ok(255)
        );
    }

    #[test]
    fn a_record_time_in_milliseconds_is_refused() {
        let refused = Err(Error::TimeInMilliseconds {
            what: "record time",
        });
        assert_eq!(RecordContext::new("H", 1_700_000_000_000), refused);
        let mut enc = RecordContext::new("H", 1).unwrap().encode();
        enc[2..].copy_from_slice(&1_700_000_000_000u64.to_be_bytes());
        assert_eq!(
            RecordContext::decode_prefix("ctx", &enc).map(|(c, _)| c),
            refused
        );
        assert!(RecordContext::new("H", 99_999_999_999).is_ok());
    }

    #[test]
    fn context_encoding_round_trips() {
        let ctx = RecordContext::new("Hôpital", 42).unwrap();
        let mut enc = ctx.encode();
        enc.push(9);
        let (back, rest) = RecordContext::decode_prefix("ctx", &enc).unwrap();
        assert_eq!(back, ctx);
        assert_eq!(rest, [9]);
    }

    #[test]
    fn a_cut_context_is_malformed() {
        let enc = RecordContext::new("Hôpital", 42).unwrap().encode();
        assert_eq!(
            RecordContext::decode_prefix("ctx", &enc[..5]),
            Err(Error::MalformedEncoding {
                what: "ctx",
                reason: "hospital name or time missing"
            })
        );
        assert_eq!(
            RecordContext::decode_prefix("ctx", &[]),
            Err(Error::MalformedEncoding {
                what: "ctx",
                reason: "empty"
            })
        );
    }
}
