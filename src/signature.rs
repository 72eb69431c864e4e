//! Ethereum ECDSA signatures: recoverable, low-`s`, 65 bytes `r ‖ s ‖ v`
//! (`v` = 27/28), over EIP-191 personal messages or EIP-712 digests
//! (PROTOCOL.md §3).

use core::fmt;

use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, VerifyingKey};

use crate::account::{Address, PublicKey, SecretKey};
use crate::error::{Error, Result};
use crate::hash::keccak256;

/// Prefix of EIP-191 version `0x45` ("personal_sign") messages.
pub const PERSONAL_MESSAGE_PREFIX: &[u8] = b"\x19Ethereum Signed Message:\n";

/// A recoverable secp256k1 signature with low `s` (EIP-2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    inner: EcdsaSignature,
    recovery: RecoveryId,
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signature({})",
            crate::hex::encode_prefixed(&self.to_bytes())
        )
    }
}

impl Signature {
    /// Builds a signature from `r`, `s` and the recovery parity (0 or 1).
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] if `r` or `s` is zero or not below the group
    /// order, if `s` is in the high half (Ethereum refuses malleable
    /// signatures), or if the parity is not 0/1.
    pub fn from_parts(r: &[u8; 32], s: &[u8; 32], parity: u8) -> Result<Self> {
        let inner = EcdsaSignature::from_scalars(*r, *s).map_err(|_| Error::InvalidSignature {
            reason: "r or s out of range",
        })?;
        if inner.normalize_s().is_some() {
            return Err(Error::InvalidSignature {
                reason: "high s (malleable) signature",
            });
        }
        let recovery = RecoveryId::from_byte(parity)
            .filter(|id| !id.is_x_reduced())
            .ok_or(Error::InvalidSignature {
                reason: "recovery id must be 0 or 1",
            })?;
        Ok(Signature { inner, recovery })
    }

    /// Parses 65 bytes `r ‖ s ‖ v` with `v` ∈ {0, 1, 27, 28}.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless 65 bytes; otherwise as [`Signature::from_parts`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 65] = crate::hex::fixed("signature", "65", bytes)?;
        let (r, rest) = bytes.split_at(32);
        let (s, v) = rest.split_at(32);
        let parity = match v.first().copied().unwrap_or(0xff) {
            v @ (0 | 1) => v,
            v @ (27 | 28) => v - 27,
            _ => {
                return Err(Error::InvalidSignature {
                    reason: "v must be 0, 1, 27 or 28",
                })
            }
        };
        Self::from_parts(
            &crate::hex::fixed("r", "32", r)?,
            &crate::hex::fixed("s", "32", s)?,
            parity,
        )
    }

    /// Parses a hex signature (optional `0x`).
    ///
    /// # Errors
    /// As [`Signature::from_bytes`], or [`Error::InvalidHex`].
    pub fn from_hex(text: &str) -> Result<Self> {
        Self::from_bytes(&crate::hex::decode("signature", text)?)
    }

    /// 65 bytes `r ‖ s ‖ v` with `v` = 27 + parity, as `personal_sign` and
    /// `eth_signTypedData_v4` return.
    pub fn to_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&self.inner.to_bytes());
        out[64] = 27 + self.recovery.to_byte();
        out
    }

    /// Recovery parity, 0 or 1 (`y_parity` of typed transactions).
    pub fn parity(&self) -> u8 {
        self.recovery.to_byte()
    }

    /// `r`, 32 bytes big-endian.
    pub fn r(&self) -> [u8; 32] {
        self.inner.r().to_bytes().into()
    }

    /// `s`, 32 bytes big-endian (always in the low half).
    pub fn s(&self) -> [u8; 32] {
        self.inner.s().to_bytes().into()
    }

    /// Signs a 32-byte digest (RFC 6979 deterministic nonce, low `s`).
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] in the negligible case that signing fails.
    pub fn sign_prehash(key: &SecretKey, digest: &[u8; 32]) -> Result<Self> {
        let (sig, recovery) = key
            .signing_key()
            .sign_prehash_recoverable(digest)
            .map_err(|_| Error::InvalidSignature {
                reason: "signing failed",
            })?;
        // k256 already returns low-s; normalise defensively, flipping the parity.
        match sig.normalize_s() {
            Some(low) => Ok(Signature {
                inner: low,
                recovery: RecoveryId::new(!recovery.is_y_odd(), recovery.is_x_reduced()),
            }),
            None => Ok(Signature {
                inner: sig,
                recovery,
            }),
        }
    }

    /// The public key that made this signature over `digest`.
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] if no key recovers.
    pub fn recover_public_key(&self, digest: &[u8; 32]) -> Result<PublicKey> {
        crate::recovery::recover(digest, &self.inner, self.recovery).map(PublicKey::from_inner)
    }

    /// The address that made this signature over `digest`.
    ///
    /// # Errors
    /// As [`Signature::recover_public_key`].
    pub fn recover_address(&self, digest: &[u8; 32]) -> Result<Address> {
        Ok(self.recover_public_key(digest)?.address())
    }

    /// Checks that this signature over `digest` was made by `public_key`
    /// (plain ECDSA verification; the recovery parity is not used).
    ///
    /// # Errors
    /// [`Error::WrongSigner`] if the signature does not verify under `public_key`.
    pub fn verify_prehash(&self, public_key: &PublicKey, digest: &[u8; 32]) -> Result<()> {
        verify_inner(public_key, digest, &self.inner)
    }
}

