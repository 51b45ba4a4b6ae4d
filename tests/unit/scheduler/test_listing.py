"""The jsonl listing is written without json.dumps, for speed: it must stay byte-identical."""

from __future__ import annotations

import io
import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.scheduler.tasks.due import Task
from services.scheduler.tasks.listing import jsonl_line, write_listing

texts = st.text()  # any text, quotes, backslashes, control and non-ASCII characters included
days = st.none() | st.dates()
counts = st.integers(min_value=-(10**6), max_value=10**6)

tasks = st.builds(
    Task,
    member_id=texts,
    rule=texts,
    window_start=days,
    window_end=days,
    liaison_id=st.none() | texts,
    org=texts,
    overdue_days=counts,
    done=counts,
    required=counts,
    member_name=texts,
    priority=counts,
)


@given(tasks)
def test_a_jsonl_line_is_byte_for_byte_what_json_dumps_writes(task: Task) -> None:
    assert jsonl_line(task) == json.dumps(task.as_listing(), ensure_ascii=False) + "\n"


def test_the_jsonl_listing_reads_back_as_the_contract_fields_in_order() -> None:
    task = Task(
        "M0001", "quarterly_visit", date(2026, 10, 1), date(2026, 12, 31), None, "TH-XC-01",
        3, 0, 1, "张三", 10,
    )  # fmt: skip
    out = io.StringIO()
    assert write_listing([task, task], "jsonl", out, None) == 2
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    parsed = json.loads(lines[0])
    assert list(parsed) == [
        "member_id", "rule", "window_start", "window_end", "liaison_id", "org",
        "overdue_days", "done", "required",
    ]  # fmt: skip
    assert parsed["liaison_id"] is None and parsed["window_end"] == "2026-12-31"
    assert lines[0] == (
        '{"member_id": "M0001", "rule": "quarterly_visit", "window_start": "2026-10-01", '
        '"window_end": "2026-12-31", "liaison_id": null, "org": "TH-XC-01", '
        '"overdue_days": 3, "done": 0, "required": 1}'
    )


_HOSTILE = Task(
    "=HYPERLINK(\"http://evil.example/\",\"x\")", "quarterly_visit", date(2026, 10, 1),
    date(2026, 12, 31), "@L01", "-1+cmd|' /C calc'!A0", -3, 0, 1, "张三", 10,
)  # fmt: skip


def test_a_formula_in_an_id_or_organization_comes_out_of_the_csv_listing_as_text() -> None:
    import csv

    out = io.StringIO()
    write_listing([_HOSTILE], "csv", out, None)
    [_header, row] = list(csv.reader(io.StringIO(out.getvalue())))
    assert row[0] == '\'=HYPERLINK("http://evil.example/","x")'
    assert row[4] == "'@L01" and row[5] == "'-1+cmd|' /C calc'!A0"
    assert row[6] == "-3"  # a plain number stays a number


def test_a_formula_in_the_xlsx_listing_is_written_as_a_text_cell(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    write_listing([_HOSTILE], "xlsx", None, tmp_path / "due.xlsx")
    sheet = load_workbook(tmp_path / "due.xlsx")["due"]
    [cells] = list(sheet.iter_rows(min_row=2))
    assert cells[0].data_type == "s"
    assert cells[0].value == _HOSTILE.member_id and cells[5].value == _HOSTILE.org
