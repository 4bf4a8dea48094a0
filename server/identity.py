"""Who a session is, for history and permissions: an account, or a one-off guest.

An identity is a string: ``a:<account>`` for every session of a registered
account (kept across reconnects and restarts), ``g:<random>`` for one guest
connection (so a later guest with the same nick inherits nothing).
"""

from __future__ import annotations

import secrets

ACCOUNT_PREFIX = "a:"
GUEST_PREFIX = "g:"


def account_ident(name: str) -> str:
    """The identity of an account (its case-folded nick)."""
    return ACCOUNT_PREFIX + name


def guest_ident() -> str:
    """A fresh identity for one guest connection."""
    return GUEST_PREFIX + secrets.token_hex(8)


def is_account_ident(ident: str) -> bool:
    return ident.startswith(ACCOUNT_PREFIX)
