"""The report's text: a short list by default, the whole list with --details."""

from __future__ import annotations

import io
from datetime import date

from rich.cells import cell_len

from services.cli.report_output import write_text
from services.scheduler.tasks.report import OrgFigures, Report, ReportRow, UnassignedMember

LONG_NAME = "某某省某某市某某县某某镇某某村党支部第一党小组联络服务站" * 2


def report_with(unassigned: int) -> Report:
    figures = OrgFigures(members=40, unassigned=unassigned)
    rows = (ReportRow("TH", "太湖县委", 0, figures), ReportRow("TH-01", LONG_NAME, 1, figures))
    alone = tuple(UnassignedMember(f"M{n:04d}", f"党员{n}", "TH-01") for n in range(unassigned))
    return Report(date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 22), rows, 5, (), alone)


def text(report: Report, *, details: bool, lang: str = "zh-CN") -> list[str]:
    out = io.StringIO()
    write_text(report, lang, out, details=details)  # type: ignore[arg-type]
    return out.getvalue().splitlines()


def test_without_details_ten_members_are_named_and_the_rest_counted() -> None:
    lines = text(report_with(15), details=False)
    named = [line for line in lines if line.startswith("  党员")]
    assert len(named) == 10
    assert "  ……另有 5 名，加 --details 列出全部" in lines


def test_with_details_every_member_is_named() -> None:
    lines = text(report_with(15), details=True)
    assert len([line for line in lines if line.startswith("  党员")]) == 15
    assert not any("另有" in line for line in lines)


def test_a_long_organization_name_is_cut_but_its_code_and_the_100_columns_hold() -> None:
    for lang in ("zh-CN", "en"):
        lines = text(report_with(2), details=True, lang=lang)
        assert max(cell_len(line) for line in lines) <= 100
        [row] = [line for line in lines if line.startswith("  某某")]
        assert "… TH-01" in row


def test_nothing_to_list_says_so() -> None:
    lines = text(report_with(0), details=False, lang="en")
    assert lines[-2:] == ["members without a liaison: 0", "  none"]
