"""Where and how to connect: the one place connection options become client arguments.

TLS (``--tls`` / ``--no-tls`` and certificate options) is designed elsewhere;
it plugs in here by adding its flags in :func:`add_connection_flags` and
filling ``ssl_context`` / ``server_hostname`` in :func:`connection_args`.
Nothing else in the CLI needs to change.
"""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from chinwag_client.client import ChinwagClient
from chinwag_protocol.connection import ClientEvent
from chinwag_protocol.constants import DEFAULT_HOST, DEFAULT_PORT

#: Seconds to wait for the TCP connection, for ``hello`` and for each reply.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ConnectArgs:
    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None
    server_hostname: str | None = None
    timeout: float = DEFAULT_TIMEOUT

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
        "--port", type=_port, default=DEFAULT_PORT, help="server port (default %(default)s)"
    )
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="give up connecting, or waiting for a reply, after this long (default %(default)g)",
    )


def connection_args(ns: argparse.Namespace) -> ConnectArgs:
    """The connection the parsed flags ask for (plain TCP until TLS lands here)."""
    return ConnectArgs(host=ns.host, port=ns.port, timeout=ns.timeout)


async def open_client(
    target: ConnectArgs, on_event: Callable[[ClientEvent], None]
) -> ChinwagClient:
    return await ChinwagClient.connect(
        target.host,
        target.port,
        ssl_context=target.ssl_context,
        server_hostname=target.server_hostname,
        timeout=target.timeout,
        on_event=on_event,
    )
