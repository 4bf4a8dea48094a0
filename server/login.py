"""Account requests: ``hello`` with a password, ``register`` and ``password``.

Each one needs argon2 work, which runs on :class:`~server.accounts.PasswordHashing`'s
thread pool.  Meanwhile the session is paused (:meth:`Session.pause`): it
reads nothing more and handles no further request, so a ``join`` pipelined
after a ``hello`` still sees the hello done, and replies keep request order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chinwag_protocol.codec import encode
from chinwag_protocol.errors import ErrorCode, RequestError
from chinwag_protocol.messages import Hello, Ok, Password, Register
from chinwag_protocol.timefmt import now_ms
from chinwag_protocol.validation import nick_key, normalize_nick
from server.accounts import MAX_PASSWORD, Account, check_password, throttled_reply
from server.identity import account_ident

if TYPE_CHECKING:
    from server.hub import Hub
    from server.session import Session

log = logging.getLogger(__name__)


def _address(session: Session) -> str:
    host, _, _ = session.peer.rpartition(":")
    return "ip:" + (host or session.peer)


class Login:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def handlers(self) -> dict[type, Callable[[Session, Any], None]]:
        return {Register: self._register, Password: self._password}

    # ---- throttling ------------------------------------------------------

    def _buckets(self, session: Session, account: str) -> dict[str, int]:
        s = self.hub.settings
        return {
            account_ident(account): s.login_attempts,
            _address(session): s.login_attempts_per_address,
        }

    def _throttled(
        self, session: Session, request_id: int | str | None, buckets: dict[str, int]
    ) -> bool:
        """If a bucket is empty, answer ``throttled`` (with ``retry_after``) and say so."""
        wait = self.hub.throttle.wait(buckets, self.hub.settings.login_refill)
        if wait <= 0:
            return False
        if request_id is not None:
            session.send_reply(throttled_reply(request_id, wait))
        return True

    def _failed(self, buckets: dict[str, int]) -> None:
        self.hub.throttle.fail(buckets, self.hub.settings.login_refill)

    # ---- running argon2 off the loop -----------------------------------------

    def _off_loop(
        self,
        session: Session,
        request_id: int | str | None,
        fut: asyncio.Future[Any],
        then: Callable[[Any], bool],
    ) -> None:
        """Pause ``session`` until ``fut`` is done, then run ``then(result)``
        (a RequestError it raises becomes the error reply) and resume - unless
        ``then`` returned True: it started more work, which will resume."""
        session.pause()

        def done(f: asyncio.Future[Any]) -> None:
            if session.closing:
                return
            chained = False
            try:
                chained = then(f.result())
            except RequestError as exc:
                session.send_error(request_id, exc.code, exc.message)
            except Exception:
                log.exception("password work failed for %r", session)
                session.send_error(request_id, ErrorCode.INTERNAL, "internal server error")
            if not chained:
                session.resume()

        fut.add_done_callback(done)

    def _after_durable(self, session: Session, then: Callable[[bool], None]) -> None:
        """Keep ``session`` paused until everything queued is on disk, then run ``then``."""
        session.pause()

        def done(ok: bool) -> None:
            if session.closing:
                return
            try:
                then(ok)
            finally:
                session.resume()

        self.hub.store.after_durable(done)

    # ---- hello with password -------------------------------------------------

    def hello_with_password(self, session: Session, req: Hello, key: str) -> None:
        hub = self.hub
        assert req.password is not None
        buckets = self._buckets(session, key)
        if self._throttled(session, req.id, buckets):
            return
        account = hub.accounts.get(key)
        if account is None:
            self._failed({_address(session): hub.settings.login_attempts_per_address})
            raise RequestError(
                ErrorCode.NO_SUCH_ACCOUNT,
                f"no account is called {normalize_nick(req.nick)}: say hello without a "
                "password, then register",
            )
        password = req.password
        if len(password) > MAX_PASSWORD:  # cannot be right; not worth hashing
            self._failed(buckets)
            raise RequestError(ErrorCode.BAD_PASSWORD, "wrong password")

        def verified(ok: bool) -> bool:
            if not ok:
                self._failed(buckets)
                raise RequestError(ErrorCode.BAD_PASSWORD, "wrong password")
            if hub.shutting_down:
                raise RequestError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
            hub.throttle.forgive(account_ident(key))
            # offline DMs queued in writes not yet on disk must be seen: wait for them
            self._after_durable(session, lambda _ok: self._sign_in(session, req, account))
            return True

        self._off_loop(session, req.id, hub.hashing.verify(account.hash, password), verified)

    def _sign_in(self, session: Session, req: Hello, account: Account) -> None:
        hub = self.hub
        if hub.shutting_down:
            session.send_error(req.id, ErrorCode.SHUTTING_DOWN, "the server is shutting down")
            return
        held = hub.sessions_of(account.name)
        if held and not held[0].is_account:  # cannot happen: guests can't hold it
            session.send_error(req.id, ErrorCode.NICK_TAKEN, f"the nick {account.nick} is taken")
            return
        pending = hub.accounts.take_offline(account.name)
        hub.admit(
            session,
            req.id,
            account.nick,
            account.name,
            account_ident(account.name),
            account=account.nick,
            offline=len(pending) or None,
        )
        for dm in pending:
            session.send_raw(encode(dm))

    # ---- register --------------------------------------------------------------

    def _register(self, session: Session, req: Register) -> None:
        hub = self.hub
        if session.is_account:
            raise RequestError(
                ErrorCode.ACCOUNT_EXISTS, f"you are already signed in to account {session.nick}"
            )
        if req.nick is not None and nick_key(normalize_nick(req.nick)) != session.key:
            raise RequestError(
                ErrorCode.BAD_REQUEST,
                f"register registers your current nick ({session.nick}); change nick first",
            )
        check_password(req.password, hub.settings.password_min_length)
        if hub.accounts.get(session.key) is not None:
            raise RequestError(ErrorCode.ACCOUNT_EXISTS, f"{session.nick} is already registered")
        key = session.key

        def hashed(digest: str) -> bool:
            if session.key != key or hub.accounts.get(key) is not None:
                raise RequestError(ErrorCode.ACCOUNT_EXISTS, "the nick was registered meanwhile")
            account = Account(key, session.nick, digest)
            hub.accounts.create(account, now_ms(), lambda ok: None)
            self._after_durable(session, lambda ok: self._registered(session, req, ok))
            return True

        self._off_loop(session, req.id, hub.hashing.hash(req.password), hashed)

    def _registered(self, session: Session, req: Register, ok: bool) -> None:
        if not ok:
            session.send_error(req.id, ErrorCode.STORAGE_FAILED, "the account could not be stored")
            return
        old = session.ident
        session.ident = account_ident(session.key)
        self.hub.perms.rebind(old, session.ident)
        log.info("%s registered an account", session.nick)
        session.send_reply(Ok(id=req.id))

    # ---- password change ---------------------------------------------------------

    def _password(self, session: Session, req: Password) -> None:
        hub = self.hub
        if not session.is_account:
            raise RequestError(
                ErrorCode.NOT_LOGGED_IN, "only a session signed in to an account has a password"
            )
        key = session.key
        buckets = self._buckets(session, key)
        if self._throttled(session, req.id, buckets):
            return
        check_password(req.new, hub.settings.password_min_length)
        account = hub.accounts.get(key)
        if account is None:
            raise RequestError(ErrorCode.NO_SUCH_ACCOUNT, "your account no longer exists")

        def verified(ok: bool) -> bool:
            if not ok:
                self._failed(buckets)
                raise RequestError(ErrorCode.BAD_PASSWORD, "the old password is wrong")
            self._off_loop(session, req.id, hub.hashing.hash(req.new), store)
            return True

        def store(digest: str) -> bool:
            hub.accounts.set_hash(key, digest, lambda ok: None)
            self._after_durable(session, stored)
            return True

        def stored(ok: bool) -> None:
            if ok:
                log.info("%s changed their password", session.nick)
                session.send_reply(Ok(id=req.id))
            else:
                session.send_error(
                    req.id, ErrorCode.STORAGE_FAILED, "the new password could not be stored"
                )

        self._off_loop(session, req.id, hub.hashing.verify(account.hash, req.old), verified)
