//! Property tests: every encode/decode pair of the crate gives back what it
//! was given, for arbitrary inputs in the format's domain, and every
//! decoder refuses (with an error, never a panic) arbitrary bytes.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::chain::abi::{encode, Reader, Token};
use ehrchain::grant::{AccessPass, Authorisation, GrantTerms, Scanner, C1_LEN, PASS_LEN};
use ehrchain::handoff::{FilingSecret, RecordHandoff};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::{decrypt, encrypt, RecordKey};
use ehrchain::time::MAX_UNIX_SECONDS;
use ehrchain::{hex, Address, SecretKey, Signature};
use proptest::prelude::*;

/// A hospital name the record context accepts: 1 to 255 bytes of UTF-8.
fn hospital() -> impl Strategy<Value = String> {
    "[ -~]{1,64}|[\\p{L}]{1,20}"
}

fn secret() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_filter_map("a valid scalar", |b| SecretKey::from_bytes(&b).ok())
}

/// An anchor opening: any salt, a printable-ASCII type of 0 to 32 bytes.
fn opening() -> impl Strategy<Value = AnchorOpening> {
    (any::<[u8; 32]>(), "[ -~]{0,32}").prop_map(|(salt, ty)| AnchorOpening {
        salt,
        record_type: RecordType::new(&ty).unwrap(),
    })
}

