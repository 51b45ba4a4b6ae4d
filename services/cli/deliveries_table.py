"""`liaison deliveries` as a table a person reads in an 80-column terminal: local times,
cut cells marked with …, the error on a line of its own, and a total line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from services.cli.columns import fit, pad
from services.notifier import DeliveryRow
from services.web.labels import Labels
from services.web.times import local_text

WIDTH = 80
#: (label key, cells): 76 cells with the separating spaces
COLUMNS = (
    ("col.id", 6), ("col.updated", 16), ("col.kind", 16), ("col.channel", 5),
    ("col.recipient", 16), ("col.status", 9), ("col.attempts", 2),
)  # fmt: skip
ERROR_INDENT = 7


def _cell(text: str, cells: int, *, right: bool = False) -> str:
    """`text` in exactly `cells` terminal cells (a Chinese character takes two)."""
    return pad(fit(text, cells), cells, right=right)


def table_lines(rows: Sequence[DeliveryRow], *, t: Labels, tz: str, total: int) -> list[str]:
    """The table's lines, none wider than WIDTH cells."""
    lines = [
        " ".join(
            _cell(t(key), cells, right=key in ("col.id", "col.attempts")) for key, cells in COLUMNS
        ).rstrip()
    ]
    for r in rows:
        values = (
            str(r.id), local_text(r.updated_at or r.created_at, tz), t.word("kind", r.kind),
            t.word("channel", r.channel), r.recipient, t.word("status", r.status), str(r.attempts),
        )  # fmt: skip
        lines.append(
            " ".join(
                _cell(v, cells, right=i in (0, 6))
                for i, (v, (_, cells)) in enumerate(zip(values, COLUMNS, strict=True))
            ).rstrip()
        )
        if r.last_error:
            lines.append(" " * ERROR_INDENT + _cell(r.last_error, WIDTH - ERROR_INDENT).rstrip())
    by_status = Counter(r.status for r in rows)
    summary = " · ".join(f"{t.word('status', s)} {n}" for s, n in sorted(by_status.items()))
    lines.append(t("deliveries.total", n=total) + (f" ({summary})" if summary else ""))
    if total > len(rows):
        lines.append(t("deliveries.shown", n=len(rows)))
    return lines
