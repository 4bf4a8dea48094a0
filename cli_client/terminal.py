"""The terminal side: writing lines (prompt kept intact) and reading stdin without
blocking the event loop.

Standard input is read by a daemon thread that feeds an asyncio queue: unlike
``loop.connect_read_pipe`` this also works when stdin is a regular file
(``chinwag-cli < script.txt``), and it never delays the loop.  Lines are cut
by the protocol package's :class:`~chinwag_protocol.framing.LineDecoder`, so
an endless line cannot make the CLI buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Iterable
from typing import TextIO

from chinwag_protocol.errors import FrameError
from chinwag_protocol.framing import LineDecoder

#: Longest input line (bytes) read from stdin; longer lines are refused, not sent.
MAX_INPUT_LINE = 64 * 1024

_READ_SIZE = 64 * 1024
_CLEAR_LINE = "\r\x1b[K"


class TooLong:
    """Marker queued in place of an input line over :data:`MAX_INPUT_LINE`."""


class Output:
    """Writes whole lines and flushes each one (scripts read the output live).

    With ``prompt`` set (both ends a terminal) each line first clears the
    prompt, then redraws it below, so incoming messages never garble it.
    """

    def __init__(self, stream: TextIO, prompt: str | None = None) -> None:
        self._stream = stream
        self.prompt = prompt
        self._prompt_shown = False
        #: set once the reader of our output went away (broken pipe)
        self.broken = False

    def lines(self, lines: Iterable[str]) -> None:
        text = "".join(line + "\n" for line in lines)
        if not text:
            return
        if self.prompt is not None:
            text = (_CLEAR_LINE if self._prompt_shown else "") + text + self.prompt
            self._prompt_shown = True
        self._write(text)

    def set_prompt(self, prompt: str, *, redraw: bool = True) -> None:
        """Change the prompt text, redrawing it if it is on screen (and ``redraw``:
        pass False when lines are about to be written anyway)."""
        if self.prompt is None or prompt == self.prompt:
            return
        self.prompt = prompt
        if self._prompt_shown and redraw:
            self._write(_CLEAR_LINE + prompt)

    def end(self) -> None:
        """Leave prompt mode, wiping the prompt if it is on screen."""
        if self.prompt is not None and self._prompt_shown:
            self._write(_CLEAR_LINE)
        self.prompt = None
        self._prompt_shown = False

    def show_prompt(self) -> None:
        if self.prompt is not None and not self._prompt_shown:
            self._prompt_shown = True
            self._write(self.prompt)

    def typed(self, line: str) -> None:
        """The user pressed Enter on ``line``: erase its echo (it is shown formatted instead)."""
        if self.prompt is None:
            return
        cols = max(shutil.get_terminal_size().columns, 1)
        rows = max(1, -(-(len(self.prompt) + len(line)) // cols))
        self._prompt_shown = False
        self._write(f"\x1b[{rows}A\r\x1b[J")

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self._stream.write(text)
            self._stream.flush()
        except (BrokenPipeError, ValueError):
            self.broken = True


class InputLines:
    """Lines of a file descriptor, decoded as UTF-8, delivered through an asyncio queue.

    The thread reads with ``os.read`` (no buffered-file lock held while it
    blocks), so the interpreter can exit while it still waits for input.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[str | TooLong | None] = asyncio.Queue()
        self._thread = threading.Thread(target=self._pump, name="chinwag-stdin", daemon=True)
        self._thread.start()

    def _put(self, items: list[str | TooLong | None]) -> None:
        if not items:
            return
        with contextlib.suppress(RuntimeError):  # RuntimeError: the loop closed as we exit
            self._loop.call_soon_threadsafe(self._deliver, items)

    def _deliver(self, items: list[str | TooLong | None]) -> None:
        for item in items:
            self._queue.put_nowait(item)

    def _pump(self) -> None:
        decoder = LineDecoder(MAX_INPUT_LINE)
        try:
            while data := os.read(self._fd, _READ_SIZE):
                self._put([_line(frame) for frame in decoder.feed(data)])
        except OSError:
            pass
        self._put([*(_line(frame) for frame in decoder.feed_eof()), None])

    async def next(self) -> str | TooLong | None:
        """The next non-empty line; None at end of input."""
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # stay at EOF
        return item


def _line(frame: bytes | FrameError) -> str | TooLong:
    return TooLong() if isinstance(frame, FrameError) else frame.decode("utf-8", "replace")