fn record_key() -> impl Strategy<Value = RecordKey> {
    prop_oneof![
        any::<[u8; 16]>().prop_map(|b| RecordKey::from_bytes(&b).unwrap()),
        any::<[u8; 32]>().prop_map(|b| RecordKey::from_bytes(&b).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        prop_assert_eq!(hex::decode("x", &hex::encode_prefixed(&bytes)).unwrap(), bytes.clone());
        prop_assert_eq!(hex::decode("x", &hex::encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn addresses_round_trip_through_eip55(bytes in any::<[u8; 20]>()) {
        let a = Address(bytes);
        prop_assert_eq!(Address::parse(&a.to_checksum()).unwrap(), a);
    }

    #[test]
    fn secret_keys_round_trip(key in secret()) {
        let back = SecretKey::from_bytes(key.to_bytes().as_slice()).unwrap();
        prop_assert_eq!(back.address(), key.address());
    }

    #[test]
    fn signatures_round_trip_and_recover(key in secret(), digest in any::<[u8; 32]>()) {
        let sig = Signature::sign_prehash(&key, &digest).unwrap();
        let back = Signature::from_bytes(&sig.to_bytes()).unwrap();
        prop_assert_eq!(back.recover_address(&digest).unwrap(), key.address());
    }

    #[test]
    fn record_contexts_round_trip(h in hospital(), t in 0..MAX_UNIX_SECONDS, tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let ctx = RecordContext::new(&h, t).unwrap();
        let mut bytes = ctx.encode();
        bytes.extend_from_slice(&tail);
        let (back, rest) = RecordContext::decode_prefix("ctx", &bytes).unwrap();
        prop_assert_eq!(back, ctx);
        prop_assert_eq!(rest, tail.as_slice());
    }

    #[test]
    fn access_passes_round_trip_at_one_length(
        h in hospital(), t in 0..MAX_UNIX_SECONDS, k in any::<[u8; 32]>(), eh in any::<[u8; 32]>(),
        opening in opening(), doctor in secret(), patient in secret(),
    ) {
        let pass = GrantTerms {
            doctor: doctor.public_key(),
            context: RecordContext::new(&h, t).unwrap(),
            mask_key: MaskKey::from_bytes(&k).unwrap(),
            eh,
            opening: opening.clone(),
        }
        .sign(&patient)
        .unwrap();
        let enc = pass.encode();
        prop_assert_eq!(enc.len(), PASS_LEN);
        let back = AccessPass::decode(&enc, doctor.public_key()).unwrap();
        prop_assert_eq!(&back.terms.context, &pass.terms.context);
        prop_assert_eq!(*back.terms.mask_key.to_bytes(), k);
        prop_assert_eq!((back.terms.eh, &back.terms.opening), (eh, &opening));
        prop_assert_eq!(back.signer().unwrap(), patient.address());
    }

    #[test]
    fn authorisations_open_for_their_doctor_only(doctor in secret(), patient in secret(), h in hospital(), t in 0..MAX_UNIX_SECONDS, opening in opening()) {
        let pass = GrantTerms {
            doctor: doctor.public_key(),
            context: RecordContext::new(&h, t).unwrap(),
            mask_key: MaskKey::generate().unwrap(),
            eh: [1; 32],
            opening,
        }
        .sign(&patient)
        .unwrap();
        let auth = Authorisation::create(&pass).unwrap();
        prop_assert_eq!(auth.c1.len(), C1_LEN);
        let parsed = Authorisation::from_parts(auth.view_tag, &auth.r, &auth.st, &auth.c1).unwrap();
        let opened = Scanner::new(doctor).open(&parsed).unwrap();
        prop_assert_eq!(&opened.pass.terms.context, &pass.terms.context);
        prop_assert_eq!(opened.patient, patient.address());
    }

    #[test]
    fn handoffs_round_trip(h in hospital(), t in 0..MAX_UNIX_SECONDS, tx in any::<[u8; 32]>(), key in record_key(), f in any::<[u8; 32]>(), eh in any::<[u8; 32]>(), opening in opening()) {
        let handoff = RecordHandoff {
            context: RecordContext::new(&h, t).unwrap(),
            tx_id: tx,
            record_key: key,
            filing: FilingSecret::from_bytes(&f).unwrap(),
            eh,
            opening,
        };
        let back = RecordHandoff::decode(&handoff.encode()).unwrap();
        prop_assert_eq!(back.context, handoff.context);
        prop_assert_eq!(back.tx_id, tx);
        prop_assert_eq!(back.record_key, handoff.record_key);
        prop_assert_eq!(back.filing, handoff.filing);
        prop_assert_eq!((back.eh, back.opening), (eh, handoff.opening));
    }

    #[test]
    fn masks_unmask_to_what_was_masked(h in hospital(), t in 0..MAX_UNIX_SECONDS, tx in any::<[u8; 32]>(), key in record_key()) {
        let ctx = RecordContext::new(&h, t).unwrap();
        let k_t = MaskKey::generate().unwrap();
        let filed = k_t.mask(&ctx, &tx, &key);
        let back = k_t.unmask(&ctx, &filed.z, &filed.k).unwrap();
        prop_assert_eq!(back.tx_id, tx);
        prop_assert_eq!(back.record_key, key);
    }

    #[test]
    fn abi_tuples_round_trip(a in any::<u64>(), addr in any::<[u8; 20]>(), word in any::<[u8; 32]>(), b in proptest::collection::vec(any::<u8>(), 0..100)) {
        let data = encode(&[Token::Uint(a), Token::Address(Address(addr)), Token::Bytes32(word), Token::Bytes(b.clone())]);
        let mut r = Reader::new(&data);
        prop_assert_eq!(r.uint64().unwrap(), a);
        prop_assert_eq!(r.address().unwrap(), Address(addr));
        prop_assert_eq!(r.bytes32().unwrap(), word);
        prop_assert_eq!(r.bytes().unwrap(), b);
    }

    #[test]
    fn records_round_trip_at_any_length_and_segment_size(
        key in record_key(),
        plain in proptest::collection::vec(any::<u8>(), 0..3000),
        segment in 100u32..600,
        ad in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let (ct, eh) = encrypt(&key, &ad, segment, &plain).unwrap();
        let (back, eh2) = decrypt(&key, &ad, segment, &ct).unwrap();
        prop_assert_eq!(back.as_slice(), plain.as_slice());
        prop_assert_eq!(eh, eh2);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic a decoder: each answers Ok or a typed error.
    #[test]
    fn decoders_refuse_garbage_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = AccessPass::decode(&bytes, SecretKey::from_bytes(&[3; 32]).unwrap().public_key());
        let _ = RecordHandoff::decode(&bytes);
        let _ = RecordContext::decode_prefix("ctx", &bytes);
        let _ = Signature::from_bytes(&bytes);
        let _ = ehrchain::PublicKey::from_sec1("key", &bytes);
        let _ = ehrchain::chain::registry::CertificateStatus::decode(&bytes);
        let _ = ehrchain::chain::registry::RecordStatus::decode(&bytes);
        let key = RecordKey::from_bytes(&[7; 16]).unwrap();
        let _ = decrypt(&key, b"", 256, &bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = ehrchain::Certificate::from_json(&text);
        let _ = ehrchain::SignedRequest::from_json(&text);
        let _ = ehrchain::TypedData::from_json(&text);
    }
}
