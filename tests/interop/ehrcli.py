"""Helpers shared by the interoperability tests: running the `ehrchain` CLI.

The binary is `target/release/ehrchain` of this repository unless the
environment variable EHRCHAIN_BIN names another one. A missing binary makes
every test that needs it FAIL (never skip): an interop suite that silently
skips proves nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / "target" / "release" / "ehrchain"

#: The one stderr line of every failure.
ERROR_LINE = re.compile(r"^error\[([A-Za-z]+)\]: \S.*$")

#: secp256k1 group order and field prime.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F


def binary() -> Path:
    """The CLI under test; fails the calling test if it is not there."""
    env = os.environ.get("EHRCHAIN_BIN")
    path = Path(env) if env else DEFAULT_BIN
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"ehrchain binary not found or not executable at {path} "
            "(build it with `cargo build --release` or set EHRCHAIN_BIN)",
            pytrace=False,
        )
    return path


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.decode("utf-8", "replace").splitlines()

    def describe(self) -> str:
        err = self.stderr.decode("utf-8", "replace")
        return f"ehrchain {' '.join(self.args)} -> exit {self.returncode}, stderr: {err!r}"


def run(*args: object, input: bytes = b"", timeout: float = 120) -> Run:
    """Runs the CLI with `args` (converted with str) and `input` on stdin."""
    argv = [str(a) for a in args]
    proc = subprocess.run(
        [str(binary()), *argv],
        input=input,
        capture_output=True,
        timeout=timeout,
    )
    return Run(argv, proc.returncode, proc.stdout, proc.stderr)


def ok(*args: object, input: bytes = b"") -> Run:
    """Runs the CLI and asserts success."""
    r = run(*args, input=input)
    assert r.returncode == 0, r.describe()
    return r


def ok_text(*args: object, input: bytes = b"") -> str:
    """Runs the CLI, asserts success and returns stdout's single line."""
    r = ok(*args, input=input)
    out = r.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1, r.describe() + f" stdout {out!r}"
    return out[:-1]


def ok_hex(*args: object, input: bytes = b"") -> bytes:
    """Runs the CLI and decodes its 0x-prefixed lowercase hex line."""
    text = ok_text(*args, input=input)
    assert text.startswith("0x"), text
    assert text == text.lower(), f"hex output not lowercase: {text}"
    return bytes.fromhex(text[2:])


def assert_error(r: Run, code: str | set[str] | None = None) -> str:
    """Asserts the failure contract: exit 1, one stderr line `error[Code]: msg`.

    Returns the code. `code` may be one code or a set of acceptable codes.
    """
    assert r.returncode == 1, r.describe()
    lines = r.stderr_lines
    assert len(lines) == 1, r.describe()
    m = ERROR_LINE.match(lines[0])
    assert m, r.describe()
    if code is not None:
        wanted = {code} if isinstance(code, str) else set(code)
        assert m.group(1) in wanted, f"expected error[{'|'.join(sorted(wanted))}]; " + r.describe()
    return m.group(1)


def fails(code: str | set[str] | None, *args: object, input: bytes = b"") -> Run:
    """Runs the CLI and asserts it fails with `code`."""
    r = run(*args, input=input)
    assert_error(r, code)
    return r


def fails_without_output_file(
    tmp_dir: Path, code: str | set[str] | None, *args: object, input: bytes = b""
) -> Run:
    """Runs the CLI with `-o FILE` in a fresh empty directory and asserts it fails
    with `code`, leaves no FILE and no temporary file behind, and prints nothing."""
    out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=tmp_dir))
    target = out_dir / "result.bin"
    r = run(*args, "-o", target, input=input)
    assert_error(r, code)
    assert not target.exists(), "failed run left its -o file behind: " + r.describe()
    assert list(out_dir.iterdir()) == [], f"failed run left files: {list(out_dir.iterdir())}"
    assert r.stdout == b"", "output went to stdout despite -o"
    return r


def hex0x(b: bytes) -> str:
    return "0x" + b.hex()


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    """`data` with one bit flipped at `index`."""
    b = bytearray(data)
    b[index] ^= mask
    return bytes(b)


def off_curve_compressed_x() -> bytes:
    """A 33-byte compressed encoding whose x has no y on secp256k1."""
    x = 1
    while True:
        rhs = (pow(x, 3, P) + 7) % P
        if pow(rhs, (P - 1) // 2, P) == P - 1:  # quadratic non-residue
            return b"\x02" + x.to_bytes(32, "big")
        x += 1
