//! Every refusal the server can answer: one variant each, with its own HTTP
//! status and stable `code`, answered as `{"code": "...", "message": "..."}`.
//!
//! Protocol failures carry the core crate's [`ehrchain::Error`] and its
//! [`code`](ehrchain::Error::code); the server adds its own codes. Each
//! server variant's code (its name) and status come from one list (the
//! `server_codes!` invocation below), which also yields [`ApiError::CODES`];
//! `server/tests/error_codes.rs` holds that list against the "Refusals" table
//! of `server/README.md`. Messages never contain secrets, tokens or record
//! bytes; internal details (I/O and database errors) are logged and answered
//! with a generic message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::store::StoreError;

/// The code of an answered error, put in the response's extensions so the
/// request log can report it.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// A refusal or failure of one request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A protocol check of the core crate failed (certificate, signature,
    /// request, encoding, hash); its code is the crate's.
    #[error(transparent)]
    Protocol(#[from] ehrchain::Error),
    /// The body is not the JSON this endpoint takes.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A JSON field is missing or has the wrong form.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The body is larger than this endpoint accepts.
    #[error("request body too large (limit {limit} bytes)")]
    PayloadTooLarge {
        /// The limit.
        limit: u64,
    },
    /// No such route.
    #[error("no such endpoint")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The client sends requests faster than its rate limit (or the
    /// relayer's budget, per client or in total, is spent).
    #[error("too many requests; retry later")]
    RateLimited {
        /// Seconds until a retry can succeed (`Retry-After`).
        retry_after_secs: u64,
    },
    /// The request (or its body) took too long.
    #[error("request timed out")]
    RequestTimeout,
    /// The request body ended before its announced length (connection cut).
    #[error("request body incomplete")]
    BodyIncomplete,
    /// Upload endpoints (and `/metrics`) require the configured bearer token.
    #[error("missing or wrong credential")]
    Unauthorized,
    /// No such upload (never created, expired, or aborted).
    #[error("no such upload")]
    UploadNotFound,
    /// The upload was already assembled into a record.
    #[error("upload already completed")]
    UploadCompleted,
    /// Another `complete` of this upload is running.
    #[error("upload is being completed")]
    UploadBusy,
    /// `complete` was called before every part was received.
    #[error("upload incomplete: {missing} part(s) missing, first {first}")]
    UploadIncomplete {
        /// How many parts are missing.
        missing: u64,
        /// The first missing part.
        first: u64,
    },
    /// A part number outside `0..parts`.
    #[error("part number out of range (0..{parts})")]
    InvalidPartNumber {
        /// Number of parts.
        parts: u64,
    },
    /// A part larger than its exact size.
    #[error("part larger than its size of {expected} bytes")]
    PartTooLarge {
        /// The part's exact size.
        expected: u64,
    },
    /// A part smaller than its exact size.
    #[error("part has {got} bytes where exactly {expected} are required")]
    PartSizeMismatch {
        /// The part's exact size.
        expected: u64,
        /// What was received or announced.
        got: u64,
    },
    /// A record larger than the configured maximum.
    #[error("record larger than the maximum of {max} bytes")]
    RecordTooLarge {
        /// The maximum.
        max: u64,
    },
    /// A part size outside the accepted range.
    #[error("partSize must be between {min} and {max} bytes, giving at most {max_parts} parts")]
    InvalidPartSize {
        /// Smallest part size.
        min: u64,
        /// Largest part size.
        max: u64,
        /// Most parts per upload.
        max_parts: u64,
    },
    /// A record with this `eh` is already stored.
    #[error("a record with this eh is already stored")]
    RecordExists,
    /// No stored record with this `eh`.
    #[error("no such record")]
    RecordNotFound,
    /// `X` is already filed, with other values.
    #[error("this index value is already filed")]
    IndexExists,
    /// No record is filed under the requested `X`.
    #[error("no record is filed under this index value")]
    UnknownIndex,
    /// `(doctor, nonce)` was used before.
    #[error("this request was already used (nonce replay)")]
    Replay,
    /// The registry marks the record deleted; it is never served.
    #[error("record is marked deleted on chain")]
    RecordDeletedOnChain,
    /// The filing secret shown does not open the record's filing
    /// commitment: only the holder of the secret the record was uploaded
    /// with (the patient, from the sealed handoff) may file it.
    #[error("this filing secret does not open the record's filing commitment")]
    FilingNotAuthorised,
    /// This server deleted the record (retention, its on-chain tombstone, or
    /// `DELETE`); it is never stored again.
    #[error("this record was deleted here and is never stored again")]
    RecordRetired,
    /// The record's `eh` is not anchored in the registry.
    #[error("record is not anchored on chain")]
    RecordNotAnchored,
    /// `DELETE` of a record the registry does not mark deleted.
    #[error("record is not marked deleted on chain; delete it there first")]
    NotDeletedOnChain,
    /// The server has no chain configured (`EHR_RPC_URL`, `EHR_REGISTRY`).
    #[error("no chain is configured on this server")]
    ChainNotConfigured,
    /// The server has no authority or hospital configured.
    #[error("access requests are not configured on this server (authority, hospital)")]
    AccessNotConfigured,
    /// The download token is unknown or for another record.
    #[error("invalid download token")]
    InvalidToken,
    /// The download token has expired.
    #[error("download token expired")]
    TokenExpired,
    /// The requested range lies outside the record.
    #[error("requested range not satisfiable")]
    RangeNotSatisfiable {
        /// The record's length (for `Content-Range: bytes */len`).
        len: u64,
    },
    /// The storage is full.
    #[error("storage full")]
    StorageFull,
    /// The client already holds as many open uploads (or reserved bytes) as
    /// it may: complete or abort one first.
    #[error("too many open uploads for this client; complete or abort one first")]
    UploadQuotaExceeded,
    /// The server already holds as many open uploads (or reserved bytes) as
    /// it may: retry later.
    #[error("the server holds too many open uploads; retry later")]
    UploadCapacityExceeded,
    /// This server has no relayer key (`EHR_RELAYER_KEY`): it does not post
    /// authorisations for patients.
    #[error("this server does not relay authorisations")]
    RelayNotConfigured,
    /// Anything else: details are logged, not answered.
    #[error("internal error")]
    Internal(String),
}

