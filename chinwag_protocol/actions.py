"""The action convention (IRC's ``/me``), shared by every client.

The protocol has no separate action message: an action is a ``say`` or
``msg`` whose text starts with :data:`ACTION_PREFIX`, and clients show
``/me waves`` from alice as ``* alice waves``.  Clients that know nothing of
the convention still show something readable.
"""

from __future__ import annotations

from typing import Final

ACTION_PREFIX: Final = "/me "


def is_action(text: str) -> bool:
    return text.startswith(ACTION_PREFIX)


def action_body(text: str) -> str:
    """The action without its prefix (``text`` unchanged if it is no action)."""
    return text[len(ACTION_PREFIX) :] if is_action(text) else text


def make_action(action: str) -> str:
    return ACTION_PREFIX + action
