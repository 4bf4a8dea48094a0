"""Newline framing with a hard line-length limit.

:class:`LineDecoder` turns a byte stream into complete lines.  It never holds
more than ``max_line`` bytes of an unfinished line: once a line grows past the
limit the decoder reports one ``too_long`` error and discards input up to the
next newline, so a peer cannot make it buffer without bound.
"""

from __future__ import annotations

from chinwag_protocol.constants import DEFAULT_MAX_LINE
from chinwag_protocol.errors import ErrorCode, FrameError

_NL = b"\n"


def too_long_error(max_line: int) -> FrameError:
    return FrameError(ErrorCode.TOO_LONG, f"line longer than {max_line} bytes; discarded")


class LineDecoder:
    """Bytes in, lines (without the newline) or :class:`FrameError` out."""

    __slots__ = ("_buf", "_discarding", "max_line")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self.max_line = max_line
        self._buf = b""
        self._discarding = False

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held right now (never above ``max_line``)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """Consume ``data``; return the complete lines and errors it finished, in order.

        Empty lines (and a trailing ``\\r``) are dropped, so telnet-style
        ``\\r\\n`` works.
        """
        out: list[bytes | FrameError] = []
        if self._discarding:
            idx = data.find(_NL)
            if idx < 0:
                return out
            self._discarding = False
            data = data[idx + 1 :]
        if self._buf:
            data = self._buf + data
        parts = data.split(_NL)
        rest = parts.pop()
        limit = self.max_line
        for line in parts:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                continue
            if len(line) > limit:
                out.append(too_long_error(limit))
            else:
                out.append(line)
        if len(rest) > limit:
            out.append(too_long_error(limit))
            self._discarding = True
            rest = b""
        self._buf = rest
        return out

    def feed_eof(self) -> list[bytes | FrameError]:
        """The stream ended: a final unterminated line still counts as a line."""
        rest, self._buf = self._buf.rstrip(b"\r"), b""
        discarding, self._discarding = self._discarding, False
        if discarding or not rest:
            return []
        return [rest]
