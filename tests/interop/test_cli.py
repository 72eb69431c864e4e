"""The CLI's failure contract: exit status 1, exactly one stderr line
`error[<Code>]: <message>`, and with `-o FILE` no file left behind."""

from __future__ import annotations

import hashlib
import json

import coincurve
import pytest

from ehrcli import (
    ERROR_LINE,
    N,
    assert_error,
    binary,
    fails_without_output_file,
    hex0x,
    off_curve_compressed_x,
    ok,
    ok_hex,
    ok_text,
    run,
)

SECRET = "11" * 32
ADDRESS = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # of SECRET
PUB33 = coincurve.PrivateKey(bytes.fromhex(SECRET)).public_key.format(True)
PUB65 = coincurve.PrivateKey(bytes.fromhex(SECRET)).public_key.format(False)
OFF_CURVE_33 = off_curve_compressed_x()
OFF_CURVE_65 = PUB65[:-1] + bytes([PUB65[-1] ^ 1])  # y changed
KEY16 = "00112233445566778899aabbccddeeff"

CERT_ARGS = [
    "--authority-secret", SECRET,
    "--doctor", ADDRESS,
    "--protocol-key", PUB33.hex(),
    "--hospital", "H",
    "--valid-from", "10",
    "--valid-until", "20",
    "--serial", "1",
]


def cert_args(**over):
    args = list(CERT_ARGS)
    for k, v in over.items():
        i = args.index("--" + k.replace("_", "-"))
        args[i + 1] = v
    return args


def stdin_bytes(stdin) -> bytes:
    """`"CERT"` stands for a valid certificate (made by the CLI when needed)."""
    if stdin == "CERT":
        return ok("cert", "issue", *CERT_ARGS).stdout
    return stdin


def test_binary_runs():
    assert binary().is_file()
    r = ok("--version")
    assert r.stdout.startswith(b"ehrchain")


