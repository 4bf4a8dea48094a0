"""Start the servers under test as separate processes, so their CPU and memory are theirs alone.

Chinwag runs as ``python -m server`` (uvloop when installed); ngircd runs in
the foreground from a generated config with every flood penalty off, so both
servers do the same job: accept, register, relay.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Self

ROOT = Path(__file__).resolve().parent.parent


class ServerStartError(RuntimeError):
    """The server under test did not come up; the message carries its output."""


def raise_nofile() -> int:
    """Raise this process's open-file limit to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)
    raise ServerStartError(f"server on {host}:{port} did not start")


class ServerUnderTest:
    """A running server process: ``pid``, ``host``, ``port``, ``stop()``."""

    name = "?"

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log: BinaryIO | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def workdir(self) -> Path:
        assert self._tmp is not None
        return Path(self._tmp.name)

    def _spawn(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port(self.host)
        args = [a.replace("{PORT}", str(self.port)) for a in args]
        self.proc = self._popen(args, cwd, env)
        _wait_listening(self.host, self.port, self.proc, 20.0)

    def start(self) -> Self:
        raise NotImplementedError

    def _popen(
        self, args: list[str], cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        # output goes to a file: a pipe nobody drains would block a chatty server
        self._log = (self.workdir / "server.log").open("wb")
        return subprocess.Popen(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_nofile,
            env=env,
        )

    def output(self) -> str:
        try:
            return (self.workdir / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> str:
        """Stop gracefully (SIGTERM) and return what the server printed.

        The working directory (database, log) stays until the ``with`` block ends.
        """
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.output() if self._tmp is not None else ""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


#: Like ngircd's penalties, Chinwag's abuse limits are off for the benchmark: the
#: load generator is one address that opens thousands of connections, puts them
#: all in one room and sends faster than any person.  Given as environment
#: variables, which a server without these settings simply ignores.
BENCH_ENV = {
    "CHINWAG_RATE_REQUESTS": "0",
    "CHINWAG_RATE_BYTES": "0",
    "CHINWAG_MAX_CONNECTIONS_PER_ADDRESS": "0",
    "CHINWAG_MAX_MEMBERS_PER_ROOM": "1000000",
}


class Chinwag(ServerUnderTest):
    name = "chinwag"

    def __init__(self, *flags: str, history_sync: str = "normal", root: Path | None = None) -> None:
        super().__init__()
        self.flags = list(flags)
        self.history_sync = history_sync
        #: the checkout whose ``server`` package runs (another one for before/after figures)
        self.root = root or Path(os.environ.get("CHINWAG_BENCH_SERVER_ROOT") or ROOT)

    @property
    def db_path(self) -> Path:
        return self.workdir / "data" / "chinwag.sqlite3"

    def start(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix="chinwag-bench-")
        self._spawn(
            [
                sys.executable,
                "-m",
                "server",
                "--host",
                self.host,
                "--port",
                "{PORT}",
                "--data-dir",
                str(self.workdir / "data"),
                "--history-sync",
                self.history_sync,
                "--log-level",
                "warning",
                *self.flags,
            ],
            self.root,
            {
                **{k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")},
                **BENCH_ENV,
            },
        )
        return self


NGIRCD_CONF = """\
[Global]
    Name = bench.irc
    Info = chinwag benchmark peer
    Listen = {host}
    Ports = {port}
    MotdPhrase = bench
[Limits]
    MaxConnections = 0
    MaxConnectionsIP = 0
    MaxJoins = 0
    MaxNickLength = 24
    MaxPenaltyTime = 0
    PingTimeout = 600
    PongTimeout = 600
[Options]
    DNS = no
    Ident = no
    PAM = no
    SyslogFacility = local1
"""


def ngircd_available() -> bool:
    return shutil.which("ngircd") is not None


class Ngircd(ServerUnderTest):
    name = "ngircd"

    def start(self) -> Self:
        exe = shutil.which("ngircd")
        if exe is None:
            raise ServerStartError("ngircd is not installed (Debian package 'ngircd')")
        self._tmp = tempfile.TemporaryDirectory(prefix="ngircd-bench-")
        conf = self.workdir / "ngircd.conf"
        port = free_port(self.host)
        conf.write_text(NGIRCD_CONF.format(host=self.host, port=port))
        self.port = port
        self.proc = self._popen([exe, "-n", "-f", str(conf)], self.workdir)
        _wait_listening(self.host, port, self.proc, 20.0)
        return self
