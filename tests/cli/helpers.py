"""Running the real ``chinwag-cli`` (``python -m cli_client``) as a subprocess.

Everything is asyncio, so an in-process server on the same loop keeps serving
while a test waits for the CLI's output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Generous bound for any single wait: the machine may be loaded; never a speed check.
PATIENCE = 20.0


class Cli:
    """One ``chinwag-cli`` process with piped stdin, stdout and stderr."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._seen = 0
        self.stderr = ""
        self.code: int | None = None

    @classmethod
    async def start(cls, *args: str, host: str = "127.0.0.1", port: int | None = None) -> Cli:
        argv = [sys.executable, "-m", "cli_client", "--host", host]
        if port is not None:
            argv += ["--port", str(port)]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            *args,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "TZ": "UTC"},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def send(self, *lines: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())
        await self.proc.stdin.drain()

    async def expect(self, fragment: str, timeout: float = PATIENCE) -> str:
        """The next output line (after the last one matched) containing ``fragment``."""
        assert self.proc.stdout is not None
        while True:
            for i in range(self._seen, len(self.lines)):
                if fragment in self.lines[i]:
                    self._seen = i + 1
                    return self.lines[i]
            try:
                raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"no line with {fragment!r}; output so far:\n" + "\n".join(self.lines)
                ) from None
            if not raw:
                raise AssertionError(f"output ended before {fragment!r}:\n" + "\n".join(self.lines))
            self.lines.append(raw.decode().rstrip("\n"))

    async def finish(self, stdin: str | None = None, timeout: float = PATIENCE) -> int:
        """Write ``stdin`` (if any), close it, collect all output, return the exit code."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if stdin:
            self.proc.stdin.write(stdin.encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.proc.stdin.close()
        try:
            out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError("chinwag-cli did not exit:\n" + "\n".join(self.lines)) from None
        self.lines += out.decode().splitlines()
        self.stderr = err.decode()
        assert self.proc.returncode is not None
        self.code = self.proc.returncode
        return self.code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
