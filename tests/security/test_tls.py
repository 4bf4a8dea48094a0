"""TLS from the outside: the listener, certificate verification, trust-on-first-use pins."""

from __future__ import annotations

import asyncio
import os
import ssl
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from chinwag_client.client import ChinwagClient
from chinwag_client.tls import (
    FingerprintChanged,
    PinStore,
    UntrustedCertificate,
    connect_tls,
    fingerprint,
    normalize_fingerprint,
    verified_context,
)
from chinwag_protocol.messages import Join, JoinOk, Message, Say, SentOk
from server.app import ChinwagServer
from server.config import ConfigError, Settings
from tests.conftest import ServerFactory
from tests.helpers.process import ServerProcess
from tests.helpers.wire import ROOT
from tests.security.certs import Cert, make_cert


@pytest.fixture
def cert(tmp_path: Path) -> Cert:
    return make_cert(tmp_path / "certs")


@pytest.fixture
def other_cert(tmp_path: Path) -> Cert:
    return make_cert(tmp_path / "certs", name="impostor")


@pytest.fixture
async def tls_server(make_server: ServerFactory, cert: Cert) -> ChinwagServer:
    return await make_server(tls_cert=str(cert.cert), tls_key=str(cert.key), tls_port=0)


def pins_in(tmp_path: Path) -> PinStore:
    return PinStore(tmp_path / "config" / "known_servers.json")


async def test_tls_listener_beside_plain_both_chat(tls_server: ChinwagServer, cert: Cert) -> None:
    assert tls_server.tls_port is not None and tls_server.tls_port != tls_server.port
    secure = await connect_tls("127.0.0.1", tls_server.tls_port, trust_fingerprint=cert.fingerprint)
    plain = await ChinwagClient.connect("127.0.0.1", tls_server.port)
    try:
        await secure.hello("alice")
        await plain.hello("bob")
        await secure.call(Join(room="lobby"), JoinOk)
        await plain.call(Join(room="lobby"), JoinOk)
        await secure.call(Say(room="lobby", text="over TLS"), SentOk)
        while True:
            event = await plain.next_event(timeout=5)
            if isinstance(event, Message):
                assert (event.from_, event.text) == ("alice", "over TLS")
                break
    finally:
        await secure.close()
        await plain.close()


async def test_tls_only_server_has_no_plain_listener(
    make_server: ServerFactory, cert: Cert
) -> None:
    srv = await make_server(tls_cert=str(cert.cert), tls_key=str(cert.key), tls_port=0, plain=False)
    assert srv.tls_port == srv.port
    client = await connect_tls("127.0.0.1", srv.port, cafile=cert.cert)
    await client.hello("alice")
    assert client.tls_version in ("TLSv1.2", "TLSv1.3")
    await client.close()
    # plain text to the TLS port: the handshake fails, the server carries on
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write(b'{"type":"hello","nick":"x","protocol":1}\n')
    try:
        answer = await asyncio.wait_for(reader.read(), 10)
    except ConnectionError:
        answer = b""
    assert b"{" not in answer, "no chat protocol without TLS"
    writer.close()
    again = await connect_tls("127.0.0.1", srv.port, cafile=cert.cert)
    await again.hello("bob")
    await again.close()


async def test_server_refuses_tls_below_1_2(tls_server: ChinwagServer) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # a client that would happily speak TLS 1.0/1.1
    modern = await ChinwagClient.connect("127.0.0.1", tls_server.tls_port or 0, ssl_context=ctx)
    assert modern.tls_version in ("TLSv1.2", "TLSv1.3")
    await modern.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await ChinwagClient.connect("127.0.0.1", tls_server.tls_port or 0, ssl_context=ctx)


async def test_client_verifies_by_default_and_refuses_self_signed(
    tls_server: ChinwagServer, cert: Cert, tmp_path: Path
) -> None:
    assert tls_server.tls_port is not None
    pins = pins_in(tmp_path)
    with pytest.raises(UntrustedCertificate) as info:
        await connect_tls("127.0.0.1", tls_server.tls_port, pins=pins)
    assert info.value.fingerprint == cert.fingerprint
    assert "cannot be verified" in str(info.value)
    assert pins.load() == {}, "nothing is pinned without the user's say-so"
    assert tls_server.hub is not None and not tls_server.hub.nicks


