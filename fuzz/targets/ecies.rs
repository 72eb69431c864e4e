//! Fuzzes [`ecies::open`] (the eciesjs / eciespy format) with a fixed
//! recipient secret key.
//!
//! Invariants:
//! - `open` never panics, and fails only with the documented errors:
//!   `EciesTooShort` (exactly when below 97 bytes), `InvalidPublicKey`
//!   (a bad ephemeral key) or `EciesDecryptFailed`;
//! - an opened plaintext is 97 bytes shorter than the ciphertext, and
//!   sealing it again to the recipient opens to the same plaintext (the
//!   encoding itself is randomised, so equality of bytes is not expected).

use std::sync::OnceLock;

use ehrchain::{ecies, Error, PublicKey, SecretKey};

/// The recipient's secret key (seeds are sealed to its public key).
pub const RECIPIENT_SECRET: [u8; 32] = [0x55; 32];

fn recipient() -> &'static (SecretKey, PublicKey) {
    static RECIPIENT: OnceLock<(SecretKey, PublicKey)> = OnceLock::new();
    RECIPIENT.get_or_init(|| {
        let secret = SecretKey::from_bytes(&RECIPIENT_SECRET).expect("a valid scalar");
        let public = secret.public_key();
        (secret, public)
    })
}

/// Opens `data` as an ECIES ciphertext and checks the invariants above.
pub fn run(data: &[u8]) {
    let (secret, public) = recipient();
    match ecies::open(secret, data) {
        Ok(plain) => {
            assert_eq!(plain.len() + ecies::OVERHEAD, data.len());
            let again = ecies::seal(public, &plain).expect("sealing cannot fail");
            assert_eq!(
                ecies::open(secret, &again).map(|p| p.to_vec()),
                Ok(plain.to_vec())
            );
        }
        Err(Error::EciesTooShort) => assert!(data.len() < ecies::OVERHEAD),
        Err(Error::InvalidPublicKey { .. } | Error::EciesDecryptFailed) => {
            assert!(data.len() >= ecies::OVERHEAD);
        }
        Err(other) => panic!("undocumented ECIES error {other:?}"),
    }
}
