"""Parsing typed lines into commands: pure, no server."""

from __future__ import annotations

import pytest

from cli_client.commands import (
    ChangeNick,
    CommandError,
    JoinRoom,
    ListRooms,
    PartRoom,
    PrivateMsg,
    QuitChat,
    SayText,
    SetTopic,
    ShowHelp,
    ShowHistory,
    SwitchRoom,
    WhoIs,
    canonical,
    help_lines,
    parse,
)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("hello there", SayText("hello there")),
        ("  indented stays as typed", SayText("  indented stays as typed")),
        ("//etc/passwd is a path", SayText("/etc/passwd is a path")),
        ("/join dev", JoinRoom("dev")),
        ("/JOIN dev sesame", JoinRoom("dev", "sesame")),
        ("/j dev", JoinRoom("dev")),
        ("/part", PartRoom()),
        ("/part dev", PartRoom("dev")),
        ("/leave dev  see you later ", PartRoom("dev", "see you later")),
        ("/msg bob  psst:  two  spaces", PrivateMsg("bob", "psst:  two  spaces")),
        ("/query bob hi", PrivateMsg("bob", "hi")),
        ("/nick alicia", ChangeNick("alicia")),
        ("/rooms", ListRooms()),
        ("/list", ListRooms()),
        ("/who", WhoIs()),
        ("/who dev", WhoIs("dev")),
        ("/topic", SetTopic()),
        ("/topic   ", SetTopic()),
        ("/topic release on friday", SetTopic("release on friday")),
        ("/topic -", SetTopic("")),
        ("/history", ShowHistory()),
        ("/history 20", ShowHistory(20)),
        ("/history dev", ShowHistory(room="dev")),
        ("/history dev 5", ShowHistory(5, room="dev")),
        ("/history @bob", ShowHistory(nick="bob")),
        ("/history @bob 200", ShowHistory(200, nick="bob")),
        ("/switch dev", SwitchRoom("dev")),
        ("/room dev", SwitchRoom("dev")),
        ("/help", ShowHelp()),
        ("/help msg", ShowHelp("msg")),
        ("/quit", QuitChat()),
        ("/quit  gone fishing ", QuitChat("gone fishing")),
        ("/exit", QuitChat()),
        ("exit", QuitChat()),
        ("  exit  ", QuitChat()),
    ],
)
def test_parse(line: str, command: object) -> None:
    assert parse(line) == command


@pytest.mark.parametrize("line", ["", "   ", "\t"])
def test_blank_lines_do_nothing(line: str) -> None:
    assert parse(line) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/frobnicate x", "unknown command /frobnicate; type /help for the list"),
        ("/", "type a command after '/'"),
        ("/ hi", "type a command after '/'"),
        ("/join", "usage: /join ROOM [KEY]"),
        ("/join a b c", "usage: /join ROOM [KEY]"),
        ("/msg bob", "usage: /msg NICK TEXT"),
        ("/msg", "usage: /msg NICK TEXT"),
        ("/nick", "usage: /nick NEW"),
        ("/nick a b", "usage: /nick NEW"),
        ("/rooms extra", "usage: /rooms"),
        ("/who a b", "usage: /who [ROOM]"),
        ("/history 0", "N must be a number from 1 to 200"),
        ("/history 201", "N must be a number from 1 to 200"),
        ("/history -1", "N must be a number from 1 to 200"),
        ("/history 1 2", "usage: /history [ROOM|@NICK] [N]"),
        ("/history @", "usage: /history [ROOM|@NICK] [N]"),
        ("/history dev 5 6", "usage: /history [ROOM|@NICK] [N]"),
        ("/history @bob many", "N must be a number from 1 to 200"),
        ("/switch", "usage: /switch ROOM"),
    ],
)
def test_bad_commands_are_refused(line: str, message: str) -> None:
    with pytest.raises(CommandError) as err:
        parse(line)
    assert message in str(err.value)


def test_aliases_and_help() -> None:
    assert canonical("/Q") is None
    assert canonical("leave") == "part"
    assert canonical("/names") == "who"
    lines = help_lines()
    for cmd in ("/join", "/part", "/msg", "/nick", "/rooms", "/who", "/topic", "/history"):
        assert any(line.startswith(cmd) for line in lines), cmd
    assert help_lines("/dm") == ["/msg NICK TEXT - send a private message (also /query, /dm)"]
    with pytest.raises(CommandError, match="unknown command /nope"):
        help_lines("nope")


def test_me_sends_an_action_to_the_current_room() -> None:
    assert parse("/me waves hello") == SayText("/me waves hello")
    with pytest.raises(CommandError):
        parse("/me")
