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
use crate::app::{now, AppState, ClientIp};
use crate::audit::AuditEvent;
use crate::error::{ApiError, ApiResult};

/// Domain label of the stored nonce key `SHA-256(label ‖ doctor ‖ nonce)`.
const NONCE_KEY_LABEL: &[u8] = b"ehrchain-server/v1/nonce";

/// `POST /v1/access`.
pub async fn access(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let mut event = AuditEvent {
        event: "access",
        client: Some(ip),
        ..AuditEvent::default()
    };
    let mut signed = false;
    let result = decide(&state, body, &mut event, &mut signed).await;
    (event.decision, event.code) = match &result {
        Ok(_) => ("granted", "Ok"),
        Err(e) => ("refused", e.code()),
    };
    state.metrics.decision(event.code);
    // No decision is answered unless it is on record. Requests refused
    // before their signature checked out (malformed, forged, expired) are
    // only in the request log: a stranger's junk costs no fsync.
    if signed {
        state.audit(event).await?;
    }
    result.map(Json)
}

/// Decides one request; sets `signed` once it passed every offline check
/// (from then on, the decision is audited).
async fn decide(
    state: &AppState,
    body: Body,
    event: &mut AuditEvent,
    signed: &mut bool,
) -> Result<Value, ApiError> {
    let settings = &state.settings;
    let (Some(authority), Some(hospital)) = (settings.authority, settings.hospital.clone()) else {
        return Err(ApiError::AccessNotConfigured);
    };
    let chain = state.chain()?;
    let text = read_json_bytes(state, body).await?;
    let request = SignedRequest::from_json(&text)?;
    let doctor = request.certificate.body.doctor;
    let serial = request.certificate.body.serial;
    event.doctor = Some(doctor.to_checksum());
    event.serial = Some(serial);
    event.x = Some(request.request.w);

    let t = now();
    // Every offline check first: only a genuine, correctly signed request
    // for this hospital costs a chain read.
    let unconfirmed = request.verify_offline_using(
        &state.issuers,
        &authority,
        &hospital,
        t,
        settings.max_request_ttl,
    )?;
    *signed = true;
    let nonce_key: [u8; 32] = Sha256::new()
        .chain_update(NONCE_KEY_LABEL)
        .chain_update(request.certificate.body.doctor.0)
        .chain_update(request.request.nonce)
        .finalize()
        .into();
    let (w, expiry) = (request.request.w, request.request.expiry);
    // One block-number read per decision; every status at that block, or
    // at a newer one the server read meanwhile (src/chainstate.rs).
    let status = state
        .blocking(move |_| {
            let block = chain.head()?;
            Ok((block, chain.certificate_status_at(serial, block)?))
        })
        .await;
    let (block, status) = status?;
    unconfirmed.confirm(&status)?;
    let chain = state.chain()?;
    let (eh, decided) = state
        .blocking(move |s| {
            if !s.meta.consume_nonce(&nonce_key, expiry)? {
                return Ok((None, Err(ApiError::Replay)));
            }
            let Some(entry) = s.meta.index(&w)? else {
                return Ok((None, Err(ApiError::UnknownIndex)));
            };
            let eh = entry.eh;
            let rest = (|| -> Result<_, ApiError> {
                super::certified_anchor_at(&chain, &eh, block)?;
                let record = s.meta.record(&eh)?.ok_or(ApiError::RecordNotFound)?;
                let mut token = [0u8; 32];
                getrandom::getrandom(&mut token)
                    .map_err(|_| ApiError::Internal("no randomness".to_owned()))?;
                s.meta
                    .insert_token(&Sha256::digest(token).into(), &eh, expiry)?;
                Ok((entry, record, token))
            })();
            Ok((Some(eh), rest))
        })
        .await?;
    event.eh = eh;
    let (entry, record, token) = decided?;
    let eh = entry.eh;
    Ok(json!({
        "z": hx(&entry.z),
        "k": hx(&entry.k),
        "eh": hx(&eh),
        "size": record.size,
        "expiry": expiry,
        "download": format!("/v1/records/{}?token={}", hx(&eh), hex::encode(token)),
    }))
}
