"""Where the server's log goes and what its lines look like.

Text lines for people (``2026-11-24T13:45:01.123Z INFO server.hub: alice connected
from …``) or JSON lines for log shippers, to stderr or to a file that SIGHUP
reopens (so logrotate can move it away).  Level, format and file are live
settings: :meth:`LogControl.apply` switches them without losing a line.

Privacy rule, kept by every module: message text is never logged at INFO or
above.  Health-check probes (``chinwag-server check``) connect every few
seconds; their connect/leave lines are demoted to DEBUG so they never flood
the log of a container that is simply healthy.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from server.config import Settings

#: nicks used by ``chinwag-server check``; see :class:`ProbeFilter`
PROBE_NICK_PREFIX = "check-"
PROBE_CLIENT = "chinwag-check"

# LogRecord attributes that are not "extra" fields given by the caller
_RESERVED = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


def _utc_stamp(created: float) -> str:
    ms = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{ms:03d}Z"


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message>``, tracebacks indented below."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_utc_stamp(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, ``pid``, extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _utc_stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value if isinstance(value, int | float | str | bool) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class ProbeFilter(logging.Filter):
    """Demote the hub's INFO lines about local health-check probes to DEBUG.

    A probe is a ``check-…`` nick that connected from a loopback address (the
    container's own healthcheck, ``./dev``, a local monitoring script); its
    "connected" line is recognised by its peer address and its "left" line by
    the nick remembered then.  A remote user who picks a ``check-`` nick is
    logged like everyone else, so the prefix cannot be used to hide.
    """

    def __init__(self) -> None:
        super().__init__()
        self._probes: set[str] = set()

    def _is_probe(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and args and isinstance(args[0], str)):
            return False
        nick = args[0]
        if not nick.startswith(PROBE_NICK_PREFIX):
            return False
        if " connected from " in str(record.msg) and len(args) > 1:
            if not _is_loopback(str(args[1])):
                return False
            if len(self._probes) > 1000:  # probes that vanished without a "left" line
                self._probes.clear()
            self._probes.add(nick)
            return True
        if " left " in str(record.msg):
            if nick in self._probes:
                self._probes.discard(nick)
                return True
            return False
        return nick in self._probes

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("server.hub"):
            return True
        if not self._is_probe(record):
            return True
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def _is_loopback(peer: str) -> bool:
    """``peer`` is ``HOST:PORT`` as the session formats it (IPv6 hosts unbracketed)."""
    host = peer.rpartition(":")[0].strip("[]")
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


class ReopenableFileHandler(logging.FileHandler):
    """A log file that :meth:`reopen` closes and opens again by name (after rotation)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode="a", encoding="utf-8", delay=False)

    def reopen(self) -> None:
        """Open the path again; on failure keep writing to the old file and raise OSError."""
        check_log_file(Path(self.baseFilename))  # a rotated-away file is recreated 0640
        new = open(self.baseFilename, "a", encoding="utf-8")  # noqa: SIM115
        self.acquire()
        try:
            old, self.stream = self.stream, new
        finally:
            self.release()
        if old is not None:
            old.close()


#: a new log file is readable by the server's group only: it holds nicks and addresses
LOG_FILE_MODE = 0o640


def check_log_file(path: Path) -> None:
    """Create ``path`` if needed (mode 0640); raise OSError unless it can be appended to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, LOG_FILE_MODE))


class LogControl:
    """The server's log handler; re-configured by :meth:`apply`, reopened on SIGHUP."""

    def __init__(self, *, redirect_stderr: bool = False) -> None:
        #: daemon mode: fd 2 follows the log file, so stray writes to stderr land there too
        self.redirect_stderr = redirect_stderr
        self.handler: logging.Handler | None = None
        self.path: Path | None = None
        self.format = ""

    def apply(self, settings: Settings) -> None:
        """Use the settings' level, format and file (opening it if it changed)."""
        path = Path(settings.log_file) if settings.log_file else None
        root = logging.getLogger()
        if self.handler is None or path != self.path:
            handler: logging.Handler
            if path is not None:
                check_log_file(path)
                handler = ReopenableFileHandler(path)
            else:
                handler = logging.StreamHandler(sys.stderr)
            handler.addFilter(ProbeFilter())
            old, self.handler, self.path = self.handler, handler, path
            root.addHandler(handler)
            if old is not None:
                root.removeHandler(old)
                old.close()
            self._follow_stderr()
        if settings.log_format != self.format:
            self.format = settings.log_format
            fmt = JsonFormatter() if settings.log_format == "json" else TextFormatter()
            self.handler.setFormatter(fmt)
        root.setLevel(settings.log_level.upper())

    def reopen(self) -> Path | None:
        """Reopen the log file (SIGHUP); returns its path, or None when logging to stderr."""
        if isinstance(self.handler, ReopenableFileHandler):
            self.handler.reopen()
            self._follow_stderr()
        return self.path

    def _follow_stderr(self) -> None:
        if self.redirect_stderr and isinstance(self.handler, logging.FileHandler):
            stream = self.handler.stream
            if stream is not None:
                sys.stderr.flush()
                os.dup2(stream.fileno(), 2)

    def close(self) -> None:
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
            self.handler = None


def configure_logging(settings: Settings, *, redirect_stderr: bool = False) -> LogControl:
    """Route the root logger by ``settings``; raises OSError if the log file can't be opened."""
    control = LogControl(redirect_stderr=redirect_stderr)
    root = logging.getLogger()
    for h in list(root.handlers):  # a previous basicConfig, e.g. in tests
        root.removeHandler(h)
    control.apply(settings)
    logging.captureWarnings(True)
    return control
