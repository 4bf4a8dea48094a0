"""The server's TLS context: stdlib ``ssl``, TLS 1.2 or newer, cert and key from settings.

Every way loading can fail (missing file, unreadable, not PEM, key not
matching the certificate) becomes one :class:`TLSSetupError` whose message
names the file and the cause, so ``chinwag-server`` reports it on one line at
startup instead of a traceback.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from server.config import Settings


class TLSSetupError(Exception):
    """The TLS certificate or key cannot be used; the message says which and why."""


def make_server_context(settings: Settings) -> ssl.SSLContext | None:
    """The context for the TLS listener, or None when ``tls_cert`` is not set."""
    if not settings.tls_cert:
        return None
    cert = Path(settings.tls_cert).expanduser()
    key = Path(settings.tls_key).expanduser() if settings.tls_key else None
    for what, path in (("tls_cert", cert), ("tls_key", key)):
        if path is None:
            continue
        if not path.is_file():
            raise TLSSetupError(f"{what}: no such file: {path}")
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise TLSSetupError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    # the stdlib's server defaults: no SSLv3/TLS 1.0/1.1 (raised below), no compression,
    # forward-secret AEAD ciphers first
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        where = f"{cert} / {key}" if key else str(cert)
        reason = exc.reason or str(exc)
        if "KEY_VALUES_MISMATCH" in str(exc).upper():
            reason = "the private key does not belong to the certificate"
        elif "PEM" in str(reason).upper() or "NO_START_LINE" in str(exc).upper():
            reason = f"not a PEM certificate and private key ({reason})"
        raise TLSSetupError(f"cannot load TLS certificate {where}: {reason}") from None
    except OSError as exc:  # e.g. a key protected by a passphrase with no way to ask
        raise TLSSetupError(f"cannot load TLS certificate {cert}: {exc}") from None
    return ctx


def certificate_fingerprint(cert_file: str | Path) -> str:
    """SHA-256 fingerprint of the first certificate in a PEM file, as clients show it."""
    from chinwag_client.tls import fingerprint

    text = Path(cert_file).read_text(encoding="ascii", errors="replace")
    start = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", start)
    if start < 0 or end < 0:
        raise TLSSetupError(f"{cert_file}: no PEM certificate in it")
    der = ssl.PEM_cert_to_DER_cert(text[start : end + len("-----END CERTIFICATE-----")])
    return fingerprint(der)
