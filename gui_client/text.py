"""Pure helpers for how messages read: actions, mentions, stable nick colours."""

from __future__ import annotations

import colorsys
import re
import zlib
from functools import lru_cache

from chinwag_protocol.actions import ACTION_PREFIX, action_body, is_action
from chinwag_protocol.validation import nick_key

__all__ = ["ACTION_PREFIX", "action_body", "is_action", "mentions", "nick_hue", "nick_rgb"]


def mentions(text: str, nick: str | None) -> bool:
    """Whether ``text`` names ``nick`` as a whole word (case-insensitively)."""
    if not nick:
        return False
    pattern = rf"(?<![\w-]){re.escape(nick)}(?![\w-])"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


@lru_cache(maxsize=4096)
def nick_hue(nick: str) -> float:
    """A hue in [0, 1) fixed for a nick (case-insensitively): same nick, same colour."""
    return (zlib.crc32(nick_key(nick).encode()) % 360) / 360.0


def nick_rgb(nick: str, *, dark: bool = False) -> tuple[int, int, int]:
    """A readable colour for ``nick`` on a light (or dark) background."""
    lightness = 0.68 if dark else 0.36
    r, g, b = colorsys.hls_to_rgb(nick_hue(nick), lightness, 0.65)
    return round(r * 255), round(g * 255), round(b * 255)


_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?'\")]}"


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Web links in ``text`` as (start, end, url); trailing punctuation is left out."""
    found = []
    for m in _URL_RE.finditer(text):
        url = m.group(0)
        while url and url[-1] in _URL_TAIL:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break  # a balanced bracket belongs to the link (wiki style)
            url = url[:-1]
        if len(url) > len("www."):
            found.append((m.start(), m.start() + len(url), url))
    return found
