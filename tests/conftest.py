"""Fixtures shared by every test package: real servers on ephemeral ports, real clients."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.app import ChinwagServer
from server.config import Settings
from tests.helpers.process import ServerProcess
from tests.helpers.wire import WireClient

# Qt bindings: qasync reads QT_API, pytest-qt reads PYTEST_QT_API; both must say pyqt6.
os.environ.setdefault("QT_API", "pyqt6")
os.environ.setdefault("PYTEST_QT_API", "pyqt6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an in-process server: ephemeral port, fresh data directory."""
    # A short shutdown grace: raw test clients never hang up on their own, and the server
    # waits up to shutdown_grace for each to do so before it closes.
    return Settings(
        port=0, data_dir=tmp_path / "data", history_sync="normal", shutdown_grace=1.0
    ).validate()


ServerFactory = Callable[..., Awaitable[ChinwagServer]]


@pytest.fixture
async def make_server(settings: Settings) -> AsyncIterator[ServerFactory]:
    """Start in-process servers (settings overridable per call); all closed at teardown."""
    started: list[ChinwagServer] = []

    async def start(**overrides: Any) -> ChinwagServer:
        srv = ChinwagServer(dataclasses.replace(settings, **overrides).validate())
        await srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await srv.close()


@pytest.fixture
async def server(make_server: ServerFactory) -> ChinwagServer:
    return await make_server()


ClientFactory = Callable[..., Awaitable[WireClient]]


@pytest.fixture
async def connect(server: ChinwagServer) -> AsyncIterator[ClientFactory]:
    """``await connect()`` a raw client to ``server``; ``await connect("nick")`` also says hello."""
    clients: list[WireClient] = []

    async def open_client(nick: str | None = None, srv: ChinwagServer | None = None) -> WireClient:
        target = srv or server
        c = await WireClient.connect(target.host, target.port)
        clients.append(c)
        if nick is not None:
            await c.hello(nick)
        return c

    yield open_client
    for c in clients:
        await c.close()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``python -m server`` processes; any still running are killed at teardown."""
    procs: list[ServerProcess] = []

    def start(
        *extra: str, data_dir: Path | None = None, env: dict[str, str] | None = None
    ) -> ServerProcess:
        p = ServerProcess(data_dir or tmp_path / "data", *extra, env=env).start()
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()
