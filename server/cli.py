"""``chinwag-server``: run the server (the default command)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from chinwag_protocol.constants import DEFAULT_HOST, DEFAULT_PORT
from server import __version__
from server.app import ChinwagServer
from server.config import ConfigError, Settings, add_arguments, load_settings
from server.storage import StorageError

log = logging.getLogger("server")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chinwag-server",
        description=(
            "Chinwag chat server: newline-delimited JSON over TCP. Settings come from, in "
            "rising precedence: built-in defaults, a TOML file (--config), CHINWAG_* "
            f"environment variables, these flags. With none it listens on {DEFAULT_HOST}:"
            f"{DEFAULT_PORT}."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chinwag-server {__version__}")
    add_arguments(parser)
    return parser


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def install_uvloop() -> bool:
    """Use uvloop when it is installed (the optional ``fast`` extra)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


async def run_server(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = ChinwagServer(settings)
    await server.serve(stop.wait())


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args)
    except ConfigError as exc:
        parser.exit(2, f"chinwag-server: {exc}\n")
    setup_logging(settings)
    fast = install_uvloop()
    log.debug("event loop: %s", "uvloop" if fast else "asyncio")
    try:
        asyncio.run(run_server(settings))
    except StorageError as exc:
        log.error("%s", exc)
        sys.exit(1)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc.strerror or exc)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