# (id, args, stdin, expected code)
FAILURES = [
    # malformed hex
    ("secret-not-hex", ["address", "--secret", "zz" * 32], b"", "InvalidHex"),
    ("secret-odd-length", ["address", "--secret", "1" * 63], b"", "InvalidHex"),
    ("secret-space", ["address", "--secret", " " + SECRET], b"", "InvalidHex"),
    ("key-not-hex", ["encrypt", "--key", "g" * 32], b"x", "InvalidHex"),
    ("aad-not-hex", ["encrypt", "--key", KEY16, "--aad", "0xq1"], b"x", "InvalidHex"),
    ("pubkey-not-hex", ["seal", "--to", "0x0"], b"x", "InvalidHex"),
    ("signature-not-hex", ["recover-message", "--signature", "xy" * 65], b"m", "InvalidHex"),
    ("expect-hash-not-hex", ["decrypt", "--key", KEY16, "--expect-hash", "h" * 64], b"", "InvalidHex"),
    # wrong lengths
    ("record-key-15", ["encrypt", "--key", KEY16[:-2]], b"x", "InvalidLength"),
    ("record-key-24", ["encrypt", "--key", "ab" * 24], b"x", "InvalidLength"),
    ("record-key-33", ["decrypt", "--key", "ab" * 33], b"", "InvalidLength"),
    ("record-key-empty", ["encrypt", "--key", ""], b"x", "InvalidLength"),
    ("secret-31", ["pubkey", "--secret", SECRET[:-2]], b"", "InvalidLength"),
    ("secret-33", ["sign-message", "--secret", SECRET + "11"], b"m", "InvalidLength"),
    ("open-secret-short", ["open", "--secret", "11"], b"x" * 200, "InvalidLength"),
    ("pubkey-34", ["seal", "--to", PUB33.hex() + "00"], b"x", "InvalidLength"),
    ("pubkey-64", ["seal", "--to", PUB65[1:].hex()], b"x", "InvalidLength"),
    ("pubkey-empty", ["seal", "--to", "0x"], b"x", "InvalidLength"),
    ("signature-64", ["recover-message", "--signature", "11" * 64], b"m", {"InvalidLength", "InvalidSignature"}),
    ("expect-hash-31", ["decrypt", "--key", KEY16, "--expect-hash", "ab" * 31], b"", "InvalidLength"),
    # invalid keys and points
    ("secret-zero", ["address", "--secret", "00" * 32], b"", "InvalidSecretKey"),
    ("secret-order", ["address", "--secret", N.to_bytes(32, "big").hex()], b"", "InvalidSecretKey"),
    ("secret-max", ["pubkey", "--secret", "ff" * 32], b"", "InvalidSecretKey"),
    ("pubkey-off-curve-33", ["seal", "--to", OFF_CURVE_33.hex()], b"x", "InvalidPublicKey"),
    ("pubkey-off-curve-65", ["seal", "--to", OFF_CURVE_65.hex()], b"x", "InvalidPublicKey"),
    ("pubkey-bad-prefix", ["seal", "--to", "05" + PUB33[1:].hex()], b"x", "InvalidPublicKey"),
    ("pubkey-65-with-02", ["seal", "--to", "02" + PUB65[1:].hex()], b"x", {"InvalidPublicKey", "InvalidLength"}),
    ("pubkey-zero-point", ["seal", "--to", "04" + "00" * 64], b"x", "InvalidPublicKey"),
    ("cert-off-curve-key", ["cert", "issue", *cert_args(protocol_key=OFF_CURVE_33.hex())], b"", "InvalidPublicKey"),
    ("cert-off-curve-key-65", ["cert", "issue", *cert_args(protocol_key=OFF_CURVE_65.hex())], b"", "InvalidPublicKey"),
    # signatures
    ("signature-bad-v", ["recover-message", "--signature", "11" * 64 + "1d"], b"m", "InvalidSignature"),
    ("signature-zero", ["recover-message", "--signature", "00" * 65], b"m", "InvalidSignature"),
    ("signature-r-ge-n", ["recover-message", "--signature", N.to_bytes(32, "big").hex() + "11" * 32 + "1b"], b"m",
     "InvalidSignature"),
    # addresses
    ("doctor-bad-checksum", ["cert", "issue", *cert_args(doctor=ADDRESS[:-1] + ADDRESS[-1].swapcase())], b"",
     "InvalidAddress"),
    ("doctor-short", ["cert", "issue", *cert_args(doctor=ADDRESS[:-2])], b"", "InvalidAddress"),
    ("authority-not-address", ["cert", "verify", "--authority", "0xabc", "--at", "15"], "CERT", "InvalidAddress"),
    ("authority-bad-checksum", ["cert", "verify", "--authority", ADDRESS.swapcase().replace("0X", "0x"), "--at", "15"],
     "CERT", "InvalidAddress"),
    # certificates
    ("cert-empty-validity", ["cert", "issue", *cert_args(valid_from="20")], b"", "InvalidValidity"),
    ("cert-serial-too-big", ["cert", "issue", *cert_args(serial=str(2**53))], b"", "OutOfRange"),
    ("cert-empty-hospital", ["cert", "issue", *cert_args(hospital="")], b"", "OutOfRange"),
    ("cert-verify-not-json", ["cert", "verify", "--authority", ADDRESS, "--at", "1"], b"{", "MalformedJson"),
    ("cert-verify-empty-object", ["cert", "verify", "--authority", ADDRESS, "--at", "1"], b"{}",
     {"MalformedJson", "CertificateMalformed"}),
    # typed data
    ("typed-data-not-json", ["typed-data", "hash"], b"not json", "MalformedJson"),
    ("typed-data-empty", ["typed-data", "hash"], b"", "MalformedJson"),
    ("typed-data-not-utf8", ["typed-data", "hash"], b"\xff\xfe", {"Io", "MalformedJson"}),
    ("typed-data-undeclared-type", ["typed-data", "hash"],
     json.dumps({"types": {}, "primaryType": "X", "domain": {}, "message": {}}).encode(), "InvalidTypedData"),
    ("typed-data-missing-field", ["typed-data", "hash"],
     json.dumps({"types": {"X": [{"name": "a", "type": "uint8"}]}, "primaryType": "X",
                 "domain": {"name": "d"}, "message": {}}).encode(), "InvalidTypedData"),
    ("typed-data-out-of-range", ["typed-data", "hash"],
     json.dumps({"types": {"X": [{"name": "a", "type": "uint8"}]}, "primaryType": "X",
                 "domain": {"name": "d"}, "message": {"a": 256}}).encode(), "InvalidTypedData"),
    ("typed-data-sign-bad-secret", ["typed-data", "sign", "--secret", "00" * 32],
     json.dumps({"types": {"X": [{"name": "a", "type": "uint8"}]}, "primaryType": "X",
                 "domain": {"name": "d"}, "message": {"a": 1}}).encode(), "InvalidSecretKey"),
    # streams
    ("segment-size-too-small", ["encrypt", "--key", KEY16, "--segment-size", "40"], b"x", "InvalidStreamParams"),
    ("segment-size-zero", ["decrypt", "--key", KEY16, "--segment-size", "0"], b"x", "InvalidStreamParams"),
    ("decrypt-garbage", ["decrypt", "--key", KEY16], b"\x18" + b"\x00" * 100, "WrongKeyOrAssociatedData"),
    ("decrypt-bad-header-byte", ["decrypt", "--key", KEY16], b"\x00" * 100, "InvalidHeader"),
    ("decrypt-empty", ["decrypt", "--key", KEY16], b"", "Truncated"),
    ("open-empty", ["open", "--secret", SECRET], b"", "EciesTooShort"),
    # files
    ("input-missing", ["sign-message", "--secret", SECRET, "-i", "/nonexistent/ehrchain-input"], b"", "Io"),
    ("output-dir-missing", ["address", "--secret", SECRET, "-o", "/nonexistent/dir/out"], b"", "Io"),
]


