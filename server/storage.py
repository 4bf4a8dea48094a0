"""Durable history in SQLite (WAL), written off the event loop with group commit.

Writes are collected by the event loop during one loop iteration and handed
to one writer thread as a single list (one queue operation, not one per
message); the writer takes everything handed over so far (up to
``history_batch_max`` writes), applies it in one transaction and commits
once (group commit).  Each write has a sequence number; when a commit lands,
the writer tells the loop "durable up to N" and the loop runs the callbacks
waiting on those writes - that is how a ``say`` is acknowledged only once its
message is on disk.  With ``history_sync = "full"`` every commit is fsynced;
with ``"normal"`` WAL commits survive a server crash but not a power loss.

Reads (join replay, history pages) use a second connection on the loop
thread: they are indexed lookups of at most a few hundred rows, and WAL lets
them run beside the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chinwag_protocol.messages import Message, Private
from chinwag_protocol.timefmt import format_msg_id, format_ts

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id        INTEGER PRIMARY KEY,
    room      TEXT,
    sender    TEXT NOT NULL,
    recipient TEXT,
    text      TEXT NOT NULL,
    ts        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_room ON messages(room, id);
CREATE TABLE IF NOT EXISTS dm_index (
    owner  TEXT NOT NULL,
    peer   TEXT NOT NULL,
    msg_id INTEGER NOT NULL,
    PRIMARY KEY (owner, peer, msg_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms (
    name     TEXT PRIMARY KEY,
    topic    TEXT NOT NULL DEFAULT '',
    topic_by TEXT NOT NULL DEFAULT '',
    topic_ts INTEGER NOT NULL DEFAULT 0
);
"""

