"""The `due` listing for a person: a terminal table or a workbook, in the reader's language,
names beside ids. The machine formats (jsonl, csv) stay in
`services/scheduler/tasks/listing.py`, byte for byte the contract."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, select

from services.cli.columns import table_lines
from services.cli.labels import Lang, named, rule_name, say, word
from services.scheduler.tasks.due import Task
from shared.ledger.sheets import SheetWriter
from shared.models import Liaison, Organization
from shared.progress import Progress

PROGRESS_TASKS = 500  #: tasks between two reports to the bar


@dataclass(frozen=True)
class Names:
    """Liaisons' and organizations' names by id (thousands of rows in a province)."""

    liaisons: dict[str, str]
    orgs: dict[str, str]

    @classmethod
    def load(cls, engine: Engine) -> Names:
        with engine.connect() as conn:
            liaisons = {r[0]: r[1] for r in conn.execute(select(Liaison.liaison_id, Liaison.name))}
            orgs = {r[0]: r[1] for r in conn.execute(select(Organization.code, Organization.name))}
        return cls(liaisons, orgs)

    def liaison(self, liaison_id: str | None) -> str | None:
        return None if liaison_id is None else self.liaisons.get(liaison_id)


def counting(tasks: Iterable[Task], label: str, progress: Progress) -> Iterator[Task]:
    """`tasks`, telling `progress` how many have gone by (their total is not known until
    the rules have run over every member)."""
    progress(label, 0)
    done = 0
    for task in tasks:
        yield task
        done += 1
        if done % PROGRESS_TASKS == 0:
            progress(label, PROGRESS_TASKS)
    progress(label, done % PROGRESS_TASKS)


TABLE_COLUMNS = (
    "liaison", "member", "rule", "window_start", "window_end", "overdue_days", "progress", "org",
)  # fmt: skip
TABLE_RIGHT = (False, False, False, False, False, True, True, False)
SHEET_COLUMNS = (
    "liaison_id", "liaison", "member_id", "member_name", "rule", "window_start", "window_end",
    "overdue_days", "done", "required", "org_code", "org_name", "rule_code",
)  # fmt: skip


def write_table(tasks: Iterable[Task], names: Names, lang: Lang, out: TextIO) -> int:
    """The listing as an aligned table with a count line; how many tasks."""
    count = 0

    def rows() -> Iterator[list[object]]:
        nonlocal count
        for t in tasks:
            count += 1
            yield [
                named(names.liaison(t.liaison_id), t.liaison_id, lang),
                named(t.member_name, t.member_id, lang),
                rule_name(t.rule, lang),
                t.window_start,
                t.window_end,
                t.overdue_days,
                f"{t.done}/{t.required}",
                named(names.orgs.get(t.org), t.org, lang),
            ]

    headers = [word(c, lang) for c in TABLE_COLUMNS]
    for line in table_lines(headers, rows(), right=TABLE_RIGHT):
        out.write(line + "\n")
    out.write(say("open_tasks", lang, count=count) + "\n")
    return count


def write_sheet(tasks: Iterable[Task], names: Names, lang: Lang, path: Path) -> int:
    """The listing as a workbook of one sheet `due`; how many tasks."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    with SheetWriter(book, "due", [word(c, lang) for c in SHEET_COLUMNS]) as sheet:
        for t in tasks:
            sheet.append(
                [
                    t.liaison_id,
                    names.liaison(t.liaison_id) if t.liaison_id else word("unassigned", lang),
                    t.member_id,
                    t.member_name,
                    rule_name(t.rule, lang),
                    t.window_start,
                    t.window_end,
                    t.overdue_days,
                    t.done,
                    t.required,
                    t.org,
                    names.orgs.get(t.org, t.org),
                    t.rule,
                ]
            )
    book.save(path)
    return sheet.rows
