//! Scanning the registry's `Authorised` events for a doctor's key (paper
//! Alg 5 step 6): the one loop the JSON-RPC client and the JS bindings share.

use serde_json::Value as Json;

use super::log::Log;
use super::registry::Event;
use crate::account::Address;
use crate::error::Result;
use crate::grant::{Authorisation, Scanner};

/// An authorisation addressed to the scanning key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its sequence number in the registry.
    pub seq: u64,
    /// `Trans = (vt, R, ST, C1)`.
    pub authorisation: Authorisation,
    /// The transaction that posted it (absent for a pending log).
    pub transaction_hash: Option<[u8; 32]>,
}

/// The `Authorised` events among `logs` that `scanner`'s key matches, in
/// order. Logs of other contracts, other events and malformed events are
/// skipped: a stranger can post anything, and nothing of it may stop a scan.
/// An event whose view tag is not this key's is skipped after one
/// variable-base multiplication ([`Scanner::matches`]); one whose tag
/// matches but whose `ST` does not is skipped too.
pub fn authorisations_for(scanner: &Scanner, registry: &Address, logs: &[Log]) -> Vec<Found> {
    logs.iter()
        .filter_map(|log| match Event::decode(log, registry) {
            Ok(Event::Authorised { seq, authorisation }) if scanner.matches(&authorisation) => {
                Some(Found {
                    seq,
                    authorisation,
                    transaction_hash: log.transaction_hash,
                })
            }
            _ => None,
        })
        .collect()
}

/// [`authorisations_for`] over logs as JSON-RPC returns them (an
/// `eth_getLogs` result): each entry is parsed on its own and one that is
/// not a log (`null`, a number, `{}`, non-hex data) is skipped
/// ([`Log::many_lenient`]), so junk cannot abort a scan.
///
/// # Errors
/// [`Error::MalformedEncoding`](crate::Error::MalformedEncoding) only if
/// `logs` is not an array.
pub fn authorisations_in_json(
    scanner: &Scanner,
    registry: &Address,
    logs: &Json,
) -> Result<Vec<Found>> {
    Ok(authorisations_for(
        scanner,
        registry,
        &Log::many_lenient(logs)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchor::{AnchorOpening, RecordType};
    use crate::chain::abi::{self, Token};
    use crate::chain::registry::authorised_topic;
    use crate::grant::GrantTerms;
    use crate::mask::{MaskKey, RecordContext};
    use crate::SecretKey;

    fn authorised_log(registry: Address, seq: u8, auth: &Authorisation) -> Log {
        let mut topic_seq = [0u8; 32];
        topic_seq[31] = seq;
        Log {
            address: registry,
            topics: vec![authorised_topic(), topic_seq],
            data: abi::encode(&[
                Token::Bytes1(auth.view_tag),
                Token::Bytes(auth.r.to_vec()),
                Token::Bytes(auth.st.to_vec()),
                Token::Bytes(auth.c1.clone()),
            ]),
            transaction_hash: Some([seq; 32]),
            block_number: Some(1),
            log_index: Some(0),
        }
    }

    fn grant_to(doctor: &SecretKey) -> Authorisation {
        let pass = GrantTerms {
            doctor: doctor.public_key(),
            context: RecordContext::new("H1", 1).unwrap(),
            mask_key: MaskKey::generate().unwrap(),
            eh: [1; 32],
            opening: AnchorOpening::generate(RecordType::new("").unwrap()).unwrap(),
        }
        .sign(&SecretKey::generate().unwrap())
        .unwrap();
        Authorisation::create(&pass).unwrap()
    }

    #[test]
    fn a_scan_finds_only_the_grants_to_its_key_from_the_registry() {
        let registry = Address([7; 20]);
        let me = SecretKey::generate().unwrap();
        let other = SecretKey::generate().unwrap();
        let scanner = Scanner::new(SecretKey::from_bytes(me.to_bytes().as_slice()).unwrap());
        let mine = grant_to(&me);
        let mut garbage = authorised_log(registry, 4, &mine);
        garbage.data.truncate(40);
        let mut wrong_tag = mine.clone();
        wrong_tag.view_tag ^= 0x5a;
        let mut wrong_st = mine.clone();
        wrong_st.st = grant_to(&me).st;
        let mut dirty_tag = authorised_log(registry, 7, &mine);
        dirty_tag.data[31] = 1;
        let logs = vec![
            authorised_log(registry, 1, &grant_to(&other)),
            authorised_log(registry, 2, &mine),
            authorised_log(Address([8; 20]), 3, &grant_to(&me)),
            garbage,
            authorised_log(registry, 5, &wrong_tag),
            authorised_log(registry, 6, &wrong_st),
            dirty_tag,
        ];
        let found = authorisations_for(&scanner, &registry, &logs);
        assert_eq!(
            found,
            vec![Found {
                seq: 2,
                authorisation: mine,
                transaction_hash: Some([2; 32]),
            }]
        );
    }

    fn log_json(log: &Log) -> Json {
        serde_json::json!({
            "address": log.address.to_checksum(),
            "topics": log.topics.iter().map(|t| crate::hex::encode_prefixed(t)).collect::<Vec<_>>(),
            "data": crate::hex::encode_prefixed(&log.data),
            "transactionHash": log.transaction_hash.map(|h| crate::hex::encode_prefixed(&h)),
            "blockNumber": "0x1",
            "logIndex": "0x0",
        })
    }

    #[test]
    fn junk_among_the_logs_does_not_stop_a_scan() {
        let registry = Address([7; 20]);
        let me = SecretKey::generate().unwrap();
        let scanner = Scanner::new(SecretKey::from_bytes(me.to_bytes().as_slice()).unwrap());
        let mine = grant_to(&me);
        let mut non_hex = log_json(&authorised_log(registry, 1, &mine));
        non_hex["data"] = serde_json::json!("0xnot hex");
        let logs = serde_json::json!([
            null,
            42,
            {},
            non_hex,
            log_json(&authorised_log(registry, 2, &mine)),
        ]);
        let found = authorisations_in_json(&scanner, &registry, &logs).unwrap();
        assert_eq!(
            found.iter().map(|f| f.seq).collect::<Vec<_>>(),
            vec![2],
            "the one good log is found"
        );
        assert!(matches!(
            authorisations_in_json(&scanner, &registry, &serde_json::json!({})),
            Err(crate::Error::MalformedEncoding { .. })
        ));
    }
}
