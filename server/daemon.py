"""``--daemon``: detach like a well-mannered Unix daemon, and say whether it worked.

python-daemon does the classic steps (double fork, ``setsid``, umask,
working directory ``/``, every inherited descriptor closed, stdin/stdout to
``/dev/null``, no core dumps); stderr goes to the log file so even a stray
traceback is kept.  Around that, as daemon(7) recommends, the command that
was typed does not return before the daemon is serving: the original process
waits on a pipe for the daemon's ``ready HOST PORT`` (or ``error REASON``)
and exits 0 or 1 accordingly, so ``chinwag-server --daemon && next-step``
and init scripts see real failures instead of a detached process dying
silently.

The pidfile is locked *before* forking (see :mod:`server.pidfile`), so a
second instance is refused on the terminal, not in a log nobody reads.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from pathlib import Path

import daemon

from server.pidfile import PidFile

#: how long the foreground command waits for the daemon to report
READY_TIMEOUT = 60.0


class Readiness:
    """The daemon's end of the pipe to the command that started it."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def _send(self, line: str) -> None:
        if self.fd is None:
            return
        try:
            os.write(self.fd, (line.replace("\n", " ") + "\n").encode())
        except OSError:
            pass  # the starter was killed; nobody is listening
        finally:
            os.close(self.fd)
            self.fd = None

    def ready(self, host: str, port: int) -> None:
        self._send(f"ready {host} {port}")

    def fail(self, reason: str) -> None:
        self._send(f"error {reason}")


def _wait_for_daemon(fd: int, child: int, log_path: Path, pidfile: Path) -> int:
    """In the original process: relay the daemon's report, return the exit status."""
    data = b""
    deadline = time.monotonic() + READY_TIMEOUT
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            print(
                f"chinwag-server: the daemon did not report ready within {READY_TIMEOUT:g}s; "
                f"see {log_path}",
                file=sys.stderr,
            )
            return 1
        readable, _, _ = select.select([fd], [], [], left)
        if readable:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    os.close(fd)
    os.waitpid(child, 0)  # the first child exits as soon as it has forked again
    word, _, rest = data.decode(errors="replace").strip().partition(" ")
    if word == "ready":
        host, _, port = rest.partition(" ")
        pid = pidfile.read_text().strip() if pidfile.exists() else "?"
        print(
            f"chinwag-server: running in the background (pid {pid}), listening on "
            f"{host}:{port}; log: {log_path}; pidfile: {pidfile}",
            flush=True,
        )
        return 0
    reason = rest if word == "error" else f"the daemon exited during startup; see {log_path}"
    print(f"chinwag-server: {reason}", file=sys.stderr, flush=True)
    return 1


def daemonize(pidfile: PidFile, log_path: Path) -> Readiness:
    """Detach; returns only in the daemon.  The original process exits with the outcome.

    ``pidfile`` must already be acquired: its locked descriptor is kept open across
    the forks, and the daemon writes its own pid into it.
    """
    assert pidfile.fd is not None, "acquire the pidfile before daemonizing"
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child:
        os.close(write_fd)
        pidfile.forget()  # the lock stays with the daemon's copy of the descriptor
        os._exit(_wait_for_daemon(read_fd, child, log_path, pidfile.path))
    os.close(read_fd)
    log_stream = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - becomes fd 2
    context = daemon.DaemonContext(
        working_directory="/",
        umask=0o027,
        detach_process=True,
        prevent_core=True,
        files_preserve=[pidfile.fd, write_fd],
        stderr=log_stream,
        signal_map={
            signal.SIGTSTP: None,
            signal.SIGTTIN: None,
            signal.SIGTTOU: None,
            signal.SIGHUP: None,  # ignored until the event loop installs the reload handler
            signal.SIGTERM: "terminate",
        },
    )
    context.open()
    log_stream.close()  # fd 2 is its duplicate now
    pidfile.write_pid()
    return Readiness(write_fd)
