"""Registered accounts: storage, password hashing and login throttling.

An account's name is its case-folded nick (:func:`chinwag_protocol.validation.nick_key`);
``nick`` keeps the spelling it was registered with.  Passwords are stored only
as argon2id hashes (argon2-cffi).  Hashing is slow and memory-hungry on
purpose, so it runs on a small dedicated thread pool (``password_hash_workers``)
and the event loop only ever waits on its futures: a flood of logins queues
up there instead of blocking chat or exhausting memory.

Writes (new account, new hash, offline DM queue) go through the history
writer thread like everything else; reads are indexed lookups on the loop's
connection.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chinwag_protocol.errors import ErrorCode, RequestError
from chinwag_protocol.messages import Error, Private
from chinwag_protocol.timefmt import format_msg_id, format_ts
from server.config import Settings
from server.storage import DurableCallback, HistoryStore

#: the most DMs handed to an account at login; older ones stay in ``history``
OFFLINE_DELIVERY_MAX = 200
#: passwords longer than this are refused (hashing cost and memory stay bounded)
MAX_PASSWORD = 1024


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    nick: str
    hash: str


def check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise RequestError(
            ErrorCode.WEAK_PASSWORD, f"a password needs at least {min_length} characters"
        )
    if len(password) > MAX_PASSWORD:
        raise RequestError(
            ErrorCode.WEAK_PASSWORD, f"a password can have at most {MAX_PASSWORD} characters"
        )
    if not password.strip():
        raise RequestError(ErrorCode.WEAK_PASSWORD, "a password cannot be only spaces")


class AccountStore:
    def __init__(self, store: HistoryStore) -> None:
        self._store = store

    def get(self, name: str) -> Account | None:
        rows = self._store.read("SELECT name, nick, hash FROM accounts WHERE name = ?", (name,))
        return Account(*rows[0]) if rows else None

    def create(self, account: Account, created_ms: int, done: DurableCallback) -> None:
        self._store.execute(
            "INSERT INTO accounts (name, nick, hash, created) VALUES (?,?,?,?)",
            (account.name, account.nick, account.hash, created_ms),
            done,
        )

    def set_hash(self, name: str, hashed: str, done: DurableCallback) -> None:
        self._store.execute("UPDATE accounts SET hash = ? WHERE name = ?", (hashed, name), done)

    def queue_offline(self, name: str, msg_id: int) -> None:
        self._store.execute(
            "INSERT OR IGNORE INTO offline_dm (account, msg_id) VALUES (?,?)", (name, msg_id)
        )

    def take_offline(self, name: str) -> list[Private]:
        """The DMs that arrived while ``name`` was offline (newest
        :data:`OFFLINE_DELIVERY_MAX`, oldest first); the queue is emptied."""
        rows = self._store.read(
            "SELECT m.id, m.sender, m.recipient, m.text, m.ts FROM offline_dm o "
            "JOIN messages m ON m.id = o.msg_id WHERE o.account = ? "
            "ORDER BY o.msg_id DESC LIMIT ?",
            (name, OFFLINE_DELIVERY_MAX),
        )
        if not rows:
            return []
        rows.reverse()
        self._store.execute(
            "DELETE FROM offline_dm WHERE account = ? AND msg_id <= ?", (name, rows[-1][0])
        )
        return [
            Private(from_=s, to=r, text=t, ts=format_ts(ts), msg_id=format_msg_id(i))
            for i, s, r, t, ts in rows
        ]


class PasswordHashing:
    """argon2id on a bounded thread pool; results come back as loop futures."""

    def __init__(self, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
            parallelism=1,
            type=argon2.Type.ID,
        )
        self._loop = loop
        self._pool = ThreadPoolExecutor(
            max_workers=settings.password_hash_workers, thread_name_prefix="argon2"
        )

    def hash(self, password: str) -> asyncio.Future[str]:
        return self._loop.run_in_executor(self._pool, self._hasher.hash, password)

    def verify(self, hashed: str, password: str) -> asyncio.Future[bool]:
        return self._loop.run_in_executor(self._pool, self._verify, hashed, password)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LoginThrottle:
    """Failed-password token buckets, one per account and one per client address.

    Each bucket holds up to ``capacity`` attempts and regains one every
    ``refill`` seconds; a failure takes one.  While a bucket is empty every
    attempt on it - right or wrong - is refused with ``throttled`` before any
    hashing, so guessing costs the guesser time and the server nothing.
    In memory only: a restart forgives everyone.
    """

    #: buckets kept before full ones are pruned
    _PRUNE_AT = 10000

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, capacity: int, refill: float, now: float) -> float:
        tokens, last = self._buckets.get(key, (float(capacity), now))
        return min(float(capacity), tokens + (now - last) / refill)

    def wait(self, keys: dict[str, int], refill: float) -> float:
        """Seconds until every bucket in ``keys`` (key -> capacity) allows an attempt."""
        now = time.monotonic()
        worst = 0.0
        for key, capacity in keys.items():
            level = self._level(key, capacity, refill, now)
            if level < 1.0:
                worst = max(worst, (1.0 - level) * refill)
        return worst

    def fail(self, keys: dict[str, int], refill: float) -> None:
        now = time.monotonic()
        for key, capacity in keys.items():
            self._buckets[key] = (max(0.0, self._level(key, capacity, refill, now) - 1.0), now)
        if len(self._buckets) > self._PRUNE_AT:
            self._prune(refill * max(keys.values()), now)

    def forgive(self, key: str) -> None:
        self._buckets.pop(key, None)

    def _prune(self, horizon: float, now: float) -> None:
        """Drop buckets untouched for ``horizon`` seconds: they have refilled, and a
        full bucket is the same as none."""
        for key, (_, last) in list(self._buckets.items()):
            if now - last > horizon:
                del self._buckets[key]


def throttled_reply(request_id: int | str | None, wait: float) -> Error:
    seconds = max(1, math.ceil(wait))
    return Error(
        id=request_id,
        code=ErrorCode.THROTTLED.value,
        message=f"too many failed password attempts; try again in {seconds} s",
        retry_after=seconds,
    )
