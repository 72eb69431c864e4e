//! Deterministic pseudo-random data (xorshift) for the blob store tests and
//! the throughput example: included with `#[path]` by `tests/blob_store.rs`
//! and `examples/s3_throughput.rs`.

/// `len` pseudo-random bytes, different per `seed`, the same every run.
pub(crate) fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
