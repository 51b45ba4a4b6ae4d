"""The problems of one import: each with where it was found, listed in file order.

A place in the file set is packed into one int (`src << 32 | line`), because the
importer remembers one for every entity key it has seen and millions of small tuples
would cost several times the memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.ledger.kinds import Column
from shared.ledger.problems import problem


def pack(src: int, line: int) -> int:
    """One int for row `line` of table `src`."""
    return src << 32 | line


def unpack(packed: int) -> tuple[int, int]:
    return packed >> 32, packed & 0xFFFFFFFF


@dataclass
class ProblemList:
    """Problem lines of one import, by table (`labels[src]`) and row."""

    labels: list[str]
    #: (table, row, order found, text): sorted, the problems read in file order
    found: list[tuple[int, int, int, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.found)

    def add(self, src: int, line: int, text: str) -> None:
        self.found.append((src, line, len(self.found), text))

    def add_cell(
        self, src: int, line: int, column: Column | None, name: str, value: object, what: str
    ) -> None:
        """A problem with one cell: `file:row: column: value (masked): what`."""
        self.add(src, line, problem(self.where(src, line), column, name, value, what))

    def in_order(self) -> list[str]:
        return [text for *_, text in sorted(self.found)]

    def where(self, src: int, line: int) -> str:
        return f"{self.labels[src]}:{line}"

    def other_row(self, src: int, packed: int) -> str:
        """Another row, named as briefly as a reader of row `src`'s problem needs."""
        other_src, other_line = unpack(packed)
        if other_src == src:
            return f"row {other_line}"
        return self.where(other_src, other_line)
