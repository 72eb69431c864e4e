"""Record encryption interoperates with Google Tink's AES-GCM-HKDF streaming AEAD.

Both directions: Tink (Python, C++ core) decrypts what `ehrchain encrypt`
writes, and `ehrchain decrypt` decrypts what Tink writes; plus the failure
codes for wrong keys, tampering, reordering and truncation.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random

import pytest
import tink
from tink import cleartext_keyset_handle, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

from ehrcli import assert_error, fails, fails_without_output_file, flip, ok, run

streaming_aead.register()

TYPE_URL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"
DEFAULT_SEGMENT = 1 << 20
SMALL_SEGMENT = 4096
TAG = 16
MIB = 1 << 20
AAD = b"ehrchain record H1|T1|Ty1 \x00\xff"


# --------------------------------------------------------------------------
# Tink side
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def tink_primitive(key: bytes, segment_size: int) -> streaming_aead.StreamingAead:
    """A Tink StreamingAead for the raw `key` (keyset built by hand, RAW prefix)."""
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=segment_size,
        derived_key_size=len(key),
        hkdf_hash_type=common_pb2.SHA256,
    )
    key_proto = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(
        version=0, params=params, key_value=key
    )
    keyset = tink_pb2.Keyset(
        primary_key_id=0x5EC0DE,
        key=[
            tink_pb2.Keyset.Key(
                key_data=tink_pb2.KeyData(
                    type_url=TYPE_URL,
                    value=key_proto.SerializeToString(),
                    key_material_type=tink_pb2.KeyData.SYMMETRIC,
                ),
                status=tink_pb2.ENABLED,
                key_id=0x5EC0DE,
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    handle = cleartext_keyset_handle.from_keyset(keyset)
    return handle.primitive(streaming_aead.StreamingAead)


class _Capture(io.BytesIO):
    """A BytesIO that keeps its contents when Tink closes it."""

    data = b""

    def close(self):
        if not self.closed:
            self.data = self.getvalue()
        super().close()


def tink_encrypt(key: bytes, segment_size: int, aad: bytes, plaintext: bytes) -> bytes:
    sink = _Capture()
    with tink_primitive(key, segment_size).new_encrypting_stream(sink, aad) as enc:
        view = memoryview(plaintext)
        # Several writes, to exercise Tink's own buffering as a real stream would.
        step = 300_007
        for i in range(0, len(plaintext), step):
            enc.write(view[i : i + step])
    return sink.data


def tink_decrypt(key: bytes, segment_size: int, aad: bytes, ciphertext: bytes) -> bytes:
    with tink_primitive(key, segment_size).new_decrypting_stream(
        io.BytesIO(ciphertext), aad
    ) as dec:
        return dec.read()


# --------------------------------------------------------------------------
# Wire-format arithmetic (from Tink's format, independent of both implementations)
# --------------------------------------------------------------------------


def header_len(key_len: int) -> int:
    return 1 + key_len + 7  # length byte, HKDF salt, nonce prefix


def first_capacity(segment: int, key_len: int) -> int:
    return segment - header_len(key_len) - TAG


def later_capacity(segment: int) -> int:
    return segment - TAG


def expected_ciphertext_len(n: int, segment: int, key_len: int) -> int:
    first, later = first_capacity(segment, key_len), later_capacity(segment)
    segments = 1 if n <= first else 1 + -(-(n - first) // later)
    return header_len(key_len) + n + TAG * segments


def boundary_sizes(segment: int, key_len: int) -> list[int]:
    f, l = first_capacity(segment, key_len), later_capacity(segment)
    sizes = {0, 1, f - 1, f, f + 1, f + l - 1, f + l, f + l + 1}
    return sorted(sizes)


def plaintext(n: int, seed: int = 0) -> bytes:
    return random.Random(n * 1_000_003 + seed).randbytes(n)


def key_of(length: int, seed: int = 0) -> bytes:
    return random.Random(length * 7919 + seed).randbytes(length)


# --------------------------------------------------------------------------
# ehrchain side
# --------------------------------------------------------------------------


def cli_stream_args(key: bytes, aad: bytes, segment: int | None) -> list[str]:
    args = ["--key", key.hex()]
    if aad:
        args += ["--aad", aad.hex()]
    if segment is not None:  # None: rely on the CLI's default (1 MiB)
        args += ["--segment-size", str(segment)]
    return args


def ehr_encrypt(key: bytes, aad: bytes, segment: int | None, data: bytes) -> bytes:
    r = ok("encrypt", *cli_stream_args(key, aad, segment), input=data)
    reported = r.stderr_lines[-1] if r.stderr_lines else ""
    assert reported == hashlib.sha256(r.stdout).hexdigest(), (
        f"stderr's last line {reported!r} is not the SHA-256 of the ciphertext"
    )
    return r.stdout


def ehr_decrypt(key: bytes, aad: bytes, segment: int | None, ct: bytes, *extra: str) -> bytes:
    return ok("decrypt", *cli_stream_args(key, aad, segment), *extra, input=ct).stdout


# --------------------------------------------------------------------------
# Round trips, both directions
# --------------------------------------------------------------------------

CASES = []
for _key_len in (16, 32):
    for _aad in (b"", AAD):
        _aad_id = "aad" if _aad else "noaad"
        for _n in boundary_sizes(SMALL_SEGMENT, _key_len) + [5 * SMALL_SEGMENT + 123]:
            CASES.append(
                pytest.param(_key_len, _aad, SMALL_SEGMENT, _n, id=f"k{_key_len}-{_aad_id}-seg4096-n{_n}")
            )
        for _n in boundary_sizes(DEFAULT_SEGMENT, _key_len) + [5 * MIB]:
            CASES.append(
                pytest.param(_key_len, _aad, None, _n, id=f"k{_key_len}-{_aad_id}-segdefault-n{_n}")
            )
    # The smallest segment size the format allows: the first segment holds one byte.
    _tiny = header_len(_key_len) + TAG + 1
    for _n in (0, 1, 2, 1000):
        CASES.append(pytest.param(_key_len, AAD, _tiny, _n, id=f"k{_key_len}-aad-seg{_tiny}-n{_n}"))


@pytest.mark.parametrize("key_len, aad, segment, n", CASES)
def test_tink_decrypts_ehrchain(key_len, aad, segment, n):
    key, data = key_of(key_len), plaintext(n)
    ct = ehr_encrypt(key, aad, segment, data)
    seg = segment or DEFAULT_SEGMENT
    assert len(ct) == expected_ciphertext_len(n, seg, key_len)
    assert ct[0] == header_len(key_len), "header length byte"
    assert tink_decrypt(key, seg, aad, ct) == data


@pytest.mark.parametrize("key_len, aad, segment, n", CASES)
def test_ehrchain_decrypts_tink(key_len, aad, segment, n):
    key, data = key_of(key_len, seed=1), plaintext(n, seed=1)
    seg = segment or DEFAULT_SEGMENT
    ct = tink_encrypt(key, seg, aad, data)
    assert len(ct) == expected_ciphertext_len(n, seg, key_len)
    assert ehr_decrypt(key, aad, segment, ct) == data
    # The anchored hash of Tink's ciphertext is accepted too.
    assert ehr_decrypt(key, aad, segment, ct, "--expect-hash", hashlib.sha256(ct).hexdigest()) == data


def test_fresh_salt_and_nonce_prefix_per_encryption():
    key, data = key_of(16), plaintext(1000)
    a = ehr_encrypt(key, b"", SMALL_SEGMENT, data)
    b = ehr_encrypt(key, b"", SMALL_SEGMENT, data)
    assert a[1:24] != b[1:24], "header (salt ‖ nonce prefix) repeated"
    assert tink_decrypt(key, SMALL_SEGMENT, b"", a) == tink_decrypt(key, SMALL_SEGMENT, b"", b) == data


def test_files_in_and_out_with_tink(tmp_path):
    key, data = key_of(32, seed=5), plaintext(3 * MIB + 17, seed=5)
    src, dst = tmp_path / "record.bin", tmp_path / "record.enc"
    src.write_bytes(data)
    r = ok("encrypt", "--key", key.hex(), "--aad", AAD.hex(), "-i", src, "-o", dst)
    assert r.stdout == b""
    ct = dst.read_bytes()
    assert r.stderr_lines[-1] == hashlib.sha256(ct).hexdigest()
    assert tink_decrypt(key, DEFAULT_SEGMENT, AAD, ct) == data

    tink_ct = tmp_path / "tink.enc"
    tink_ct.write_bytes(tink_encrypt(key, DEFAULT_SEGMENT, AAD, data))
    out = tmp_path / "tink.dec"
    r = ok("decrypt", "--key", key.hex(), "--aad", AAD.hex(), "-i", tink_ct, "-o", out)
    assert r.stdout == b""
    assert out.read_bytes() == data


# --------------------------------------------------------------------------
# Failures, on ciphertexts made by Tink
# --------------------------------------------------------------------------

KEY = key_of(16, seed=9)
SEG = SMALL_SEGMENT
H = header_len(16)


@pytest.fixture(scope="module")
def tink_record():
    """A 4-segment Tink ciphertext (segment size 4096) and its plaintext."""
    data = plaintext(first_capacity(SEG, 16) + 2 * later_capacity(SEG) + 500, seed=9)
    ct = tink_encrypt(KEY, SEG, AAD, data)
    assert len(ct) == 3 * SEG + 500 + TAG
    return ct, data


def dec_args(key=KEY, aad=AAD, seg=SEG):
    return ["decrypt", "--key", key.hex(), "--aad", aad.hex(), "--segment-size", str(seg)]


def test_wrong_key(tink_record, tmp_path):
    ct, _ = tink_record
    fails("WrongKeyOrAssociatedData", *dec_args(key=key_of(16, seed=10)), input=ct)
    fails_without_output_file(tmp_path, "WrongKeyOrAssociatedData", *dec_args(key=key_of(16, seed=10)), input=ct)


def test_wrong_key_size_for_ciphertext(tink_record):
    ct, _ = tink_record
    # A 32-byte key expects a 40-byte header: the length byte says 24.
    fails({"InvalidHeader", "WrongKeyOrAssociatedData"}, *dec_args(key=key_of(32)), input=ct)


def test_wrong_associated_data(tink_record, tmp_path):
    ct, _ = tink_record
    fails("WrongKeyOrAssociatedData", *dec_args(aad=AAD + b"x"), input=ct)
    fails("WrongKeyOrAssociatedData", *dec_args(aad=b""), input=ct)
    fails_without_output_file(tmp_path, "WrongKeyOrAssociatedData", *dec_args(aad=b"other"), input=ct)


def test_wrong_segment_size(tink_record):
    ct, _ = tink_record
    fails("WrongKeyOrAssociatedData", *dec_args(seg=SEG + 1), input=ct)


@pytest.mark.parametrize(
    "where, index, code",
    [
        ("header length byte", 0, "InvalidHeader"),
        ("salt", 3, "WrongKeyOrAssociatedData"),
        ("nonce prefix", H - 1, "WrongKeyOrAssociatedData"),
        ("first segment body", H + 10, "WrongKeyOrAssociatedData"),
        ("first segment tag", SEG - 1, "WrongKeyOrAssociatedData"),
        ("second segment body", SEG + 5, "SegmentTampered"),
        ("third segment tag", 3 * SEG - 2, "SegmentTampered"),
        ("last segment body", 3 * SEG + 3, "SegmentTampered"),
        ("last byte", -1, "SegmentTampered"),
    ],
)
def test_tampered(tink_record, tmp_path, where, index, code):
    ct, data = tink_record
    bad = flip(ct, index % len(ct))
    with pytest.raises(tink.TinkError):
        tink_decrypt(KEY, SEG, AAD, bad)  # Tink agrees it is bad
    fails(code, *dec_args(), input=bad)
    fails_without_output_file(tmp_path, code, *dec_args(), input=bad)


@pytest.mark.parametrize("cut_segments", [0, 1, 2, 3])
def test_truncated_at_segment_boundary(tink_record, tmp_path, cut_segments):
    ct, _ = tink_record
    cut = ct[: cut_segments * SEG] if cut_segments else ct[:H]
    fails("Truncated", *dec_args(), input=cut)
    fails_without_output_file(tmp_path, "Truncated", *dec_args(), input=cut)


@pytest.mark.parametrize("length", [0, 1, H - 1])
def test_truncated_inside_header(length, tmp_path):
    ct = tink_encrypt(KEY, SEG, AAD, b"abc")
    fails("Truncated", *dec_args(), input=ct[:length])
    fails_without_output_file(tmp_path, "Truncated", *dec_args(), input=ct[:length])


@pytest.mark.parametrize("cut", [1, TAG, 200])
def test_truncated_inside_last_segment(tink_record, tmp_path, cut):
    # Cutting into the final segment cannot be told apart from altering it.
    ct, _ = tink_record
    codes = {"Truncated", "SegmentTampered"}
    fails(codes, *dec_args(), input=ct[:-cut])
    fails_without_output_file(tmp_path, codes, *dec_args(), input=ct[:-cut])


def test_segments_swapped(tink_record, tmp_path):
    ct, _ = tink_record
    swapped = ct[:SEG] + ct[2 * SEG : 3 * SEG] + ct[SEG : 2 * SEG] + ct[3 * SEG :]
    fails("SegmentOutOfOrder", *dec_args(), input=swapped)
    fails_without_output_file(tmp_path, "SegmentOutOfOrder", *dec_args(), input=swapped)


def test_segment_duplicated(tink_record):
    ct, _ = tink_record
    dup = ct[: 2 * SEG] + ct[SEG:]
    fails("SegmentOutOfOrder", *dec_args(), input=dup)


@pytest.mark.parametrize("extra", ["byte", "segment"])
def test_data_appended(tink_record, tmp_path, extra):
    ct, _ = tink_record
    bad = ct + (b"\x00" if extra == "byte" else ct[SEG : 2 * SEG])
    with pytest.raises(tink.TinkError):
        tink_decrypt(KEY, SEG, AAD, bad)
    assert_error(run(*dec_args(), input=bad))
    fails_without_output_file(tmp_path, None, *dec_args(), input=bad)


def test_expect_hash(tink_record, tmp_path):
    ct, data = tink_record
    good = hashlib.sha256(ct).hexdigest()
    assert ehr_decrypt(KEY, AAD, SEG, ct, "--expect-hash", "0x" + good) == data
    wrong = flip(bytes.fromhex(good), 0).hex()
    fails("HashMismatch", *dec_args(), "--expect-hash", wrong, input=ct)
    fails_without_output_file(tmp_path, "HashMismatch", *dec_args(), "--expect-hash", wrong, input=ct)
