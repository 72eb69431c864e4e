//! The hospital directory the authority keeps in the registry
//! (docs/PROTOCOL.md §13.1): hospital name `H1` → base URL of that
//! hospital's record server. A client finds the server of a record from the
//! record's `H1` here, never from a URL a person typed, so a doctor of one
//! hospital fetches a record from another without being told where it is.
//!
//! The contract checks lengths only; these checks are the clients': the
//! authority's client refuses to list an entry no reader would follow
//! ([`list_hospital`](super::registry::calls::list_hospital)), and a reader
//! refuses to follow one ([`decode_endpoint`]).

use crate::chain::abi::Reader;
use crate::error::{Error, Result};

/// Longest hospital name in bytes (as a record context's `H1`).
pub const MAX_HOSPITAL_LEN: usize = 255;

/// Longest record-server URL in bytes (the contract's `MAX_ENDPOINT_LENGTH`).
pub const MAX_ENDPOINT_LEN: usize = 256;

/// Checks a hospital name: 1 to 255 bytes (UTF-8 by construction).
///
/// # Errors
/// [`Error::OutOfRange`] otherwise.
pub fn check_hospital(hospital: &str) -> Result<()> {
    if hospital.is_empty() || hospital.len() > MAX_HOSPITAL_LEN {
        return Err(Error::OutOfRange {
            what: "hospital name length (1..=255 bytes)",
        });
    }
    Ok(())
}

/// Checks a record server's base URL: `https://host[:port][/path]`, or
/// `http://` to a loopback host (`localhost`, `127.0.0.1`, `[::1]`: a
/// server on the same machine, as in development); at most 256 bytes of
/// printable ASCII, no user info, query or fragment, and no trailing `/`
/// (clients append `/v1/…`).
///
/// # Errors
/// [`Error::InvalidEndpoint`] naming the rule broken.
pub fn check_endpoint(endpoint: &str) -> Result<()> {
    let bad = |reason| Err(Error::InvalidEndpoint { reason });
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return bad("is longer than 256 bytes");
    }
    if !endpoint.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("must be printable ASCII without spaces");
    }
    let (rest, secure) = if let Some(rest) = endpoint.strip_prefix("https://") {
        (rest, true)
    } else if let Some(rest) = endpoint.strip_prefix("http://") {
        (rest, false)
    } else {
        return bad("must start with https:// (or http:// to this machine)");
    };
    if rest.contains(['@', '?', '#', '\\']) {
        return bad("must not hold user info, a query or a fragment");
    }
    let authority = rest.split('/').next().unwrap_or("");
    let host = host_of(authority);
    if host.is_empty() {
        return bad("has no host");
    }
    if endpoint.ends_with('/') {
        return bad("must not end with '/'");
    }
    if !secure && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return bad("must use https:// unless it is on this machine");
    }
    Ok(())
}

/// The host of `host[:port]` (an IPv6 literal keeps its brackets).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or("", |end| &authority[..=end]);
    }
    authority.split(':').next().unwrap_or("")
}

/// Decodes `hospitalEndpoint(hospital)`'s answer: the listed base URL, or
/// `None` when the hospital is not listed (or was delisted).
///
/// # Errors
/// [`Error::AbiDecode`] for malformed return data;
/// [`Error::InvalidEndpoint`] for a listed URL no client may follow.
pub fn decode_endpoint(data: &[u8]) -> Result<Option<String>> {
    let endpoint = Reader::new(data).string()?;
    if endpoint.is_empty() {
        return Ok(None);
    }
    check_endpoint(&endpoint)?;
    Ok(Some(endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::abi::{encode, Token};

    fn reason(endpoint: &str) -> &'static str {
        match check_endpoint(endpoint) {
            Err(Error::InvalidEndpoint { reason }) => reason,
            other => panic!("{endpoint}: {other:?}"),
        }
    }

    #[test]
    fn https_and_loopback_http_are_followed() {
        for ok in [
            "https://records.stmarys.example",
            "https://records.example:8443/ehr",
            "http://127.0.0.1:8700",
            "http://localhost:8701",
            "http://[::1]:8700",
        ] {
            assert_eq!(check_endpoint(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn urls_a_client_must_not_follow_are_refused_with_the_rule() {
        assert_eq!(
            reason("http://records.example"),
            "must use https:// unless it is on this machine"
        );
        assert_eq!(
            reason("http://127.0.0.1.evil.example"),
            "must use https:// unless it is on this machine"
        );
        assert_eq!(
            reason("ftp://records.example"),
            "must start with https:// (or http:// to this machine)"
        );
        assert_eq!(
            reason("javascript:alert(1)"),
            "must start with https:// (or http:// to this machine)"
        );
        assert_eq!(
            reason("https://user@records.example"),
            "must not hold user info, a query or a fragment"
        );
        assert_eq!(
            reason("https://records.example/?x=1"),
            "must not hold user info, a query or a fragment"
        );
        assert_eq!(reason("https://records.example/"), "must not end with '/'");
        assert_eq!(reason("https://"), "has no host");
        assert_eq!(reason("https://:443"), "has no host");
        assert_eq!(
            reason("https://records example"),
            "must be printable ASCII without spaces"
        );
        assert_eq!(
            reason(&format!("https://{}", "a".repeat(250))),
            "is longer than 256 bytes"
        );
    }

    #[test]
    fn hospital_names_are_one_to_255_bytes() {
        assert!(check_hospital("").is_err());
        assert!(check_hospital(&"é".repeat(128)).is_err());
        assert_eq!(check_hospital(&"a".repeat(255)), Ok(()));
    }

    #[test]
    fn a_listed_endpoint_is_decoded_and_an_empty_one_is_none() {
        let answer = |s: &str| encode(&[Token::Bytes(s.as_bytes().to_vec())]);
        assert_eq!(
            decode_endpoint(&answer("http://127.0.0.1:8700")),
            Ok(Some("http://127.0.0.1:8700".into()))
        );
        assert_eq!(decode_endpoint(&answer("")), Ok(None));
        assert!(matches!(
            decode_endpoint(&answer("http://evil.example")),
            Err(Error::InvalidEndpoint { .. })
        ));
        assert!(matches!(
            decode_endpoint(&[0; 31]),
            Err(Error::AbiDecode { .. })
        ));
    }
}
