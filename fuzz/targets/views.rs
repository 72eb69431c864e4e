//! Fuzzes the decoders of the registry views' `eth_call` answers,
//! [`CertificateStatus::decode`] and [`RecordStatus::decode`], and the
//! revert data reader [`revert_reason`], on arbitrary bytes.
//!
//! Invariants:
//! - no decoder panics, and every decode failure is `Error::AbiDecode`;
//! - the answers are static tuples, so the encoding is canonical: a decoded
//!   status, ABI-encoded again, is exactly the words it was read from
//!   (anything after them is ignored, as `eth_call` return data allows);
//! - `revert_reason` names an error exactly when the first four bytes are
//!   that error's selector.

use ehrchain::chain::abi::{encode, selector, Token};
use ehrchain::chain::registry::{revert_reason, CertificateStatus, RecordStatus, ERRORS};
use ehrchain::Error;

fn certificate_words(s: &CertificateStatus) -> Vec<u8> {
    encode(&[
        Token::Address(s.doctor),
        Token::Uint(s.valid_from),
        Token::Uint(s.valid_until),
        Token::Uint(u64::from(s.revoked)),
        Token::Uint(s.revoked_at),
    ])
}

fn record_words(s: &RecordStatus) -> Vec<u8> {
    encode(&[
        Token::Uint(u64::from(s.anchored)),
        Token::Address(s.anchored_by),
        Token::Uint(s.serial),
        Token::Uint(s.anchored_at),
        Token::Bytes32(s.commitment),
        Token::Uint(s.record_time),
        Token::Uint(u64::from(s.deleted)),
        Token::Uint(s.deleted_at),
    ])
}

/// Decodes `data` as each view's answer and as revert data.
pub fn run(data: &[u8]) {
    match CertificateStatus::decode(data) {
        Ok(status) => {
            let words = certificate_words(&status);
            assert_eq!(
                words,
                data[..words.len()],
                "certificate status is canonical"
            );
            let _ = status.to_json();
        }
        Err(e) => assert!(matches!(e, Error::AbiDecode { .. }), "{e:?}"),
    }
    match RecordStatus::decode(data) {
        Ok(status) => {
            let words = record_words(&status);
            assert_eq!(words, data[..words.len()], "record status is canonical");
            let _ = status.to_json();
        }
        Err(e) => assert!(matches!(e, Error::AbiDecode { .. }), "{e:?}"),
    }
    let expected = data
        .get(..4)
        .and_then(|sel| ERRORS.iter().copied().find(|e| selector(e) == sel));
    assert_eq!(revert_reason(data), expected);
}
