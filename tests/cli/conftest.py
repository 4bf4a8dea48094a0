"""Fixtures for the CLI tests: start real ``chinwag-cli`` processes, killed at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from server.app import ChinwagServer
from tests.cli.helpers import Cli

CliFactory = Callable[..., Awaitable[Cli]]


@pytest.fixture
async def cli(server: ChinwagServer) -> AsyncIterator[CliFactory]:
    """``await cli("--nick", "alice")`` starts a CLI connected to ``server``."""
    started: list[Cli] = []

    async def start(*args: str, port: int | None = None) -> Cli:
        c = await Cli.start(*args, port=server.port if port is None else port)
        started.append(c)
        return c

    yield start
    for c in started:
        c.kill()
        await c.proc.wait()
