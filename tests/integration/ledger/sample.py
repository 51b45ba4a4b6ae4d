"""A small ledger of every kind, written as the files a branch would keep.

The same rows can be written as UTF-8 CSV with canonical headers, as GB18030 CSV with the
Chinese headers, or as one XLSX workbook, so that the three can be compared.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from stdnum.cn import ric

from shared.ledger.kinds import KINDS_BY_NAME


def id_number(birth: str, seq: str = "123", region: str = "110105") -> str:
    """A valid 18-digit ID number born on `birth` (YYYYMMDD)."""
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "0")  # it ignores the last character


M1_ID = id_number("19800102")
M2_ID = id_number("19420315", "456", "110108")
M3_ID = id_number("19950704", "789")
M1_PHONE = "13812345678"
M2_PHONE = "13987654321"

#: Rows per kind, with the values a person writes (not yet normalised).
LEDGER: dict[str, list[dict[str, object]]] = {
    "organizations": [
        {"code": "TH-XC-01", "name": "新仓村党支部", "parent_code": "TH-XC"},
        {"code": "TH", "name": "太湖县委", "timezone": "Asia/Shanghai"},
        {
            "code": "TH-XC",
            "name": "新仓镇党委",
            "parent_code": "TH",
            "secretary_name": "王书记",
            "secretary_phone": "13700001111",
            "secretary_email": "wang@example.com",
        },
    ],
    "liaisons": [
        {
            "liaison_id": "L01",
            "name": "李联络",
            "org": "TH-XC-01",
            "phone": "13600002222",
            "email": "li@example.com",
            "locale": "zh-CN",
            "channels": "sms+email",
        },
        {"liaison_id": "L02", "name": "赵联络", "org": "TH-XC-01", "phone": "13600003333"},
    ],
    "members": [
        {
            "member_id": "M001",
            "name": "张三",
            "id_number": M1_ID,
            "home_org": "TH-XC-01",
            "join_date": "2005/7/1",
            "mobile_since": "2019年3月1日",
            "phone": M1_PHONE,
            "email": "zhang.san@example.com",
            "host_org": "TH-XC",
            "location": "上海市浦东新区",
            "industry": "建筑",
            "reason": "务工",
            "certificate_no": "LD-001",
            "certificate_issued_on": "2026-01-15",
            "status": "active",
            "channels": "sms",
        },
        {
            "member_id": "M002",
            "name": "李四",
            "id_number": M2_ID,
            "home_org": "TH-XC-01",
            "join_date": "1968-02-29",
            "mobile_since": "2020-05-10",
            "phone": M2_PHONE,
            "birth_date": "1942-03-15",
            "status": "active",
        },
        {
            "member_id": "M003",
            "name": "王五",
            "id_number": M3_ID,
            "home_org": "TH-XC",
            "join_date": "2018-06-30",
            "mobile_since": "2024-01-01",
            "status": "returned",
            "locale": "en",
        },
    ],
    "assignments": [
        {"member_id": "M001", "liaison_id": "L01", "from": "2025-01-01", "to": "2025-12-31"},
        {"member_id": "M001", "liaison_id": "L02", "from": "2026-01-01"},
        {"member_id": "M002", "liaison_id": "L01", "from": "2025-06-01"},
    ],
    "events": [
        {
            "event_id": "E01",
            "org": "TH-XC-01",
            "type": "theme_day",
            "starts_at": "2026-03-10 09:00",
            "title": "主题党日",
            "location": "村委会",
            "online_url": "https://meeting.example.com/e01",
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=10",
        },
        {
            "event_id": "E02",
            "org": "TH-XC",
            "type": "party_lecture",
            "starts_at": "2026/3/20 14:30",
        },
    ],
    "campaigns": [
        {
            "campaign_id": "C01",
            "title": "学习二十大",
            "org": "TH",
            "start": "2026-01-01",
            "end": "2026-06-30",
        },
    ],
    "interactions": [
        {
            "member_id": "M001",
            "kind": "phone",
            "on": "2026-02-03",
            "liaison_id": "L02",
            "note": "近况良好",
        },
        {
            "member_id": "M001",
            "kind": "visit",
            "on": "2026-02-20",
            "place": "workplace",
            "liaison_id": "L02",
        },
        {"member_id": "M002", "kind": "wechat", "on": "2026-01-05"},
    ],
    "moves": [{"member_id": "M001", "on": "2025-11-01", "location": "江苏省苏州市"}],
    "attendance": [{"event_id": "E01", "member_id": "M001", "on": "2026-03-10"}],
    "deliveries": [{"campaign_id": "C01", "member_id": "M002", "on": "2026-02-01"}],
    "reviews": [{"member_id": "M001", "on": "2026-01-15"}],
}


def header(kind: str, names: list[str], chinese: bool) -> list[str]:
    k = KINDS_BY_NAME[kind]
    if not chinese:
        return names
    return [k.column(n).aliases[0] if k.column(n).aliases else n for n in names]


def columns_of(kind: str) -> list[str]:
    names = KINDS_BY_NAME[kind].column_names
    return [n for n in names if any(n in r for r in LEDGER[kind])]


def write_csv(
    directory: Path,
    *,
    encoding: str = "utf-8",
    chinese: bool = False,
    ledger: dict[str, list[dict[str, object]]] | None = None,
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, rows in (ledger or LEDGER).items():
        names = columns_of(kind)
        path = directory / f"{kind}.csv"
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header(kind, names, chinese))
            for row in rows:
                writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
        paths.append(path)
    return paths


def _cell(value: object) -> object:
    """Dates as date cells, as Excel keeps them, where the text is an ISO date."""
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M"):
            try:
                parsed = datetime.strptime(value, fmt)
            except ValueError:
                continue
            return parsed.date() if fmt == "%Y-%m-%d" else parsed
    return value


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    book.remove(book.active)
    for kind, rows in LEDGER.items():
        sheet = book.create_sheet(kind)
        names = columns_of(kind)
        sheet.append(header(kind, names, chinese=kind == "members"))
        for row in rows:
            sheet.append([_cell(row.get(n)) for n in names])
    book.create_sheet("说明").append(["this sheet is not a kind"])
    book.save(path)
    return path


__all__ = ["LEDGER", "M1_ID", "M1_PHONE", "date", "id_number", "write_csv", "write_xlsx"]
