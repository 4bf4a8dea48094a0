"""The compiled receiver (``bench/reader.c``): built on first use, run per worker.

The C reader takes over a worker's sockets for the measured phase (see the
comment at the top of ``reader.c`` for why).  It is compiled with ``$CC`` (or
``cc``) into a cache directory keyed by the source's hash; without a
compiler the harness falls back to its Python receivers and says so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("reader.c")


class ReaderBuildError(Exception):
    pass


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "chinwag-bench"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        path = Path(tempfile.gettempdir()) / f"chinwag-bench-{os.getuid()}"
        path.mkdir(parents=True, exist_ok=True)
    return path


def build() -> Path:
    """The reader binary, compiled now if this source has not been compiled yet."""
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    exe = _cache_dir() / f"reader-{digest}"
    if exe.exists():
        return exe
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise ReaderBuildError("no C compiler (install gcc, or set CC)")
    tmp = exe.with_name(f"{exe.name}.{os.getpid()}.tmp")
    proc = subprocess.run(
        [cc, "-O2", "-std=gnu11", "-o", str(tmp), str(SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise ReaderBuildError(f"{cc} failed:\n{proc.stderr[-2000:]}")
    tmp.replace(exe)  # atomic: parallel workers may build at the same time
    return exe


def available() -> tuple[bool, str]:
    """Whether the C reader can be used here, and if not, why."""
    try:
        build()
    except (ReaderBuildError, OSError) as exc:
        return False, str(exc)
    return True, ""


@dataclass(slots=True)
class ReaderResult:
    deliveries: int
    out_of_order: int
    g_sum: int
    bytes_in: int
    first_us: int
    last_us: int
    lat_max_us: int
    errors: int
    error_sample: str
    hist: list[tuple[int, int]]


class Reader:
    """One running reader process that owns ``fds`` until it exits."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(
        cls, fds: list[tuple[int, int]], *, senders: int, per_sender: int, timeout: float
    ) -> Reader:
        """Start reading ``(fd, expected deliveries)`` pairs; returns once it is polling."""
        proc = await asyncio.create_subprocess_exec(
            str(build()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            pass_fds=[fd for fd, _ in fds],
        )
        assert proc.stdin is not None and proc.stdout is not None
        head = f"{max(senders, 1)} {max(per_sender, 1)} {timeout}\n"
        proc.stdin.write((head + "".join(f"{fd} {n}\n" for fd, n in fds)).encode())
        await proc.stdin.drain()
        proc.stdin.close()
        if await proc.stdout.readline() != b"ready\n":
            await proc.wait()
            raise ReaderBuildError(f"the reader did not start (exit {proc.returncode})")
        return cls(proc)

    async def result(self) -> ReaderResult:
        assert self.proc.stdout is not None
        out = await self.proc.stdout.read()
        code = await self.proc.wait()
        if code != 0:
            raise ReaderBuildError(f"the reader failed (exit {code})")
        d = json.loads(out)
        return ReaderResult(
            deliveries=d["deliveries"],
            out_of_order=d["out_of_order"],
            g_sum=(d["g_sum_hi"] << 64) | d["g_sum_lo"],
            bytes_in=d["bytes_in"],
            first_us=d["first_us"],
            last_us=d["last_us"],
            lat_max_us=d["lat_max_us"],
            errors=d["errors"],
            error_sample=d["error_sample"],
            hist=[(i, n) for i, n in d["hist"]],
        )
