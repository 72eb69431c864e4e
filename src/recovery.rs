//! Public-key recovery from a recoverable ECDSA signature over a digest:
//! the step every certificate and request check takes (PROTOCOL.md §3).
//!
//! Two backends give the same answer for every input:
//!
//! - [`with_k256`], everywhere (the browser's wasm included):
//!   `k256::ecdsa::VerifyingKey::recover_from_prehash`, which recovers the
//!   key and then verifies the signature under it once more;
//! - `with_libsecp256k1`, natively with the feature `libsecp256k1` (the
//!   record server enables it): libsecp256k1, Bitcoin Core's secp256k1
//!   library, through the `secp256k1` crate. Measured on the 2-core
//!   development machine (`cargo bench --bench recovery --features
//!   libsecp256k1`): 5–6× the k256 rate, which is what bounds the
//!   server's verified decisions per second.
//!
//! [`recover`] picks the native backend when it is compiled in. Signatures
//! reaching here are already low-`s` with a recovery parity of 0 or 1
//! ([`crate::signature::Signature::from_parts`]); both backends refuse a
//! signature from which no key recovers with the same error.

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use crate::error::{Error, Result};

/// The refusal of both backends.
fn no_key() -> Error {
    Error::InvalidSignature {
        reason: "no public key recovers from this signature",
    }
}

/// Recovers with k256 (pure Rust, every target).
///
/// # Errors
/// [`Error::InvalidSignature`] if no key recovers.
pub fn with_k256(
    digest: &[u8; 32],
    signature: &Signature,
    id: RecoveryId,
) -> Result<k256::PublicKey> {
    VerifyingKey::recover_from_prehash(digest, signature, id)
        .map(Into::into)
        .map_err(|_| no_key())
}

/// Recovers with libsecp256k1 (native builds with the feature
/// `libsecp256k1`).
///
/// # Errors
/// [`Error::InvalidSignature`] if no key recovers.
#[cfg(all(feature = "libsecp256k1", not(target_arch = "wasm32")))]
pub fn with_libsecp256k1(
    digest: &[u8; 32],
    signature: &Signature,
    id: RecoveryId,
) -> Result<k256::PublicKey> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId as Id};
    use secp256k1::{Message, Secp256k1, VerifyOnly};
    use std::sync::OnceLock;

    static CONTEXT: OnceLock<Secp256k1<VerifyOnly>> = OnceLock::new();
    let context = CONTEXT.get_or_init(Secp256k1::verification_only);
    let id = Id::try_from(i32::from(id.to_byte())).map_err(|_| no_key())?;
    let signature =
        RecoverableSignature::from_compact(&signature.to_bytes(), id).map_err(|_| no_key())?;
    let key = context
        .recover_ecdsa(&Message::from_digest(*digest), &signature)
        .map_err(|_| no_key())?;
    k256::PublicKey::from_sec1_bytes(&key.serialize_uncompressed()).map_err(|_| no_key())
}

/// Recovers with the fastest backend compiled in.
///
/// # Errors
/// [`Error::InvalidSignature`] if no key recovers.
pub fn recover(
    digest: &[u8; 32],
    signature: &Signature,
    id: RecoveryId,
) -> Result<k256::PublicKey> {
    #[cfg(all(feature = "libsecp256k1", not(target_arch = "wasm32")))]
    return with_libsecp256k1(digest, signature, id);
    #[cfg(not(all(feature = "libsecp256k1", not(target_arch = "wasm32"))))]
    return with_k256(digest, signature, id);
}

#[cfg(all(test, feature = "libsecp256k1", not(target_arch = "wasm32")))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use k256::ecdsa::SigningKey;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Any key, any digest: both backends recover the same key, for the
        /// signature and for its other parity.
        #[test]
        fn both_backends_recover_the_same_key(key in any::<[u8; 32]>(), digest in any::<[u8; 32]>()) {
            let Ok(signer) = SigningKey::from_bytes(&key.into()) else {
                return Ok(()); // zero or not below the order: not a key
            };
            let (signature, id) = signer.sign_prehash_recoverable(&digest).unwrap();
            let k = with_k256(&digest, &signature, id).unwrap();
            prop_assert_eq!(k, k256::PublicKey::from(signer.verifying_key()));
            prop_assert_eq!(with_libsecp256k1(&digest, &signature, id).unwrap(), k);
            let flipped = RecoveryId::new(!id.is_y_odd(), false);
            prop_assert_eq!(
                with_k256(&digest, &signature, flipped).ok(),
                with_libsecp256k1(&digest, &signature, flipped).ok()
            );
        }
    }

    /// An `r` that is no point's x coordinate: neither backend recovers a key.
    #[test]
    fn an_r_off_the_curve_is_refused_by_both() {
        let digest = [7u8; 32];
        let one = {
            let mut s = [0u8; 32];
            s[31] = 1;
            s
        };
        let mut refused = 0;
        for x in 1u8..=40 {
            let mut r = [0u8; 32];
            r[31] = x;
            let signature = Signature::from_scalars(r, one).unwrap();
            for parity in [false, true] {
                let id = RecoveryId::new(parity, false);
                let k = with_k256(&digest, &signature, id);
                let native = with_libsecp256k1(&digest, &signature, id);
                assert_eq!(k.is_ok(), native.is_ok(), "r = {x}");
                if let (Ok(a), Ok(b)) = (&k, &native) {
                    assert_eq!(a, b, "r = {x}");
                }
                if let Err(e) = native {
                    assert!(matches!(e, Error::InvalidSignature { .. }), "{e:?}");
                    refused += 1;
                }
            }
        }
        assert!(refused > 0, "some small x is not on the curve");
    }
}
