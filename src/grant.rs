//! Authorisation of a doctor by the patient (the paper's Alg 5 steps 1–8),
//! signed by the patient and padded to one size.
//!
//! The patient, holding `k_t` for a record with context `(H1, T1)`, anchored
//! as `eh` with the opening `(salt, Ty1)` of its anchor commitment
//! ([`crate::anchor`]), grants access to the doctor whose protocol key is `A`:
//!
//! ```text
//! σ      = EIP-712 signature by the patient's account over
//!          Grant(bytes protocolKey = A, bytes32 eh, string hospital = H1, uint64 recordTime = T1, bytes32 x = X)
//! A_pass = 0x02 ‖ u8 len(H1) ‖ H1 ‖ T1 (u64 BE) ‖ k_t (32) ‖ eh (32) ‖ salt (32) ‖ u8 len(Ty1) ‖ Ty1 ‖ σ (65)
//!          ‖ zero bytes up to 512 bytes
//! r      random scalar            R  = r·G          (33 bytes, compressed)
//! vt     = SHA-256("ehrchain/v1/view-tag" ‖ compressed(r·A))[0]   (1 byte, the view tag)
//! ST     = h1(r·A)·G              (33 bytes, compressed; the stealth tag)
//! C1     = ECIES(A, A_pass)       (eciesjs format, always 97 + 512 = 609 bytes)
//! Trans  = (vt, R, ST, C1)        posted to the registry's `authorise`
//! ```
//!
//! The doctor tests each posted `Trans` by computing `a·R` once (one
//! variable-base scalar multiplication) and comparing its view tag with
//! `vt`: 255 of 256 authorisations for other keys stop there. Only on a tag
//! match does he compute `h1(a·R)·G` (one fixed-base multiplication) and
//! compare it with `ST`, which is the proof: the tag is a filter, and an
//! authorisation whose tag matches but whose `ST` does not is not his
//! ([`Scanner::matches`]). He opens `C1` only on a match
//! ([`Scanner::open`]): the signature recovers the patient's address. He then
//! reads the anchor of `eh` and keeps the grant only if the anchor was made by
//! a certified doctor and its commitment opens for that patient with the
//! pass's salt and type ([`OpenedGrant::confirm`]); anything else is
//! [`Error::GrantForged`]. A stranger can post a `Trans` to anyone's public
//! protocol key, but cannot sign for the patient a certified doctor anchored
//! the record for, and a doctor who forwards a pass to a colleague forwards a
//! signature over his own key, not the colleague's.
//!
//! Nothing in `Trans` names the doctor or the patient, every `C1` has the same
//! length whatever the hospital's name, and two grants to the same doctor
//! share no field. The *sender* of the transaction is visible on chain,
//! though: a patient who posts every grant from one account links them (the
//! paper's flaw 6); post from a fresh one-time account or through a relayer.

use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::BatchNormalize;
use k256::{NonZeroScalar, ProjectivePoint};
use serde_json::json;
use zeroize::Zeroizing;

use crate::account::{Address, PublicKey, SecretKey};
use crate::anchor::{AnchorOpening, CertifiedAnchor};
use crate::ecies;
use crate::eip712::{Member, TypedData};
use crate::error::{Error, Result};
use crate::hash::{h1, h1_compressed, view_tag, view_tag_compressed};
use crate::mask::{MaskKey, RecordContext};
use crate::signature::Signature;

/// Version byte of the access pass encoding (2: signed by the patient, padded).
pub const PASS_VERSION: u8 = 0x02;

/// Length of every encoded access pass: the longest one (a 255-byte hospital
/// name and a 32-byte record type: 459 bytes) padded with zeros.
pub const PASS_LEN: usize = 512;

/// Length of every `C1` the registry accepts: ECIES of a padded pass.
pub const C1_LEN: usize = ecies::OVERHEAD + PASS_LEN;

