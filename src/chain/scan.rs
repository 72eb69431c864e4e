//! Scanning the registry's `Authorised` events for a doctor's key (paper
//! Alg 5 step 6): the one loop the JSON-RPC client and the JS bindings share.
//!
//! A scan reads every grant anyone ever posted, so it is fast where it can
//! be: [`sift`] reads only the view tag and `R` of each log, at the fixed
//! offsets of the event's canonical encoding, [`candidates`] tests the view
//! tags of a whole page with one field inversion, and only the few logs left
//! (1 in 256 foreign ones, the doctor's own, and any that are not encoded
//! canonically) are decoded in full and checked by [`authorisations_for`].
//! The result is exactly that of [`authorisations_for`] over every log: a log
//! is dropped early only when its full decoding would be dropped too.

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
    /// The block that contains it (absent for a pending log).
    pub block_number: Option<u64>,
}

/// What [`sift`] learns of one log without decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sifted {
    /// Not an `Authorised` event of this registry, or not readable: a full
    /// decoding would skip it too.
    Other,
    /// The view tag `vt` and the point `R` of an `Authorised` event of this
    /// registry whose data has the canonical layout (`R` at offset `0x80`,
    /// 33 bytes long).
    Probe {
        /// `vt`, data byte 0.
        view_tag: u8,
        /// `R`, data bytes `0xa0..0xc1`.
        r: [u8; 33],
    },
    /// An `Authorised` event of this registry not laid out canonically: only
    /// a full decoding can tell.
    Decode,
}

/// Offset of `R`'s length word in the canonical `Authorised` data: after the
/// four head words (`vt`, and the offsets of `R`, `ST`, `C1`).
const R_LENGTH_AT: usize = 0x80;
/// Offset of `R`'s bytes in the canonical `Authorised` data.
const R_AT: usize = R_LENGTH_AT + 32;
/// The end of `R` (33 bytes) in the canonical `Authorised` data: all
/// [`sift`] reads.
const R_END: usize = R_AT + 33;

/// A 32-byte ABI word holding `value`.
fn is_word(word: &[u8], value: usize) -> bool {
    let mut expected = [0u8; 32];
    expected[24..].copy_from_slice(&(value as u64).to_be_bytes());
    word == expected
}

/// The most of a log's `data` text that [`sift`] reads: `0x` and the hex of
/// the bytes up to the end of `R`. A caller may pass `data` cut to this
/// length (when longer) and get the same answer: the rest of a long `data`
/// is not read.
pub const SIFT_DATA_CHARS: usize = 2 + 2 * R_END;

/// Reads a log's view tag and `R` from its JSON-RPC fields (`address`,
/// `topics[0]`, `data`, all hex) without decoding the rest (see [`Sifted`]):
/// of a `data` long enough to hold `R`, only the bytes up to `R`'s end are
/// decoded. That keeps the answer exact: bad hex further on makes the log
/// a [`Sifted::Probe`] where a full decoding would skip it, and a probe is
/// only ever dropped (its view tag is not this key's) or decoded in full.
pub fn sift(registry: &Address, address: &str, topic0: &str, data: &str) -> Sifted {
    if Address::parse(address).ok().as_ref() != Some(registry) {
        return Sifted::Other;
    }
    match crate::hex::decode_array::<32>("topic", "32", topic0) {
        Ok(t) if t == super::registry::authorised_topic() => {}
        _ => return Sifted::Other,
    }
    let digits = crate::hex::digits(data);
    let read = digits.get(..2 * R_END).unwrap_or(digits);
    let Ok(data) = ::hex::decode(read) else {
        return Sifted::Other;
    };
    if data.len() < R_END
        || !is_word(&data[32..64], R_LENGTH_AT)
        || !is_word(&data[R_LENGTH_AT..R_AT], 33)
    {
        return Sifted::Decode;
    }
    let mut r = [0u8; 33];
    r.copy_from_slice(&data[R_AT..R_END]);
    Sifted::Probe {
        view_tag: data[0],
        r,
    }
}

