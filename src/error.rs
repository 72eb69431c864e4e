//! The crate's typed errors.
//!
//! Every failure of every operation is one variant of [`Error`], with a stable
//! machine-readable [`Error::code`] that the wasm layer puts on the JS `Error`
//! object (`err.code`) and the CLI prints. Codes are part of the public API and
//! are listed in `docs/PROTOCOL.md §Errors`; they never change meaning.
//!
//! Authentication failures are deliberately coarse: a segment that does not
//! authenticate says *which segment* and *what most likely happened* (wrong key
//! or context, tampering, reordering, truncation), never why the tag check
//! failed internally. Messages never contain secrets or record contents.

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Declares the error enum and, from the same list of variants, its
/// [`Error::code`] (the variant's name), [`Error::CODES`] and the TypeScript
/// union of the codes: one list, so a code cannot be added to one and
/// forgotten in another.
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident $({ $($fields:tt)* })? , )*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant $({ $($fields)* })? , )*
        }

        impl $name {
            /// Every code, in declaration order (`docs/PROTOCOL.md §11`).
            pub const CODES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The stable, machine-readable code of this error (e.g.
            /// `"SegmentTampered"`), identical to the variant name. JS callers
            /// branch on `err.code`; codes never change meaning.
            pub fn code(&self) -> &'static str {
                match self {
                    $( $name::$variant { .. } => stringify!($variant), )*
                }
            }
        }

        /// The codes as a TypeScript union type, for the package's declarations.
        pub const TYPESCRIPT_CODES: &str = concat!(
            "/** Every `code` an `EhrchainError` can carry (docs/PROTOCOL.md §11). */\n",
            "export type ErrorCode =",
            $( "\n  | \"", stringify!($variant), "\"", )*
            ";\n"
        );
    };
}