#: Version 2 (accounts and room permissions, see server/accounts.py and
#: server/permissions.py).  Creating the tables is the whole migration from 1.
_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS accounts (
    name    TEXT PRIMARY KEY,
    nick    TEXT NOT NULL,
    hash    TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS room_modes (
    room        TEXT PRIMARY KEY,
    topic_lock  INTEGER NOT NULL DEFAULT 0,
    invite_only INTEGER NOT NULL DEFAULT 0,
    moderated   INTEGER NOT NULL DEFAULT 0,
    key         TEXT
);
CREATE TABLE IF NOT EXISTS room_acl (
    room    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (room, kind, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offline_dm (
    account TEXT NOT NULL,
    msg_id  INTEGER NOT NULL,
    PRIMARY KEY (account, msg_id)
) WITHOUT ROWID;
"""

#: one queued write: (sequence number, kind, parameters)
_Write = tuple[int, str, tuple[Any, ...]]

DurableCallback = Callable[[bool], None]
"""Called on the loop once a write is committed (True) or has failed (False)."""

_INSERT_MSG = "INSERT INTO messages (id, room, sender, recipient, text, ts) VALUES (?,?,?,?,?,?)"
_INSERT_DM = "INSERT OR IGNORE INTO dm_index (owner, peer, msg_id) VALUES (?,?,?)"
_UPSERT_TOPIC = (
    "INSERT INTO rooms (name, topic, topic_by, topic_ts) VALUES (?,?,?,?) "
    "ON CONFLICT(name) DO UPDATE SET topic=excluded.topic, topic_by=excluded.topic_by, "
    "topic_ts=excluded.topic_ts"
)


@dataclass(frozen=True, slots=True)
class RoomMeta:
    topic: str
    topic_by: str


class StorageError(Exception):
    """The database could not be opened or written."""


def _connect(path: Path, sync: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class HistoryStore:
    """Message history and room topics.  Create, :meth:`open`, use, :meth:`close`."""

    def __init__(self, path: Path, *, sync: str = "full", batch_max: int = 5000) -> None:
        self.path = path
        self._sync = sync
        self._batch_max = batch_max
        #: lists of writes, one per loop iteration that made any (None: stop)
        self._queue: queue.SimpleQueue[list[_Write] | None] = queue.SimpleQueue()
        #: writes made during this loop iteration, handed to the writer at its end
        self._outbox: list[_Write] = []
        self._handover: asyncio.Handle | None = None
        self._waiting: deque[tuple[int, DurableCallback]] = deque()
        self._seq = 0  # last sequence number queued
        self._durable_seq = 0  # last sequence number committed (or failed)
        self._last_id = 0
        self._reader: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: commit latency samples (seconds) for metrics; the loop drains it
        self.commit_times: deque[float] = deque(maxlen=1024)
        self.commits = 0
        self.rows_written = 0

    # ---- lifecycle ---------------------------------------------------------

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _connect(self.path, self._sync)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageError(f"{self.path} was written by a newer Chinwag (schema {version})")
            conn.executescript(_SCHEMA)
            conn.executescript(_SCHEMA_V2)  # migration 1 -> 2: new tables only
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0]
            conn.close()
            self._reader = _connect(self.path, self._sync)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open history database {self.path}: {exc}") from exc
        self._loop = loop
        self._thread = threading.Thread(
            target=self._writer_main, name="history-writer", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        """Commit everything queued, stop the writer, close the database."""
        await self.flush()
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # ---- writes (called on the loop) --------------------------------------

    def next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    @property
    def last_id(self) -> int:
        return self._last_id

    def _put(self, kind: str, params: tuple[Any, ...], done: DurableCallback | None) -> None:
        self._seq += 1
        if done is not None:
            self._waiting.append((self._seq, done))
        self._outbox.append((self._seq, kind, params))
        if self._handover is None:
            if self._loop is None:  # not open: nothing runs the loop side yet
                self._hand_over()
            else:
                self._handover = self._loop.call_soon(self._hand_over)

    def _hand_over(self) -> None:
        """Pass this loop iteration's writes to the writer thread in one queue operation."""
        self._handover = None
        if self._outbox:
            self._queue.put(self._outbox)
            self._outbox = []

    def append_room(
        self, msg_id: int, room: str, sender: str, text: str, ts: int, done: DurableCallback | None
    ) -> None:
        self._put("msg", (msg_id, room, sender, None, text, ts), done)

    def append_dm(
        self,
        msg_id: int,
        sender: str,
        recipient: str,
        text: str,
        ts: int,
        index: tuple[tuple[str, str], ...],
        done: DurableCallback | None,
    ) -> None:
        """Store a DM; ``index`` lists the (owner identity, peer nick key) pairs that find it."""
        self._put("dm", ((msg_id, None, sender, recipient, text, ts), index), done)

    def set_topic(self, room: str, topic: str, by: str, ts: int) -> None:
        self._put("topic", (room, topic, by, ts), None)

    def execute(
        self, sql: str, params: tuple[Any, ...], done: DurableCallback | None = None
    ) -> None:
        """Queue one statement for the writer (accounts, room permissions): it
        commits with the next group, in order with the messages around it."""
        self._put("sql", (sql, params), done)

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Run a read-only query on the loop's connection (indexed lookups only)."""
        return self._read(sql, params)

    def after_durable(self, callback: DurableCallback) -> None:
        """Run ``callback`` once everything queued so far is committed."""
        if self._durable_seq >= self._seq:
            assert self._loop is not None
            self._loop.call_soon(callback, True)
        else:
            self._waiting.append((self._seq, callback))

    async def flush(self) -> bool:
        """Wait until everything queued so far is committed."""
        if self._loop is None or self._thread is None:
            return True
        fut: asyncio.Future[bool] = self._loop.create_future()

        def done(ok: bool) -> None:
            if not fut.done():
                fut.set_result(ok)

        self.after_durable(done)
        return await fut

    @property
    def backlog(self) -> int:
        return self._seq - self._durable_seq

    def _durable(self, upto: int, ok: bool) -> None:
        self._durable_seq = max(self._durable_seq, upto)
        waiting = self._waiting
        while waiting and waiting[0][0] <= upto:
            _, callback = waiting.popleft()
            try:
                callback(ok)
            except Exception:  # a bad callback must not stop the others
                log.exception("durable callback failed")

    # ---- writer thread ------------------------------------------------------

    def _writer_main(self) -> None:
        conn = _connect(self.path, self._sync)
        q = self._queue
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                batch = item
                stop = False
                while len(batch) < self._batch_max:
                    try:
                        nxt = q.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.extend(nxt)
                ok = self._commit(conn, batch)
                assert self._loop is not None
                try:
                    self._loop.call_soon_threadsafe(self._durable, batch[-1][0], ok)
                except RuntimeError:  # loop closed under us
                    return
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Write]) -> bool:
        msgs: list[tuple[Any, ...]] = []
        dms: list[tuple[str, str, int]] = []
        topics: list[tuple[Any, ...]] = []
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for _, kind, params in batch:
            if kind == "msg":
                msgs.append(params)
            elif kind == "dm":
                row, index = params
                msgs.append(row)
                dms.extend((owner, peer, row[0]) for owner, peer in index)
            elif kind == "sql":
                statements.append(params)
            else:
                topics.append(params)
        started = time.perf_counter()
        try:
            conn.execute("BEGIN")
            if msgs:
                conn.executemany(_INSERT_MSG, msgs)
            if dms:
                conn.executemany(_INSERT_DM, dms)
            if topics:
                conn.executemany(_UPSERT_TOPIC, topics)
            for sql, args in statements:  # after the messages they may refer to
                conn.execute(sql, args)
            conn.execute("COMMIT")
        except sqlite3.Error:
            log.exception("history write of %d rows failed", len(batch))
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return False
        self.commit_times.append(time.perf_counter() - started)
        self.commits += 1
        self.rows_written += len(msgs)
        return True

    # ---- reads (on the loop) ---------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        assert self._reader is not None, "store is not open"
        return self._reader.execute(sql, params).fetchall()

    def room_meta(self, room: str) -> RoomMeta | None:
        rows = self._read("SELECT topic, topic_by FROM rooms WHERE name = ?", (room,))
        return RoomMeta(rows[0][0], rows[0][1]) if rows else None

    def room_exists(self, room: str) -> bool:
        if self.room_meta(room) is not None:
            return True
        return bool(self._read("SELECT 1 FROM messages WHERE room = ? LIMIT 1", (room,)))

    def room_page(
        self, room: str, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> list[Message]:
        """Up to ``limit`` room messages, oldest first: the newest ones before ``before``,
        or the oldest ones after ``after``."""
        if after is not None:
            rows = self._read(
                "SELECT id, sender, text, ts FROM messages WHERE room = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                (room, after, limit),
            )
        else:
            rows = self._read(
                "SELECT id, sender, text, ts FROM messages WHERE room = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (room, before if before is not None else 1 << 62, limit),
            )
            rows.reverse()
        return [
            Message(room=room, from_=s, text=t, ts=format_ts(ts), msg_id=format_msg_id(i))
            for i, s, t, ts in rows
        ]

    def dm_page(
        self,
        owner: str,
        peer: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
    ) -> list[Private]:
        """DMs between identity ``owner`` and nick key ``peer``, oldest first."""
        base = (
            "SELECT m.id, m.sender, m.recipient, m.text, m.ts FROM dm_index d "
            "JOIN messages m ON m.id = d.msg_id WHERE d.owner = ? AND d.peer = ? "
        )
        if after is not None:
            rows = self._read(
                base + "AND d.msg_id > ? ORDER BY d.msg_id LIMIT ?", (owner, peer, after, limit)
            )
        else:
            rows = self._read(
                base + "AND d.msg_id < ? ORDER BY d.msg_id DESC LIMIT ?",
                (owner, peer, before if before is not None else 1 << 62, limit),
            )
            rows.reverse()
        return [
            Private(from_=s, to=r, text=t, ts=format_ts(ts), msg_id=format_msg_id(i))
            for i, s, r, t, ts in rows
        ]
