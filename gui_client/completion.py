"""Nick tab-completion as a pure cycle over candidates (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Completion:
    """Cycles the word before the cursor through nicks starting with it.

    At the start of the line a completed nick gets ``": "`` after it (the IRC
    convention for addressing someone), elsewhere a space.  A word starting with
    ``/`` at the start of the line completes to a command name.
    """

    before: str
    after: str
    candidates: list[str]
    at_start: bool
    i: int = -1
    #: completing a /command rather than a nick
    command: bool = False

    @classmethod
    def start(
        cls, text: str, cursor: int, nicks: list[str], commands: list[str] | None = None
    ) -> Completion | None:
        """Complete the word before ``cursor``: a nick, or at the start of the line a
        ``/command`` from ``commands`` (names without the slash)."""
        head = text[:cursor]
        start = max(head.rfind(" "), head.rfind("\t")) + 1
        word = head[start:]
        if start == 0 and word.startswith("/") and commands is not None:
            folded = word[1:].casefold()
            found = sorted("/" + c for c in commands if c.startswith(folded))
            command = True
        else:
            folded = word.lstrip("@").casefold()
            found = sorted({n for n in nicks if n.casefold().startswith(folded)}, key=str.casefold)
            command = False
        if (not folded and not command) or not found:
            return None
        return cls(head[:start], text[cursor:].lstrip(" "), found, start == 0, command=command)

    def next(self) -> tuple[str, int]:
        """The line with the next candidate, and where the cursor goes."""
        self.i = (self.i + 1) % len(self.candidates)
        suffix = " " if self.command or not self.at_start else ": "
        word = self.candidates[self.i] + suffix
        return self.before + word + self.after, len(self.before + word)