/// Declares, from one list of `Variant => STATUS` lines (one per server
/// variant), [`ApiError::code`] (the variant's name), [`ApiError::status`]
/// (the `StatusCode` constant named) and [`ApiError::CODES`]: one list, so a
/// code cannot get a status in one place and be forgotten in another. Both
/// matches are exhaustive, so a variant missing from the list (or listed but
/// not declared) does not compile. `Protocol` is not listed: it forwards to
/// the core crate's code and to [`protocol_status`].
macro_rules! server_codes {
    ( $( $variant:ident => $status:ident, )* ) => {
        impl ApiError {
            /// The server's own codes, in the list's order (`server/README.md`,
            /// "Refusals"); protocol failures carry [`ehrchain::Error::CODES`].
            pub const CODES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The HTTP status.
            pub fn status(&self) -> StatusCode {
                match self {
                    ApiError::Protocol(e) => protocol_status(e),
                    $( ApiError::$variant { .. } => StatusCode::$status, )*
                }
            }

            /// The stable code: the variant's name, or the core crate's code
            /// for [`ApiError::Protocol`].
            pub fn code(&self) -> &'static str {
                match self {
                    ApiError::Protocol(e) => e.code(),
                    $( ApiError::$variant { .. } => stringify!($variant), )*
                }
            }
        }
    };
}

// The one list: every server variant, its code (its name) and its status.
server_codes! {
    MalformedJson => BAD_REQUEST,
    InvalidField => BAD_REQUEST,
    PayloadTooLarge => PAYLOAD_TOO_LARGE,
    NotFound => NOT_FOUND,
    MethodNotAllowed => METHOD_NOT_ALLOWED,
    RateLimited => TOO_MANY_REQUESTS,
    RequestTimeout => REQUEST_TIMEOUT,
    BodyIncomplete => BAD_REQUEST,
    Unauthorized => UNAUTHORIZED,
    UploadNotFound => NOT_FOUND,
    UploadCompleted => CONFLICT,
    UploadBusy => CONFLICT,
    UploadIncomplete => CONFLICT,
    InvalidPartNumber => BAD_REQUEST,
    PartTooLarge => PAYLOAD_TOO_LARGE,
    PartSizeMismatch => BAD_REQUEST,
    RecordTooLarge => PAYLOAD_TOO_LARGE,
    InvalidPartSize => BAD_REQUEST,
    RecordExists => CONFLICT,
    RecordRetired => GONE,
    FilingNotAuthorised => FORBIDDEN,
    RecordNotFound => NOT_FOUND,
    IndexExists => CONFLICT,
    UnknownIndex => NOT_FOUND,
    Replay => CONFLICT,
    RecordDeletedOnChain => GONE,
    RecordNotAnchored => CONFLICT,
    NotDeletedOnChain => CONFLICT,
    ChainNotConfigured => SERVICE_UNAVAILABLE,
    AccessNotConfigured => SERVICE_UNAVAILABLE,
    InvalidToken => FORBIDDEN,
    TokenExpired => FORBIDDEN,
    RangeNotSatisfiable => RANGE_NOT_SATISFIABLE,
    StorageFull => INSUFFICIENT_STORAGE,
    UploadQuotaExceeded => TOO_MANY_REQUESTS,
    UploadCapacityExceeded => SERVICE_UNAVAILABLE,
    RelayNotConfigured => SERVICE_UNAVAILABLE,
    Internal => INTERNAL_SERVER_ERROR,
}

