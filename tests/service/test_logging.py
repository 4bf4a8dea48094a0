"""The server's log: readable or JSON lines, and never the text people send."""

from __future__ import annotations

import json
import logging
import signal
import time

from server.config import Settings
from server.logging_setup import JsonFormatter, ProbeFilter, TextFormatter
from tests.helpers.wire import WireClient
from tests.service.conftest import cli

SECRETS = ("the vault code is 4711", "meet me at the old mill", "private: my password is hunter2")


async def _chat(host: str, port: int) -> None:
    alice = await WireClient.connect(host, port)
    bob = await WireClient.connect(host, port)
    await alice.hello("alice")
    await bob.hello("bob")
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    await alice.ok("say", room="lobby", text=SECRETS[0])
    await bob.expect("message", text=SECRETS[0])
    await bob.ok("say", room="lobby", text=SECRETS[1])
    await alice.ok("msg", to="bob", text=SECRETS[2])
    await bob.expect("private", text=SECRETS[2])
    await alice.ok("topic", room="lobby", topic="public topic")
    await alice.ok("quit")
    await bob.close()
    await alice.close()


async def test_message_text_never_logged_at_info(server_process) -> None:
    srv = server_process("--log-level", "info")
    await _chat(srv.host, srv.port)
    assert srv.stop() == 0
    log = srv.output
    assert "alice connected from" in log and "bob left" in log, log  # INFO is really on
    for secret in SECRETS:
        assert secret not in log, f"message text leaked into the INFO log: {secret!r}"


async def test_json_log_lines(server_process) -> None:
    srv = server_process("--log-format", "json")
    await _chat(srv.host, srv.port)
    assert cli("check", "--port", str(srv.port)).returncode == 0
    assert srv.stop() == 0
    records = [json.loads(line) for line in srv.output.splitlines() if line.strip()]
    assert records, "no log lines"
    for rec in records:
        assert {"ts", "level", "logger", "msg", "pid"} <= rec.keys(), rec
        assert rec["ts"].endswith("Z") and rec["level"] in ("debug", "info", "warning", "error")
    msgs = [r["msg"] for r in records]
    assert any(m.startswith("listening on 127.0.0.1:") for m in msgs)
    assert any(m == "server stopped" for m in msgs)
    assert not any("check-" in m for m in msgs), "health probes belong at DEBUG"
    for secret in SECRETS:
        assert all(secret not in m for m in msgs)


def _record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_formatters_keep_one_record_per_line() -> None:
    rec = _record("server.hub", logging.WARNING, "odd %s", "value\nwith newline")
    rec.peer = "10.0.0.1:5000"
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    data = json.loads(line)
    assert data["msg"] == "odd value\nwith newline" and data["peer"] == "10.0.0.1:5000"
    text = TextFormatter().format(_record("server", logging.INFO, "hello %d", 5))
    assert text.endswith("Z INFO server: hello 5")


def test_probe_filter_demotes_only_local_probes() -> None:
    f = ProbeFilter()
    root = logging.getLogger()
    old = root.level
    hub = "server.hub"
    try:
        root.setLevel(logging.INFO)
        # a local probe: both its lines are dropped at INFO
        assert not f.filter(
            _record(hub, logging.INFO, "%s connected from %s%s", "check-1a", "127.0.0.1:5000", "")
        )
        assert not f.filter(_record(hub, logging.INFO, "%s left (%s)", "check-1a", "quit"))
        assert not f.filter(
            _record(hub, logging.INFO, "%s connected from %s%s", "check-2b", "::1:5000", "")
        )
        # a remote user with a check- nick, and everyone else, stay visible
        assert f.filter(
            _record(hub, logging.INFO, "%s connected from %s%s", "check-me", "10.1.2.3:5000", "")
        )
        assert f.filter(_record(hub, logging.INFO, "%s left (%s)", "check-me", "quit"))
        assert f.filter(
            _record(hub, logging.INFO, "%s connected from %s%s", "alice", "127.0.0.1:1", "")
        )
        assert f.filter(_record(hub, logging.WARNING, "%s odd", "check-2b"))
        assert f.filter(
            _record("server.app", logging.INFO, "%s connected from %s", "check-3c", "127.0.0.1:1")
        )
        root.setLevel(logging.DEBUG)
        rec = _record(hub, logging.INFO, "%s connected from %s%s", "check-4d", "127.0.0.1:9", "")
        assert f.filter(rec) and rec.levelname == "DEBUG"
    finally:
        root.setLevel(old)


def test_log_settings_are_live() -> None:
    from server.config import live_fields

    assert {"log_level", "log_format", "log_file", "motd", "max_text"} <= set(live_fields())
    assert "pidfile" not in live_fields() and "port" not in live_fields()
    Settings(log_format="json").validate()


async def test_sighup_switches_log_format_and_level(server_process, tmp_path) -> None:
    config = tmp_path / "chinwag.toml"
    config.write_text('log_format = "text"\n')
    srv = server_process("--config", str(config))

    def reload(toml: str, then_logged: str) -> None:
        config.write_text(toml)
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while then_logged not in srv.output:
            assert time.monotonic() < deadline, srv.output
            time.sleep(0.05)

    reload(
        'log_format = "json"\nmotd = "a"\n',
        '"SIGHUP: reloaded settings; changed: motd, log_format"',
    )
    config.write_text('log_format = "json"\nmotd = "b"\nlog_level = "warning"\n')
    srv.proc.send_signal(signal.SIGHUP)
    for attempt in range(1000):  # until a hello shows the reload has happened
        c = await WireClient.connect(srv.host, srv.port)
        quiet = f"quiet{attempt}"
        motd = (await c.hello(quiet))["motd"]
        await c.ok("quit")
        await c.close()
        if motd == "b":
            break
    reload(
        'log_format = "json"\nmotd = "c"\n', '"SIGHUP: reloaded settings; changed: motd, log_level"'
    )
    assert srv.stop() == 0
    lines = srv.output.splitlines()
    first_json = next(i for i, line in enumerate(lines) if line.startswith("{"))
    assert "listening on" in "".join(lines[:first_json])  # text before the first reload
    msgs = [json.loads(line)["msg"] for line in lines[first_json:]]
    assert "server stopped" in msgs
    assert not any(m.startswith(f"{quiet} ") for m in msgs), "INFO logged at warning level"
