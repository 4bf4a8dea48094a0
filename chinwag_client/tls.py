"""Client-side TLS: verified by default, trust-on-first-use pinning for self-signed servers.

Rules, in order, for ``host:port``:

1. a fingerprint is pinned for it (in the :class:`PinStore`): the server's
   certificate must have exactly that SHA-256 fingerprint, whoever signed it;
   any other is refused with :class:`FingerprintChanged` (old and new), never
   silently accepted;
2. nothing pinned: the certificate must verify against the system CAs (or
   ``cafile``) with the hostname checked;
3. it does not verify: :class:`UntrustedCertificate` carries its fingerprint,
   so the user can compare it with the one the admin published and, only if
   they say so, pin it (``trust_fingerprint=`` or :meth:`PinStore.pin`).

The chat protocol starts only after the check passed: no hello, no password,
goes to a server that failed it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path

from chinwag_client.client import ChinwagClient
from chinwag_protocol.connection import ClientEvent

_HEX = re.compile(r"[0-9a-f]{64}")
#: where a server's TLS listener is unless configured otherwise (plain TCP: 7447)


class TLSTrustError(Exception):
    """The server's certificate is not trusted; nothing was sent to it."""

    def __init__(self, message: str, host: str, port: int, fingerprint: str) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        #: the certificate the server presented, as ``SHA256:AB:CD:...``
        self.fingerprint = fingerprint


class UntrustedCertificate(TLSTrustError):
    """Verification failed (self-signed, unknown CA, wrong name) and nothing is pinned."""

    def __init__(self, host: str, port: int, fingerprint: str, reason: str) -> None:
        super().__init__(
            f"the certificate of {host}:{port} cannot be verified ({reason}); its fingerprint "
            f"is {fingerprint}",
            host,
            port,
            fingerprint,
        )
        self.reason = reason


class FingerprintChanged(TLSTrustError):
    """The server presented a certificate other than the pinned one: possibly an attack."""

    def __init__(self, host: str, port: int, pinned: str, fingerprint: str) -> None:
        super().__init__(
            f"THE CERTIFICATE OF {host}:{port} HAS CHANGED. Pinned: {pinned}; presented now: "
            f"{fingerprint}. Someone may be intercepting the connection; or the server got a "
            "new certificate. Not connecting.",
            host,
            port,
            fingerprint,
        )
        self.pinned = pinned


def fingerprint(der: bytes) -> str:
    """``SHA256:`` and the colon-separated upper-case hex digest of a DER certificate."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return "SHA256:" + ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def normalize_fingerprint(text: str) -> str:
    """Canonical form of ``SHA256:AB:CD..``, ``ab:cd..`` or ``abcd..`` (spaces ignored).

    ValueError unless it holds exactly 64 hex digits."""
    raw = text.strip()
    if raw.upper().startswith("SHA256:"):
        raw = raw[7:]
    raw = re.sub(r"[\s:]", "", raw).lower()
    if not _HEX.fullmatch(raw):
        raise ValueError(f"not a SHA-256 fingerprint: {text!r}")
    digest = raw.upper()
    return "SHA256:" + ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def default_pin_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "chinwag" / "known_servers.json"


class PinStore:
    """``host:port`` -> pinned fingerprint, in a JSON file (written atomically, mode 0600)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_pin_path()

    @staticmethod
    def key(host: str, port: int) -> str:
        host = host.lower().rstrip(".")
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot read the pinned certificates in {self.path}: {exc}") from None
        if not isinstance(data, dict):
            raise OSError(f"{self.path} is not a JSON object of host:port -> fingerprint")
        return {str(k): str(v) for k, v in data.items()}

    def get(self, host: str, port: int) -> str | None:
        return self.load().get(self.key(host, port))

    def pin(self, host: str, port: int, fp: str) -> None:
        pins = self.load()
        pins[self.key(host, port)] = normalize_fingerprint(fp)
        self._save(pins)

    def forget(self, host: str, port: int) -> bool:
        pins = self.load()
        if pins.pop(self.key(host, port), None) is None:
            return False
        self._save(pins)
        return True

    def _save(self, pins: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".known_servers.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(pins, fh, indent=2, sort_keys=True)
                fh.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def verified_context(cafile: str | Path | None = None) -> ssl.SSLContext:
    """System CAs (or ``cafile``), hostname checked, TLS 1.2 or newer."""
    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def pinning_context() -> ssl.SSLContext:
    """Encrypts without checking the chain: only for connections whose certificate
    fingerprint is compared with a pin before anything is sent."""
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def connect_tls(
    host: str,
    port: int,
    *,
    pins: PinStore | None = None,
    trust_fingerprint: str | None = None,
    cafile: str | Path | None = None,
    timeout: float = 10.0,
    on_event: Callable[[ClientEvent], None] | None = None,
) -> ChinwagClient:
    """Connect over TLS following the module's rules.

    ``trust_fingerprint`` is the user's explicit "yes, trust this one": a server
    presenting it is accepted and pinned in ``pins`` (replacing an older pin: the
    way to accept a changed certificate on purpose), any other is refused.
    Raises :class:`UntrustedCertificate`, :class:`FingerprintChanged`, or the
    usual ``OSError`` / ``ssl.SSLError`` / ``TimeoutError``.
    """
    pinned = pins.get(host, port) if pins is not None else None
    if pinned is not None:
        pinned = normalize_fingerprint(pinned)
    wanted = normalize_fingerprint(trust_fingerprint) if trust_fingerprint else None
    if pinned is None and wanted is None:
        try:
            return await ChinwagClient.connect(
                host,
                port,
                ssl_context=verified_context(cafile),
                server_hostname=host,
                timeout=timeout,
                on_event=on_event,
            )
        except ssl.SSLCertVerificationError as exc:
            reason = exc.verify_message or exc.reason or "verification failed"
            probe = await ChinwagClient.connect(
                host, port, ssl_context=pinning_context(), server_hostname=host, timeout=timeout
            )
            der = probe.peer_certificate
            await probe.close()
            raise UntrustedCertificate(host, port, fingerprint(der or b""), reason) from None
    client = await ChinwagClient.connect(
        host,
        port,
        ssl_context=pinning_context(),
        server_hostname=host,
        timeout=timeout,
        on_event=on_event,
    )
    der = client.peer_certificate
    seen = fingerprint(der or b"")
    if der is not None and seen == (wanted or pinned):
        if pins is not None and seen != pinned:
            pins.pin(host, port, seen)  # the user's explicit choice replaces an older pin
        return client
    await client.close()
    if pinned is not None and seen != pinned:
        raise FingerprintChanged(host, port, pinned, seen)
    raise UntrustedCertificate(
        host, port, seen, f"it is not the fingerprint you trusted ({wanted})"
    )
