"""``chinwag-server check``: is a server up *and* serving clients?

A TCP connect alone would call a wedged server healthy, so the probe does what
a client does: connect, ``hello`` with a throwaway nick, ``ping``, ``quit``.
Used by the Docker ``HEALTHCHECK``, ``./dev`` and scripts; exit 0 only when
all of it worked, else 1 with a one-line reason.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import ssl
import sys
import time
from dataclasses import dataclass

from chinwag_client import ChinwagClient, ConnectionLost, RequestFailed
from chinwag_protocol.messages import Ok, Ping
from server.logging_setup import PROBE_CLIENT, PROBE_NICK_PREFIX

#: addresses a server listens on for "every interface": probe it via loopback
WILDCARDS = {"", "0.0.0.0", "::", "[::]", "*"}


class CheckFailed(Exception):
    """The server did not answer like a healthy Chinwag server; the message says how."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    server: str
    nick: str
    seconds: float


def probe_host(host: str) -> str:
    return "127.0.0.1" if host in WILDCARDS else host


def probe_tls_context() -> ssl.SSLContext:
    """TLS for a liveness probe: encrypted, but any certificate is accepted (a
    self-signed one on localhost is the normal case; verifying it is the clients' job)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def probe(host: str, port: int, timeout: float, *, tls: bool = False) -> CheckResult:
    """Connect, hello, ping, quit within ``timeout`` seconds; raise CheckFailed otherwise."""
    started = time.monotonic()
    where = f"{host}:{port}"
    client: ChinwagClient | None = None
    try:
        async with asyncio.timeout(timeout):
            client = await ChinwagClient.connect(
                host,
                port,
                timeout=timeout,
                ssl_context=probe_tls_context() if tls else None,
                server_hostname=host if tls else None,
            )
            ok = await client.hello(PROBE_NICK_PREFIX + secrets.token_hex(4), client=PROBE_CLIENT)
            await client.call(Ping(), Ok)
            await client.quit(timeout=timeout)
            return CheckResult(ok.server, ok.nick, time.monotonic() - started)
    except TimeoutError:
        raise CheckFailed(f"{where} did not answer within {timeout:g}s") from None
    except RequestFailed as exc:
        raise CheckFailed(f"{where} refused the probe: {exc.code}: {exc.message}") from None
    except ConnectionLost as exc:
        raise CheckFailed(f"{where} closed the connection ({exc})") from None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
        raise CheckFailed(f"cannot connect to {where}: {reason}") from None
    except (ValueError, TypeError) as exc:  # e.g. a non-Chinwag service on that port
        raise CheckFailed(f"{where} does not speak the Chinwag protocol ({exc})") from None
    finally:
        if client is not None:
            await client.close()


def run_check(
    host: str, port: int, timeout: float, *, tls: bool = False, quiet: bool = False
) -> int:
    """Probe and print the outcome; the process exit status (0 healthy, 1 not)."""
    target = probe_host(host)
    try:
        result = asyncio.run(probe(target, port, timeout, tls=tls))
    except CheckFailed as exc:
        print(f"chinwag-server check: FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    if not quiet:
        print(
            f"chinwag-server check: ok: {result.server!r} at {target}:{port} answered "
            f"hello and ping in {result.seconds * 1000:.0f} ms",
            flush=True,
        )
    return 0