/// The indices of the sifted logs that may be addressed to `scanner`'s key:
/// every [`Sifted::Decode`], and every [`Sifted::Probe`] whose view tag is
/// this key's ([`Scanner::view_tags_match`], one inversion for all). Only
/// these need [`authorisations_for`].
pub fn candidates(scanner: &Scanner, sifted: &[Sifted]) -> Vec<usize> {
    let probes: Vec<(usize, (u8, [u8; 33]))> = sifted
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Sifted::Probe { view_tag, r } => Some((i, (*view_tag, *r))),
            _ => None,
        })
        .collect();
    let tags: Vec<(u8, [u8; 33])> = probes.iter().map(|(_, p)| *p).collect();
    let hits = scanner.view_tags_match(&tags);
    let mut out: Vec<usize> = probes
        .iter()
        .zip(hits)
        .filter_map(|((i, _), hit)| hit.then_some(*i))
        .chain(
            sifted
                .iter()
                .enumerate()
                .filter_map(|(i, s)| (*s == Sifted::Decode).then_some(i)),
        )
        .collect();
    out.sort_unstable();
    out
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
                    block_number: log.block_number,
                })
            }
            _ => None,
        })
        .collect()
}

/// [`authorisations_for`] over logs that [`sift`] has read, decoding only
/// the [`candidates`]: `log(i)` gives the `i`th log (`None` when it is not
/// a log). The result is that of [`authorisations_for`] over every log.
pub fn authorisations_sifted(
    scanner: &Scanner,
    registry: &Address,
    sifted: &[Sifted],
    log: impl FnMut(usize) -> Option<Log>,
) -> Vec<Found> {
    let logs: Vec<Log> = candidates(scanner, sifted)
        .into_iter()
        .filter_map(log)
        .collect();
    authorisations_for(scanner, registry, &logs)
}

/// [`sift`] over one JSON-RPC log entry; an entry without string
/// `address`, `topics[0]` and `data` is left to the full decoding.
pub fn sift_json(registry: &Address, entry: &Json) -> Sifted {
    match (
        entry.get("address").and_then(Json::as_str),
        entry
            .get("topics")
            .and_then(|t| t.get(0))
            .and_then(Json::as_str),
        entry.get("data").and_then(Json::as_str),
    ) {
        (Some(address), Some(topic0), Some(data)) => sift(registry, address, topic0, data),
        _ => Sifted::Decode,
    }
}

