"""Build an XLSX ZIP bomb: a valid `members` workbook whose one cell inflates to N bytes.

Usage (the figure in docs/security.md):

    .venv/bin/python benchmarks/xlsx_bomb.py var/bench/bomb.xlsx --inflated-mib 1024
    /usr/bin/time -v .venv/bin/liaison import var/bench/bomb.xlsx 2>&1 \\
        | grep -E 'liaison:|problem|Maximum resident'

`--lie` also rewrites the sizes the archive declares for the bombed part to a few
kilobytes, as a hostile file would, so that only the checks made while inflating can
catch it. The cell is one letter repeated: deflate packs about 1,000:1, so a 1 GiB cell
is a file of about 1 MB. The tests build small ones with `write_bomb`.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

PLACEHOLDER = "BOMB-PLACEHOLDER"
CHUNK = 1024 * 1024


def write_bomb(path: Path, inflated_bytes: int, *, lie: bool = False) -> Path:
    """A members workbook at `path` with one name cell of `inflated_bytes` letters."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # write-only: strings inline in the sheet's XML
    sheet = book.create_sheet("members")
    sheet.append(["member_id", "name", "id_number", "home_org", "join_date", "mobile_since"])
    sheet.append(["M1", PLACEHOLDER, "110105198001021234", "TH", "2020-01-01", "2020-01-01"])
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.xlsx"
        book.save(plain)
        with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
            for info in src.infolist():
                data = src.read(info)
                if PLACEHOLDER.encode() not in data:
                    out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                    continue
                head, tail = data.split(PLACEHOLDER.encode())
                target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                target.compress_type = zipfile.ZIP_DEFLATED
                with out.open(target, "w", force_zip64=inflated_bytes > 2**31) as part:
                    part.write(head)
                    left = inflated_bytes
                    block = b"A" * CHUNK
                    while left > 0:
                        part.write(block[: min(CHUNK, left)])
                        left -= CHUNK
                    part.write(tail)
    if lie:
        _declare_small(path, "xl/worksheets/sheet1.xml", 4096)
    return path


def _declare_small(path: Path, part: str, size: int) -> None:
    """Rewrite the uncompressed size `part` declares, in its local header and in the
    central directory (32-bit fields; the bomb must then be under 4 GiB and not zip64)."""
    data = bytearray(path.read_bytes())
    name = part.encode()
    for signature, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30),
                                                      (b"PK\x01\x02", 24, 28, 46)):  # fmt: skip
        start = 0
        while (start := data.find(signature, start)) >= 0:
            (name_len,) = struct.unpack_from("<H", data, start + name_len_at)
            if data[start + name_at : start + name_at + name_len] == name:
                struct.pack_into("<I", data, start + size_at, size)
            start += 4
    path.write_bytes(bytes(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--inflated-mib", type=int, default=1024)
    parser.add_argument("--lie", action="store_true", help="declare a few KB for the part")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_bomb(args.out, args.inflated_mib * 1024 * 1024, lie=args.lie)
    print(f"{args.out}: {args.out.stat().st_size:,} bytes, one cell of {args.inflated_mib} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
