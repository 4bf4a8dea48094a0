"""Manage accounts from the shell: ``python -m server.account_admin add NICK``.

For servers with ``require_account`` (where nobody can ``register`` as a
guest first), and for resetting forgotten passwords.  It writes the database
directly; that is safe while the server runs (SQLite WAL, and the server
reads accounts from the database at every sign-in).

Exit status: 0 done, 1 refused (bad nick, unknown or existing account,
weak password), 2 bad usage or unusable database.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sqlite3
import sys
import time
from collections.abc import Sequence

import argon2

from chinwag_protocol.errors import RequestError
from chinwag_protocol.validation import nick_key, normalize_nick
from server.accounts import check_password
from server.config import ConfigError, Settings, add_arguments, load_settings
from server.identity import account_ident
from server.storage import HistoryStore, StorageError


class AdminError(Exception):
    """A refusal explained to the administrator (exit status 1)."""


def _open(settings: Settings) -> sqlite3.Connection:
    path = settings.db_path
    if not path.exists():
        # create it with the server's schema, so the server finds it ready
        path.parent.mkdir(parents=True, exist_ok=True)
        store = HistoryStore(path)

        async def create() -> None:
            store.open(asyncio.get_running_loop())
            await store.close()

        asyncio.run(create())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version < 2:
        raise StorageError(f"{path} predates accounts: start the server once to upgrade it")
    return conn


def _read_password(from_stdin: bool, min_length: int) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != password:
            raise AdminError("the passwords differ")
    try:
        check_password(password, min_length)
    except RequestError as exc:
        raise AdminError(exc.message) from None
    return password


def _hasher(settings: Settings) -> argon2.PasswordHasher:
    return argon2.PasswordHasher(
        time_cost=settings.password_time_cost,
        memory_cost=settings.password_memory_kib,
        parallelism=1,
        type=argon2.Type.ID,
    )


def run(args: argparse.Namespace, settings: Settings) -> str:
    conn = _open(settings)
    try:
        if args.action == "list":
            rows = conn.execute("SELECT nick FROM accounts ORDER BY name").fetchall()
            return "\n".join(r[0] for r in rows) or "(no accounts)"
        if args.nick is None:
            raise AdminError(f"{args.action} needs a NICK")
        try:
            nick = normalize_nick(args.nick)
        except RequestError as exc:
            raise AdminError(exc.message) from None
        name = nick_key(nick)
        exists = conn.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone()
        if args.action == "add":
            if exists:
                raise AdminError(f"{nick} is already an account")
            digest = _hasher(settings).hash(
                _read_password(args.password_stdin, settings.password_min_length)
            )
            conn.execute(
                "INSERT INTO accounts (name, nick, hash, created) VALUES (?,?,?,?)",
                (name, nick, digest, int(time.time() * 1000)),
            )
            return f"account {nick} created"
        if not exists:
            raise AdminError(f"no account is called {nick}")
        if args.action == "passwd":
            digest = _hasher(settings).hash(
                _read_password(args.password_stdin, settings.password_min_length)
            )
            conn.execute("UPDATE accounts SET hash = ? WHERE name = ?", (digest, name))
            return f"password of {nick} changed"
        conn.execute("BEGIN")
        conn.execute("DELETE FROM accounts WHERE name = ?", (name,))
        conn.execute("DELETE FROM offline_dm WHERE account = ?", (name,))
        # whoever registers the nick later must inherit neither DMs nor room rights
        conn.execute("DELETE FROM dm_index WHERE owner = ?", (account_ident(name),))
        conn.execute("DELETE FROM room_acl WHERE subject = ?", (account_ident(name),))
        conn.execute("COMMIT")
        return f"account {nick} deleted (its sessions stay until they disconnect)"
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.account_admin", description="Manage Chinwag accounts."
    )
    parser.add_argument("action", choices=("add", "passwd", "delete", "list"))
    parser.add_argument("nick", nargs="?", help="the account's nick")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from one line of stdin"
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args)
        print(run(args, settings))
    except AdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ConfigError, StorageError, sqlite3.Error, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
