"""A raw line-level test client that checks every server line against the JSON Schema.

Deliberately not built on chinwag_client: tests of the server talk JSON
dicts and raw bytes, so they can send anything and see exactly what came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import jsonschema

from chinwag_protocol.messages import CLIENT_REQUEST_TYPES, reply_type_for

ROOT = Path(__file__).resolve().parents[2]
SCHEMA: dict[str, Any] = json.loads((ROOT / "docs" / "protocol.schema.json").read_text())
_DEFS = SCHEMA["$defs"]
_REQUEST_BY_TAG = {t.__struct_config__.tag: t for t in CLIENT_REQUEST_TYPES}


def validator(def_name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{def_name}", "$defs": _DEFS})


SERVER_MESSAGE = validator("ServerMessage")
CLIENT_MESSAGE = validator("ClientMessage")
_REPLY_VALIDATORS: dict[str, jsonschema.Draft202012Validator] = {}


def check_server_message(msg: dict[str, Any], request_type: str | None = None) -> None:
    """Fail unless ``msg`` is a valid server message (and the right ``ok`` for its request)."""
    SERVER_MESSAGE.validate(msg)
    if msg["type"] == "ok" and request_type in _REQUEST_BY_TAG:
        name = reply_type_for(_REQUEST_BY_TAG[request_type]).__name__
        v = _REPLY_VALIDATORS.get(name) or _REPLY_VALIDATORS.setdefault(name, validator(name))
        v.validate(msg)


class WireClient:
    """One raw connection.  Every line received is schema-checked as it arrives."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._ids = 0
        self._sent_types: dict[Any, str] = {}
        #: events (and replies) received but not yet taken by a test
        self.inbox: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.nick: str | None = None

    @classmethod
    async def connect(cls, host: str, port: int, **kw: Any) -> WireClient:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 24, **kw)
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, **fields: Any) -> None:
        if "id" in fields:
            self._sent_types[fields["id"]] = fields.get("type", "")
        await self.send_raw(json.dumps(fields).encode() + b"\n")

    async def _read_one(self, timeout: float) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            raise EOFError("server closed the connection")
        assert line.endswith(b"\n"), f"unterminated line {line[:80]!r}"
        msg = json.loads(line)
        assert isinstance(msg, dict)
        check_server_message(msg, self._sent_types.get(msg.get("id")))
        self.received.append(msg)
        return msg

    async def request(self, type: str, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """Send a request with a fresh id and return its reply (events go to the inbox)."""
        self._ids += 1
        rid = self._ids
        await self.send(type=type, id=rid, **fields)
        return await self.reply(rid, timeout)

    async def reply(self, rid: Any, timeout: float = 5.0) -> dict[str, Any]:
        for i, msg in enumerate(self.inbox):
            if msg.get("id") == rid and msg["type"] in ("ok", "error"):
                return self.inbox.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                msg = await self._read_one(timeout)
                if msg.get("id") == rid and msg["type"] in ("ok", "error"):
                    return msg
                self.inbox.append(msg)

    async def ok(self, type: str, **fields: Any) -> dict[str, Any]:
        reply = await self.request(type, **fields)
        assert reply["type"] == "ok", reply
        return reply

    async def error(self, type: str, code: str, **fields: Any) -> dict[str, Any]:
        reply = await self.request(type, **fields)
        assert reply["type"] == "error", reply
        assert reply["code"] == code, reply
        assert reply["message"], reply
        return reply

    async def hello(self, nick: str, **fields: Any) -> dict[str, Any]:
        reply = await self.ok("hello", nick=nick, protocol=1, **fields)
        self.nick = reply["nick"]
        return reply

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        if self.inbox:
            return self.inbox.pop(0)
        return await self._read_one(timeout)

    async def expect(self, type: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next message of ``type`` whose fields equal ``match`` (others are kept)."""

        def fits(m: dict[str, Any]) -> bool:
            return m["type"] == type and all(m.get(k) == v for k, v in match.items())

        for i, msg in enumerate(self.inbox):
            if fits(msg):
                return self.inbox.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                msg = await self._read_one(timeout)
                if fits(msg):
                    return msg
                self.inbox.append(msg)

    async def silent(self, duration: float = 0.3, type: str | None = None) -> None:
        """Assert nothing (of ``type``) arrives within ``duration`` seconds."""
        try:
            async with asyncio.timeout(duration):
                while True:
                    self.inbox.append(await self._read_one(duration))
        except TimeoutError:
            pass
        unexpected = [m for m in self.inbox if type is None or m["type"] == type]
        assert not unexpected, f"unexpected messages: {unexpected}"

    async def closed(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Read until EOF; return what came before it."""
        got: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while True:
                try:
                    got.append(await self._read_one(timeout))
                except (EOFError, ConnectionError):
                    return got

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