@pytest.mark.parametrize("args, stdin, code", [pytest.param(*f[1:], id=f[0]) for f in FAILURES])
def test_failure_contract(args, stdin, code):
    r = run(*args, input=stdin_bytes(stdin))
    assert_error(r, code)
    if args[0] not in ("decrypt",):  # decrypt streams; nothing else prints before failing
        assert r.stdout == b"", r.describe()


@pytest.mark.parametrize(
    "args, stdin, code",
    [pytest.param(*f[1:], id=f[0]) for f in FAILURES if "-o" not in f[1] and "-i" not in f[1]],
)
def test_failure_leaves_no_output_file(tmp_path, args, stdin, code):
    fails_without_output_file(tmp_path, code, *args, input=stdin_bytes(stdin))


def test_failure_after_output_started_leaves_no_file(tmp_path):
    """Decryption fails only in the last of many segments: a partial plaintext
    has been produced by then, and must not survive."""
    pt = bytes(300_000)
    ct = ok("encrypt", "--key", KEY16, "--segment-size", "4096", input=pt).stdout
    bad = ct[:-1] + bytes([ct[-1] ^ 1])
    fails_without_output_file(tmp_path, "SegmentTampered", "decrypt", "--key", KEY16, "--segment-size", "4096",
                              input=bad)
    big = ok("encrypt", "--key", KEY16, input=bytes(3 << 20)).stdout
    fails_without_output_file(tmp_path, "Truncated", "decrypt", "--key", KEY16, input=big[: 2 << 20])


def test_existing_output_file_untouched_on_failure(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"previous contents")
    r = run("address", "--secret", "00" * 32, "-o", target)
    assert_error(r, "InvalidSecretKey")
    assert target.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_success_with_output_file(tmp_path):
    target = tmp_path / "addr.txt"
    r = ok("address", "--secret", SECRET, "-o", target)
    assert r.stdout == b"" and r.stderr == b""
    assert target.read_text() == ADDRESS + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["addr.txt"]


def test_input_file(tmp_path):
    msg = tmp_path / "msg"
    msg.write_bytes(b"from a file")
    a = ok_hex("sign-message", "--secret", SECRET, "-i", msg)
    b = ok_hex("sign-message", "--secret", SECRET, input=b"from a file")
    assert a == b
    assert ok_text("recover-message", "--signature", hex0x(a), "-i", msg) == ADDRESS


def test_hex_inputs_accept_0x_prefix_and_uppercase():
    assert ok_text("address", "--secret", "0x" + SECRET.upper()) == ADDRESS
    assert ok_hex("pubkey", "--secret", SECRET) == PUB33
    assert ok_hex("pubkey", "--secret", SECRET, "--uncompressed") == PUB65


def test_encrypt_hash_line_is_last_stderr_line():
    r = ok("encrypt", "--key", KEY16, input=b"abc")
    last = r.stderr.decode().splitlines()[-1]
    assert last == hashlib.sha256(r.stdout).hexdigest()
    assert len(last) == 64 and last == last.lower() and not last.startswith("0x")


USAGE_ERRORS = [
    pytest.param(["encrypt"], id="missing-required-option"),
    pytest.param(["encrypt", "--key", KEY16, "--segment-size", "abc"], id="non-numeric-option"),
    pytest.param(["cert", "verify", "--authority", ADDRESS, "--at", "-1"], id="negative-time"),
    pytest.param(["no-such-command"], id="unknown-subcommand"),
    pytest.param(["address", "--secret", SECRET, "--bogus"], id="unknown-flag"),
]


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_usage_errors_follow_contract(args):
    r = run(*args)
    assert r.returncode == 1, r.describe()
    assert len(r.stderr_lines) == 1 and ERROR_LINE.match(r.stderr_lines[0]), r.describe()


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_usage_errors_fail_and_write_nothing(tmp_path, args):
    """Whatever their exit code, usage errors fail and create no output file."""
    target = tmp_path / "out"
    r = run(*args, "-o", target)
    assert r.returncode != 0 and r.stdout == b"", r.describe()
    assert not target.exists()


def test_secrets_can_come_from_env_or_file_not_argv(tmp_path, monkeypatch):
    """`env:NAME` and `file:PATH` keep secrets out of the process list."""
    monkeypatch.setenv("EHRCHAIN_TEST_SECRET", SECRET)
    assert ok("address", "--secret", "env:EHRCHAIN_TEST_SECRET").stdout.decode().strip() == ADDRESS
    secret_file = tmp_path / "key"
    secret_file.write_text("0x" + SECRET + "\n")
    assert ok("address", "--secret", f"file:{secret_file}").stdout.decode().strip() == ADDRESS
    missing = run("address", "--secret", "env:EHRCHAIN_NO_SUCH_VARIABLE")
    assert missing.returncode == 1 and ERROR_LINE.match(missing.stderr_lines[0])
