//! The registry's interface as the library writes it (function signatures,
//! the event table, the error list) is the one `contracts/EhrRegistry.sol`
//! declares: each test parses the Solidity source, so a change to the
//! contract that the library does not follow fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use ehrchain::chain::registry::{calls, errors::ERRORS, events::EVENTS};

/// The contract source without comments.
fn source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/EhrRegistry.sol");
    let text = std::fs::read_to_string(path).expect("contracts/EhrRegistry.sol");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `<keyword> Name(params)` declaration: name, parameter types, and
/// how many parameters are `indexed`.
fn declarations(keyword: &str) -> Vec<(String, Vec<String>, usize)> {
    let src = source();
    let mut out = Vec::new();
    let needle = format!("{keyword} ");
    let mut rest = src.as_str();
    while let Some(at) = rest.find(&needle) {
        // A declaration starts a statement: only whitespace before it on its line.
        let before = rest[..at].rsplit('\n').next().unwrap_or("");
        rest = &rest[at + needle.len()..];
        if !before.trim().is_empty() {
            continue;
        }
        let open = rest.find('(').unwrap();
        let name = rest[..open].trim().to_string();
        let close = open + rest[open..].find(')').unwrap();
        let params = &rest[open + 1..close];
        let mut types = Vec::new();
        let mut indexed = 0;
        for p in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let words: Vec<&str> = p.split_whitespace().collect();
            if words.contains(&"indexed") {
                indexed += 1;
            }
            types.push(words[0].to_string());
        }
        out.push((name, types, indexed));
    }
    out
}

fn canonical((name, types, _): &(String, Vec<String>, usize)) -> String {
    format!("{name}({})", types.join(","))
}

#[test]
fn the_event_table_is_the_contracts_events() {
    let declared: BTreeSet<(String, usize)> = declarations("event")
        .iter()
        .map(|d| (canonical(d), d.2))
        .collect();
    let table: BTreeSet<(String, usize)> = EVENTS
        .iter()
        .map(|e| (e.signature.to_string(), e.indexed))
        .collect();
    assert_eq!(declared.len(), 6, "{declared:?}");
    assert_eq!(table, declared);
}

#[test]
fn the_error_list_is_the_contracts_errors() {
    let declared: BTreeSet<String> = declarations("error").iter().map(canonical).collect();
    let list: BTreeSet<String> = ERRORS.iter().map(|s| s.to_string()).collect();
    assert_eq!(declared.len(), ERRORS.len(), "{declared:?}");
    assert_eq!(list, declared);
}

#[test]
fn every_call_the_library_encodes_is_an_external_function_of_the_contract() {
    let declared: BTreeSet<String> = declarations("function")
        .iter()
        .filter(|d| !d.0.starts_with('_'))
        .map(canonical)
        .collect();
    for call in [
        calls::REGISTER_DOCTOR,
        calls::REVOKE_DOCTOR,
        calls::CERTIFICATE_STATUS,
        calls::ANCHOR_RECORD,
        calls::MARK_DELETED,
        calls::RECORD_STATUS,
        calls::AUTHORISE,
        calls::AUTHORISATION_COUNT,
        calls::MARK_DELETED_BY_PATIENT,
        calls::LIST_HOSPITAL,
        calls::HOSPITAL_ENDPOINT,
    ] {
        assert!(declared.contains(call), "{call} not in {declared:?}");
    }
}