/// The EIP-712 typed data of a grant of the record `(context, eh)` with
/// index `x` to the doctor's protocol key `doctor`:
/// `Grant(bytes protocolKey, bytes32 eh, string hospital, uint64 recordTime, bytes32 x)`.
pub fn grant_typed_data(
    doctor: &PublicKey,
    eh: &[u8; 32],
    context: &RecordContext,
    x: &[u8; 32],
) -> TypedData {
    crate::cert::typed_data(
        "Grant",
        vec![
            Member::new("protocolKey", "bytes"),
            Member::new("eh", "bytes32"),
            Member::new("hospital", "string"),
            Member::new("recordTime", "uint64"),
            Member::new("x", "bytes32"),
        ],
        json!({
            "protocolKey": crate::hex::encode_prefixed(&doctor.to_compressed()),
            "eh": crate::hex::encode_prefixed(eh),
            "hospital": context.hospital(),
            "recordTime": context.time(),
            "x": crate::hex::encode_prefixed(x),
        }),
    )
}

/// What the patient grants: everything of the pass but her signature.
#[derive(Debug, Clone)]
pub struct GrantTerms {
    /// The protocol key `A` of the doctor granted (not encoded in the pass:
    /// it is the key the pass is sealed to).
    pub doctor: PublicKey,
    /// The record's context `(H1, T1)`.
    pub context: RecordContext,
    /// The patient's per-record secret `k_t`.
    pub mask_key: MaskKey,
    /// The record's ciphertext hash, as anchored.
    pub eh: [u8; 32],
    /// The opening of the record's anchor commitment.
    pub opening: AnchorOpening,
}

impl GrantTerms {
    /// The EIP-712 typed data the patient signs (`eth_signTypedData_v4`):
    /// `Grant(bytes protocolKey, bytes32 eh, string hospital, uint64 recordTime, bytes32 x)`.
    pub fn typed_data(&self) -> TypedData {
        grant_typed_data(
            &self.doctor,
            &self.eh,
            &self.context,
            &self.mask_key.index(&self.context),
        )
    }

    /// Signs the terms with the patient's account key.
    ///
    /// # Errors
    /// As [`TypedData::sign`].
    pub fn sign(self, patient: &SecretKey) -> Result<AccessPass> {
        let signature = self.typed_data().sign(patient)?;
        Ok(AccessPass {
            terms: self,
            signature,
        })
    }

    /// Attaches a signature made elsewhere (a wallet's
    /// `eth_signTypedData_v4` over [`GrantTerms::typed_data`]), checking
    /// that it is `patient`'s.
    ///
    /// # Errors
    /// [`Error::WrongSigner`] if it recovers another account; signature errors.
    pub fn with_signature(self, signature: Signature, patient: &Address) -> Result<AccessPass> {
        if self.typed_data().recover(&signature)? != *patient {
            return Err(Error::WrongSigner);
        }
        Ok(AccessPass {
            terms: self,
            signature,
        })
    }
}

/// `A_pass`: the signed terms, as sealed in `C1`.
#[derive(Debug, Clone)]
pub struct AccessPass {
    /// What is granted.
    pub terms: GrantTerms,
    /// The patient's EIP-712 signature over [`GrantTerms::typed_data`].
    pub signature: Signature,
}

impl AccessPass {
    /// The fixed-size encoding ([`PASS_LEN`] bytes, zero padded).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let t = &self.terms;
        let mut out = Zeroizing::new(Vec::with_capacity(PASS_LEN));
        out.push(PASS_VERSION);
        out.extend_from_slice(&t.context.encode());
        out.extend_from_slice(t.mask_key.to_bytes().as_slice());
        out.extend_from_slice(&t.eh);
        out.extend_from_slice(&t.opening.encode());
        out.extend_from_slice(&self.signature.to_bytes());
        out.resize(PASS_LEN, 0);
        out
    }

    /// Parses [`AccessPass::encode`] for the doctor key `doctor` it was sealed to.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] for a wrong length, version, field or
    /// non-zero padding; [`Error::GrantForged`] for bytes that are no
    /// low-s signature.
    pub fn decode(bytes: &[u8], doctor: PublicKey) -> Result<Self> {
        let what = "access pass";
        let bad = |reason| Error::MalformedEncoding { what, reason };
        if bytes.len() != PASS_LEN {
            return Err(bad("must be exactly 512 bytes"));
        }
        let rest = match bytes.split_first() {
            Some((&PASS_VERSION, rest)) => rest,
            _ => return Err(bad("unknown version")),
        };
        let (context, rest) = RecordContext::decode_prefix(what, rest)?;
        if rest.len() < 64 {
            return Err(bad("k_t or eh truncated"));
        }
        let (k_t, rest) = rest.split_at(32);
        let (eh, rest) = rest.split_at(32);
        let (opening, rest) = AnchorOpening::decode_prefix(what, rest)?;
        if rest.len() < 65 {
            return Err(bad("signature truncated"));
        }
        let (sig, padding) = rest.split_at(65);
        if padding.iter().any(|b| *b != 0) {
            return Err(bad("padding is not zero"));
        }
        let signature = Signature::from_bytes(sig).map_err(|_| Error::GrantForged)?;
        let mut hash = [0u8; 32];
        hash.copy_from_slice(eh);
        Ok(AccessPass {
            terms: GrantTerms {
                doctor,
                context,
                mask_key: MaskKey::from_bytes(k_t)?,
                eh: hash,
                opening,
            },
            signature,
        })
    }

    /// The account that signed the pass.
    ///
    /// # Errors
    /// [`Error::GrantForged`] if the signature recovers no account.
    pub fn signer(&self) -> Result<Address> {
        self.terms
            .typed_data()
            .recover(&self.signature)
            .map_err(|_| Error::GrantForged)
    }
}