error_codes! {
/// Everything that can go wrong in ehrchain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A text argument was not valid hexadecimal (an optional `0x` prefix is allowed).
    #[error("invalid hex in {what}")]
    InvalidHex {
        /// Which argument was malformed.
        what: &'static str,
    },
    /// An argument had the wrong length.
    #[error("{what} must be {expected} bytes, got {actual}")]
    InvalidLength {
        /// Which argument.
        what: &'static str,
        /// The accepted length(s), as text (e.g. `"16 or 32"`).
        expected: &'static str,
        /// The length given.
        actual: usize,
    },
    /// A secret key was zero or not below the secp256k1 group order.
    #[error("secret key is not a valid secp256k1 scalar")]
    InvalidSecretKey,
    /// Bytes that should encode a secp256k1 point do not (wrong prefix, not on the curve, identity).
    #[error("{what} is not a valid secp256k1 public key")]
    InvalidPublicKey {
        /// Which argument.
        what: &'static str,
    },
    /// A text address was malformed, or its mixed-case EIP-55 checksum was wrong.
    #[error("invalid Ethereum address: {reason}")]
    InvalidAddress {
        /// What was wrong.
        reason: &'static str,
    },
    /// A signature was malformed: wrong length, `r`/`s` out of range, high `s`, bad `v`.
    #[error("invalid signature: {reason}")]
    InvalidSignature {
        /// What was wrong.
        reason: &'static str,
    },
    /// A well-formed signature was made by someone other than the expected signer.
    #[error("signature was not made by the expected account")]
    WrongSigner,
    /// EIP-712 typed data was malformed or does not match its declared types.
    #[error("invalid EIP-712 typed data: {reason}")]
    InvalidTypedData {
        /// What was wrong (a field or type name, never a value).
        reason: String,
    },
    /// A JSON document (certificate, request, typed data) could not be parsed.
    #[error("malformed JSON: {reason}")]
    MalformedJson {
        /// The parser's description (position and kind only).
        reason: String,
    },
    /// The certificate does not follow the ehrchain certificate schema.
    #[error("certificate is malformed: {reason}")]
    CertificateMalformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The certificate's signature does not recover to the health authority.
    #[error("certificate was not issued by this health authority")]
    CertificateWrongAuthority,
    /// The certificate's validity period has not started yet.
    #[error("certificate is not valid yet")]
    CertificateNotYetValid,
    /// The certificate's validity period is over.
    #[error("certificate has expired")]
    CertificateExpired,
    /// The authority has revoked the certificate.
    #[error("certificate has been revoked")]
    CertificateRevoked,
    /// The certificate's serial is not registered in the registry.
    #[error("certificate serial is not registered on chain")]
    CertificateUnknown,
    /// The registry names another doctor for the certificate's serial.
    #[error("certificate does not match its on-chain registration")]
    CertificateMismatch,
    /// The certificate names another hospital than the server's own (an
    /// upload must come from a doctor who practises at this hospital).
    #[error("certificate is for another hospital")]
    CertificateWrongHospital,
    /// A JavaScript argument of the wrong type (e.g. a string where a
    /// `Uint8Array` is expected). Never coerced.
    #[error("argument {what} must be {expected}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// The type it must have.
        expected: &'static str,
    },
    /// ABI-encoded data (a call result or a log) is malformed.
    #[error("malformed ABI data: {reason}")]
    AbiDecode {
        /// What was wrong.
        reason: &'static str,
    },
    /// A log was emitted by another contract than the registry.
    #[error("log does not come from the registry contract")]
    WrongContract,
    /// The expected registry event is not in the receipt or logs.
    #[error("the expected registry event was not found")]
    EventNotFound,
    /// The chain knows no such transaction (or it is not mined yet).
    #[error("transaction not found on chain")]
    TransactionNotFound,
    /// The transaction was mined but reverted.
    #[error("transaction reverted: {reason}")]
    Reverted {
        /// The registry's custom error, or what is known.
        reason: String,
    },
    /// The JSON-RPC endpoint could not be reached or answered garbage.
    #[error("chain unreachable: {reason}")]
    RpcUnreachable {
        /// What happened (connection refused, timeout, bad HTTP status).
        reason: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("JSON-RPC error {code}: {message}")]
    Rpc {
        /// JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// A validity period whose start is not before its end.
    #[error("validity period is empty (valid-from must be before valid-until)")]
    InvalidValidity,
    /// A time given in milliseconds where the protocol takes Unix seconds:
    /// any value of at least [`crate::time::MAX_UNIX_SECONDS`] (10¹¹, the
    /// year 5138), such as JavaScript's `Date.now()`.
    #[error("{what} looks like milliseconds (Date.now()); times are Unix seconds")]
    TimeInMilliseconds {
        /// Which time.
        what: &'static str,
    },
    /// An access request is addressed to another hospital.
    #[error("access request is for another hospital")]
    RequestWrongHospital,
    /// An access request's expiry is in the past.
    #[error("access request has expired")]
    RequestExpired,
    /// An access request's expiry is further in the future than the verifier allows.
    #[error("access request expiry is too far in the future")]
    RequestExpiryTooFar,
    /// The access request was signed by an account other than the certified doctor.
    #[error("access request was not signed by the certified doctor")]
    RequestWrongSigner,
    /// An ECIES ciphertext is too short to hold its header.
    #[error("ECIES ciphertext too short")]
    EciesTooShort,
    /// An ECIES ciphertext did not authenticate (wrong key or tampered).
    #[error("ECIES decryption failed (wrong key or tampered ciphertext)")]
    EciesDecryptFailed,
    /// An encoded authorisation pass or handoff was malformed.
    #[error("malformed {what}: {reason}")]
    MalformedEncoding {
        /// Which structure.
        what: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A stealth tag did not match this doctor's key: the authorisation is for someone else.
    #[error("authorisation is not addressed to this key")]
    NotForThisKey,
    /// An authorisation opened for this doctor is not what the record's
    /// patient granted: its signature does not recover the patient the
    /// record's anchor commits to, or it names another record or time.
    #[error("authorisation is forged: it was not signed by the record's patient for this doctor")]
    GrantForged,
    /// The record's hash is not anchored in the registry.
    #[error("record is not anchored on chain")]
    RecordNotAnchored,
    /// The registry marks the record deleted (its tombstone).
    #[error("record is marked deleted on chain")]
    RecordDeleted,
    /// The account that anchored the record was not a doctor certified, on
    /// chain, at the time of anchoring.
    #[error("record was not anchored by a certified doctor")]
    AnchorNotCertified,
    /// The record's anchor does not commit to this patient, doctor and
    /// record type: the handoff does not belong to this anchor.
    #[error("record anchor was not made for this patient by this doctor")]
    AnchorMismatch,
    /// Stream parameters out of range (segment size, key size, offsets).
    #[error("invalid stream parameters: {reason}")]
    InvalidStreamParams {
        /// What was wrong.
        reason: &'static str,
    },
    /// The record ciphertext header is malformed (wrong length byte).
    #[error("record header is malformed")]
    InvalidHeader,
    /// The first segment did not authenticate: the key, the associated data
    /// or the segment size is wrong (the segment size is not in the header:
    /// another one cuts the first segment elsewhere), or the header or first
    /// segment was altered; AEAD cannot tell these apart.
    #[error("record did not decrypt: wrong key, associated data or segment size, or the start of the record was altered")]
    WrongKeyOrAssociatedData,
    /// A segment after the first did not authenticate: the ciphertext was altered.
    #[error("record segment {segment} was altered")]
    SegmentTampered {
        /// Zero-based index of the segment.
        segment: u64,
    },
    /// A segment authenticated at another position: segments were reordered,
    /// duplicated or spliced.
    #[error("record segment at position {segment} belongs at position {belongs_at}")]
    SegmentOutOfOrder {
        /// Position where it was found.
        segment: u64,
        /// Position it was encrypted for.
        belongs_at: u64,
    },
    /// The ciphertext ended before its final segment: it was truncated.
    #[error("record is truncated after {segments} segments")]
    Truncated {
        /// Number of complete segments received.
        segments: u64,
    },
    /// Data was pushed after the final segment, or a finished stream was used again.
    #[error("stream already finished")]
    StreamFinished,
    /// The record is larger than the format allows (2^32 segments).
    #[error("record too large for the stream format")]
    StreamTooLong,
    /// A buffer could not be allocated (in the browser: the page's memory is
    /// exhausted). Nothing was changed; retry with a smaller segment size or
    /// after freeing memory.
    #[error("not enough memory for the {what}")]
    OutOfMemory {
        /// Which buffer.
        what: &'static str,
    },
    /// The ciphertext's SHA-256 differs from the anchored hash `eh`.
    #[error("ciphertext hash does not match its anchor")]
    HashMismatch,
    /// A number was out of range.
    #[error("{what} is out of range")]
    OutOfRange {
        /// Which value.
        what: &'static str,
    },
    /// The platform's random number generator failed.
    #[error("random number generator unavailable")]
    Rng,
    /// A JS object whose wasm memory was released (`free()`, or a consuming
    /// call such as `finish`) was used again, or a record worker after its
    /// `terminate()`. Raised by the TypeScript facade; listed here so every
    /// code has one home.
    #[error("this {what} was freed; it can no longer be used")]
    ObjectFreed {
        /// Which object (its class name).
        what: &'static str,
    },
    /// `new` was called on a JS class that only factories make. Raised by
    /// the TypeScript facade; listed here so every code has one home.
    #[error("{what} has no public constructor: use {hint}")]
    NotConstructible {
        /// Which class.
        what: &'static str,
        /// The factory to call instead (e.g. `"Key.generate()"`).
        hint: &'static str,
    },
    /// A JS stream object was driven two ways: `transform()` called a second
    /// time, or mixed with `push`/`finish` (one object, one stream). Raised
    /// by the TypeScript facade; listed here so every code has one home.
    #[error("this stream object already drives another stream: {reason}")]
    StreamInUse {
        /// How it is already used.
        reason: &'static str,
    },
    /// A facility of the JS platform that the package drives failed or is
    /// missing: WebCrypto (`crypto.subtle`, absent on an insecure `http:`
    /// page) or a Web Worker (it could not load, or died). Raised by the
    /// TypeScript facade, whose message names the facility and what to do.
    #[error("the platform's {what} failed")]
    EngineFailed {
        /// Which facility.
        what: &'static str,
    },
    /// A record-server URL of the hospital directory is not one a client
    /// may follow (docs/PROTOCOL.md §13.1).
    #[error("hospital directory endpoint {reason}")]
    InvalidEndpoint {
        /// What is wrong with it.
        reason: &'static str,
    },
}
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::MalformedJson {
            reason: json_reason(&e),
        }
    }
}

