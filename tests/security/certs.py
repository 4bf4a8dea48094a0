"""Self-signed test certificates made with the ``openssl`` command (as docs/tls.md shows)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from server.tls import certificate_fingerprint


@dataclass(frozen=True)
class Cert:
    cert: Path
    key: Path

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.cert)


def make_cert(directory: Path, name: str = "server", cn: str = "localhost") -> Cert:
    """A fresh P-256 self-signed certificate for localhost and 127.0.0.1."""
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make test certificates"
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", f"/CN={cn}", "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Cert(cert, key)