/// [`authorisations_for`] over logs as JSON-RPC returns them (an
/// `eth_getLogs` result), sifted first ([`authorisations_sifted`]): an
/// entry that is not a log (`null`, a number, `{}`, non-hex data) is
/// skipped, so junk cannot abort a scan.
///
/// # Errors
/// [`Error::MalformedEncoding`](crate::Error::MalformedEncoding) only if
/// `logs` is not an array.
pub fn authorisations_in_json(
    scanner: &Scanner,
    registry: &Address,
    logs: &Json,
) -> Result<Vec<Found>> {
    let entries = logs.as_array().ok_or(crate::Error::MalformedEncoding {
        what: "JSON-RPC result",
        reason: "logs must be an array",
    })?;
    let sifted: Vec<Sifted> = entries.iter().map(|e| sift_json(registry, e)).collect();
    Ok(authorisations_sifted(scanner, registry, &sifted, |i| {
        Log::from_json(&entries[i]).ok()
    }))
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
                block_number: Some(1),
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

    /// The data of an `Authorised` event for `auth` with `R` after `ST`:
    /// valid ABI (offsets in bounds), but not the canonical layout.
    fn reordered_data(auth: &Authorisation) -> Vec<u8> {
        let word = |n: usize| {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&(n as u64).to_be_bytes());
            w
        };
        let padded = |b: &[u8]| {
            let mut v = word(b.len()).to_vec();
            v.extend_from_slice(b);
            v.resize(32 + b.len().div_ceil(32) * 32, 0);
            v
        };
        let (st, r, c1) = (padded(&auth.st), padded(&auth.r), padded(&auth.c1));
        let mut tag = [0u8; 32];
        tag[0] = auth.view_tag;
        let mut data = tag.to_vec();
        data.extend_from_slice(&word(0x80 + st.len()));
        data.extend_from_slice(&word(0x80));
        data.extend_from_slice(&word(0x80 + st.len() + r.len()));
        data.extend(st);
        data.extend(r);
        data.extend(c1);
        data
    }

    #[test]
    fn sifting_reads_the_view_tag_and_r_of_the_canonical_layout_only() {
        let registry = Address([7; 20]);
        let me = SecretKey::generate().unwrap();
        let mine = grant_to(&me);
        let log = log_json(&authorised_log(registry, 1, &mine));
        assert_eq!(
            sift_json(&registry, &log),
            Sifted::Probe {
                view_tag: mine.view_tag,
                r: mine.r
            }
        );
        assert_eq!(
            sift_json(&Address([8; 20]), &log),
            Sifted::Other,
            "another registry"
        );
        let mut other_event = log.clone();
        other_event["topics"][0] = serde_json::json!(format!("0x{}", "11".repeat(32)));
        assert_eq!(sift_json(&registry, &other_event), Sifted::Other);
        let mut reordered = log.clone();
        reordered["data"] = serde_json::json!(crate::hex::encode_prefixed(&reordered_data(&mine)));
        assert_eq!(sift_json(&registry, &reordered), Sifted::Decode);
        assert_eq!(sift_json(&registry, &serde_json::json!({})), Sifted::Decode);
        let mut short = log.clone();
        short["data"] = serde_json::json!("0x00");
        assert_eq!(sift_json(&registry, &short), Sifted::Decode);
        // Only the head of `data` is read: cut to SIFT_DATA_CHARS, or with
        // bad hex after R, the answer is the same probe; bad hex in the
        // head is unreadable.
        let text = log["data"].as_str().unwrap().to_owned();
        let probe = sift_json(&registry, &log);
        let mut cut = log.clone();
        cut["data"] = serde_json::json!(text[..SIFT_DATA_CHARS]);
        assert_eq!(sift_json(&registry, &cut), probe);
        let mut bad_tail = log.clone();
        bad_tail["data"] = serde_json::json!(format!("{}zz", &text[..text.len() - 2]));
        assert_eq!(sift_json(&registry, &bad_tail), probe);
        let mut bad_head = log;
        bad_head["data"] = serde_json::json!(format!("0xzz{}", &text[4..]));
        assert_eq!(sift_json(&registry, &bad_head), Sifted::Other);
    }

    #[test]
    fn the_sifted_scan_finds_exactly_what_decoding_every_log_finds() {
        let registry = Address([7; 20]);
        let me = SecretKey::generate().unwrap();
        let scanner = Scanner::new(SecretKey::from_bytes(me.to_bytes().as_slice()).unwrap());
        let mine = grant_to(&me);
        let mut logs: Vec<Log> = (0..300u16)
            .map(|i| {
                authorised_log(
                    registry,
                    (i % 250) as u8 + 1,
                    &grant_to(&SecretKey::generate().unwrap()),
                )
            })
            .collect();
        logs.push(authorised_log(registry, 251, &mine));
        let mut reordered = authorised_log(registry, 252, &grant_to(&me));
        reordered.data = reordered_data(&grant_to(&me));
        logs.push(reordered);
        let mut bad_r = authorised_log(registry, 253, &mine);
        bad_r.data[R_AT + 1..R_AT + 33].fill(0xff);
        logs.push(bad_r);
        let mut entries: Vec<Json> = logs.iter().map(log_json).collect();
        // A grant to this key whose data is bad hex after R: sifted as a
        // probe (the tail is not read), then dropped by the full decoding,
        // as decoding every log drops it.
        let mut bad_tail = log_json(&authorised_log(registry, 254, &grant_to(&me)));
        let text = bad_tail["data"].as_str().unwrap().to_owned();
        bad_tail["data"] = serde_json::json!(format!("{}zz", &text[..text.len() - 2]));
        assert!(matches!(
            sift_json(&registry, &bad_tail),
            Sifted::Probe { .. }
        ));
        entries.push(bad_tail);
        let json = Json::Array(entries);
        let sifted = authorisations_in_json(&scanner, &registry, &json).unwrap();
        let full = authorisations_for(&scanner, &registry, &logs);
        assert_eq!(sifted, full);
        assert_eq!(
            full.iter().map(|f| f.seq).collect::<Vec<_>>(),
            vec![251, 252],
            "the canonical and the reordered grant are found"
        );
        // 300 foreign grants: about 300/256 pass the view tag; far fewer
        // than all are decoded.
        let sifted: Vec<Sifted> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|e| sift_json(&registry, e))
            .collect();
        assert!(candidates(&scanner, &sifted).len() < 20);
    }

    #[test]
    fn an_empty_page_and_a_page_of_bad_points_are_scanned_without_a_trap() {
        let registry = Address([7; 20]);
        let scanner = Scanner::new(SecretKey::generate().unwrap());
        assert_eq!(candidates(&scanner, &[]), Vec::<usize>::new());
        assert!(scanner.view_tags_match(&[]).is_empty());
        assert_eq!(
            scanner.view_tags_match(&[(0, [0xff; 33]), (1, [2; 33])]),
            vec![false, false]
        );
        let found = authorisations_in_json(&scanner, &registry, &serde_json::json!([])).unwrap();
        assert!(found.is_empty());
    }
}
