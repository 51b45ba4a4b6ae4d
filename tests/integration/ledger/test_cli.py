"""`liaison import`, `export` and `record` through the command line."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from typer.testing import Result

from shared.models import Interaction
from tests.cli import liaison as run_liaison
from tests.integration.ledger.conftest import ledger_rows
from tests.integration.ledger.sample import LEDGER, M1_ID, M1_PHONE, M2_PHONE, write_csv

Ledger = dict[str, list[dict[str, object]]]


def liaison(*args: str) -> Result:
    return run_liaison(*args)


@pytest.fixture
def imported(liaison_env: dict[str, str], engine: Engine, tmp_path: Path) -> Engine:
    result = liaison("import", *map(str, write_csv(tmp_path / "ledger")))
    assert result.exit_code == 0, result.output
    return engine


def test_an_import_prints_counts_per_kind_and_a_dry_run_says_nothing_was_written(
    liaison_env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    paths = [str(p) for p in write_csv(tmp_path)]
    dry = liaison("import", "--dry-run", *paths)
    assert dry.exit_code == 0
    assert "members: 3 read, 3 would write" in dry.stdout
    assert "dry run: nothing was written" in dry.stdout
    assert not any(ledger_rows(engine).values())
    real = liaison("import", *paths)
    assert real.exit_code == 0
    assert "members: 3 read, 3 written" in real.stdout
    assert ledger_rows(engine)["members"] == 3


def test_a_failing_import_lists_each_problem_masked_and_exits_1(
    liaison_env: dict[str, str], engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    bad_id = M1_ID[:-1] + ("0" if M1_ID[-1] != "0" else "1")
    ledger["members"][0]["id_number"] = bad_id
    ledger["members"][1]["phone"] = M2_PHONE + "9"  # one digit too many
    ledger["members"][2]["join_date"] = "2026-02-30"
    paths = [str(p) for p in write_csv(tmp_path, ledger=ledger)]
    for args in (("import", *paths), ("import", "--dry-run", *paths)):
        result = liaison(*args)
        assert result.exit_code == 1
        lines = result.stderr.splitlines()
        assert len(lines) == 4, result.stderr
        assert lines[0] == f"members.csv:2: id_number: {bad_id[:6]}********{bad_id[-4:]}: " + (
            "wrong check digit"
        )
        assert lines[1].startswith("members.csv:3: phone: ")
        assert lines[2].startswith("members.csv:4: join_date: 2026-02-30: no such date")
        assert lines[3].startswith("3 problem(s) found;")
        everything = result.stdout + result.stderr
        for raw in (bad_id, M2_PHONE, M2_PHONE + "9", M1_PHONE, M1_ID):
            assert raw not in everything
    assert not any(ledger_rows(engine).values())


def test_an_export_masks_personal_columns_unless_full_is_asked_for(
    imported: Engine, tmp_path: Path
) -> None:
    masked = liaison("export", "members")
    assert masked.exit_code == 0
    assert masked.stdout_bytes.startswith(b"\xef\xbb\xbfmember_id,name,id_number,")
    assert b"\r\n" in masked.stdout_bytes
    assert M1_ID not in masked.stdout and M1_PHONE not in masked.stdout
    assert f"{M1_ID[:6]}********{M1_ID[-4:]}" in masked.stdout
    assert "138****5678" in masked.stdout
    full = liaison("export", "members", "--full")
    assert M1_ID in full.stdout and "+86" + M1_PHONE in full.stdout
    out = tmp_path / "ledger.xlsx"
    book = liaison("export", "all", "--format", "xlsx", "--out", str(out))
    assert book.exit_code == 0 and out.exists()
    assert "行已写入" in book.stderr  # the default language is zh-CN
    assert load_workbook(out)["members"]["A1"].value == "编号"
    book = liaison("export", "all", "--format", "xlsx", "--out", str(out), "--lang", "en")
    assert book.exit_code == 0 and "row(s) written" in book.stderr
    assert load_workbook(out)["members"]["A1"].value == "member_id"
    chinese = liaison("export", "members", "--lang", "zh-CN")
    assert chinese.stdout_bytes == masked.stdout_bytes  # csv keeps the contract's names
    assert liaison("export", "all", "--format", "csv").exit_code == 2  # needs --out DIR


def test_recording_an_interaction_goes_through_the_importer_validation(
    imported: Engine,
) -> None:
    ok = liaison(
        "record", "interactions", "--member", "M001", "--on", "2026年3月2日",
        "--kind", "visit", "--place", "home", "--liaison", "L02", "--note", "上门走访",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    with imported.connect() as conn:
        row = conn.execute(
            select(Interaction.kind, Interaction.place, Interaction.source).where(
                Interaction.member_id == "M001", Interaction.note == "上门走访"
            )
        ).one()
    assert tuple(row) == ("visit", "home", "cli")
    before = ledger_rows(imported)
    bad = liaison(
        "record", "interactions", "--member", "M404", "--on", "2026-02-30", "--place", "moon"
    )
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "command line:1: kind: : required, but empty",
        "command line:1: on: 2026-02-30: no such date (day is out of range for month)",
        "command line:1: place: moon: not one of home (家中), workplace (工作单位), other (其他)",
        "command line:1: member_id: M404: unknown member",
        "4 problem(s) found; nothing was written",
    ]
    assert ledger_rows(imported) == before


@pytest.mark.parametrize(
    ("kind", "options", "column"),
    [
        ("reviews", [], None),
        ("verifications", [], None),
        ("moves", ["--location", "浙江省杭州市"], "location"),
        ("deliveries", ["--campaign", "C01"], "campaign_id"),
        ("attendance", ["--event", "E01"], "event_id"),
    ],
)
def test_every_recordable_kind_can_be_recorded(
    imported: Engine, kind: str, options: list[str], column: str | None
) -> None:
    before = ledger_rows(imported)[kind]
    result = liaison("record", kind, "--member", "M003", "--on", "2026-03-05", *options)
    assert result.exit_code == 0, result.output
    assert ledger_rows(imported)[kind] == before + 1


def test_an_option_a_kind_does_not_have_is_refused(imported: Engine) -> None:
    result = liaison("record", "reviews", "--member", "M001", "--on", "2026-03-05", "--note", "x")
    assert result.exit_code != 0
    assert ledger_rows(imported)["reviews"] == len(LEDGER["reviews"])


def test_record_refuses_a_day_after_today_and_writes_nothing(imported: Engine) -> None:
    from shared.clock import SystemClock, local_today
    from shared.settings import DEFAULT_TIMEZONE

    today = local_today(SystemClock(), DEFAULT_TIMEZONE)
    before = ledger_rows(imported)
    for day in (today + timedelta(days=1), date(2030, 1, 1)):
        result = liaison(
            "record", "interactions", "--member", "M001", "--on", day.isoformat(), "--kind", "phone"
        )
        assert result.exit_code == 2
        assert f"is after today ({today.isoformat()})" in result.stderr
    assert ledger_rows(imported) == before
    result = liaison(
        "record", "interactions", "--member", "M001", "--on", today.isoformat(), "--kind", "phone"
    )
    assert result.exit_code == 0, result.output


def test_record_warns_when_the_liaison_is_not_the_members_liaison_that_day(
    imported: Engine,
) -> None:
    # M001 (张三)'s liaison is L01 (李联络) in 2025 and L02 (赵联络) from 2026-01-01.
    own = liaison(
        "record", "interactions", "--member", "M001", "--on", "2026-03-03",
        "--kind", "phone", "--liaison", "L02",
    )  # fmt: skip
    assert own.exit_code == 0 and "warning" not in own.stderr
    other = liaison(
        "record", "interactions", "--member", "M001", "--on", "2026-03-04",
        "--kind", "phone", "--liaison", "L01",
    )  # fmt: skip
    assert other.exit_code == 0
    [warning] = other.stderr.splitlines()
    assert warning == (
        "warning: 李联络 L01 is not 张三 M001's liaison on 2026-03-04 (赵联络 L02 is);"
        " recorded as given"
    )
    assert other.stdout.strip() == "interactions: recorded for M001 on 2026-03-04"
    earlier = liaison(
        "record", "interactions", "--member", "M001", "--on", "2025-03-04",
        "--kind", "phone", "--liaison", "L01",
    )  # fmt: skip
    assert earlier.exit_code == 0 and "warning" not in earlier.stderr


def test_why_lists_the_members_attendance_with_the_event_and_who_held_it(
    imported: Engine,
) -> None:
    result = liaison("why", "M001", "--as-of", "2026-11-22")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = lines.index("attendance (organization life): 1 recorded, 1 in 2026")
    assert lines[at + 1].startswith("  2026-03-10  ") and "(E01), held by " in lines[at + 1]
    result = liaison("why", "M003", "--as-of", "2026-11-22")
    assert "attendance (organization life): none recorded up to 2026-11-22" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("why", "NOPE", "--as-of", "2026-11-22"), "no member with id 'NOPE'"),
        (("due", "--liaison", "NOPE", "--as-of", "2026-11-22"), "no liaison with id 'NOPE'"),
        (("due", "--org", "NOPE", "--as-of", "2026-11-22"), "no organization with code 'NOPE'"),
        (("report", "--period", "2026-Q4", "--org", "NOPE"), "no organization with code 'NOPE'"),
        (("run", "--dry-run", "--org", "NOPE"), "no organization with code 'NOPE'"),
        (("policy", "show", "--org", "NOPE"), "no organization with code 'NOPE'"),
        (("token", "create", "--role", "liaison", "--liaison", "NOPE"), "no liaison with id"),
        (("token", "create", "--role", "org_manager", "--org", "NOPE"), "no organization with"),
    ],
)
def test_an_unknown_id_anywhere_is_a_usage_error_naming_it(
    imported: Engine, args: tuple[str, ...], says: str
) -> None:
    result = run_liaison(*args, env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert says in result.stderr