/// A pass opened by its doctor, its signer known, its anchor not yet read.
#[derive(Debug)]
#[must_use = "a grant is genuine only once its anchor confirms it"]
pub struct OpenedGrant {
    /// The pass.
    pub pass: AccessPass,
    /// The account that signed it (the patient, if the anchor agrees).
    pub patient: Address,
}

impl OpenedGrant {
    /// The record hash whose `recordStatus` (and then the anchoring serial's
    /// `certificateStatus`) to read.
    pub fn eh(&self) -> [u8; 32] {
        self.pass.terms.eh
    }

    /// Completes the check with the record's anchor, confirmed by
    /// [`CertifiedAnchor::confirm`]: the anchor is this pass's `eh` and
    /// `T1`, and its commitment opens for the signer with the pass's salt
    /// and type.
    ///
    /// # Errors
    /// [`Error::GrantForged`].
    pub fn confirm(self, anchor: &CertifiedAnchor) -> Result<Grant> {
        let t = &self.pass.terms;
        if !anchor.binds(&t.eh, t.context.time(), &t.opening, &self.patient) {
            return Err(Error::GrantForged);
        }
        Ok(Grant {
            pass: self.pass,
            patient: self.patient,
            anchor: anchor.clone(),
        })
    }
}

/// A genuine grant: signed by the patient a certified doctor anchored the
/// record for.
#[derive(Debug)]
pub struct Grant {
    /// The pass.
    pub pass: AccessPass,
    /// The patient's account.
    pub patient: Address,
    /// The record's anchor.
    pub anchor: CertifiedAnchor,
}

/// `Trans = (vt, R, ST, C1)`, as posted to and read from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    /// The view tag `vt = SHA-256("ehrchain/v1/view-tag" ‖ compressed(r·A))[0]`
    /// ([`crate::hash::view_tag`]): a one-byte filter, never a proof.
    pub view_tag: u8,
    /// `R = r·G`, compressed.
    pub r: [u8; 33],
    /// The stealth tag `ST = h1(r·A)·G`, compressed.
    pub st: [u8; 33],
    /// `C1 = ECIES(A, A_pass)`.
    pub c1: Vec<u8>,
}

fn compressed(point: &ProjectivePoint) -> [u8; 33] {
    let mut out = [0u8; 33];
    out.copy_from_slice(point.to_affine().to_encoded_point(true).as_bytes());
    out
}

