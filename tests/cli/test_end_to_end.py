"""The real ``chinwag-cli`` process, piped, against a real in-process server.

The other side of each conversation is a raw schema-checking ``WireClient``
(or a second CLI), so every check is about what really crossed the socket.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from pathlib import Path

from server.app import ChinwagServer
from tests.cli.conftest import CliFactory
from tests.cli.helpers import PATIENCE, ROOT, Cli
from tests.conftest import ClientFactory

HHMM = r"\d\d:\d\d"


async def test_room_messages_cross_both_ways(cli: CliFactory, connect: ClientFactory) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    alice = await cli("--nick", "alice")
    await alice.expect("connected to chinwag as alice")
    assert re.fullmatch(
        rf"{HHMM} -- members of lobby \(2\): alice, bob", await alice.expect("members of")
    )
    await bob.expect("joined", room="lobby", nick="alice")

    await bob.ok("say", room="lobby", text="hi alice")
    assert re.fullmatch(rf"{HHMM} \[lobby\] <bob> hi alice", await alice.expect("hi alice"))

    await alice.send("hello bob")
    got = await bob.expect("message", room="lobby", text="hello bob")
    assert got["from"] == "alice"
    # our own line comes back formatted once the server has stored it
    assert re.fullmatch(rf"{HHMM} \[lobby\] <alice> hello bob", await alice.expect("hello bob"))

    assert await alice.finish() == 0
    await bob.expect("left", room="lobby", nick="alice")


async def test_two_clis_talk(cli: CliFactory) -> None:
    alice = await cli("--nick", "alice")
    await alice.expect("members of lobby")
    bob = await cli("--nick", "bob")
    await bob.expect("members of lobby (2): alice, bob")
    await alice.expect("-- bob joined lobby")
    await bob.send("ahoy")
    await alice.expect("<bob> ahoy")
    await alice.send("/msg bob secret plan")
    await alice.expect("-> *bob* secret plan")
    assert re.fullmatch(rf"{HHMM} \*alice\* secret plan", await bob.expect("secret plan"))
    assert await bob.finish() == 0
    await alice.expect("-- bob left lobby")
    assert await alice.finish() == 0


async def test_private_messages(cli: CliFactory, connect: ClientFactory) -> None:
    bob = await connect("bob")
    alice = await cli("--nick", "alice", "--room", "")
    await alice.expect("connected to")
    await alice.send("/msg bob psst, over here")
    got = await bob.expect("private", to="bob")
    assert (got["from"], got["text"]) == ("alice", "psst, over here")
    assert re.fullmatch(rf"{HHMM} -> \*bob\* psst, over here", await alice.expect("psst"))

    await bob.ok("msg", to="alice", text="what?")
    assert re.fullmatch(rf"{HHMM} \*bob\* what\?", await alice.expect("what?"))
    # a nick nobody has: the server's error is printed and the CLI carries on
    await alice.send("/msg carol hello?", "/msg bob still here")
    assert await alice.expect("!! ") == "!! no_such_nick: nobody is called carol"
    await bob.expect("private", text="still here")
    await alice.send("/history @bob 2")
    assert re.fullmatch(rf"{HHMM} \*bob\* what\?", await alice.expect("what?"))
    await alice.expect("-> *bob* still here")
    await alice.send("/history @nobody")
    await alice.expect("-- no messages in your private messages with nobody yet")
    assert await alice.finish() == 0
    assert "<alice>" not in alice.output  # --room '' joined nothing


async def test_nick_and_topic(cli: CliFactory, connect: ClientFactory) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    alice = await cli("--nick", "alice")
    await alice.expect("members of lobby")

    await alice.send("/nick alicia")
    await alice.expect("-- you are now alicia")
    await bob.expect("nick", old="alice", new="alicia")

    await alice.send("/topic release on friday")
    await alice.expect("-- topic of lobby: release on friday (set by alicia)")
    await bob.expect("topic", room="lobby", topic="release on friday", by="alicia")

    await bob.ok("topic", room="lobby", topic="release postponed")
    await alice.expect("-- topic of lobby: release postponed (set by bob)")
    await alice.send("/topic")
    await alice.expect("-- topic of lobby: release postponed (set by bob)")

    await bob.ok("nick", nick="robert")
    await alice.expect("-- bob is now robert")
    await alice.send("/topic -")
    await alice.expect("-- lobby has no topic")
    await bob.expect("topic", room="lobby", topic="")
    await alice.send("/nick robert")
    await alice.expect("!! nick_taken: the nick robert is taken")
    assert await alice.finish() == 0


async def test_join_part_switch_who_history(cli: CliFactory, connect: ClientFactory) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="dev")
    await bob.ok("say", room="dev", text="earlier words")
    await bob.ok("topic", room="dev", topic="dev talk")
    alice = await cli("--nick", "alice")
    await alice.expect("members of lobby")

    await alice.send("/join Dev")
    # replayed history first, then the topic and the members
    assert re.fullmatch(rf"{HHMM} \[dev\] <bob> earlier words", await alice.expect("earlier"))
    await alice.expect("-- joined dev")
    await alice.expect("-- topic of dev: dev talk")
    await alice.expect("-- members of dev (2): alice, bob")
    await bob.expect("joined", room="dev", nick="alice")

    await alice.send("now in dev")
    await bob.expect("message", room="dev", text="now in dev")
    await alice.send("/switch lobby", "back in lobby")
    await alice.expect("-- now talking in lobby")
    await alice.expect("[lobby] <alice> back in lobby")
    await alice.send("/room dev", "/who", "/who lobby", "/history 2", "/history lobby 1")
    await alice.expect("-- now talking in dev")
    await alice.expect("-- members of dev (2): alice, bob")
    await alice.expect("-- members of lobby (1): alice")
    await alice.expect("[dev] <bob> earlier words")
    await alice.expect("[dev] <alice> now in dev")
    await alice.expect("[lobby] <alice> back in lobby")

    await alice.send("/part")
    await alice.expect("-- you left dev")
    await alice.expect("-- now talking in lobby")
    left = await bob.expect("left", room="dev")
    assert left["nick"] == "alice"
    await alice.send("/switch dev")
    await alice.expect("!! you are not in dev; /join dev first")
    await alice.send("/rooms")
    await alice.expect("-- 2 rooms:")
    assert re.search(r"dev\s+1\s+dev talk$", await alice.expect("dev "))
    assert await alice.finish() == 0


async def test_bad_lines_print_errors_in_order_and_send_nothing(
    cli: CliFactory, connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    alice = await cli("--nick", "alice")
    script = [
        "/bogus stuff",
        "/msg nobody hi",
        "/join one two three",
        "/join bad!room",
        "/switch nowhere",
        "/history 0",
        "/nick",
        "/",
        "//slash is fine",
        "x" * 70_000,
        "last line",
    ]
    assert await alice.finish("\n".join(script) + "\n") == 0
    problems = [line for line in alice.lines if line.startswith("!!")]
    assert problems == [
        "!! unknown command /bogus; type /help for the list",
        "!! no_such_nick: nobody is called nobody",
        "!! usage: /join ROOM [KEY]",
        "!! bad_room: a room name is 1 to 32 of a-z, 0-9, '_' and '-', starting with a letter"
        " or digit",
        "!! you are not in nowhere; /join nowhere first",
        "!! N must be a number from 1 to 200",
        "!! usage: /nick NEW",
        "!! type a command after '/' (or '//' to send a line starting with '/')",
        "!! input line too long; not sent",
    ]
    assert alice.lines[-1].endswith("[lobby] <alice> last line")
    texts = []
    while True:
        msg = await bob.expect("message")
        texts.append(msg["text"])
        if msg["text"] == "last line":
            break
    assert texts == ["/slash is fine", "last line"]
    assert alice.stderr == ""


async def test_exit_and_quit_reason(cli: CliFactory, connect: ClientFactory) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    alice = await cli("--nick", "alice")
    assert await alice.finish("before\nexit\nafter\n") == 0
    await bob.expect("message", text="before")
    await bob.expect("left", nick="alice")
    await bob.silent(0.3, type="message")

    carol = await cli("--nick", "carol")
    assert await carol.finish("/quit gone fishing\n") == 0
    left = await bob.expect("left", nick="carol")
    assert left["reason"] == "gone fishing"


async def test_wait_keeps_printing_after_input_ends_and_shutdown_exits_0(
    server: ChinwagServer, cli: CliFactory, connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    alice = await cli("--nick", "alice", "--wait", "600")
    await alice.expect("members of lobby")
    assert alice.proc.stdin is not None
    alice.proc.stdin.close()  # input over; --wait keeps it listening
    await bob.ok("say", room="lobby", text="still listening?")
    await alice.expect("<bob> still listening?")
    await server.close()
    assert await alice.finish() == 0
    assert "-- server shutting down" in alice.output
    assert "connection lost" not in alice.stderr


async def test_nick_taken_exits_3(cli: CliFactory, connect: ClientFactory) -> None:
    await connect("bob")
    bob2 = await cli("--nick", "BOB")
    assert await bob2.finish("never sent\n") == 3
    assert "!! nick_taken: the nick BOB is taken" in bob2.stderr
    assert bob2.output == ""


async def test_unreachable_server_exits_1(cli: CliFactory) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = await cli("--nick", "alice", port=port)
    assert await c.finish() == 1
    assert (
        c.stderr.strip() == f"chinwag-cli: cannot connect to 127.0.0.1:{port}: connection refused"
    )


async def test_usage_errors_exit_2(cli: CliFactory) -> None:
    no_nick = await cli()
    assert await no_nick.finish("hi\n") == 2
    assert "--nick is required when standard input is not a terminal" in no_nick.stderr
    for flags, complaint in [
        (("--nick", "9lives"), "a nick starts with a letter"),
        (("--nick", "a", "--port", "70000"), "a port is a number from 1 to 65535"),
        (("--nick", "a", "--wait", "soon"), "not a number of seconds"),
        (("--nick", "a", "--room", "No Spaces"), "bad room"),
    ]:
        c = await cli(*flags)
        assert await c.finish() == 2, flags
        assert complaint in c.stderr
        assert "Traceback" not in c.stderr


async def test_connection_lost_exits_1(server_process) -> None:
    srv = server_process()
    alice = await Cli.start("--nick", "alice", port=srv.port)
    try:
        await alice.expect("members of lobby")
        srv.kill()  # SIGKILL: no goodbye, the socket just closes
        assert await alice.finish() == 1
        assert "!! connection lost: connection closed by server" in alice.stderr
        assert "Traceback" not in alice.stderr
    finally:
        alice.kill()


async def test_interrupt_and_terminate_quit_cleanly(
    cli: CliFactory, connect: ClientFactory
) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    for nick, sig in (("int", signal.SIGINT), ("term", signal.SIGTERM)):
        c = await cli("--nick", nick, "--wait", "600")
        await c.expect("members of lobby")
        c.proc.send_signal(sig)
        assert await c.finish() == 0, c.stderr
        await bob.expect("left", room="lobby", nick=nick)
        assert c.stderr == ""


async def test_script_from_a_regular_file_and_wait_then_quit(
    server: ChinwagServer, connect: ClientFactory, tmp_path: Path
) -> None:
    """``chinwag-cli < script.txt``: stdin is a file, not a pipe; --wait ends on its own."""
    bob = await connect("bob")
    await bob.ok("join", room="lobby")
    script = tmp_path / "script.txt"
    script.write_text("/join ops\nfirst\n/switch lobby\nsecond, no final newline")
    with script.open("rb") as stdin:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli_client",
            "--port",
            str(server.port),
            "--nick",
            "filer",
            "--wait",
            "0.5",
            cwd=ROOT,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), PATIENCE)
    assert proc.returncode == 0, err
    await bob.expect("message", room="lobby", text="second, no final newline")
    await bob.expect("left", room="lobby", nick="filer")
    lines = out.decode().splitlines()
    assert lines[-1].endswith("[lobby] <filer> second, no final newline")
    assert any(line.endswith("[ops] <filer> first") for line in lines)


async def test_silent_peer_times_out_instead_of_hanging(cli: CliFactory) -> None:
    """Something accepts the connection but never answers ``hello``: exit 1, no hang."""
    accepted: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    silent = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        c = await cli("--nick", "alice", "--timeout", "1", port=port)
        assert await c.finish() == 1
        assert c.stderr.strip() == (
            f"chinwag-cli: cannot connect to 127.0.0.1:{port}: no answer to hello"
        )
    finally:
        for w in accepted:
            w.close()
        silent.close()
        await silent.wait_closed()


async def test_several_rooms_on_the_command_line(cli: CliFactory, connect: ClientFactory) -> None:
    bob = await connect("bob")
    await bob.ok("join", room="dev")
    await bob.ok("join", room="ops")
    c = await cli("--nick", "alice", "--room", "dev", "--room", "OPS", "--room", "dev")
    await c.expect("-- joined dev")
    await c.expect("-- joined ops")
    await c.expect("-- now talking in dev")
    assert await c.finish("to the first room\n") == 0
    await bob.expect("message", room="dev", text="to the first room")
    assert "joined lobby" not in c.output
    assert c.output.count("-- joined dev") == 1
