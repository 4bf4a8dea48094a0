"""Nick tab-completion as a pure cycle over candidates (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Completion:
    """Cycles the word before the cursor through nicks starting with it.

    At the start of the line a completed nick gets ``": "`` after it (the IRC
    convention for addressing someone), elsewhere a space.
    """

    before: str
    after: str
    candidates: list[str]
    at_start: bool
    i: int = -1

    @classmethod
    def start(cls, text: str, cursor: int, nicks: list[str]) -> Completion | None:
        head = text[:cursor]
        start = max(head.rfind(" "), head.rfind("\t")) + 1
        prefix = head[start:].lstrip("@")
        if not prefix:
            return None
        folded = prefix.casefold()
        found = sorted({n for n in nicks if n.casefold().startswith(folded)}, key=str.casefold)
        if not found:
            return None
        return cls(head[:start], text[cursor:].lstrip(" "), found, start == 0)

    def next(self) -> tuple[str, int]:
        """The line with the next candidate, and where the cursor goes."""
        self.i = (self.i + 1) % len(self.candidates)
        word = self.candidates[self.i] + (": " if self.at_start else " ")
        return self.before + word + self.after, len(self.before + word)