impl Error {
    /// A JSON error of the document named `what` (`"certificate"`,
    /// `"access request"`), e.g. `unknown field "foo" in certificate`.
    pub(crate) fn json_in(what: &'static str) -> impl Fn(serde_json::Error) -> Error {
        move |e| Error::MalformedJson {
            reason: format!("{} in {what}", json_reason(&e)),
        }
    }
}

/// Longest field name quoted in an error message.
const MAX_QUOTED_FIELD: usize = 64;

/// What a JSON error says, without echoing input values: an unknown,
/// missing or duplicate field is named (a key is structure, never a
/// value); for other errors, whose serde messages can quote a short scalar,
/// only the category is kept. The position is given when there is one
/// (errors of an already parsed `Value` have none).
fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let message = e.to_string();
    let field = ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| {
            let rest = message.strip_prefix(prefix)?;
            let name: String = rest
                .split('`')
                .next()?
                .chars()
                .take(MAX_QUOTED_FIELD)
                .collect();
            Some(format!("{}{name:?}", &prefix[..prefix.len() - 1]))
        });
    let kind = field.unwrap_or_else(|| {
        match e.classify() {
            Category::Io => "I/O error",
            Category::Syntax => "syntax error",
            Category::Data => "unexpected structure",
            Category::Eof => "unexpected end of input",
        }
        .to_owned()
    });
    if e.line() == 0 {
        kind
    } else {
        format!("{kind} at line {} column {}", e.line(), e.column())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        serial: u64,
    }

    fn reason(value: serde_json::Value) -> String {
        match serde_json::from_value::<Doc>(value).map_err(Error::json_in("doc")) {
            Err(Error::MalformedJson { reason }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_json_error_names_the_field_not_the_value() {
        assert_eq!(
            reason(serde_json::json!({"serial": 1, "foo": 2})),
            "unknown field \"foo\" in doc"
        );
        assert_eq!(
            reason(serde_json::json!({})),
            "missing field \"serial\" in doc"
        );
        assert_eq!(
            reason(serde_json::json!({"serial": "secret"})),
            "unexpected structure in doc"
        );
    }

    #[test]
    fn a_syntax_error_keeps_its_position() {
        let e = serde_json::from_str::<Doc>("{\n  x").map_err(Error::from);
        assert_eq!(
            e.err(),
            Some(Error::MalformedJson {
                reason: "syntax error at line 2 column 3".into()
            })
        );
    }
}
