//! The server's one list of codes ([`ApiError::CODES`], with the statuses
//! [`ApiError::status`] answers) is the list that the "Refusals" table of
//! `server/README.md` publishes: a code added to the server and not to the
//! table, a status changed in one and not the other, or a table entry that is
//! no code at all fails here.
//!
//! Protocol failures answer the core crate's codes ([`ehrchain::Error::CODES`])
//! with the status the server gives them; the table may list any of them (it
//! lists those a client is likely to meet), each with that status, and it must
//! show every status the server can answer.
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};

use ehrchain::Error as CoreError;
use ehrchain_server::ApiError;

const README: &str = include_str!("../README.md");

/// One instance of every server variant (`Protocol` aside).
fn server_errors() -> Vec<ApiError> {
    use ApiError as E;
    vec![
        E::MalformedJson("x".into()),
        E::InvalidField {
            field: "eh",
            reason: "x",
        },
        E::PayloadTooLarge { limit: 1 },
        E::NotFound,
        E::MethodNotAllowed,
        E::RateLimited {
            retry_after_secs: 1,
        },
        E::RequestTimeout,
        E::BodyIncomplete,
        E::Unauthorized,
        E::UploadNotFound,
        E::UploadCompleted,
        E::UploadBusy,
        E::UploadIncomplete {
            missing: 1,
            first: 0,
        },
        E::InvalidPartNumber { parts: 1 },
        E::PartTooLarge { expected: 1 },
        E::PartSizeMismatch {
            expected: 2,
            got: 1,
        },
        E::RecordTooLarge { max: 1 },
        E::InvalidPartSize {
            min: 1,
            max: 2,
            max_parts: 3,
        },
        E::RecordExists,
        E::RecordNotFound,
        E::IndexExists,
        E::UnknownIndex,
        E::Replay,
        E::RecordDeletedOnChain,
        E::RecordRetired,
        E::FilingNotAuthorised,
        E::RecordNotAnchored,
        E::NotDeletedOnChain,
        E::ChainNotConfigured,
        E::AccessNotConfigured,
        E::InvalidToken,
        E::TokenExpired,
        E::RangeNotSatisfiable { len: 1 },
        E::StorageFull,
        E::UploadQuotaExceeded,
        E::UploadCapacityExceeded,
        E::RelayNotConfigured,
        E::Internal("x".into()),
    ]
}

/// One instance of every core-crate variant. A new core code fails
/// `the_instances_cover_every_code` until it is added here (and its status
/// chosen in `server/src/error.rs`, `protocol_status`, if 400 is wrong).
fn core_errors() -> Vec<CoreError> {
    use CoreError as E;
    vec![
        E::InvalidHex { what: "x" },
        E::InvalidLength {
            what: "x",
            expected: "32",
            actual: 1,
        },
        E::InvalidSecretKey,
        E::InvalidPublicKey { what: "x" },
        E::InvalidAddress { reason: "x" },
        E::InvalidSignature { reason: "x" },
        E::WrongSigner,
        E::InvalidTypedData { reason: "x".into() },
        E::MalformedJson { reason: "x".into() },
        E::CertificateMalformed { reason: "x" },
        E::CertificateWrongAuthority,
        E::CertificateNotYetValid,
        E::CertificateExpired,
        E::CertificateRevoked,
        E::CertificateUnknown,
        E::CertificateMismatch,
        E::CertificateWrongHospital,
        E::InvalidArgument {
            what: "x",
            expected: "y",
        },
        E::AbiDecode { reason: "x" },
        E::WrongContract,
        E::EventNotFound,
        E::TransactionNotFound,
        E::Reverted { reason: "x".into() },
        E::RpcUnreachable { reason: "x".into() },
        E::Rpc {
            code: -32000,
            message: "x".into(),
        },
        E::InvalidValidity,
        E::TimeInMilliseconds { what: "x" },
        E::RequestWrongHospital,
        E::RequestExpired,
        E::RequestExpiryTooFar,
        E::RequestWrongSigner,
        E::EciesTooShort,
        E::EciesDecryptFailed,
        E::MalformedEncoding {
            what: "x",
            reason: "y",
        },
        E::NotForThisKey,
        E::GrantForged,
        E::RecordNotAnchored,
        E::RecordDeleted,
        E::AnchorNotCertified,
        E::AnchorMismatch,
        E::InvalidStreamParams { reason: "x" },
        E::InvalidHeader,
        E::WrongKeyOrAssociatedData,
        E::SegmentTampered { segment: 1 },
        E::SegmentOutOfOrder {
            segment: 1,
            belongs_at: 2,
        },
        E::Truncated { segments: 1 },
        E::StreamFinished,
        E::StreamTooLong,
        E::HashMismatch,
        E::OutOfRange { what: "x" },
        E::Rng,
        E::OutOfMemory { what: "x" },
        E::ObjectFreed { what: "x" },
        E::NotConstructible {
            what: "x",
            hint: "y",
        },
        E::StreamInUse { reason: "x" },
        E::EngineFailed { what: "x" },
        E::InvalidEndpoint { reason: "x" },
    ]
}

