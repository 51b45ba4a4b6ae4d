"""Importing ledger files into SQLite and PostgreSQL: all or nothing, every problem listed."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select

from shared.errors import ImportRejected
from shared.ledger.importer import import_files
from shared.models import Event, Interaction, Member, Organization
from tests.integration.ledger.conftest import export_bytes, ledger_rows
from tests.integration.ledger.sample import M1_ID, M1_PHONE, id_number, write_csv, write_xlsx

Ledger = dict[str, list[dict[str, object]]]


def rejected(engine: Engine, paths: list[Path], **kwargs: object) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        import_files(engine, paths, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_ledger_of_every_kind_imports_with_values_normalised(
    engine: Engine, tmp_path: Path
) -> None:
    report = import_files(engine, write_csv(tmp_path))
    assert report.read("members") == 3 and report.written("members") == 3
    assert report.written("interactions") == 3 and not report.dry_run
    with engine.connect() as conn:
        m1 = conn.execute(select(Member).where(Member.member_id == "M001")).one()
        m3 = conn.execute(select(Member).where(Member.member_id == "M003")).one()
        event = conn.execute(select(Event.starts_at).where(Event.event_id == "E01")).scalar_one()
        town = conn.execute(select(Organization).where(Organization.code == "TH-XC")).one()
    assert m1.phone == "+86" + M1_PHONE
    assert m1.join_date == date(2005, 7, 1) and m1.mobile_since == date(2019, 3, 1)
    assert m1.birth_date is None  # read from the ID number when needed, not copied
    assert (m3.status, m3.locale, m3.channels) == ("returned", "en", "sms")
    assert event == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert town.timezone == "Asia/Shanghai" and town.secretary_phone == "+8613700001111"


def test_gb18030_with_chinese_headers_and_one_xlsx_workbook_import_to_identical_data(
    engine: Engine, tmp_path: Path, fresh: Callable[[], None]
) -> None:
    import_files(engine, write_csv(tmp_path / "utf8"))
    expected = export_bytes(engine, tmp_path / "out-utf8")
    fresh()
    import_files(engine, write_csv(tmp_path / "gbk", encoding="gb18030", chinese=True))
    assert export_bytes(engine, tmp_path / "out-gbk") == expected
    fresh()
    report = import_files(engine, [write_xlsx(tmp_path / "book.xlsx")])
    assert report.warnings == ("book.xlsx[说明]: not the name of a kind; sheet ignored",)
    assert export_bytes(engine, tmp_path / "out-xlsx") == expected


def test_four_kinds_of_bad_row_reject_the_whole_set_with_one_line_each(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    bad_id = M1_ID[:-1] + ("0" if M1_ID[-1] != "0" else "1")
    ledger["members"][0]["id_number"] = bad_id
    ledger["members"][1]["join_date"] = "去年春天"
    ledger["members"][2]["home_org"] = "TH-NOPE"
    ledger["assignments"].append({"member_id": "M002", "liaison_id": "L02", "from": "2025-12-01"})
    problems = rejected(engine, write_csv(tmp_path, ledger=ledger))
    assert problems == [
        f"members.csv:2: id_number: {bad_id[:6]}********{bad_id[-4:]}: wrong check digit",
        "members.csv:3: join_date: 去年春天: "
        "not a date (write 2026-03-01, 2026/3/1 or 2026年3月1日)",
        "members.csv:4: home_org: TH-NOPE: unknown organization",
        "assignments.csv:5: from: 2025-12-01: "
        "overlaps the assignment on row 4 (2025-06-01..(open))",
    ]
    assert not any(ledger_rows(engine).values())


def test_a_dry_run_lists_the_same_problems_and_a_clean_dry_run_writes_nothing(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["members"][1]["join_date"] = "2026-02-30"
    paths = write_csv(tmp_path / "bad", ledger=ledger)
    assert rejected(engine, paths, dry_run=True) == rejected(engine, paths)
    report = import_files(engine, write_csv(tmp_path / "good"), dry_run=True)
    assert report.dry_run and report.written("members") == 3
    assert not any(ledger_rows(engine).values())


def test_importing_an_existing_key_updates_only_the_columns_in_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    import_files(engine, write_csv(tmp_path / "first"))
    header = ["member_id", "name", "id_number", "home_org", "join_date", "mobile_since", "status"]
    update = write(
        tmp_path / "members-update.csv",
        [header, ["M001", "张三丰", M1_ID, "TH-XC-01", "2005-07-01", "2019-03-01", ""]],
    )
    report = import_files(engine, [update])
    assert report.written("members") == 1
    with engine.connect() as conn:
        m1 = conn.execute(select(Member).where(Member.member_id == "M001")).one()
    assert m1.name == "张三丰"
    assert m1.phone == "+86" + M1_PHONE  # not in the file: kept
    assert m1.status == "active"  # empty: the column's default
    assert ledger_rows(engine)["members"] == 3


def test_an_empty_cell_in_a_present_column_clears_the_value(engine: Engine, tmp_path: Path) -> None:
    import_files(engine, write_csv(tmp_path / "first"))
    header = ["member_id", "name", "id_number", "home_org", "join_date", "mobile_since", "phone"]
    row = ["M001", "张三", M1_ID, "TH-XC-01", "2005-07-01", "2019-03-01", ""]
    import_files(engine, [write(tmp_path / "members.csv", [header, row])])
    with engine.connect() as conn:
        phone = conn.execute(select(Member.phone).where(Member.member_id == "M001")).scalar()
    assert phone is None


def test_a_fact_repeated_in_the_file_set_is_one_fact_and_the_later_row_wins(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["interactions"].append(
        {"member_id": "M001", "kind": "phone", "on": "2026/2/3", "note": "第二次记录"}
    )
    report = import_files(engine, write_csv(tmp_path, ledger=ledger))
    assert report.read("interactions") == 4
    with engine.connect() as conn:
        notes = conn.execute(
            select(Interaction.note).where(
                Interaction.member_id == "M001", Interaction.kind == "phone"
            )
        ).all()
    assert notes == [("第二次记录",)]


def test_an_entity_key_repeated_in_the_file_set_is_a_problem_naming_both_rows(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["liaisons"].append({"liaison_id": "L01", "name": "重复", "org": "TH-XC-01"})
    assert rejected(engine, write_csv(tmp_path, ledger=ledger)) == [
        "liaisons.csv:4: liaison_id: L01: duplicate key, also on row 2"
    ]


def test_a_parent_may_come_later_in_the_file_but_a_parent_cycle_is_a_problem(
    engine: Engine, tmp_path: Path
) -> None:
    header = ["code", "name", "parent_code"]
    good = write(tmp_path / "organizations.csv", [header, ["A-1", "支部", "A"], ["A", "县委", ""]])
    assert import_files(engine, [good]).written("organizations") == 2
    cycle = write(
        tmp_path / "organizations-cycle.csv",
        [header, ["A", "县委", "A-1"], ["B", "镇", "C"], ["C", "镇", "B"], ["D", "村", "Z"]],
    )
    assert rejected(engine, [cycle]) == [
        "organizations-cycle.csv:2: parent_code: A-1: the parents make a cycle (A → A-1 → A)",
        "organizations-cycle.csv:3: parent_code: C: the parents make a cycle (B → C → B)",
        "organizations-cycle.csv:5: parent_code: Z: unknown organization",
    ]


def test_an_assignment_overlapping_one_already_recorded_is_a_problem(
    engine: Engine, tmp_path: Path
) -> None:
    import_files(engine, write_csv(tmp_path / "first"))
    later = write(
        tmp_path / "assignments-2026.csv",
        [["member_id", "liaison_id", "from", "to"], ["M002", "L02", "2026-03-01", ""]],
    )
    assert rejected(engine, [later]) == [
        "assignments-2026.csv:2: from: 2026-03-01: overlaps an assignment already recorded "
        "(2025-06-01..(open))"
    ]
    closing = write(
        tmp_path / "assignments-closing.csv",
        [
            ["member_id", "liaison_id", "from", "to"],
            ["M002", "L01", "2025-06-01", "2026-02-28"],
            ["M002", "L02", "2026-03-01", ""],
        ],
    )
    assert import_files(engine, [closing]).written("assignments") == 2


def test_unknown_columns_are_ignored_with_a_warning(engine: Engine, tmp_path: Path) -> None:
    paths = write_csv(tmp_path)
    reviews = write(
        tmp_path / "reviews.csv", [["member_id", "on", "审核人"], ["M001", "2026-01-15", "王"]]
    )
    report = import_files(engine, [*paths[:-1], reviews])
    assert report.warnings == ("reviews.csv:1: column '审核人' is not part of reviews; ignored",)
    assert report.written("reviews") == 1


def test_a_missing_required_column_is_a_problem_naming_file_and_column(
    engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path / "liaisons.csv", [["liaison_id", "org"], ["L09", "TH"]])
    assert rejected(engine, [path]) == [
        "liaisons.csv:1: name: : required column is missing",
        "liaisons.csv:2: org: TH: unknown organization",
    ]


def test_a_birth_date_disagreeing_with_the_id_number_is_a_problem(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["members"][1]["birth_date"] = "1942-03-16"
    assert rejected(engine, write_csv(tmp_path, ledger=ledger)) == [
        "members.csv:3: birth_date: 1942-03-16: differs from the birth date inside the ID number"
    ]


def test_unreadable_files_are_problems_naming_the_file(engine: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "members.csv"
    empty.write_bytes(b"")
    broken = tmp_path / "book.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    unnamed = write(tmp_path / "ledger.csv", [["member_id"], ["M1"]])
    book = Workbook()
    book.active.title = "members"
    book.save(tmp_path / "other.xlsx")
    problems = rejected(
        engine, [empty, broken, unnamed, tmp_path / "missing.csv", tmp_path / "other.xlsx"]
    )
    assert problems[0] == "members.csv: the file is empty (a header row is expected on row 1)"
    assert problems[1].startswith("book.xlsx: not a readable XLSX workbook")
    assert problems[2].startswith("ledger.csv: the kind cannot be told from the file name")
    assert problems[3] == "missing.csv: no such file"
    assert (
        problems[4] == "other.xlsx[members]: the sheet is empty (a header row is expected on row 1)"
    )
    assert rejected(engine, [tmp_path / "other.xlsx"], kind="reviews") == [
        "other.xlsx: no sheet named 'reviews'"
    ]


def test_a_utf8_file_broken_after_the_first_chunk_is_a_problem_not_a_crash(
    engine: Engine, tmp_path: Path
) -> None:
    import_files(engine, write_csv(tmp_path / "first"))
    path = tmp_path / "moves.csv"
    rows = "member_id,on,location\r\n" + "M001,2026-01-01,上海\r\n" * 10_000
    path.write_bytes(rows.encode("utf-8") + "M001,2026-01-02,苏州\r\n".encode("gb18030"))
    [line] = rejected(engine, [path])
    assert line.startswith("moves.csv: the file is not valid utf-8 text after line ")


def test_organization_time_zone_sets_the_instant_of_an_event(
    engine: Engine, tmp_path: Path
) -> None:
    orgs = write(
        tmp_path / "organizations.csv",
        [["code", "name", "timezone"], ["WX", "乌鲁木齐流动党员支部", "Asia/Urumqi"]],
    )
    events = write(
        tmp_path / "events.csv",
        [["event_id", "org", "type", "starts_at"], ["E9", "WX", "other", "2026年3月10日 9:00"]],
    )
    import_files(engine, [events, orgs])
    with engine.connect() as conn:
        starts = conn.execute(select(Event.starts_at)).scalar_one()
    assert starts == datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def test_id_numbers_of_other_birth_dates_are_accepted() -> None:
    assert id_number("20000229")[-1] in "0123456789X"


def test_the_importer_tells_its_progress_callback_every_row_it_read_and_each_table_s_size(
    engine: Engine, tmp_path: Path
) -> None:
    told: dict[str, int] = {}
    totals: dict[str, int | None] = {}

    def progress(label: str, steps: int, total: int | None = None) -> None:
        told[label] = told.get(label, 0) + steps
        totals[label] = total if total is not None else totals.get(label)

    report = import_files(engine, write_csv(tmp_path), dry_run=True, progress=progress)
    assert len(told) == len(report.counts) > 0
    for count in report.counts:
        assert told[f"{count.kind}.csv"] == count.read
        assert totals[f"{count.kind}.csv"] == count.read