/// Verifies a DER-encoded ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`,
/// as X.509, Bitcoin and Project Wycheproof encode them) over a 32-byte
/// `digest` under `public_key`, with Ethereum's rules.
///
/// The encoding MUST be strict DER: BER forms (long-form or indefinite
/// lengths, non-minimal integers, negative integers, trailing bytes) are
/// refused. `r` and `s` MUST be in `1..n`, and `s` MUST be in the low half
/// (EIP-2): the malleable high-`s` twin of a valid signature is refused even
/// though plain ECDSA would accept it.
///
/// # Errors
/// [`Error::InvalidSignature`] for a malformed encoding, `r`/`s` out of range
/// or a high `s`; [`Error::WrongSigner`] if the signature does not verify
/// under `public_key`.
pub fn verify_der(public_key: &PublicKey, digest: &[u8; 32], der: &[u8]) -> Result<()> {
    let signature = EcdsaSignature::from_der(der).map_err(|_| Error::InvalidSignature {
        reason: "not a strict DER ECDSA signature with r and s in range",
    })?;
    if signature.normalize_s().is_some() {
        return Err(Error::InvalidSignature {
            reason: "high s (malleable) signature",
        });
    }
    verify_inner(public_key, digest, &signature)
}

/// ECDSA verification of a parsed, low-`s` signature.
fn verify_inner(
    public_key: &PublicKey,
    digest: &[u8; 32],
    signature: &EcdsaSignature,
) -> Result<()> {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    VerifyingKey::from(public_key.as_inner())
        .verify_prehash(digest, signature)
        .map_err(|_| Error::WrongSigner)
}

/// The EIP-191 `personal_sign` digest of `message`:
/// `keccak256("\x19Ethereum Signed Message:\n" ‖ decimal(len) ‖ message)`.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut data = Vec::with_capacity(PERSONAL_MESSAGE_PREFIX.len() + 20 + message.len());
    data.extend_from_slice(PERSONAL_MESSAGE_PREFIX);
    data.extend_from_slice(message.len().to_string().as_bytes());
    data.extend_from_slice(message);
    keccak256(&data)
}

/// Signs `message` as `personal_sign` does.
///
/// # Errors
/// As [`Signature::sign_prehash`].
pub fn sign_personal_message(key: &SecretKey, message: &[u8]) -> Result<Signature> {
    Signature::sign_prehash(key, &personal_message_hash(message))
}

/// The address that signed `message` with `personal_sign`.
///
/// # Errors
/// As [`Signature::recover_address`].
pub fn recover_personal_message(message: &[u8], signature: &Signature) -> Result<Address> {
    signature.recover_address(&personal_message_hash(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_sign_round_trip_and_low_s() {
        for _ in 0..32 {
            let key = SecretKey::generate().unwrap();
            let sig = sign_personal_message(&key, b"hello").unwrap();
            assert_eq!(
                recover_personal_message(b"hello", &sig).unwrap(),
                key.address()
            );
            assert_ne!(
                recover_personal_message(b"hellp", &sig).ok(),
                Some(key.address())
            );
            // Round trip through bytes also re-checks low s.
            assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        }
    }

    #[test]
    fn high_s_and_bad_v_are_refused() {
        let key = SecretKey::generate().unwrap();
        let sig = sign_personal_message(&key, b"m").unwrap();
        let mut bytes = sig.to_bytes();
        bytes[64] = 29;
        assert!(matches!(
            Signature::from_bytes(&bytes),
            Err(Error::InvalidSignature { .. })
        ));
        // s' = n - s is the malleable twin.
        let n = k256::Scalar::ZERO - k256::Scalar::ONE; // n - 1
        let s =
            <k256::Scalar as k256::elliptic_curve::PrimeField>::from_repr(sig.s().into()).unwrap();
        let high = (n - s + k256::Scalar::ONE).to_bytes();
        let mut twin = sig.to_bytes();
        twin[32..64].copy_from_slice(&high);
        assert_eq!(
            Signature::from_bytes(&twin),
            Err(Error::InvalidSignature {
                reason: "high s (malleable) signature"
            })
        );
        assert!(matches!(
            Signature::from_bytes(&[0u8; 64]),
            Err(Error::InvalidLength { .. })
        ));
    }

    // personal_sign of "hello" with secret 0x…01 (cross-checked with eth-account
    // in tests/interop).
    #[test]
    fn personal_message_hash_known_answer() {
        assert_eq!(
            crate::hex::encode(&personal_message_hash(b"hello")),
            "50b2c43fd39106bafbba0da34fc430e1f91e3c96ea2acee2bc34119f92b37750"
        );
    }
}
