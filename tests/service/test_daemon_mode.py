"""``chinwag-server --daemon`` end to end: a real detached process, pidfile, signals, stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import stat
import time
from pathlib import Path

from chinwag_protocol.timefmt import format_msg_id
from tests.helpers.wire import WireClient
from tests.service.conftest import LISTENING, DaemonFiles, cli, wait_for_log, wait_gone


def start_daemon(files: DaemonFiles, *extra: str) -> tuple[str, int]:
    r = cli("--daemon", *files.args(*extra), cwd=files.root)
    assert r.returncode == 0, f"daemon did not start: {r.stdout}{r.stderr}"
    assert "running in the background" in r.stdout, r.stdout
    m = LISTENING.search(r.stdout)
    assert m, r.stdout
    return m.group(1), int(m.group(2))


def _proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


async def test_daemon_lifecycle(daemon_files: DaemonFiles) -> None:
    files = daemon_files
    host, port = start_daemon(files)
    pid = files.pid()

    # a well-mannered daemon: own session but not its leader, cwd /, umask, no terminal
    assert pid != os.getpid() and not wait_gone(pid, 0.1)
    assert os.getsid(pid) != os.getsid(0)
    assert os.getsid(pid) != pid, "a session leader could reacquire a terminal"
    assert os.readlink(f"/proc/{pid}/cwd") == "/"
    assert _proc_status(pid)["Umask"] == "0027"
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{pid}/fd/1") == "/dev/null"
    assert os.readlink(f"/proc/{pid}/fd/2") == str(files.log)
    # relative paths were resolved against the directory the command ran in
    assert (files.data / "chinwag.sqlite3").exists()
    assert f"listening on {host}:{port}" in files.log.read_text()

    status = cli("status", "--pidfile", str(files.pidfile))
    assert status.returncode == 0, status
    assert f"running (pid {pid}" in status.stdout

    # a second instance on the same pidfile is refused, daemon or not, and says why
    for extra in (("--daemon",), ()):
        second = cli(*extra, *files.args(), cwd=files.root, timeout=20)
        assert second.returncode == 1, second
        assert "already running" in second.stderr and f"pid {pid}" in second.stderr
        assert "Traceback" not in second.stderr
    assert files.pid() == pid

    alice = await WireClient.connect(host, port)
    hello = await alice.hello("alice")
    assert hello["motd"] == "first motd"
    bob = await WireClient.connect(host, port)
    await bob.hello("bob")
    await alice.ok("join", room="lobby")
    acked = [
        (await alice.ok("say", room="lobby", text=f"before stop {i}"))["msg_id"] for i in range(5)
    ]
    dm = await alice.ok("msg", to="bob", text="a private word")
    acked.append(dm["msg_id"])
    await bob.expect("private", text="a private word")

    # SIGHUP: logrotate moved the file away; the daemon reopens it and reloads live settings
    files.log.rename(files.log.with_suffix(".log.1"))
    files.config.write_text('motd = "second motd"\nmax_text = 20\n')
    os.kill(pid, signal.SIGHUP)
    wait_for_log(files.log, r"SIGHUP: reloaded settings; changed: motd, max_text")
    assert "SIGHUP: reopened log file" in files.log.read_text()
    assert stat.S_IMODE(files.log.stat().st_mode) == 0o640, "logs hold nicks and addresses"
    carol = await WireClient.connect(host, port)
    assert (await carol.hello("carol"))["motd"] == "second motd"
    await alice.error("say", "text_too_long", room="lobby", text="x" * 21)

    # stop while messages are in flight: every acknowledged one must survive
    for i in range(100):
        await alice.send(type="say", id=f"burst-{i}", room="lobby", text=f"burst {i}")
    stop = await asyncio.to_thread(cli, "stop", "--pidfile", str(files.pidfile))
    assert stop.returncode == 0, stop
    assert f"stopped (pid {pid})" in stop.stdout
    for msg in await alice.closed(timeout=15):
        if msg["type"] == "ok" and str(msg.get("id", "")).startswith("burst-"):
            acked.append(msg["msg_id"])
    for c in (alice, bob, carol):
        await c.close()
    assert not files.pidfile.exists(), "the pidfile must be removed on exit"
    assert wait_gone(pid), "the daemon process is still there"
    assert cli("status", "--pidfile", str(files.pidfile)).returncode == 3
    assert "exited cleanly" in files.log.read_text()

    # every acknowledged message (room and private) is in the database file
    with contextlib.closing(sqlite3.connect(files.data / "chinwag.sqlite3")) as db:
        rows = {format_msg_id(r[0]) for r in db.execute("SELECT id FROM messages")}
    missing = [m for m in acked if m not in rows]
    assert not missing and len(acked) >= 6, f"acknowledged but lost: {missing}"

    # restart on the same data: clients see the room history
    host, port = start_daemon(files)
    reader = await WireClient.connect(host, port)
    await reader.hello("dave")
    room = await reader.ok("history", room="lobby", limit=200)
    assert {m["msg_id"] for m in room["messages"]} >= set(acked) - {dm["msg_id"]}
    await reader.close()
    assert cli("stop", "--pidfile", str(files.pidfile)).returncode == 0


def test_stale_pidfile_after_kill(daemon_files: DaemonFiles) -> None:
    files = daemon_files
    start_daemon(files)
    pid = files.pid()
    os.kill(pid, signal.SIGKILL)
    assert wait_gone(pid)
    status = cli("status", "--pidfile", str(files.pidfile))
    assert status.returncode == 1 and "remains" in status.stdout, status
    # the lock died with the process: a new daemon takes over without manual cleanup
    start_daemon(files)
    assert files.pid() != pid
    reload = cli("reload", "--pidfile", str(files.pidfile))
    assert reload.returncode == 0 and f"SIGHUP to pid {files.pid()}" in reload.stdout, reload
    wait_for_log(files.log, "SIGHUP: reloaded settings; no live setting changed")
    assert cli("stop", "--pidfile", str(files.pidfile)).returncode == 0
    reload = cli("reload", "--pidfile", str(files.pidfile))
    assert reload.returncode == 3 and "not running" in reload.stderr, reload
    stop_again = cli("stop", "--pidfile", str(files.pidfile))
    assert stop_again.returncode == 0 and "not running" in stop_again.stdout


def test_daemon_reports_startup_failure(daemon_files: DaemonFiles) -> None:
    """A daemon that cannot listen makes the starting command fail with the reason."""
    files = daemon_files
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("--daemon", *files.args("--port", str(port)), cwd=files.root)
    assert r.returncode == 1, r
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not files.pidfile.exists()
    assert "cannot listen" in files.log.read_text()


def test_daemon_unusable_log_file(daemon_files: DaemonFiles, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    r = cli("--daemon", *daemon_files.args("--log-file", str(blocker / "x.log")), cwd=tmp_path)
    assert r.returncode == 1, r
    assert "cannot open log file" in r.stderr and "Traceback" not in r.stderr
    assert not daemon_files.pidfile.exists()


def _wait_output(srv, text: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in srv.output:
        assert time.monotonic() < deadline, f"{text!r} not in the log:\n{srv.output}"
        time.sleep(0.05)


async def test_foreground_sighup_bad_config_keeps_settings(server_process, tmp_path: Path) -> None:
    config = tmp_path / "chinwag.toml"
    config.write_text('motd = "kept"\n')
    srv = server_process("--config", str(config))
    config.write_text("motd = unquoted nonsense\n")
    srv.proc.send_signal(signal.SIGHUP)
    _wait_output(srv, "SIGHUP: settings not reloaded")
    config.write_text('motd = "kept"\nmax_text = 0\n')
    srv.proc.send_signal(signal.SIGHUP)
    _wait_output(srv, "max_text must be at least 1")
    config.write_text('motd = "kept"\nserver_name = "renamed"\n')
    srv.proc.send_signal(signal.SIGHUP)
    _wait_output(srv, "SIGHUP: server_name changed but only take effect after a restart")
    c = await WireClient.connect(srv.host, srv.port)
    hello = await c.hello("alice")
    assert hello["motd"] == "kept" and hello["server"] == "chinwag"  # not live: unchanged
    await c.close()
    assert srv.proc.poll() is None
    assert srv.stop() == 0
    assert "Traceback" not in srv.output
