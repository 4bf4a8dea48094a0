"""Where and how to connect: the one place connection options become client arguments.

TLS (``--tls``, ``--tls-ca``, ``--trust-fingerprint``, ``--known-servers``)
follows :mod:`chinwag_client.tls`: certificates verified by default, explicit
trust-on-first-use pinning for self-signed servers, a loud refusal when a
pinned fingerprint changes.  Every TLS refusal reaches the caller as
:class:`TLSRefused` (an ``OSError``), so it is reported like any other failed
connection.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chinwag_client.client import ChinwagClient
from chinwag_client.tls import (
    FingerprintChanged,
    PinStore,
    UntrustedCertificate,
    connect_tls,
    normalize_fingerprint,
)
from chinwag_protocol.connection import ClientEvent
from chinwag_protocol.constants import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TLS_PORT

#: Seconds to wait for the TCP connection, for ``hello`` and for each reply.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ConnectArgs:
    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None
    server_hostname: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    #: TLS with verification / pinning (chinwag_client.tls)
    tls: bool = False
    cafile: Path | None = None
    trust_fingerprint: str | None = None
    known_servers: Path | None = None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("the timeout is more than 0 and at most 86400 seconds")
    return value


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--host", default=DEFAULT_HOST, help="server host name or address (default %(default)s)"
    )
    group.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"server port (default {DEFAULT_PORT}, with --tls {DEFAULT_TLS_PORT})",
    )
    group.add_argument(
        "--tls",
        action="store_true",
        help="connect with TLS; the certificate is verified against the system CAs (or "
        "--tls-ca), or must match the fingerprint pinned for this server",
    )
    group.add_argument(
        "--tls-ca",
        type=Path,
        metavar="FILE",
        help="trust the CA certificate(s) in this PEM file (implies --tls)",
    )
    group.add_argument(
        "--trust-fingerprint",
        type=_fingerprint,
        metavar="SHA256",
        help="accept a self-signed server whose certificate has this SHA-256 fingerprint "
        "and pin it (implies --tls); compare it with the one the server's admin published",
    )
    group.add_argument(
        "--known-servers",
        type=Path,
        metavar="FILE",
        help="pinned fingerprints file (default ~/.config/chinwag/known_servers.json)",
    )
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="give up connecting, or waiting for a reply, after this long (default %(default)g)",
    )


def _fingerprint(text: str) -> str:
    try:
        return normalize_fingerprint(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def connection_args(ns: argparse.Namespace) -> ConnectArgs:
    """The connection the parsed flags ask for."""
    tls = bool(
        getattr(ns, "tls", False)
        or getattr(ns, "tls_ca", None)
        or getattr(ns, "trust_fingerprint", None)
    )
    port = ns.port if ns.port is not None else DEFAULT_TLS_PORT if tls else DEFAULT_PORT
    return ConnectArgs(
        host=ns.host,
        port=port,
        timeout=ns.timeout,
        tls=tls,
        cafile=getattr(ns, "tls_ca", None),
        trust_fingerprint=getattr(ns, "trust_fingerprint", None),
        known_servers=getattr(ns, "known_servers", None),
    )


class TLSRefused(OSError):
    """The server's certificate was not accepted; ``str()`` says why."""


def _warn(lines: list[str]) -> None:
    bar = "@" * 72
    print("\n".join([bar, *lines, bar]), file=sys.stderr, flush=True)


async def _ask_trust(err: UntrustedCertificate) -> bool:
    """On a terminal, show the fingerprint and ask; elsewhere never trust.

    Like the nick prompt, the question goes to stdout when that is the terminal."""
    if not sys.stdin.isatty():
        return False
    ask = sys.stdout if sys.stdout.isatty() else sys.stderr
    print(
        f"The certificate of {err.host}:{err.port} cannot be verified ({err.reason}).\n"
        f"Its fingerprint is\n    {err.fingerprint}\n"
        "Trust it only if it matches the fingerprint the server's admin gave you.\n"
        "Trust and remember this certificate? [yes/no] ",
        end="",
        file=ask,
        flush=True,
    )
    answer = await asyncio.to_thread(sys.stdin.readline)
    return answer.strip().lower() in ("y", "yes")


async def _open_tls(target: ConnectArgs, on_event: Callable[[ClientEvent], None]) -> ChinwagClient:
    pins = PinStore(target.known_servers)
    trust = target.trust_fingerprint
    while True:
        try:
            return await connect_tls(
                target.host,
                target.port,
                pins=pins,
                trust_fingerprint=trust,
                cafile=target.cafile,
                timeout=target.timeout,
                on_event=on_event,
            )
        except FingerprintChanged as exc:
            _warn(
                [
                    f"WARNING: THE CERTIFICATE OF {exc.host}:{exc.port} HAS CHANGED!",
                    "Someone could be intercepting your connection (man in the middle),",
                    "or the server got a new certificate. Not connecting.",
                    f"  pinned:    {exc.pinned}",
                    f"  presented: {exc.fingerprint}",
                    "If the admin confirms the new one, connect once with",
                    f"  --trust-fingerprint {exc.fingerprint}",
                    f"(the pin is in {pins.path})",
                ]
            )
            raise TLSRefused(f"certificate fingerprint changed (pinned in {pins.path})") from None
        except UntrustedCertificate as exc:
            if trust is None and await _ask_trust(exc):
                trust = exc.fingerprint
                continue
            hint = "" if trust else f"; to trust it: --trust-fingerprint {exc.fingerprint}"
            raise TLSRefused(f"{exc}{hint}") from None
        except ssl.SSLError as exc:
            raise TLSRefused(f"TLS failed ({exc.reason or exc})") from None


async def open_client(
    target: ConnectArgs, on_event: Callable[[ClientEvent], None]
) -> ChinwagClient:
    if target.tls:
        return await _open_tls(target, on_event)
    return await ChinwagClient.connect(
        target.host,
        target.port,
        ssl_context=target.ssl_context,
        server_hostname=target.server_hostname,
        timeout=target.timeout,
        on_event=on_event,
    )