impl ApiError {
    /// The answered message: the error's text, except for server-side
    /// failures, whose details stay in the log.
    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error".to_owned(),
            // The registry's refusal is public on chain anyway.
            ApiError::Protocol(e @ ehrchain::Error::Reverted { .. }) => e.to_string(),
            ApiError::Protocol(e) if protocol_status(e).is_server_error() => {
                "the chain could not be reached or answered wrongly; try again later".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// Status of a core-crate error.
fn protocol_status(e: &ehrchain::Error) -> StatusCode {
    use ehrchain::Error as E;
    match e {
        E::CertificateWrongAuthority
        | E::CertificateNotYetValid
        | E::CertificateExpired
        | E::CertificateRevoked
        | E::CertificateUnknown
        | E::CertificateMismatch
        | E::RequestWrongSigner
        | E::RequestWrongHospital
        | E::RequestExpired
        | E::RequestExpiryTooFar
        | E::CertificateWrongHospital
        | E::WrongSigner
        | E::AnchorNotCertified
        | E::AnchorMismatch
        | E::GrantForged => StatusCode::FORBIDDEN,
        E::RecordNotAnchored => StatusCode::CONFLICT,
        E::RecordDeleted => StatusCode::GONE,
        E::HashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        E::RpcUnreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        E::Rpc { .. }
        | E::AbiDecode { .. }
        | E::Reverted { .. }
        | E::WrongContract
        | E::EventNotFound
        | E::TransactionNotFound => StatusCode::BAD_GATEWAY,
        E::Rng | E::OutOfMemory { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::HashMismatch => ApiError::Protocol(ehrchain::Error::HashMismatch),
            StoreError::NotFound => ApiError::RecordNotFound,
            StoreError::FilingConflict => ApiError::RecordExists,
            ref full if full.is_storage_full() => {
                crate::metrics::storage_error();
                ApiError::StorageFull
            }
            other => {
                if matches!(other, StoreError::Io(_) | StoreError::Db(_)) {
                    crate::metrics::storage_error();
                }
                ApiError::Internal(other.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        if status.is_server_error() {
            let detail = match &self {
                ApiError::Internal(d) => d.clone(),
                other => other.to_string(),
            };
            tracing::error!(code, detail = %detail, "request failed");
        }
        let body = json!({ "code": code, "message": self.public_message() });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from((*retry_after_secs).max(1)),
                );
            }
            ApiError::RangeNotSatisfiable { len } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    headers.insert(header::CONTENT_RANGE, v);
                }
            }
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"ehrchain uploads\""),
                );
            }
            _ => {}
        }
        response.extensions_mut().insert(ErrorCode(code));
        response
    }
}

/// `Result` of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_distinct_per_refusal() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ehrchain::Error::CertificateExpired.into(),
                403,
                "CertificateExpired",
            ),
            (ehrchain::Error::HashMismatch.into(), 422, "HashMismatch"),
            (ApiError::Replay, 409, "Replay"),
            (ApiError::UnknownIndex, 404, "UnknownIndex"),
            (ApiError::RecordDeletedOnChain, 410, "RecordDeletedOnChain"),
            (ApiError::PartTooLarge { expected: 1 }, 413, "PartTooLarge"),
            (
                ApiError::RateLimited {
                    retry_after_secs: 1,
                },
                429,
                "RateLimited",
            ),
            (ApiError::RelayNotConfigured, 503, "RelayNotConfigured"),
            (
                ehrchain::Error::RpcUnreachable { reason: "x".into() }.into(),
                503,
                "RpcUnreachable",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status().as_u16(), e.code()), (status, code));
        }
        let internal = ApiError::Internal("disk /secret/path failed".into());
        assert_eq!(internal.public_message(), "internal error");
    }
}
