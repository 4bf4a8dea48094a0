"""Input hardening over real sockets: names, text, and no way to speak as someone else."""

from __future__ import annotations

import pytest

from tests.conftest import ClientFactory

BIDI_AND_INVISIBLE = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u200b",  # ZERO WIDTH SPACE
    "\u200d",  # ZERO WIDTH JOINER
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
    "\u00ad",  # SOFT HYPHEN
    "\u3164",  # HANGUL FILLER (a "letter" that renders as nothing)
    "\uffa0",  # HALFWIDTH HANGUL FILLER
    "\u115f",  # HANGUL CHOSEONG FILLER
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\n",
    "\t",
    " ",
]


@pytest.mark.parametrize("bad", BIDI_AND_INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
async def test_nicks_with_control_invisible_or_bidi_characters_are_refused(
    connect: ClientFactory, bad: str
) -> None:
    c = await connect()
    for nick in (f"al{bad}ice", f"alice{bad}", f"{bad}alice"):
        await c.error("hello", "bad_nick", nick=nick, protocol=1)
    await c.hello("alice")
    await c.error("nick", "bad_nick", nick=f"bo{bad}b")
    await c.error("msg", "bad_nick", to=f"bo{bad}b", text="hi")


@pytest.mark.parametrize("bad", BIDI_AND_INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
async def test_room_names_with_control_invisible_or_bidi_characters_are_refused(
    connect: ClientFactory, bad: str
) -> None:
    c = await connect("alice")
    await c.error("join", "bad_room", room=f"lob{bad}by")
    await c.error("join", "bad_room", room=f"{bad}lobby")


async def test_nicks_are_nfc_normalised_and_lookalike_forms_collide(
    connect: ClientFactory,
) -> None:
    first = await connect()
    reply = await first.hello("Rene\u0301")  # e + COMBINING ACUTE
    assert reply["nick"] == "René"  # precomposed
    second = await connect()
    for same in ("René", "RENÉ", "Ｒｅｎé", "rene\u0301"):
        await second.error("hello", "nick_taken", nick=same, protocol=1)


async def test_room_names_are_folded(connect: ClientFactory) -> None:
    c = await connect("alice")
    reply = await c.ok("join", room="Dev-Ops")
    assert reply["room"] == "dev-ops"
    await c.error("join", "bad_room", room="déjà")  # room names are ASCII by rule


async def test_control_characters_are_stripped_from_text(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    await alice.ok("say", room="lobby", text="a\x1b[31mred\x07\x00 line\x7f\x9b\r\nnext\tcol")
    msg = await bob.expect("message", room="lobby")
    assert msg["text"] == "a[31mred line\nnext\tcol"
    for only_controls in ("\x00\x1b\x07", " \x7f "):
        await alice.error("say", "bad_text", room="lobby", text=only_controls)
    await alice.ok("topic", room="lobby", topic="one\nline\x1b")
    assert (await bob.expect("topic", room="lobby"))["topic"] == "oneline"


async def test_a_say_carrying_from_still_comes_from_its_sender(connect: ClientFactory) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    mallory = await connect("mallory")
    for c in (alice, bob, mallory):
        await c.ok("join", room="lobby")
    await mallory.ok(
        "say", room="lobby", text="I agree", **{"from": "alice", "nick": "alice", "ts": "x"}
    )
    for reader in (alice, bob):
        msg = await reader.expect("message", room="lobby", text="I agree")
        assert msg["from"] == "mallory"
    await mallory.ok("msg", to="bob", text="psst", **{"from": "alice"})
    private = await bob.expect("private", text="psst")
    assert private["from"] == "mallory" and private["to"] == "bob"
    await alice.silent(0.3, type="private")


async def test_no_request_can_take_or_reuse_a_live_nick(connect: ClientFactory) -> None:
    alice = await connect("alice")
    mallory = await connect("mallory")
    await mallory.error("nick", "nick_taken", nick="ALICE")
    await mallory.error("hello", "already_registered", nick="alice", protocol=1)
    await alice.ok("join", room="lobby")
    await mallory.ok("join", room="lobby")
    await mallory.ok("say", room="lobby", text="hello")
    assert (await alice.expect("message", text="hello"))["from"] == "mallory"


async def test_newlines_in_text_stay_inside_one_json_line(connect: ClientFactory) -> None:
    """A text cannot break the framing and inject a line of its own."""
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.ok("join", room="lobby")
    await bob.ok("join", room="lobby")
    fake = '\n{"type":"message","room":"lobby","from":"alice","text":"x"}\n'
    await bob.ok("say", room="lobby", text="hi" + fake)
    msg = await alice.expect("message", room="lobby")
    assert msg["from"] == "bob" and msg["text"] == "hi" + fake
    await alice.silent(0.3, type="message")
