"""Plain-text tables for a terminal or a pipe, aligned by display width.

A Chinese character takes two terminal cells, so padding by `len()` shears every column
after a name (`rich.cells.cell_len` counts cells). The widths come from the header and
the first `SAMPLE_ROWS` rows, then rows stream: a province-wide listing is never held in
memory, and a rare longer cell only pushes its own row to the right.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from rich.cells import cell_len

SAMPLE_ROWS = 1_000  #: rows read before the column widths are fixed
GAP = "  "
ELLIPSIS = "…"


def pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(0, width - cell_len(text))
    return fill + text if right else text + fill


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` terminal cells, with an ellipsis when cut (a Chinese
    character that would straddle the edge is left out whole)."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        used += cell_len(char)
        if used > width - 1:
            break
        out.append(char)
    return "".join(out) + ELLIPSIS


def table_lines(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    right: Sequence[bool] = (),
) -> Iterator[str]:
    """The header, then one line per row; `right[i]` right-aligns column i (numbers)."""
    aligned = [*right, *[False] * (len(headers) - len(right))]
    stream = iter(rows)
    sample = [[_text(v) for v in row] for row in islice(stream, SAMPLE_ROWS)]
    widths = [cell_len(h) for h in headers]
    for row in sample:
        widths = [max(w, cell_len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return GAP.join(
            pad(c, w, right=r) for c, w, r in zip(cells, widths, aligned, strict=True)
        ).rstrip()

    yield line(list(headers))
    for texts in sample:
        yield line(texts)
    for rest in stream:
        yield line([_text(v) for v in rest])


def _text(value: object) -> str:
    return "-" if value is None else str(value)
