"""Pure helpers: the command parser, nick completion, backoff, mentions, colours."""

from __future__ import annotations

import random

import pytest

from gui_client import commands
from gui_client.backoff import Backoff
from gui_client.commands import Command, CommandError, Text
from gui_client.completion import Completion
from gui_client.session import fallback_nick
from gui_client.text import find_urls, mentions, nick_rgb


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("hello", Text("hello")),
        ("//shrug", Text("/shrug")),
        ("   ", None),
        ("/join dev", Command("join", ("dev",))),
        ("/J dev", Command("join", ("dev",))),
        ("/part", Command("part", ())),
        ("/part dev bye all", Command("part", ("dev", "bye all"))),
        ("/msg bob  hi there ", Command("msg", ("bob", "hi there"))),
        ("/topic", Command("topic", ())),
        ("/topic New  topic", Command("topic", ("New  topic",))),
        ("/me waves", Command("me", ("waves",))),
        ("/quit", Command("quit", ())),
        ("/help join", Command("help", ("join",))),
    ],
)
def test_parse(line, parsed):
    assert commands.parse(line) == parsed


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("/nope", "unknown command"),
        ("/join", "usage: /join"),
        ("/msg bob", "usage: /msg"),
        ("/join a b c", "too many"),
        ("/", "type a command"),
        ("/me", "usage: /me"),
    ],
)
def test_parse_errors(line, error):
    with pytest.raises(CommandError, match=error):
        commands.parse(line)


def test_every_command_has_help():
    lines = commands.help_lines()
    for name in ("join", "part", "msg", "nick", "topic", "me", "quit", "help"):
        assert any(line.startswith(f"/{name}") for line in lines)
    assert "also /j" in commands.help_lines("join")[0]


def test_completion_cycles_and_addresses_at_line_start():
    c = Completion.start("b", 1, ["bob", "Bea", "carol"])
    assert c is not None
    assert c.next() == ("Bea: ", 5)
    assert c.next() == ("bob: ", 5)
    assert c.next() == ("Bea: ", 5)
    mid = Completion.start("ask car now", 7, ["carol"])
    assert mid is not None and mid.next() == ("ask carol now", 10)
    assert Completion.start("zz", 2, ["bob"]) is None
    assert Completion.start("", 0, ["bob"]) is None


def test_backoff_grows_with_jitter_and_resets():
    b = Backoff(initial=1, factor=2, maximum=8, rng=random.Random(1))
    delays = [b.next() for _ in range(6)]
    for d, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= d <= ceiling
    assert len(set(delays)) == len(delays)  # jittered
    b.reset()
    assert b.next() <= 1


def test_mentions_are_whole_words():
    assert mentions("hey alice!", "alice")
    assert mentions("ALICE: look", "alice")
    assert not mentions("malice", "alice")
    assert not mentions("alice-bot did it", "alice")
    assert not mentions("anything", None)


def test_nick_colours_are_stable_and_case_insensitive():
    assert nick_rgb("Bob") == nick_rgb("bob")
    assert nick_rgb("bob") != nick_rgb("alice")


def test_fallback_nick_respects_the_length_limit():
    assert fallback_nick("alice") == "alice_"
    assert len(fallback_nick("a" * 24)) == 24


def test_find_urls():
    text = "see https://example.org/a_(b), or www.chinwag.dev. Not: http:// nor wwwx"
    assert [u for _, _, u in find_urls(text)] == [
        "https://example.org/a_(b)",
        "www.chinwag.dev",
    ]
    start, end, url = find_urls("go to https://x.io/path?q=1!")[0]
    assert url == "https://x.io/path?q=1" and "go to https://x.io/path?q=1!"[start:end] == url


def test_completion_of_commands():
    names = ["join", "part", "msg", "me", "help"]
    c = Completion.start("/m", 2, ["mallory"], names)
    assert c is not None
    assert c.next() == ("/me ", 4)
    assert c.next() == ("/msg ", 5)
    # past the start of the line, a slash word is not a command
    assert Completion.start("see /m", 6, ["mallory"], names) is None
    assert Completion.start("/", 1, [], names) is not None