impl Authorisation {
    /// The patient's side: seals `pass` to the doctor it grants.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn create(pass: &AccessPass) -> Result<Self> {
        let doctor = &pass.terms.doctor;
        let r = SecretKey::generate()?;
        let shared = doctor.as_projective() * *r.scalar();
        let tag = ProjectivePoint::mul_by_generator(&h1(&shared)?);
        Ok(Authorisation {
            view_tag: view_tag(&shared),
            r: r.public_key().to_compressed(),
            st: compressed(&tag),
            c1: ecies::seal(doctor, &pass.encode())?,
        })
    }

    /// `Trans` for `doctor` around any pass bytes, with caller-chosen `r`
    /// and ECIES randomness: for known-answer and failure vectors only
    /// (feature `kat`; reusing `r`, the ephemeral key or the nonce links
    /// grants and breaks ECIES).
    ///
    /// # Errors
    /// As [`ecies::seal_with`]; [`Error::OutOfRange`] if `h1` is zero.
    #[cfg(any(test, feature = "kat"))]
    pub fn seal_with(
        doctor: &PublicKey,
        pass: &[u8],
        r: &SecretKey,
        ephemeral: &SecretKey,
        nonce: &[u8; 16],
    ) -> Result<Self> {
        let shared = doctor.as_projective() * *r.scalar();
        let tag = ProjectivePoint::mul_by_generator(&h1(&shared)?);
        Ok(Authorisation {
            view_tag: view_tag(&shared),
            r: r.public_key().to_compressed(),
            st: compressed(&tag),
            c1: ecies::seal_with(doctor, pass, ephemeral, nonce)?,
        })
    }

    /// Parses the four fields as read from an `Authorised` event. Every
    /// byte is a valid view tag (the registry refuses none).
    ///
    /// # Errors
    /// As the registry refuses them: [`Error::InvalidLength`] unless `r` and
    /// `st` are 33 bytes and `c1` is [`C1_LEN`] (609) bytes;
    /// [`Error::InvalidPublicKey`] unless `r` and `st` start with `02`/`03`.
    pub fn from_parts(view_tag: u8, r: &[u8], st: &[u8], c1: &[u8]) -> Result<Self> {
        if c1.len() != C1_LEN {
            return Err(Error::InvalidLength {
                what: "C1",
                expected: "609",
                actual: c1.len(),
            });
        }
        let r: [u8; 33] = crate::hex::fixed("R", "33", r)?;
        let st: [u8; 33] = crate::hex::fixed("ST", "33", st)?;
        for (what, p) in [("R", &r), ("ST", &st)] {
            if !matches!(p[0], 2 | 3) {
                return Err(Error::InvalidPublicKey { what });
            }
        }
        Ok(Authorisation {
            view_tag,
            r,
            st,
            c1: c1.to_vec(),
        })
    }
}

/// The doctor's side: a protocol secret `a` ready to test and open authorisations.
#[derive(Debug)]
pub struct Scanner {
    secret: SecretKey,
}

impl Scanner {
    /// A scanner for the doctor's protocol secret `a`.
    pub fn new(secret: SecretKey) -> Self {
        Scanner { secret }
    }

    /// The protocol public key `A` this scanner finds grants for.
    pub fn public_key(&self) -> PublicKey {
        self.secret.public_key()
    }

    /// Whether `auth` is addressed to this key: the view tag of `a·R` is
    /// `vt`, and then `h1(a·R)·G == ST`. A wrong view tag, a malformed `R`
    /// (not a point) or a wrong `ST` simply does not match.
    pub fn matches(&self, auth: &Authorisation) -> bool {
        self.matches_parts(auth.view_tag, &auth.r, &auth.st)
    }

    /// [`Scanner::matches`] on a view tag and raw `R` and `ST` bytes, without
    /// copying `C1`: one variable-base multiplication `a·R`, then the view
    /// tag (255 of 256 foreign authorisations stop here), and only on a tag
    /// match the fixed-base `h1(a·R)·G` and its comparison with `ST`.
    pub fn matches_parts(&self, view_tag: u8, r: &[u8], st: &[u8]) -> bool {
        let Ok(r) = PublicKey::from_sec1("R", r) else {
            return false;
        };
        let a: NonZeroScalar = self.secret.scalar();
        let shared = compressed(&(r.as_projective() * *a));
        if view_tag_compressed(&shared) != view_tag {
            return false;
        }
        let Ok(k) = h1_compressed(&shared) else {
            return false;
        };
        compressed(&ProjectivePoint::mul_by_generator(&k)).as_slice() == st
    }

