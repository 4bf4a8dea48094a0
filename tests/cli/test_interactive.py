"""Interactive mode: the real CLI on a pseudo-terminal, as a person would run it."""

from __future__ import annotations

import asyncio
import os
import sys
import termios
from collections.abc import AsyncIterator

import pytest

from server.app import ChinwagServer
from tests.cli.helpers import PATIENCE, ROOT
from tests.conftest import ClientFactory


class Terminal:
    """``chinwag-cli`` with its stdin and stdout on a pty we hold the other end of."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc = proc
        self.master = master
        self.screen = b""
        self._seen = 0
        self._data = asyncio.Event()
        loop = asyncio.get_running_loop()
        os.set_blocking(master, False)
        loop.add_reader(master, self._read)

    @classmethod
    async def start(cls, *args: str, term: str = "xterm") -> Terminal:
        master, slave = os.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR  # keep "\n" as written, so output can be matched exactly
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli_client",
            *args,
            cwd=ROOT,
            env={**os.environ, "TZ": "UTC", "COLUMNS": "200", "TERM": term},
            stdin=slave,
            stdout=slave,
            stderr=asyncio.subprocess.PIPE,
        )
        os.close(slave)
        return cls(proc, master)

    def _read(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: the process closed its side
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.screen += data
        self._data.set()

    async def expect(self, fragment: bytes) -> None:
        """Wait until ``fragment`` appears after whatever was matched before."""
        try:
            async with asyncio.timeout(PATIENCE):
                while True:
                    at = self.screen.find(fragment, self._seen)
                    if at >= 0:
                        self._seen = at + len(fragment)
                        return
                    self._data.clear()
                    await self._data.wait()
        except TimeoutError:
            raise AssertionError(f"{fragment!r} not in {self.screen[self._seen :]!r}") from None

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    async def exit_code(self) -> int:
        async with asyncio.timeout(PATIENCE):
            return await self.proc.wait()

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        if self.proc.returncode is None:
            self.proc.kill()
        os.close(self.master)


@pytest.fixture
async def terminal(server: ChinwagServer) -> AsyncIterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for t in opened:
        t.close()
        await t.proc.wait()


async def test_asks_for_a_nick_and_keeps_the_prompt_intact(
    server: ChinwagServer, terminal: list[Terminal], connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    t = await Terminal.start("--port", str(server.port))
    terminal.append(t)
    await t.expect(b"nick: ")
    t.type(b"9lives\n")
    await t.expect(b"!! a nick starts with a letter")
    await t.expect(b"nick: ")
    t.type(b"carol\n")
    await t.expect(b"-- connected to chinwag as carol\n")
    await t.expect(b"-- members of lobby (2): bob, carol\n[lobby]> ")

    # an incoming line clears the prompt, prints, then redraws the prompt below it
    await bob.ok("say", room="lobby", text="hey carol")
    await t.expect(b"\r\x1b[K")
    await t.expect(b"[lobby] <bob> hey carol\n[lobby]> ")

    # what we type is erased and shown formatted once the server has it
    t.type(b"hi bob\n")
    await bob.expect("message", room="lobby", text="hi bob")
    await t.expect(b"\x1b[1A\r\x1b[J")
    await t.expect(b"[lobby] <carol> hi bob\n[lobby]> ")

    t.type(b"/join dev\n")
    await t.expect(b"-- members of dev (1): carol\n[dev]> ")
    t.type(b"/quit see you\n")
    assert await t.exit_code() == 0
    left = await bob.expect("left", room="lobby")
    assert (left["nick"], left["reason"]) == ("carol", "see you")


async def test_end_of_input_quits(
    server: ChinwagServer, terminal: list[Terminal], connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    t = await Terminal.start("--port", str(server.port), "--nick", "dave")
    terminal.append(t)
    await t.expect(b"[lobby]> ")
    t.type(b"\x04")  # Ctrl-D on an empty line
    assert await t.exit_code() == 0
    await bob.expect("left", room="lobby", nick="dave")


async def test_no_nick_at_the_prompt_is_a_usage_error(
    server: ChinwagServer, terminal: list[Terminal]
) -> None:
    t = await Terminal.start("--port", str(server.port))
    terminal.append(t)
    await t.expect(b"nick: ")
    t.type(b"\x04")
    assert await t.exit_code() == 2


async def test_dumb_terminal_gets_plain_lines(
    server: ChinwagServer, terminal: list[Terminal], connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    t = await Terminal.start("--port", str(server.port), "--nick", "erin", term="dumb")
    terminal.append(t)
    await t.expect(b"-- members of lobby (2): bob, erin\n")
    await bob.ok("say", room="lobby", text="plain?")
    await t.expect(b"[lobby] <bob> plain?\n")
    t.type(b"/quit\n")
    assert await t.exit_code() == 0
    assert b"\x1b" not in t.screen
    assert b"]> " not in t.screen
