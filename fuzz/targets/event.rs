//! Fuzzes the registry's event decoder, [`Event::decode`], on logs built
//! from the input, and the scans over them ([`scan::authorisations_for`],
//! [`anchored_eh`]).
//!
//! Input: `sel ‖ n ‖ [topic 0] ‖ n topics (32 bytes each) ‖ data`. Bits 0–2
//! of `sel` pick topic 0 (0–5: the registry's six events; 6–7: the next 32
//! input bytes, verbatim); bit 3 makes the log come from another contract;
//! `n` (mod 5) is the number of further topics. Short inputs are cut, not
//! padded.
//!
//! Invariants:
//! - `decode` never panics: `Ok` or a typed `Error`;
//! - a decoded event, ABI-encoded again as the registry emits it, decodes
//!   to the same event; its `kind` is the one topic 0 names; `to_json`
//!   does not panic;
//! - the scan finds a log only if it is an `Authorised` event of the
//!   registry addressed to the scanning key, with that event's fields;
//!   `anchored_eh` finds one exactly for a `RecordAnchored` event.

use std::sync::OnceLock;

use ehrchain::chain::abi::{encode, Token};
use ehrchain::chain::log::Log;
use ehrchain::chain::registry::events::EVENTS;
use ehrchain::chain::registry::{anchored_eh, Event, EventKind};
use ehrchain::chain::scan;
use ehrchain::{Address, Error, Scanner, SecretKey};

/// The registry's address.
pub const REGISTRY: Address = Address([0x77; 20]);
/// The scanning doctor's protocol secret (as in the `authorisation` target).
pub const DOCTOR_SECRET: [u8; 32] = [0x33; 32];

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        Scanner::new(SecretKey::from_bytes(&DOCTOR_SECRET).expect("a valid scalar"))
    })
}

fn take32(input: &mut &[u8]) -> Option<[u8; 32]> {
    let (word, rest) = input.split_first_chunk::<32>()?;
    *input = rest;
    Some(*word)
}

/// The log the input describes.
pub fn log_of(data: &[u8]) -> Option<Log> {
    let [sel, n, rest @ ..] = data else {
        return None;
    };
    let mut rest = rest;
    let topic0 = match EVENTS.get(usize::from(sel & 7)) {
        Some(spec) => spec.kind.topic(),
        None => take32(&mut rest)?,
    };
    let mut topics = vec![topic0];
    for _ in 0..n % 5 {
        match take32(&mut rest) {
            Some(t) => topics.push(t),
            None => break,
        }
    }
    Some(Log {
        address: if sel & 8 == 0 {
            REGISTRY
        } else {
            Address([0x78; 20])
        },
        topics,
        data: rest.to_vec(),
        transaction_hash: Some([0xab; 32]),
        block_number: Some(1),
        log_index: Some(0),
    })
}

fn word(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

fn address_word(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

/// The log the registry emits for `event` (the decoder's inverse).
fn emit(event: &Event, like: &Log) -> Log {
    let topic = event.kind().topic();
    let (topics, data) = match event {
        Event::DoctorRegistered {
            serial,
            doctor,
            protocol_key,
            valid_from,
            valid_until,
        } => (
            vec![topic, word(*serial), address_word(doctor)],
            encode(&[
                Token::Bytes(protocol_key.clone()),
                Token::Uint(*valid_from),
                Token::Uint(*valid_until),
            ]),
        ),
        Event::DoctorRevoked { serial, revoked_at } => (
            vec![topic, word(*serial)],
            encode(&[Token::Uint(*revoked_at)]),
        ),
        Event::RecordAnchored {
            eh,
            anchored_by,
            serial,
            commitment,
            record_time,
            anchored_at,
        } => (
            vec![topic, *eh, address_word(anchored_by)],
            encode(&[
                Token::Uint(*serial),
                Token::Bytes32(*commitment),
                Token::Uint(*record_time),
                Token::Uint(*anchored_at),
            ]),
        ),
        Event::RecordDeleted {
            eh,
            deleted_by,
            deleted_at,
        } => (
            vec![topic, *eh, address_word(deleted_by)],
            encode(&[Token::Uint(*deleted_at)]),
        ),
        Event::Authorised { seq, authorisation } => (
            vec![topic, word(*seq)],
            encode(&[
                Token::Bytes1(authorisation.view_tag),
                Token::Bytes(authorisation.r.to_vec()),
                Token::Bytes(authorisation.st.to_vec()),
                Token::Bytes(authorisation.c1.clone()),
            ]),
        ),
        Event::HospitalListed { hospital, endpoint } => (
            vec![topic, ehrchain::hash::keccak256(hospital.as_bytes())],
            encode(&[
                Token::Bytes(hospital.as_bytes().to_vec()),
                Token::Bytes(endpoint.as_bytes().to_vec()),
            ]),
        ),
    };
    Log {
        topics,
        data,
        ..like.clone()
    }
}

/// Decodes the log in `data` and checks the invariants above.
pub fn run(data: &[u8]) {
    let Some(log) = log_of(data) else {
        return;
    };
    let decoded = Event::decode(&log, &REGISTRY);
    let found = scan::authorisations_for(scanner(), &REGISTRY, std::slice::from_ref(&log));
    let anchored = anchored_eh(std::slice::from_ref(&log), &REGISTRY);
    let event = match decoded {
        Ok(event) => event,
        Err(e) => {
            if log.address != REGISTRY {
                assert_eq!(e, Error::WrongContract);
            }
            assert!(found.is_empty(), "the scan found an undecodable log");
            assert_eq!(anchored, Err(Error::EventNotFound));
            return;
        }
    };
    assert_eq!(log.address, REGISTRY);
    assert_eq!(
        EventKind::from_topic(&log.topics[0]).map(|s| s.kind),
        Some(event.kind())
    );
    assert_eq!(
        Event::decode(&emit(&event, &log), &REGISTRY).as_ref(),
        Ok(&event)
    );
    let _ = event.to_json();
    match &event {
        Event::RecordAnchored { eh, .. } => assert_eq!(anchored, Ok(*eh)),
        _ => assert_eq!(anchored, Err(Error::EventNotFound)),
    }
    match (&event, found.as_slice()) {
        (_, []) => {
            if let Event::Authorised { authorisation, .. } = &event {
                assert!(!scanner().matches(authorisation));
            }
        }
        (Event::Authorised { seq, authorisation }, [one]) => {
            assert!(scanner().matches(authorisation));
            assert_eq!((one.seq, &one.authorisation), (*seq, authorisation));
            assert_eq!(one.transaction_hash, log.transaction_hash);
        }
        _ => panic!(
            "the scan found {} grants in a {:?} log",
            found.len(),
            event.kind()
        ),
    }
}