async def test_certificate_from_a_trusted_ca_file_verifies(
    tls_server: ChinwagServer, cert: Cert, other_cert: Cert
) -> None:
    assert tls_server.tls_port is not None
    client = await connect_tls("127.0.0.1", tls_server.tls_port, cafile=cert.cert)
    await client.hello("alice")
    await client.close()
    with pytest.raises(UntrustedCertificate):  # some other CA: not this server's issuer
        await connect_tls("127.0.0.1", tls_server.tls_port, cafile=other_cert.cert)


async def test_hostname_is_checked(tls_server: ChinwagServer, cert: Cert) -> None:
    assert tls_server.tls_port is not None
    ctx = verified_context(cert.cert)
    with pytest.raises(ssl.SSLCertVerificationError):
        await ChinwagClient.connect(
            "127.0.0.1", tls_server.tls_port, ssl_context=ctx, server_hostname="chat.example"
        )


async def test_trust_on_first_use_pins_then_reconnects_without_asking(
    tls_server: ChinwagServer, cert: Cert, tmp_path: Path
) -> None:
    assert tls_server.tls_port is not None
    pins = pins_in(tmp_path)
    first = await connect_tls(
        "127.0.0.1", tls_server.tls_port, pins=pins, trust_fingerprint=cert.fingerprint
    )
    await first.hello("alice")
    await first.close()
    assert pins.get("127.0.0.1", tls_server.tls_port) == cert.fingerprint
    assert stat.S_IMODE(os.stat(pins.path).st_mode) == 0o600
    second = await connect_tls("127.0.0.1", tls_server.tls_port, pins=pins)
    await second.hello("alice")
    await second.close()


async def test_wrong_trusted_fingerprint_is_refused(
    tls_server: ChinwagServer, other_cert: Cert, tmp_path: Path
) -> None:
    assert tls_server.tls_port is not None
    pins = pins_in(tmp_path)
    with pytest.raises(UntrustedCertificate):
        await connect_tls(
            "127.0.0.1", tls_server.tls_port, pins=pins, trust_fingerprint=other_cert.fingerprint
        )
    assert pins.load() == {}


async def test_changed_fingerprint_is_refused_loudly_before_hello(
    make_server: ServerFactory, cert: Cert, other_cert: Cert, tmp_path: Path
) -> None:
    """The pinned server is replaced by one with another certificate (a MITM, or a
    re-keyed server): the client refuses, says both fingerprints, sends nothing."""
    pins = pins_in(tmp_path)
    impostor = await make_server(
        tls_cert=str(other_cert.cert), tls_key=str(other_cert.key), tls_port=0
    )
    assert impostor.tls_port is not None
    pins.pin("127.0.0.1", impostor.tls_port, cert.fingerprint)
    with pytest.raises(FingerprintChanged) as info:
        await connect_tls("127.0.0.1", impostor.tls_port, pins=pins)
    err = info.value
    assert err.pinned == cert.fingerprint and err.fingerprint == other_cert.fingerprint
    assert "HAS CHANGED" in str(err) and cert.fingerprint in str(err)
    assert pins.get("127.0.0.1", impostor.tls_port) == cert.fingerprint, "pin kept"
    assert impostor.hub is not None and not impostor.hub.nicks
    # a CA-valid certificate does not override a pin either
    with pytest.raises(FingerprintChanged):
        await connect_tls("127.0.0.1", impostor.tls_port, pins=pins, cafile=other_cert.cert)
    # the user explicitly trusts the new one: accepted and re-pinned
    client = await connect_tls(
        "127.0.0.1", impostor.tls_port, pins=pins, trust_fingerprint=other_cert.fingerprint
    )
    await client.close()
    assert pins.get("127.0.0.1", impostor.tls_port) == other_cert.fingerprint


