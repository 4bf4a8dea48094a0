"""``chinwag-server``: run the server (the default command), or stop/status/reload/check it.

    chinwag-server [run] [SETTINGS FLAGS] [--daemon]
    chinwag-server stop   [--pidfile P] [--timeout S]
    chinwag-server status [--pidfile P]          exit 0 running, 1 dead (stale pidfile), 3 stopped
    chinwag-server reload [--pidfile P]          SIGHUP: reopen the log, reload live settings
    chinwag-server check  [--host H] [--port P]  exit 0 only if a server answers hello and ping

Heavy imports (the server itself, SQLite, prometheus-client) happen only on
the ``run`` path, so ``check`` - run every few seconds by a container
healthcheck - starts quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from chinwag_protocol.constants import DEFAULT_HOST, DEFAULT_PORT
from server import __version__
from server.config import ENV_PREFIX, ConfigError, Settings, add_arguments, load_settings
from server.pidfile import PidFile, PidFileError, process_gone, read_status

if TYPE_CHECKING:
    from server.app import ChinwagServer
    from server.daemon import Readiness
    from server.logging_setup import LogControl

log = logging.getLogger("server")

COMMANDS = ("run", "stop", "status", "reload", "check")
#: LSB exit codes of ``status``
STATUS_RUNNING, STATUS_DEAD, STATUS_STOPPED, STATUS_UNKNOWN = 0, 1, 3, 4

_EPILOG = """\
other commands:
  chinwag-server stop [--pidfile P] [--timeout S]   stop a server started with a pidfile (SIGTERM)
  chinwag-server status [--pidfile P]               exit 0 if running, 1 if dead, 3 if stopped
  chinwag-server reload [--pidfile P]               send SIGHUP (reopen the log, reload settings)
  chinwag-server check [--host H] [--port P]        exit 0 only if a server answers hello and ping
  (each takes --help)

signals: SIGTERM/SIGINT stop gracefully (every acknowledged message is on disk first);
SIGHUP reopens the log file and reloads the live settings (motd, limits, logging).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chinwag-server",
        usage="chinwag-server [run] [options] | chinwag-server {stop,status,reload,check} ...",
        description=(
            "Chinwag chat server: newline-delimited JSON over TCP. Settings come from, in "
            "rising precedence: built-in defaults, a TOML file (--config), CHINWAG_* "
            f"environment variables, these flags. With none it listens on {DEFAULT_HOST}:"
            f"{DEFAULT_PORT}."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chinwag-server {__version__}")
    parser.add_argument(
        "--daemon",
        action="store_true",
        help="detach into the background once the server listens; logs go to --log-file "
        "(default DATA_DIR/chinwag.log), the locked pidfile is --pidfile (default "
        "DATA_DIR/chinwag.pid). Under systemd or Docker run in the foreground instead",
    )
    add_arguments(parser)
    return parser


def _pidfile_parser(command: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"chinwag-server {command}", description=description)
    parser.add_argument(
        "--pidfile",
        type=Path,
        help=f"the server's pidfile (default: the pidfile setting from --config / "
        f"{ENV_PREFIX}PIDFILE, else DATA_DIR/chinwag.pid)",
    )
    parser.add_argument("--config", type=Path, help="TOML settings file to read pidfile/data_dir")
    parser.add_argument("--data-dir", dest="data_dir", type=Path, help="the server's data_dir")
    return parser


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chinwag-server check",
        description="Connect to a server, say hello with a throwaway nick, ping, quit. Exit 0 "
        "only if all of that worked, else 1 with a one-line reason. Host and port default to "
        f"the server's settings (--config, {ENV_PREFIX}HOST, {ENV_PREFIX}PORT); a wildcard "
        "listen address is probed on 127.0.0.1.",
    )
    parser.add_argument("--host", help="server address")
    parser.add_argument("--port", type=int, help="server port")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds in all (default 5)")
    parser.add_argument("--config", type=Path, help="TOML settings file to read host/port from")
    parser.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="probe over TLS, accepting any certificate; without --port this probes the "
        "tls_port setting (default: TLS when the settings turn plain TCP off)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only failures")
    return parser


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"chinwag-server: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# ---- run ------------------------------------------------------------------


