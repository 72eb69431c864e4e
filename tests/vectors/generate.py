#!/usr/bin/env python3
"""Generates the known-answer vectors in tests/vectors/*.json.

The vectors are produced ONCE, by implementations independent of the ehrchain
crate, and committed; tests/kat.rs checks the crate against them on every
`cargo test`. The .json files are the source of truth: this script documents
where every value came from and can re-check them (`--check`).

Run from anywhere (needs Python >= 3.10 and tests/interop/requirements.txt:
eth-account, eth-keys, eciespy, coincurve, cryptography, tink):

    python3 tests/vectors/generate.py          # (re)write the .json files
    python3 tests/vectors/generate.py --check  # re-verify the committed files

Regenerating changes only the values that are random by nature (Tink's salts
and nonce prefixes, eciespy's ephemeral keys and nonces); every other value is
a deterministic function of the fixed inputs below.

Files and their independent oracles:

accounts.json  eth-account / eth-keys: EIP-55 address and uncompressed public
               key of fixed secrets; EIP-191 personal_sign digests and
               signatures (RFC 6979 deterministic, so byte-exact).
eip712.json    eth-account `encode_typed_data`: the EIP-712 spec's Mail
               example and ehrchain DoctorCertificate typed data, their
               digests and signatures.
ecies.json     `from_eciespy`: ciphertexts made by eciespy's `encrypt` (the
               crate must open them). `fixed`: ciphertexts with a fixed
               ephemeral key and nonce, built here from the eciesjs/eciespy
               format (coincurve ECDH, cryptography HKDF-SHA-256 and
               AES-256-GCM) and checked to decrypt with eciespy's `decrypt`;
               the crate's `seal_with` must produce exactly these bytes.
records.json   `fixed_header`: Tink AES-GCM-HKDF streaming ciphertexts with a
               fixed salt and nonce prefix (Tink's API cannot fix them), built
               here from Tink's wire format with `cryptography` and checked to
               decrypt with Tink itself; the crate's `Encryptor::with_header`
               must produce exactly these bytes. `from_tink`: ciphertexts made
               by Tink's own encrypting stream (random header) that the crate
               must decrypt.
masks.json     Python hmac/hashlib from the spec (docs/PROTOCOL.md, src/mask.rs):
               X, Y_tx, Y_key, Z, K for fixed k_t, contexts, tx_id and K_P;
               h1(k.G) and the view tag of k.G with k.G computed by coincurve
               (libsecp256k1); `trans`: R, the view tag and ST of Trans for
               fixed doctor keys A and scalars r, the shared point r.A by
               coincurve's ECDH multiplication (docs/PROTOCOL.md section 5).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import sys
from importlib.metadata import version
from pathlib import Path

import coincurve
import ecies
import eth_keys
import tink
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak
from tink import secret_key_access, streaming_aead
from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

HERE = Path(__file__).resolve().parent
GENERATOR = "tests/vectors/generate.py"

# secp256k1 group order.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def pattern(n: int, seed: int) -> bytes:
    """Deterministic filler bytes (not random; just not all equal)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += sha256(b"ehrchain/kat/pattern" + seed.to_bytes(4, "big") + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:n])


def hx(b: bytes) -> str:
    return b.hex()


def secret_bytes(k: int) -> bytes:
    return k.to_bytes(32, "big")


# ---------------------------------------------------------------------------
# Fixed inputs
# ---------------------------------------------------------------------------

SECRETS: list[bytes] = [
    secret_bytes(1),  # G itself
    secret_bytes(2),
    secret_bytes(N - 1),  # -G: largest valid secret
    bytes(16) + b"\xff" * 16,  # leading zero bytes
    keccak(b"cow"),  # the EIP-712 example's signer
] + [sha256(b"ehrchain/kat/account/%d" % i) for i in range(6)]

MESSAGES: list[bytes] = [
    b"",
    b"hello",
    bytes(range(256))[::17],  # binary, includes 0x00 and 0xff
    "Hôpital Lariboisière ✓".encode(),
    pattern(200, 1),  # three-digit decimal length in the EIP-191 prefix
]

EIP712_MAIL = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
        "Mail": [
            {"name": "from", "type": "Person"},
            {"name": "to", "type": "Person"},
            {"name": "contents", "type": "string"},
        ],
    },
    "primaryType": "Mail",
    "domain": {
        "name": "Ether Mail",
        "version": "1",
        "chainId": 1,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    "message": {
        "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
        "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
        "contents": "Hello, Bob!",
    },
}

