//! Prints the worked examples of `docs/PROTOCOL.md` from fixed inputs
//! (`cargo run --example worked`). Deterministic: fixed keys, salts, nonces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::cert::CertificateBody;
use ehrchain::grant::GrantTerms;
use ehrchain::handoff::{FilingSecret, RecordHandoff};
use ehrchain::hex::encode_prefixed as hx;
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::{Encryptor, Header, Layout, RecordKey};
use ehrchain::{ecies, SecretKey};

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

fn main() {
    let authority = key(0x11);
    let doctor = key(0x22);
    let protocol = key(0x33);
    let patient = key(0x44);
    println!(
        "authority secret {}\n  address {}",
        hx(&[0x11; 32]),
        authority.address()
    );
    println!(
        "doctor    secret {}\n  address {}",
        hx(&[0x22; 32]),
        doctor.address()
    );
    println!(
        "protocol  secret {}\n  A = {}",
        hx(&[0x33; 32]),
        hx(&protocol.public_key().to_compressed())
    );
    println!(
        "patient   secret {}\n  P = {}",
        hx(&[0x44; 32]),
        hx(&patient.public_key().to_compressed())
    );

    let cert = CertificateBody {
        doctor: doctor.address(),
        protocol_key: protocol.public_key(),
        hospital: "St Mary's Hospital".into(),
        valid_from: 1_767_225_600,
        valid_until: 1_798_761_600,
        serial: 42,
    };
    println!(
        "\ncertificate signing hash {}",
        hx(&cert.typed_data().signing_hash().unwrap())
    );
    println!(
        "certificate {}",
        cert.clone().sign(&authority).unwrap().to_json()
    );

    let ctx = RecordContext::new("St Mary's Hospital", 1_770_000_000).unwrap();
    println!("\ncontext encoding {}", hx(&ctx.encode()));
    println!("record AAD {}", hx(&ctx.record_aad()));
    let kt = MaskKey::from_bytes(&[0x55; 32]).unwrap();
    let tx_id = [0x66u8; 32];
    let kp = RecordKey::from_bytes(&[0x77u8; 16]).unwrap();
    println!(
        "k_t {}\ntx_id {}\nK_P {}",
        hx(&[0x55; 32]),
        hx(&tx_id),
        hx(kp.as_bytes())
    );
    println!("X     {}", hx(&kt.index(&ctx)));
    println!("Y_tx  {}", hx(kt.tx_mask(&ctx).as_slice()));
    println!("Y_key {}", hx(kt.key_mask(&ctx).as_slice()));
    let m = kt.mask(&ctx, &tx_id, &kp);
    println!("Z     {}\nK     {}", hx(&m.z), hx(&m.k));

    let nonce = [0x88u8; 16];
    let sealed = ecies::seal_with(&protocol.public_key(), b"hello", &key(0x99), &nonce).unwrap();
    println!(
        "\nECIES to A of \"hello\" with ephemeral secret 0x99..99, nonce 0x88..88:\n{}",
        hx(&sealed)
    );

    let layout = Layout::new(&kp, 64).unwrap();
    let header = Header::from_parts(&layout, &[0xaa; 16], [0xbb; 7]).unwrap();
    let mut enc = Encryptor::with_header(&kp, &ctx.record_aad(), layout, header).unwrap();
    let mut out = Vec::new();
    enc.push(b"The quick brown fox jumps over the lazy dog", &mut out)
        .unwrap();
    let eh = enc.finish(&mut out).unwrap();
    println!("\nrecord (K_P, AAD above, segment size 64, salt 0xaa.., prefix 0xbb..) of the 43-byte pangram:\n{}\neh {}", hx(&out), hx(&eh));

    // The anchor (§4.1): salt 0xcc..cc, type "radiology", by the doctor, for the patient.
    let opening = AnchorOpening {
        salt: [0xcc; 32],
        record_type: RecordType::new("radiology").unwrap(),
    };
    println!(
        "\nanchor commitment (salt 0xcc..cc, Ty1 \"radiology\", doctor and patient above) {}",
        hx(&opening.commitment(&doctor.address(), &patient.address()))
    );

    // The handoff plaintext (§10), F = 0xdd..dd.
    let handoff = RecordHandoff {
        context: ctx.clone(),
        tx_id,
        record_key: kp,
        filing: FilingSecret::from_bytes(&[0xdd; 32]).unwrap(),
        eh,
        opening: opening.clone(),
    };
    println!("handoff plaintext {}", hx(&handoff.encode()));

    // The grant (§5): the patient grants the record to the doctor's protocol key.
    let terms = GrantTerms {
        doctor: protocol.public_key(),
        context: ctx,
        mask_key: kt,
        eh,
        opening,
    };
    println!(
        "\nGrant signing hash {}",
        hx(&terms.typed_data().signing_hash().unwrap())
    );
    let pass = terms.sign(&patient).unwrap();
    println!("patient's signature {}", hx(&pass.signature.to_bytes()));
    let bytes = pass.encode();
    let used = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    println!(
        "A_pass ({} bytes, then zeros to {}) {}",
        used,
        bytes.len(),
        hx(&bytes[..used])
    );

    // Trans (§5) to the doctor's protocol key with r = 0x66..66 (ECIES
    // ephemeral 0x77..77, nonce 0x88..88): R, the view tag, ST.
    let trans = ehrchain::grant::Authorisation::seal_with(
        &protocol.public_key(),
        &bytes,
        &SecretKey::from_bytes(&[0x66; 32]).unwrap(),
        &SecretKey::from_bytes(&[0x77; 32]).unwrap(),
        &[0x88; 16],
    )
    .unwrap();
    println!(
        "\nTrans (r = 0x66..66): R {}\nview tag 0x{:02x}\nST {}",
        hx(&trans.r),
        trans.view_tag,
        hx(&trans.st)
    );
}
