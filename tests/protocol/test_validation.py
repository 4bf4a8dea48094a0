"""Names and text: normalisation, identity keys and the contract's error codes."""

from __future__ import annotations

import unicodedata

import pytest

from chinwag_protocol.constants import MAX_NICK_LEN, MAX_REASON_LEN, MAX_ROOM_LEN, MAX_TOPIC_LEN
from chinwag_protocol.errors import ErrorCode, RequestError
from chinwag_protocol.validation import (
    clean_reason,
    clean_text,
    clean_topic,
    nick_key,
    normalize_nick,
    normalize_room,
)


def code_of(fn: object, *args: object) -> ErrorCode:
    with pytest.raises(RequestError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.message
    return info.value.code


@pytest.mark.parametrize("nick", ["a", "alice", "Bob_2", "x-y", "Zoë", "Ünal", "李雷", "a" * 24])
def test_valid_nicks(nick: str) -> None:
    assert normalize_nick(nick) == unicodedata.normalize("NFC", nick)


@pytest.mark.parametrize(
    "nick",
    [
        "",
        "a" * (MAX_NICK_LEN + 1),
        "1abc",
        "_abc",
        "-abc",
        "al ice",
        "al.ice",
        "al\x00ice",
        "al\tice",
        "al\u200bice",  # zero-width space (format)
        "al\u200dice",  # zero-width joiner
        "al\u202eice",  # right-to-left override
        "al\u2066ice",  # left-to-right isolate
        "al\ufeffice",  # BOM
        "al\u00adice",  # soft hyphen
        "al\x7fice",
        "alice\n",
        "😀",
    ],
)
def test_bad_nicks(nick: str) -> None:
    assert code_of(normalize_nick, nick) is ErrorCode.BAD_NICK


def test_nick_is_nfc_normalised() -> None:
    decomposed = "Zoe\u0308"
    assert normalize_nick(decomposed) == "Zoë"
    assert len(normalize_nick(decomposed)) == 3


def test_nick_key_case_insensitive() -> None:
    assert nick_key("Alice") == nick_key("ALICE") == nick_key("alice")
    assert nick_key("Straße") == nick_key("STRASSE")
    assert nick_key("alice") != nick_key("alicia")


def test_compatibility_forms_share_a_key() -> None:
    fullwidth = normalize_nick("ｂｏｂ")
    assert nick_key(fullwidth) == nick_key("bob") == nick_key("BOB")
    assert nick_key(normalize_nick("ﬁsh")) == nick_key("fish")  # ligature
    assert nick_key(normalize_nick("Zoe\u0308")) == nick_key("ZOË")


def test_display_form_is_kept() -> None:
    assert normalize_nick("ｂｏｂ") == "ｂｏｂ"  # the key folds, the display form stays


@pytest.mark.parametrize(
    ("raw", "folded"),
    [("lobby", "lobby"), ("Lobby", "lobby"), ("DEV-ops_2", "dev-ops_2"), ("9lives", "9lives")],
)
def test_room_names_fold(raw: str, folded: str) -> None:
    assert normalize_room(raw) == folded


@pytest.mark.parametrize(
    "room",
    ["", "-x", "_x", "a b", "#lobby", "a" * (MAX_ROOM_LEN + 1), "café", "a\n", "lob\u200bby"],
)
def test_bad_rooms(room: str) -> None:
    assert code_of(normalize_room, room) is ErrorCode.BAD_ROOM


def test_room_length_limit_exact() -> None:
    assert normalize_room("a" * MAX_ROOM_LEN) == "a" * MAX_ROOM_LEN


def test_text_strips_controls_keeps_tab_newline() -> None:
    assert clean_text("a\x00b\x1bc\x7fd\x85e\tf\ng", 100) == "abcde\tf\ng"
    assert clean_text("e\u0301", 100) == "é"  # NFC
    assert clean_text("  spaced  ", 100) == "  spaced  "


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01", "\x1b[2J"[:1]])
def test_empty_text(text: str) -> None:
    assert code_of(clean_text, text, 100) is ErrorCode.BAD_TEXT


def test_text_limit_exact_and_over() -> None:
    assert clean_text("x" * 10, 10) == "x" * 10
    assert code_of(clean_text, "x" * 11, 10) is ErrorCode.TEXT_TOO_LONG
    # stripped characters do not count against the limit
    assert clean_text("x" * 10 + "\x00" * 5, 10) == "x" * 10


def test_topic() -> None:
    assert clean_topic("  new\ttopic\n ") == "newtopic"
    assert clean_topic("") == ""
    assert clean_topic("t" * MAX_TOPIC_LEN) == "t" * MAX_TOPIC_LEN
    assert code_of(clean_topic, "t" * (MAX_TOPIC_LEN + 1)) is ErrorCode.BAD_TOPIC


def test_reason() -> None:
    assert clean_reason(None) is None
    assert clean_reason("  \n ") is None
    assert clean_reason("gone\nhome") == "gonehome"
    assert clean_reason("r" * 500) == "r" * MAX_REASON_LEN
