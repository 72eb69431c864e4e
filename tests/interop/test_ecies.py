"""ECIES interoperates with eciespy (the Python twin of eciesjs), default config.

Format: uncompressed ephemeral public key (65) ‖ nonce (16) ‖ tag (16) ‖
AES-256-GCM ciphertext, key = HKDF-SHA256(ephemeral_pk_uncompressed ‖
shared_point_uncompressed) with no salt and no info, 32 bytes.
"""

from __future__ import annotations

import random

import coincurve
import ecies
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ehrcli import fails, fails_without_output_file, flip, ok

EPH, NONCE, TAG = 65, 16, 16
HEADER = EPH + NONCE + TAG

SIZES = [0, 1, 100_000]


def keypair(seed: int) -> coincurve.PrivateKey:
    rng = random.Random(seed)
    while True:
        try:
            return coincurve.PrivateKey(rng.randbytes(32))
        except ValueError:
            continue


def message(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def pub(sk: coincurve.PrivateKey, compressed: bool) -> bytes:
    return sk.public_key.format(compressed=compressed)


def spec_open(sk: coincurve.PrivateKey, data: bytes) -> bytes:
    """A third, from-the-format decryption (coincurve ECDH + cryptography)."""
    eph, nonce, tag, body = data[:EPH], data[EPH : EPH + NONCE], data[EPH + NONCE : HEADER], data[HEADER:]
    assert eph[0] == 0x04, "ephemeral key must be uncompressed"
    shared = coincurve.PublicKey(eph).multiply(sk.secret).format(compressed=False)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=None).derive(eph + shared)
    return AESGCM(key).decrypt(nonce, body + tag, None)


@pytest.mark.parametrize("compressed", [True, False], ids=["compressed", "uncompressed"])
@pytest.mark.parametrize("n", SIZES)
def test_eciespy_opens_ehrchain_seal(n, compressed):
    sk = keypair(n * 2 + compressed)
    data = message(n)
    sealed = ok("seal", "--to", pub(sk, compressed).hex(), input=data).stdout
    assert len(sealed) == HEADER + n
    assert sealed[0] == 0x04
    assert ecies.decrypt(sk.secret, sealed) == data
    assert ecies.decrypt(sk.to_hex(), sealed) == data
    assert spec_open(sk, sealed) == data


@pytest.mark.parametrize("compressed", [True, False], ids=["compressed", "uncompressed"])
@pytest.mark.parametrize("n", SIZES)
def test_ehrchain_opens_eciespy_encrypt(n, compressed):
    sk = keypair(n * 2 + compressed + 1000)
    data = message(n)
    sealed = ecies.encrypt(pub(sk, compressed), data)
    assert len(sealed) == HEADER + n
    assert ok("open", "--secret", sk.secret.hex(), input=sealed).stdout == data
    # Hex key given as eciespy's str form with 0x prefix too.
    sealed_hex_pk = ecies.encrypt("0x" + pub(sk, compressed).hex(), data)
    assert ok("open", "--secret", "0x" + sk.secret.hex(), input=sealed_hex_pk).stdout == data


def test_seal_is_randomised():
    sk = keypair(7)
    a = ok("seal", "--to", pub(sk, True).hex(), input=b"same").stdout
    b = ok("seal", "--to", pub(sk, True).hex(), input=b"same").stdout
    assert a[:EPH] != b[:EPH] and a[EPH : EPH + NONCE] != b[EPH : EPH + NONCE]
    assert ecies.decrypt(sk.secret, a) == ecies.decrypt(sk.secret, b) == b"same"


def test_files_in_and_out(tmp_path):
    sk = keypair(8)
    data = message(100_000)
    (tmp_path / "m").write_bytes(ecies.encrypt(pub(sk, False), data))
    r = ok("open", "--secret", sk.secret.hex(), "-i", tmp_path / "m", "-o", tmp_path / "p")
    assert r.stdout == b"" and (tmp_path / "p").read_bytes() == data
    ok("seal", "--to", pub(sk, True).hex(), "-i", tmp_path / "p", "-o", tmp_path / "s")
    assert ecies.decrypt(sk.secret, (tmp_path / "s").read_bytes()) == data


# -- failures ------------------------------------------------------------------

SK = keypair(42)
PLAIN = message(1000)


@pytest.fixture(scope="module")
def sealed():
    return ecies.encrypt(pub(SK, True), PLAIN)


def open_args(sk=SK):
    return ["open", "--secret", sk.secret.hex()]


@pytest.mark.parametrize(
    "where, index",
    [
        ("nonce", EPH),
        ("nonce end", EPH + NONCE - 1),
        ("tag", EPH + NONCE),
        ("tag end", HEADER - 1),
        ("body start", HEADER),
        ("body end", -1),
    ],
)
def test_tampered(sealed, tmp_path, where, index):
    bad = flip(sealed, index % len(sealed))
    with pytest.raises(Exception):
        ecies.decrypt(SK.secret, bad)
    fails("EciesDecryptFailed", *open_args(), input=bad)
    fails_without_output_file(tmp_path, "EciesDecryptFailed", *open_args(), input=bad)


def test_other_valid_ephemeral_key(sealed):
    other = pub(keypair(43), False)
    fails("EciesDecryptFailed", *open_args(), input=other + sealed[EPH:])


def test_off_curve_ephemeral_key(sealed):
    eph = bytearray(sealed[:EPH])
    eph[-1] ^= 1  # y changed: no longer on the curve
    fails("InvalidPublicKey", *open_args(), input=bytes(eph) + sealed[EPH:])


def test_wrong_secret(sealed, tmp_path):
    fails("EciesDecryptFailed", *open_args(keypair(44)), input=sealed)
    fails_without_output_file(tmp_path, "EciesDecryptFailed", *open_args(keypair(44)), input=sealed)


def test_body_truncated(sealed):
    fails("EciesDecryptFailed", *open_args(), input=sealed[:-1])
    fails("EciesDecryptFailed", *open_args(), input=sealed[:HEADER])


@pytest.mark.parametrize("length", [0, 1, EPH, HEADER - 1])
def test_too_short(sealed, tmp_path, length):
    fails("EciesTooShort", *open_args(), input=sealed[:length])
    fails_without_output_file(tmp_path, "EciesTooShort", *open_args(), input=sealed[:length])


def test_empty_plaintext_is_exactly_header_long():
    sealed = ecies.encrypt(pub(SK, False), b"")
    assert len(sealed) == HEADER
    assert ok(*open_args(), input=sealed).stdout == b""
