"""``chinwag-cli`` over TLS, as a real subprocess: verify, pin, refuse a changed certificate."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from chinwag_client.tls import PinStore
from server.app import ChinwagServer
from tests.conftest import ServerFactory
from tests.helpers.wire import ROOT
from tests.security.certs import Cert, make_cert


@pytest.fixture
def cert(tmp_path: Path) -> Cert:
    return make_cert(tmp_path / "certs")


@pytest.fixture
async def tls_server(make_server: ServerFactory, cert: Cert) -> ChinwagServer:
    return await make_server(tls_cert=str(cert.cert), tls_key=str(cert.key), tls_port=0)


async def cli(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """Run chinwag-cli non-interactively (piped stdin) and collect what it said."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli_client",
        "--host",
        "127.0.0.1",
        "--nick",
        "alice",
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    return await proc.wait(), out.decode(), err.decode()


async def test_cli_refuses_an_unverifiable_certificate_and_shows_its_fingerprint(
    tls_server: ChinwagServer, cert: Cert, tmp_path: Path
) -> None:
    pins = tmp_path / "known.json"
    code, _, err = await cli(
        "--port", str(tls_server.tls_port), "--tls", "--known-servers", str(pins)
    )
    assert code == 1, err
    assert "cannot be verified" in err and cert.fingerprint in err
    assert f"--trust-fingerprint {cert.fingerprint}" in err
    assert "Traceback" not in err
    assert not pins.exists(), "nothing pinned without consent"


async def test_cli_trusts_an_explicit_fingerprint_then_remembers_it(
    tls_server: ChinwagServer, cert: Cert, tmp_path: Path
) -> None:
    pins = tmp_path / "known.json"
    port = str(tls_server.tls_port)
    code, out, err = await cli(
        "--port", port, "--trust-fingerprint", cert.fingerprint, "--known-servers", str(pins),
        stdin=b"hello over tls\n",
    )  # fmt: skip
    assert code == 0, err
    assert "connected to" in out + err
    assert PinStore(pins).get("127.0.0.1", int(port)) == cert.fingerprint
    code, out, err = await cli("--port", port, "--tls", "--known-servers", str(pins))
    assert code == 0, err
    assert "connected to" in out + err


async def test_cli_with_the_ca_file_verifies(tls_server: ChinwagServer, cert: Cert) -> None:
    code, _, err = await cli("--port", str(tls_server.tls_port), "--tls-ca", str(cert.cert))
    assert code == 0, err


async def test_cli_warns_loudly_when_the_pinned_fingerprint_changed(
    tls_server: ChinwagServer, tmp_path: Path
) -> None:
    assert tls_server.tls_port is not None
    pins = PinStore(tmp_path / "known.json")
    old = make_cert(tmp_path / "old").fingerprint
    pins.pin("127.0.0.1", tls_server.tls_port, old)
    code, _, err = await cli(
        "--port", str(tls_server.tls_port), "--tls", "--known-servers", str(pins.path)
    )
    assert code == 1
    assert "HAS CHANGED" in err and "@@@@" in err and old in err
    assert "Traceback" not in err
    assert pins.get("127.0.0.1", tls_server.tls_port) == old
    assert tls_server.hub is not None and not tls_server.hub.nicks, "no hello was sent"


async def test_cli_rejects_a_malformed_fingerprint(tls_server: ChinwagServer) -> None:
    code, _, err = await cli("--port", str(tls_server.tls_port), "--trust-fingerprint", "abc")
    assert code == 2 and "not a SHA-256 fingerprint" in err


@pytest.mark.parametrize("answer", [b"yes\n", b"no\n"])
async def test_cli_on_a_terminal_asks_before_trusting(
    tls_server: ChinwagServer, cert: Cert, tmp_path: Path, answer: bytes
) -> None:
    from tests.cli.test_interactive import Terminal

    assert tls_server.tls_port is not None
    pins = PinStore(tmp_path / "known.json")
    term = await Terminal.start(
        "--host", "127.0.0.1", "--port", str(tls_server.tls_port), "--nick", "alice",
        "--tls", "--known-servers", str(pins.path),
    )  # fmt: skip
    try:
        await term.expect(cert.fingerprint.encode())
        await term.expect(b"Trust and remember this certificate? [yes/no] ")
        term.type(answer)
        if answer == b"yes\n":
            await term.expect(b"connected to")
            term.type(b"/quit\n")
            assert await term.exit_code() == 0
            assert pins.get("127.0.0.1", tls_server.tls_port) == cert.fingerprint
        else:
            assert await term.exit_code() == 1
            assert pins.load() == {}
    finally:
        term.close()