    /// The first step of [`Scanner::matches`] for many authorisations at
    /// once: for each `(vt, R)`, whether the view tag of `a·R` is `vt`.
    /// The points `a·R` are brought to affine form together (one field
    /// inversion for the whole batch instead of one each). An `R` that is
    /// not a point gives `false`. A `true` is only a candidate: it must
    /// still pass [`Scanner::matches`] (the stealth tag `ST`).
    pub fn view_tags_match(&self, probes: &[(u8, [u8; 33])]) -> Vec<bool> {
        let a: NonZeroScalar = self.secret.scalar();
        let mut shared = Vec::with_capacity(probes.len());
        let mut slots = Vec::with_capacity(probes.len());
        for (i, (_, r)) in probes.iter().enumerate() {
            // a·R is never the identity for a point R (prime order, a ≠ 0),
            // so no z is zero in the batch inversion.
            if let Ok(r) = PublicKey::from_sec1("R", r) {
                shared.push(r.as_projective() * *a);
                slots.push(i);
            }
        }
        let mut out = vec![false; probes.len()];
        if shared.is_empty() {
            // k256's batch inversion does not take an empty batch.
            return out;
        }
        for (i, point) in slots
            .into_iter()
            .zip(<ProjectivePoint as BatchNormalize<[ProjectivePoint]>>::batch_normalize(&shared))
        {
            out[i] = view_tag_compressed(point.to_encoded_point(true).as_bytes()) == probes[i].0;
        }
        out
    }