def effective_settings(args: argparse.Namespace, base: Path, *, daemon: bool) -> Settings:
    """Load the settings, fill the daemon defaults and make every path absolute.

    The daemon runs in ``/``, and SIGHUP re-reads the sources later, so relative
    paths are resolved once, against the directory the command was typed in.
    """
    settings = load_settings(args)
    data_dir = base / settings.data_dir
    changes: dict[str, object] = {"data_dir": data_dir}
    if settings.log_file:
        changes["log_file"] = str(base / settings.log_file)
    elif daemon:
        changes["log_file"] = str(data_dir / "chinwag.log")
    if settings.pidfile:
        changes["pidfile"] = str(base / settings.pidfile)
    elif daemon:
        changes["pidfile"] = str(data_dir / "chinwag.pid")
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def install_uvloop() -> bool:
    """Use uvloop when it is installed (the optional ``fast`` extra)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


async def _reload(
    server: ChinwagServer, logs: LogControl, args: argparse.Namespace, base: Path, daemon: bool
) -> None:
    try:
        path = logs.reopen()
    except OSError as exc:
        log.error("SIGHUP: cannot reopen the log file: %s; still writing to the old one", exc)
    else:
        if path is not None:
            log.info("SIGHUP: reopened log file %s", path)
    try:
        new = effective_settings(args, base, daemon=daemon)
    except ConfigError as exc:
        log.error("SIGHUP: settings not reloaded (%s); keeping the current ones", exc)
        return
    try:
        logs.apply(new)
    except OSError as exc:
        log.error("SIGHUP: cannot open log file %s: %s; logging settings kept", new.log_file, exc)
        new = dataclasses.replace(
            new,
            log_file=server.settings.log_file,
            log_format=server.settings.log_format,
            log_level=server.settings.log_level,
        )
    applied, ignored = await server.reload(new)
    if applied:
        log.info("SIGHUP: reloaded settings; changed: %s", ", ".join(applied))
    else:
        log.info("SIGHUP: reloaded settings; no live setting changed")
    if ignored:
        log.warning("SIGHUP: %s changed but only take effect after a restart", ", ".join(ignored))


async def run_server(
    settings: Settings,
    *,
    args: argparse.Namespace,
    base: Path,
    logs: LogControl,
    readiness: Readiness | None,
) -> None:
    from server.app import ChinwagServer

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = ChinwagServer(settings)
    reloading: set[asyncio.Task[None]] = set()
    started = asyncio.Event()

    async def reload_when_started() -> None:
        await started.wait()  # a SIGHUP during startup applies once the server runs
        await _reload(server, logs, args, base, readiness is not None)

    def on_hup() -> None:
        if stop.is_set():
            log.info("SIGHUP ignored: shutting down")
            return
        if reloading:
            log.info("SIGHUP: a reload is already running")
            return
        task = loop.create_task(reload_when_started())
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    await server.start()
    started.set()
    if readiness is not None:
        readiness.ready(server.host, server.port)
    try:
        await stop.wait()
        log.info("stopping (signal received)")
    finally:
        stop.set()
        for task in list(reloading):
            task.cancel()
        await server.close()


def cmd_run(argv: Sequence[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    base = Path.cwd()
    if args.config is not None:
        args.config = base / args.config
    if os.environ.get(ENV_PREFIX + "CONFIG"):
        os.environ[ENV_PREFIX + "CONFIG"] = str(base / os.environ[ENV_PREFIX + "CONFIG"])
    try:
        settings = effective_settings(args, base, daemon=args.daemon)
    except ConfigError as exc:
        parser.exit(2, f"chinwag-server: {exc}\n")

    from server.logging_setup import check_log_file, configure_logging
    from server.storage import StorageError
    from server.tls import TLSSetupError

    pidfile = PidFile(Path(settings.pidfile)) if settings.pidfile else None
    if pidfile is not None:
        try:
            pidfile.acquire()
        except PidFileError as exc:
            _fail(str(exc))
    readiness: Readiness | None = None
    try:
        if args.daemon:
            from server.daemon import daemonize

            assert pidfile is not None
            log_path = Path(settings.log_file)
            try:
                check_log_file(log_path)
            except OSError as exc:
                _fail(f"cannot open log file {log_path}: {exc.strerror or exc}")
            readiness = daemonize(pidfile, log_path)
        try:
            logs = configure_logging(settings, redirect_stderr=args.daemon)
        except OSError as exc:
            if readiness is not None:
                readiness.fail(f"cannot open log file {settings.log_file}: {exc}")
            _fail(f"cannot open log file {settings.log_file}: {exc.strerror or exc}")
        # until the loop handles it (and after), SIGHUP must not kill the server
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        fast = install_uvloop()
        log.info(
            "chinwag-server %s starting (pid %d, %s event loop%s)",
            __version__,
            os.getpid(),
            "uvloop" if fast else "asyncio",
            ", daemon" if args.daemon else "",
        )
        error: str | None = None
        try:
            asyncio.run(run_server(settings, args=args, base=base, logs=logs, readiness=readiness))
        except (StorageError, TLSSetupError) as exc:
            error = str(exc)
        except OSError as exc:
            error = f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        except KeyboardInterrupt:
            pass
        except Exception as exc:  # last resort: one clear line, the traceback in the log
            log.exception("server failed")
            error = f"server failed: {exc!r}"
        finally:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if error is not None:
            log.error("%s", error)
            if readiness is not None:
                readiness.fail(error)
            sys.exit(1)
        log.info("exited cleanly")
    finally:
        if pidfile is not None:
            pidfile.release()


# ---- stop / status ---------------------------------------------------------


def _resolve_pidfile(args: argparse.Namespace) -> Path:
    if args.pidfile is not None:
        return Path(args.pidfile).absolute()
    try:
        settings = load_settings(argparse.Namespace(config=args.config, data_dir=args.data_dir))
    except ConfigError as exc:
        _fail(str(exc), 4)
    path = Path(settings.pidfile) if settings.pidfile else settings.data_dir / "chinwag.pid"
    return path.absolute()


def cmd_status(argv: Sequence[str]) -> None:
    args = _pidfile_parser("status", "Is the server with this pidfile running?").parse_args(argv)
    path = _resolve_pidfile(args)
    try:
        st = read_status(path)
    except PidFileError as exc:
        _fail(str(exc), STATUS_UNKNOWN)
    if st.running:
        print(f"chinwag-server is running (pid {st.pid or '?'}, pidfile {path})")
        sys.exit(STATUS_RUNNING)
    if st.stale:
        print(f"chinwag-server is not running, but its pidfile {path} remains (pid {st.pid})")
        sys.exit(STATUS_DEAD)
    print(f"chinwag-server is not running (no pidfile {path})")
    sys.exit(STATUS_STOPPED)


def cmd_reload(argv: Sequence[str]) -> None:
    parser = _pidfile_parser(
        "reload", "Send SIGHUP to the server with this pidfile: reopen its log, reload settings."
    )
    path = _resolve_pidfile(parser.parse_args(argv))
    try:
        st = read_status(path)
    except PidFileError as exc:
        _fail(str(exc), STATUS_UNKNOWN)
    if not st.running or st.pid is None:
        _fail(f"not running (pidfile {path})", STATUS_STOPPED)
    try:
        os.kill(st.pid, signal.SIGHUP)
    except ProcessLookupError:
        _fail(f"not running (pid {st.pid} is gone)", STATUS_STOPPED)
    except PermissionError:
        _fail(f"not allowed to signal pid {st.pid} (run as the server's user)")
    print(f"chinwag-server: sent SIGHUP to pid {st.pid}; its log says what changed")


def cmd_stop(argv: Sequence[str]) -> None:
    parser = _pidfile_parser("stop", "Stop the server with this pidfile (SIGTERM) and wait.")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for it (default 30)"
    )
    args = parser.parse_args(argv)
    path = _resolve_pidfile(args)
    from server.pidfile import remove_stale

    try:
        st = read_status(path)
        if not st.running:
            if st.stale and remove_stale(path):
                print(f"chinwag-server was not running; removed the stale pidfile {path}")
            else:
                print(f"chinwag-server is not running (no pidfile {path})")
            return
        pid = st.pid
        deadline = time.monotonic() + args.timeout
        while pid is None and time.monotonic() < deadline:  # still starting up
            time.sleep(0.1)
            pid = read_status(path).pid
        if pid is None:
            _fail(f"{path} is locked but holds no pid")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        except PermissionError:
            _fail(f"not allowed to signal pid {pid} (run as the server's user)")
        while time.monotonic() < deadline:
            if not read_status(path).running and process_gone(pid):
                print(f"chinwag-server stopped (pid {pid})")
                return
            time.sleep(0.1)
    except PidFileError as exc:
        _fail(str(exc))
    _fail(f"pid {pid} is still running {args.timeout:g}s after SIGTERM")


# ---- check ------------------------------------------------------------------


def cmd_check(argv: Sequence[str]) -> None:
    args = _check_parser().parse_args(argv)
    host, port, tls = args.host, args.port, args.tls
    if host is None or port is None or tls is None:
        try:
            settings = load_settings(argparse.Namespace(config=args.config))
        except ConfigError as exc:
            _fail(f"check: {exc}")
        # With TLS configured and plain TCP turned off, probe the TLS listener.
        tls_only = bool(getattr(settings, "tls_cert", "")) and not getattr(settings, "plain", True)
        tls = tls_only if tls is None else tls
        if tls:
            host = host or getattr(settings, "tls_host", "") or settings.host
            port = port if port is not None else getattr(settings, "tls_port", settings.port)
        host = settings.host if host is None else host
        port = settings.port if port is None else port
    if not 0 < port < 65536:
        _fail(f"check: port must be 1-65535, not {port}")
    if args.timeout <= 0:
        _fail("check: --timeout must be positive")
    from server.check import run_check

    sys.exit(run_check(host, port, args.timeout, tls=tls, quiet=args.quiet))


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and args[0] in COMMANDS else "run"
    commands = {
        "run": cmd_run,
        "stop": cmd_stop,
        "status": cmd_status,
        "reload": cmd_reload,
        "check": cmd_check,
    }
    commands[command](args)
