"""Accounts from the outside: register, sign in, throttling, several sessions, offline DMs.

Real server, real sockets, real SQLite.  argon2 runs with cheap parameters
(``FAST``) so the suite stays quick; the code path is the production one.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from server.accounts import LoginThrottle
from server.app import ChinwagServer
from server.config import Settings
from tests.conftest import ServerFactory
from tests.helpers.wire import WireClient

FAST: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 8}
PW = "correct horse battery"


async def client(srv: ChinwagServer) -> WireClient:
    return await WireClient.connect(srv.host, srv.port)


async def guest(srv: ChinwagServer, nick: str) -> WireClient:
    c = await client(srv)
    await c.hello(nick)
    return c


async def account(srv: ChinwagServer, nick: str, password: str = PW) -> WireClient:
    """A session signed in to ``nick``, registering it first if needed."""
    c = await client(srv)
    reply = await c.request("hello", nick=nick, protocol=1)
    if reply["type"] == "ok":
        await c.ok("register", password=password)
        return c
    assert reply["code"] == "nick_reserved", reply
    reply = await c.request("hello", nick=nick, protocol=1, password=password)
    assert reply["type"] == "ok", reply
    assert reply["account"] == reply["nick"]
    return c


async def test_register_then_sign_in(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    a = await guest(srv, "Alice")
    await a.ok("register", password=PW, nick="alice")
    await a.close()

    b = await client(srv)
    reply = await b.hello("ALICE", password=PW)
    assert reply["nick"] == "Alice" and reply["account"] == "Alice"
    assert "offline" not in reply


async def test_guest_cannot_take_a_registered_nick(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    a = await account(srv, "alice")
    await a.close()
    g = await client(srv)
    await g.error("hello", "nick_reserved", nick="alice", protocol=1)
    await g.error("hello", "nick_reserved", nick="ALICE", protocol=1)
    await g.hello("mallory")
    await g.error("nick", "nick_reserved", nick="Alice")
    assert (await g.ok("nick", nick="mallory2"))["nick"] == "mallory2"


async def test_wrong_password_and_unknown_account(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    await (await account(srv, "alice")).close()
    c = await client(srv)
    await c.error("hello", "bad_password", nick="alice", protocol=1, password="nope nope nope")
    await c.error("hello", "bad_password", nick="alice", protocol=1, password="x" * 5000)
    await c.error("hello", "no_such_account", nick="nobody", protocol=1, password=PW)
    # the connection is still usable, and still unregistered
    await c.error("join", "not_registered", room="lobby")
    await c.hello("alice", password=PW)


async def test_register_rules(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST, password_min_length=10)
    c = await guest(srv, "bob")
    await c.error("register", "weak_password", password="short")
    await c.error("register", "weak_password", password=" " * 12)
    await c.error("register", "bad_request", password=PW, nick="carol")
    await c.error("register", "bad_request")  # no password at all
    await c.ok("register", password=PW)
    await c.error("register", "account_exists", password=PW)
    await c.error("nick", "nick_locked", nick="bobby")
    assert (await c.ok("nick", nick="bob"))["nick"] == "bob"
    other = await client(srv)
    await other.error("register", "not_registered", password=PW)


async def test_password_change(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    a = await account(srv, "alice")
    await a.error("password", "bad_password", old="wrong wrong", new="brand new secret")
    await a.error("password", "weak_password", old=PW, new="x")
    await a.ok("password", old=PW, new="brand new secret")
    c = await client(srv)
    await c.error("hello", "bad_password", nick="alice", protocol=1, password=PW)
    await c.hello("alice", password="brand new secret")
    g = await guest(srv, "guesty")
    await g.error("password", "not_logged_in", old=PW, new="whatever long")


async def test_failed_logins_are_throttled_per_account(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST, login_attempts=2, login_refill=3600.0)
    await (await account(srv, "alice")).close()
    c = await client(srv)
    for _ in range(2):
        await c.error("hello", "bad_password", nick="alice", protocol=1, password="guess guess")
    # now even the right password is refused, before any hashing
    reply = await c.error("hello", "throttled", nick="alice", protocol=1, password=PW)
    assert "try again in" in reply["message"]
    assert 3500 <= reply["retry_after"] <= 3600  # one attempt back per login_refill seconds
    await c.error("hello", "throttled", nick="alice", protocol=1, password="guess again")
    # other accounts are not locked out by it
    await (await account(srv, "bob")).close()
    d = await client(srv)
    await d.hello("bob", password=PW)


async def test_failed_logins_are_throttled_per_address(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST, login_attempts=100, login_attempts_per_address=3)
    srv_accounts = ["acc1", "acc2", "acc3", "acc4"]
    for name in srv_accounts:
        await (await account(srv, name)).close()
    c = await client(srv)
    for name in srv_accounts[:3]:
        await c.error("hello", "bad_password", nick=name, protocol=1, password="bad guess")
    await c.error("hello", "throttled", nick="acc4", protocol=1, password=PW)


async def test_require_account(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    await (await account(srv, "alice")).close()
    await srv.close()
    srv = await make_server(**FAST, require_account=True)
    g = await client(srv)
    await g.error("hello", "account_required", nick="guest", protocol=1)
    a = await client(srv)
    reply = await a.hello("alice", password=PW)
    assert reply["account"] == "alice"


async def test_accounts_survive_a_restart(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    await (await account(srv, "alice")).close()
    await srv.close()
    srv = await make_server(**FAST)
    c = await client(srv)
    await c.hello("alice", password=PW)


async def test_hello_pipelined_with_requests_keeps_order(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    await (await account(srv, "alice")).close()
    c = await client(srv)
    lines = [
        {"type": "hello", "id": 1, "nick": "alice", "protocol": 1, "password": PW},
        {"type": "join", "id": 2, "room": "lobby"},
        {"type": "say", "id": 3, "room": "lobby", "text": "first"},
    ]
    await c.send_raw(b"".join(json.dumps(x).encode() + b"\n" for x in lines))
    assert (await c.reply(1))["type"] == "ok"
    assert (await c.reply(2))["type"] == "ok"
    assert (await c.reply(3))["type"] == "ok"


async def test_several_sessions_of_one_account(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    a1 = await account(srv, "alice")
    a2 = await account(srv, "alice")
    bob = await guest(srv, "bob")
    await bob.ok("join", room="team")
    await a1.ok("join", room="team")
    await bob.expect("joined", room="team", nick="alice")
    joined = await a2.ok("join", room="team")
    assert joined["members"] == ["alice", "bob"]  # the account is listed once
    await bob.silent(0.3, type="joined")  # no second "joined" for the second session
    rooms = await bob.ok("rooms")
    assert {"name": "team", "topic": "", "members": 2} in rooms["rooms"]

    # a message from one session reaches the account's other session
    await a1.ok("say", room="team", text="from one")
    await a2.expect("message", room="team", text="from one")
    await bob.expect("message", room="team", text="from one")

    # DMs reach every session of the recipient and the sender's other sessions
    await bob.ok("msg", to="alice", text="to all of you")
    await a1.expect("private", text="to all of you")
    await a2.expect("private", text="to all of you")
    await a1.ok("msg", to="bob", text="reply from a1")
    await bob.expect("private", text="reply from a1", to="bob")
    await a2.expect("private", text="reply from a1", to="bob")

    # the room keeps the nick until its last session leaves
    await a1.ok("part", room="team")
    await bob.silent(0.3, type="left")
    assert (await bob.ok("who", room="team"))["members"] == ["alice", "bob"]
    await a2.close()
    await bob.expect("left", room="team", nick="alice")


async def test_dm_history_follows_the_account(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    a = await account(srv, "alice")
    bob = await guest(srv, "bob")
    await bob.ok("msg", to="alice", text="remember me")
    await a.expect("private", text="remember me")
    await a.close()
    again = await account(srv, "alice")
    page = await again.ok("history", **{"with": "bob"})
    assert [m["text"] for m in page["messages"]] == ["remember me"]


async def test_dm_to_offline_account_is_delivered_at_login(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    await (await account(srv, "alice")).close()
    bob = await guest(srv, "bob")
    sent = await bob.ok("msg", to="ALICE", text="while you were out")
    await bob.ok("msg", to="alice", text="and again")
    await srv.close()
    srv = await make_server(**FAST)  # queued DMs survive a restart too
    a = await client(srv)
    reply = await a.hello("alice", password=PW)
    assert reply["offline"] == 2
    first = await a.expect("private")
    second = await a.expect("private")
    assert (first["text"], second["text"]) == ("while you were out", "and again")
    assert first["msg_id"] == sent["msg_id"] and first["to"] == "alice"
    # delivered once only
    await a.close()
    b = await client(srv)
    reply = await b.hello("alice", password=PW)
    assert "offline" not in reply
    await b.silent(0.3, type="private")


async def test_dms_reach_only_their_two_parties(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST)
    a = await account(srv, "alice")
    bob = await guest(srv, "bob")
    eve = await guest(srv, "eve")
    for c in (a, bob, eve):
        await c.ok("join", room="lobby")
    await a.ok("msg", to="bob", text="secret")
    await bob.expect("private", text="secret")
    await eve.silent(0.4, type="private")
    page = await eve.ok("history", **{"with": "alice"})
    assert page["messages"] == []
    page = await eve.ok("history", **{"with": "bob"})
    assert page["messages"] == []
    # a guest taking bob's nick later does not inherit bob's DM history
    await bob.close()
    await eve.expect("left", nick="bob")
    bob2 = await guest(srv, "bob")
    assert (await bob2.ok("history", **{"with": "alice"}))["messages"] == []


def admin(
    data_dir: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "server.account_admin",
            *args,
            "--data-dir",
            str(data_dir),
            "--password-time-cost",
            "1",
            "--password-memory-kib",
            "8",
        ],
        input=None if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_admin_creates_accounts_for_a_closed_server(
    make_server: ServerFactory, settings: Settings
) -> None:
    data = settings.data_dir
    done = admin(data, "add", "Alice", "--password-stdin", password=PW)
    assert done.returncode == 0, done.stderr
    again = admin(data, "add", "alice", "--password-stdin", password=PW)
    assert again.returncode == 1 and "already" in again.stderr
    weak = admin(data, "add", "bob", "--password-stdin", password="short")
    assert weak.returncode == 1 and "at least" in weak.stderr
    bad = admin(data, "add", "no spaces", "--password-stdin", password=PW)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert admin(data, "list").stdout.split() == ["Alice"]

    srv = await make_server(**FAST, require_account=True)
    c = await client(srv)
    assert (await c.hello("alice", password=PW))["account"] == "Alice"
    # a password reset while the server runs applies to the next sign-in
    assert (
        admin(data, "passwd", "alice", "--password-stdin", password="another secret").returncode
        == 0
    )
    d = await client(srv)
    await d.error("hello", "bad_password", nick="alice", protocol=1, password=PW)
    await d.hello("alice", password="another secret")
    assert admin(data, "add", "bob", "--password-stdin", password=PW).returncode == 0
    bob = await client(srv)
    await bob.hello("bob", password=PW)
    await bob.ok("msg", to="alice", text="for the first alice only")
    await d.close()
    await c.close()
    assert admin(data, "delete", "alice").returncode == 0
    assert admin(data, "delete", "alice").returncode == 1
    e = await client(srv)
    await e.error("hello", "no_such_account", nick="alice", protocol=1, password=PW)
    # someone registering the freed nick inherits none of the old account's DMs
    assert admin(data, "add", "alice", "--password-stdin", password="new owner pw").returncode == 0
    await e.hello("alice", password="new owner pw")
    assert (await e.ok("history", **{"with": "bob"}))["messages"] == []


async def test_login_flood_does_not_disturb_chat(make_server: ServerFactory) -> None:
    srv = await make_server(**FAST, login_attempts=1000, login_attempts_per_address=1000)
    await (await account(srv, "alice")).close()
    talker = await guest(srv, "talker")
    listener = await guest(srv, "listener")
    for c in (talker, listener):
        await c.ok("join", room="lobby")
    guessers = [await client(srv) for _ in range(20)]
    for i, g in enumerate(guessers):  # all in flight at once
        await g.send(type="hello", id=1, nick="alice", protocol=1, password=f"guess {i:04}")
    for n in range(10):
        await talker.ok("say", room="lobby", text=f"line {n}")
        await listener.expect("message", text=f"line {n}")
    for g in guessers:
        reply = await g.reply(1, timeout=60)
        assert reply["type"] == "error" and reply["code"] == "bad_password", reply


async def test_a_version_1_database_is_upgraded(
    make_server: ServerFactory, settings: Settings
) -> None:
    """A history database from before accounts keeps its messages and gains accounts."""
    settings.data_dir.mkdir(parents=True)
    conn = sqlite3.connect(settings.db_path)
    conn.executescript(
        """
        CREATE TABLE messages (id INTEGER PRIMARY KEY, room TEXT, sender TEXT NOT NULL,
            recipient TEXT, text TEXT NOT NULL, ts INTEGER NOT NULL);
        CREATE INDEX messages_by_room ON messages(room, id);
        CREATE TABLE dm_index (owner TEXT NOT NULL, peer TEXT NOT NULL, msg_id INTEGER NOT NULL,
            PRIMARY KEY (owner, peer, msg_id)) WITHOUT ROWID;
        CREATE TABLE rooms (name TEXT PRIMARY KEY, topic TEXT NOT NULL DEFAULT '',
            topic_by TEXT NOT NULL DEFAULT '', topic_ts INTEGER NOT NULL DEFAULT 0);
        INSERT INTO messages VALUES (7, 'lobby', 'old', NULL, 'from before accounts', 0);
        PRAGMA user_version = 1;
        """
    )
    conn.close()
    srv = await make_server(**FAST)
    a = await account(srv, "alice")
    joined = await a.ok("join", room="lobby")
    assert [m["text"] for m in joined["history"]] == ["from before accounts"]
    await a.close()
    await srv.close()
    conn = sqlite3.connect(settings.db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT nick FROM accounts").fetchall() == [("alice",)]
    conn.close()


def test_login_throttle_buckets() -> None:
    throttle = LoginThrottle()
    keys = {"a:alice": 2, "ip:10.0.0.1": 5}
    assert throttle.wait(keys, refill=3600) == 0
    throttle.fail(keys, refill=3600)
    assert throttle.wait(keys, refill=3600) == 0
    throttle.fail(keys, refill=3600)
    assert throttle.wait(keys, refill=3600) > 3000  # the account bucket is empty
    assert throttle.wait({"ip:10.0.0.1": 5}, refill=3600) == 0  # the address is not
    assert throttle.wait({"a:bob": 2}, refill=3600) == 0
    throttle.forgive("a:alice")
    assert throttle.wait(keys, refill=3600) == 0
