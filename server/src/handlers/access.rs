//! `POST /v1/access`: the doctor's signed access request (`docs/PROTOCOL.md
//! §9`, the paper's Alg 5 steps 9–12) in exchange for `{z, k, eh, size}` and
//! a download capability.
//!
//! Checks, in this order, each refusal with its own code:
//! 1. the JSON parses in canonical form (`MalformedJson`, `CertificateMalformed`, …);
//! 2. every offline check ([`SignedRequest::verify_offline`]): the
//!    certificate's authority and validity period (`CertificateWrongAuthority`,
//!    `CertificateNotYetValid`, `CertificateExpired`), the signer, hospital,
//!    expiry and TTL (`RequestWrongSigner`, `RequestWrongHospital`,
//!    `RequestExpired`, `RequestExpiryTooFar`); done first so that only
//!    genuine, correctly signed requests cost a chain read;
//! 3. the certificate on chain by serial: registered (`CertificateUnknown`),
//!    for the same doctor (`CertificateMismatch`), not revoked (`CertificateRevoked`);
//! 4. the nonce, unused by this doctor until the request's expiry (`Replay`);
//!    a request that got this far consumes its nonce whatever follows;
//! 5. `X` is filed (`UnknownIndex`);
//! 6. the record is anchored, not marked deleted, and was anchored by a
//!    doctor certified at the time (`RecordNotAnchored`,
//!    `RecordDeletedOnChain`, `AnchorNotCertified`).
//!
//! Every decision on a request that passed step 2 is appended to the audit
//! trail before it is answered; earlier refusals (malformed, forged,
//! expired, for another hospital) are in the request log only, so that
//! strangers' junk costs no fsync.

use axum::body::Body;
use axum::extract::State;
use axum::Extension;
use axum::Json;
use ehrchain::request::SignedRequest;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{hx, read_json_bytes};
use crate::app::{now, AppState, ClientIp, Shared};
use crate::audit::{AuditEvent, DecisionWrite};
use crate::error::{ApiError, ApiResult};
use crate::store::StoreError;

/// Domain label of the stored nonce key `SHA-256(label ‖ doctor ‖ nonce)`.
const NONCE_KEY_LABEL: &[u8] = b"ehrchain-server/v1/nonce";

/// `POST /v1/access`: the body is read on the async side, then the whole
/// decision and its audit entry run in one blocking task (one thread hop per
/// request: under load the hops, not the checks, were the server's largest
/// cost after the signature recoveries).
pub async fn access(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let event = AuditEvent {
        event: "access",
        client: Some(ip),
        ..AuditEvent::default()
    };
    let text = match read_json_bytes(&state, body).await {
        Ok(text) => text,
        Err(e) => {
            state.metrics.decision(e.code());
            return Err(e);
        }
    };
    state
        .blocking(move |s| decide_and_audit(s, &text, event))
        .await
        .map(Json)
}

/// Decides one request and, once it passed every offline check, puts the
/// decision on record before it is answered. Requests refused before their
/// signature checked out (malformed, forged, expired) are only in the
/// request log: a stranger's junk costs no fsync.
fn decide_and_audit(s: &Shared, text: &str, mut event: AuditEvent) -> Result<Value, ApiError> {
    let mut audit = Audit::Unsigned;
    let result = decide(s, text, &mut event, &mut audit);
    (event.decision, event.code) = decided(result.as_ref());
    s.metrics.decision(event.code);
    if audit == Audit::Due {
        s.audit
            .append(&event, now())
            .map_err(|e| ApiError::Internal(format!("audit log: {e}")))?;
    }
    result
}

/// `(decision, code)` of an audit entry for `result`.
fn decided<T>(result: Result<T, &ApiError>) -> (&'static str, &'static str) {
    match result {
        Ok(_) => ("granted", "Ok"),
        Err(e) => ("refused", e.code()),
    }
}

/// Whether a decision still needs its audit entry.
#[derive(Debug, PartialEq, Eq)]
enum Audit {
    /// Refused before its signatures checked out: only in the request log.
    Unsigned,
    /// Signed: its entry is appended once it is decided.
    Due,
    /// Its entry was committed with its nonce (PostgreSQL).
    Written,
}