CERT_MEMBERS = [
    {"name": "doctor", "type": "address"},
    {"name": "protocolKey", "type": "bytes"},
    {"name": "hospital", "type": "string"},
    {"name": "validFrom", "type": "uint64"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "serial", "type": "uint64"},
]

MAX_SAFE_INTEGER = (1 << 53) - 1


def certificate(doctor: bytes, protocol: bytes, hospital: str, valid_from: int, valid_until: int, serial: int) -> dict:
    """DoctorCertificate typed data in the canonical form the crate writes."""
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
            "DoctorCertificate": CERT_MEMBERS,
        },
        "primaryType": "DoctorCertificate",
        "domain": {"name": "ehrchain", "version": "1"},
        "message": {
            "doctor": Account.from_key(doctor).address,
            "protocolKey": "0x" + coincurve.PrivateKey(protocol).public_key.format(compressed=True).hex(),
            "hospital": hospital,
            "validFrom": valid_from,
            "validUntil": valid_until,
            "serial": serial,
        },
    }


GRANT_MEMBERS = [
    {"name": "protocolKey", "type": "bytes"},
    {"name": "eh", "type": "bytes32"},
    {"name": "hospital", "type": "string"},
    {"name": "recordTime", "type": "uint64"},
    {"name": "x", "type": "bytes32"},
]


def grant(protocol: bytes, k_t: bytes, eh: bytes, hospital: str, time: int) -> dict:
    """Grant typed data (docs/PROTOCOL.md §5): x = HMAC-SHA-256(k_t, ctx || "ehrchain/v1/X")."""
    x = hmac.new(k_t, context(hospital, time) + b"ehrchain/v1/X", hashlib.sha256).digest()
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
            "Grant": GRANT_MEMBERS,
        },
        "primaryType": "Grant",
        "domain": {"name": "ehrchain", "version": "1"},
        "message": {
            "protocolKey": "0x" + coincurve.PrivateKey(protocol).public_key.format(compressed=True).hex(),
            "eh": "0x" + eh.hex(),
            "hospital": hospital,
            "recordTime": time,
            "x": "0x" + x.hex(),
        },
    }


# ---------------------------------------------------------------------------
# accounts.json and eip712.json (eth-account)
# ---------------------------------------------------------------------------


def gen_accounts() -> dict:
    accounts = []
    for secret in SECRETS:
        acct = Account.from_key(secret)
        public = b"\x04" + eth_keys.keys.PrivateKey(secret).public_key.to_bytes()
        personal = []
        for msg in MESSAGES:
            signed = Account.sign_message(encode_defunct(primitive=msg), private_key=secret)
            assert len(signed.signature) == 65 and signed.signature[64] in (27, 28)
            personal.append(
                {
                    "message": hx(msg),
                    "hash": hx(bytes(signed.message_hash)),
                    "signature": hx(bytes(signed.signature)),
                }
            )
        accounts.append(
            {
                "secret": hx(secret),
                "address": acct.address,
                "public_uncompressed": hx(public),
                "personal_sign": personal,
            }
        )
    return {
        "source": f"eth-account {version('eth-account')} (Account.from_key, sign_message(encode_defunct)) and eth-keys; "
        "signatures are RFC 6979 deterministic, 65 bytes r||s||v with v = 27/28",
        "generator": GENERATOR,
        "accounts": accounts,
    }


def sign_typed(name: str, data: dict, secret: bytes) -> dict:
    signed = Account.sign_message(encode_typed_data(full_message=data), private_key=secret)
    return {
        "name": name,
        "typed_data": data,
        "signer_secret": hx(secret),
        "signer_address": Account.from_key(secret).address,
        "hash": hx(bytes(signed.message_hash)),
        "signature": hx(bytes(signed.signature)),
    }