def test_fingerprint_forms() -> None:
    fp = fingerprint(b"certificate")
    assert fp.startswith("SHA256:") and len(fp) == 7 + 64 + 31
    bare = fp[7:].replace(":", "").lower()
    assert normalize_fingerprint(bare) == fp
    assert normalize_fingerprint(" sha256:" + fp[7:].lower() + " ") == fp
    for junk in ("", "SHA256:", "zz" * 32, fp[:-2], "md5:" + bare):
        with pytest.raises(ValueError):
            normalize_fingerprint(junk)


def test_pin_store_rejects_a_corrupt_file(tmp_path: Path) -> None:
    pins = pins_in(tmp_path)
    pins.path.parent.mkdir(parents=True)
    pins.path.write_text("[not an object]")
    with pytest.raises(OSError, match=r"known_servers\.json"):
        pins.get("h", 1)
    assert pins.key("::1", 7448) == "[::1]:7448"
    assert pins.key("Chat.Example.", 7448) == "chat.example:7448"


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing to listen on"):
        Settings(plain=False, data_dir=tmp_path).validate()
    with pytest.raises(ConfigError, match="tls_key is set"):
        Settings(tls_key="k.pem", data_dir=tmp_path).validate()
    with pytest.raises(ConfigError, match="tls_port"):
        Settings(tls_cert="c.pem", tls_port=70000, data_dir=tmp_path).validate()
    with pytest.raises(ConfigError, match="its own port"):
        Settings(tls_cert="c.pem", port=7000, tls_port=7000, data_dir=tmp_path).validate()
    Settings(tls_cert="c.pem", port=7000, tls_port=7000, plain=False, data_dir=tmp_path).validate()
    Settings(tls_cert="c.pem", port=0, tls_port=0, data_dir=tmp_path).validate()


def _run_server(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "--port", "0", "--data-dir", str(tmp_path / "d"), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("problem", ["missing", "garbage", "mismatched"])
def test_bad_certificate_files_fail_at_startup_in_one_line(
    tmp_path: Path, cert: Cert, other_cert: Cert, problem: str
) -> None:
    if problem == "missing":
        flags = ["--tls-cert", str(tmp_path / "nope.crt")]
        expect = "no such file"
    elif problem == "garbage":
        junk = tmp_path / "junk.crt"
        junk.write_text("hello\n")
        flags = ["--tls-cert", str(junk)]
        expect = "not a PEM"
    else:
        flags = ["--tls-cert", str(cert.cert), "--tls-key", str(other_cert.key)]
        expect = "does not belong"
    proc = _run_server(tmp_path, "--tls-port", "0", *flags)
    assert proc.returncode == 1, proc.stderr
    assert expect in proc.stderr
    assert "Traceback" not in proc.stderr


def test_server_logs_its_tls_listener_and_fingerprint(
    server_process: Callable[..., ServerProcess], cert: Cert
) -> None:
    proc = server_process(
        "--tls-cert", str(cert.cert), "--tls-key", str(cert.key), "--tls-port", "0"
    )
    for _ in range(100):  # the TLS line follows the plain one the fixture waited for
        tls_lines = [line for line in proc.log if "listening (TLS) on" in line]
        if tls_lines:
            break
        time.sleep(0.1)
    assert tls_lines and cert.fingerprint in tls_lines[0]


async def test_tls_only_server_process(tmp_path: Path, cert: Cert) -> None:
    """``chinwag-server --plain off`` with a certificate: one TLS listener, clear log line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "--data-dir", str(tmp_path / "d"), "--plain", "off",
        "--tls-cert", str(cert.cert), "--tls-key", str(cert.key), "--tls-port", "0",
        cwd=ROOT, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        port = 0
        async with asyncio.timeout(30):
            while not port:
                line = (await proc.stderr.readline()).decode()
                assert line, "server exited before listening"
                assert "listening on" not in line, "no plain listener expected"
                if "listening (TLS) on" in line:
                    port = int(line.split("listening (TLS) on ")[1].split()[0].rsplit(":", 1)[1])
        client = await connect_tls("127.0.0.1", port, cafile=cert.cert)
        assert (await client.hello("alice")).nick == "alice"
        await client.close()
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 30) == 0


def test_plain_off_without_a_certificate_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run_server(tmp_path, "--plain", "off")
    assert proc.returncode == 2
    assert "nothing to listen on" in proc.stderr and "Traceback" not in proc.stderr