/// Decides one request; sets `audit` to [`Audit::Due`] once it passed
/// every offline check (from then on, the decision is audited), or to
/// [`Audit::Written`] once its entry is committed with its nonce.
fn decide(
    s: &Shared,
    text: &str,
    event: &mut AuditEvent,
    audit: &mut Audit,
) -> Result<Value, ApiError> {
    let settings = &s.settings;
    let (Some(authority), Some(hospital)) = (settings.authority, settings.hospital.as_deref())
    else {
        return Err(ApiError::AccessNotConfigured);
    };
    let chain = s.chain.as_ref().ok_or(ApiError::ChainNotConfigured)?;
    let request = SignedRequest::from_json(text)?;
    let doctor = request.certificate.body.doctor;
    let serial = request.certificate.body.serial;
    event.doctor = Some(doctor.to_checksum());
    event.serial = Some(serial);
    event.x = Some(request.request.w);

    // Every offline check first: only a genuine, correctly signed request
    // for this hospital costs a chain read.
    let unconfirmed = request.verify_offline_using(
        &s.issuers,
        &authority,
        hospital,
        now(),
        settings.max_request_ttl,
    )?;
    *audit = Audit::Due;
    let nonce_key: [u8; 32] = Sha256::new()
        .chain_update(NONCE_KEY_LABEL)
        .chain_update(doctor.0)
        .chain_update(request.request.nonce)
        .finalize()
        .into();
    let (w, expiry) = (request.request.w, request.request.expiry);
    // One block-number read per decision; every status at that block, or
    // at a newer one the server read meanwhile (src/chainstate.rs).
    let block = chain.head()?;
    unconfirmed.confirm(&chain.certificate_status_at(serial, block)?)?;
    // The lookups first, then the nonce and the token in one write: the
    // outcome is as if the nonce were consumed first (a used nonce is
    // `Replay` whatever the lookups found; a fresh one is consumed whatever
    // follows), with one durable write per decision instead of two.
    let looked_up = (|| {
        let (entry, record) = s.meta.filed(&w)?.ok_or(ApiError::UnknownIndex)?;
        let record = super::certified_anchor_at(chain, &entry.eh, block)
            .and_then(|_| record.ok_or(ApiError::RecordNotFound));
        Ok::<_, ApiError>((entry, record))
    })();
    // A download token only for a decision that grants.
    let mut token = [0u8; 32];
    let grant = match &looked_up {
        Ok((entry, Ok(_))) => {
            getrandom::getrandom(&mut token)
                .map_err(|_| ApiError::Internal("no randomness".to_owned()))?;
            Some((<[u8; 32]>::from(Sha256::digest(token)), entry.eh))
        }
        _ => None,
    };
    let fresh = if s.audit.shares_database(s.meta.postgres_pool()) {
        // One transaction for the nonce, the token and the entry: the entry
        // as the decision stands if the nonce is fresh (the trail turns it
        // into the refusal a used nonce or an unstored token gets).
        let mut entry = event.clone();
        if let Ok((found, _)) = &looked_up {
            entry.eh = Some(found.eh);
        }
        (entry.decision, entry.code) = decided(looked_up.as_ref().and_then(|(_, r)| r.as_ref()));
        let write = DecisionWrite {
            nonce_key,
            expiry,
            token: grant,
            // What `written`'s error becomes below (`StoreError::Db`).
            error_code: ApiError::Internal(String::new()).code(),
        };
        let written = s
            .audit
            .append_decision(&entry, now(), write)
            .map_err(|e| ApiError::Internal(format!("audit log: {e}")))?;
        *audit = Audit::Written;
        written.map_err(StoreError::Db)?
    } else {
        let grant = grant.as_ref().map(|(hash, eh)| (hash, eh));
        s.meta.consume_nonce_with_token(&nonce_key, expiry, grant)?
    };
    if !fresh {
        return Err(ApiError::Replay);
    }
    let (entry, record) = looked_up?;
    event.eh = Some(entry.eh);
    let record = record?;
    Ok(json!({
        "z": hx(&entry.z),
        "k": hx(&entry.k),
        "eh": hx(&entry.eh),
        "size": record.size,
        "expiry": expiry,
        "download": format!("/v1/records/{}?token={}", hx(&entry.eh), hex::encode(token)),
    }))
}
