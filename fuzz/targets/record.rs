//! Fuzzes the record header parser ([`Header::parse`]) and the streaming
//! [`Decryptor`], fed the ciphertext in chunks whose sizes the input picks,
//! with fixed keys and associated data.
//!
//! Input: `config ‖ n ‖ n chunk sizes ‖ ciphertext`. Bit 0 of `config`
//! picks the key (16 bytes `0x11…`, the one of tests/vectors/failures.json,
//! or 32 bytes `0x22…`), bits 1–2 the ciphertext segment size
//! ([`SEGMENT_SIZES`]); `n` is `1 + (byte mod 8)`; the chunk sizes are used
//! in turn (0 pushes an empty piece).
//!
//! Invariants:
//! - nothing panics: every failure is a typed `Error`;
//! - the outcome does not depend on the chunking: decrypting in one piece,
//!   in the input's chunks (with the right `expect_hash`) and with
//!   `record::decrypt` give the same result and the same plaintext output,
//!   segment by segment, up to the first error;
//! - a header that parses re-encodes to its bytes, a header that does not
//!   makes the stream fail with `InvalidHeader`;
//! - a ciphertext that decrypts hashes to its SHA-256 and (feature `kat`)
//!   re-encrypts under its own header to exactly the same bytes.

use ehrchain::record::{self, header::Header, Decryptor, Layout, RecordKey};
use ehrchain::{hash, Error};

/// The associated data of every stream (that of tests/vectors/failures.json).
pub const ASSOCIATED_DATA: &[u8] = b"ehrchain failure vectors";
/// The keys bit 0 of the config byte picks from.
pub const KEYS: [&[u8]; 2] = [&[0x11; 16], &[0x22; 32]];
/// The ciphertext segment sizes bits 1–2 of the config byte pick from.
pub const SEGMENT_SIZES: [u32; 4] = [128, 64, 256, 100];

/// What a whole decryption came to: the hash or the error, and the
/// plaintext written before it ended.
type Outcome = (Result<[u8; 32], Error>, Vec<u8>);

fn decrypt_in_chunks(
    key: &RecordKey,
    segment_size: u32,
    ciphertext: &[u8],
    chunks: &[usize],
    expect_hash: Option<[u8; 32]>,
) -> Outcome {
    let mut dec = Decryptor::new(key, ASSOCIATED_DATA, segment_size).expect("valid parameters");
    if let Some(eh) = expect_hash {
        dec.expect_hash(eh);
    }
    let mut out = Vec::new();
    let mut rest = ciphertext;
    for size in chunks.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, later) = rest.split_at((*size).min(rest.len()));
        let bound = dec.max_output(piece.len());
        let before = out.len();
        if let Err(e) = dec.push(piece, &mut out) {
            return (Err(e), out);
        }
        assert!(out.len() - before <= bound, "push wrote beyond max_output");
        rest = later;
    }
    let bound = dec.max_output(0);
    let before = out.len();
    let result = dec.finish(&mut out);
    assert!(
        out.len() - before <= bound,
        "finish wrote beyond max_output"
    );
    (result, out)
}

/// Decrypts the ciphertext in `data` as described above and checks the invariants.
pub fn run(data: &[u8]) {
    let [config, n, rest @ ..] = data else {
        return;
    };
    let n = usize::from(n % 8) + 1;
    if rest.len() < n {
        return;
    }
    let (sizes, ciphertext) = rest.split_at(n);
    let mut chunks: Vec<usize> = sizes.iter().map(|b| usize::from(*b)).collect();
    if chunks.iter().all(|c| *c == 0) {
        chunks.push(1); // some piece must make progress
    }
    let key = RecordKey::from_bytes(KEYS[usize::from(config & 1)]).expect("a valid key");
    let segment_size = SEGMENT_SIZES[usize::from((config >> 1) & 3)];
    let layout = Layout::new(&key, segment_size).expect("valid parameters");

    let whole = decrypt_in_chunks(&key, segment_size, ciphertext, &[ciphertext.len()], None);
    let eh = hash::sha256(ciphertext);
    let chunked = decrypt_in_chunks(&key, segment_size, ciphertext, &chunks, Some(eh));
    assert_eq!(whole, chunked, "the chunking changed the outcome");
    let in_memory = record::decrypt(&key, ASSOCIATED_DATA, segment_size, ciphertext);
    assert_eq!(
        in_memory
            .as_ref()
            .map(|(plain, hash)| (plain.to_vec(), *hash))
            .map_err(Clone::clone),
        whole.0.clone().map(|hash| (whole.1.clone(), hash)),
        "record::decrypt disagrees with the stream"
    );

    // The header alone.
    if let Some(header_bytes) = ciphertext.get(..layout.header_len()) {
        match Header::parse(&layout, header_bytes) {
            Ok(header) => assert_eq!(header.encode(), header_bytes),
            Err(e) => {
                assert_eq!(e, Error::InvalidHeader);
                assert_eq!(whole.0, Err(Error::InvalidHeader));
            }
        }
    }
    if Header::parse(&layout, ciphertext).is_ok() {
        assert_eq!(
            ciphertext.len(),
            layout.header_len(),
            "a header is exactly header_len"
        );
    }

    let Ok(hash) = whole.0 else {
        return;
    };
    assert_eq!(hash, eh, "finish returns the ciphertext's SHA-256");
    #[cfg(feature = "kat")]
    {
        let header = Header::parse(&layout, &ciphertext[..layout.header_len()])
            .expect("a decryptable stream has a header");
        let mut enc = record::Encryptor::with_header(&key, ASSOCIATED_DATA, layout, header)
            .expect("the header fits the key");
        let mut again = Vec::new();
        enc.push(&whole.1, &mut again)
            .expect("encryption cannot fail");
        let again_hash = enc.finish(&mut again).expect("encryption cannot fail");
        assert_eq!(again, ciphertext, "the record format is canonical");
        assert_eq!(again_hash, hash);
    }
}