    /// Opens an authorisation addressed to this key and recovers its signer.
    /// The grant is genuine only after [`OpenedGrant::confirm`].
    ///
    /// # Errors
    /// [`Error::NotForThisKey`] if the view tag or the stealth tag does not
    /// match; ECIES errors if `C1`
    /// does not decrypt; [`Error::MalformedEncoding`] for a bad pass;
    /// [`Error::GrantForged`] for a signature that recovers no account.
    pub fn open(&self, auth: &Authorisation) -> Result<OpenedGrant> {
        if !self.matches(auth) {
            return Err(Error::NotForThisKey);
        }
        let plain = Zeroizing::new(ecies::open(&self.secret, &auth.c1)?);
        let pass = AccessPass::decode(&plain, self.public_key())?;
        let patient = pass.signer()?;
        Ok(OpenedGrant { pass, patient })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchor::RecordType;
    use crate::chain::registry::{CertificateStatus, RecordStatus};

    const DOCTOR: Address = Address([5; 20]);

    struct World {
        patient: SecretKey,
        doctor_b: SecretKey,
        pass: AccessPass,
        anchor: CertifiedAnchor,
    }

    fn world() -> World {
        let patient = SecretKey::generate().unwrap();
        let doctor_b = SecretKey::generate().unwrap();
        let opening = AnchorOpening::generate(RecordType::new("lab").unwrap()).unwrap();
        let terms = GrantTerms {
            doctor: doctor_b.public_key(),
            context: RecordContext::new("General Hospital", 1_700_000_000).unwrap(),
            mask_key: MaskKey::generate().unwrap(),
            eh: [3; 32],
            opening: opening.clone(),
        };
        let record = RecordStatus {
            anchored: true,
            anchored_by: DOCTOR,
            serial: 7,
            anchored_at: 150,
            commitment: opening.commitment(&DOCTOR, &patient.public_key().address()),
            record_time: 1_700_000_000,
            deleted: false,
            deleted_at: 0,
        };
        let cert = CertificateStatus {
            doctor: DOCTOR,
            valid_from: 100,
            valid_until: 200,
            revoked: false,
            revoked_at: 0,
        };
        World {
            pass: terms.sign(&patient).unwrap(),
            anchor: CertifiedAnchor::confirm(&[3; 32], &record, &cert).unwrap(),
            patient,
            doctor_b,
        }
    }

    fn scanner(key: &SecretKey) -> Scanner {
        Scanner::new(SecretKey::from_bytes(key.to_bytes().as_slice()).unwrap())
    }

    #[test]
    fn the_granted_doctor_finds_opens_and_confirms_the_grant() {
        let w = world();
        let auth = Authorisation::create(&w.pass).unwrap();
        let s = scanner(&w.doctor_b);
        assert!(s.matches(&auth));
        let opened = s.open(&auth).unwrap();
        assert_eq!(opened.patient, w.patient.public_key().address());
        let grant = opened.confirm(&w.anchor).unwrap();
        assert_eq!(grant.pass.terms.context, w.pass.terms.context);
        assert_eq!(
            *grant.pass.terms.mask_key.to_bytes(),
            *w.pass.terms.mask_key.to_bytes()
        );
        assert_eq!(grant.anchor.doctor, DOCTOR);
    }

    #[test]
    fn another_doctor_neither_matches_nor_opens() {
        let w = world();
        let auth = Authorisation::create(&w.pass).unwrap();
        let c = scanner(&SecretKey::generate().unwrap());
        assert!(!c.matches(&auth));
        assert_eq!(c.open(&auth).err(), Some(Error::NotForThisKey));
    }

    #[test]
    fn two_grants_to_one_doctor_share_no_field_and_have_one_length() {
        let w = world();
        let (a, b) = (
            Authorisation::create(&w.pass).unwrap(),
            Authorisation::create(&w.pass).unwrap(),
        );
        assert_ne!(a.r, b.r);
        assert_ne!(a.st, b.st);
        assert_ne!(a.c1[..65], b.c1[..65]);
        assert_eq!((a.c1.len(), b.c1.len()), (C1_LEN, C1_LEN));
    }

    #[test]
    fn a_pass_is_padded_to_one_size_whatever_the_hospital_name() {
        let w = world();
        let mut long = w.pass.terms.clone();
        long.context = RecordContext::new(&"H".repeat(255), 1).unwrap();
        long.opening.record_type = RecordType::new(&"t".repeat(32)).unwrap();
        let long = long.sign(&w.patient).unwrap();
        assert_eq!(w.pass.encode().len(), PASS_LEN);
        assert_eq!(long.encode().len(), PASS_LEN);
        let back = AccessPass::decode(&long.encode(), w.doctor_b.public_key()).unwrap();
        assert_eq!(back.terms.context, long.terms.context);
        assert_eq!(back.signer().unwrap(), w.patient.public_key().address());
    }

    #[test]
    fn a_grant_signed_by_a_stranger_is_forged() {
        let w = world();
        let forged = w
            .pass
            .terms
            .clone()
            .sign(&SecretKey::generate().unwrap())
            .unwrap();
        let opened = scanner(&w.doctor_b)
            .open(&Authorisation::create(&forged).unwrap())
            .unwrap();
        assert_eq!(opened.confirm(&w.anchor).err(), Some(Error::GrantForged));
    }

    #[test]
    fn a_pass_forwarded_to_another_doctor_is_forged() {
        // Doctor B re-seals the patient's pass to doctor C: the signature
        // covers B's key, so C recovers another account and refuses it.
        let w = world();
        let c = SecretKey::generate().unwrap();
        let mut forwarded = w.pass.clone();
        forwarded.terms.doctor = c.public_key();
        let opened = scanner(&c)
            .open(&Authorisation::create(&forwarded).unwrap())
            .unwrap();
        assert_ne!(opened.patient, w.patient.public_key().address());
        assert_eq!(opened.confirm(&w.anchor).err(), Some(Error::GrantForged));
    }

    #[test]
    fn a_grant_pointing_at_another_anchor_or_time_is_forged() {
        let w = world();
        let opened = || {
            scanner(&w.doctor_b)
                .open(&Authorisation::create(&w.pass).unwrap())
                .unwrap()
        };
        let mut other = w.anchor.clone();
        other.eh = [4; 32];
        assert_eq!(opened().confirm(&other).err(), Some(Error::GrantForged));
        let mut other = w.anchor.clone();
        other.record_time += 1;
        assert_eq!(opened().confirm(&other).err(), Some(Error::GrantForged));
        let mut other = w.anchor.clone();
        other.doctor = Address([6; 20]);
        assert_eq!(opened().confirm(&other).err(), Some(Error::GrantForged));
    }

    #[test]
    fn a_wallet_signature_is_attached_only_for_its_patient() {
        let w = world();
        let sig = w.pass.terms.typed_data().sign(&w.patient).unwrap();
        let me = w.patient.public_key().address();
        assert!(w.pass.terms.clone().with_signature(sig, &me).is_ok());
        assert_eq!(
            w.pass
                .terms
                .clone()
                .with_signature(sig, &Address([1; 20]))
                .err(),
            Some(Error::WrongSigner)
        );
    }

    fn bad_pass(reason: &'static str) -> Option<Error> {
        Some(Error::MalformedEncoding {
            what: "access pass",
            reason,
        })
    }

    #[test]
    fn a_pass_of_another_length_is_refused() {
        let w = world();
        let enc = w.pass.encode();
        let key = w.doctor_b.public_key();
        assert_eq!(
            AccessPass::decode(&enc[..PASS_LEN - 1], key).err(),
            bad_pass("must be exactly 512 bytes")
        );
        assert_eq!(
            AccessPass::decode(&[], key).err(),
            bad_pass("must be exactly 512 bytes")
        );
    }

    #[test]
    fn a_pass_with_non_zero_padding_is_refused() {
        let w = world();
        let mut enc = w.pass.encode().to_vec();
        enc[PASS_LEN - 1] = 1;
        assert_eq!(
            AccessPass::decode(&enc, w.doctor_b.public_key()).err(),
            bad_pass("padding is not zero")
        );
    }

    #[test]
    fn a_pass_of_another_version_is_refused() {
        let w = world();
        let mut enc = w.pass.encode().to_vec();
        enc[0] = 1;
        assert_eq!(
            AccessPass::decode(&enc, w.doctor_b.public_key()).err(),
            bad_pass("unknown version")
        );
    }

    #[test]
    fn trans_parts_follow_the_registry_shape_rules() {
        let w = world();
        let auth = Authorisation::create(&w.pass).unwrap();
        assert_eq!(
            Authorisation::from_parts(auth.view_tag, &auth.r, &auth.st, &auth.c1).as_ref(),
            Ok(&auth)
        );
        let mut bad_r = auth.r;
        bad_r[0] = 4;
        assert_eq!(
            Authorisation::from_parts(auth.view_tag, &bad_r, &auth.st, &auth.c1),
            Err(Error::InvalidPublicKey { what: "R" })
        );
        for len in [C1_LEN - 1, C1_LEN + 1, 98, 1024] {
            assert_eq!(
                Authorisation::from_parts(auth.view_tag, &auth.r, &auth.st, &vec![0u8; len]),
                Err(Error::InvalidLength {
                    what: "C1",
                    expected: "609",
                    actual: len
                })
            );
        }
        let mut bad = auth.clone();
        bad.r[0] = 9;
        assert!(!scanner(&w.doctor_b).matches(&bad));
    }

    #[test]
    fn the_view_tag_is_the_labelled_hash_of_the_shared_point() {
        let w = world();
        let auth = Authorisation::create(&w.pass).unwrap();
        let r = PublicKey::from_sec1("R", &auth.r).unwrap();
        let shared = r.as_projective() * *w.doctor_b.scalar();
        let mut input = crate::hash::VIEW_TAG_LABEL.to_vec();
        input.extend_from_slice(&compressed(&shared));
        assert_eq!(auth.view_tag, crate::hash::sha256(&input)[0]);
    }

    #[test]
    fn a_correct_trans_with_a_flipped_view_tag_is_not_matched() {
        let w = world();
        let s = scanner(&w.doctor_b);
        let auth = Authorisation::create(&w.pass).unwrap();
        assert!(s.matches(&auth));
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = auth.clone();
            bad.view_tag ^= flip;
            assert!(!s.matches(&bad), "flip {flip:#04x}");
            assert_eq!(s.open(&bad).err(), Some(Error::NotForThisKey));
        }
    }

    #[test]
    fn a_correct_view_tag_with_a_wrong_st_is_not_matched() {
        // The tag is a filter, never the proof: ST still decides.
        let w = world();
        let s = scanner(&w.doctor_b);
        let auth = Authorisation::create(&w.pass).unwrap();
        let other = Authorisation::create(&w.pass).unwrap();
        let mut bad = auth.clone();
        bad.st = other.st;
        assert!(!s.matches(&bad));
        assert_eq!(s.open(&bad).err(), Some(Error::NotForThisKey));
        let mut bad = auth.clone();
        bad.st[32] ^= 1;
        assert!(!s.matches(&bad));
        assert_eq!(s.open(&bad).err(), Some(Error::NotForThisKey));
    }
}