/// Code → status, as answered, of every instance; panics on a code given twice.
fn statuses(errors: impl IntoIterator<Item = ApiError>) -> BTreeMap<String, u16> {
    let mut map = BTreeMap::new();
    for e in errors {
        let code = e.code().to_owned();
        let status = e.status().as_u16();
        assert!(
            map.insert(code.clone(), status).is_none(),
            "{code} is listed twice"
        );
    }
    map
}

/// Every server code with the status the server answers for it.
fn server_statuses() -> BTreeMap<String, u16> {
    statuses(server_errors())
}

/// Every core code with the status the server answers for it.
fn core_statuses() -> BTreeMap<String, u16> {
    statuses(core_errors().into_iter().map(ApiError::Protocol))
}

/// The "Refusals" table of `server/README.md`.
#[derive(Debug)]
struct Refusals<'a> {
    /// Its rows, as written (without the header and the `---` line).
    rows: Vec<&'a str>,
    /// Every code it lists, with the status of its row.
    codes: BTreeMap<String, u16>,
}

/// The backquoted words of `text` that are codes (an uppercase letter, then
/// letters and digits); notes such as `Content-Range: bytes */len` are not.
fn codes_in(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .collect()
}

/// The cells of a table line `| a | b |`.
fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

/// Parses the `| status | codes |` table after the line starting
/// `Refusals`. A row with several statuses (`502 / 503`) splits its codes the
/// same way (`` `Rpc` / `RpcUnreachable` ``).
fn parse_refusals(readme: &str) -> Result<Refusals<'_>, String> {
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with("Refusals"))
        .skip(1)
        .skip_while(|l| l.trim().is_empty());
    let header = lines.next().ok_or("no Refusals table in README")?;
    if cells(header) != ["status", "codes"] {
        return Err(format!("Refusals table header is {header:?}"));
    }
    let rule = lines.next().ok_or("Refusals table has no --- line")?;
    if !cells(rule)
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
    {
        return Err(format!("Refusals table rule is {rule:?}"));
    }
    let mut table = Refusals {
        rows: Vec::new(),
        codes: BTreeMap::new(),
    };
    for row in lines.take_while(|l| l.trim_start().starts_with('|')) {
        let [status, codes] = cells(row)[..] else {
            return Err(format!("row {row:?} does not have two cells"));
        };
        let statuses = status
            .split('/')
            .map(|s| s.trim().parse::<u16>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("row {row:?}: status {status:?}: {e}"))?;
        let groups: Vec<&str> = if statuses.len() == 1 {
            vec![codes]
        } else {
            codes.split(" / ").collect()
        };
        if groups.len() != statuses.len() {
            return Err(format!(
                "row {row:?}: {} statuses but {} groups of codes",
                statuses.len(),
                groups.len()
            ));
        }
        for (status, group) in statuses.into_iter().zip(groups) {
            let listed = codes_in(group);
            if listed.is_empty() {
                return Err(format!("row {row:?}: no code for status {status}"));
            }
            for code in listed {
                if let Some(before) = table.codes.insert(code.to_owned(), status) {
                    return Err(format!("{code} is listed twice ({before} and {status})"));
                }
            }
        }
        table.rows.push(row);
    }
    if table.rows.is_empty() {
        return Err("the Refusals table has no rows".to_owned());
    }
    Ok(table)
}

/// (a) Every server code is in the table, with its status.
fn undocumented_server_codes(table: &Refusals<'_>, server: &BTreeMap<String, u16>) -> Vec<String> {
    server
        .iter()
        .filter_map(|(code, status)| match table.codes.get(code) {
            None => Some(format!(
                "server code {code} ({status}) is not in README's table"
            )),
            Some(listed) if listed != status => Some(format!(
                "README lists {code} under {listed}; the server answers {status}"
            )),
            Some(_) => None,
        })
        .collect()
}

/// (b) Every code of the table is a server or core code, listed with the
/// status the server answers for it.
fn wrong_documented_codes(
    table: &Refusals<'_>,
    server: &BTreeMap<String, u16>,
    core: &BTreeMap<String, u16>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (code, listed) in &table.codes {
        let answered: Vec<u16> = [server.get(code), core.get(code)]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        if answered.is_empty() {
            problems.push(format!(
                "README lists {code}, which is neither a server nor a core code"
            ));
        }
        for status in answered {
            if status != *listed {
                problems.push(format!(
                    "README lists {code} under {listed}; the server answers {status}"
                ));
            }
        }
    }
    problems
}

/// (c) The table shows exactly the statuses the server answers.
fn wrong_statuses(
    table: &Refusals<'_>,
    server: &BTreeMap<String, u16>,
    core: &BTreeMap<String, u16>,
) -> Vec<String> {
    let answered: BTreeSet<u16> = server.values().chain(core.values()).copied().collect();
    let listed: BTreeSet<u16> = table.codes.values().copied().collect();
    let mut problems = Vec::new();
    for status in answered.difference(&listed) {
        problems.push(format!("README's table shows no code for status {status}"));
    }
    for status in listed.difference(&answered) {
        problems.push(format!(
            "README's table shows status {status}, never answered"
        ));
    }
    problems
}

