"""Normalising and checking names and text, with the contract's error codes.

Nicks and room names are NFC-normalised first.  A nick may hold letters,
digits, ``_`` and ``-`` only, so control, invisible (format) and bidi-override
characters can never be part of one.  Two nicks that differ only by case or
compatibility form (``Bob`` / ``ｂｏｂ``) share one :func:`nick_key`.
"""

from __future__ import annotations

import re
import unicodedata

from chinwag_protocol.constants import (
    MAX_NICK_LEN,
    MAX_REASON_LEN,
    MAX_ROOM_LEN,
    MAX_TOPIC_LEN,
)
from chinwag_protocol.errors import ErrorCode, RequestError

_ROOM_RE = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_ROOM_LEN - 1}}}")
_LETTER = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo"})
# Letters (category Lo) that render as nothing: Hangul fillers.  Unicode marks them
# Default_Ignorable; a nick made of them looks empty or like another nick.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# C0 and C1 controls and DEL, except tab and newline which text may carry.
_TEXT_STRIP = {c: None for c in (*range(0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))}
# A single-line field (topic, reason) loses newline and tab too.
_LINE_STRIP = {**_TEXT_STRIP, 0x09: None, 0x0A: None}


def normalize_nick(nick: str) -> str:
    """Return the NFC form of a valid nick, else raise ``bad_nick``."""
    n = unicodedata.normalize("NFC", nick)
    if not 1 <= len(n) <= MAX_NICK_LEN:
        raise RequestError(ErrorCode.BAD_NICK, f"a nick has 1 to {MAX_NICK_LEN} characters")
    if unicodedata.category(n[0]) not in _LETTER:
        raise RequestError(ErrorCode.BAD_NICK, "a nick starts with a letter")
    if _INVISIBLE_LETTERS.intersection(n):
        raise RequestError(ErrorCode.BAD_NICK, "a nick cannot hold invisible characters")
    for ch in n[1:]:
        if ch in "_-" or unicodedata.category(ch) in _LETTER or unicodedata.category(ch) == "Nd":
            continue
        raise RequestError(
            ErrorCode.BAD_NICK,
            f"a nick holds only letters, digits, '_' and '-' (not {ch!r})",
        )
    return n


def nick_key(nick: str) -> str:
    """The case- and compatibility-folded identity of a (normalised) nick."""
    return unicodedata.normalize("NFKC", nick.casefold())


def normalize_room(room: str) -> str:
    """Return the case-folded room name, else raise ``bad_room``."""
    if _ROOM_RE.fullmatch(room):  # already normal: the common case, on every say
        return room
    r = unicodedata.normalize("NFC", room).casefold()
    if not _ROOM_RE.fullmatch(r):
        raise RequestError(
            ErrorCode.BAD_ROOM,
            f"a room name is 1 to {MAX_ROOM_LEN} of a-z, 0-9, '_' and '-',"
            " starting with a letter or digit",
        )
    return r


def clean_text(text: str, max_len: int) -> str:
    """Strip control characters (tab and newline stay); reject empty or over-long text."""
    if text.isascii() and text.isprintable():
        t = text  # nothing to normalise or strip: the common case, on every say
    else:
        t = unicodedata.normalize("NFC", text).translate(_TEXT_STRIP)
    if not t.strip():
        raise RequestError(ErrorCode.BAD_TEXT, "the message is empty")
    if len(t) > max_len:
        raise RequestError(ErrorCode.TEXT_TOO_LONG, f"a message has at most {max_len} characters")
    return t


def clean_topic(topic: str) -> str:
    """A topic is one line of at most MAX_TOPIC_LEN characters; empty clears it."""
    t = unicodedata.normalize("NFC", topic).translate(_LINE_STRIP).strip()
    if len(t) > MAX_TOPIC_LEN:
        raise RequestError(ErrorCode.BAD_TOPIC, f"a topic has at most {MAX_TOPIC_LEN} characters")
    return t


def clean_reason(reason: str | None) -> str | None:
    """Quit/part reasons: one line, silently cut to MAX_REASON_LEN characters."""
    if reason is None:
        return None
    r = unicodedata.normalize("NFC", reason).translate(_LINE_STRIP).strip()[:MAX_REASON_LEN]
    return r or None
