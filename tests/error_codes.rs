//! The one list of error codes ([`ehrchain::Error::CODES`]) is the list that
//! `docs/PROTOCOL.md §11` publishes: a code added to the enum and not to the
//! docs (or the reverse) fails here.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;

/// The backquoted words of `docs/PROTOCOL.md` §11, minus the CLI's own codes.
fn documented_codes() -> BTreeSet<String> {
    let doc = include_str!("../docs/PROTOCOL.md");
    let start = doc
        .find("\n## 11. Errors")
        .expect("docs/PROTOCOL.md has §11 Errors");
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let section = &rest[..end];
    let cli_only = section
        .find("The CLI adds")
        .expect("§11 names the CLI's own codes");
    section[..cli_only]
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            w.chars().all(|c| c.is_ascii_alphanumeric()) && w.starts_with(char::is_uppercase)
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_code_is_documented_and_every_documented_code_exists() {
    let codes: BTreeSet<String> = ehrchain::Error::CODES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    assert_eq!(
        codes.len(),
        ehrchain::Error::CODES.len(),
        "codes are unique"
    );
    let documented = documented_codes();
    let missing_in_docs: Vec<_> = codes.difference(&documented).collect();
    let missing_in_code: Vec<_> = documented.difference(&codes).collect();
    assert!(
        missing_in_docs.is_empty() && missing_in_code.is_empty(),
        "not in docs/PROTOCOL.md §11: {missing_in_docs:?}; documented but not a code: {missing_in_code:?}"
    );
}

#[test]
fn a_code_is_its_variant_name() {
    assert_eq!(ehrchain::Error::HashMismatch.code(), "HashMismatch");
    assert_eq!(
        ehrchain::Error::SegmentTampered { segment: 3 }.code(),
        "SegmentTampered"
    );
    assert!(ehrchain::Error::CODES.contains(&"Truncated"));
}

#[test]
fn the_typescript_union_lists_every_code() {
    let ts = ehrchain::error::TYPESCRIPT_CODES;
    for code in ehrchain::Error::CODES {
        assert!(
            ts.contains(&format!("| \"{code}\"")),
            "{code} missing from the union"
        );
    }
    assert_eq!(ts.matches("| \"").count(), ehrchain::Error::CODES.len());
}