def gen_eip712() -> dict:
    cases = [sign_typed("EIP-712 Mail example, signed by Cow", EIP712_MAIL, keccak(b"cow"))]
    assert cases[0]["hash"] == "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    cases.append(sign_typed("EIP-712 Mail example, signed by secret 1", EIP712_MAIL, SECRETS[0]))
    certs = [
        ("certificate, typical", 5, 6, 7, "St Mary's Hospital", 1_700_000_000, 1_731_536_000, 1),
        ("certificate, serial 0", 6, 7, 8, "H", 0, 1, 0),
        ("certificate, non-ASCII hospital", 7, 8, 9, "Hôpital Lariboisière", 1_700_000_000, 1_800_000_000, 42),
        ("certificate, largest safe integers", 8, 9, 10, "x" * 255, MAX_SAFE_INTEGER - 1, MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
        ("certificate, authority secret n-1", 2, 3, 4, "General", 1, 2, 3),
    ]
    for name, authority, doctor, protocol, hospital, vf, vu, serial in certs:
        data = certificate(SECRETS[doctor], SECRETS[protocol], hospital, vf, vu, serial)
        cases.append(sign_typed(name, data, SECRETS[authority]))
    grants = [
        ("grant, typical", 6, 7, "St Mary's Hospital", 1_770_000_000),
        ("grant, longest hospital and time", 8, 9, "H" * 255, MAX_SAFE_INTEGER),
        ("grant, non-ASCII hospital", 9, 10, "Hôpital Lariboisière", 0),
    ]
    for i, (name, patient, protocol, hospital, time) in enumerate(grants):
        inputs = {
            "protocol_secret": hx(SECRETS[protocol]),
            "mask_key": hx(sha256(b"ehrchain/kat/grant/k_t/%d" % i)),
            "eh": hx(sha256(b"ehrchain/kat/grant/eh/%d" % i)),
        }
        case = sign_typed(name, grant(SECRETS[protocol], bytes.fromhex(inputs["mask_key"]), bytes.fromhex(inputs["eh"]), hospital, time), SECRETS[patient])
        case["grant_inputs"] = inputs
        cases.append(case)
    return {
        "source": f"eth-account {version('eth-account')} encode_typed_data(full_message=...) + sign_message "
        "(eth_signTypedData_v4); DoctorCertificate and Grant in the crate's canonical form (src/cert.rs, src/grant.rs)",
        "generator": GENERATOR,
        "cases": cases,
    }


# ---------------------------------------------------------------------------
# ecies.json (eciespy, and the format built from primitives)
# ---------------------------------------------------------------------------


def ecies_fixed(recipient_public: bytes, plaintext: bytes, ephemeral: bytes, nonce: bytes) -> bytes:
    """eciesjs/eciespy default format with a chosen ephemeral key and nonce."""
    eph = coincurve.PrivateKey(ephemeral)
    eph_pub = eph.public_key.format(compressed=False)
    shared = coincurve.PublicKey(recipient_public).multiply(ephemeral).format(compressed=False)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=None).derive(eph_pub + shared)
    sealed = AESGCM(key).encrypt(nonce, plaintext, None)  # ciphertext || tag
    return eph_pub + nonce + sealed[-16:] + sealed[:-16]


def public_of(secret: bytes) -> bytes:
    return coincurve.PrivateKey(secret).public_key.format(compressed=False)


ECIES_PLAINTEXTS = [b"", b"A_pass", pattern(33, 2), pattern(300, 3)]


def gen_ecies() -> dict:
    from_eciespy = []
    for i, pt in enumerate(ECIES_PLAINTEXTS):
        recipient = SECRETS[5 + i]
        ct = ecies.encrypt(public_of(recipient), pt)
        assert ecies.decrypt(recipient, ct) == pt
        from_eciespy.append({"recipient_secret": hx(recipient), "plaintext": hx(pt), "ciphertext": hx(ct)})
    fixed = []
    for i, pt in enumerate(ECIES_PLAINTEXTS):
        recipient = SECRETS[5 + i]
        ephemeral = sha256(b"ehrchain/kat/ecies/ephemeral/%d" % i)
        nonce = sha256(b"ehrchain/kat/ecies/nonce/%d" % i)[:16]
        ct = ecies_fixed(public_of(recipient), pt, ephemeral, nonce)
        assert ecies.decrypt(recipient, ct) == pt, "eciespy refuses the fixed-key ciphertext"
        fixed.append(
            {
                "recipient_secret": hx(recipient),
                "ephemeral_secret": hx(ephemeral),
                "nonce": hx(nonce),
                "plaintext": hx(pt),
                "ciphertext": hx(ct),
            }
        )
    return {
        "source": f"from_eciespy: eciespy {version('eciespy')} encrypt (default config: uncompressed "
        "ephemeral key, HKDF-SHA256 over uncompressed points, AES-256-GCM, 16-byte nonce); fixed: the "
        "same format built with coincurve + cryptography, each checked to decrypt with eciespy",
        "generator": GENERATOR,
        "from_eciespy": from_eciespy,
        "fixed": fixed,
    }


# ---------------------------------------------------------------------------
# records.json (Tink AES-GCM-HKDF streaming)
# ---------------------------------------------------------------------------

