"""Helpers for the service tests: run ``python -m server`` commands, read daemon logs."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.pidfile import process_gone
from tests.helpers.wire import ROOT

LISTENING = re.compile(r"listening on (\S+):(\d+)")


def cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m server ARGS`` to completion (the code under test, as users run it)."""
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_log(path: Path, pattern: str, timeout: float = 15.0, start: int = 0) -> str:
    """Wait until ``path`` (from byte ``start``) matches ``pattern``; return the match's line."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text(errors="replace")[start:]
            for line in text.splitlines():
                if rx.search(line):
                    return line
        time.sleep(0.05)
    content = path.read_text(errors="replace") if path.exists() else "(no log file)"
    raise AssertionError(f"{pattern!r} never appeared in {path}:\n{content}")


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return False


@dataclass
class DaemonFiles:
    root: Path
    pidfile: Path
    log: Path
    data: Path
    config: Path

    def args(self, *extra: str) -> list[str]:
        """Flags with paths relative to ``root`` (the daemon must resolve them before chdir /)."""
        return [
            "--config",
            str(self.config.relative_to(self.root)),
            "--port",
            "0",
            "--data-dir",
            str(self.data.relative_to(self.root)),
            "--pidfile",
            str(self.pidfile.relative_to(self.root)),
            "--log-file",
            str(self.log.relative_to(self.root)),
            "--history-sync",
            "normal",
            *extra,
        ]

    def pid(self) -> int:
        return int(self.pidfile.read_text().strip())


@pytest.fixture
def daemon_files(tmp_path: Path) -> Iterator[DaemonFiles]:
    """Paths for one daemon; whatever daemon holds the pidfile is killed at teardown."""
    files = DaemonFiles(
        root=tmp_path,
        pidfile=tmp_path / "run" / "chinwag.pid",
        log=tmp_path / "log" / "chinwag.log",
        data=tmp_path / "data",
        config=tmp_path / "chinwag.toml",
    )
    files.config.write_text('motd = "first motd"\n')
    yield files
    with contextlib.suppress(OSError, ValueError):
        pid = files.pid()
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)
