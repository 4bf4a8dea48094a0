"""``chinwag-server check``, ``status``, ``stop`` and ``--help`` as scripts see them."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.app import ChinwagServer
from server.config import Settings
from tests.helpers.wire import ROOT
from tests.service.conftest import cli, free_port


def test_check_healthy_server(server_process) -> None:
    srv = server_process()
    r = cli("check", "--host", srv.host, "--port", str(srv.port))
    assert r.returncode == 0, r
    assert "answered hello and ping" in r.stdout
    quiet = cli("check", "--quiet", "--port", str(srv.port), env={"CHINWAG_HOST": "0.0.0.0"})
    assert quiet.returncode == 0 and quiet.stdout == "", quiet
    # probes every few seconds must not flood the server's INFO log
    assert "check-" not in srv.output


def test_check_port_from_environment(server_process) -> None:
    srv = server_process()
    r = cli("check", env={"CHINWAG_PORT": str(srv.port)})
    assert r.returncode == 0, r


def test_check_closed_port() -> None:
    port = free_port()
    r = cli("check", "--port", str(port), "--timeout", "3")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"cannot connect to 127.0.0.1:{port}" in lines[0] and "refused" in lines[0]


@pytest.fixture
def not_chinwag() -> Iterator[int]:
    """A TCP service that is not Chinwag: it greets like SSH and then says nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    conns: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for c in conns:
        c.close()


def test_check_wrong_service(not_chinwag: int) -> None:
    r = cli("check", "--port", str(not_chinwag), "--timeout", "2")
    assert r.returncode == 1, r
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_check_bad_arguments() -> None:
    r = cli("check", "--port", "0")
    assert r.returncode == 1 and "port must be 1-65535" in r.stderr
    r = cli("check", "--port", "many")
    assert r.returncode == 2 and "invalid int value" in r.stderr


def test_status_and_stop_without_server(tmp_path: Path) -> None:
    pidfile = tmp_path / "none.pid"
    status = cli("status", "--pidfile", str(pidfile))
    assert status.returncode == 3 and "not running" in status.stdout
    stop = cli("stop", "--pidfile", str(pidfile))
    assert stop.returncode == 0 and "not running" in stop.stdout
    # the default pidfile lives in the data dir, as --daemon puts it
    status = cli("status", "--data-dir", str(tmp_path))
    assert status.returncode == 3 and str(tmp_path / "chinwag.pid") in status.stdout


def test_foreground_run_holds_pidfile(server_process, tmp_path: Path) -> None:
    pidfile = tmp_path / "fg.pid"
    srv = server_process("--pidfile", str(pidfile))
    assert srv.proc is not None
    assert pidfile.read_text().strip() == str(srv.proc.pid)
    status = cli("status", "--pidfile", str(pidfile))
    assert status.returncode == 0, status
    stop = cli("stop", "--pidfile", str(pidfile))
    assert stop.returncode == 0, stop
    assert srv.proc.wait(10) == 0
    assert not pidfile.exists()


def test_help_lists_every_setting_and_command() -> None:
    r = cli("--help")
    assert r.returncode == 0
    for f in dataclasses.fields(Settings):
        assert "--" + f.name.replace("_", "-") in r.stdout, f.name
    for word in ("--daemon", "stop", "status", "reload", "check", "SIGHUP"):
        assert word in r.stdout
    for command in ("stop", "status", "reload", "check"):
        assert cli(command, "--help").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--config", "missing.toml"), "config file not found"),
        (("--metrics-port", "70000"), "metrics_port must be 0-65535"),
        (("--log-format", "xml"), "invalid choice"),
        (("--port", "seven"), "port expects int"),
    ],
)
def test_bad_settings_are_one_clear_line(args: tuple[str, ...], message: str) -> None:
    r = cli(*args)
    assert r.returncode == 2, r
    assert message in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def tls_context(tmp_path: Path) -> ssl.SSLContext:
    """A server-side context with a fresh self-signed certificate (made by openssl)."""
    assert shutil.which("openssl"), "the openssl command is needed (./dev test installs it)"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def test_check_over_tls(settings: Settings, tls_context: ssl.SSLContext) -> None:
    srv = ChinwagServer(settings, ssl_context=tls_context)
    await srv.start()
    try:

        async def check(*flags: str) -> tuple[int, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server",
                "check",
                "--port",
                str(srv.port),
                "--timeout",
                "5",
                *flags,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            out, _ = await proc.communicate()
            return await proc.wait(), out.decode()

        code, out = await check("--tls")
        assert code == 0, out
        code, out = await check()  # plain text against a TLS port: unhealthy, one line
        assert code == 1 and len(out.strip().splitlines()) == 1, out
    finally:
        await srv.close()