streaming_aead.register()


def tink_primitive(key: bytes, segment_size: int):
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=segment_size,
        derived_key_size=len(key),
        hkdf_hash_type=common_pb2.SHA256,
    )
    key_proto = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(version=0, params=params, key_value=key)
    keyset = tink_pb2.Keyset(
        primary_key_id=1,
        key=[
            tink_pb2.Keyset.Key(
                key_data=tink_pb2.KeyData(
                    type_url="type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey",
                    value=key_proto.SerializeToString(),
                    key_material_type=tink_pb2.KeyData.SYMMETRIC,
                ),
                status=tink_pb2.ENABLED,
                key_id=1,
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    return handle.primitive(streaming_aead.StreamingAead)


class _Sink(io.BytesIO):
    """Keeps its contents when Tink closes it."""

    data = b""

    def close(self) -> None:
        self.data = self.getvalue()
        super().close()


def tink_encrypt(key: bytes, aad: bytes, segment_size: int, plaintext: bytes) -> bytes:
    sink = _Sink()
    with tink_primitive(key, segment_size).new_encrypting_stream(sink, aad) as stream:
        stream.write(plaintext)
    return sink.data


def tink_decrypt(key: bytes, aad: bytes, segment_size: int, ciphertext: bytes) -> bytes:
    with tink_primitive(key, segment_size).new_decrypting_stream(io.BytesIO(ciphertext), aad) as stream:
        return stream.read()


def tink_format_encrypt(key: bytes, aad: bytes, segment_size: int, salt: bytes, prefix: bytes, plaintext: bytes) -> bytes:
    """Tink's AES-GCM-HKDF streaming wire format with a chosen salt and nonce prefix."""
    header = bytes([1 + len(salt) + len(prefix)]) + salt + prefix
    seg_key = HKDF(algorithm=hashes.SHA256(), length=len(key), salt=salt, info=aad).derive(key)
    first = segment_size - len(header) - 16
    rest = segment_size - 16
    chunks = [plaintext[:first]]
    pos = first
    while pos < len(plaintext):
        chunks.append(plaintext[pos : pos + rest])
        pos += rest
    out = bytearray(header)
    aes = AESGCM(seg_key)
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        nonce = prefix + i.to_bytes(4, "big") + bytes([1 if last else 0])
        out += aes.encrypt(nonce, chunk, None)
    return bytes(out)


def record_aad(hospital: str, time: int) -> bytes:
    return b"ehrchain/v1/record" + context(hospital, time)


# (key length, segment size, plaintext sizes). Segment 0 carries
# S - (1 + key_len + 7) - 16 bytes, later segments S - 16.
RECORD_SHAPES = [
    (16, 64, [0, 1, 23, 24, 25, 72, 73, 82, 120]),  # 24 | 48 | 48 ...
    (32, 64, [0, 8, 9, 56, 57, 100]),  # 8 | 48 | 48 ...
    (16, 256, [0, 1, 216, 217, 456, 461]),  # 216 | 240 | 240 ...
    (32, 256, [200, 201, 1000]),  # 200 | 240 | 240 ...
]


def record_inputs():
    for shape, (key_len, seg, sizes) in enumerate(RECORD_SHAPES):
        for j, size in enumerate(sizes):
            seed = 100 * shape + j
            key = sha256(b"ehrchain/kat/record/key/%d" % seed)[:key_len]
            aad = b"" if j % 3 == 0 else record_aad("St Mary's Hospital", 1_700_000_000 + seed)
            yield key, aad, seg, pattern(size, seed), seed


def gen_records() -> dict:
    fixed = []
    from_tink = []
    for key, aad, seg, pt, seed in record_inputs():
        salt = sha256(b"ehrchain/kat/record/salt/%d" % seed)[: len(key)]
        prefix = sha256(b"ehrchain/kat/record/prefix/%d" % seed)[:7]
        ct = tink_format_encrypt(key, aad, seg, salt, prefix, pt)
        assert tink_decrypt(key, aad, seg, ct) == pt, "Tink refuses the fixed-header ciphertext"
        fixed.append(
            {
                "key": hx(key),
                "aad": hx(aad),
                "segment_size": seg,
                "salt": hx(salt),
                "nonce_prefix": hx(prefix),
                "plaintext": hx(pt),
                "ciphertext": hx(ct),
                "eh": hx(sha256(ct)),
            }
        )
        ct = tink_encrypt(key, aad, seg, pt)
        assert tink_decrypt(key, aad, seg, ct) == pt
        from_tink.append(
            {
                "key": hx(key),
                "aad": hx(aad),
                "segment_size": seg,
                "plaintext": hx(pt),
                "ciphertext": hx(ct),
                "eh": hx(sha256(ct)),
            }
        )
    return {
        "source": f"Tink {version('tink')} streaming AEAD (AesGcmHkdfStreamingKey, HKDF-SHA256, derived key size = "
        "key size, RAW): from_tink made by Tink's encrypting stream; fixed_header built from the wire "
        "format with cryptography and checked to decrypt with Tink",
        "generator": GENERATOR,
        "fixed_header": fixed,
        "from_tink": from_tink,
    }


# ---------------------------------------------------------------------------
# masks.json (hmac/hashlib from the spec; coincurve for points)
# ---------------------------------------------------------------------------


def context(hospital: str, time: int) -> bytes:
    name = hospital.encode()
    assert 1 <= len(name) <= 255
    return bytes([len(name)]) + name + time.to_bytes(8, "big")


MASK_CASES = [
    ("St Mary's Hospital", 1_700_000_000, 16),
    ("H", 0, 32),
    ("Hôpital Lariboisière", (1 << 64) - 1, 16),
    ("x" * 255, 1, 32),
    ("General", 1_731_536_000, 16),
]


def view_tag(compressed_point: bytes) -> int:
    """The view tag of a shared point (docs/PROTOCOL.md section 5): one byte, 0-255."""
    return sha256(b"ehrchain/v1/view-tag" + compressed_point)[0]


def gen_masks() -> dict:
    masks = []
    for i, (hospital, time, key_len) in enumerate(MASK_CASES):
        k_t = sha256(b"ehrchain/kat/mask/k_t/%d" % i)
        tx_id = keccak(b"ehrchain/kat/mask/tx/%d" % i)
        k_p = sha256(b"ehrchain/kat/mask/k_p/%d" % i)[:key_len]
        ctx = context(hospital, time)
        x = hmac.new(k_t, ctx + b"ehrchain/v1/X", hashlib.sha256).digest()
        y_tx = hmac.new(k_t, ctx + b"ehrchain/v1/tx", hashlib.sha256).digest()
        y_key = hmac.new(k_t, ctx + b"ehrchain/v1/key", hashlib.sha256).digest()
        masks.append(
            {
                "k_t": hx(k_t),
                "hospital": hospital,
                "time": time,
                "context": hx(ctx),
                "record_aad": hx(record_aad(hospital, time)),
                "tx_id": hx(tx_id),
                "record_key": hx(k_p),
                "x": hx(x),
                "y_tx": hx(y_tx),
                "y_key": hx(y_key),
                "z": hx(bytes(a ^ b for a, b in zip(tx_id, y_tx))),
                "k": hx(bytes(a ^ b for a, b in zip(k_p, y_key))),
            }
        )
    h1 = []
    scalars = [1, 2, 3, N - 1, N // 2] + [int.from_bytes(sha256(b"ehrchain/kat/h1/%d" % i), "big") % N for i in range(5)]
    for k in scalars:
        point = coincurve.PrivateKey(secret_bytes(k)).public_key.format(compressed=True)
        value = int.from_bytes(sha256(b"ehrchain/v1/h1" + point), "big") % N
        h1.append(
            {
                "scalar": hx(secret_bytes(k)),
                "point_compressed": hx(point),
                "h1": hx(secret_bytes(value)),
                "view_tag": view_tag(point),
            }
        )
    trans = []
    for i in range(8):
        a = bytes([0x33] * 32) if i == 0 else secret_bytes(int.from_bytes(sha256(b"ehrchain/kat/trans/a/%d" % i), "big") % N)
        r = bytes([0x66] * 32) if i == 0 else secret_bytes(int.from_bytes(sha256(b"ehrchain/kat/trans/r/%d" % i), "big") % N)
        big_a = coincurve.PrivateKey(a).public_key
        shared = big_a.multiply(r).format(compressed=True)
        st_scalar = int.from_bytes(sha256(b"ehrchain/v1/h1" + shared), "big") % N
        trans.append(
            {
                "protocol_secret": hx(a),
                "protocol_key": hx(big_a.format(compressed=True)),
                "r_secret": hx(r),
                "r": hx(coincurve.PrivateKey(r).public_key.format(compressed=True)),
                "shared_compressed": hx(shared),
                "view_tag": view_tag(shared),
                "st": hx(coincurve.PrivateKey(secret_bytes(st_scalar)).public_key.format(compressed=True)),
            }
        )
    return {
        "source": "Python hmac/hashlib from the spec: ctx = u8 len(H1) || H1 || T1 (u64 BE); "
        "X/Y_tx/Y_key = HMAC-SHA256(k_t, ctx || label), Z = tx_id ^ Y_tx, K = K_P ^ Y_key[:len(K_P)]; "
        "h1(P) = SHA256('ehrchain/v1/h1' || compressed P) mod n, P = k*G by coincurve; "
        "view_tag(P) = SHA256('ehrchain/v1/view-tag' || compressed P)[0]; "
        "trans: R = r*G, S = r*A by coincurve, view tag of S, ST = h1(S)*G",
        "generator": GENERATOR,
        "masks": masks,
        "h1": h1,
        "trans": trans,
    }


# ---------------------------------------------------------------------------
# unlock.json (eth-account personal_sign, cryptography's HKDF, coincurve)
# ---------------------------------------------------------------------------


def unlock_message(address: str) -> str:
    """docs/PROTOCOL.md §15, written from the spec."""
    return (
        "ehrchain: unlock my protocol key\n\nAccount: " + address + "\nVersion: 1\n\n"
        "This signature costs nothing and sends nothing. It unlocks, in this browser, the key that "
        "receives the health records shared with this account. Sign it only in an ehrchain portal you trust."
    )


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def gen_unlock() -> dict:
    cases = []
    for secret in SECRETS:
        acct = Account.from_key(secret)
        text = unlock_message(acct.address)
        signed = Account.sign_message(encode_defunct(text=text), private_key=secret)
        sig = bytes(signed.signature)
        ikm = sig[:64]
        counter = 0
        while True:
            d = hkdf_sha256(ikm, b"ehrchain/v1/unlock", b"protocol key" + bytes([counter]))
            if 0 < int.from_bytes(d, "big") < N:
                break
            counter += 1
        public = coincurve.PrivateKey(d).public_key.format(compressed=True)
        cases.append(
            {
                "account": acct.address,
                "message": text,
                "signature": hx(sig),
                "protocol_secret": hx(d),
                "protocol_public": hx(public),
                "storage_key": hx(hkdf_sha256(ikm, b"ehrchain/v1/unlock", b"storage key")),
            }
        )
    return {
        "source": f"eth-account {version('eth-account')} (sign_message(encode_defunct(text))), "
        f"cryptography {version('cryptography')} HKDF-SHA256, coincurve {version('coincurve')}; "
        "the message text written from docs/PROTOCOL.md section 15",
        "generator": GENERATOR,
        "cases": cases,
    }


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

GENERATORS = {
    "accounts.json": gen_accounts,
    "eip712.json": gen_eip712,
    "ecies.json": gen_ecies,
    "records.json": gen_records,
    "masks.json": gen_masks,
    "unlock.json": gen_unlock,
}


def check() -> None:
    """Re-verifies the committed files with the independent implementations."""
    for name in ("accounts.json", "eip712.json", "masks.json", "unlock.json"):
        stored = json.loads((HERE / name).read_text())
        fresh = GENERATORS[name]()
        assert stored == fresh, f"{name} differs from a fresh computation"
    stored = json.loads((HERE / "ecies.json").read_text())
    for case in stored["from_eciespy"]:
        assert ecies.decrypt(bytes.fromhex(case["recipient_secret"]), bytes.fromhex(case["ciphertext"])) == bytes.fromhex(case["plaintext"])
    fresh = gen_ecies()
    assert stored["fixed"] == fresh["fixed"], "ecies.json fixed cases differ"
    stored = json.loads((HERE / "records.json").read_text())
    fresh = gen_records()
    assert stored["fixed_header"] == fresh["fixed_header"], "records.json fixed_header differs"
    for case in stored["from_tink"]:
        key, aad, ct = (bytes.fromhex(case[k]) for k in ("key", "aad", "ciphertext"))
        assert tink_decrypt(key, aad, case["segment_size"], ct) == bytes.fromhex(case["plaintext"])
        assert sha256(ct).hex() == case["eh"]
    print("all vector files check out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="re-verify instead of rewriting")
    parser.add_argument("files", nargs="*", help="write only these files (default: all)")
    args = parser.parse_args()
    if args.check:
        check()
        return 0
    for name, gen in GENERATORS.items():
        if args.files and name not in args.files:
            continue
        text = json.dumps(gen(), indent=1, ensure_ascii=False) + "\n"
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {name} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
