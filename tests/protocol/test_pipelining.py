"""Properties of whole conversations: chunking never changes what is decoded,
and replies are matched to their requests whatever order they arrive in."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag_protocol.codec import encode
from chinwag_protocol.connection import ClientConnection, ReplyReceived, ServerConnection
from chinwag_protocol.messages import Ok, Ping, Reply, Request, Rooms, RoomsOk, Who, WhoOk
from tests.protocol.test_properties import requests_st


@settings(max_examples=200, deadline=None)
@given(
    reqs=st.lists(requests_st, max_size=15),
    cuts=st.lists(st.integers(0, 5000), max_size=20),
)
def test_server_connection_chunking_invariant(reqs: list[Any], cuts: list[int]) -> None:
    wire = b"".join(encode(r) for r in reqs)
    conn = ServerConnection(max_line=1 << 20)
    conn.registered = True
    got: list[Any] = []
    prev = 0
    for cut in sorted({min(c, len(wire)) for c in cuts} | {len(wire)}):
        conn.receive_data(wire[prev:cut])
        prev = cut
        while (req := conn.next_request()) is not None:
            got.append(req)
    assert got == reqs
    assert conn.data_to_send() == b""


def reply_for(req: Request) -> Reply:
    """The reply a server would give, distinct per request id."""
    if isinstance(req, Who):
        return WhoOk(id=req.id, room="r", members=[str(req.id)])
    if isinstance(req, Rooms):
        return RoomsOk(id=req.id, rooms=[])
    return Ok(id=req.id)


@settings(max_examples=200, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["ping", "rooms", "who"]), min_size=1, max_size=12),
    data=st.data(),
)
def test_client_matches_replies_in_any_order(kinds: list[str], data: st.DataObject) -> None:
    c = ClientConnection()
    sent = []
    for kind in kinds:
        req = {"ping": Ping(), "rooms": Rooms(), "who": Who(room="r")}[kind]
        sent.append(c.request(req)[0])
    order = data.draw(st.permutations(sent))
    wire = b"".join(encode(reply_for(r)) for r in order)
    events = c.receive_data(wire)
    assert c.pending == 0
    assert len(events) == len(sent)
    for ev, req in zip(events, order, strict=True):
        assert isinstance(ev, ReplyReceived) and ev.request is req
        assert ev.reply == reply_for(req)
