"""A pidfile that is also a lock: the server that holds it is the running one.

The holder keeps the file open with an exclusive ``flock``; the kernel drops
the lock when the process dies however it dies, so a pidfile left behind by a
``kill -9`` is recognised as stale instead of blocking the next start.
``flock`` locks belong to the open file, so one taken before the daemon forks
is still held by the daemon after the parent exits; that is how
``chinwag-server --daemon`` refuses a second instance *before* it detaches,
with the message on the terminal where it belongs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path


class PidFileError(Exception):
    """The pidfile cannot be created, locked or read; the message says why."""


class AlreadyRunning(PidFileError):
    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"already running ({who} holds the pidfile {path})")
        self.pid = pid


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class PidFile:
    """Create with a path, :meth:`acquire`, :meth:`write_pid`, :meth:`release` at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, attempts: int = 5) -> None:
        """Lock the pidfile and write our pid in it; raise :class:`AlreadyRunning` if held."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PidFileError(f"cannot create {self.path.parent}: {exc.strerror}") from None
        for attempt in range(attempts):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise PidFileError(f"cannot open pidfile {self.path}: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                if pid is None and attempt < attempts - 1:
                    time.sleep(0.05)  # probably `status` peeking at it; look again
                    continue
                raise AlreadyRunning(self.path, pid) from None
            # The previous holder may have unlinked the file between our open and our
            # lock: then we locked an orphan inode and must start over.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                self.write_pid()
                return
            os.close(fd)
        raise PidFileError(f"could not lock {self.path}: it keeps being replaced")

    def write_pid(self, pid: int | None = None) -> None:
        """(Re)write the pid; the daemon calls this once it has its final pid."""
        assert self.fd is not None, "pidfile not acquired"
        data = f"{pid or os.getpid()}\n".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)
        os.fsync(self.fd)

    def forget(self) -> None:
        """Close our descriptor without unlinking (a parent whose child keeps the lock)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def release(self) -> None:
        """Remove the pidfile (if it is still ours) and drop the lock."""
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


@dataclass(frozen=True, slots=True)
class PidStatus:
    running: bool
    pid: int | None
    #: the file exists but nobody holds its lock (the server died without cleaning up)
    stale: bool


def read_status(path: Path) -> PidStatus:
    """Whether a server holds ``path``, and its pid.  Raises PidFileError if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return PidStatus(running=False, pid=None, stale=False)
    except OSError as exc:
        raise PidFileError(f"cannot read pidfile {path}: {exc.strerror}") from None
    try:
        pid = _read_pid(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return PidStatus(running=True, pid=pid, stale=False)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return PidStatus(running=False, pid=pid, stale=True)
    finally:
        os.close(fd)


def remove_stale(path: Path) -> bool:
    """Delete ``path`` if no process holds its lock; True if it was removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            os.unlink(path)
            return True
        return False
    except OSError:
        return False
    finally:
        os.close(fd)


def process_gone(pid: int) -> bool:
    """True once ``pid`` no longer exists (a zombie counts as gone: it runs nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError as exc:
        return exc.errno == errno.ENOENT
    return stat.rpartition(")")[2].split()[0] == "Z"
