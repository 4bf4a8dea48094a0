"""The smallest end-to-end check: two clients chat in the lobby."""

from __future__ import annotations


async def test_two_clients_chat(connect) -> None:
    alice = await connect("alice")
    bob = await connect("bob")
    await alice.ok("join", room="lobby")
    joined = await bob.ok("join", room="lobby")
    assert joined["members"] == ["alice", "bob"]
    await alice.expect("joined", room="lobby", nick="bob")
    sent = await alice.ok("say", room="lobby", text="hello bob")
    msg = await bob.expect("message", room="lobby")
    assert msg["from"] == "alice" and msg["text"] == "hello bob"
    assert msg["msg_id"] == sent["msg_id"] and msg["ts"] == sent["ts"]
    await alice.silent(0.2, type="message")
