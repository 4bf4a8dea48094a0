"""LineDecoder: splitting, CRLF, empty lines and the hard line-length limit."""

from __future__ import annotations

from chinwag_protocol.errors import ErrorCode, FrameError
from chinwag_protocol.framing import LineDecoder


def codes(out: list[bytes | FrameError]) -> list[bytes | str]:
    return [x.code.value if isinstance(x, FrameError) else x for x in out]


def test_splits_lines_and_keeps_partial() -> None:
    d = LineDecoder(100)
    assert d.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
    assert d.buffered == 4
    assert d.feed(b":2}\n") == [b'{"b":2}']
    assert d.buffered == 0


def test_many_lines_in_one_chunk_and_byte_by_byte() -> None:
    data = b"one\ntwo\nthree\n"
    assert LineDecoder().feed(data) == [b"one", b"two", b"three"]
    d = LineDecoder()
    got: list[bytes | FrameError] = []
    for i in range(len(data)):
        got += d.feed(data[i : i + 1])
    assert got == [b"one", b"two", b"three"]


def test_crlf_and_empty_lines() -> None:
    d = LineDecoder()
    assert d.feed(b"a\r\n\r\n\nb\r\n\n") == [b"a", b"b"]
    # a CR split from its LF across chunks is still dropped
    assert d.feed(b"c\r") == []
    assert d.feed(b"\n") == [b"c"]


def test_line_of_exactly_the_limit_is_accepted() -> None:
    d = LineDecoder(10)
    assert d.feed(b"x" * 10 + b"\n") == [b"x" * 10]
    # CR does not count against the limit
    assert d.feed(b"y" * 10 + b"\r\n") == [b"y" * 10]


def test_line_over_the_limit_in_one_chunk() -> None:
    d = LineDecoder(10)
    assert codes(d.feed(b"x" * 11 + b"\nok\n")) == ["too_long", b"ok"]
    assert d.buffered == 0


def test_over_limit_partial_line_is_reported_once_and_discarded() -> None:
    d = LineDecoder(10)
    assert codes(d.feed(b"x" * 8)) == []
    assert d.buffered == 8
    assert codes(d.feed(b"x" * 8)) == ["too_long"]
    assert d.buffered == 0
    # the rest of the long line keeps being discarded, without a second error
    for _ in range(100):
        assert d.feed(b"z" * 50) == []
        assert d.buffered == 0
    assert d.feed(b"tail\nnext\n") == [b"next"]
    assert d.buffered == 0


def test_error_is_a_frame_error_with_message() -> None:
    (err,) = LineDecoder(4).feed(b"12345\n")
    assert isinstance(err, FrameError)
    assert err.code is ErrorCode.TOO_LONG
    assert "4 bytes" in err.message


def test_never_buffers_more_than_limit() -> None:
    d = LineDecoder(64)
    for size in (1, 7, 63, 64, 65, 200, 1000):
        d.feed(b"a" * size)
        assert d.buffered <= 64
    d.feed(b"\n")
    assert d.buffered == 0


def test_feed_eof() -> None:
    d = LineDecoder(10)
    d.feed(b"last\r")
    assert d.feed_eof() == [b"last"]
    assert d.feed_eof() == []
    d.feed(b"x" * 20)
    assert d.feed_eof() == []  # the tail of a discarded line is not a line
    assert d.feed(b"fresh\n") == [b"fresh"]


def test_rejects_nonpositive_limit() -> None:
    import pytest

    with pytest.raises(ValueError):
        LineDecoder(0)
