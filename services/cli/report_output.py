"""`liaison report` for a person: a table no wider than `MAX_WIDTH` terminal cells, then who
the over-loaded liaisons and the members without a liaison are (the first `SHORT_LIST`
of each unless `--details`), in the reader's language; the same as a workbook.

The CSV stays `services/scheduler/tasks/report.py`'s codes, for scripts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from rich.cells import cell_len

from services.cli.columns import GAP, fit, pad
from services.cli.labels import Lang, named, say, word
from services.scheduler.tasks.report import COMPLIANCE_RULES, Report, ReportRow, share
from shared.ledger.sheets import SheetWriter

MAX_WIDTH = 100  #: terminal cells: the report fits a laptop's terminal and a printed page
SHORT_LIST = 10  #: names listed per finding without --details

#: the count columns after the organization, by their `_SHORT_HEADERS` key
_COUNTS = (
    "members",
    "contacts",
    "visits",
    "no_liaison",
    "over_load",
    "movers",
    "elderly",
    "no_event",
)
_SHORT_HEADERS: dict[str, dict[Lang, str]] = {
    # Narrower than the catalogue's full words, which the workbook uses: nine columns and
    # an indented organization tree have to fit in 100 cells; the legend says the rest.
    "members": {"zh-CN": "党员", "en": "members"},
    "contacts": {"zh-CN": "每月联系", "en": "contacts"},
    "visits": {"zh-CN": "季度走访", "en": "visits"},
    "no_liaison": {"zh-CN": "未配联络员", "en": "no liaison"},
    "over_load": {"zh-CN": "超负荷", "en": "overload"},
    "movers": {"zh-CN": "流动无专人", "en": "movers"},
    "elderly": {"zh-CN": "高龄少访", "en": "80+"},
    "no_event": {"zh-CN": "未参活动", "en": "no event"},
}
_LEGEND: dict[Lang, tuple[str, ...]] = {
    "zh-CN": (
        "每月联系、季度走访：按期完成的比例（csv、xlsx 给出次数）；"
        "超负荷：联系党员超过 {max_load} 名的联络员",
        "流动无专人：频繁流动而无专人联系的党员；高龄少访：80岁以上、今年走访不足2次",
        "未参活动：今年未参加组织生活",
    ),
    "en": (
        "contacts, visits: share of the months and quarters met (csv and xlsx give the counts);",
        "overload: liaisons with more than {max_load} members; movers: frequent movers without a "
        "liaison",
        "of their own; 80+: aged 80 or more with fewer than 2 visits this year; no event: attended",
        "no organization-life event this year",
    ),
}
MIN_ORG_WIDTH = 16  #: terminal cells kept for the organization even beside wide numbers


def _counts(row: ReportRow) -> list[str]:
    f = row.figures
    c, v = COMPLIANCE_RULES
    return [
        str(f.members),
        share(f.met[c], f.windows[c]),
        share(f.met[v], f.windows[v]),
        str(f.unassigned),
        str(f.liaisons_over_load),
        str(f.movers_without_own_liaison),
        str(f.elderly_not_visited_twice),
        str(f.no_event_attended),
    ]


def org_label(row: ReportRow, width: int, lang: Lang) -> str:
    """The indented name and code of `row` in `width` cells: the name is cut, never the code."""
    indent = "  " * row.depth
    full = indent + named(row.name, row.org, lang)
    if cell_len(full) <= width:
        return full
    room = width - cell_len(indent) - cell_len(row.org) - 1
    return f"{indent}{fit(row.name, room)} {row.org}" if room >= 2 else fit(full, width)


def table_lines(report: Report, lang: Lang) -> Iterator[str]:
    headers = [_SHORT_HEADERS[k][lang] for k in _COUNTS]
    counts = [_counts(r) for r in report.rows]
    widths = [max([cell_len(h), *(cell_len(c[i]) for c in counts)]) for i, h in enumerate(headers)]
    longest = max(
        (cell_len("  " * r.depth + named(r.name, r.org, lang)) for r in report.rows), default=0
    )
    room = MAX_WIDTH - sum(widths) - len(GAP) * len(widths)
    org_width = max(MIN_ORG_WIDTH, cell_len(word("org", lang)), min(room, longest))

    def line(first: str, cells: Sequence[str]) -> str:
        numbers = (pad(c, w, right=True) for c, w in zip(cells, widths, strict=True))
        return GAP.join([pad(first, org_width), *numbers]).rstrip()

    yield line(word("org", lang), headers)
    for row, cells in zip(report.rows, counts, strict=True):
        yield line(org_label(row, org_width, lang), cells)


def write_text(report: Report, lang: Lang, out: TextIO, *, details: bool) -> None:
    """The whole report for a terminal, every line at most `MAX_WIDTH` cells (a table of
    numbers too wide for it is printed whole: a number half shown is worse)."""
    start, end, on = report.period_start, report.period_end, report.evaluated_on
    head = [say("report_title", lang, start=start, end=end, on=on)]
    head += [text.format(max_load=report.max_load) for text in _LEGEND[lang]]
    orgs = {r.org: r.name for r in report.rows}
    loaded = [
        f"  {named(x.name, x.liaison_id, lang)}  {named(orgs.get(x.org), x.org, lang)}"
        f"  {word('load', lang)} {x.members}"
        for x in report.over_loaded
    ]
    alone = [
        f"  {named(x.name, x.member_id, lang)}  {named(orgs.get(x.org), x.org, lang)}"
        for x in report.unassigned
    ]
    lists = [
        "",
        say("over_loaded_title", lang, max_load=report.max_load, count=len(loaded)),
        *_listed(loaded, lang, details),
        "",
        say("unassigned_title", lang, count=len(alone)),
        *_listed(alone, lang, details),
    ]
    for line in [*head, *table_lines(report, lang)]:
        out.write(line + "\n")
    for line in lists:
        out.write(fit(line, MAX_WIDTH) + "\n")


def _listed(lines: Sequence[str], lang: Lang, details: bool) -> list[str]:
    if not lines:
        return [f"  {say('none', lang)}"]
    if details or len(lines) <= SHORT_LIST:
        return list(lines)
    return [*lines[:SHORT_LIST], "  " + say("more", lang, count=len(lines) - SHORT_LIST)]


def write_sheets(report: Report, lang: Lang, path: Path) -> int:
    """The report, the over-loaded liaisons and the members without one as three sheets;
    how many organizations."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    c, v = COMPLIANCE_RULES
    contacts, visits, done, required = (
        word(k, lang) for k in ("contacts", "visits", "done", "required")
    )
    headers = [
        *(word(k, lang) for k in ("org_code", "org_name", "members")),
        f"{contacts}·{done}", f"{contacts}·{required}", f"{visits}·{done}", f"{visits}·{required}",
        *(word(k, lang) for k in ("no_liaison", "over_load", "movers", "elderly", "no_event")),
    ]  # fmt: skip
    with SheetWriter(book, "report", headers) as sheet:
        for r in report.rows:
            f = r.figures
            sheet.append(
                [
                    r.org, r.name, f.members, f.met[c], f.windows[c], f.met[v],
                    f.windows[v], f.unassigned, f.liaisons_over_load,
                    f.movers_without_own_liaison, f.elderly_not_visited_twice,
                    f.no_event_attended,
                ]
            )  # fmt: skip
    loaded_headers = [word(k, lang) for k in ("liaison_id", "liaison", "org_code", "load")]
    with SheetWriter(book, "over_loaded", loaded_headers) as loaded:
        for x in report.over_loaded:
            loaded.append([x.liaison_id, x.name, x.org, x.members])
    unassigned_headers = [word(k, lang) for k in ("member_id", "member_name", "home_org")]
    with SheetWriter(book, "unassigned", unassigned_headers) as alone:
        for m in report.unassigned:
            alone.append([m.member_id, m.name, m.org])
    book.save(path)
    return len(report.rows)
