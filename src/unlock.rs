//! Unlocking a protocol key with a wallet (docs/PROTOCOL.md §15).
//!
//! A doctor's or patient's protocol key (the secp256k1 key that receives
//! grants and handoffs) is not their wallet's account key, which no wallet
//! exports. It is derived from the account's `personal_sign` signature of a
//! fixed text naming the account ([`message`]), as Umbra derives its
//! viewing keys: the wallet gives the same signature on every device
//! (RFC 6979 deterministic ECDSA), so the key survives reloads and devices
//! without ever being stored. The same signature also gives a storage key,
//! under which a client keeps its local secrets wrapped.
//!
//! ```text
//! sig  = personal_sign(account, message(account))      (r ‖ s ‖ v, low s)
//! prk  = HKDF-Extract(salt = "ehrchain/v1/unlock", ikm = r ‖ s)
//! d    = HKDF-Expand(prk, "protocol key" ‖ u8 counter, 32)   first counter from 0
//!                                                            giving 0 < d < n
//! kst  = HKDF-Expand(prk, "storage key", 32)
//! ```
//! The signature must recover to the account (`WrongSigner` otherwise), so
//! a signature of another text or account never yields a key silently.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::account::{Address, SecretKey};
use crate::error::{Error, Result};
use crate::signature::{recover_personal_message, Signature};

/// HKDF salt of the derivation.
pub const SALT: &[u8] = b"ehrchain/v1/unlock";

/// The text an account signs with `personal_sign` to unlock its protocol
/// key: fixed but for the account's EIP-55 address, so that a wallet shows
/// the person which account and what the signature does.
pub fn message(account: &Address) -> String {
    format!(
        "ehrchain: unlock my protocol key\n\
         \n\
         Account: {}\n\
         Version: 1\n\
         \n\
         This signature costs nothing and sends nothing. It unlocks, in this \
         browser, the key that receives the health records shared with this \
         account. Sign it only in an ehrchain portal you trust.",
        account.to_checksum()
    )
}

/// What a wallet signature unlocks.
pub struct Unlocked {
    /// The account's protocol key.
    pub protocol_key: SecretKey,
    /// 32 bytes for wrapping the client's local secrets (zeroised on drop).
    pub storage_key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Unlocked { .. }")
    }
}

/// Derives the protocol and storage keys of `account` from its signature
/// of [`message`]`(account)`.
///
/// # Errors
/// [`Error::InvalidSignature`] for a malformed or high-s signature;
/// [`Error::WrongSigner`] if it is not `account`'s signature of the text.
pub fn unlock(account: &Address, signature: &Signature) -> Result<Unlocked> {
    let signer = recover_personal_message(message(account).as_bytes(), signature)?;
    if signer != *account {
        return Err(Error::WrongSigner);
    }
    let mut ikm = Zeroizing::new([0u8; 64]);
    ikm[..32].copy_from_slice(&signature.r());
    ikm[32..].copy_from_slice(&signature.s());
    let hkdf = Hkdf::<Sha256>::new(Some(SALT), ikm.as_slice());
    let expand = |info: &[u8]| -> Result<Zeroizing<[u8; 32]>> {
        let mut out = Zeroizing::new([0u8; 32]);
        hkdf.expand(info, out.as_mut_slice())
            .map_err(|_| Error::OutOfRange {
                what: "HKDF output",
            })?;
        Ok(out)
    };
    let mut protocol_key = None;
    for counter in 0..=u8::MAX {
        let candidate = expand(&[b"protocol key".as_slice(), &[counter]].concat())?;
        // A candidate of zero or ≥ n (probability about 2^-128) takes the next counter.
        if let Ok(key) = SecretKey::from_bytes(candidate.as_slice()) {
            protocol_key = Some(key);
            break;
        }
    }
    Ok(Unlocked {
        protocol_key: protocol_key.ok_or(Error::OutOfRange {
            what: "protocol key derivation",
        })?,
        storage_key: expand(b"storage key")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::sign_personal_message;

    fn account_key() -> SecretKey {
        SecretKey::from_bytes(&[7; 32]).unwrap()
    }

    #[test]
    fn the_same_signature_unlocks_the_same_keys() {
        let key = account_key();
        let account = key.address();
        let sig = sign_personal_message(&key, message(&account).as_bytes()).unwrap();
        let a = unlock(&account, &sig).unwrap();
        let b = unlock(&account, &sig).unwrap();
        assert_eq!(*a.protocol_key.to_bytes(), *b.protocol_key.to_bytes());
        assert_eq!(*a.storage_key, *b.storage_key);
        assert_ne!(*a.protocol_key.to_bytes(), *a.storage_key);
        assert_ne!(a.protocol_key.address(), account);
    }

    #[test]
    fn a_signature_of_another_account_or_text_is_wrong_signer() {
        let key = account_key();
        let account = key.address();
        let other = SecretKey::from_bytes(&[8; 32]).unwrap();
        let by_other = sign_personal_message(&other, message(&account).as_bytes()).unwrap();
        assert_eq!(unlock(&account, &by_other).unwrap_err(), Error::WrongSigner);
        let other_text = sign_personal_message(&key, b"hello").unwrap();
        assert_eq!(
            unlock(&account, &other_text).unwrap_err(),
            Error::WrongSigner
        );
        let for_other_account =
            sign_personal_message(&key, message(&other.address()).as_bytes()).unwrap();
        assert_eq!(
            unlock(&account, &for_other_account).unwrap_err(),
            Error::WrongSigner
        );
    }

    #[test]
    fn the_message_names_the_checksummed_account() {
        let account = account_key().address();
        let text = message(&account);
        assert!(text.starts_with("ehrchain: unlock my protocol key\n\nAccount: 0x"));
        assert!(text.contains(&account.to_checksum()));
        assert!(text.contains("\nVersion: 1\n"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = account_key();
        let account = key.address();
        let sig = sign_personal_message(&key, message(&account).as_bytes()).unwrap();
        assert_eq!(
            format!("{:?}", unlock(&account, &sig).unwrap()),
            "Unlocked { .. }"
        );
    }
}