/// Everything wrong between `readme` and the given code → status maps.
fn problems(
    readme: &str,
    server: &BTreeMap<String, u16>,
    core: &BTreeMap<String, u16>,
) -> Vec<String> {
    match parse_refusals(readme) {
        Err(e) => vec![e],
        Ok(table) => {
            let mut all = undocumented_server_codes(&table, server);
            all.extend(wrong_documented_codes(&table, server, core));
            all.extend(wrong_statuses(&table, server, core));
            all
        }
    }
}

fn readme_table() -> Refusals<'static> {
    parse_refusals(README).unwrap_or_else(|e| panic!("server/README.md: {e}"))
}

#[test]
fn the_instances_cover_every_code() {
    let server: BTreeSet<&str> = server_errors().iter().map(ApiError::code).collect();
    let listed: BTreeSet<&str> = ApiError::CODES.iter().copied().collect();
    assert_eq!(
        listed.len(),
        ApiError::CODES.len(),
        "server codes are unique"
    );
    assert_eq!(server, listed, "one instance per ApiError::CODES entry");

    let core: BTreeSet<&str> = core_errors().iter().map(CoreError::code).collect();
    let listed: BTreeSet<&str> = CoreError::CODES.iter().copied().collect();
    assert_eq!(
        core, listed,
        "one instance per ehrchain::Error::CODES entry (add new core codes to core_errors)"
    );

    // A code both crates have (`MalformedJson`) must get one status, or the
    // table could not document it.
    let core = core_statuses();
    for (code, status) in server_statuses() {
        if let Some(core_status) = core.get(&code) {
            assert_eq!(
                status, *core_status,
                "{code}: server and core statuses differ"
            );
        }
    }
}

#[test]
fn every_server_code_is_in_readme_with_its_status() {
    let problems = undocumented_server_codes(&readme_table(), &server_statuses());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_readme_code_exists_with_the_status_the_server_answers() {
    let problems = wrong_documented_codes(&readme_table(), &server_statuses(), &core_statuses());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn readme_shows_every_status_the_server_answers() {
    let problems = wrong_statuses(&readme_table(), &server_statuses(), &core_statuses());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn readme_table_is_parsed_and_its_server_codes_match_exactly() {
    let table = readme_table();
    assert!(table.rows.len() >= 10, "parsed rows: {:?}", table.rows);
    let server = server_statuses();
    assert_eq!(server.len(), ApiError::CODES.len());
    let documented_server: BTreeMap<String, u16> = table
        .codes
        .iter()
        .filter(|(code, _)| server.contains_key(*code))
        .map(|(code, status)| (code.clone(), *status))
        .collect();
    assert_eq!(documented_server, server);
    // Spot checks of the parse: a split row, a note with a `/`, a core code.
    assert_eq!(table.codes.get("Rpc"), Some(&502));
    assert_eq!(table.codes.get("RpcUnreachable"), Some(&503));
    assert_eq!(table.codes.get("RangeNotSatisfiable"), Some(&416));
    assert_eq!(table.codes.get("HashMismatch"), Some(&422));
    assert!(!table.codes.contains_key("Retry"));
}

/// The checks are not vacuous: removing any one row of the table, or any one
/// entry of the server's list, changing a status, or adding an undocumented
/// code, is caught. (Deleting a line of the `server_codes!` list in
/// `server/src/error.rs` does not even compile: its matches are exhaustive.)
#[test]
fn deleting_a_readme_row_or_a_list_entry_is_caught() {
    let server = server_statuses();
    let core = core_statuses();
    assert_eq!(problems(README, &server, &core), Vec::<String>::new());

    let table = readme_table();
    for row in &table.rows {
        let cut = README.replacen(&format!("{row}\n"), "", 1);
        assert_ne!(cut, README, "row {row:?} found");
        assert!(
            !problems(&cut, &server, &core).is_empty(),
            "deleting README row {row:?} went unnoticed"
        );
    }

    for code in server.keys() {
        let mut changed = server.clone();
        let status = changed.get_mut(code).expect("listed");
        *status = if *status == 418 { 419 } else { 418 };
        assert!(
            !problems(README, &changed, &core).is_empty(),
            "a changed status of {code} went unnoticed"
        );
        // A code the core also has stays documented as the core's.
        if !core.contains_key(code) {
            let mut cut = server.clone();
            cut.remove(code);
            assert!(
                !problems(README, &cut, &core).is_empty(),
                "removing {code} from the server's list went unnoticed"
            );
        }
    }

    let mut added = server.clone();
    added.insert("UndocumentedCode".to_owned(), 400);
    assert!(!problems(README, &added, &core).is_empty());

    for code in table.codes.keys().filter(|c| core.contains_key(*c)) {
        let mut changed = core.clone();
        changed.insert(code.clone(), 418);
        assert!(
            !problems(README, &server, &changed).is_empty(),
            "a changed status of core code {code} went unnoticed"
        );
    }
}
